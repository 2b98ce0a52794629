//! monday as strict as it is: under each of its limits (calls a minute, calls a day, requests at
//! once, the subgraph throttle) a hundred tickets reach the board exactly once and none is
//! marked failed; a spent day makes pages show saved data and the outbox wait; an outage longer
//! than monday's idempotency window creates nothing twice; a description longer than the long
//! text column holds loses nothing.

use std::time::Duration;

use client_portal::api::tickets::LoadDashboard;
use client_portal::model::{Dashboard, Freshness};
use client_portal::server::auth::Member;
use monday_local::store::BoardState;
use monday_local::{Failure, Faults, Limits};

use crate::helpers::{NO_WRITE_LIMITS, TestApp, server_fn, spawn_app_with};

fn settings(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut all = NO_WRITE_LIMITS.to_vec();
    all.extend_from_slice(extra);
    all
}

/// A hundred tickets through the portal (the server function pages use), then: every one on
/// the board exactly once, none failed, and the limit really was met.
async fn hundred_tickets_arrive_once(app: &TestApp, tag: &str, within: Duration) {
    let client = app.signed_in("limits", "kim@limits.test").await;
    let mut titles = Vec::new();
    for n in 0..100 {
        let title = format!("{tag} ticket {n}");
        let response = app.create_ticket(&client, &title, "d", "low").await;
        assert!(response.status().is_success(), "{}", response.status());
        titles.push(title);
    }
    app.outbox_drained(within).await;
    assert_eq!(app.outbox_count("failed").await, 0, "none is marked failed");
    assert_eq!(app.outbox_count("delivered").await, 100);
    let on_board = app.board_titles();
    for title in &titles {
        assert_eq!(on_board.get(title), Some(&1), "{title} exactly once");
    }
    let stats = app.local_board().stats();
    assert!(stats.limited > 0, "{tag}: the limit was met: {stats:?}");
}

#[tokio::test]
async fn under_the_minute_limit_a_hundred_tickets_arrive_once() {
    let app = spawn_app_with(&settings(&[])).await;
    // monday's minute, shortened: 20 calls in 2 seconds.
    app.local_board().set_limits(Limits {
        minute_calls: 20,
        minute_seconds: 2,
        ..app.local_board().limits()
    });
    hundred_tickets_arrive_once(&app, "minute", Duration::from_secs(90)).await;
}

#[tokio::test]
async fn under_the_daily_limit_a_hundred_tickets_arrive_once() {
    let app = spawn_app_with(&settings(&[])).await;
    // monday's day, shortened: 25 calls in 3 seconds; DAILY_LIMIT_EXCEEDED asks to wait until
    // the day ends (at most 3599 s, as captured).
    app.local_board().set_limits(Limits {
        daily_calls: 25,
        day_seconds: Some(3),
        ..app.local_board().limits()
    });
    hundred_tickets_arrive_once(&app, "daily", Duration::from_secs(90)).await;
}

#[tokio::test]
async fn under_the_concurrency_limit_a_hundred_tickets_arrive_once() {
    let app = spawn_app_with(&settings(&[])).await;
    app.local_board().set_limits(Limits {
        concurrency: 3,
        concurrency_retry_in_seconds: 1,
        ..app.local_board().limits()
    });
    app.local_board()
        .set_faults(Faults {
            latency_ms: 50,
            ..Faults::default()
        })
        .await
        .unwrap();
    hundred_tickets_arrive_once(&app, "concurrency", Duration::from_secs(90)).await;
    assert!(app.local_board().stats().max_in_flight > 3);
}

#[tokio::test]
async fn under_the_subgraph_throttle_a_hundred_tickets_arrive_once() {
    let app = spawn_app_with(&settings(&[])).await;
    // Every other request: HTTP 200, tooManyRequests, no wait.
    app.local_board()
        .set_faults(Faults {
            failure: Some(Failure::SubgraphThrottle),
            every: Some(2),
            ..Faults::default()
        })
        .await
        .unwrap();
    hundred_tickets_arrive_once(&app, "throttle", Duration::from_secs(60)).await;
}

