//! A local stand-in for monday.com: one board behind monday's GraphQL API (`/v2`), on a port of
//! its own, persisted in SQLite.
//!
//! The way stripe-mock stands beside Stripe's SDKs: a client that works against it works against
//! monday, because it speaks monday's schema, argument names, column-value formats, limits,
//! error shapes and webhook payloads (the crate's README lists each rule with the monday
//! documentation page it follows, and what it does not emulate). It runs in-process (the portal
//! starts one when it has no monday token) or as the `monday-local` program, and injects faults
//! on request so clients can be tested against monday's bad days.

mod clock;
pub mod demo;
pub mod files;
pub mod graphql;
pub mod limits;
pub mod schema;
mod seed;
pub mod store;
pub mod webhooks;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot};

pub use limits::{Limits, Plan};
pub use seed::{Seed, bench_portal_id, generated_ticket, ticket_columns as seed_columns};

use graphql::{Budget, CursorState, IdempotencyCache, IdempotencyCheck};
use store::Store;
use webhooks::WebhookDispatcher;

/// The board's API token: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The value, for the `Authorization` header of a client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The id of the local board's ticket board: what `MONDAY_BOARD_ID` defaults to.
pub const LOCAL_BOARD_ID: &str = "4200000001";

/// What goes wrong on purpose, switchable while the board runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Added to every request.
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub failure: Option<Failure>,
    /// The failure applies to this many requests, then clears; `None` keeps it until cleared.
    #[serde(default)]
    pub remaining: Option<u32>,
    /// The failure hits every n-th request it applies to (2: every other one); `None` or 1:
    /// every one.
    #[serde(default)]
    pub every: Option<u32>,
}

/// monday's bad days, each with the status and body monday sends (see the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// HTTP 429 `MINUTE_RATE_LIMIT_EXCEEDED` with `retry_in_seconds` and `Retry-After`.
    RateLimited { retry_in_seconds: u64 },
    /// HTTP 429 `MAX_CONCURRENCY_EXCEEDED` with `retry_in_seconds`.
    ConcurrencyExceeded { retry_in_seconds: u64 },
    /// HTTP 429 `DAILY_LIMIT_EXCEEDED` with `retry_in_seconds`.
    DailyLimitExceeded { retry_in_seconds: u64 },
    /// HTTP 429 `COMPLEXITY_BUDGET_EXHAUSTED` with `retry_in_seconds`.
    ComplexityExhausted { retry_in_seconds: u64 },
    /// HTTP 200 with `tooManyRequests` (`status_code` 400, no wait) and the request's fields
    /// null: the subgraph throttle. Nothing is done.
    SubgraphThrottle,
    /// Mutations only: done, then answered with the result *and* a throttle error inside it
    /// (one of its fields null): a partial success.
    PartialSuccess,
    /// Mutations only: done, then answered HTTP 500, as when an answer is lost on its way.
    LostResponse,
    /// HTTP 500.
    ServerError,
    /// HTTP 200 with a truncated JSON body.
    MalformedJson,
    /// The next `next_items_page` call finds its cursor expired.
    ExpiredCursor,
    /// The listener closes: connections are refused until the fault is cleared.
    Down,
}

impl Failure {
    fn applies(&self, is_mutation: bool) -> bool {
        match self {
            Failure::PartialSuccess | Failure::LostResponse => is_mutation,
            Failure::ExpiredCursor | Failure::Down => false,
            _ => true,
        }
    }
}

pub struct LocalBoardOptions {
    pub database_url: String,
    /// Where the GraphQL API listens; port 0 picks a free port.
    pub listen: SocketAddr,
    pub webhook_retry_interval: Duration,
    pub webhook_max_attempts: u32,
    /// What a board that has never run starts with.
    pub seed: Seed,
    /// monday's limits the board enforces: a plan's ([`Plan::limits`]), Standard by default.
    pub limits: Limits,
    /// Where to serve the control API (`/faults`, `/stats`), which stays up while a "down"
    /// fault closes the GraphQL listener. `None` serves none: in-process users call methods.
    pub control_listen: Option<SocketAddr>,
}

