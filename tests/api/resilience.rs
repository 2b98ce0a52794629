//! Nothing is lost: tickets and replies survive monday being down, rate-limiting, or the portal
//! restarting; pages show saved data when monday does not answer.

use std::collections::HashMap;
use std::time::Duration;

use client_portal::api::tickets::LoadDashboard;
use client_portal::model::{Dashboard, Delivery, Freshness};
use monday_local::{Failure, Faults};

use crate::helpers::{TestApp, server_fn, spawn_app_in, spawn_app_with};

const GENEROUS_LIMITS: &[(&str, &str)] = &[
    ("LIMIT_TICKETS_PER_HOUR", "10000"),
    ("LIMIT_REPLIES_PER_HOUR", "10000"),
    ("LIMIT_WRITES_PER_HOUR_PER_ADDRESS", "100000"),
    ("MONDAY_MAX_RETRY_WAIT_SECONDS", "0"),
    ("MONDAY_TIMEOUT_SECONDS", "2"),
];

async fn dashboard(app: &TestApp, client: &reqwest::Client) -> Dashboard {
    let response = app
        .call(
            client,
            server_fn::<LoadDashboard>(),
            &[("query[page]", "1")],
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

async fn all_titles(app: &TestApp, client: &reqwest::Client) -> Vec<(String, Delivery)> {
    let mut titles = Vec::new();
    let mut page = 1;
    loop {
        let response = app
            .call(
                client,
                server_fn::<LoadDashboard>(),
                &[("query[page]", &page.to_string())],
            )
            .await;
        let dashboard: Dashboard = response.json().await.unwrap();
        titles.extend(
            dashboard
                .page
                .tickets
                .iter()
                .map(|t| (t.title.clone(), t.delivery.clone())),
        );
        if dashboard.page.page >= dashboard.page.pages {
            return titles;
        }
        page += 1;
    }
}

async fn waiting_in_outbox(app: &TestApp) -> i64 {
    let (count,): (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE state = 'waiting'")
        .fetch_one(pool)
        .await)
        .unwrap();
    count
}

async fn drained(app: &TestApp, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while waiting_in_outbox(app).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox did not drain"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn board_titles(app: &TestApp) -> HashMap<String, usize> {
    let snap = app.local_board().store().snapshot();
    let mut counts = HashMap::new();
    for item in snap.items.values() {
        *counts.entry(item.name.clone()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn two_hundred_tickets_from_twenty_sessions_survive_monday_going_down() {
    let app = spawn_app_with(GENEROUS_LIMITS).await;
    let mut sessions = Vec::new();
    for n in 0..20 {
        let portal = format!("fault_{}", n % 4);
        let client = app
            .signed_in(&portal, &format!("member{n}@{portal}.test"))
            .await;
        // Warm the cache so pages can show saved data while monday is down.
        dashboard(&app, &client).await;
        sessions.push((n, client));
    }
    let board = app.local_board().clone();

    let writers = sessions.iter().map(|(n, client)| {
        let app = &app;
        async move {
            let mut mine = Vec::new();
            for k in 0..10 {
                let title = format!("fault ticket s{n} k{k}");
                let response = app.create_ticket(client, &title, "d", "medium").await;
                assert!(response.status().is_success(), "{}", response.status());
                // The client sees its ticket at once, whatever monday is doing.
                let titles = all_titles(app, client).await;
                assert!(
                    titles.iter().any(|(t, _)| *t == title),
                    "{title} is on its author's page"
                );
                mine.push(title);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            mine
        }
    });
    let outage = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        board
            .set_faults(Faults {
                failure: Some(Failure::Down),
                ..Faults::default()
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        board
            .set_faults(Faults {
                failure: Some(Failure::RateLimited {
                    retry_in_seconds: 1,
                }),
                remaining: Some(5),
                ..Faults::default()
            })
            .await
            .unwrap();
    };
    let (created, ()) = tokio::join!(futures::future::join_all(writers), outage);
    assert!(
        waiting_in_outbox(&app).await > 0,
        "some tickets waited for monday"
    );

    // While monday was down, pages showed saved data instead of an error.
    drained(&app, Duration::from_secs(60)).await;
    let on_board = board_titles(&app);
    let mut total = 0;
    for ((_, client), titles) in sessions.iter().zip(&created) {
        let seen = all_titles(&app, client).await;
        for title in titles {
            assert_eq!(
                on_board.get(title),
                Some(&1),
                "{title} is on the board exactly once"
            );
            let delivery = seen
                .iter()
                .find(|(t, _)| t == title)
                .map(|(_, d)| d.clone());
            assert_eq!(
                delivery,
                Some(Delivery::Delivered),
                "{title} on its author's page"
            );
            total += 1;
        }
    }
    assert_eq!(total, 200);
}

#[tokio::test]
async fn pages_show_saved_data_while_monday_is_down() {
    let app = spawn_app_with(GENEROUS_LIMITS).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    let before = dashboard(&app, &client).await;
    assert_eq!(before.freshness, Freshness::Live);
    app.take_monday_down().await;
    // A webhook-less change of mind: the cache is told the list changed.
    app.state.tickets.invalidate("demo", "0").await;
    let during = dashboard(&app, &client).await;
    assert!(
        matches!(during.freshness, Freshness::Saved { .. }),
        "{:?}",
        during.freshness
    );
    assert_eq!(during.page.matching, before.page.matching);
    let html = app.page_text(&client, "/dashboard").await;
    assert!(
        html.contains("monday is not answering, showing saved data"),
        "the page says so"
    );
}

#[tokio::test]
async fn the_outbox_delivers_after_a_restart() {
    let app = spawn_app_with(GENEROUS_LIMITS).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    app.take_monday_down().await;
    let response = app
        .create_ticket(&client, "Written while down", "", "low")
        .await;
    assert!(response.status().is_success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(waiting_in_outbox(&app).await, 1);
    let data_dir = app.data_dir.clone();
    app.shutdown().await;

    let restarted = spawn_app_in(data_dir, GENEROUS_LIMITS).await;
    drained(&restarted, Duration::from_secs(20)).await;
    assert_eq!(board_titles(&restarted).get("Written while down"), Some(&1));
}

#[tokio::test]
async fn a_ticket_monday_refuses_for_good_is_kept_and_shown_as_failed() {
    let mut limits = GENEROUS_LIMITS.to_vec();
    limits.push(("MONDAY_PRIORITY_LABELS", "Critical=urgent"));
    let app = spawn_app_with(&limits).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    app.create_ticket(&client, "Refused by monday", "", "urgent")
        .await;
    drained(&app, Duration::from_secs(10)).await;
    let titles = all_titles(&app, &client).await;
    let (_, delivery) = titles
        .iter()
        .find(|(t, _)| t == "Refused by monday")
        .expect("kept, not dropped");
    match delivery {
        Delivery::Failed { reason } => assert!(reason.contains("status label"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(board_titles(&app).get("Refused by monday"), None);
}

#[tokio::test]
async fn ticket_creation_is_rate_limited_per_session_with_a_clear_message() {
    let app = spawn_app_with(&[("LIMIT_TICKETS_PER_HOUR", "2")]).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    for n in 0..2 {
        let title = format!("allowed {n}");
        let ok = app.create_ticket(&client, &title, "", "low").await;
        assert!(ok.status().is_success());
    }
    let limited = app.create_ticket(&client, "one too many", "", "low").await;
    assert_eq!(limited.status(), 429);
    let body = limited.text().await.unwrap();
    assert!(body.contains("RateLimited"), "{body}");
    // Another session of another member is not affected.
    let other = app.signed_in("demo", "alex@demo.example").await;
    let ok = app.create_ticket(&other, "someone else", "", "low").await;
    assert!(ok.status().is_success());
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app_with(GENEROUS_LIMITS).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    let huge = "x".repeat(400 * 1024);
    let response = app.create_ticket(&client, "big", &huge, "low").await;
    assert_eq!(response.status(), 413);
    assert_eq!(waiting_in_outbox(&app).await, 0);
}