#[tokio::test]
async fn partial_successes_are_read_back_and_nothing_is_created_twice() {
    let app = spawn_app_with(&settings(&[])).await;
    app.local_board()
        .set_faults(Faults {
            failure: Some(Failure::PartialSuccess),
            ..Faults::default()
        })
        .await
        .unwrap();
    let client = app.signed_in("partial", "kim@partial.test").await;
    for n in 0..10 {
        app.create_ticket(&client, &format!("partial {n}"), "d", "high")
            .await;
    }
    app.outbox_drained(Duration::from_secs(30)).await;
    assert_eq!(app.outbox_count("failed").await, 0);
    let on_board = app.board_titles();
    for n in 0..10 {
        assert_eq!(on_board.get(&format!("partial {n}")), Some(&1));
    }
}

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

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn when_monday_says_the_day_is_spent_pages_show_saved_data_and_the_outbox_waits() {
    let app = spawn_app_with(&settings(&[("METRICS", "on")])).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    let before = dashboard(&app, &client).await;
    assert_eq!(before.freshness, Freshness::Live);
    assert!(metric(&app, "portal_monday_calls_today").await >= 1.0);

    let board = app.local_board();
    board.set_limits(Limits {
        daily_retry_in_seconds: 2,
        ..board.limits()
    });
    board.spend_day();
    let response = app
        .create_ticket(&client, "Written on a spent day", "", "low")
        .await;
    assert!(response.status().is_success());
    // The outbox met the limit: it waits (not failed), and says why.
    let mut reason = None;
    for _ in 0..50 {
        reason =
            client_portal::on_db!(&app.state.db, pool => sqlx::query_scalar::<_, Option<String>>(
            "SELECT last_error FROM outbox WHERE title = 'Written on a spent day'",
        )
        .fetch_one(pool)
        .await)
            .unwrap();
        if reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reason.unwrap_or_default().contains("daily call limit"));
    assert_eq!(app.outbox_count("failed").await, 0);
    assert_eq!(metric(&app, "portal_monday_day_spent").await, 1.0);
    // Pages: saved data (and the client's own new ticket), no error.
    app.state.tickets.invalidate("demo", "0").await;
    let during = dashboard(&app, &client).await;
    assert!(
        matches!(during.freshness, Freshness::Saved { .. }),
        "{:?}",
        during.freshness
    );
    assert!(
        during
            .page
            .tickets
            .iter()
            .any(|t| t.title == "Written on a spent day")
    );
    let requests = board.stats().requests;

    // Midnight: the outbox delivers once monday's wait has passed.
    board.new_day();
    app.outbox_drained(Duration::from_secs(20)).await;
    assert_eq!(app.board_titles().get("Written on a spent day"), Some(&1));
    assert_eq!(app.outbox_count("failed").await, 0);
    assert!(
        board.stats().requests - requests < 10,
        "the portal did not hammer a spent day"
    );
}

#[tokio::test]
async fn monday_down_longer_than_its_idempotency_window_creates_nothing_twice() {
    // No retries inside a request: every retry is the outbox's, after the window.
    let app = spawn_app_with(&settings(&[("MONDAY_MAX_RETRY_WAIT_SECONDS", "0")])).await;
    let board = app.local_board();
    // monday replays a key's answer for 30 minutes; here for one second.
    board.set_limits(Limits {
        idempotency_window_seconds: 1,
        ..board.limits()
    });
    let client = app.signed_in("outage", "kim@outage.test").await;

    // Ten tickets wait while monday is down; it comes back doing what it is asked and losing
    // the answers, and goes down again as soon as the outbox has tried a batch: those tickets
    // are on the board, and the portal cannot know.
    app.take_monday_down().await;
    for n in 0..10 {
        app.create_ticket(&client, &format!("lost answer {n}"), "d", "low")
            .await;
    }
    board
        .set_faults(Faults {
            failure: Some(Failure::LostResponse),
            ..Faults::default()
        })
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let uncertain = || async {
        let (count,): (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE uncertain = 1 AND state = 'waiting'",
        )
        .fetch_one(pool)
        .await)
        .unwrap();
        count
    };
    while uncertain().await < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch was not tried"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Down for longer than the idempotency window.
    app.take_monday_down().await;
    let waiting_uncertain = uncertain().await;
    let done = app
        .board_titles()
        .into_keys()
        .filter(|t| t.starts_with("lost answer"))
        .count();
    assert!(
        waiting_uncertain >= 5 && done as i64 >= waiting_uncertain,
        "{waiting_uncertain} wait uncertain, {done} are on the board"
    );
    for n in 0..5 {
        app.create_ticket(&client, &format!("written while down {n}"), "d", "low")
            .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    board.clear_faults().await.unwrap();

    app.outbox_drained(Duration::from_secs(40)).await;
    assert_eq!(app.outbox_count("failed").await, 0);
    let on_board = app.board_titles();
    for n in 0..10 {
        assert_eq!(
            on_board.get(&format!("lost answer {n}")),
            Some(&1),
            "found by its reference, not created again"
        );
    }
    for n in 0..5 {
        assert_eq!(on_board.get(&format!("written while down {n}")), Some(&1));
    }
}

