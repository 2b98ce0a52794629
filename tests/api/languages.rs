//! Languages and time zones: every key in every language, the language chosen in the right
//! order (the member's, the portal's, the browser's), every page in every language without a
//! raw key or a left-over English sentence, dates in the member's zone, and mails in the
//! member's language.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use client_portal::api::auth::RequestSignInLink;
use client_portal::api::preferences::SaveLanguagePrefs;
use client_portal::i18n::islands::category_name;
use client_portal::i18n::{I18nLocaleTrait, Locale};
use client_portal::model::Role;
use icu_plurals::PluralRules;
use serde_json::Value;

use crate::helpers::{TestApp, browser, client_with_cookie, server_fn, spawn_app};

const PLURAL_SUFFIXES: [&str; 6] = ["_zero", "_one", "_two", "_few", "_many", "_other"];

/// `locales/<language>/<area>.json`, flattened: `area.key.sub` to the sentence.
fn sentences(language: &str) -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(language);
    let mut out = BTreeMap::new();
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    walk(&format!("{prefix}.{key}"), value, out);
                }
            }
            Value::String(text) => {
                out.insert(prefix.to_owned(), text.clone());
            }
            other => panic!("{prefix}: a sentence must be a string, not {other}"),
        }
    }
    for entry in std::fs::read_dir(&dir).expect("the language's folder") {
        let path = entry.expect("entry").path();
        let area = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        walk(&area, &json, &mut out);
    }
    out
}

/// A key without its plural category, and the category.
fn plural_group(key: &str) -> (&str, Option<&str>) {
    PLURAL_SUFFIXES
        .iter()
        .find_map(|suffix| {
            key.strip_suffix(suffix)
                .map(|group| (group, Some(&suffix[1..])))
        })
        .unwrap_or((key, None))
}

fn placeholders(sentence: &str) -> BTreeSet<String> {
    sentence
        .split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .map(|(name, _)| name.trim().split(',').next().unwrap_or_default().to_owned())
        .collect()
}

