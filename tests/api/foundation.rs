//! The foundation: the app starts, answers health checks, renders pages and refuses bad
//! configuration clearly.

use std::process::Command;

use client_portal::api::tickets::LoadTicket;
use client_portal::error::AppError;

use crate::helpers::{TempDir, browser, server_fn, spawn_app};

#[tokio::test]
async fn healthz_answers_and_readyz_reports_each_dependency() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["monday"]["ok"], true);
}

#[tokio::test]
async fn readyz_says_which_dependency_is_down() {
    let app = spawn_app().await;
    app.take_monday_down().await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["monday"]["ok"], false);
    assert!(
        body["monday"]["error"]
            .as_str()
            .unwrap()
            .contains("reached")
    );
}

#[tokio::test]
async fn the_first_page_is_server_rendered() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in to your support portal"), "{html}");
    assert!(
        html.contains("/pkg/client_portal.js"),
        "hydration script is linked"
    );
}

/// Pages and JSON travel compressed when the browser asks (brotli or gzip), and a signed-in page
/// stays private to the browser.
#[tokio::test]
async fn pages_and_json_are_compressed_when_asked() {
    let app = spawn_app().await;
    let client = app.signed_in("demo", "alex@demo.example").await;
    let fetch = |path: &'static str, encoding: &'static str| {
        let request = client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send();
        async move {
            let response = request.await.expect("an answer");
            assert_eq!(response.status(), 200, "{path}");
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            (
                header("content-encoding"),
                header("vary"),
                header("cache-control"),
            )
        }
    };
    let (encoding, vary, cache) = fetch("/dashboard", "br, gzip").await;
    assert_eq!(encoding, "br");
    assert!(vary.contains("accept-encoding"), "{vary}");
    assert_eq!(
        cache, "no-store",
        "a signed-in page is never kept by a cache"
    );
    assert_eq!(fetch("/dashboard", "gzip").await.0, "gzip");
    assert_eq!(
        fetch("/dashboard", "identity").await.0,
        "",
        "not asked, not compressed"
    );
    assert_eq!(fetch("/api/v1/openapi.json", "gzip").await.0, "gzip");
    // The static files: end2end/tests/foundation.spec.ts, against the built site.
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("We could not find that page")
    );
}

fn run_with_env(vars: &[(&str, &str)]) -> std::process::Output {
    let dir = TempDir::new("portal-cli");
    let mut command = Command::new(env!("CARGO_BIN_EXE_client-portal"));
    command
        .current_dir(&dir.0)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir.0.join("data"))
        .arg("serve");
    for (key, value) in vars {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

#[test]
fn bad_configuration_stops_start_up_with_one_clear_line() {
    for (variable, value) in [
        ("DATABASE_URL", "nonsense://x"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:notaport"),
        ("MONDAY_API_VERSION", "yesterday"),
        ("LOG_FORMAT", "xml"),
    ] {
        let output = run_with_env(&[(variable, value)]);
        assert_eq!(output.status.code(), Some(2), "{variable}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line for {variable}: {stderr}");
        assert!(lines[0].contains(variable), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn secrets_in_bad_configuration_are_not_echoed() {
    let output = run_with_env(&[("JWT_SECRET", "too-short-but-private")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JWT_SECRET"));
    assert!(!stderr.contains("too-short-but-private"));
}

/// Server functions carry no status code of their own (`load_ticket`'s body is a plain chain of
/// `?`): the one error path gives "not found" its 404 and "not signed in" its 401, with the error
/// in the body for the browser to show.
#[tokio::test]
async fn server_function_errors_answer_with_their_own_status() {
    let app = spawn_app().await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    let missing = app
        .call(&client, server_fn::<LoadTicket>(), &[("id", "99999999999")])
        .await;
    assert_eq!(missing.status(), 404);
    let error: AppError = missing.json().await.expect("the error in the body");
    assert_eq!(error, AppError::NotFound);

    let not_a_ticket = app
        .call(
            &client,
            server_fn::<LoadTicket>(),
            &[("id", "../etc/passwd")],
        )
        .await;
    assert_eq!(not_a_ticket.status(), 404);

    let anonymous = app
        .call(&browser(), server_fn::<LoadTicket>(), &[("id", "1")])
        .await;
    assert_eq!(anonymous.status(), 401);
    let error: AppError = anonymous.json().await.expect("the error in the body");
    assert_eq!(error, AppError::NotSignedIn);
}
