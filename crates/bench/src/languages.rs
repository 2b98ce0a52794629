//! What each language costs the browser: the bundle (the same file for every language, as it
//! holds no words) and one signed-in dashboard in that language, with the words its islands
//! are handed (the `data-props` of its `<leptos-island>`s).

use client_portal::i18n::{I18nLocaleTrait, Locale};

use super::{Member, bundle_file, gzip_size, kb};

/// One row per language.
pub async fn rows(client: &reqwest::Client, url: &str, member: &Member) -> Vec<(String, String)> {
    let pkg = std::path::Path::new("target/site/pkg");
    let bundle = ["wasm", "js"]
        .iter()
        .filter_map(|extension| bundle_file(pkg, extension).and_then(|f| gzip_size(&f)))
        .map(|(_, gzip)| gzip)
        .sum::<u64>();
    let mut rows = Vec::new();
    for &locale in Locale::get_all() {
        let language = locale.as_str();
        let page = client
            .get(format!("{url}/dashboard"))
            .header("cookie", &member.cookie)
            .header("accept-language", language)
            .header("accept-encoding", "identity")
            .send()
            .await
            .expect("the dashboard");
        let html = page.text().await.unwrap_or_default();
        assert!(
            html.contains(&format!("<html lang=\"{language}\"")),
            "the dashboard in {language}"
        );
        let words: usize = html
            .split(" data-props=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::len)
            .sum();
        let file = std::env::temp_dir().join(format!("bench-dashboard-{language}.html"));
        let page_gzip = std::fs::write(&file, &html)
            .ok()
            .and_then(|()| gzip_size(&file))
            .map_or(0, |(_, gzip)| gzip);
        let _ = std::fs::remove_file(&file);
        rows.push((
            format!("Browser bundle and signed-in dashboard in `{language}` (release, gzip -9)"),
            format!(
                "bundle {} (the same file for every language), dashboard page {} of which the islands' words {} raw",
                if bundle == 0 { "not built".to_owned() } else { kb(bundle) },
                kb(page_gzip),
                kb(words as u64),
            ),
        ));
    }
    rows
}
