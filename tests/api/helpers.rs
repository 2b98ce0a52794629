//! Spawning the portal (and standalone local boards) for tests.

use std::path::PathBuf;
use std::sync::Arc;

use client_portal::server::board::TicketBoard;
use client_portal::server::config::{Config, Vars};
use client_portal::server::http::state::AppState;
use client_portal::startup::Application;
use monday_local::{LocalBoard, LocalBoardOptions};
use tokio::sync::oneshot;

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub fn sqlite_url(&self, name: &str) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join(name).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    /// Keeps cookies like a browser.
    pub client: reqwest::Client,
    pub data_dir: Arc<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub fn local_board(&self) -> &LocalBoard {
        self.state.local_board.as_ref().expect("local board mode")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The webhook route, with this portal's secret in it.
    pub fn webhook_url(&self) -> String {
        let secret = self
            .state
            .config
            .monday
            .webhook_secret
            .as_ref()
            .expect("a webhook secret");
        self.url(&format!("/webhooks/monday/{}", secret.expose()))
    }

    /// The body of `GET path` as `client` sees it.
    pub async fn page_text(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    }

    /// Submits the new-ticket form's server function as `client`.
    pub async fn create_ticket(
        &self,
        client: &reqwest::Client,
        title: &str,
        description: &str,
        priority: &str,
    ) -> reqwest::Response {
        self.call(
            client,
            server_fn::<client_portal::api::tickets::CreateTicket>(),
            &[
                ("title", title),
                ("description", description),
                ("priority", priority),
            ],
        )
        .await
    }

    /// Outbox rows in `state` (`waiting`, `delivered`, `failed`).
    pub async fn outbox_count(&self, state: &str) -> i64 {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE state = ?")
            .bind(state)
            .fetch_one(&self.state.db)
            .await
            .expect("the outbox");
        count
    }

    /// Waits until nothing waits in the outbox.
    pub async fn outbox_drained(&self, within: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.outbox_count("waiting").await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the outbox did not drain: {} waiting",
                self.outbox_count("waiting").await
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// How many items of each name the local board holds (archived and deleted ones too).
    pub fn board_titles(&self) -> std::collections::HashMap<String, usize> {
        let snap = self.local_board().store().snapshot();
        let mut counts = std::collections::HashMap::new();
        for item in snap.items.values() {
            *counts.entry(item.name.clone()).or_default() += 1;
        }
        counts
    }

    /// Makes the local board refuse connections, as when monday is down.
    pub async fn take_monday_down(&self) {
        use monday_local::{Failure, Faults};
        self.local_board()
            .set_faults(Faults {
                failure: Some(Failure::Down),
                ..Faults::default()
            })
            .await
            .expect("faults switched");
    }
}

impl TestApp {
    /// Stops the server and waits until it has let go of its port and databases.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn test_config(data_dir: &TempDir, extra: &[(&str, &str)]) -> Config {
    let data = data_dir.0.display().to_string();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("DATA_DIR", &data),
        ("LOCAL_BOARD_WEBHOOK_RETRY_SECONDS", "1"),
        ("MONDAY_MAX_RETRY_WAIT_SECONDS", "2"),
    ];
    pairs.extend_from_slice(extra);
    Config::from_vars(&Vars::from_pairs(pairs)).expect("test configuration is valid")
}

/// Write limits high enough that a test's own traffic never meets them.
pub const NO_WRITE_LIMITS: &[(&str, &str)] = &[
    ("LIMIT_TICKETS_PER_HOUR", "100000"),
    ("LIMIT_REPLIES_PER_HOUR", "100000"),
    ("LIMIT_WRITES_PER_HOUR_PER_ADDRESS", "1000000"),
];

/// Starts a portal on its embedded local board.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_in(Arc::new(TempDir::new("portal-test")), extra).await
}

