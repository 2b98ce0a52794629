//! monday's own error bodies and settings, from its documentation and public captures
//! (`tests/fixtures/*.json`, each `{source, note, status, body}`), read by the client exactly as
//! the README's table "monday's errors, as the portal reads them" says: the table is parsed
//! here, so the README and the code cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use monday::{MondayError, classify_response, status_labels};
use serde_json::Value;

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture whose file name starts with `prefix`, as (file name, parsed file).
pub fn fixtures(prefix: &str) -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(fixtures_dir())
        .expect("the fixtures folder")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .map(|name| {
            let text = std::fs::read_to_string(fixtures_dir().join(&name)).expect("readable");
            let value: Value = serde_json::from_str(&text).expect("valid JSON");
            (name, value)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// One row of the README's table.
#[derive(Debug)]
struct Row {
    kind: String,
    transient: bool,
    /// `Some(seconds)` when the row says monday's wait is honoured, `None` for back-off.
    wait: Option<u64>,
}

fn readme_rows() -> BTreeMap<String, Row> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("the README");
    let mut rows = BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with("| `error-")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | fixture | HTTP | code | read as | class | wait |
        let name = cells[1].trim_matches('`').to_owned();
        let kind = cells[4].trim_matches('`').to_owned();
        let transient = match cells[5] {
            "transient" => true,
            "permanent" => false,
            other => panic!("{name}: class {other:?} is neither transient nor permanent"),
        };
        let wait = cells[6].strip_suffix(" s").and_then(|n| n.parse().ok());
        rows.insert(
            name,
            Row {
                kind,
                transient,
                wait,
            },
        );
    }
    rows
}

#[test]
fn every_fixture_names_its_source() {
    let all = fixtures("");
    assert!(all.len() >= 45, "{} fixtures", all.len());
    for (name, fixture) in all {
        let source = fixture["source"].as_str().unwrap_or_default();
        assert!(
            source.contains("monday.com")
                || source.contains("github")
                || source.contains("third-party"),
            "{name} names its source: {source:?}"
        );
        assert!(fixture.get("body").is_some(), "{name} has a body");
    }
}

#[test]
fn every_error_body_is_classified_as_the_readme_table_says() {
    let rows = readme_rows();
    let errors = fixtures("error-");
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        errors.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "the README's table has one row per error fixture"
    );
    for (name, fixture) in errors {
        // An unknown status (a body seen without its HTTP line) is read as monday's usual 200.
        let status = fixture["status"].as_u64().unwrap_or(200) as u16;
        let body = serde_json::to_vec(&fixture["body"]).unwrap();
        let classified = classify_response(status, None, &body);
        let error = classified
            .error
            .unwrap_or_else(|| panic!("{name}: an error body must be an error"));
        let row = &rows[&name];
        assert_eq!(error.kind(), row.kind, "{name}: {error:?}");
        assert_eq!(error.is_transient(), row.transient, "{name}: {error:?}");
        assert_eq!(
            error.retry_in(),
            row.wait.map(Duration::from_secs),
            "{name}: the wait"
        );
    }
}

#[test]
fn the_daily_limit_is_the_day_spent_not_a_bad_request_and_user_unauthorized_is_not_a_bad_token() {
    let read = |name: &str| {
        let (_, fixture) = fixtures(name).into_iter().next().expect(name);
        let body = serde_json::to_vec(&fixture["body"]).unwrap();
        classify_response(
            fixture["status"].as_u64().unwrap_or(200) as u16,
            None,
            &body,
        )
    };
    assert!(matches!(
        read("error-daily-limit.json").error,
        Some(MondayError::DailyLimit { retry_in: Some(wait) }) if wait == Duration::from_secs(3599)
    ));
    assert!(matches!(
        read("error-application-user-unauthorized.json").error,
        Some(MondayError::Forbidden { ref code, .. }) if code == "UserUnauthorizedException"
    ));
    // The throttle's partial data is kept beside the error, and the throttled field is null.
    let throttled = read("error-subgraph-throttle.json");
    assert!(matches!(
        throttled.error,
        Some(MondayError::RateLimited { ref code, retry_in: None }) if code == "tooManyRequests"
    ));
    let data = throttled.data.expect("partial data");
    assert!(data["boards"][0]["columns"].is_null());
    assert_eq!(throttled.inside, vec!["boards"]);
}

#[test]
fn status_settings_are_an_array_of_labels_with_indexes() {
    let (_, fixture) = fixtures("response-column-settings-status.json")
        .into_iter()
        .next()
        .unwrap();
    let columns = fixture["body"]["data"]["boards"][0]["columns"]
        .as_array()
        .unwrap();
    let labels = status_labels(Some(&columns[2]["settings"]));
    let names: Vec<(&str, Option<u64>)> =
        labels.iter().map(|l| (l.label.as_str(), l.index)).collect();
    assert_eq!(
        names,
        vec![
            ("Working on it", Some(0)),
            ("Done", Some(2)),
            ("Stuck", Some(1))
        ]
    );
    assert!(status_labels(Some(&columns[0]["settings"])).is_empty());
}
