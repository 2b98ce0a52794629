//! The flood: what the open internet throws at a portal without signing in. 20,000 link
//! exchanges with 60 KB portal ids and bad tokens from 64 addresses and 5,000 `/readyz` hits,
//! while signed-in members load their dashboards. Measures what the flood costs the others:
//! database growth, monday calls, and the dashboard's p99 beside its p99 without the flood.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{metric, ms, percentile};

pub const SIGN_IN_ATTEMPTS: usize = 20_000;
pub const READYZ_HITS: usize = 5_000;
/// The attackers' addresses (all loopback: any 127.x is this machine).
const ADDRESSES: usize = 64;

/// The portal's database files (with SQLite's write-ahead log), in bytes.
fn database_bytes(data_dir: &Path) -> u64 {
    ["portal.db", "portal.db-wal", "portal.db-shm"]
        .iter()
        .filter_map(|name| std::fs::metadata(data_dir.join(name)).ok())
        .map(|meta| meta.len())
        .sum()
}

/// Dashboard loads by `cookies` (one worker each) until `stop`; returns the latencies.
async fn dashboards_until(
    client: &reqwest::Client,
    url: &str,
    cookies: &[String],
    stop: Arc<AtomicBool>,
) -> Vec<Duration> {
    let workers: Vec<_> = cookies
        .iter()
        .cloned()
        .map(|cookie| {
            let (client, url, stop) = (client.clone(), url.to_owned(), stop.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = client
                        .get(format!("{url}/dashboard"))
                        .header("cookie", &cookie)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().as_u16() == 200);
                    if ok {
                        latencies.push(started.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        if let Ok(latencies) = worker.await {
            all.extend(latencies);
        }
    }
    all
}

/// Runs the flood and returns the benchmark table's rows.
pub async fn run(
    client: &reqwest::Client,
    url: &str,
    data_dir: &Path,
    members: &[crate::Member],
    quiet_seconds: u64,
) -> Vec<(String, String)> {
    let cookies: Vec<String> = members.iter().take(16).map(|m| m.cookie.clone()).collect();
    let cookies = cookies.as_slice();
    // The dashboard without a flood, by the same workers.
    let stop = Arc::new(AtomicBool::new(false));
    let quiet = {
        let stop = stop.clone();
        let measuring = dashboards_until(client, url, cookies, stop.clone());
        let timer = async move {
            tokio::time::sleep(Duration::from_secs(quiet_seconds)).await;
            stop.store(true, Ordering::Relaxed);
        };
        tokio::join!(measuring, timer).0
    };

    let db_before = database_bytes(data_dir);
    let monday_before = metric(client, url, "portal_monday_requests_total").await;
    let statuses: Arc<[AtomicU64; 7]> = Arc::new(Default::default());
    let started = Instant::now();
    let flood_done = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn({
        let (client, url, cookies, flood_done) = (
            client.clone(),
            url.to_owned(),
            cookies.to_vec(),
            flood_done.clone(),
        );
        async move { dashboards_until(&client, &url, &cookies, flood_done).await }
    });
    // The attackers run on a runtime of their own with one thread, standing in for machines of
    // their own: the members' requests are not queued behind theirs inside this program, and
    // the attack takes at most one of the two cores' worth of threads from the portal (on a
    // real server, none).
    let attack = {
        let (address, url, statuses) = (
            url.trim_start_matches("http://").to_owned(),
            url.to_owned(),
            statuses.clone(),
        );
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|runtime| runtime.block_on(attack(address, url, statuses)))
        })
    };
    let attacked = tokio::task::spawn_blocking(move || attack.join()).await;
    if !matches!(attacked, Ok(Ok(Ok(())))) {
        eprintln!("the attackers' runtime failed");
    }
    let flood_time = started.elapsed();
    flood_done.store(true, Ordering::Relaxed);
    let during = during.await.unwrap_or_default();
    let db_growth = database_bytes(data_dir).saturating_sub(db_before);
    let monday_calls = metric(client, url, "portal_monday_requests_total").await - monday_before;

    let [
        ok,
        unauthorized,
        too_many,
        head_too_large,
        other_4xx,
        server_errors,
        failed,
    ] = statuses.each_ref().map(|c| c.load(Ordering::Relaxed));
    let quiet_p99 = percentile(&quiet, 0.99);
    let flood_p99 = percentile(&during, 0.99);
    let ratio = flood_p99.as_secs_f64() / quiet_p99.as_secs_f64().max(f64::MIN_POSITIVE);
    vec![
        (
            format!(
                "Flood: {SIGN_IN_ATTEMPTS} link exchanges with 60 KB portal ids and bad tokens from {ADDRESSES} addresses + {READYZ_HITS} /readyz"
            ),
            format!(
                "{:.1} s; answers: {ok} 200 (readyz), {unauthorized} 401, {too_many} 429, {head_too_large} 431 (head over 16 KB), {other_4xx} other 4xx, {server_errors} 5xx, {failed} without an answer (reset while still sending: the portal stops reading at 16 KB)",
                flood_time.as_secs_f64()
            ),
        ),
        (
            "Flood: database growth".into(),
            format!("{db_growth} bytes (target: under 1 MB)"),
        ),
        (
            "Flood: monday calls".into(),
            format!(
                "{monday_calls} over {:.0} s (target: at most one per READYZ_CACHE_SECONDS, 30 s)",
                flood_time.as_secs_f64()
            ),
        ),
        (
            format!("Flood: signed-in dashboard p99, {} clients", cookies.len()),
            format!(
                "{} during the flood vs {} without ({ratio:.2}x; target within 2x); p50 {} vs {}",
                ms(flood_p99),
                ms(quiet_p99),
                ms(percentile(&during, 0.5)),
                ms(percentile(&quiet, 0.5)),
            ),
        ),
    ]
}

