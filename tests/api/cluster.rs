//! Several portal instances sharing one PostgreSQL and one monday: a local board reached by URL
//! and token, as a real board would be, with monday's webhooks registered at instance A (behind
//! a balancer they reach whichever instance it picks).
//!
//! These need PostgreSQL: they run in the suite's PostgreSQL pass (`./scripts/test` runs the
//! whole integration suite a second time with `PORTAL_TEST_POSTGRES`). On SQLite the portal is
//! one instance by design, and they say so and return.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_portal::api::tickets::LoadDashboard;
use client_portal::model::{Dashboard, Delivery, LiveEvent, Status};
use client_portal::server::auth::Member;
use client_portal::server::board::setup::setup_board;
use monday_local::{Failure, Faults};

use crate::helpers::{
    NO_WRITE_LIMITS, PortalProcess, TempDir, TestApp, TestBoard, add_generated_tickets, call_at,
    client_with_cookie, server_fn, sign_in_at, spawn_app_in, spawn_board, team_sets_status,
    test_database_url, test_postgres,
};

const WEBHOOK_SECRET: &str = "cluster-test-webhook-secret-2026";
const JWT_SECRET: &str = "cluster-test-jwt-secret-0123456789abcdef0123456789";

/// Two instances, A and B, in this process, on one database and one board.
struct Deployment {
    board: TestBoard,
    a: TestApp,
    b: TestApp,
    /// What every instance is configured with (for a third one started as a process).
    env: Vec<(String, String)>,
}

