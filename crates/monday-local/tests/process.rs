//! The `monday-local` program, started as a process and driven over plain HTTP the way a client
//! of monday would: a query, a mutation, a webhook registered (with monday's challenge) and
//! delivered to a listener on loopback, and a fault switched through the control API.

use std::process::Stdio;
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A running `monday-local`, killed when dropped.
struct Board {
    child: Child,
    url: String,
    token: String,
    control: String,
    _data: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_board(seed: &str) -> Board {
    let data = std::env::temp_dir().join(format!("monday-local-{}", uuid::Uuid::new_v4().simple()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_monday-local"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--seed",
            seed,
            "--webhook-retry-seconds",
            "1",
        ])
        .arg("--data")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("monday-local starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = std::collections::HashMap::new();
    while printed.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("monday-local prints its address in time")
            .expect("stdout readable")
            .expect("a line");
        if let Some((key, value)) = line.split_once('=') {
            printed.insert(key.to_owned(), value.to_owned());
        }
    }
    Board {
        child,
        url: printed["url"].clone(),
        token: printed["token"].clone(),
        control: printed["control"].clone(),
        _data: TempDir(data),
    }
}

impl Board {
    async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(&self.url)
            .header("Authorization", &self.token)
            .header("API-Version", "2026-10")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the board answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }
}

