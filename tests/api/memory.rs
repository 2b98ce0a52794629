//! Sessions, memberships and portals answered from memory (`server::memory`): every change
//! that can take access away reaches every path at once when the portal makes it, and within
//! the watch period when someone else does (another instance, the CLI, plain SQL).

use std::time::{Duration, Instant};

use client_portal::api::auth::SignOut;
use client_portal::server::memory::WATCH_EVERY;

use crate::helpers::{TestApp, client_with_cookie, server_fn, spawn_app, spawn_app_with};

/// Plain SQL on the portal's database, as an operator (or another program) would run it.
async fn sql(app: &TestApp, statement: &str) {
    client_portal::on_db!(&app.state.db, pool => sqlx::query(statement)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .expect("the statement runs");
}

async fn status_of(client: &reqwest::Client, url: String) -> u16 {
    client
        .get(url)
        .send()
        .await
        .expect("an answer")
        .status()
        .as_u16()
}

/// How long after `since` a change made outside the portal may still go unseen.
fn within_watch(since: Instant) -> bool {
    since.elapsed() < WATCH_EVERY * 3 + Duration::from_millis(300)
}

#[tokio::test]
async fn a_member_removed_with_plain_sql_loses_every_path_within_the_watch_period() {
    let app = spawn_app_with(&[("LIVE_HEARTBEAT_SECONDS", "3600")]).await;
    let cookie = app.session_cookie("demo", "alex@demo.example").await;
    let browser = client_with_cookie(&cookie);
    let jwt = app.jwt_for("demo", "alex@demo.example").await;
    let rest = reqwest::Client::new();
    let rest_list = || {
        rest.get(app.url("/api/v1/tickets/demo"))
            .bearer_auth(&jwt)
            .send()
    };
    // Warm: the session, the membership and the portal are in memory now.
    for _ in 0..3 {
        assert_eq!(status_of(&browser, app.url("/dashboard")).await, 200);
        assert_eq!(rest_list().await.expect("an answer").status(), 200);
    }
    let mut socket = app
        .live_socket(Some(&cookie), Some(&app.base_url))
        .await
        .expect("a socket");

    let removed_at = Instant::now();
    sql(
        &app,
        "DELETE FROM members WHERE portal_id = 'demo' AND email = 'alex@demo.example'",
    )
    .await;
    // The page, REST and the socket (whose heartbeat is an hour away) all notice.
    loop {
        let page = browser
            .get(app.url("/dashboard"))
            .send()
            .await
            .expect("an answer");
        if page.status() == 303 || page.status() == 307 {
            let to = page.headers()["location"].to_str().unwrap_or_default();
            assert_eq!(to, "/login", "signed out");
            break;
        }
        assert!(
            within_watch(removed_at),
            "still signed in {} ms after the member was removed",
            removed_at.elapsed().as_millis()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rest_list().await.expect("an answer").status(), 401);
    assert!(
        socket.closed_within(Duration::from_secs(1)).await,
        "the removed member's socket closes within a second, long before its heartbeat"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_at_once() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("demo", "alex@demo.example").await;
    let browser = client_with_cookie(&cookie);
    assert_eq!(status_of(&browser, app.url("/dashboard")).await, 200);
    let response = app.call(&browser, server_fn::<SignOut>(), &[]).await;
    assert!(response.status().is_success() || response.status().is_redirection());
    // The same cookie, replayed at once (a copy kept by someone else): no grace period.
    let replay = client_with_cookie(&cookie);
    assert_ne!(
        status_of(&replay, app.url("/dashboard")).await,
        200,
        "the ended session is refused on the very next request"
    );
}

#[tokio::test]
async fn a_portal_renamed_outside_the_portal_shows_within_the_watch_period() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("demo", "alex@demo.example").await;
    let browser = client_with_cookie(&cookie);
    let before = app.page_text(&browser, "/dashboard").await;
    assert!(!before.contains("Renamed Demo Agency"));
    let renamed_at = Instant::now();
    sql(
        &app,
        "UPDATE portals SET name = 'Renamed Demo Agency' WHERE id = 'demo'",
    )
    .await;
    loop {
        if app
            .page_text(&browser, "/dashboard")
            .await
            .contains("Renamed Demo Agency")
        {
            break;
        }
        assert!(within_watch(renamed_at), "the old name is still shown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_brand_changed_through_the_portal_shows_on_the_next_page() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("demo", "alex@demo.example").await;
    let browser = client_with_cookie(&cookie);
    assert!(
        !app.page_text(&browser, "/dashboard")
            .await
            .contains("#7c3aed")
    );
    app.state
        .auth
        .set_brand("demo", Some("#7c3aed"), None)
        .await
        .expect("the brand is set");
    assert!(
        app.page_text(&browser, "/dashboard")
            .await
            .contains("#7c3aed"),
        "no wait when this instance made the change"
    );
}

#[tokio::test]
async fn a_members_sessions_ended_through_the_portal_are_refused_on_the_very_next_request() {
    let app = spawn_app().await;
    let cookie = app.session_cookie("demo", "alex@demo.example").await;
    let browser = client_with_cookie(&cookie);
    for _ in 0..3 {
        assert_eq!(status_of(&browser, app.url("/dashboard")).await, 200);
    }
    // What removing a member does to their sessions, in this instance (no watch to wait for).
    app.state
        .sessions
        .delete_member(&client_portal::server::auth::Member {
            portal_id: "demo".into(),
            email: "alex@demo.example".into(),
        })
        .await
        .expect("sessions ended");
    assert_ne!(
        status_of(&browser, app.url("/dashboard")).await,
        200,
        "refused on the very next request, whatever memory held"
    );
}

/// The agency removes a member with `client-portal remove` (another process, as on a server):
/// their sessions end, their open socket closes within a second, their next request is signed
/// out, and the removal is in the audit log.
#[tokio::test]
async fn the_remove_command_signs_a_member_out_everywhere_within_a_second() {
    let app = spawn_app_with(&[("LIVE_HEARTBEAT_SECONDS", "3600")]).await;
    let cookie = app.session_cookie("demo", "morgan@demo.example").await;
    let browser = client_with_cookie(&cookie);
    assert_eq!(status_of(&browser, app.url("/dashboard")).await, 200);
    let mut socket = app
        .live_socket(Some(&cookie), Some(&app.base_url))
        .await
        .expect("a socket");
    let remove = || {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_client-portal"));
        command
            .args([
                "remove",
                "--portal",
                "demo",
                "--email",
                "Morgan@Demo.example",
            ])
            .env_clear()
            .env("DATA_DIR", &app.data_dir.0)
            .env("RUST_LOG", "warn");
        command
    };
    let mut command = remove();
    if let Some(url) = crate::helpers::test_database_url(&app.data_dir).await {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().await.expect("the command runs");
    let removed_at = Instant::now();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("removed morgan@demo.example from demo; 1 session(s) ended"),
        "{stdout}"
    );
    assert!(
        socket.closed_within(Duration::from_secs(1)).await,
        "the socket outlived the membership"
    );
    let page = browser
        .get(app.url("/dashboard"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(page.status(), 303, "signed out");
    assert!(
        removed_at.elapsed() < Duration::from_secs(2),
        "noticed {} ms after the removal",
        removed_at.elapsed().as_millis()
    );
    let audited: i64 = client_portal::on_db!(&app.state.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE event = 'member_removed' AND email = 'morgan@demo.example'",
    )
    .fetch_one(pool)
    .await)
    .expect("counted");
    assert_eq!(audited, 1);

    // Again: nobody to remove, and it says so.
    let mut again = remove();
    if let Some(url) = crate::helpers::test_database_url(&app.data_dir).await {
        again.env("DATABASE_URL", url);
    }
    let output = again.output().await.expect("the command runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not a member of demo"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