#[tokio::test]
async fn a_2500_character_description_is_whole_for_the_team_and_the_client() {
    let app = spawn_app_with(&settings(&[])).await;
    let client = app.signed_in("long", "kim@long.test").await;
    let mut description = String::new();
    let mut n = 0;
    while description.chars().count() < 2_480 {
        description.push_str(&format!("word{n} "));
        n += 1;
    }
    description.truncate(2_482);
    description.push_str("and THE LAST WORDS");
    assert_eq!(description.chars().count(), 2_500);
    let response = app
        .create_ticket(&client, "A very long story", &description, "medium")
        .await;
    assert!(response.status().is_success());
    app.outbox_drained(Duration::from_secs(20)).await;
    assert_eq!(app.outbox_count("failed").await, 0);

    // The board: the column holds at most monday's 2,000 characters...
    let snap = app.local_board().store().snapshot();
    let item = snap
        .items
        .values()
        .find(|i| i.name == "A very long story")
        .expect("on the board");
    let board = snap.board(item.board_id).unwrap();
    let column = BoardState::column_text(
        board.column("description").unwrap(),
        item.values.get("description"),
    )
    .unwrap();
    assert!(column.encode_utf16().count() <= 2_000, "{}", column.len());
    assert!(column.starts_with("word0 word1"));
    assert!(column.contains("first update"), "it says where the rest is");
    assert!(!column.contains("THE LAST WORDS"));
    // ...and the team reads every character in the item's first update.
    let updates = snap.item_updates(item.id);
    assert_eq!(updates.len(), 1);
    let text = monday_local::graphql::html_to_text(&updates[0].body);
    assert!(
        text.contains(&description),
        "the whole text is on the board"
    );

    // The client's page shows all of it.
    let member = Member {
        email: "kim@long.test".into(),
        portal_id: "long".into(),
    };
    let detail = app
        .state
        .tickets
        .detail(&app.access_of(&member).await, &item.id.to_string())
        .await
        .unwrap();
    assert_eq!(detail.value.ticket.description, description);
    let html = app
        .page_text(&client, &format!("/tickets/{}", item.id))
        .await;
    assert!(html.contains("THE LAST WORDS"));
    assert!(html.contains(&description));
    // Also from monday alone (another portal instance, no outbox row): the first update.
    app.state
        .tickets
        .invalidate("long", &item.id.to_string())
        .await;
    client_portal::on_db!(&app.state.db, pool => sqlx::query("DELETE FROM outbox")
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .unwrap();
    // Done behind the portal's back: pages see it once the change counters are read again.
    tokio::time::sleep(client_portal::server::memory::WATCH_EVERY * 3).await;
    let detail = app
        .state
        .tickets
        .detail(&app.access_of(&member).await, &item.id.to_string())
        .await
        .unwrap();
    assert_eq!(detail.value.ticket.description, description);
    // Nothing of the portal's bookkeeping shows.
    assert!(
        detail.value.replies.is_empty(),
        "{:?}",
        detail.value.replies
    );
}

#[tokio::test]
async fn health_checks_spend_no_monday_calls_while_monday_answers() {
    let app = spawn_app_with(&settings(&[])).await;
    // Start-up's own calls (registering the local board's webhooks) are over first.
    app.webhooks_registered().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = app.signed_in("demo", "jordan@demo.example").await;
    dashboard(&app, &client).await;
    let before = app.state.board.requests_sent();
    for _ in 0..20 {
        let ready = reqwest::get(app.url("/readyz")).await.unwrap();
        assert_eq!(ready.status(), 200);
    }
    assert_eq!(
        app.state.board.requests_sent(),
        before,
        "monday's last answer stands for the check"
    );
    // A spent day keeps the portal in service: it serves saved data.
    app.local_board().spend_day();
    app.state.tickets.invalidate("demo", "0").await;
    dashboard(&app, &client).await;
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
}
