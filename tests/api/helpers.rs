//! Spawning the portal (and standalone local boards) for tests.

use std::path::PathBuf;
use std::sync::Arc;

use client_portal::server::board::TicketBoard;
use client_portal::server::config::{Config, Vars};
use client_portal::server::http::state::AppState;
use client_portal::startup::Application;
use monday_local::{LocalBoard, LocalBoardOptions};
use tokio::sync::oneshot;

/// Where this test binary's server logs go: `./scripts/test` scans every file here, after the
/// whole suite, for sign-in tokens and session secrets that must never reach a log line.
pub fn test_log_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-logs")
}

/// The log lines the portals of this test binary have written so far (all tests together).
pub fn captured_log() -> String {
    log_memory()
        .lock()
        .map(|log| log.clone())
        .unwrap_or_default()
}

fn log_memory() -> &'static std::sync::Mutex<String> {
    static MEMORY: std::sync::OnceLock<std::sync::Mutex<String>> = std::sync::OnceLock::new();
    MEMORY.get_or_init(Default::default)
}

/// A tracing writer that appends to the suite's log file and keeps a copy in memory.
#[derive(Clone)]
struct CaptureWriter {
    file: Arc<std::sync::Mutex<std::fs::File>>,
}

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut memory) = log_memory().lock() {
            memory.push_str(&String::from_utf8_lossy(buf));
        }
        if let Ok(mut file) = self.file.lock() {
            file.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every portal's log of this test binary through [`CaptureWriter`] (once per process).
pub fn capture_logs() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let dir = test_log_dir();
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("api-{}.log", std::process::id()));
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        else {
            return;
        };
        let writer = CaptureWriter {
            file: Arc::new(std::sync::Mutex::new(file)),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,sqlx=warn,tower_sessions=warn",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
    });
}

/// Notes a sign-in token a test obtained, so the log scan knows exactly what to look for.
pub fn record_issued_token(token: &str) {
    use std::io::Write as _;
    let dir = test_log_dir();
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("issued-tokens.txt"))
    {
        // One write per line: tests record tokens in parallel, and `writeln!` may write the
        // token and its newline separately, interleaving two tests' lines (an empty line would
        // match every log line).
        let _ = file.write_all(format!("{token}\n").as_bytes());
    }
}

/// The longest any test request may take: a server that never answers fails its test with a
/// place to look, instead of hanging the suite.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A client with no cookies and the request timeout.
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

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
        let (count,): (i64,) = client_portal::on_db!(&self.state.db, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE state = $1",
        )
        .bind(state)
        .fetch_one(pool)
        .await)
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

/// The PostgreSQL server the suite runs against a second time (`./scripts/test` starts a
/// throw-away cluster and sets this); unset, the suite runs on SQLite.
pub fn test_postgres() -> Option<String> {
    std::env::var("PORTAL_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The portal database for a test's data directory: on PostgreSQL a database of its own,
/// created on first use and remembered in the directory (a restart finds it again); on SQLite,
/// the default file in the directory.
pub async fn test_database_url(data_dir: &TempDir) -> Option<String> {
    let server = test_postgres()?;
    let remembered = data_dir.0.join("postgres-database-url");
    if let Ok(url) = std::fs::read_to_string(&remembered) {
        return Some(url);
    }
    let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&server)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("a database for this test");
    admin.close().await;
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    let url = format!("{base}/{name}");
    std::fs::write(&remembered, &url).expect("remembered");
    Some(url)
}

/// The portal's database for a test that uses storage without a whole portal.
pub async fn test_database(data_dir: &TempDir) -> client_portal::server::db::Db {
    let url = match test_database_url(data_dir).await {
        Some(url) => url,
        None => data_dir.sqlite_url("portal.db"),
    };
    client_portal::server::db::Db::connect(&url)
        .await
        .expect("the test database opens")
}

pub async fn test_config(data_dir: &TempDir, extra: &[(&str, &str)]) -> Config {
    let data = data_dir.0.display().to_string();
    let database = test_database_url(data_dir).await;
    let mut pairs: Vec<(&str, &str)> = vec![
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("DATA_DIR", &data),
        ("LOCAL_BOARD_WEBHOOK_RETRY_SECONDS", "1"),
        ("MONDAY_MAX_RETRY_WAIT_SECONDS", "2"),
    ];
    if let Some(url) = &database {
        pairs.push(("DATABASE_URL", url));
    }
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
    capture_logs();
    let config = test_config(&data_dir, extra).await;
    let app = Application::build(config).await.expect("the app builds");
    let base_url = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
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
        .timeout(REQUEST_TIMEOUT)
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
        auth.upsert_member(portal, email, None, None)
            .await
            .expect("member");
        let link = auth.create_link(portal, email).await.expect("link");
        let token = link
            .split("token=")
            .nth(1)
            .expect("token in link")
            .to_owned();
        record_issued_token(&token);
        token
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
        sign_in_at(&self.base_url, self, portal, email).await
    }
}

