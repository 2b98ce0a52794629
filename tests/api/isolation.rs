//! A property test across every path: random operations by members of several portals never
//! see another portal's ticket id, title or text, in any response or live event.
//!
//! Every text a portal owns carries that portal's tag (`zz<portal>zz`), so a leak is a tag in
//! the wrong place. Seeded: set ISOLATION_SEED to replay a run, ISOLATION_OPS for its length.

use std::collections::HashMap;
use std::time::Duration;

use client_portal::api::tickets::{LoadDashboard, LoadTicket, PostReply};
use monday_local::store::API_USER_ID;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use monday_local::LocalBoard;

use crate::helpers::{NO_WRITE_LIMITS, TestApp, server_fn, spawn_app_with};

const PORTALS: [&str; 4] = ["iso_a", "iso_b", "iso_c", "iso_d"];

fn tag(portal: &str) -> String {
    format!("zz{portal}zz")
}

struct Member {
    portal: &'static str,
    client: reqwest::Client,
    jwt: String,
}

/// Fails if `text`, seen by a member of `portal`, carries anything of another portal: its
/// tag, or one of its ticket ids (any run of digits that is another portal's item id).
fn assert_clean(
    portal: &str,
    text: &str,
    ids: &HashMap<String, &'static str>,
    what: &str,
    seed: u64,
) {
    for other in PORTALS.iter().filter(|p| **p != portal) {
        assert!(
            !text.contains(&tag(other)),
            "seed {seed}: {what} for {portal} carries {other}'s text:\n{text}"
        );
    }
    for run in text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 10)
    {
        if let Some(owner) = ids.get(run) {
            assert_eq!(
                *owner, portal,
                "seed {seed}: {what} for {portal} carries {owner}'s ticket {run}"
            );
        }
    }
}

/// Learns which portal every item on the board belongs to (tickets created along the way too).
fn learn_ids(local_board: &LocalBoard, ids: &mut HashMap<String, &'static str>) {
    let snap = local_board.store().snapshot();
    let Some(board) = snap.board(local_board.board_id()) else {
        return;
    };
    let column = board.column("portal_id").unwrap();
    for item in snap.items.values() {
        let owner =
            monday_local::store::BoardState::column_text(column, item.values.get("portal_id"));
        if let Some(portal) = PORTALS.iter().find(|p| Some(**p) == owner.as_deref()) {
            ids.entry(item.id.to_string()).or_insert(portal);
        }
    }
}