/// Starts a portal on an existing data directory (a restart).
pub async fn spawn_app_in(data_dir: Arc<TempDir>, extra: &[(&str, &str)]) -> TestApp {
    let config = test_config(&data_dir, extra);
    let app = Application::build(config).await.expect("the app builds");
    let base_url = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base_url,
        state,
        client,
        data_dir,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Adds `count` generated tickets for `portal` to a local board's ticket board.
pub async fn add_generated_tickets(board: &LocalBoard, portal: &str, count: usize) {
    let board_id = board.board_id();
    board
        .store()
        .mutate(|txn| {
            for n in 0..count {
                let (name, values) = monday_local::generated_ticket(portal, n);
                txn.create_item(
                    board_id,
                    &name,
                    Some(&values),
                    false,
                    monday_local::store::API_USER_ID,
                    None,
                )?;
            }
            Ok(())
        })
        .await
        .expect("tickets added");
}

/// A local board on its own, as a monday double, with an empty ticket board.
pub struct TestBoard {
    pub board: LocalBoard,
    pub dir: TempDir,
}

pub async fn spawn_board() -> TestBoard {
    let dir = TempDir::new("board-test");
    let mut options = LocalBoardOptions::new(dir.sqlite_url("board.db"));
    options.seed = monday_local::Seed::Nothing;
    options.webhook_retry_interval = std::time::Duration::from_millis(200);
    let board = LocalBoard::start(options)
        .await
        .expect("local board starts");
    board.create_ticket_board().await.expect("ticket board");
    TestBoard { board, dir }
}

impl TestBoard {
    /// A production monday client pointed at this board.
    pub async fn client(&self, extra: &[(&str, &str)]) -> TicketBoard {
        let config = self.config(extra).await;
        let token = config.monday.token.clone().expect("token");
        TicketBoard::new(
            &config.monday,
            config.monday.api_url.clone(),
            monday::Token::new(token.expose()),
        )
        .expect("client")
    }

    pub async fn config(&self, extra: &[(&str, &str)]) -> Config {
        let url = self.board.url().await;
        let token = self.board.token();
        let data = self.dir.0.display().to_string();
        let board_id = self.board.board_id().to_string();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("MONDAY_API_URL", &url),
            ("MONDAY_API_TOKEN", token.expose()),
            ("MONDAY_BOARD_ID", &board_id),
            ("DATA_DIR", &data),
            ("MONDAY_MAX_RETRY_WAIT_SECONDS", "3"),
            ("MONDAY_TIMEOUT_SECONDS", "2"),
        ];
        pairs.extend_from_slice(extra);
        Config::from_vars(&Vars::from_pairs(pairs)).expect("valid")
    }
}

/// A browser-like client: keeps cookies, does not follow redirects, sends same-origin headers
/// as a browser would for a same-site form post.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The URL of a server function.
pub fn server_fn<F: leptos::server_fn::ServerFn>() -> &'static str {
    F::PATH
}

impl TestApp {
    /// Creates the portal and member when missing; returns a fresh magic link's token.
    pub async fn link_for(&self, portal: &str, email: &str) -> String {
        let auth = &self.state.auth;
        auth.upsert_portal(portal, None).await.expect("portal");
        auth.upsert_member(portal, email, None)
            .await
            .expect("member");
        let link = auth.create_link(portal, email).await.expect("link");
        link.split("token=")
            .nth(1)
            .expect("token in link")
            .to_owned()
    }

    /// Posts a server function's form-encoded arguments with `client`.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("origin", &self.base_url)
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// A client signed in as `email` of `portal` through a real magic link.
    pub async fn signed_in(&self, portal: &str, email: &str) -> reqwest::Client {
        use client_portal::api::auth::ContinueSignIn;
        let token = self.link_for(portal, email).await;
        let client = browser();
        let response = self
            .call(
                &client,
                server_fn::<ContinueSignIn>(),
                &[("portal_id", portal), ("token", &token)],
            )
            .await;
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{}",
            response.status()
        );
        client
    }
}

impl TestApp {
    /// Signs in through a real magic link and returns the session cookie (`name=value`).
    pub async fn session_cookie(&self, portal: &str, email: &str) -> String {
        use client_portal::api::auth::ContinueSignIn;
        let token = self.link_for(portal, email).await;
        let response = self
            .call(
                &browser(),
                server_fn::<ContinueSignIn>(),
                &[("portal_id", portal), ("token", &token)],
            )
            .await;
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("portal_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }

    /// Opens the live socket as a browser would, with `cookie` and this origin.
    pub async fn live_socket(
        &self,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<LiveSocket, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/live", self.base_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request()?;
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().unwrap());
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(LiveSocket(socket))
    }

    /// Waits until the local board's webhooks point at this portal.
    pub async fn webhooks_registered(&self) {
        for _ in 0..200 {
            if self.local_board().store().snapshot().webhooks.len() >= 9 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the portal did not register its webhooks");
    }
}

pub struct LiveSocket(
    pub tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl LiveSocket {
    /// The next event that is not a heartbeat, or `None` if none comes within `wait`.
    pub async fn next_event(
        &mut self,
        wait: std::time::Duration,
    ) -> Option<client_portal::model::LiveEvent> {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .ok()??
                .ok()?;
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                let event: client_portal::model::LiveEvent =
                    serde_json::from_str(&text).expect("a live event");
                if event != client_portal::model::LiveEvent::Heartbeat {
                    return Some(event);
                }
            }
        }
    }

    /// Whether the server closes the socket within `wait`.
    pub async fn closed_within(&mut self, wait: std::time::Duration) -> bool {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.0.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