impl LocalBoardOptions {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook_retry_interval: Duration::from_secs(60),
            webhook_max_attempts: 30,
            seed: Seed::Demo,
            limits: Plan::Standard.limits(),
            control_listen: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalBoardError {
    #[error("local board database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("local board could not listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("local board seeding failed: {0}")]
    Seed(#[from] store::BoardError),
}

/// Counters a test can read to see what reached the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardStats {
    pub requests: u64,
    pub items_returned: u64,
    pub webhooks_delivered: u64,
    pub webhook_failed_attempts: u64,
    /// Requests refused by a limit or a throttle (429s and `tooManyRequests`).
    pub limited: u64,
    /// Today's calls as monday counts them, in tenths (a refused request is one tenth).
    pub daily_call_tenths: u64,
    /// The most requests that were in flight at once.
    pub max_in_flight: u32,
}

pub struct Shared {
    pub store: Store,
    token: Token,
    pub webhooks: Arc<WebhookDispatcher>,
    faults: Mutex<Faults>,
    cursors: Mutex<HashMap<String, CursorState>>,
    idempotency: Mutex<IdempotencyCache>,
    budget: Mutex<Budget>,
    limits: Mutex<Limits>,
    counters: Mutex<limits::Counters>,
    requests: AtomicU64,
    items_returned: AtomicU64,
    limited: AtomicU64,
    in_flight: AtomicU32,
    max_in_flight: AtomicU32,
    fault_seen: AtomicU64,
    server: tokio::sync::Mutex<ServerControl>,
    /// `http://host:port` the board answers on, for the files' public URLs.
    base_url: Mutex<String>,
    /// The files' public links handed out, and until when each works.
    file_links: Mutex<HashMap<String, files::Link>>,
    /// How long a public link works (monday: an hour; tests shorten it).
    public_url_lifetime: Mutex<Duration>,
}

struct ServerControl {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Shared {
    /// Hands out an opaque cursor for the rest of a walk. monday's cursors are long opaque
    /// strings that start with `MSw`; ours look alike so no client can parse meaning into them,
    /// and they expire after [`graphql::CURSOR_LIFETIME`] as monday's do.
    fn remember_cursor(&self, state: CursorState) -> String {
        let token = format!(
            "MSw{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        if let Ok(mut cursors) = self.cursors.lock() {
            cursors.retain(|_, c| c.created.elapsed() < graphql::CURSOR_LIFETIME);
            cursors.insert(token.clone(), state);
        }
        token
    }

    fn count_items_returned(&self, count: usize) {
        self.items_returned
            .fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Takes one use of an injected expired-cursor fault.
    fn cursor_fault_active(&self) -> bool {
        self.take_failure(|f| matches!(f, Failure::ExpiredCursor))
            .is_some()
    }

    /// Returns the injected failure if `applies` accepts it, counting one use. `remaining: None`
    /// means "until cleared"; `Some(n)` clears the failure after its n-th use, which is how a
    /// test says "fail the next three requests, then recover".
    fn take_failure(&self, applies: impl Fn(&Failure) -> bool) -> Option<Failure> {
        let mut faults = self.faults.lock().ok()?;
        let failure = faults.failure.filter(|f| applies(f))?;
        if let Some(every) = faults.every.filter(|every| *every > 1) {
            let seen = self.fault_seen.fetch_add(1, Ordering::Relaxed) + 1;
            if !seen.is_multiple_of(u64::from(every)) {
                return None;
            }
        }
        match &mut faults.remaining {
            Some(0) => {
                faults.failure = None;
                return None;
            }
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    faults.failure = None;
                    faults.remaining = None;
                }
            }
            None => {}
        }
        Some(failure)
    }

