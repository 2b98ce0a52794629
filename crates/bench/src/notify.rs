//! `bench notify`: the notification queue on its own, in this process, against a loopback SMTP
//! server that accepts everything. 1,000 changes across 200 tickets (50 members, 4 tickets
//! each) are recorded as the webhook service records them (each checks membership and the
//! member's preference, then saves an event and opens or joins that ticket's mail); then the
//! window is moved past and the queue seals and sends until every mail is out. The queue lives
//! in the database, so what waiting notifications hold is measured twice: the process's memory
//! and the database's size, each per waiting change.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use client_portal::model::Status;
use client_portal::server::config::{Config, Vars};
use client_portal::server::notify::{Change, Notice, Notifier};
use client_portal::startup;

/// An SMTP server on loopback that accepts every message; counts them.
async fn smtp_sink() -> (String, Arc<AtomicU64>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            counted.fetch_add(1, Ordering::Relaxed);
                            let _ = write.write_all(b"250 queued\r\n").await;
                        }
                        continue;
                    }
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
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
    (url, count)
}

fn own_rss_kib() -> u64 {
    super::rss_kib(std::process::id())
}

fn database_bytes(dir: &std::path::Path) -> u64 {
    ["portal.db", "portal.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(dir.join(name)).ok())
        .map(|m| m.len())
        .sum()
}

pub async fn run(changes: usize, tickets: usize) {
    let dir = std::env::temp_dir().join(format!("bench-notify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (smtp, sent) = smtp_sink().await;
    let data_dir = dir.display().to_string();
    let database = format!("sqlite://{}/portal.db", dir.display());
    let config = Config::from_vars(&Vars::from_pairs([
        ("DATA_DIR", data_dir.as_str()),
        ("DATABASE_URL", database.as_str()),
        ("SMTP_URL", smtp.as_str()),
        ("NOTIFY_WINDOW_SECONDS", "120"),
    ]))
    .expect("configuration");
    let db = startup::open_database(&config).await.expect("database");
    let auth = Arc::new(startup::build_auth(&config, db.clone()).expect("auth"));
    let notifier = Notifier::new(
        db.clone(),
        auth.clone(),
        config.notify.clone(),
        "http://127.0.0.1:3000".into(),
        "bench".into(),
        Duration::from_secs(120),
    );
    auth.upsert_portal("bench", Some("Bench Support"))
        .await
        .unwrap();
    let members = 50;
    for m in 0..members {
        auth.upsert_member(
            "bench",
            &format!("member{m}@bench.test"),
            Some("Member"),
            None,
        )
        .await
        .unwrap();
    }
    let statuses = [Status::InProgress, Status::Resolved, Status::Open];
    let before_bytes = database_bytes(&dir);
    let before_rss = own_rss_kib();
    let started = Instant::now();
    for n in 0..changes {
        let ticket = n % tickets;
        let change = if n % 2 == 0 {
            Change::TeamReply {
                author: "Ana".into(),
                body_html: format!("<p>Update {n}: we are on it.</p>"),
            }
        } else {
            Change::StatusChanged {
                status: statuses[n % statuses.len()],
            }
        };
        notifier
            .record(Notice {
                portal_id: "bench".into(),
                ticket_id: (1_000_000 + ticket).to_string(),
                ticket_title: format!("Ticket {ticket}"),
                raised_by: Some(format!("member{}@bench.test", ticket % members)),
                actor: None,
                change,
            })
            .await;
    }
    let queued = started.elapsed();
    let after_rss = own_rss_kib();
    let after_bytes = database_bytes(&dir);
    let counts = notifier.counts().await.unwrap();
    let mails = counts.collecting as u64;
    // The window ends: seal and send everything.
    notifier.advance_clock(121);
    let started = Instant::now();
    while sent.load(Ordering::Relaxed) < mails {
        notifier.work().await.expect("the queue works");
        if started.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    let sending = started.elapsed();
    let delivered = sent.load(Ordering::Relaxed);
    println!("| measurement | result |");
    println!("| --- | --- |");
    println!(
        "| Notifications recorded ({changes} changes across {tickets} tickets, 50 members, SQLite) | {:.0} changes/s ({:.2} ms each): {mails} mails collecting |",
        changes as f64 / queued.as_secs_f64(),
        queued.as_secs_f64() * 1000.0 / changes as f64
    );
    println!(
        "| Notification mails sealed, built and sent over SMTP on loopback (one connection per mail) | {delivered} of {mails} in {:.2} s: {:.0} mails/s ({:.0} changes/s) |",
        sending.as_secs_f64(),
        delivered as f64 / sending.as_secs_f64(),
        changes as f64 / sending.as_secs_f64()
    );
    println!(
        "| Held by waiting notifications | process memory {:+} KiB for {changes} waiting changes (the queue is in the database, not in memory); database {:.0} bytes per waiting change |",
        after_rss as i64 - before_rss as i64,
        (after_bytes.saturating_sub(before_bytes)) as f64 / changes as f64
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