/// The flood itself: link exchanges with huge portal ids from [`ADDRESSES`] addresses, and
/// `/readyz` hits.
async fn attack(address: String, url: String, statuses: Arc<[AtomicU64; 7]>) {
    // Raw HTTP/1.1 from requests built once (as flood tools do): the generator, which shares
    // this machine's cores with the portal, spends as little CPU per request as it can. Only
    // the token differs from one request to the next.
    let head = Arc::new(format!(
        "GET /api/v1/auth/{}/bad-token-",
        "p".repeat(60 * 1024)
    ));
    let tail = Arc::new(format!(
        " HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    ));
    let mut attackers = Vec::new();
    for worker in 0..ADDRESSES {
        let source: IpAddr = format!("127.0.1.{}", worker + 1)
            .parse()
            .expect("a loopback address");
        let (address, head, tail, statuses) = (
            address.clone(),
            head.clone(),
            tail.clone(),
            statuses.clone(),
        );
        attackers.push(tokio::spawn(async move {
            for n in (worker..SIGN_IN_ATTEMPTS).step_by(ADDRESSES) {
                let token = n.to_string();
                let request = [head.as_bytes(), token.as_bytes(), tail.as_bytes()];
                count(&statuses, raw_get(source, &address, &request).await);
            }
        }));
    }
    let client = reqwest::Client::new();
    for worker in 0..8 {
        let (client, url, statuses) = (client.clone(), url.clone(), statuses.clone());
        attackers.push(tokio::spawn(async move {
            for _ in (worker..READYZ_HITS).step_by(8) {
                let status = client
                    .get(format!("{url}/readyz"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                count(&statuses, status.ok());
            }
        }));
    }
    for attacker in attackers {
        let _ = attacker.await;
    }
}

/// Sends one request over a new connection from `source` and returns the answer's status.
async fn raw_get(source: IpAddr, address: &str, request: &[&[u8]]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let target: std::net::SocketAddr = address.parse().ok()?;
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind(std::net::SocketAddr::new(source, 0)).ok()?;
    let mut stream = tokio::time::timeout(Duration::from_secs(30), socket.connect(target))
        .await
        .ok()?
        .ok()?;
    stream.set_nodelay(true).ok()?;
    for part in request {
        stream.write_all(part).await.ok()?;
    }
    let mut answer = Vec::with_capacity(1024);
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    // `HTTP/1.1 429 Too Many Requests`
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}

fn count(statuses: &[AtomicU64; 7], status: Option<u16>) {
    let slot = match status {
        Some(200) => 0,
        Some(401) => 1,
        Some(429) => 2,
        Some(431) => 3,
        Some(400..=499) => 4,
        Some(500..=599) => 5,
        _ => 6,
    };
    statuses[slot].fetch_add(1, Ordering::Relaxed);
}