    fn limits(&self) -> Limits {
        self.limits.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn latency(&self) -> Duration {
        self.faults
            .lock()
            .map(|f| Duration::from_millis(f.latency_ms))
            .unwrap_or_default()
    }
}

/// A running local board. Clones share it.
#[derive(Clone)]
pub struct LocalBoard {
    shared: Arc<Shared>,
    control_addr: Option<SocketAddr>,
}

impl LocalBoard {
    pub async fn start(options: LocalBoardOptions) -> Result<Self, LocalBoardError> {
        let db = open_database(&options.database_url).await?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let store = Store::open(db.clone(), events_tx).await?;
        let token = load_or_create_token(&db).await?;
        let webhooks = Arc::new(WebhookDispatcher::new(
            options.webhook_retry_interval,
            options.webhook_max_attempts,
        ));
        let shared = Arc::new(Shared {
            store,
            token,
            webhooks: webhooks.clone(),
            faults: Mutex::new(Faults::default()),
            cursors: Mutex::new(HashMap::new()),
            idempotency: Mutex::new(IdempotencyCache::default()),
            budget: Mutex::new(Budget::new(options.limits.complexity_per_minute)),
            limits: Mutex::new(options.limits.clone()),
            counters: Mutex::new(limits::Counters::new()),
            requests: AtomicU64::new(0),
            items_returned: AtomicU64::new(0),
            limited: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            max_in_flight: AtomicU32::new(0),
            fault_seen: AtomicU64::new(0),
            server: tokio::sync::Mutex::new(ServerControl {
                addr: options.listen,
                stop: None,
                task: None,
            }),
            base_url: Mutex::new(format!("http://{}", options.listen)),
            file_links: Mutex::new(HashMap::new()),
            public_url_lifetime: Mutex::new(files::PUBLIC_URL_LIFETIME),
        });
        webhooks.spawn(Arc::downgrade(&shared), events_rx);
        seed::apply(&shared.store, options.seed).await?;
        let board = Self {
            shared,
            control_addr: None,
        };
        board.listen().await?;
        match options.control_listen {
            Some(addr) => {
                let control_addr = board.serve_control(addr).await?;
                Ok(Self {
                    control_addr: Some(control_addr),
                    ..board
                })
            }
            None => Ok(board),
        }
    }

    async fn listen(&self) -> Result<(), LocalBoardError> {
        let mut control = self.shared.server.lock().await;
        if control.task.is_some() {
            return Ok(());
        }
        let listener = tokio::net::TcpListener::bind(control.addr)
            .await
            .map_err(|source| LocalBoardError::Listen {
                addr: control.addr,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| LocalBoardError::Listen {
                addr: control.addr,
                source,
            })?;
        // Later restarts (after a "down" fault) reuse the same port.
        control.addr = addr;
        if let Ok(mut base) = self.shared.base_url.lock() {
            *base = format!("http://{addr}");
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        let router = Router::new()
            .route("/v2", post(graphql_endpoint))
            .route(
                "/v2/file",
                post(file_endpoint).layer(axum::extract::DefaultBodyLimit::max(
                    // Room for the largest file monday takes and the other parts.
                    store::MAX_FILE_BYTES as usize + 1024 * 1024,
                )),
            )
            .route("/files/{asset}/{token}", get(files::download))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(self.shared.clone());
        control.stop = Some(stop_tx);
        control.task = Some(tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "local board server stopped");
            }
        }));
        Ok(())
    }

