//! The local board, compared with monday shape for shape: its limit answers, its throttle and
//! partial answers, its application errors, its column settings and its webhook payloads have
//! the keys and value types of monday's own (the fixtures), so a client tested against the
//! local board reads monday's answers too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use monday_local::store::{API_USER_ID, ItemState};
use monday_local::{Failure, Faults, LocalBoard, LocalBoardOptions, Seed};
use serde_json::{Value, json};

use crate::fixtures::fixtures;

/// A local board of its own for one test, on an empty seed, removed with its data afterwards
/// (the file tests use it too).
pub(crate) struct Board {
    pub(crate) board: LocalBoard,
    dir: std::path::PathBuf,
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) async fn board() -> Board {
    let dir = std::env::temp_dir().join(format!("contract-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut options =
        LocalBoardOptions::new(format!("sqlite://{}?mode=rwc", dir.join("b.db").display()));
    options.seed = Seed::Empty;
    options.webhook_retry_interval = Duration::from_millis(200);
    Board {
        board: LocalBoard::start(options).await.expect("the board starts"),
        dir,
    }
}

impl Board {
    async fn post(&self, query: &str, variables: Value) -> (u16, Option<String>, Value) {
        let response = reqwest::Client::new()
            .post(self.board.url().await)
            .header("Authorization", self.board.token().expose())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        (status, retry_after, body)
    }

    async fn ping(&self) -> (u16, Option<String>, Value) {
        self.post("query { me { id } }", json!({})).await
    }
}

fn fixture(name: &str) -> Value {
    fixtures(name)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{name}"))
        .1
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Fails unless `local` has exactly the keys of `monday` at every level, with the same types
/// (null on either side stands for any type: monday's nullable fields). Arrays compare their
/// first elements.
fn same_shape(monday: &Value, local: &Value, path: &str) {
    if monday.is_null() || local.is_null() {
        return;
    }
    assert_eq!(
        kind(monday),
        kind(local),
        "{path}: monday {monday} vs local {local}"
    );
    match (monday, local) {
        (Value::Object(m), Value::Object(l)) => {
            let mut mk: Vec<&String> = m.keys().collect();
            let mut lk: Vec<&String> = l.keys().collect();
            mk.sort();
            lk.sort();
            assert_eq!(mk, lk, "{path}: keys");
            for (key, value) in m {
                same_shape(value, &l[key], &format!("{path}.{key}"));
            }
        }
        (Value::Array(m), Value::Array(l)) => {
            if let (Some(m), Some(l)) = (m.first(), l.first()) {
                same_shape(m, l, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

/// The captured 429s: status, body shape, the code and a wait in both the body and the header.
fn assert_limit(answer: &(u16, Option<String>, Value), fixture_name: &str, code: &str) {
    let (status, retry_after, body) = answer;
    let monday = fixture(fixture_name);
    assert_eq!(
        *status,
        monday["status"].as_u64().unwrap() as u16,
        "{fixture_name}"
    );
    let mut expected = monday["body"].clone();
    let mut body = body.clone();
    // Since 2025-04 every answer carries `extensions.request_id`; the documentation's
    // complexity sample was printed without it (the captured one has it).
    if expected.get("extensions").is_none() {
        body.as_object_mut().unwrap().remove("extensions");
        expected.as_object_mut().unwrap().remove("extensions");
    }
    same_shape(&expected, &body, fixture_name);
    assert_eq!(body["errors"][0]["extensions"]["code"], code);
    let wait = body["errors"][0]["extensions"]["retry_in_seconds"]
        .as_u64()
        .expect("a wait");
    assert!(wait >= 1);
    assert_eq!(retry_after.as_deref(), Some(wait.to_string().as_str()));
}

#[tokio::test]
async fn the_minute_daily_concurrency_and_complexity_limits_answer_with_mondays_429s() {
    let b = board().await;
    let standard = b.board.limits();

    b.board.set_limits(monday_local::Limits {
        minute_calls: 1,
        ..standard.clone()
    });
    assert_eq!(b.ping().await.0, 200);
    assert_limit(
        &b.ping().await,
        "error-minute-rate-limit.json",
        "MINUTE_RATE_LIMIT_EXCEEDED",
    );

    b.board.set_limits(standard.clone());
    b.board.spend_day();
    let daily = b.ping().await;
    assert_limit(&daily, "error-daily-limit.json", "DAILY_LIMIT_EXCEEDED");
    let wait = daily.2["errors"][0]["extensions"]["retry_in_seconds"]
        .as_u64()
        .unwrap();
    assert!(
        wait <= 3599,
        "monday's captured wait, never past midnight UTC"
    );
    b.board.new_day();

    b.board.set_limits(monday_local::Limits {
        concurrency: 1,
        ..standard.clone()
    });
    b.board
        .set_faults(Faults {
            latency_ms: 300,
            ..Faults::default()
        })
        .await
        .unwrap();
    let (first, second) = tokio::join!(b.ping(), b.ping());
    let refused = if first.0 == 429 { first } else { second };
    assert_limit(
        &refused,
        "error-concurrency-limit.json",
        "MAX_CONCURRENCY_EXCEEDED",
    );
    b.board.clear_faults().await.unwrap();

    b.board.set_limits(monday_local::Limits {
        complexity_per_minute: 1,
        ..standard.clone()
    });
    assert_limit(
        &b.ping().await,
        "error-complexity-budget-exhausted.json",
        "COMPLEXITY_BUDGET_EXHAUSTED",
    );
    b.board.set_limits(standard);
    let stats = b.board.stats();
    assert!(stats.limited >= 4, "{stats:?}");
}

#[tokio::test]
async fn the_throttle_and_a_partial_success_have_mondays_shapes() {
    let b = board().await;
    b.board
        .set_faults(Faults {
            failure: Some(Failure::SubgraphThrottle),
            remaining: Some(1),
            ..Faults::default()
        })
        .await
        .unwrap();
    let (status, _, body) = b
        .post("query { boards { id name columns { id } } }", json!({}))
        .await;
    assert_eq!(status, 200, "the throttle arrives in an HTTP 200");
    let monday = fixture("error-subgraph-throttle.json");
    same_shape(
        &monday["body"]["errors"][0],
        &body["errors"][0],
        "throttle error",
    );
    same_shape(
        &monday["body"]["extensions"],
        &body["extensions"],
        "throttle extensions",
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "tooManyRequests");
    assert_eq!(body["errors"][0]["extensions"]["status_code"], 400);
    assert!(
        body["errors"][0]["extensions"]
            .get("retry_in_seconds")
            .is_none()
    );
    assert!(
        body["data"]["boards"].is_null(),
        "the throttled field is null"
    );

    b.board
        .set_faults(Faults {
            failure: Some(Failure::PartialSuccess),
            remaining: Some(1),
            ..Faults::default()
        })
        .await
        .unwrap();
    let (status, _, body) = b
        .post(
            "mutation ($board: ID!) { create_item(board_id: $board, item_name: \"Half\") { id name column_values { id } } }",
            json!({ "board": monday_local::LOCAL_BOARD_ID }),
        )
        .await;
    assert_eq!(status, 200);
    same_shape(
        &monday["body"]["errors"][0],
        &body["errors"][0],
        "partial error",
    );
    assert!(
        body["data"]["create_item"]["id"].is_string(),
        "the result is there"
    );
    assert!(body["data"]["create_item"]["column_values"].is_null());
    assert_eq!(
        body["errors"][0]["path"],
        json!(["create_item", "column_values"])
    );
    assert_eq!(
        b.board.store().snapshot().items.len(),
        1,
        "done once, as monday does it"
    );
}

#[tokio::test]
async fn application_errors_and_status_settings_have_mondays_shapes() {
    let b = board().await;
    let (status, _, body) = b
        .post(
            "mutation ($board: ID!, $values: JSON!) { create_item(board_id: $board, item_name: \"x\", column_values: $values) { id } }",
            json!({ "board": monday_local::LOCAL_BOARD_ID, "values": {"status": {"label": "Nope"}} }),
        )
        .await;
    assert_eq!(status, 200);
    let monday = fixture("error-column-value-exception.json");
    let mut error = body["errors"][0].clone();
    // monday's sample names the column type in error_data; the local board names none.
    error["extensions"]["error_data"] =
        monday["body"]["errors"][0]["extensions"]["error_data"].clone();
    same_shape(&monday["body"]["errors"][0], &error, "ColumnValueException");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "ColumnValueException"
    );

    let (_, _, body) = b
        .post(
            "query ($board: ID!) { boards(ids: [$board]) { columns(ids: [\"status\"]) { settings } } }",
            json!({ "board": monday_local::LOCAL_BOARD_ID }),
        )
        .await;
    let settings = &body["data"]["boards"][0]["columns"][0]["settings"];
    let monday = fixture("response-column-settings-status.json");
    same_shape(
        &monday["body"]["data"]["boards"][0]["columns"][2]["settings"],
        settings,
        "settings",
    );
    assert!(
        settings["labels"].is_array(),
        "an array since 2025-10: {settings}"
    );
}

/// Collects webhook deliveries by their `type`.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let store = store.clone();
            async move {
                if body.get("challenge").is_none() {
                    store.lock().unwrap().push(body.clone());
                }
                Json(body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), received)
}

#[tokio::test]
async fn every_webhook_payload_has_the_shape_monday_sends() {
    let b = board().await;
    let (url, received) = receiver().await;
    for event in [
        "create_item",
        "change_column_value",
        "change_name",
        "create_update",
        "edit_update",
        "delete_update",
        "item_archived",
        "item_deleted",
        "item_restored",
    ] {
        let (status, _, body) = b
            .post(
                "mutation ($board: ID!, $url: String!, $event: WebhookEventType!) { create_webhook(board_id: $board, url: $url, event: $event) { id } }",
                json!({ "board": monday_local::LOCAL_BOARD_ID, "url": url, "event": event }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
    }
    let store = b.board.store();
    let board_id = b.board.board_id();
    let item = store
        .mutate(|txn| {
            txn.create_item(
                board_id,
                "Shape",
                Some(&json!({"status": {"label": "Open"}})),
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
                board_id,
                item.id,
                &json!({"status": {"label": "Resolved"}, "name": "Shape 2"}),
                false,
                2,
            )
        })
        .await
        .unwrap();
    let update = store
        .mutate(|txn| txn.create_update(item.id, "<p>first</p>", 2, None))
        .await
        .unwrap();
    let reply = store
        .mutate(|txn| txn.create_reply(update.id, "<p>in the thread</p>", 3, None))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.edit_update(update.id, "<p>first, edited</p>", 2))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.delete_update(reply.id, 2))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.set_item_state(item.id, ItemState::Archived, 2))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.restore_item(item.id, 2))
        .await
        .unwrap();
    let other = store
        .mutate(|txn| txn.create_item(board_id, "Gone", None, false, API_USER_ID, None))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.set_item_state(other.id, ItemState::Deleted, 2))
        .await
        .unwrap();

    let mut events = Vec::new();
    for _ in 0..100 {
        events = received.lock().unwrap().clone();
        if events.len() >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Each webhook is its own request, so they may arrive in any order: of two events of a
    // kind, the update comes before the reply in its thread (the one with a `replyId`).
    let of_type = |kind: &str| -> Vec<Value> {
        let mut of_kind: Vec<Value> = events
            .iter()
            .filter(|e| e["event"]["type"] == kind)
            .cloned()
            .collect();
        of_kind.sort_by_key(|e| !e["event"]["replyId"].is_null());
        of_kind
    };
    let compare = |kind: &str, name: &str, index: usize| {
        let local = of_type(kind);
        let local = local
            .get(index)
            .unwrap_or_else(|| panic!("no {kind} in {events:?}"));
        same_shape(&fixture(name)["body"], local, name);
    };
    compare("create_pulse", "webhook-create_item-captured-2025.json", 0);
    compare(
        "update_column_value",
        "webhook-change_status_column_value-captured-2025.json",
        0,
    );
    compare("update_name", "webhook-change_name.json", 0);
    compare(
        "create_update",
        "webhook-create_update-captured-2025.json",
        0,
    );
    // The reply: the same keys, with replyId set (the thread's update in updateId).
    compare(
        "create_update",
        "webhook-create_update-captured-2025.json",
        1,
    );
    let posted = of_type("create_update");
    assert_eq!(posted[1]["event"]["replyId"], json!(reply.id));
    assert_eq!(posted[1]["event"]["updateId"], json!(update.id));
    compare("edit_update", "webhook-edit_update.json", 0);
    compare("delete_update", "webhook-delete_update.json", 0);
    assert_eq!(
        of_type("delete_update")[0]["event"]["replyId"],
        json!(reply.id)
    );
    compare("archive_pulse", "webhook-item_archived.json", 0);
    compare("restore_pulse", "webhook-item_restored.json", 0);
    compare("delete_pulse", "webhook-item_deleted.json", 0);
}