async fn deployment(extra: &[(&str, &str)]) -> Option<Deployment> {
    if test_postgres().is_none() {
        eprintln!("skipped: several instances share PostgreSQL (the suite's second pass)");
        return None;
    }
    let board = spawn_board().await;
    let dir_a = Arc::new(TempDir::new("cluster-a"));
    let database = test_database_url(&dir_a)
        .await
        .expect("a PostgreSQL database");
    // B's data directory names the same database.
    let dir_b = Arc::new(TempDir::new("cluster-b"));
    std::fs::write(dir_b.0.join("postgres-database-url"), &database).expect("written");

    let mut env: Vec<(String, String)> = vec![
        ("MONDAY_API_URL".into(), board.board.url().await),
        (
            "MONDAY_API_TOKEN".into(),
            board.board.token().expose().to_owned(),
        ),
        ("MONDAY_BOARD_ID".into(), board.board.board_id().to_string()),
        ("MONDAY_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()),
        ("JWT_SECRET".into(), JWT_SECRET.into()),
        ("MONDAY_MAX_RETRY_WAIT_SECONDS".into(), "2".into()),
        ("MONDAY_TIMEOUT_SECONDS".into(), "10".into()),
    ];
    for (name, value) in NO_WRITE_LIMITS.iter().chain(extra) {
        env.push(((*name).into(), (*value).into()));
    }
    let pairs: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let a = spawn_app_in(dir_a, &pairs).await;
    let b = spawn_app_in(dir_b, &pairs).await;
    setup_board(
        &a.state.config,
        &a.state.board,
        &a.state.db,
        None,
        Some(&a.webhook_url()),
    )
    .await
    .expect("the board is set up, its webhooks pointing at instance A");
    env.push(("DATABASE_URL".into(), database));
    Some(Deployment { board, a, b, env })
}

fn member(portal: &str, email: &str) -> Member {
    Member {
        email: email.into(),
        portal_id: portal.into(),
    }
}

#[tokio::test]
async fn a_change_whose_webhook_reached_a_reaches_sockets_and_pages_on_b() {
    let Some(d) = deployment(&[]).await else {
        return;
    };
    add_generated_tickets(&d.board.board, "acme", 3).await;
    let ana = member("acme", "ana@acme.test");
    let cookie = d.b.session_cookie("acme", &ana.email).await;
    // Ana's dashboard is open on B (its list is in B's cache), and her socket is on B.
    let listed =
        d.b.state
            .tickets
            .list(&d.b.access_of(&ana).await)
            .await
            .expect("a list")
            .value;
    let ticket = listed
        .iter()
        .find(|t| t.status != Status::Resolved)
        .expect("an unresolved ticket")
        .clone();
    let mut socket =
        d.b.live_socket(Some(&cookie), Some(&d.b.base_url))
            .await
            .expect("a socket on B");
    // monday calls by both instances: a change costs what it costs one instance, whichever
    // received the webhook (the leader reads, the other learns from it).
    let calls = || d.a.state.board.requests_sent() + d.b.state.board.requests_sent();
    let before = calls();

    let started = Instant::now();
    team_sets_status(&d.board.board, &ticket.id, "Resolved").await;
    let deadline = started + Duration::from_secs(1);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.next_event(left).await {
            Some(LiveEvent::StatusChanged {
                ticket_id, status, ..
            }) if ticket_id == ticket.id => {
                assert_eq!(status, Status::Resolved);
                break;
            }
            // The board's webhooks for the tickets just added may still be arriving.
            Some(LiveEvent::TicketCreated { .. }) => continue,
            other => panic!("B's socket heard {other:?} within a second"),
        }
    }
    eprintln!(
        "webhook at A to socket on B: {} ms",
        started.elapsed().as_millis()
    );

    // B's next page load shows it, with no more than one read for the change in all.
    let listed =
        d.b.state
            .tickets
            .list(&d.b.access_of(&ana).await)
            .await
            .expect("a list")
            .value;
    let now = listed.iter().find(|t| t.id == ticket.id).expect("listed");
    assert_eq!(now.status, Status::Resolved);
    let page =
        d.b.page_text(&client_with_cookie(&cookie), "/dashboard?status=resolved")
            .await;
    assert!(
        page.contains(&ticket.title),
        "the page on B shows it resolved"
    );
    assert!(
        calls() - before <= 1,
        "one read at most for the change, by one instance ({} calls)",
        calls() - before
    );

    // A team reply on the ticket: the same.
    let before = calls();
    let item_id: u64 = ticket.id.parse().unwrap();
    d.board
        .board
        .store()
        .mutate(|txn| txn.create_update(item_id, "<p>@client Done on our side</p>", 2, None))
        .await
        .unwrap();
    match socket.next_event(Duration::from_secs(2)).await {
        Some(LiveEvent::ReplyAdded { reply, .. }) => {
            assert_eq!(reply.body_html, "<p>Done on our side</p>");
        }
        other => panic!("B's socket heard {other:?}"),
    }
    assert!(calls() - before <= 1, "{} calls", calls() - before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_path_crosses_portals_with_operations_spread_over_two_instances() {
    let Some(d) = deployment(&[]).await else {
        return;
    };
    let operations: usize = std::env::var("ISOLATION_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    crate::isolation::run(&[&d.a, &d.b], &d.board.board, 20261124, operations).await;
}

/// The tickets `client` sees on its dashboard at `base_url`, with their delivery.
async fn titles_at(base_url: &str, client: &reqwest::Client) -> Vec<(String, Delivery)> {
    let mut titles = Vec::new();
    for page in 1.. {
        let page_text = page.to_string();
        let dashboard: Dashboard = call_at(
            base_url,
            client,
            server_fn::<LoadDashboard>(),
            &[("query[page]", &page_text)],
        )
        .await
        .json()
        .await
        .expect("a dashboard");
        titles.extend(
            dashboard
                .page
                .tickets
                .into_iter()
                .map(|t| (t.title, t.delivery)),
        );
        if page >= dashboard.page.pages {
            break;
        }
    }
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_an_instance_killed_while_holding_rows() {
    const LEASE_SECONDS: u64 = 4;
    let lease = LEASE_SECONDS.to_string();
    let Some(d) = deployment(&[("OUTBOX_LEASE_SECONDS", &lease)]).await else {
        return;
    };
    // Instance C: the same configuration, as a process of its own that can be SIGKILLed.
    let env: Vec<(&str, &str)> = d
        .env
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut c = PortalProcess::start("cluster-c", &env).await;

    // Twenty clients, half on B, half on C.
    let mut clients = Vec::new();
    for n in 0..20 {
        let portal = format!("failover_{}", n % 4);
        let email = format!("client{n}@{portal}.test");
        let base = if n % 2 == 0 {
            d.b.base_url.clone()
        } else {
            c.base_url.clone()
        };
        let client = sign_in_at(&base, &d.a, &portal, &email).await;
        clients.push((n, base, client));
    }

    // monday is down: 200 tickets wait in the shared outbox.
    d.board
        .board
        .set_faults(Faults {
            failure: Some(Failure::Down),
            ..Faults::default()
        })
        .await
        .unwrap();
    let writers = clients.iter().map(|(n, base, client)| async move {
        let mut mine = Vec::new();
        for k in 0..10 {
            let title = format!("failover ticket c{n} k{k}");
            let response = call_at(
                base,
                client,
                server_fn::<client_portal::api::tickets::CreateTicket>(),
                &[("title", &title), ("description", "d"), ("priority", "low")],
            )
            .await;
            assert!(response.status().is_success(), "{}", response.status());
            mine.push(title);
        }
        mine
    });
    let created: Vec<Vec<String>> = futures::future::join_all(writers).await;
    assert_eq!(created.iter().map(Vec::len).sum::<usize>(), 200);

    // monday comes back, slowly: every answer takes three seconds, so claimed rows stay
    // claimed while their instance waits.
    d.board
        .board
        .set_faults(Faults {
            latency_ms: 3000,
            ..Faults::default()
        })
        .await
        .unwrap();
    let b_instance = d.b.state.tickets.instance().to_owned();
    let a_instance = d.a.state.tickets.instance().to_owned();
    let claimed_by_c = || async {
        let (count,): (i64,) = client_portal::on_db!(&d.b.state.db, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE state = 'waiting' AND claimed_by IS NOT NULL
             AND claimed_by <> $1 AND claimed_by <> $2",
        )
        .bind(&b_instance)
        .bind(&a_instance)
        .fetch_one(pool)
        .await)
        .expect("the outbox");
        count
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while claimed_by_c().await == 0 {
        assert!(Instant::now() < deadline, "C never claimed a row");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.kill().await;
    let held = claimed_by_c().await;
    assert!(held > 0, "C died holding rows");
    let killed_at = Instant::now();
    d.board.board.set_faults(Faults::default()).await.unwrap();

    // A and B take C's rows over once its lease runs out, and deliver everything.
    let deadline = Instant::now() + Duration::from_secs(120);
    while d.b.outbox_count("waiting").await > 0 {
        assert!(
            Instant::now() < deadline,
            "{} rows still wait",
            d.b.outbox_count("waiting").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "failover: C killed holding {held} rows; the outbox drained {} ms later (lease {LEASE_SECONDS} s)",
        killed_at.elapsed().as_millis()
    );
    assert_eq!(d.b.outbox_count("failed").await, 0, "nothing failed");

    let snapshot = d.board.board.store().snapshot();
    let mut on_board: HashMap<String, usize> = HashMap::new();
    for item in snapshot.items.values() {
        *on_board.entry(item.name.clone()).or_default() += 1;
    }
    for ((_, _, client), titles) in clients.iter().zip(&created) {
        // C's clients are served by B now, as a balancer would send them.
        let seen = titles_at(&d.b.base_url, client).await;
        for title in titles {
            assert_eq!(
                on_board.get(title),
                Some(&1),
                "{title} is on the board once"
            );
            let delivery = seen
                .iter()
                .find(|(t, _)| t == title)
                .map(|(_, delivery)| delivery.clone());
            assert_eq!(
                delivery,
                Some(Delivery::Delivered),
                "{title} on its author's page"
            );
        }
    }
}

/// Sessions and memberships are answered from each instance's memory: a session ended on A,
/// or a member removed through A, is refused by B within its watch period.
#[tokio::test]
async fn a_session_ended_on_a_is_refused_by_b_within_the_watch_period() {
    use client_portal::api::auth::SignOut;
    use client_portal::server::memory::WATCH_EVERY;
    let Some(d) = deployment(&[]).await else {
        return;
    };
    let deadline = WATCH_EVERY * 3 + Duration::from_millis(300);
    let refused_by_b_within = |cookie: String| {
        let url = d.b.url("/dashboard");
        async move {
            let client = client_with_cookie(&cookie);
            let started = Instant::now();
            loop {
                let status = client.get(&url).send().await.expect("B answers").status();
                if status != 200 {
                    return true;
                }
                if started.elapsed() > deadline {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    // Signed out on A while B has the session in memory.
    let cookie = d.a.session_cookie("acme", "ana@acme.test").await;
    let on_b = client_with_cookie(&cookie);
    assert_eq!(
        on_b.get(d.b.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    d.a.call(&client_with_cookie(&cookie), server_fn::<SignOut>(), &[])
        .await;
    assert!(
        refused_by_b_within(cookie).await,
        "B still accepts a session A ended"
    );
    // A member's sessions ended through A (what removing a member does).
    let cookie = d.a.session_cookie("acme", "ana@acme.test").await;
    assert_eq!(
        client_with_cookie(&cookie)
            .get(d.b.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    d.a.state
        .sessions
        .delete_member(&member("acme", "ana@acme.test"))
        .await
        .expect("sessions ended");
    assert!(
        refused_by_b_within(cookie).await,
        "B still accepts a session of a member whose sessions A ended"
    );
}