/// What the build only warns about fails here: a key missing in a language (or one English
/// lacks), a plural group without exactly the language's CLDR categories, a placeholder a
/// translation invents, an empty sentence.
#[test]
fn every_language_has_every_key_with_its_plural_forms() {
    let english = sentences("en");
    let groups = |sentences: &BTreeMap<String, String>| -> BTreeMap<String, BTreeSet<String>> {
        let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for key in sentences.keys() {
            let (group, category) = plural_group(key);
            let forms = groups.entry(group.to_owned()).or_default();
            if let Some(category) = category {
                forms.insert(category.to_owned());
            }
        }
        groups
    };
    let english_groups = groups(&english);
    assert!(english_groups.len() > 300, "{} keys", english_groups.len());
    let mut problems = Vec::new();
    for &locale in Locale::get_all() {
        let language = locale.as_str();
        let translated = sentences(language);
        let translated_groups = groups(&translated);
        let rules = PluralRules::try_new_cardinal(locale.as_icu_locale().into()).unwrap();
        let cldr: BTreeSet<String> = rules
            .categories()
            .map(|c| category_name(c).to_owned())
            .collect();
        for (group, english_forms) in &english_groups {
            match translated_groups.get(group) {
                None => problems.push(format!("{language}: `{group}` is missing")),
                Some(forms) if !english_forms.is_empty() && *forms != cldr => problems.push(
                    format!("{language}: `{group}` has forms {forms:?}, CLDR wants {cldr:?}"),
                ),
                Some(forms) if english_forms.is_empty() && !forms.is_empty() => {
                    problems.push(format!("{language}: `{group}` is plural only here"))
                }
                Some(_) => {}
            }
        }
        for group in translated_groups.keys() {
            if !english_groups.contains_key(group) {
                problems.push(format!("{language}: `{group}` is not an English key"));
            }
        }
        for (key, sentence) in &translated {
            let (group, _) = plural_group(key);
            let english_names: BTreeSet<String> = english
                .iter()
                .filter(|(k, _)| plural_group(k).0 == group)
                .flat_map(|(_, s)| placeholders(s))
                .collect();
            if sentence.trim().is_empty() {
                problems.push(format!("{language}: `{key}` is empty"));
            }
            for name in placeholders(sentence) {
                if !english_names.contains(&name) {
                    problems.push(format!("{language}: `{key}` invents {{{{ {name} }}}}"));
                }
            }
            // A sentence that is not a plural form says everything English says: a dropped
            // placeholder is a name, a limit or a date the reader never sees.
            if plural_group(key).1.is_none() && english.contains_key(key) {
                for name in english_names.difference(&placeholders(sentence)) {
                    problems.push(format!("{language}: `{key}` drops {{{{ {name} }}}}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The English sentences a page in `language` must not show: those the language translates
/// differently, cut at their placeholders, long enough not to occur by chance.
fn english_leftovers(language: &str) -> Vec<String> {
    let translated = sentences(language);
    let mut out: Vec<String> = sentences("en")
        .iter()
        .filter(|(key, english)| translated.get(*key) != Some(*english))
        .flat_map(|(_, english)| {
            english
                .split("{{")
                .map(|part| part.split_once("}}").map_or(part, |(_, rest)| rest))
                .map(|part| part.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|part| part.chars().count() >= 14 && !part.contains('\''))
        .collect();
    out.sort();
    out.dedup();
    out
}

struct Scene {
    app: TestApp,
    ticket_id: String,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    app.state
        .auth
        .upsert_portal("p_lang", Some("Lang Co"))
        .await
        .unwrap();
    app.state
        .auth
        .upsert_member("p_lang", "ada@lang.test", Some("Ada"), Some(Role::Admin))
        .await
        .unwrap();
    let ada = app.signed_in("p_lang", "ada@lang.test").await;
    let created = app
        .create_ticket(&ada, "Printer jams", "It eats paper.", "high")
        .await;
    assert!(created.status().is_success(), "{}", created.status());
    app.outbox_drained(Duration::from_secs(10)).await;
    let ticket_id = app.first_ticket_of("p_lang").await.id;
    Scene { app, ticket_id }
}

/// Sets Ada's language and zone through the preferences form; answers where it sent her.
async fn choose(app: &TestApp, client: &reqwest::Client, language: &str, zone: &str) -> String {
    // As the page's plain form posts it.
    let response = client
        .post(app.url(server_fn::<SaveLanguagePrefs>()))
        .header("origin", app.url("").trim_end_matches('/'))
        .header("accept", "text/html")
        .form(&[("language", language), ("zone", zone)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// `GET path` as `client` sees it from a browser that asks for `language`.
async fn page_in(app: &TestApp, client: &reqwest::Client, path: &str, language: &str) -> String {
    client
        .get(app.url(path))
        .header("accept", "text/html")
        .header("accept-language", language)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn html_lang(page: &str) -> &str {
    page.split("<html lang=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_page_reads_in_every_language_without_a_raw_key_or_english_left_over() {
    let Scene { app, ticket_id } = scene().await;
    let ada = app.signed_in("p_lang", "ada@lang.test").await;
    let keys: Vec<String> = sentences("en")
        .keys()
        .map(|key| plural_group(key).0.to_owned())
        .filter(|key| key.matches('.').count() >= 2 || key.contains('_'))
        .collect();
    let pages = [
        "/dashboard".to_owned(),
        "/dashboard?q=nothing-matches-this".to_owned(),
        "/tickets/new".to_owned(),
        format!("/tickets/{ticket_id}"),
        "/tickets/no-such-ticket".to_owned(),
        "/settings/notifications".to_owned(),
        "/colleagues".to_owned(),
        "/notifications/unsubscribe?token=not-a-token".to_owned(),
    ];
    for &locale in Locale::get_all() {
        let language = locale.as_str();
        choose(&app, &ada, language, "Europe/Berlin").await;
        let leftovers = if locale == Locale::en {
            Vec::new()
        } else {
            english_leftovers(language)
        };
        let signed_out = page_in(&app, &browser(), "/login", language).await;
        for (path, page) in std::iter::once(("/login".to_owned(), signed_out)).chain(
            futures::future::join_all(
                pages
                    .iter()
                    .map(|path| async { (path.clone(), app.page_text(&ada, path).await) }),
            )
            .await,
        ) {
            assert_eq!(html_lang(&page), language, "{path}");
            let dir = if locale == Locale::ar { "rtl" } else { "ltr" };
            assert!(
                page.contains(&format!("dir=\"{dir}\"")),
                "{language} {path}"
            );
            assert!(
                !page.contains("{{"),
                "{language} {path}: an unfilled placeholder"
            );
            for key in &keys {
                assert!(
                    !page.contains(&format!(">{key}<")) && !page.contains(&format!("\"{key}\"")),
                    "{language} {path}: the raw key {key}"
                );
            }
            for english in &leftovers {
                assert!(
                    !page.contains(english.as_str()),
                    "{language} {path}: English left over: {english:?}"
                );
            }
        }
    }
}

/// Words a page may show unchanged in every language: the names of the languages in the
/// picker, each written in itself.
const SAME_IN_EVERY_LANGUAGE: &[&str] = &["English", "Deutsch", "Français", "Español", "العربية"];

/// Text as compared across languages: without numbers, and without the punctuation and spaces
/// around it ("2 tickets" and "Status:" compare as "tickets" and "Status").
fn bare(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_numeric())
        .collect::<String>()
        .trim_matches(|c: char| !c.is_alphabetic())
        .to_owned()
}

/// What `language`'s translation files say, in pieces between placeholders, [`bare`]: a page
/// in that language may show these, even where English writes the same ("Tickets" in German,
/// "Description" in French), because a translator chose them.
fn translated_pieces(language: &str) -> BTreeSet<String> {
    sentences(language)
        .values()
        .flat_map(|sentence| {
            sentence
                .split("{{")
                .map(|part| part.split_once("}}").map_or(part, |(_, rest)| rest))
                .map(bare)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What a page says in words of its own: its text and the labels a screen reader or a hover
/// shows, without scripts, styles and anything in `people_wrote` (ticket text, names, files).
fn own_words(page: &str, people_wrote: &[&str]) -> BTreeSet<String> {
    let code = regex::Regex::new(r"(?s)<script.*?</script>|<style.*?</style>").unwrap();
    let page = code.replace_all(page, "");
    let text = regex::Regex::new(r">([^<>]+)<").unwrap();
    let labels = regex::Regex::new(r#"\b(?:aria-label|title|placeholder|alt)="([^"]*)""#).unwrap();
    text.captures_iter(&page)
        .chain(labels.captures_iter(&page))
        .map(|found| {
            found[1]
                .replace("&#x27;", "'")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
                .trim()
                .to_owned()
        })
        .filter(|words| words.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        // Addresses, zone names (`Europe/Berlin`) and UTC offsets are no language's.
        .filter(|words| !words.contains('@') && !words.contains('/') && !words.starts_with("UTC"))
        .filter(|words| !SAME_IN_EVERY_LANGUAGE.contains(&words.as_str()))
        .filter(|words| !people_wrote.iter().any(|wrote| words.contains(wrote)))
        .collect()
}

/// The stronger half of "no English left over": a page rendered in English and in another
/// language shares no words of its own, whatever put them there (a translation file, or a
/// sentence written in the code that the translation files never saw). The pages carry what a
/// client meets on a busy ticket: the team's public answer with a file, the client's own
/// message with a file, a resolved ticket's forms, a form's error, a dead download link.
#[tokio::test]
async fn no_page_shows_a_word_of_its_own_in_english_when_read_in_another_language() {
    let Scene { app, ticket_id } = scene().await;
    let ada = app.signed_in("p_lang", "ada@lang.test").await;
    let item: u64 = ticket_id.parse().unwrap();
    let board = app.local_board();
    let update = board
        .store()
        .mutate(|txn| txn.create_update(item, "<p>@client We are on it.</p>", 2, None))
        .await
        .unwrap();
    board
        .store()
        .mutate(|txn| txn.add_file_to_update(update.id, "toner.pdf", b"%PDF-1.4\n%x".to_vec(), 2))
        .await
        .unwrap();
    let team_member = board.store().snapshot().user(2).unwrap().name.clone();
    let message = reqwest::multipart::Form::new()
        .text("body", "Thanks!")
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"step 1\n".to_vec())
                .file_name("steps.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let posted = ada
        .post(app.url(&format!("/tickets/{ticket_id}/messages")))
        .header("accept", "application/json")
        .multipart(message)
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());
    let resolved =
        crate::helpers::item_raised_by(&app, "p_lang", "ada@lang.test", "Old question", "Resolved")
            .await;
    // The team's file is listed a few seconds after its message.
    for _ in 0..100 {
        if app
            .page_text(&ada, &format!("/tickets/{ticket_id}"))
            .await
            .contains("toner.pdf")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let people_wrote = [
        "Printer jams",
        "It eats paper",
        "We are on it",
        "Thanks!",
        "toner.pdf",
        "steps.txt",
        "Old question",
        "Ada",
        "Lang Co",
        team_member.as_str(),
        // The demo portals the sign-in page hints at on a developer's machine.
        "Demo Company",
        "Acme Corp",
    ];
    let pages = [
        "/dashboard".to_owned(),
        "/dashboard?q=nothing-matches-this".to_owned(),
        "/tickets/new".to_owned(),
        "/tickets/new?error=invalid_title".to_owned(),
        format!("/tickets/{ticket_id}"),
        format!("/tickets/{resolved}"),
        "/tickets/no-such-ticket".to_owned(),
        format!("/tickets/{ticket_id}/files/a-no-such-file"),
        "/settings/notifications".to_owned(),
        "/colleagues".to_owned(),
        "/notifications/unsubscribe?token=not-a-token".to_owned(),
    ];
    let read_all = |language: &'static str| {
        let (app, ada, pages) = (&app, &ada, &pages);
        async move {
            choose(app, ada, language, "Europe/Berlin").await;
            let mut read = vec![(
                "/login".to_owned(),
                page_in(app, &browser(), "/login", language).await,
            )];
            for path in pages {
                // The browser asks for English: only Ada's own choice can make it another.
                read.push((path.clone(), page_in(app, ada, path, "en").await));
            }
            read
        }
    };
    let english = read_all("en").await;
    assert!(
        english[5].1.contains("toner.pdf") && english[5].1.contains("steps.txt"),
        "the busy ticket shows both files"
    );
    let mut problems = Vec::new();
    for language in ["de", "fr", "es", "ar"] {
        let translated = translated_pieces(language);
        for ((path, page), (_, english_page)) in read_all(language).await.iter().zip(&english) {
            let english_words = own_words(english_page, &people_wrote);
            assert!(!english_words.is_empty(), "{path} has words of its own");
            for words in own_words(page, &people_wrote).intersection(&english_words) {
                if !translated.contains(&bare(words)) {
                    problems.push(format!("{language} {path}: {words:?}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "English left over:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_language_is_the_members_then_the_portals_then_the_browsers() {
    let Scene { app, ticket_id } = scene().await;
    let ada = app.signed_in("p_lang", "ada@lang.test").await;
    let page = |client: reqwest::Client, language: &'static str| {
        let app = &app;
        async move { page_in(app, &client, "/dashboard", language).await }
    };
    // Nothing chosen: the browser's language.
    assert_eq!(html_lang(&page(ada.clone(), "es-MX,es;q=0.9").await), "es");
    assert_eq!(html_lang(&page(ada.clone(), "ja").await), "en");
    // The agency set the portal's language: it comes before the browser's.
    app.state
        .auth
        .set_portal_language("p_lang", Some(Locale::fr))
        .await
        .unwrap();
    assert_eq!(html_lang(&page(ada.clone(), "es").await), "fr");
    // The member's own choice comes first.
    assert_eq!(
        choose(&app, &ada, "de", "").await,
        "/settings/notifications?saved=language"
    );
    let german = page(ada.clone(), "es").await;
    assert_eq!(html_lang(&german), "de");
    assert!(german.contains("Ihre Tickets"), "the dashboard in German");
    // Sign-in pages use the browser's language, whoever the portal's members are.
    let login = page_in(&app, &browser(), "/login", "fr-CH, fr;q=0.9, en;q=0.8").await;
    assert_eq!(html_lang(&login), "fr");
    assert!(login.contains("Connectez-vous à votre portail"), "{login}");

    // A bad choice says why and changes nothing.
    let refused = choose(&app, &ada, "de", "Mars/Olympus").await;
    assert_eq!(refused, "/settings/notifications?error=invalid_zone");
    let refused = choose(&app, &ada, "xx", "").await;
    assert_eq!(refused, "/settings/notifications?error=invalid_language");
    let settings = app
        .page_text(&ada, "/settings/notifications?error=invalid_zone")
        .await;
    assert_eq!(html_lang(&settings), "de");
    assert!(settings.contains("role=\"alert\""), "the error is shown");

    // The zone: the ticket page's exact times follow it.
    choose(&app, &ada, "en", "America/New_York").await;
    let ticket = app.page_text(&ada, &format!("/tickets/{ticket_id}")).await;
    assert!(
        ticket.contains(" EST<") || ticket.contains(" EDT<"),
        "the opening time in New York: {ticket}"
    );
    choose(&app, &ada, "en", "Asia/Tokyo").await;
    let ticket = app.page_text(&ada, &format!("/tickets/{ticket_id}")).await;
    assert!(ticket.contains(" JST<"), "now in Tokyo");
    // Without a choice, the browser's zone (its cookie) counts; a made-up one does not.
    choose(&app, &ada, "en", "").await;
    let session = app.session_cookie("p_lang", "ada@lang.test").await;
    let with_zone = |zone: &'static str| {
        let page = format!("/tickets/{ticket_id}");
        let client = client_with_cookie(&format!("{session}; tz={zone}"));
        let app = &app;
        async move { app.page_text(&client, &page).await }
    };
    assert!(with_zone("Asia/Kolkata").await.contains(" IST<"));
    assert!(with_zone("Mars/Olympus").await.contains(" UTC<"));
}

#[tokio::test]
async fn sign_in_mails_are_in_the_browsers_language_and_then_the_members() {
    let app = spawn_app().await;
    let auth = &app.state.auth;
    auth.upsert_portal("p_mail", Some("Mail Co")).await.unwrap();
    auth.upsert_member("p_mail", "bea@mail.test", Some("Bea"), None)
        .await
        .unwrap();
    let ask = |language: &'static str| {
        let url = app.url(server_fn::<RequestSignInLink>());
        let origin = app.url("");
        async move {
            browser()
                .post(url)
                .header("origin", origin.trim_end_matches('/'))
                .header("accept-language", language)
                .form(&[("email", "bea@mail.test")])
                .send()
                .await
                .unwrap()
        }
    };
    ask("es").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mail = app.state.auth.mailer().kept(1).await.remove(0).1;
    assert!(mail.html.contains("lang=\"es\""), "{}", mail.html);
    assert_eq!(mail.subject, "Su enlace de inicio de sesión para Mail Co");
    // Once Bea chose German, her mails are German whatever the browser says.
    let member = client_portal::server::auth::Member {
        portal_id: "p_mail".into(),
        email: "bea@mail.test".into(),
    };
    auth.set_preferences(&member, Some(Locale::de), None)
        .await
        .unwrap();
    ask("es").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mail = app.state.auth.mailer().kept(1).await.remove(0).1;
    assert!(
        mail.html.contains("lang=\"de\" dir=\"ltr\""),
        "{}",
        mail.html
    );
    assert!(mail.text.starts_with("Hallo Bea,"), "{}", mail.text);
}