impl TestApp {
    /// What `member` may see, as a request of theirs would find it; someone not yet in the
    /// portal joins it first (as a `member`, who sees the whole portal).
    pub async fn access_of(
        &self,
        member: &client_portal::server::auth::Member,
    ) -> client_portal::server::auth::Access {
        let auth = &self.state.auth;
        if !auth.is_member(member).await.unwrap() {
            auth.upsert_portal(&member.portal_id, None).await.unwrap();
            auth.upsert_member(&member.portal_id, &member.email, None, None)
                .await
                .unwrap();
        }
        auth.access(member.clone())
            .await
            .unwrap()
            .expect("a member")
    }

    /// The ticket of `portal` with the lowest id, read through the ticket service.
    pub async fn first_ticket_of(&self, portal: &str) -> client_portal::model::Ticket {
        let member = client_portal::server::auth::Member {
            email: "x@y.test".into(),
            portal_id: portal.into(),
        };
        let access = self.access_of(&member).await;
        let mut tickets = self.state.tickets.list(&access).await.unwrap().value;
        tickets.sort_by(|a, b| a.id.cmp(&b.id));
        tickets.into_iter().next().unwrap()
    }

    /// Sets a ticket's status on the board as the team would (the board fires the webhook).
    pub async fn team_sets_status(&self, item_id: &str, label: &str) {
        team_sets_status(self.local_board(), item_id, label).await;
    }

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
        session_cookie_in(&response)
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

