//! The portal's benchmark: a program that prints a table, run against the local board on
//! loopback. `./scripts/bench` builds everything in release mode and runs it.
//!
//! `bench` (no arguments) starts its own board (`monday-local --seed bench:50x40`) and portal
//! (the release binaries beside this one) on a fresh data directory, signs in a member of each of
//! the 50 portals (links from `client-portal invite`), then measures dashboard loads, the REST list,
//! ticket creation through the outbox, webhook-to-socket latency, memory per idle socket and the
//! browser bundle, and compares with the original design's request path (see [`yardstick`]).
//! `bench http --url ...` loads any URL the same way, to measure another implementation (such
//! as the original FastAPI backend itself) side by side.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use client_portal::api::auth::ContinueSignIn;
use client_portal::model::{
    DashboardUpdate, LiveEvent, LiveMessage, TicketQuery, dashboard_update,
};
use futures::StreamExt;
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod calls;
mod cluster;
mod files;
mod flood;
mod languages;
mod notify;
mod pages;
mod yardstick;

#[derive(Parser)]
#[command(about = "Benchmarks the client portal and prints a table")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seconds each throughput measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients for page and REST loads.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    #[arg(long, default_value_t = 50)]
    portals: usize,
    #[arg(long, default_value_t = 40)]
    tickets: usize,
    /// Sockets listening while webhooks are fired.
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Webhooks fired for the latency measurement.
    #[arg(long, default_value_t = 300)]
    webhooks: usize,
    /// Idle sockets for the memory measurement.
    #[arg(long, default_value_t = 10_000)]
    idle_sockets: usize,
    /// Where the `client-portal` and `monday-local` binaries are (default: beside this program).
    #[arg(long)]
    binaries: Option<PathBuf>,
    /// A PostgreSQL server (`postgres://user@host:port/db`) to measure two instances behind
    /// nginx on, in a database of its own (`./scripts/bench` starts a throw-away one).
    #[arg(long)]
    postgres: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Load any URL with GET at `--clients` concurrency, e.g. another backend's ticket list.
    Http {
        #[arg(long)]
        url: String,
        /// Extra request headers, `Name: value`; repeatable.
        #[arg(long = "header")]
        headers: Vec<String>,
    },
    /// Only the page comparison: `/healthz`, the dashboard, a ticket page and the REST list, each
    /// as a multiple of `/healthz`'s cost (what tuning the request path needs, in a minute).
    Pages,
    /// Only the flood: unauthenticated requests while members load their dashboards.
    Flood,
    /// Only attachments: 20 clients uploading 5 MB files at once, and the portal's memory while
    /// one 100 MB file streams in and on to monday.
    Files,
    /// The notification queue in this process: changes recorded and mails sent per second, and
    /// what waiting notifications hold.
    Notify {
        #[arg(long, default_value_t = 1000)]
        changes: usize,
        #[arg(long, default_value_t = 200)]
        tickets: usize,
    },
}

