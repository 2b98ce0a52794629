//! The portal's languages and time zones.
//!
//! The words live in `locales/<language>/<area>.json`; `build.rs` turns them into a typed module
//! (leptos_i18n), so every key is a method and a key English lacks does not compile. Pages are
//! rendered on the server in the request's language ([`Prefs`], chosen once per request by
//! `server::http::prefs`); islands never look words up themselves: the server hands each one
//! the few strings it shows, in the language in use, as props, so the browser bundle carries no
//! translations at all.

#[allow(missing_docs, unused, clippy::all, clippy::pedantic)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}

pub mod islands;
#[cfg(feature = "ssr")]
pub mod time;
pub mod words;

pub use generated::i18n::{I18nLocaleTrait, Locale, td_string};
use serde::{Deserialize, Serialize};

/// The zone dates are shown in when neither the member nor their browser has said.
pub const DEFAULT_ZONE: &str = "UTC";

/// How one request reads: its language and the time zone its dates are shown in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefs {
    pub locale: Locale,
    /// An IANA zone name (`Europe/Berlin`), always one the server knows.
    pub zone: String,
    /// Whether the member chose the zone (otherwise it is the browser's, or UTC until the
    /// browser has said).
    pub zone_chosen: bool,
    /// The browser's own zone, as its page script last said (the `tz` cookie).
    pub browser_zone: Option<String>,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            locale: Locale::default(),
            zone: DEFAULT_ZONE.to_owned(),
            zone_chosen: false,
            browser_zone: None,
        }
    }
}

impl Prefs {
    /// How a member reads away from a browser (in mail): their choices, else their portal's
    /// language, else English and UTC.
    pub fn of_member(
        locale: Option<Locale>,
        portal_language: Option<Locale>,
        zone: Option<String>,
    ) -> Self {
        Prefs {
            locale: locale.or(portal_language).unwrap_or_default(),
            zone_chosen: zone.is_some(),
            zone: zone.unwrap_or_else(|| DEFAULT_ZONE.to_owned()),
            browser_zone: None,
        }
    }
}

/// The language a stored code names (`"de"`), if the portal has it.
pub fn locale_named(code: &str) -> Option<Locale> {
    Locale::get_all()
        .iter()
        .copied()
        .find(|locale| locale.as_str().eq_ignore_ascii_case(code))
}

/// Each language's name in itself, for the language picker.
pub fn native_name(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "English",
        Locale::de => "Deutsch",
        Locale::fr => "Français",
        Locale::es => "Español",
        Locale::ar => "العربية",
    }
}

/// `ltr` or `rtl`, for `<html dir>`.
pub fn direction(locale: Locale) -> &'static str {
    locale.direction().as_str()
}

/// The best of the portal's languages for an `Accept-Language` header, by its quality values
/// (`de-CH;q=0.9` counts as `de`), or `None` when it names none of them.
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut wanted: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(order, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && tag != "*" && quality > 0.0).then_some((quality, order, tag))
        })
        .collect();
    // Highest quality first; equal qualities keep the browser's order.
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    wanted.iter().find_map(|(_, _, tag)| {
        let language = tag.split(['-', '_']).next().unwrap_or(tag);
        locale_named(language)
    })
}

/// The request's words and zone, as `server::http::prefs` resolved them (the default outside a
/// request, e.g. in a unit test). Only pages rendered on the server ask; in the browser (where
/// islands get their words as props) it is the default.
pub fn prefs() -> Prefs {
    #[cfg(feature = "ssr")]
    {
        // Given outright (a dashboard row rendered for a live socket), or the request's.
        leptos::prelude::use_context::<Prefs>()
            .or_else(|| {
                leptos::prelude::use_context::<http::request::Parts>()
                    .and_then(|parts| parts.extensions.get::<Prefs>().cloned())
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Prefs::default()
    }
}

/// The request's language.
pub fn locale() -> Locale {
    leptos::prelude::use_context::<Locale>().unwrap_or_else(|| prefs().locale)
}

/// Makes `prefs` what [`prefs`] and [`locale`] answer below this point of the render: done once
/// per page by the shell (reading the request's copy on every call would clone the whole
/// request head each time), and for a dashboard row rendered for a live socket.
pub fn provide(prefs: Prefs) {
    leptos::prelude::provide_context(prefs.locale);
    leptos::prelude::provide_context(prefs);
}

/// An instant (RFC 3339, as monday and the database write them) as this request reads it
/// exactly: in its zone and language ("25.11.2026, 14:05 CET").
pub fn exact_time(at: &str) -> String {
    #[cfg(feature = "ssr")]
    {
        crate::model::parse_utc_seconds(at)
            .and_then(|seconds| time::exact(&prefs(), seconds))
            .unwrap_or_else(|| at.to_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        at.to_owned()
    }
}

/// How long ago an instant was, in this request's language ("vor 3 Stunden").
pub fn relative_time(now_seconds: i64, then_seconds: i64) -> String {
    #[cfg(feature = "ssr")]
    {
        time::relative(locale(), now_seconds, then_seconds)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (now_seconds, then_seconds);
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_the_portal_has() {
        assert_eq!(from_accept_language("fr"), Some(Locale::fr));
        assert_eq!(
            from_accept_language("fr-CA,fr;q=0.9,en;q=0.8"),
            Some(Locale::fr)
        );
        assert_eq!(
            from_accept_language("ja,de-CH;q=0.7,en;q=0.5"),
            Some(Locale::de)
        );
        assert_eq!(from_accept_language("en;q=0.4, es;q=0.8"), Some(Locale::es));
        assert_eq!(from_accept_language("ar-EG"), Some(Locale::ar));
        assert_eq!(from_accept_language("ja, zh;q=0.5"), None);
        assert_eq!(from_accept_language("de;q=0, *"), None);
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn arabic_is_right_to_left() {
        assert_eq!(direction(Locale::ar), "rtl");
        assert_eq!(direction(Locale::de), "ltr");
    }
}
