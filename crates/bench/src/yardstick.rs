//! The yardstick: the original design's ticket-list request, rebuilt in Rust so it runs on the
//! same machine against the same board as the portal.
//!
//! The original FastAPI backend answered `GET /tickets/{portal_id}` by checking the JWT, reading
//! every item of the board from monday (all portals' tickets), filtering them by the portal
//! column in Python and returning the matches. This does exactly that, in the same order, over
//! real HTTP to a local board seeded like the portal's. Rust is kinder to it than Python, and
//! the board is on loopback with no complexity budget, so the figure is the original design's
//! best case.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use client_portal::server::auth::Member;
use client_portal::server::auth::jwt::JwtKeys;
use client_portal::server::config::Secret;
use monday_local::{LocalBoard, LocalBoardOptions, Seed, Token};
use serde_json::{Value, json};

const WHOLE_BOARD_FIRST_PAGE: &str = r#"
query WholeBoard($boardId: ID!) {
  boards(ids: [$boardId]) {
    items_page(limit: 500) {
      cursor
      items { id name created_at updated_at column_values { id text } }
    }
  }
}"#;

const WHOLE_BOARD_NEXT_PAGE: &str = r#"
query WholeBoardNext($cursor: String!) {
  next_items_page(cursor: $cursor, limit: 500) {
    cursor
    items { id name created_at updated_at column_values { id text } }
  }
}"#;

pub struct Yardstick {
    pub url: String,
    keys: Arc<JwtKeys>,
    board: LocalBoard,
    data_dir: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

struct Original {
    keys: Arc<JwtKeys>,
    monday: reqwest::Client,
    board_url: String,
    board_token: Token,
    board_id: String,
}

impl Yardstick {
    /// Starts a local board holding the same tickets as the portal's benchmark board, and the
    /// original design's endpoint in front of it.
    pub async fn start(portals: &[String], tickets_per_portal: usize) -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("portal-yardstick-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        std::fs::create_dir_all(&data_dir).expect("a data directory");
        let mut options = LocalBoardOptions::new(format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("board.db").display()
        ));
        // The original design's best case: no limits at all (more generous than monday).
        options.limits = monday_local::Limits::unlimited();
        // The same generated tickets as the portal's board (portals bench_00, bench_01, ...).
        options.seed = Seed::Bench {
            portals: portals.len(),
            tickets: tickets_per_portal,
        };
        let board = LocalBoard::start(options).await.expect("the local board");

        let keys = Arc::new(JwtKeys::new(
            &Secret::new("yardstick-jwt-secret-0123456789abcdef".to_owned()),
            86_400,
        ));
        let original = Arc::new(Original {
            keys: keys.clone(),
            monday: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .expect("an HTTP client"),
            board_url: board.url().await,
            board_token: board.token(),
            board_id: board.board_id().to_string(),
        });
        let app = Router::new()
            .route("/tickets/{portal_id}", get(list_tickets))
            .with_state(original);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            keys,
            board,
            data_dir,
            server,
        }
    }

    pub fn token_for(&self, portal: &str) -> String {
        self.keys
            .issue(&Member {
                email: format!("client@{portal}.example"),
                portal_id: portal.to_owned(),
            })
            .expect("a JWT")
    }

    pub async fn stop(self) {
        self.server.abort();
        self.board.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

async fn list_tickets(
    State(original): State<Arc<Original>>,
    Path(portal_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(member) = token.and_then(|t| original.keys.verify(t).ok()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if member.portal_id != portal_id {
        return StatusCode::FORBIDDEN.into_response();
    }
    match whole_board(&original).await {
        Ok(items) => Json(
            items
                .iter()
                .filter(|item| column_text(item, "portal_id") == portal_id)
                .map(|item| as_ticket(item, &portal_id))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(message) => (StatusCode::BAD_GATEWAY, message).into_response(),
    }
}

async fn whole_board(original: &Original) -> Result<Vec<Value>, String> {
    let first = graphql(
        original,
        WHOLE_BOARD_FIRST_PAGE,
        json!({"boardId": original.board_id}),
    )
    .await?;
    let mut page = first["boards"][0]["items_page"].clone();
    let mut items = Vec::new();
    loop {
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        let Some(cursor) = page["cursor"].as_str().map(str::to_owned) else {
            return Ok(items);
        };
        let next = graphql(original, WHOLE_BOARD_NEXT_PAGE, json!({"cursor": cursor})).await?;
        page = next["next_items_page"].clone();
    }
}

async fn graphql(original: &Original, query: &str, variables: Value) -> Result<Value, String> {
    let response: Value = original
        .monday
        .post(&original.board_url)
        .header("authorization", original.board_token.expose())
        .header("api-version", "2026-10")
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    match response.get("errors") {
        Some(errors) => Err(errors.to_string()),
        None => Ok(response["data"].clone()),
    }
}

fn column_text<'a>(item: &'a Value, column: &str) -> &'a str {
    item["column_values"]
        .as_array()
        .and_then(|values| values.iter().find(|v| v["id"] == column))
        .and_then(|v| v["text"].as_str())
        .unwrap_or_default()
}

/// The original design's ticket shape.
fn as_ticket(item: &Value, portal_id: &str) -> Value {
    let label = |column| column_text(item, column).to_lowercase().replace(' ', "_");
    json!({
        "id": item["id"],
        "title": item["name"],
        "description": column_text(item, "description"),
        "status": label("status"),
        "priority": label("priority"),
        "client_id": portal_id,
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    })
}