    /// The control API: faults and counters over HTTP, for a board running as its own process.
    async fn serve_control(&self, addr: SocketAddr) -> Result<SocketAddr, LocalBoardError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| LocalBoardError::Listen { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| LocalBoardError::Listen { addr, source })?;
        let router = Router::new()
            .route("/faults", get(control_faults).put(control_set_faults))
            .route("/limits", get(control_limits).put(control_set_limits))
            .route("/day", post(control_day))
            .route("/team", post(control_team))
            .route("/stats", get(control_stats))
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "local board control API stopped");
            }
        });
        Ok(bound)
    }

    /// The control API's base URL, when one is served.
    pub fn control_url(&self) -> Option<String> {
        self.control_addr.map(|addr| format!("http://{addr}"))
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get("authorization")
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        bool::from(presented.ct_eq(self.shared.token.expose().as_bytes()))
    }

    async fn stop_listening(&self) {
        let mut control = self.shared.server.lock().await;
        if let Some(stop) = control.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = control.task.take() {
            // Graceful shutdown waits for open requests; do not let a stuck one hold us.
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// The GraphQL endpoint, monday's `https://api.monday.com/v2` equivalent.
    pub async fn url(&self) -> String {
        format!("http://{}/v2", self.shared.server.lock().await.addr)
    }

    pub fn token(&self) -> Token {
        self.shared.token.clone()
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Creates the ticket board (the seed's columns, no items) unless it exists.
    pub async fn create_ticket_board(&self) -> Result<(), store::BoardError> {
        seed::apply(&self.shared.store, Seed::Empty).await
    }

    pub fn board_id(&self) -> u64 {
        LOCAL_BOARD_ID.parse().unwrap_or_default()
    }

    pub fn faults(&self) -> Faults {
        self.shared
            .faults
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default()
    }

    /// Switches faults on or off without restarting; `Down` closes the listener.
    pub async fn set_faults(&self, faults: Faults) -> Result<(), LocalBoardError> {
        let down = faults.failure == Some(Failure::Down);
        if let Ok(mut current) = self.shared.faults.lock() {
            *current = faults;
        }
        self.shared.fault_seen.store(0, Ordering::Relaxed);
        if down {
            self.stop_listening().await;
            Ok(())
        } else {
            self.listen().await
        }
    }

    pub async fn clear_faults(&self) -> Result<(), LocalBoardError> {
        self.set_faults(Faults::default()).await
    }

    /// A fresh public link to file `asset_id`, as `assets { public_url }` gives one (the team
    /// console links the team's view of a file with it).
    pub fn public_file_url(&self, asset_id: u64) -> String {
        self.shared.public_file_url(asset_id)
    }

    /// Sets how long files' public links work from now on (monday: an hour).
    pub fn set_public_url_lifetime(&self, lifetime: Duration) {
        self.shared.set_public_url_lifetime(lifetime);
    }

    pub fn stats(&self) -> BoardStats {
        let limits = self.shared.limits();
        BoardStats {
            requests: self.shared.requests.load(Ordering::Relaxed),
            items_returned: self.shared.items_returned.load(Ordering::Relaxed),
            webhooks_delivered: self.shared.webhooks.delivered(),
            webhook_failed_attempts: self.shared.webhooks.failed_attempts(),
            limited: self.shared.limited.load(Ordering::Relaxed),
            daily_call_tenths: self
                .shared
                .counters
                .lock()
                .map(|mut c| c.daily_tenths(&limits))
                .unwrap_or_default(),
            max_in_flight: self.shared.max_in_flight.load(Ordering::Relaxed),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.shared.limits()
    }

    /// Switches the limits while the board runs (a plan's, or a test's shorter minute).
    pub fn set_limits(&self, limits: Limits) {
        if let Ok(mut budget) = self.shared.budget.lock() {
            budget.per_minute = limits.complexity_per_minute;
        }
        if let Ok(mut current) = self.shared.limits.lock() {
            *current = limits;
        }
    }

    /// A new day: the daily count starts from zero, as at midnight UTC.
    pub fn new_day(&self) {
        if let Ok(mut counters) = self.shared.counters.lock() {
            counters.new_day();
        }
    }

    /// Spends the rest of today's calls, so the next request meets the daily limit.
    pub fn spend_day(&self) {
        let limits = self.shared.limits();
        if let Ok(mut counters) = self.shared.counters.lock() {
            counters.spend_day(&limits);
        }
    }

    pub async fn shutdown(&self) {
        self.stop_listening().await;
    }
}

/// Opens the board's SQLite file in WAL mode (creating it when missing).
async fn open_database(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
}

/// The token is made once and kept with the board, so clients configured with it keep working
/// across restarts.
async fn control_faults(State(board): State<LocalBoard>, headers: HeaderMap) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(board.faults()).into_response()
}

async fn control_set_faults(
    State(board): State<LocalBoard>,
    headers: HeaderMap,
    faults: Result<axum::Json<Faults>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(axum::Json(faults)) = faults else {
        return (StatusCode::BAD_REQUEST, "expected a Faults JSON object").into_response();
    };
    match board.set_faults(faults).await {
        Ok(()) => axum::Json(board.faults()).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn control_limits(State(board): State<LocalBoard>, headers: HeaderMap) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(board.limits()).into_response()
}

async fn control_set_limits(
    State(board): State<LocalBoard>,
    headers: HeaderMap,
    limits: Result<axum::Json<Limits>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(axum::Json(limits)) = limits else {
        return (StatusCode::BAD_REQUEST, "expected a Limits JSON object").into_response();
    };
    board.set_limits(limits);
    axum::Json(board.limits()).into_response()
}

#[derive(Deserialize)]
struct DayChange {
    /// `true` spends the day's calls; `false` (or nothing) starts a new day.
    #[serde(default)]
    spend: bool,
}

async fn control_day(
    State(board): State<LocalBoard>,
    headers: HeaderMap,
    change: Option<axum::Json<DayChange>>,
) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if change.is_some_and(|axum::Json(c)| c.spend) {
        board.spend_day();
    } else {
        board.new_day();
    }
    axum::Json(board.stats()).into_response()
}

/// What the support team does in monday's web interface: it fires webhooks but is no API call,
/// so it counts against no limit. Load generators (the benchmark) act through it.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum TeamAction {
    CreateItem {
        name: String,
        #[serde(default)]
        column_values: Value,
    },
    ChangeColumns {
        item_id: u64,
        column_values: Value,
    },
    CreateUpdate {
        item_id: u64,
        body: String,
        #[serde(default)]
        parent_id: Option<u64>,
    },
}

#[derive(Deserialize)]
struct TeamRequest {
    #[serde(flatten)]
    action: TeamAction,
    /// The team member acting (the first team member by default).
    #[serde(default = "first_team_member")]
    user_id: u64,
}

fn first_team_member() -> u64 {
    store::API_USER_ID + 1
}

async fn control_team(
    State(board): State<LocalBoard>,
    headers: HeaderMap,
    request: Result<axum::Json<TeamRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(axum::Json(TeamRequest { action, user_id })) = request else {
        return (StatusCode::BAD_REQUEST, "expected a team action").into_response();
    };
    let board_id = board.board_id();
    let store = board.store();
    let done = match action {
        TeamAction::CreateItem {
            name,
            column_values,
        } => store
            .mutate(|txn| {
                txn.create_item(board_id, &name, Some(&column_values), false, user_id, None)
            })
            .await
            .map(|item| item.id),
        TeamAction::ChangeColumns {
            item_id,
            column_values,
        } => store
            .mutate(|txn| {
                txn.change_column_values(board_id, item_id, &column_values, false, user_id)
            })
            .await
            .map(|item| item.id),
        TeamAction::CreateUpdate {
            item_id,
            body,
            parent_id,
        } => store
            .mutate(|txn| match parent_id {
                Some(parent) => txn.create_reply(parent, &body, user_id, None),
                None => txn.create_update(item_id, &body, user_id, None),
            })
            .await
            .map(|update| update.id),
    };
    match done {
        Ok(id) => axum::Json(json!({ "id": id.to_string() })).into_response(),
        Err(error) => (StatusCode::UNPROCESSABLE_ENTITY, error.to_string()).into_response(),
    }
}

async fn control_stats(State(board): State<LocalBoard>, headers: HeaderMap) -> Response {
    if !board.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(board.stats()).into_response()
}

async fn load_or_create_token(db: &SqlitePool) -> Result<Token, sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS board_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )
    .execute(db)
    .await?;
    let fresh = format!("local-{}", uuid::Uuid::new_v4().simple());
    sqlx::query("INSERT OR IGNORE INTO board_meta (key, value) VALUES ('api_token', ?)")
        .bind(&fresh)
        .execute(db)
        .await?;
    let (token,): (String,) =
        sqlx::query_as("SELECT value FROM board_meta WHERE key = 'api_token'")
            .fetch_one(db)
            .await?;
    Ok(Token(token))
}

