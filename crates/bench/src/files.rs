//! Attachments: many clients uploading screenshots-sized files at once (files per second and
//! the slowest answers), and the portal's memory while one very large file streams through it
//! (to disk, then into the database, then to monday) — it must not hold the file in memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::{Member, metric, percentile, rss_kib};

/// A PNG's signature and header, then `len` bytes of its own (`seed` makes each file unique).
fn png_header() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec()
}

/// A file's bytes as a stream of 64 KiB chunks, made as they are sent (the benchmark does not
/// hold 100 MB either).
fn file_body(len: usize, seed: u8) -> reqwest::Body {
    let header = png_header();
    let chunk = 64 * 1024;
    let chunks = (len - header.len()).div_ceil(chunk);
    let stream = futures::stream::iter(0..=chunks).map(move |n| {
        let bytes: Vec<u8> = if n == 0 {
            header.clone()
        } else {
            let size = chunk.min(len - header.len() - (n - 1) * chunk);
            (0..size)
                .map(|i| {
                    (i as u8)
                        .wrapping_mul(31)
                        .wrapping_add(seed)
                        .wrapping_add(n as u8)
                })
                .collect()
        };
        Ok::<_, std::io::Error>(bytes)
    });
    reqwest::Body::wrap_stream(stream)
}

/// One new ticket with one file of `len` bytes, as the page's script sends it.
async fn upload(
    client: &reqwest::Client,
    url: &str,
    member: &Member,
    len: usize,
    seed: u8,
) -> bool {
    let part = reqwest::multipart::Part::stream_with_length(file_body(len, seed), len as u64)
        .file_name(format!("screenshot-{seed}.png"))
        .mime_str("image/png")
        .expect("a mime type");
    let form = reqwest::multipart::Form::new()
        .text("title", format!("Upload {seed}"))
        .text("description", "A screenshot.")
        .text("priority", "medium")
        .part("files", part);
    match client
        .post(format!("{url}/tickets"))
        .header("cookie", &member.cookie)
        .header("accept", "application/json")
        .multipart(form)
        .send()
        .await
    {
        Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// Waits until the outbox has delivered everything (or `within` passes).
async fn drained(client: &reqwest::Client, url: &str, within: Duration) -> Duration {
    let started = Instant::now();
    while started.elapsed() < within {
        if metric(client, url, "portal_outbox_waiting").await == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

/// The highest RSS of `pid` while `work` runs, sampled every 5 ms.
async fn peak_rss_during<F: Future>(pid: u32, work: F) -> (u64, F::Output) {
    let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let output = work.await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    (peak.load(Ordering::Relaxed), output)
}

pub async fn run(
    client: &reqwest::Client,
    url: &str,
    members: &[Member],
    pid: u32,
) -> Vec<(String, String)> {
    const CLIENTS: usize = 20;
    const FILE: usize = 5 * 1024 * 1024;
    const ROUNDS: usize = 3;
    let mut rows = Vec::new();

    // One 100 MB file (the limit is raised for the benchmark): the portal's memory meanwhile.
    eprintln!("attachments: one 100 MB upload, watching the portal's memory…");
    const LARGE: usize = 100 * 1024 * 1024;
    // First, on a portal that has not handled files yet: memory it kept from earlier work
    // would hide growth.
    let before = rss_kib(pid);
    let (upload_peak, ok) =
        peak_rss_during(pid, upload(client, url, &members[0], LARGE, 201)).await;
    let (delivery_peak, _) =
        peak_rss_during(pid, drained(client, url, Duration::from_secs(600))).await;
    rows.push((
        "peak RSS growth while one 100 MB upload streams in (target < 32 MB)".into(),
        format!(
            "{:.1} MB (from {:.0} MB){}",
            upload_peak.saturating_sub(before) as f64 / 1024.0,
            before as f64 / 1024.0,
            if ok { "" } else { ", the upload FAILED" }
        ),
    ));
    rows.push((
        "peak RSS growth while that file is delivered to monday".into(),
        format!(
            "{:.1} MB",
            delivery_peak.saturating_sub(before) as f64 / 1024.0
        ),
    ));
    // 20 clients, each uploading a 5 MB file, three times over, all at once.
    eprintln!("attachments: {CLIENTS} clients uploading 5 MB files at once…");
    let monday_before = metric(client, url, "portal_monday_requests_total").await;
    let started = Instant::now();
    let uploads = futures::future::join_all((0..CLIENTS).map(|n| {
        let member = &members[n % members.len()];
        async move {
            let mut times = Vec::new();
            for round in 0..ROUNDS {
                let began = Instant::now();
                let ok = upload(client, url, member, FILE, (n * ROUNDS + round) as u8).await;
                times.push((began.elapsed(), ok));
            }
            times
        }
    }))
    .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = uploads.iter().flatten().map(|(t, _)| *t).collect();
    let failed = uploads.iter().flatten().filter(|(_, ok)| !ok).count();
    latencies.sort();
    let files = latencies.len();
    rows.push((
        format!("{CLIENTS} clients uploading 5 MB files at once (new tickets, {files} files)"),
        format!(
            "{:.1} files/s ({:.0} MB/s), p50 {:.0} ms, p99 {:.0} ms, {failed} failed",
            files as f64 / elapsed.as_secs_f64(),
            (files * FILE) as f64 / elapsed.as_secs_f64() / (1024.0 * 1024.0),
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        ),
    ));
    let delivered_in = drained(client, url, Duration::from_secs(600)).await;
    let monday_after = metric(client, url, "portal_monday_requests_total").await;
    rows.push((
        "…then on monday (each ticket, its description's update and its file)".into(),
        format!(
            "all delivered {:.1} s after the last upload; {:.1} monday calls per ticket with a file",
            delivered_in.as_secs_f64(),
            (monday_after - monday_before) / files.max(1) as f64
        ),
    ));

    rows
}
