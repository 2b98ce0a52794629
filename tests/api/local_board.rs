//! The local board fires webhooks as monday does and keeps its data across restarts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use monday_local::store::API_USER_ID;
use monday_local::{LocalBoard, LocalBoardOptions};
use serde_json::{Value, json};

use crate::helpers::{TempDir, spawn_board};

/// A webhook receiver that records what it gets; it fails the first `fail_first` deliveries.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::<Value>::new()));
    let failures = Arc::new(Mutex::new(fail_first));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let store = store.clone();
            let failures = failures.clone();
            async move {
                if body.get("challenge").is_some() {
                    return (StatusCode::OK, Json(body));
                }
                let mut left = failures.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({})));
                }
                store.lock().unwrap().push(body);
                (StatusCode::OK, Json(json!({})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), received)
}

async fn wait_for(received: &Arc<Mutex<Vec<Value>>>, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        if received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    received.lock().unwrap().clone()
}

#[tokio::test]
async fn fires_mondays_payloads_to_registered_webhooks() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let board_id = board.board.board_id().to_string();
    let (url, received) = receiver(0).await;
    for event in [
        "create_item",
        "change_column_value",
        "change_name",
        "create_update",
        "item_archived",
    ] {
        client
            .create_webhook(&board_id, &url, event)
            .await
            .expect("registered");
    }

    let store = board.board.store();
    let id = board.board.board_id();
    let item = store
        .mutate(|txn| {
            txn.create_item(
                id,
                "Printer on fire",
                Some(&json!({"portal_id": "acme", "status": {"label": "Open"}})),
                false,
                2,
                None,
            )
        })
        .await
        .unwrap();
    store
        .mutate(|txn| {
            txn.change_column_values(
                id,
                item.id,
                &json!({"status": {"label": "In Progress"}, "name": "Printer still on fire"}),
                false,
                2,
            )
        })
        .await
        .unwrap();
    store
        .mutate(|txn| txn.create_update(item.id, "<p>@client On our way</p>", 2, None))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.set_item_state(item.id, monday_local::store::ItemState::Archived, 2))
        .await
        .unwrap();

    let events = wait_for(&received, 5).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    for expected in [
        "create_pulse",
        "update_column_value",
        "update_name",
        "create_update",
        "archive_pulse",
    ] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    let status = events
        .iter()
        .find(|e| e["event"]["type"] == "update_column_value")
        .unwrap();
    assert_eq!(status["event"]["pulseId"], json!(item.id));
    assert_eq!(status["event"]["columnId"], "status");
    assert_eq!(status["event"]["value"]["label"]["text"], "In Progress");
    assert_eq!(status["event"]["previousValue"]["label"]["text"], "Open");
    let update = events
        .iter()
        .find(|e| e["event"]["type"] == "create_update")
        .unwrap();
    assert_eq!(update["event"]["textBody"], "@client On our way");
    let archived = events
        .iter()
        .find(|e| e["event"]["type"] == "archive_pulse")
        .unwrap();
    assert_eq!(archived["event"]["itemId"], json!(item.id));

    let mut uuids: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["triggerUuid"].as_str().unwrap())
        .collect();
    uuids.sort();
    uuids.dedup();
    assert_eq!(
        uuids.len(),
        events.len(),
        "every event has its own triggerUuid"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_trigger_uuid() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let (url, received) = receiver(2).await;
    client
        .create_webhook(&board.board.board_id().to_string(), &url, "create_item")
        .await
        .unwrap();
    let id = board.board.board_id();
    board
        .board
        .store()
        .mutate(|txn| txn.create_item(id, "Retry me", None, false, API_USER_ID, None))
        .await
        .unwrap();
    let events = wait_for(&received, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"]["isRetry"], true);
    assert!(board.board.stats().webhook_failed_attempts >= 2);
}

#[tokio::test]
async fn a_webhook_url_that_does_not_echo_the_challenge_is_refused() {
    let board = spawn_board().await;
    let client = board.client(&[]).await;
    let error = client
        .create_webhook(
            &board.board.board_id().to_string(),
            "http://127.0.0.1:9/nothing",
            "create_item",
        )
        .await
        .expect_err("no one answers");
    assert!(
        error.to_string().contains("Failed to communicate"),
        "{error}"
    );
}

#[tokio::test]
async fn the_board_survives_a_restart() {
    let dir = TempDir::new("board-restart");
    let options = || {
        let mut options = LocalBoardOptions::new(dir.sqlite_url("board.db"));
        options.seed = monday_local::Seed::Demo;
        options
    };
    let first = LocalBoard::start(options()).await.unwrap();
    let seeded = first.store().snapshot().items.len();
    assert!(seeded >= 12, "demo data: {seeded} items");
    let id = first.board_id();
    let created = first
        .store()
        .mutate(|txn| txn.create_item(id, "Kept", None, false, API_USER_ID, None))
        .await
        .unwrap();
    let token = first.token();
    first.shutdown().await;
    drop(first);

    let second = LocalBoard::start(options()).await.unwrap();
    let snap = second.store().snapshot();
    assert_eq!(snap.items.len(), seeded + 1, "not seeded twice");
    assert_eq!(snap.items[&created.id].name, "Kept");
    assert_eq!(second.token(), token, "the API token is stable");
}

#[tokio::test]
async fn the_seed_covers_every_status_and_priority_in_two_portals() {
    let dir = TempDir::new("board-seed");
    let board = LocalBoard::start(LocalBoardOptions::new(dir.sqlite_url("board.db")))
        .await
        .unwrap();
    let snap = board.store().snapshot();
    let b = snap.board(board.board_id()).unwrap();
    let text = |item: &monday_local::store::Item, column: &str| {
        monday_local::store::BoardState::column_text(
            b.column(column).unwrap(),
            item.values.get(column),
        )
        .unwrap_or_default()
    };
    let items: Vec<_> = snap.items.values().collect();
    for portal in ["demo", "acme"] {
        assert!(items.iter().any(|i| text(i, "portal_id") == portal));
    }
    for status in ["Open", "In Progress", "Resolved", "Closed"] {
        assert!(
            items.iter().any(|i| text(i, "status") == status),
            "{status}"
        );
    }
    for priority in ["Low", "Medium", "High", "Urgent"] {
        assert!(
            items.iter().any(|i| text(i, "priority") == priority),
            "{priority}"
        );
    }
    let updates: Vec<_> = snap.updates.values().collect();
    assert!(
        updates.iter().any(|u| u.body.contains("@client")),
        "public replies"
    );
    assert!(
        updates.iter().any(|u| !u.body.contains("@client")),
        "internal notes"
    );
}

/// The console and the demo inbox have no sign-in: switched off, they and the login page's
/// list of demo addresses are gone, while the portal itself still runs on the local board.
#[tokio::test]
async fn the_team_console_and_its_demo_hints_can_be_switched_off() {
    use client_portal::api::auth::DemoAccounts;
    use client_portal::model::DemoAccount;

    use crate::helpers::{TestApp, browser, server_fn, spawn_app, spawn_app_with};

    async fn demo_addresses(app: &TestApp) -> usize {
        let accounts: Vec<DemoAccount> = app
            .call(&browser(), server_fn::<DemoAccounts>(), &[])
            .await
            .json()
            .await
            .unwrap();
        accounts.len()
    }
    let status = |url: String| async move {
        crate::helpers::plain_client()
            .get(url)
            .send()
            .await
            .unwrap()
            .status()
    };

    let on = spawn_app().await;
    assert_eq!(status(on.url("/local-board")).await, StatusCode::OK);
    assert_eq!(status(on.url("/local-board/mail")).await, StatusCode::OK);
    assert_eq!(demo_addresses(&on).await, 4);

    let off = spawn_app_with(&[("LOCAL_BOARD_CONSOLE", "off")]).await;
    assert_eq!(status(off.url("/local-board")).await, StatusCode::NOT_FOUND);
    assert_eq!(
        status(off.url("/local-board/mail")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(demo_addresses(&off).await, 0);
    assert_eq!(status(off.url("/healthz")).await, StatusCode::OK);
    assert_eq!(status(off.url("/readyz")).await, StatusCode::OK);
}

/// The console's "Simulate monday" switches monday's limits and bad days on the board.
#[tokio::test]
async fn simulate_monday_switches_limits_and_faults_from_the_console() {
    use crate::helpers::{browser, spawn_app};
    use monday_local::{Failure, Plan};

    let app = spawn_app().await;
    let client = browser();
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        client
            .post(app.url(path))
            .header("origin", &app.base_url)
            .form(&form)
            .send()
    };
    let board = app.local_board();
    for (mode, expected) in [
        ("rate_limited", Some("rate_limited")),
        ("concurrency", Some("concurrency_exceeded")),
        ("throttle", Some("subgraph_throttle")),
        ("partial", Some("partial_success")),
        ("lost", Some("lost_response")),
        ("server_error", Some("server_error")),
        ("normal", None),
    ] {
        let response = post("/local-board/faults", vec![("mode", mode)])
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{mode}");
        let kind = board.faults().failure.map(|f| {
            serde_json::to_value(f).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        });
        assert_eq!(kind.as_deref(), expected, "{mode}");
    }
    assert_eq!(board.faults().failure, None::<Failure>);

    post("/local-board/faults", vec![("mode", "spend_day")])
        .await
        .unwrap();
    // Spent: every request after it costs a tenth of a call, as on monday, and the portal's
    // background work may send one or two just then.
    let tenths = board.stats().daily_call_tenths;
    assert!((10_000..10_050).contains(&tenths), "{tenths} tenths");
    let page = reqwest::get(app.url("/local-board"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = page
        .split("</strong> of 1000")
        .next()
        .and_then(|before| before.rsplit('>').next())
        .and_then(|number| number.parse::<f64>().ok());
    assert!(
        shown.is_some_and(|calls| calls >= 1000.0),
        "the console shows the day spent: {shown:?}"
    );
    post("/local-board/faults", vec![("mode", "new_day")])
        .await
        .unwrap();
    assert_eq!(board.stats().daily_call_tenths, 0);

    post("/local-board/plan", vec![("plan", "pro")])
        .await
        .unwrap();
    assert_eq!(board.limits(), Plan::Pro.limits());
}