#[derive(Deserialize)]
struct GraphqlRequest {
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
}

/// A JSON answer with monday's response-level `extensions.request_id` (every answer carries
/// one since 2025-04).
fn json_response(status: StatusCode, mut body: Value) -> Response {
    if let Some(map) = body.as_object_mut() {
        let extensions = map.entry("extensions").or_insert_with(|| json!({}));
        if let Some(extensions) = extensions.as_object_mut() {
            extensions.insert("request_id".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
    }
    (status, axum::Json(body)).into_response()
}

/// A 4xx/5xx with monday's application-error extensions (`code`, `status_code`, `error_data`).
fn monday_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        json!({ "errors": [{
            "message": message,
            "extensions": { "code": code, "status_code": status.as_u16(), "error_data": {} },
        }] }),
    )
}

/// A limit's HTTP 429, in the shape monday's gateway sends (captured bodies in
/// `crates/monday/tests/fixtures/`): only `code` and `retry_in_seconds` in `extensions`, plus
/// `Retry-After`.
fn limit_error(code: &str, message: &str, retry_in_seconds: u64) -> Response {
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        json!({ "errors": [{
            "message": message,
            "extensions": { "code": code, "retry_in_seconds": retry_in_seconds },
        }] }),
    );
    if let Ok(value) = HeaderValue::from_str(&retry_in_seconds.to_string()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

fn minute_limit(retry_in_seconds: u64) -> Response {
    limit_error(
        "MINUTE_RATE_LIMIT_EXCEEDED",
        "Minute rate limit exceeded",
        retry_in_seconds,
    )
}

fn daily_limit(retry_in_seconds: u64) -> Response {
    limit_error(
        "DAILY_LIMIT_EXCEEDED",
        "Daily limit exceeded",
        retry_in_seconds,
    )
}

fn concurrency_limit(retry_in_seconds: u64) -> Response {
    limit_error(
        "MAX_CONCURRENCY_EXCEEDED",
        "Too many concurrent requests",
        retry_in_seconds,
    )
}

fn complexity_exhausted(retry_in_seconds: i64) -> Response {
    limit_error(
        "COMPLEXITY_BUDGET_EXHAUSTED",
        "Complexity budget exhausted",
        retry_in_seconds.max(1) as u64,
    )
}

/// The subgraph throttle as captured: HTTP 200, each root field null, `tooManyRequests` with
/// `status_code` 400 and no wait. The request is not carried out.
fn subgraph_throttle(root_fields: &[String]) -> Response {
    let data: Map<String, Value> = root_fields
        .iter()
        .map(|field| (field.clone(), Value::Null))
        .collect();
    let path = root_fields.first().cloned().unwrap_or_default();
    json_response(
        StatusCode::OK,
        json!({
            "data": data,
            "errors": [{
                "message": "Rate limit exceeded for board-columns",
                "path": [path],
                "extensions": { "code": "tooManyRequests", "status_code": 400, "service": "data-structure" },
            }],
        }),
    )
}

/// A mutation's answer turned into a partial success: one field inside its result is null and a
/// throttle error points at it, as GraphQL answers when a field of a result fails.
fn partial_success(mut response: Value) -> Value {
    let Some(data) = response.get_mut("data").and_then(Value::as_object_mut) else {
        return response;
    };
    let Some((root, result)) = data
        .iter_mut()
        .find(|(_, v)| v.is_object())
        .map(|(k, v)| (k.clone(), v))
    else {
        return response;
    };
    let Some(result) = result.as_object_mut() else {
        return response;
    };
    let field = result
        .iter()
        .find(|(k, v)| (v.is_object() || v.is_array()) && k.as_str() != "id")
        .or_else(|| result.iter().find(|(k, _)| k.as_str() != "id"))
        .map(|(k, _)| k.clone());
    let Some(field) = field else {
        return response;
    };
    result.insert(field.clone(), Value::Null);
    let error = json!({
        "message": "Rate limit already blocked for board-columns-errors",
        "path": [root, field],
        "extensions": { "code": "tooManyRequests", "status_code": 400, "service": "data-structure" },
    });
    match response.get_mut("errors").and_then(Value::as_array_mut) {
        Some(errors) => errors.push(error),
        None => response["errors"] = json!([error]),
    }
    response
}

/// Counts a request in flight for the concurrency limit, until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> (Self, u32) {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::Relaxed);
        (Self(shared), now)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `POST /v2`: a GraphQL request as JSON.
async fn graphql_endpoint(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_request(&shared, &headers, async move {
        serde_json::from_slice::<GraphqlRequest>(&body)
            .map(|request| (request, graphql::Uploads::default()))
            .map_err(|e| {
                monday_error(
                    StatusCode::BAD_REQUEST,
                    "JsonParseException",
                    &format!("the request body is not valid JSON: {e}"),
                )
            })
    })
    .await
}

/// `POST /v2/file`: a GraphQL request with files, as `multipart/form-data` (see [`files`]).
async fn file_endpoint(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    serve_request(&shared, &headers, async move {
        let multipart = multipart.map_err(|rejection| {
            monday_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestException",
                &format!(
                    "send the request as multipart/form-data: {}",
                    rejection.body_text()
                ),
            )
        })?;
        files::read_request(multipart).await
    })
    .await
}