struct Stats {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    /// `1234 req/s, p50 …, p99 …, 0 errors`: how every throughput row begins.
    fn summary(&self) -> String {
        format!(
            "{:.0} req/s, p50 {}, p99 {}, {} errors",
            self.rps(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            self.errors
        )
    }
}

fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs `request` from `clients` workers for `seconds` and collects latencies.
async fn load<F, Fut>(clients: usize, seconds: u64, request: F) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let request = request.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if request(worker, n).await {
                        latencies.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    gather(workers, &stop, started, seconds).await
}

/// A worker's latencies of good answers and its count of bad ones.
type WorkerResult = (Vec<Duration>, u64);

/// Lets `workers` run for `seconds` from `started`, stops them and adds up what they measured.
async fn gather(
    workers: Vec<tokio::task::JoinHandle<WorkerResult>>,
    stop: &AtomicBool,
    started: Instant,
    seconds: u64,
) -> Stats {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut stats = Stats {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for worker in workers {
        if let Ok((latencies, errors)) = worker.await {
            stats.latencies.extend(latencies);
            stats.errors += errors;
        }
    }
    stats.elapsed = started.elapsed();
    stats
}

/// Whether a response arrived with `status` and its whole body.
async fn answered(response: reqwest::Result<reqwest::Response>, status: u16) -> bool {
    match response {
        Ok(response) if response.status().as_u16() == status => response.bytes().await.is_ok(),
        _ => false,
    }
}

fn http_client(clients: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

async fn http_mode(args: &Args, url: &str, headers: &[String]) {
    let mut map = reqwest::header::HeaderMap::new();
    for header in headers {
        let Some((name, value)) = header.split_once(':') else {
            eprintln!("--header takes `Name: value`, got {header}");
            std::process::exit(2);
        };
        match (
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()),
            value.trim().parse(),
        ) {
            (Ok(name), Ok(value)) => {
                map.insert(name, value);
            }
            _ => {
                eprintln!("not a valid header: {header}");
                std::process::exit(2);
            }
        }
    }
    let client = http_client(args.clients);
    let target = url.to_owned();
    let url = Arc::new(url.to_owned());
    let map = Arc::new(map);
    let stats = load(args.clients, args.seconds, move |_, _| {
        let (client, url, map) = (client.clone(), url.clone(), map.clone());
        async move {
            answered(
                client
                    .get(url.as_str())
                    .headers((*map).clone())
                    .send()
                    .await,
                200,
            )
            .await
        }
    })
    .await;
    println!("| target | clients | requests/s | p50 | p99 | errors |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!(
        "| GET {target} | {} | {:.0} | {} | {} | {} |",
        args.clients,
        stats.rps(),
        ms(stats.percentile(0.5)),
        ms(stats.percentile(0.99)),
        stats.errors
    );
}

/// The board and the portal under test: a `monday-local` and a `client-portal` process (the
/// release binaries beside this one) on a fresh data directory, the portal talking to the board
/// as it would to monday: by URL and token.
struct Portal {
    board: tokio::process::Child,
    child: tokio::process::Child,
    url: String,
    pid: u32,
    data_dir: PathBuf,
    /// The board's control API and token.
    control: String,
    board_token: String,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.board.start_kill();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

const WEBHOOK_SECRET: &str = "bench-webhook-secret-0123456789";

/// What the portal's commands need: the board it talks to and where it is reached.
struct PortalEnv {
    data_dir: PathBuf,
    public_url: String,
    /// Where this instance listens, when it is not the public URL (behind a proxy).
    listen: Option<String>,
    /// `DATABASE_URL`, when not the data directory's SQLite file.
    database_url: Option<String>,
    board_url: String,
    board_token: String,
    board_id: String,
}

fn server_env(command: &mut tokio::process::Command, env: &PortalEnv) {
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", &env.data_dir)
        .env(
            "LEPTOS_SITE_ADDR",
            env.listen
                .as_deref()
                .unwrap_or(env.public_url.trim_start_matches("http://")),
        )
        .env("PORTAL_PUBLIC_URL", &env.public_url)
        .env("LEPTOS_OUTPUT_NAME", "client_portal")
        // As deployed: pages link the content-named files (`hash.txt` beside the binary).
        .env("LEPTOS_HASH_FILES", "true")
        .env("MONDAY_API_URL", &env.board_url)
        .env("MONDAY_API_TOKEN", &env.board_token)
        .env("MONDAY_BOARD_ID", &env.board_id)
        .env("MONDAY_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("METRICS", "on")
        .env("LIMIT_TICKETS_PER_HOUR", "100000000")
        .env("LIMIT_REPLIES_PER_HOUR", "100000000")
        .env("LIMIT_WRITES_PER_HOUR_PER_ADDRESS", "100000000")
        // Every benchmark socket comes from loopback, a thousand of them over 50 sessions: the
        // caps that stop one browser or address from hoarding sockets would refuse them.
        .env("LIMIT_LIVE_SOCKETS_PER_SESSION", "100000")
        .env("LIMIT_LIVE_SOCKETS_PER_ADDRESS", "100000")
        // The attachment rows upload a 100 MB file: the limit is raised for the benchmark.
        .env("ATTACHMENT_MAX_FILE_MB", "150")
        .env("ATTACHMENT_MAX_MESSAGE_MB", "150")
        .env("RUST_LOG", "warn,client_portal::startup=info");
    if let Some(url) = &env.database_url {
        command.env("DATABASE_URL", url);
        command.env("TRUSTED_PROXIES", "127.0.0.1");
    }
}

/// Starts `monday-local` with the benchmark's board and returns it with its URL, token and
/// board id, as it prints them.
async fn start_board(
    binary: &Path,
    data_dir: &Path,
    portals: usize,
    tickets: usize,
) -> (tokio::process::Child, HashMap<String, String>) {
    let mut child = tokio::process::Command::new(binary)
        .arg("--data")
        .arg(data_dir.join("board"))
        .args([
            "--seed",
            &format!("bench:{portals}x{tickets}"),
            "--webhook-retry-seconds",
            "5",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("monday-local starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = HashMap::new();
    while printed.len() < 4 {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if let Some((key, value)) = line.split_once('=') {
                    printed.insert(key.to_owned(), value.to_owned());
                }
            }
            _ => panic!("monday-local exited before listening"),
        }
    }
    (child, printed)
}

/// A free loopback port for the portal, so its public URL is known before it starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Runs one of the portal's commands and returns what it printed.
async fn portal_command(binary: &Path, env: &PortalEnv, args: &[&str]) -> String {
    let mut command = tokio::process::Command::new(binary);
    server_env(&mut command, env);
    let output = command.args(args).output().await.expect("the command runs");
    if !output.status.success() {
        panic!(
            "client-portal {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A sign-in token from `invite`, which prints the link last.
async fn invite(binary: &Path, env: &PortalEnv, portal: &str) -> String {
    let email = format!("client@{portal}.example");
    let printed = portal_command(
        binary,
        env,
        &["invite", "--portal", portal, "--email", &email],
    )
    .await;
    printed
        .lines()
        .last()
        .and_then(|link| link.rsplit("token=").next())
        .unwrap_or_default()
        .to_owned()
}

/// Starts `client-portal serve` and waits until it listens; returns it with its pid.
async fn serve(binary: &Path, env: &PortalEnv) -> (tokio::process::Child, u32) {
    let mut serve = tokio::process::Command::new(binary);
    server_env(&mut serve, env);
    let mut child = serve
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the portal starts");
    let pid = child.id().expect("a pid");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.contains("listening on http://") => break,
            Ok(Some(_)) => {}
            _ => panic!("the portal exited before listening"),
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, pid)
}

async fn start_portal(binaries: &Path, portals: usize, tickets: usize) -> (Portal, Value) {
    let binary = binaries.join("client-portal");
    let data_dir = std::env::temp_dir().join(format!("portal-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).expect("a data directory");
    let (board, printed) =
        start_board(&binaries.join("monday-local"), &data_dir, portals, tickets).await;
    let env = PortalEnv {
        data_dir: data_dir.clone(),
        public_url: format!("http://127.0.0.1:{}", free_port()),
        listen: None,
        database_url: None,
        board_url: printed["url"].clone(),
        board_token: printed["token"].clone(),
        board_id: printed["board"].clone(),
    };

    // Each benchmark portal gets a member with two links: one for a browser session, one for
    // the REST API's token.
    let mut entries = Vec::new();
    for portal in (0..portals).map(monday_local::bench_portal_id) {
        let session_token = invite(&binary, &env, &portal).await;
        let api_token = invite(&binary, &env, &portal).await;
        entries.push(json!({
            "portal": portal, "session_token": session_token, "api_token": api_token,
        }));
    }

    let (child, pid) = serve(&binary, &env).await;
    // The board checks the webhook URL with a challenge the running portal answers.
    portal_command(&binary, &env, &["setup-board"]).await;
    (
        Portal {
            board,
            child,
            url: env.public_url,
            pid,
            data_dir,
            control: printed["control"].clone(),
            board_token: printed["token"].clone(),
        },
        json!({ "portals": entries }),
    )
}

pub struct Member {
    pub portal: String,
    pub cookie: String,
    pub jwt: String,
}

async fn sign_in(client: &reqwest::Client, url: &str, entry: &Value) -> Member {
    let portal = entry["portal"].as_str().unwrap_or_default().to_owned();
    let session_token = entry["session_token"].as_str().unwrap_or_default();
    let response = client
        .post(format!("{url}{}", ContinueSignIn::PATH))
        .header("origin", url)
        .form(&[("portal_id", portal.as_str()), ("token", session_token)])
        .send()
        .await
        .expect("sign-in");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portal_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let api_token = entry["api_token"].as_str().unwrap_or_default();
    let auth: Value = client
        .get(format!("{url}/api/v1/auth/{portal}/{api_token}"))
        .send()
        .await
        .expect("token exchange")
        .json()
        .await
        .expect("a token");
    Member {
        portal,
        cookie,
        jwt: auth["access_token"].as_str().unwrap_or_default().to_owned(),
    }
}

async fn metric(client: &reqwest::Client, url: &str, name: &str) -> f64 {
    let Ok(response) = client.get(format!("{url}/metrics")).send().await else {
        return f64::NAN;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_socket(url: &str, cookie: &str) -> Option<Socket> {
    let mut request = format!("{}/live", url.replacen("http", "ws", 1))
        .into_client_request()
        .ok()?;
    request.headers_mut().insert("cookie", cookie.parse().ok()?);
    request.headers_mut().insert("origin", url.parse().ok()?);
    tokio_tungstenite::connect_async(request)
        .await
        .ok()
        .map(|(socket, _)| socket)
}

/// The release bundle's `client_portal.<hash>.<extension>` (or its unhashed name).
fn bundle_file(pkg: &Path, extension: &str) -> Option<PathBuf> {
    std::fs::read_dir(pkg)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            name.starts_with("client_portal.") && name.ends_with(&format!(".{extension}"))
        })
}

fn gzip_size(path: &Path) -> Option<(u64, u64)> {
    let raw = std::fs::metadata(path).ok()?.len();
    let output = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::fs::File::open(path).ok()?)
        .output()
        .ok()?;
    Some((raw, output.stdout.len() as u64))
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// Each member's tickets, `(portal, item id)`, from the REST list (the portal's first read of
/// each portal's list).
async fn tickets_of(
    client: &reqwest::Client,
    url: &str,
    members: &[Member],
) -> Vec<Vec<(String, String)>> {
    let mut all = Vec::new();
    for member in members {
        let tickets: Value = match client
            .get(format!("{url}/api/v1/tickets/{}", member.portal))
            .bearer_auth(&member.jwt)
            .send()
            .await
        {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        all.push(
            tickets
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["id"].as_str())
                .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
                .map(|id| (member.portal.clone(), id.to_owned()))
                .collect(),
        );
    }
    all
}

/// A day of a busy board, from a cold start: 500 changes by the team (150 status, 100
/// priority, 50 renames, 100 new items, 100 updates, half of them public) while 200 clients
/// (four per portal) each open their dashboard ten times and two of their tickets. Returns the
/// rows and the tickets it saw.
async fn a_day(
    client: &reqwest::Client,
    url: &str,
    members: &Arc<Vec<Member>>,
    control: &calls::Control,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let before = metric(client, url, "portal_monday_requests_total").await;
    let webhooks_before = control.stats().await["webhooks_delivered"]
        .as_u64()
        .unwrap_or(0);
    let by_portal = Arc::new(tickets_of(client, url, members).await);
    let tickets: Vec<(String, String)> = by_portal.iter().flatten().cloned().collect();
    let viewers = (0..200).map(|viewer| {
        let (client, url, members, by_portal) = (
            client.clone(),
            url.to_owned(),
            members.clone(),
            by_portal.clone(),
        );
        tokio::spawn(async move {
            let member = &members[viewer % members.len()];
            let mine = &by_portal[viewer % by_portal.len()];
            let mut dice = calls::Dice::new(viewer as u64 + 7);
            for round in 0..10 {
                let _ = client
                    .get(format!("{url}/dashboard"))
                    .header("cookie", &member.cookie)
                    .send()
                    .await;
                if (round == 3 || round == 7) && !mine.is_empty() {
                    let (_, id) = &mine[dice.below(mine.len())];
                    let _ = client
                        .get(format!("{url}/tickets/{id}"))
                        .header("cookie", &member.cookie)
                        .send()
                        .await;
                }
                tokio::time::sleep(Duration::from_millis(dice.below(200) as u64)).await;
            }
        })
    });
    let changes = async {
        let mut dice = calls::Dice::new(20261124);
        for n in 0..500 {
            let kind = match n % 10 {
                0..=2 => calls::Change::Status,
                3 | 4 => calls::Change::Priority,
                5 => calls::Change::Rename,
                6 | 7 => calls::Change::Create,
                _ => calls::Change::Reply,
            };
            calls::change(control, kind, n, &tickets, &mut dice).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let (_, ()) = tokio::join!(futures::future::join_all(viewers), changes);
    let delivered = control.settled().await - webhooks_before;
    let used = metric(client, url, "portal_monday_requests_total").await - before;
    // The time-to-live refresh of data webhooks keep right is spaced to take at most a quarter
    // of the cap (CACHE_TTL_SECONDS is the floor): the compressed run cannot show it, so it is
    // added at its bound.
    let safety_net = 1_000.0 * 0.25;
    let day = used + safety_net;
    let rows = vec![(
        "monday calls for a day of a busy board on a Standard plan: 500 changes (150 status, 100 priority, 50 renames, 100 new items, 100 updates), 200 clients (4 per portal) each opening their dashboard 10 times and 2 tickets, from a cold start".to_owned(),
        format!(
            "{used:.0} calls in the run ({delivered} webhooks; every list and opened ticket read once) + at most {safety_net:.0} for the time-to-live safety net = {day:.0} a day: {} 1,000, so a Standard plan is enough",
            if day < 1_000.0 { "under" } else { "OVER" }
        ),
    )];
    (rows, tickets)
}

/// What each kind of webhook costs the portal, 20 of each on a warm portal (its lists read,
/// as when clients have their dashboards open), and all of them together.
async fn per_webhook(
    client: &reqwest::Client,
    instances: &[String],
    control: &calls::Control,
    tickets: &[(String, String)],
) -> (f64, Vec<(String, String)>) {
    let mut dice = calls::Dice::new(42);
    let mut parts = Vec::new();
    let mut total_calls = 0.0;
    let mut total_webhooks = 0;
    for kind in calls::Change::ALL {
        let before = monday_calls(client, instances).await;
        let delivered_before = control.settled().await;
        for n in 0..20 {
            calls::change(control, kind, 1_000 + n, tickets, &mut dice).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let webhooks = control.settled().await - delivered_before;
        let used = monday_calls(client, instances).await - before;
        total_calls += used;
        total_webhooks += webhooks;
        parts.push(format!(
            "{} {:.2}",
            kind.name(),
            used / webhooks.max(1) as f64
        ));
    }
    let per_change = total_calls / total_webhooks.max(1) as f64;
    let instances_named = if instances.len() == 1 {
        String::new()
    } else {
        format!(", {} instances behind nginx", instances.len())
    };
    (
        per_change,
        vec![(
            format!(
                "monday calls per webhook, mixed run (20 each of status, priority, rename, create, reply; lists warm{instances_named})"
            ),
            format!(
                "{per_change:.3} ({total_calls:.0} calls over {total_webhooks} webhooks: {})",
                parts.join(", ")
            ),
        )],
    )
}

/// monday calls the `instances` (base URLs) have made, from their `/metrics`.
async fn monday_calls(client: &reqwest::Client, instances: &[String]) -> f64 {
    let mut total = 0.0;
    for url in instances {
        total += metric(client, url, "portal_monday_requests_total").await;
    }
    total
}

/// What webhook-to-socket latency measured: every delivery, and those to sockets on another
/// instance than the one the webhook reached.
struct SocketLatency {
    connected: usize,
    all: Vec<Duration>,
    elsewhere: Vec<Duration>,
    missed: usize,
    /// Deliveries after which a tab on the dashboard would load the page again (the island's
    /// own decision, `model::dashboard_update`, for the default view); the others change the
    /// page in place from the message.
    page_loads: u64,
}

/// Opens `sockets` live sockets (member `n % members`, on instance `n % instances`), then
/// fires `webhooks` status changes at `webhook_base` one at a time (as monday sends them, the
/// new label in the payload) and times each arrival.
async fn webhook_to_socket(
    client: &reqwest::Client,
    members: &[Member],
    instances: &[String],
    webhook_base: &str,
    sockets: usize,
    webhooks: usize,
) -> SocketLatency {
    type Arrivals = HashMap<String, Vec<(Instant, bool)>>;
    let received: Arc<Mutex<Arrivals>> = Arc::default();
    let page_loads = Arc::new(AtomicU64::new(0));
    let mut listeners = Vec::new();
    for n in 0..sockets {
        let member = &members[n % members.len()];
        let instance = &instances[n % instances.len()];
        let Some(mut socket) = open_socket(instance, &member.cookie).await else {
            continue;
        };
        let elsewhere = instance != webhook_base;
        let (received, page_loads) = (received.clone(), page_loads.clone());
        listeners.push(tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message
                    && let Ok(message) = serde_json::from_str::<LiveMessage>(&text)
                    && let LiveEvent::StatusChanged { ticket_id: id, .. } = &message.event
                {
                    // A tab on the dashboard's first page, as the island decides.
                    let update =
                        dashboard_update(&message, &TicketQuery::default(), true, false, None);
                    if update == DashboardUpdate::Reload {
                        page_loads.fetch_add(1, Ordering::Relaxed);
                    }
                    received
                        .lock()
                        .await
                        .entry(id.to_owned())
                        .or_default()
                        .push((Instant::now(), elsewhere));
                }
            }
        }));
    }
    let connected = listeners.len();
    let mut ids = Vec::new();
    for member in members {
        let tickets: Value = match client
            .get(format!("{webhook_base}/api/v1/tickets/{}", member.portal))
            .bearer_auth(&member.jwt)
            .send()
            .await
        {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        for ticket in tickets.as_array().into_iter().flatten().take(5) {
            if let Some(id) = ticket["id"]
                .as_str()
                .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
            {
                ids.push(id.to_owned());
            }
        }
    }
    let per_portal = (connected / members.len().max(1)).max(1);
    let mut result = SocketLatency {
        connected,
        all: Vec::new(),
        elsewhere: Vec::new(),
        missed: 0,
        page_loads: 0,
    };
    let sequence = AtomicU64::new(0);
    for n in 0..webhooks.min(ids.len().max(1) * 1000) {
        let Some(id) = ids.get(n * 7 % ids.len().max(1)) else {
            break;
        };
        received.lock().await.remove(id);
        let payload = json!({"event": {
            "type": "update_column_value", "pulseId": id.parse::<u64>().unwrap_or_default(), "columnId": "status",
            "columnType": "color", "value": {"label": {"index": 1, "text": "In Progress"}, "post_id": null},
            "triggerUuid": format!("bench-{}-{}", std::process::id(), sequence.fetch_add(1, Ordering::Relaxed)),
        }});
        let sent = Instant::now();
        let _ = client
            .post(format!("{webhook_base}/webhooks/monday/{WEBHOOK_SECRET}"))
            .json(&payload)
            .send()
            .await;
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let got = received.lock().await.get(id).map_or(0, Vec::len);
            if got >= per_portal || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let arrivals = received.lock().await.remove(id).unwrap_or_default();
        result.missed += per_portal.saturating_sub(arrivals.len());
        for (at, elsewhere) in arrivals {
            let latency = at.duration_since(sent);
            result.all.push(latency);
            if elsewhere {
                result.elsewhere.push(latency);
            }
        }
    }
    for listener in listeners {
        listener.abort();
    }
    result.page_loads = page_loads.load(Ordering::Relaxed);
    result
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(Command::Http { url, headers }) = &args.command {
        http_mode(&args, url, headers).await;
        return;
    }
    if let Some(Command::Notify { changes, tickets }) = &args.command {
        notify::run(*changes, (*tickets).max(1)).await;
        return;
    }
    let binaries = args.binaries.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.to_path_buf()))
            .unwrap_or_else(|| PathBuf::from("."))
    });
    eprintln!(
        "starting {} with {} portals of {} tickets…",
        binaries.display(),
        args.portals,
        args.tickets
    );
    let (portal, seeded) = start_portal(&binaries, args.portals, args.tickets).await;
    let url = portal.url.clone();
    let client = http_client(args.clients);
    let mut members = Vec::new();
    for entry in seeded["portals"].as_array().into_iter().flatten() {
        members.push(sign_in(&client, &url, entry).await);
    }
    let members = Arc::new(members);
    let mut rows: Vec<(String, String)> = Vec::new();
    let control = calls::Control {
        url: portal.control.clone(),
        token: portal.board_token.clone(),
        http: client.clone(),
    };

    // First, from a cold start on a Standard board: what a day of a busy board costs in monday
    // calls, then what each kind of webhook costs.
    let pages_only = matches!(args.command, Some(Command::Pages));
    let flood_only = matches!(args.command, Some(Command::Flood));
    let files_only = matches!(args.command, Some(Command::Files));
    let mut calls_per_change = f64::NAN;
    if !pages_only && !flood_only && !files_only {
        eprintln!("a day on a Standard plan: 500 changes, 200 clients viewing…");
        let (day_rows, tickets) = a_day(&client, &url, &members, &control).await;
        rows.extend(day_rows);
        eprintln!("monday calls per webhook, by kind…");
        let per_webhook_rows;
        (calls_per_change, per_webhook_rows) =
            per_webhook(&client, std::slice::from_ref(&url), &control, &tickets).await;
        rows.extend(per_webhook_rows);
    }
    // The throughput measurements below load the board far beyond a day of real use; an
    // Enterprise plan's limits keep the load generator from running the board's day out.
    control
        .set_limits(json!({
            "daily_calls": 25_000, "minute_calls": 5_000, "concurrency": 250,
        }))
        .await;

    // Warm the cache: one load per portal.
    for member in members.iter() {
        let _ = client
            .get(format!("{url}/dashboard"))
            .header("cookie", &member.cookie)
            .send()
            .await;
    }

    if flood_only {
        rows.extend(flood::run(&client, &url, &portal.data_dir, &members, args.seconds).await);
        print_table(&rows);
        return;
    }
    if matches!(args.command, Some(Command::Files)) {
        rows.extend(files::run(&client, &url, &members, portal.pid).await);
        print_table(&rows);
        return;
    }
    let address = url.trim_start_matches("http://").to_owned();
    let tickets = tickets_of(&client, &url, &members).await;
    let monday_before = metric(&client, &url, "portal_monday_requests_total").await;
    let measured = pages::measure(
        &address,
        &pages::targets(&members, &tickets),
        args.clients,
        args.seconds,
    )
    .await;
    let monday_after = metric(&client, &url, "portal_monday_requests_total").await;
    rows.extend(pages::rows(&measured, args.clients));
    let page_loads: usize = measured
        .iter()
        .skip(1)
        .map(|(_, stats)| stats.latencies.len())
        .sum();
    rows.push((
        "monday calls per signed-in page or list load".into(),
        format!(
            "{:.4} ({} calls over {page_loads} loads)",
            (monday_after - monday_before) / page_loads.max(1) as f64,
            monday_after - monday_before,
        ),
    ));
    let rps_of = |name: &str| {
        measured
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .map_or(f64::NAN, |(_, stats)| stats.rps())
    };
    let (dashboard_rps, rest_rps) = (rps_of("Dashboard"), rps_of("GET /api/v1"));
    if let Some(member) = members.first() {
        rows.extend(languages::rows(&client, &url, member).await);
    }
    if pages_only {
        print_table(&rows);
        return;
    }
    rows.extend(files::run(&client, &url, &members, portal.pid).await);

    eprintln!("the flood: unauthenticated requests while members load their dashboards…");
    rows.extend(flood::run(&client, &url, &portal.data_dir, &members, args.seconds).await);

    eprintln!("the original design's request path, for comparison…");
    let portal_ids: Vec<String> = members.iter().map(|m| m.portal.clone()).collect();
    let original = yardstick::Yardstick::start(&portal_ids, args.tickets).await;
    let original_tokens: Arc<Vec<(String, String)>> = Arc::new(
        portal_ids
            .iter()
            .map(|portal| (portal.clone(), original.token_for(portal)))
            .collect(),
    );
    let whole_board = {
        let (client, url, tokens) = (
            client.clone(),
            original.url.clone(),
            original_tokens.clone(),
        );
        load(args.clients, args.seconds, move |worker, n| {
            let (portal, token) = &tokens[(worker + n as usize) % tokens.len()];
            let request = client
                .get(format!("{url}/tickets/{portal}"))
                .bearer_auth(token);
            async move { answered(request.send().await, 200).await }
        })
        .await
    };
    original.stop().await;
    rows.push((
        format!(
            "Original design's request (JWT, whole board read from the board, filtered), rebuilt in Rust, {} clients",
            args.clients
        ),
        format!(
            "{}; the portal's REST list serves {:.0}× as many, its dashboard {:.0}×",
            whole_board.summary(),
            rest_rps / whole_board.rps().max(f64::MIN_POSITIVE),
            dashboard_rps / whole_board.rps().max(f64::MIN_POSITIVE)
        ),
    ));

    eprintln!("webhook-to-socket latency with {} sockets…", args.sockets);
    let latency = webhook_to_socket(
        &client,
        &members,
        std::slice::from_ref(&url),
        &url,
        args.sockets,
        args.webhooks,
    )
    .await;
    rows.push((
        format!(
            "Webhook to socket, {} sockets across {} portals",
            latency.connected,
            members.len()
        ),
        format!(
            "p50 {}, p99 {} over {} deliveries ({} missed); page loads caused: {} ({:.2} per event; each open dashboard changes in place from the message)",
            ms(percentile(&latency.all, 0.5)),
            ms(percentile(&latency.all, 0.99)),
            latency.all.len(),
            latency.missed,
            latency.page_loads,
            latency.page_loads as f64 / args.webhooks.max(1) as f64,
        ),
    ));

    eprintln!("memory per idle socket with {} sockets…", args.idle_sockets);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib(portal.pid);
    let opened = Arc::new(Mutex::new(Vec::with_capacity(args.idle_sockets)));
    let batches: Vec<_> = (0..args.idle_sockets)
        .collect::<Vec<_>>()
        .chunks(args.idle_sockets.div_ceil(64).max(1))
        .map(|chunk| {
            let (url, members, opened) = (url.clone(), members.clone(), opened.clone());
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for n in chunk {
                    let member = &members[n % members.len()];
                    if let Some(socket) = open_socket(&url, &member.cookie).await {
                        opened.lock().await.push(socket);
                    }
                }
            })
        })
        .collect();
    for batch in batches {
        let _ = batch.await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib(portal.pid);
    let open = opened.lock().await.len();
    rows.push((
        format!("Server memory per idle socket ({open} open)"),
        format!(
            "{:.1} KiB (RSS {} MiB → {} MiB)",
            (after.saturating_sub(before)) as f64 / open.max(1) as f64,
            before / 1024,
            after / 1024
        ),
    ));
    for mut socket in opened.lock().await.drain(..) {
        let _ = socket.close(None).await;
    }

    eprintln!("ticket creation through the outbox…");
    let creators = 16.min(members.len());
    let accepted = Arc::new(AtomicU64::new(0));
    let created = {
        let (client, url, members, accepted) = (
            client.clone(),
            url.clone(),
            members.clone(),
            accepted.clone(),
        );
        load(creators, args.seconds, move |worker, n| {
            let member = &members[worker % members.len()];
            let accepted = accepted.clone();
            let request = client
                .post(format!("{url}/api/v1/ticket"))
                .bearer_auth(&member.jwt)
                .json(&json!({"title": format!("bench ticket {worker}-{n}"), "description": "created by the benchmark", "priority": "medium"}));
            async move {
                match request.send().await.map(|r| r.status().as_u16()) {
                    // 201: monday has it.
                    Ok(201) => true,
                    // 202: saved in the outbox; monday has not confirmed it within 5 s.
                    Ok(202) => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                        true
                    }
                    _ => false,
                }
            }
        })
        .await
    };
    let waiting = metric(&client, &url, "portal_outbox_waiting").await;
    rows.push((
        format!("Ticket creation through the outbox, {creators} clients"),
        format!(
            "{:.0} tickets/s, p50 {}, p99 {}; {} answered 202 (saved, monday busy), {} failed, {} still in the outbox at the end",
            created.rps(),
            ms(created.percentile(0.5)),
            ms(created.percentile(0.99)),
            accepted.load(Ordering::Relaxed),
            created.errors,
            waiting
        ),
    ));

    if let Some(postgres) = &args.postgres {
        eprintln!("two instances on PostgreSQL behind nginx…");
        rows.extend(
            cluster::run(
                &binaries,
                postgres,
                &cluster::Settings {
                    portals: args.portals,
                    tickets: args.tickets,
                    clients: args.clients,
                    seconds: args.seconds,
                    sockets: args.sockets,
                    webhooks: args.webhooks,
                    single_instance_calls_per_change: calls_per_change,
                },
            )
            .await,
        );
    }

    let pkg = Path::new("target/site/pkg");
    let wasm = bundle_file(pkg, "wasm").and_then(|file| gzip_size(&file));
    let js = bundle_file(pkg, "js").and_then(|file| gzip_size(&file));
    match (wasm, js) {
        (Some((wasm_raw, wasm_gz)), Some((js_raw, js_gz))) => rows.push((
            "Browser bundle (target/site/pkg after `cargo leptos build --release`, gzip -9)".into(),
            format!(
                "wasm {} raw / {} gzip, JS {} raw / {} gzip, total {} gzip ({})",
                kb(wasm_raw),
                kb(wasm_gz),
                kb(js_raw),
                kb(js_gz),
                kb(wasm_gz + js_gz),
                if wasm_gz + js_gz < 250 * 1024 {
                    "under 250 KB"
                } else {
                    "OVER 250 KB"
                }
            ),
        )),
        _ => rows.push((
            "Browser bundle".into(),
            "not built: run `cargo leptos build --release`".into(),
        )),
    }

    print_table(&rows);
    drop(portal);
}

fn print_table(rows: &[(String, String)]) {
    println!("| measurement | result |");
    println!("| --- | --- |");
    for (name, value) in rows {
        println!("| {name} | {value} |");
    }
}