    /// Waits until the local board's webhooks point at this portal (and the registration's own
    /// monday calls are over, for tests that count calls).
    pub async fn webhooks_registered(&self) {
        for _ in 0..200 {
            if self.local_board().store().snapshot().webhooks.len() >= 9 {
                // Settled once no request reached the board for 100 ms (at most 5 s: a test
                // with its outbox retrying never settles, and does not count calls).
                let mut requests = self.local_board().stats().requests;
                for _ in 0..50 {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    let now = self.local_board().stats().requests;
                    if now == requests {
                        return;
                    }
                    requests = now;
                }
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
        self.next_message(wait).await.map(|message| message.event)
    }

    /// The next message that is not a heartbeat (the event and what comes with it).
    pub async fn next_message(
        &mut self,
        wait: std::time::Duration,
    ) -> Option<client_portal::model::LiveMessage> {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .ok()??
                .ok()?;
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                let message: client_portal::model::LiveMessage =
                    serde_json::from_str(&text).expect("a live message");
                if message.event != client_portal::model::LiveEvent::Heartbeat {
                    return Some(message);
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

/// A minimal SMTP server on loopback: accepts every message and hands over its DATA.
pub async fn smtp_sink() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (url, received, _) = smtp_server().await;
    (url, received)
}

/// [`smtp_sink`] that can refuse: while the flag is set it answers every `MAIL FROM` with
/// `451` (try again later), as a server that is overloaded or greylisting does.
pub async fn smtp_server() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<String>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (messages, received) = tokio::sync::mpsc::unbounded_channel();
    let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refuse = refusing.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let messages = messages.clone();
            let refuse = refuse.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            let _ = messages.send(data.take().unwrap_or_default());
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("DATA") {
                        data = Some(String::new());
                        b"354 go ahead\r\n"
                    } else if command.starts_with("MAIL FROM") && refuse.load(Ordering::SeqCst) {
                        b"451 4.3.0 try again later\r\n"
                    } else if command.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (url, received, refusing)
}

/// A free port on loopback, for a server whose address must be known before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Debian's nginx in front of portal instances, as a reverse proxy (and, with several
/// upstreams, a balancer) on loopback, from a throw-away prefix; stopped when dropped.
pub struct Nginx {
    pub url: String,
    child: tokio::process::Child,
    _dir: TempDir,
}

impl Nginx {
    /// Listens on `port` and forwards to `upstreams` the way the README's production
    /// configuration does: the Host kept, the client added to `X-Forwarded-For`, WebSockets
    /// upgraded.
    pub async fn start(port: u16, upstreams: &[std::net::SocketAddr]) -> Nginx {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .expect("nginx is missing: ./scripts/test installs it (apt-get install nginx)");
        let dir = TempDir::new("nginx");
        let prefix = dir.0.display().to_string();
        let servers: String = upstreams
            .iter()
            .map(|addr| format!("    server {addr};\n"))
            .collect();
        let config = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream portal {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://portal;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
    }}
  }}
}}
"#
        );
        let path = dir.0.join("nginx.conf");
        std::fs::write(&path, config).expect("nginx.conf written");
        let child = tokio::process::Command::new(binary)
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(&dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Nginx {
                    url,
                    child,
                    _dir: dir,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(dir.0.join("error.log")).unwrap_or_default();
        panic!("nginx did not start listening on {port}: {log}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The portal binary as its own process (one a test can SIGKILL), configured by `env` alone;
/// its log goes to [`test_log_dir`] like every server log of the suite.
pub struct PortalProcess {
    pub base_url: String,
    child: tokio::process::Child,
    _dir: TempDir,
}

impl PortalProcess {
    pub async fn start(name: &str, env: &[(&str, &str)]) -> PortalProcess {
        let port = free_port();
        let dir = TempDir::new(name);
        let log_path = test_log_dir().join(format!("{name}-{}.log", uuid::Uuid::new_v4().simple()));
        let log = std::fs::File::create(&log_path).expect("a log file");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_client-portal"));
        command
            // Away from the repository, so no `.env` of a developer's is read.
            .current_dir(&dir.0)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("DATA_DIR", dir.0.display().to_string())
            .env("RUST_LOG", "info")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("the portal binary starts");
        let base_url = format!("http://127.0.0.1:{port}");
        let client = plain_client();
        for _ in 0..300 {
            if let Ok(response) = client.get(format!("{base_url}/healthz")).send().await
                && response.status().is_success()
            {
                return PortalProcess {
                    base_url,
                    child,
                    _dir: dir,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!("the portal process did not answer /healthz: {log}");
    }

    /// SIGKILL: no shutdown, no chance to release anything it holds.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL sent");
        let _ = self.child.wait().await;
    }
}

/// Posts a server function's form to the portal at `base_url` (any instance) as `client`.
pub async fn call_at(
    base_url: &str,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{base_url}{path}"))
        .header("origin", base_url)
        .form(form)
        .send()
        .await
        .expect("request")
}

/// A client signed in at the instance at `base_url` with a link `links` issued (instances
/// sharing a database honour each other's links and sessions).
pub async fn sign_in_at(
    base_url: &str,
    links: &TestApp,
    portal: &str,
    email: &str,
) -> reqwest::Client {
    use client_portal::api::auth::ContinueSignIn;
    let token = links.link_for(portal, email).await;
    let client = browser();
    let response = call_at(
        base_url,
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

/// A client that sends `cookie` (`name=value`) with every request and follows no redirect.
pub fn client_with_cookie(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "cookie",
        cookie.parse().expect("a cookie that fits in a header"),
    );
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// An item of `portal` on `app`'s local board raised by `email` (the client email column), with
/// `status`, as the team would create it; waits for the portal to hear of it (the creation's
/// webhook reads the item). Returns its id.
pub async fn item_raised_by(
    app: &TestApp,
    portal: &str,
    email: &str,
    title: &str,
    status: &str,
) -> u64 {
    let board = app.local_board();
    let board_id = board.board_id();
    let item = board
        .store()
        .mutate(|txn| {
            txn.create_item(
                board_id,
                title,
                Some(&serde_json::json!({
                    "portal_id": portal,
                    "status": {"label": status},
                    "priority": {"label": "Low"},
                    "client_email": {"email": email, "text": email},
                })),
                false,
                monday_local::store::API_USER_ID,
                None,
            )
        })
        .await
        .expect("the item is created");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    item.id
}

/// Sets a ticket's status on `board` as the team would (the board fires the webhook).
pub async fn team_sets_status(board: &LocalBoard, item_id: &str, label: &str) {
    let board_id = board.board_id();
    let item_id: u64 = item_id.parse().expect("an item id");
    board
        .store()
        .mutate(|txn| {
            txn.change_column_values(
                board_id,
                item_id,
                &serde_json::json!({"status": {"label": label}}),
                false,
                2,
            )
        })
        .await
        .expect("status changed");
}

/// The session cookie (`name=value`) a sign-in answer set.
pub fn session_cookie_in(response: &reqwest::Response) -> String {
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

/// A browser-like client whose connections come from `ip` (any 127.x address is this
/// machine), so a test can be several clients, or a client behind a proxy, at once.
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .local_address(ip.parse::<std::net::IpAddr>().expect("an address"))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    /// A REST API token for `email` of `portal`: a magic link exchanged at `/api/v1/auth`.
    pub async fn jwt_for(&self, portal: &str, email: &str) -> String {
        let token = self.link_for(portal, email).await;
        let auth: serde_json::Value = plain_client()
            .get(self.url(&format!("/api/v1/auth/{portal}/{token}")))
            .send()
            .await
            .expect("exchange")
            .json()
            .await
            .expect("JSON");
        auth["access_token"].as_str().expect("a token").to_owned()
    }
}