#[tokio::test]
async fn the_program_serves_graphql_fires_webhooks_and_takes_faults() {
    let board = start_board("demo").await;

    // A query: the demo board and its items, read as monday answers them.
    let (status, body) = board
        .graphql(
            "query ($ids: [ID!]) { boards(ids: $ids) { name items_page(limit: 50) { items { id name } } } }",
            json!({ "ids": [monday_local::LOCAL_BOARD_ID] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let items = body["data"]["boards"][0]["items_page"]["items"]
        .as_array()
        .expect("items");
    assert!(items.len() >= 12, "the demo seed: {body}");

    // A wrong token is refused as monday refuses it.
    let refused = reqwest::Client::new()
        .post(&board.url)
        .header("Authorization", "not-the-token")
        .json(&json!({ "query": "query { me { id } }" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status().as_u16(), 401);

    // A webhook receiver on loopback that answers the challenge and records deliveries.
    let (delivered_tx, mut delivered) = mpsc::unbounded_channel::<Value>();
    let receiver = axum::Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let delivered = delivered_tx.clone();
            async move {
                if body.get("challenge").is_some() {
                    return Json(body);
                }
                let _ = delivered.send(body);
                Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let (status, body) = board
        .graphql(
            "mutation ($board: ID!, $url: String!) { create_webhook(board_id: $board, url: $url, event: create_item) { id event } }",
            json!({ "board": monday_local::LOCAL_BOARD_ID, "url": hook_url }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["create_webhook"]["event"], "create_item");

    // A mutation: the new item comes back, and the webhook reports it.
    let (status, body) = board
        .graphql(
            "mutation ($board: ID!, $name: String!, $values: JSON) { create_item(board_id: $board, item_name: $name, column_values: $values) { id name } }",
            json!({
                "board": monday_local::LOCAL_BOARD_ID,
                "name": "Printer on fire",
                "values": { "portal_id": "demo", "status": { "label": "Open" } },
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let item_id = body["data"]["create_item"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let event = tokio::time::timeout(Duration::from_secs(10), delivered.recv())
        .await
        .expect("the webhook arrives")
        .expect("an event");
    assert_eq!(event["event"]["type"], "create_pulse");
    assert_eq!(event["event"]["pulseId"].to_string(), item_id);
    assert_eq!(event["event"]["pulseName"], "Printer on fire");

    // The control API takes the board down and brings it back, as a test of a client's retries
    // would.
    let control = reqwest::Client::new();
    let down = control
        .put(format!("{}/faults", board.control))
        .header("Authorization", &board.token)
        .json(&json!({ "failure": { "kind": "down" } }))
        .send()
        .await
        .expect("control answers");
    assert_eq!(down.status().as_u16(), 200);
    let refused = reqwest::Client::new()
        .post(&board.url)
        .timeout(Duration::from_secs(2))
        .json(&json!({ "query": "query { me { id } }" }))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "the GraphQL listener is closed while down"
    );
    let up = control
        .put(format!("{}/faults", board.control))
        .header("Authorization", &board.token)
        .json(&json!({}))
        .send()
        .await
        .expect("control answers");
    assert_eq!(up.status().as_u16(), 200);
    let (status, body) = board.graphql("query { me { id name } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["id"].is_string(), "{body}");

    let stats: Value = control
        .get(format!("{}/stats", board.control))
        .header("Authorization", &board.token)
        .send()
        .await
        .expect("control answers")
        .json()
        .await
        .expect("JSON");
    assert!(
        stats["webhooks_delivered"].as_u64().unwrap_or(0) >= 1,
        "{stats}"
    );
}

#[tokio::test]
async fn an_empty_seed_has_the_ticket_board_and_no_items() {
    let board = start_board("empty").await;
    let (status, body) = board
        .graphql(
            "query ($ids: [ID!]) { boards(ids: $ids) { columns { id type } items_page { items { id } } } }",
            json!({ "ids": [monday_local::LOCAL_BOARD_ID] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["boards"][0]["items_page"]["items"], json!([]));
    let columns = body["data"]["boards"][0]["columns"].to_string();
    assert!(
        columns.contains("portal_id") && columns.contains("status"),
        "{columns}"
    );
}

/// The control API of a board run as a program: limits switched (a plan's, a shorter
/// minute), the day spent and renewed, and the team's actions, which fire webhooks but are no
/// API calls (as in monday's web interface).
#[tokio::test]
async fn the_control_api_switches_limits_and_acts_as_the_team_without_counting_calls() {
    let board = start_board("empty").await;
    let control = reqwest::Client::new();
    let put = |path: &str, body: Value| {
        control
            .request(
                if path == "/day" || path == "/team" {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::PUT
                },
                format!("{}{path}", board.control),
            )
            .header("Authorization", &board.token)
            .json(&body)
            .send()
    };
    let limits: Value = put("/limits", json!({ "minute_calls": 1 }))
        .await
        .expect("control answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(limits["minute_calls"], 1);
    assert_eq!(board.graphql("query { me { id } }", json!({})).await.0, 200);
    let (status, body) = board.graphql("query { me { id } }", json!({})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "MINUTE_RATE_LIMIT_EXCEEDED"
    );
    put("/limits", json!({})).await.expect("reset");

    let stats: Value = put("/day", json!({ "spend": true }))
        .await
        .expect("control answers")
        .json()
        .await
        .expect("JSON");
    assert!(
        stats["daily_call_tenths"].as_u64().unwrap() >= 10_000,
        "{stats}"
    );
    let (status, body) = board.graphql("query { me { id } }", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "DAILY_LIMIT_EXCEEDED"
    );
    put("/day", json!({})).await.expect("a new day");
    assert_eq!(board.graphql("query { me { id } }", json!({})).await.0, 200);

    let before: Value = control
        .get(format!("{}/stats", board.control))
        .header("Authorization", &board.token)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("JSON");
    let created: Value = put(
        "/team",
        json!({ "action": "create_item", "name": "Made in the UI", "column_values": {"portal_id": "demo"} }),
    )
    .await
    .expect("the team acts")
    .json()
    .await
    .expect("JSON");
    let item_id = created["id"].as_str().expect("an id").to_owned();
    put(
        "/team",
        json!({ "action": "create_update", "item_id": item_id.parse::<u64>().unwrap(), "body": "<p>@client hi</p>" }),
    )
    .await
    .expect("the team acts");
    let after: Value = control
        .get(format!("{}/stats", board.control))
        .header("Authorization", &board.token)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        before["daily_call_tenths"], after["daily_call_tenths"],
        "the team's actions are no API calls"
    );
    let (_, body) = board
        .graphql(
            "query ($ids: [ID!]) { items(ids: $ids) { name updates { body } } }",
            json!({ "ids": [item_id] }),
        )
        .await;
    assert_eq!(body["data"]["items"][0]["name"], "Made in the UI");
    assert_eq!(
        body["data"]["items"][0]["updates"][0]["body"],
        "<p>@client hi</p>"
    );
}