fn heard_by(portal: &str, received: &std::sync::Mutex<Vec<(&'static str, String)>>) -> Vec<String> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| *p == portal)
        .map(|(_, e)| e.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_path_ever_crosses_portals() {
    let seed: u64 = std::env::var("ISOLATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261123);
    let operations: usize = std::env::var("ISOLATION_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    // Under a Standard account's limits (the local board's default), as a real agency.
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    app.webhooks_registered().await;
    run(&[&app], app.local_board(), seed, operations).await;
}

/// The property over `apps` (instances sharing one database and `board`): each operation goes
/// to one of them at random, and sockets are spread over all of them.
pub async fn run(apps: &[&TestApp], board: &LocalBoard, seed: u64, operations: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Each portal owns tickets on the board, tagged with its name.
    let board_id = board.board_id();
    let mut ids: HashMap<String, &'static str> = HashMap::new();
    for portal in PORTALS {
        let created = board
            .store()
            .mutate(|txn| {
                let mut items = Vec::new();
                for n in 0..5 {
                    let item = txn.create_item(
                        board_id,
                        &format!("{} ticket {n}", tag(portal)),
                        Some(&json!({"portal_id": portal, "description": {"text": format!("secret of {}", tag(portal))}, "status": {"label": "Open"}, "priority": {"label": "Low"}})),
                        false,
                        API_USER_ID,
                        None,
                    )?;
                    txn.create_update(item.id, &format!("<p>@client public note {}</p>", tag(portal)), 2, None)?;
                    txn.create_update(item.id, &format!("<p>internal note {}</p>", tag(portal)), 2, None)?;
                    items.push(item.id.to_string());
                }
                Ok(items)
            })
            .await
            .unwrap();
        for id in created {
            ids.insert(id, portal);
        }
    }

    let mut members = Vec::new();
    let mut sockets: Vec<(&'static str, crate::helpers::LiveSocket)> = Vec::new();
    for portal in PORTALS {
        for n in 0..2 {
            // Signed in and listening on one instance, served by any.
            let app = apps[n % apps.len()];
            let email = format!("m{n}@{portal}.test");
            let cookie = app.session_cookie(portal, &email).await;
            let client = crate::helpers::client_with_cookie(&cookie);
            let jwt = app.jwt_for(portal, &email).await;
            sockets.push((
                portal,
                app.live_socket(Some(&cookie), Some(&app.base_url))
                    .await
                    .unwrap(),
            ));
            members.push(Member {
                portal,
                client,
                jwt,
            });
        }
    }

    // Sockets are read all along, like browsers do, so none falls behind.
    let received: std::sync::Arc<std::sync::Mutex<Vec<(&'static str, String)>>> =
        Default::default();
    let listeners: Vec<(&'static str, tokio::task::JoinHandle<()>)> = sockets
        .into_iter()
        .map(|(portal, mut socket)| {
            let received = received.clone();
            let task = tokio::spawn(async move {
                while let Some(event) = socket.next_event(Duration::from_secs(3600)).await {
                    received
                        .lock()
                        .unwrap()
                        .push((portal, serde_json::to_string(&event).unwrap()));
                }
            });
            (portal, task)
        })
        .collect();

    let all_ids: Vec<String> = ids.keys().cloned().collect();
    let plain = crate::helpers::plain_client();
    let mut counts: HashMap<&str, usize> = HashMap::new();

    for step in 0..operations {
        let app = apps[rng.gen_range(0..apps.len())];
        let webhook = app.webhook_url();
        let member = &members[rng.gen_range(0..members.len())];
        let target = &all_ids[rng.gen_range(0..all_ids.len())];
        let op = rng.gen_range(0..9);
        let (what, body) = match op {
            0 => (
                "dashboard page",
                app.page_text(&member.client, "/dashboard").await,
            ),
            1 => (
                "ticket page",
                app.page_text(&member.client, &format!("/tickets/{target}"))
                    .await,
            ),
            2 => (
                "load_dashboard",
                app.call(
                    &member.client,
                    server_fn::<LoadDashboard>(),
                    &[("query[q]", "ticket"), ("query[page]", "1")],
                )
                .await
                .text()
                .await
                .unwrap(),
            ),
            3 => (
                "load_ticket",
                app.call(&member.client, server_fn::<LoadTicket>(), &[("id", target)])
                    .await
                    .text()
                    .await
                    .unwrap(),
            ),
            4 => {
                let text = format!("reply {step} {}", tag(member.portal));
                (
                    "post_reply",
                    app.call(
                        &member.client,
                        server_fn::<PostReply>(),
                        &[("ticket_id", target), ("body", &text)],
                    )
                    .await
                    .text()
                    .await
                    .unwrap(),
                )
            }
            5 => {
                let title = format!("created {step} {}", tag(member.portal));
                (
                    "create_ticket",
                    app.create_ticket(&member.client, &title, "x", "high")
                        .await
                        .text()
                        .await
                        .unwrap(),
                )
            }
            6 => {
                let portal = if rng.gen_bool(0.7) {
                    member.portal
                } else {
                    PORTALS[rng.gen_range(0..PORTALS.len())]
                };
                (
                    "REST list",
                    plain
                        .get(app.url(&format!("/api/v1/tickets/{portal}")))
                        .bearer_auth(&member.jwt)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap(),
                )
            }
            7 => {
                let title = format!("rest {step} {}", tag(member.portal));
                (
                    "REST create",
                    plain
                        .post(app.url("/api/v1/ticket"))
                        .bearer_auth(&member.jwt)
                        .json(&json!({"title": title, "priority": "low"}))
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap(),
                )
            }
            _ => {
                // A webhook for a random item; the payload even claims another board.
                let kind = [
                    "update_column_value",
                    "update_name",
                    "create_update",
                    "create_pulse",
                ][rng.gen_range(0..4)];
                let payload = json!({"event": {"type": kind, "pulseId": target.parse::<u64>().unwrap(), "columnId": "status", "updateId": 1, "triggerUuid": format!("iso-{seed}-{step}"), "boardId": 1}});
                let status = plain
                    .post(&webhook)
                    .json(&payload)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(status.is_success(), "webhook {status}");
                ("webhook", String::new())
            }
        };
        *counts.entry(what).or_default() += 1;

        assert_clean(member.portal, &body, &ids, what, seed);
        if step % 50 == 0 {
            learn_ids(board, &mut ids);
        }
    }
    learn_ids(board, &mut ids);

    // Every event every socket received belongs to its portal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut events = 0;
    for (portal, listener) in listeners {
        listener.abort();
        let heard = heard_by(portal, &received);
        for event in heard {
            events += 1;
            assert_clean(portal, &event, &ids, "live event", seed);
        }
    }
    assert!(
        events > 50,
        "the sockets heard the portals' own changes ({events})"
    );
    assert!(counts.len() == 9, "every kind of operation ran: {counts:?}");
    eprintln!(
        "isolation: seed {seed}, {} instance(s), {operations} operations {counts:?}, {events} live events checked",
        apps.len()
    );
}