/// What every API request goes through: the token, monday's limits and injected faults, then
/// the request itself (read by `read`, after the checks, as monday reads a body it admitted).
async fn serve_request(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    read: impl std::future::Future<Output = Result<(GraphqlRequest, graphql::Uploads), Response>>,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let (_in_flight, concurrent) = InFlight::enter(shared);
    let latency = shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let presented = headers
        .get("authorization")
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let expected = shared.token.expose().as_bytes();
    if !bool::from(presented.ct_eq(expected)) {
        return monday_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Not Authenticated",
        );
    }

    let limits = shared.limits();
    let limited = |response: Response| {
        shared.limited.fetch_add(1, Ordering::Relaxed);
        response
    };
    if concurrent > limits.concurrency {
        if let Ok(mut counters) = shared.counters.lock() {
            counters.refused_elsewhere(&limits);
        }
        return limited(concurrency_limit(limits.concurrency_retry_in_seconds));
    }
    let admitted = shared
        .counters
        .lock()
        .map(|mut counters| counters.admit(&limits))
        .unwrap_or(Ok(()));
    match admitted {
        Ok(()) => {}
        Err(limits::Refusal::Minute { retry_in_seconds }) => {
            return limited(minute_limit(retry_in_seconds));
        }
        Err(limits::Refusal::Daily { retry_in_seconds }) => {
            return limited(daily_limit(retry_in_seconds));
        }
    }

    let (request, uploads) = match read.await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let variables: Map<String, Value> = match request.variables {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return monday_error(
                StatusCode::BAD_REQUEST,
                "InvalidVariablesException",
                "variables must be a JSON object",
            );
        }
    };
    let prepared = match graphql::prepare(&request.query, request.operation_name) {
        Ok(prepared) => prepared,
        Err(error_body) => return json_response(StatusCode::OK, error_body),
    };

    let injected = shared.take_failure(|f| f.applies(prepared.is_mutation));
    match injected {
        Some(Failure::RateLimited { retry_in_seconds }) => {
            return limited(minute_limit(retry_in_seconds));
        }
        Some(Failure::ConcurrencyExceeded { retry_in_seconds }) => {
            return limited(concurrency_limit(retry_in_seconds));
        }
        Some(Failure::DailyLimitExceeded { retry_in_seconds }) => {
            return limited(daily_limit(retry_in_seconds));
        }
        Some(Failure::ComplexityExhausted { retry_in_seconds }) => {
            return limited(complexity_exhausted(retry_in_seconds as i64));
        }
        Some(Failure::SubgraphThrottle) => {
            return limited(subgraph_throttle(&prepared.root_fields));
        }
        Some(Failure::ServerError) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
        }
        Some(Failure::MalformedJson) => {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                r#"{"data": {"boards": [{"items_page": "#,
            )
                .into_response();
        }
        _ => {}
    }

    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|_| prepared.is_mutation)
        .map(str::to_owned);
    let window = Duration::from_secs(limits.idempotency_window_seconds);
    if let Some(key) = &idempotency_key {
        let check = shared
            .idempotency
            .lock()
            .map(|mut cache| cache.begin(key, window))
            .unwrap_or(IdempotencyCheck::Proceed);
        match check {
            IdempotencyCheck::Proceed => {}
            IdempotencyCheck::Replay(body) => {
                let mut response = json_response(StatusCode::OK, body);
                response
                    .headers_mut()
                    .insert("idempotency-replayed", HeaderValue::from_static("true"));
                return response;
            }
            IdempotencyCheck::Conflict => {
                // monday's documented body, verbatim: no retry_in_seconds, only Retry-After.
                let mut response = json_response(
                    StatusCode::CONFLICT,
                    json!({ "errors": [{
                        "message": "A request with this idempotency key is currently being processed",
                        "extensions": { "code": "IDEMPOTENCY_CONFLICT" },
                    }] }),
                );
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
                return response;
            }
        }
    }

    let charged = shared
        .budget
        .lock()
        .map(|mut budget| budget.charge(prepared.cost))
        .unwrap_or(Err(60));
    let complexity = match charged {
        Ok(report) => report,
        Err(reset_in) => {
            if let (Some(key), Ok(mut cache)) = (&idempotency_key, shared.idempotency.lock()) {
                cache.finish(key, &json!({ "errors": [] }));
            }
            return limited(complexity_exhausted(reset_in));
        }
    };

    let response = graphql::execute(shared.clone(), prepared, variables, complexity, uploads).await;
    if let (Some(key), Ok(mut cache)) = (&idempotency_key, shared.idempotency.lock()) {
        cache.finish(key, &response);
    }
    match injected {
        // Done, and the answer lost: a retry within the idempotency window replays it.
        Some(Failure::LostResponse) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
        }
        Some(Failure::PartialSuccess) => {
            shared.limited.fetch_add(1, Ordering::Relaxed);
            return json_response(StatusCode::OK, partial_success(response));
        }
        _ => {}
    }
    let mut response = json_response(StatusCode::OK, response);
    if let Some(version) = headers.get("api-version") {
        response
            .headers_mut()
            .insert("api-version", version.clone());
    }
    response
}
