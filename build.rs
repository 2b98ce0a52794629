//! Turns the translation files in `locales/` into a typed module (`crate::i18n`): every key is a
//! method, so a key the code uses but English lacks does not compile. Keys missing from another
//! language only warn here (they fall back to English); `tests/api/languages.rs` fails on them.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

/// The languages besides English (the default, whose files define the keys).
const OTHER_LANGUAGES: [&str; 4] = ["de", "fr", "es", "ar"];

/// One file per area of the portal and language: `locales/<language>/<area>.json`.
const AREAS: [&str; 7] = [
    "common", "time", "sign_in", "tickets", "ticket", "settings", "mail",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?)
        .join("i18n");
    let config = Config::new("en")?
        .add_locales(OTHER_LANGUAGES)?
        .add_namespaces(AREAS)?
        .parse_options(ParseOptions::default().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
