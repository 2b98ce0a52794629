//! What a signed-in page costs next to a health check: `/healthz`, the dashboard, a ticket page
//! and the REST list, each loaded by the same number of clients in the same run, and each shown
//! as a multiple of `/healthz`'s cost per request.
//!
//! The load generator shares this machine's cores with the portal, so it must be cheap per
//! request or it measures itself: each client is one keep-alive HTTP/1.1 connection driven by
//! hyper's connection API (what wrk does in C), with requests built once. No pool, no redirects,
//! no cookie jar.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use crate::{Member, Stats, gather};

/// One kind of request: a path and the headers that sign it in, per member.
pub struct Target {
    pub name: String,
    /// `(path, header name, header value)`, taken round-robin by the clients.
    pub requests: Vec<(String, &'static str, String)>,
}

/// Loads `target` from `clients` keep-alive connections for `seconds`.
pub async fn load(address: &str, target: &Target, clients: usize, seconds: u64) -> Stats {
    let requests: Arc<Vec<hyper::Request<Empty<Bytes>>>> = Arc::new(
        target
            .requests
            .iter()
            .map(|(path, name, value)| {
                hyper::Request::get(path.as_str())
                    .header("host", address)
                    .header(*name, value.as_str())
                    .body(Empty::new())
                    .expect("a request")
            })
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (requests, stop, address) = (requests.clone(), stop.clone(), address.to_owned());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(16 * 1024);
                let mut errors = 0u64;
                let mut sender = None;
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    if sender.is_none() {
                        sender = connect(&address).await;
                        if sender.is_none() {
                            errors += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                    let Some(connection) = sender.as_mut() else {
                        continue;
                    };
                    let request = requests[n % requests.len()].clone();
                    n += 1;
                    let t = Instant::now();
                    match send(connection, request).await {
                        Some(200) => latencies.push(t.elapsed()),
                        Some(_) => errors += 1,
                        None => {
                            errors += 1;
                            sender = None;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    gather(workers, &stop, started, seconds).await
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(address: &str) -> Option<Sender> {
    let stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(connection);
    Some(sender)
}

/// Sends one request and reads the whole answer; its status, or `None` when the connection
/// failed.
async fn send(sender: &mut Sender, request: hyper::Request<Empty<Bytes>>) -> Option<u16> {
    sender.ready().await.ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    response.into_body().collect().await.ok()?;
    Some(status)
}

/// The four requests of the comparison, for `members` (one ticket each from `tickets`).
pub fn targets(members: &[Member], tickets: &[Vec<(String, String)>]) -> Vec<Target> {
    let cookie = |m: &Member| ("cookie", m.cookie.clone());
    let with = |path: String, (name, value): (&'static str, String)| (path, name, value);
    vec![
        Target {
            name: "GET /healthz".into(),
            requests: vec![("/healthz".into(), "accept", "*/*".into())],
        },
        Target {
            name: "Dashboard page (signed in)".into(),
            requests: members
                .iter()
                .map(|m| with("/dashboard".into(), cookie(m)))
                .collect(),
        },
        Target {
            name: "Ticket page (signed in)".into(),
            requests: members
                .iter()
                .zip(tickets)
                .filter_map(|(m, list)| {
                    let (_, id) = list.first()?;
                    Some(with(format!("/tickets/{id}"), cookie(m)))
                })
                .collect(),
        },
        Target {
            name: "GET /api/v1/tickets/{portal} (bearer token)".into(),
            requests: members
                .iter()
                .map(|m| {
                    (
                        format!("/api/v1/tickets/{}", m.portal),
                        "authorization",
                        format!("Bearer {}", m.jwt),
                    )
                })
                .collect(),
        },
    ]
}

/// Measures every target in turn (each warmed briefly first).
pub async fn measure(
    address: &str,
    targets: &[Target],
    clients: usize,
    seconds: u64,
) -> Vec<(String, Stats)> {
    let mut measured = Vec::new();
    for target in targets {
        eprintln!("{} at {clients} clients…", target.name);
        load(address, target, clients.min(8), 1).await;
        let stats = load(address, target, clients, seconds).await;
        measured.push((target.name.clone(), stats));
    }
    measured
}

/// The table's rows: requests/s, p50, p99, and the cost per request as a multiple of the first
/// target's (`/healthz`).
pub fn rows(measured: &[(String, Stats)], clients: usize) -> Vec<(String, String)> {
    let health_rps = measured
        .first()
        .map(|(_, stats)| stats.rps())
        .unwrap_or(f64::NAN);
    measured
        .iter()
        .map(|(name, stats)| {
            let multiple = health_rps / stats.rps().max(f64::MIN_POSITIVE);
            (
                format!("{name}, {clients} clients"),
                format!("{}; {multiple:.1}x the cost of /healthz", stats.summary()),
            )
        })
        .collect()
}
