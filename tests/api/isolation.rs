//! A property test across every path: random operations by the people of several portals never
//! show anyone a ticket they may not see: never another portal's, and for a requester never a
//! colleague's they did not raise and do not follow. Checked in every response, every live
//! event and every notification.
//!
//! Every text a portal owns carries that portal's tag (`zz<portal>zz`) and every text of a
//! ticket carries the ticket's own tag (`tt<n>tt`), so a leak is a tag in the wrong place (or
//! a ticket id, any run of ten digits or more). Seeded: set ISOLATION_SEED to replay a run,
//! ISOLATION_OPS for its length.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_portal::api::tickets::{LoadDashboard, LoadTicket, PostReply, SetFollowing};
use client_portal::model::Role;
use monday_local::store::API_USER_ID;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use monday_local::LocalBoard;

use crate::helpers::{NO_WRITE_LIMITS, TestApp, server_fn, spawn_app_with};

const PORTALS: [&str; 4] = ["iso_a", "iso_b", "iso_c", "iso_d"];
/// The people of each portal: one member (sees everything) and two requesters.
const PEOPLE: [(&str, Role); 3] = [
    ("m0", Role::Member),
    ("r1", Role::Requester),
    ("r2", Role::Requester),
];

fn tag(portal: &str) -> String {
    format!("zz{portal}zz")
}

fn ticket_tag(n: usize) -> String {
    format!("tt{n}tt")
}

fn email_of(who: &str, portal: &str) -> String {
    format!("{who}@{portal}.test")
}

struct Person {
    portal: &'static str,
    email: String,
    role: Role,
    client: reqwest::Client,
    jwt: String,
}

/// A ticket as the test knows it: whose it is and who raised it.
#[derive(Clone)]
struct Known {
    portal: &'static str,
    raised_by: String,
}

/// Everything the run knows: tickets by tag number and by item id, and who follows what since
/// which step.
#[derive(Default)]
struct World {
    by_tag: HashMap<usize, Known>,
    by_id: HashMap<String, usize>,
    /// (email, ticket tag) -> the step the follow was made at.
    follows: HashMap<(String, usize), usize>,
}

impl World {
    /// Whether `viewer` may see ticket `n` at `step`.
    fn visible(&self, viewer: &Viewer, n: usize, step: usize) -> bool {
        let Some(known) = self.by_tag.get(&n) else {
            return true;
        };
        known.portal == viewer.portal
            && (viewer.role != Role::Requester
                || known.raised_by == viewer.email
                || self
                    .follows
                    .get(&(viewer.email.clone(), n))
                    .is_some_and(|since| *since <= step))
    }

    /// Fails if `text`, seen by `viewer` at `step`, carries anything they may not see.
    fn assert_clean(&self, viewer: &Viewer, text: &str, what: &str, step: usize, seed: u64) {
        for other in PORTALS.iter().filter(|p| **p != viewer.portal) {
            assert!(
                !text.contains(&tag(other)),
                "seed {seed} step {step}: {what} for {} carries {other}'s text:\n{text}",
                viewer.email
            );
        }
        for n in tags_in(text) {
            assert!(
                self.visible(viewer, n, step),
                "seed {seed} step {step}: {what} for {} ({:?}) carries ticket tt{n}tt of {}:\n{text}",
                viewer.email,
                viewer.role,
                self.by_tag[&n].raised_by
            );
        }
        for run in text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|run| run.len() >= 10)
        {
            if let Some(n) = self.by_id.get(run) {
                assert!(
                    self.visible(viewer, *n, step),
                    "seed {seed} step {step}: {what} for {} ({:?}) carries ticket {run} of {}",
                    viewer.email,
                    viewer.role,
                    self.by_tag[n].raised_by
                );
            }
        }
    }
}

/// Who saw something: enough to decide what they may see.
#[derive(Clone)]
struct Viewer {
    portal: &'static str,
    email: String,
    role: Role,
}

/// Every ticket tag (`tt<n>tt`) in `text`.
fn tags_in(text: &str) -> Vec<usize> {
    let mut tags = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("tt") {
        let after = &rest[start + 2..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0
            && after[digits..].starts_with("tt")
            && let Ok(n) = after[..digits].parse()
        {
            tags.push(n);
            rest = &after[digits + 2..];
        } else {
            rest = after;
        }
    }
    tags
}

/// Learns the item id of every tagged ticket on the board (tickets created along the way too).
fn learn_ids(local_board: &LocalBoard, world: &mut World) {
    let snap = local_board.store().snapshot();
    let Some(board) = snap.board(local_board.board_id()) else {
        return;
    };
    for item in snap.items.values() {
        if let Some(n) = tags_in(&item.name).first()
            && board.id == item.board_id
        {
            world.by_id.insert(item.id.to_string(), *n);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_path_ever_crosses_portals_or_roles() {
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
    let board_id = board.board_id();
    let mut world = World::default();
    let mut next_tag = 0usize;

    // Each portal's people, with their roles.
    let auth = &apps[0].state.auth;
    for portal in PORTALS {
        auth.upsert_portal(portal, None).await.unwrap();
        for (who, role) in PEOPLE {
            auth.upsert_member(portal, &email_of(who, portal), None, Some(role))
                .await
                .unwrap();
        }
    }

    // Each portal owns tickets on the board raised by each of its people, tagged.
    for portal in PORTALS {
        for n in 0..6 {
            next_tag += 1;
            let number = next_tag;
            let raised_by = email_of(PEOPLE[n % PEOPLE.len()].0, portal);
            let texts = format!("{} {}", tag(portal), ticket_tag(number));
            let email = raised_by.clone();
            let item = board
                .store()
                .mutate(|txn| {
                    let item = txn.create_item(
                        board_id,
                        &format!("{texts} ticket {n}"),
                        Some(&json!({"portal_id": portal, "client_email": {"email": email, "text": email}, "description": {"text": format!("secret of {texts}")}, "status": {"label": "Open"}, "priority": {"label": "Low"}})),
                        false,
                        API_USER_ID,
                        None,
                    )?;
                    txn.create_update(item.id, &format!("<p>@client public note {texts}</p>"), 2, None)?;
                    txn.create_update(item.id, &format!("<p>internal note {texts}</p>"), 2, None)?;
                    Ok(item)
                })
                .await
                .unwrap();
            world.by_tag.insert(number, Known { portal, raised_by });
            world.by_id.insert(item.id.to_string(), number);
        }
    }

    let step_now = Arc::new(AtomicUsize::new(0));
    let received: Arc<Mutex<Vec<(Viewer, usize, String)>>> = Default::default();
    let mut people = Vec::new();
    let mut listeners = Vec::new();
    for portal in PORTALS {
        for (n, (who, role)) in PEOPLE.into_iter().enumerate() {
            // Signed in and listening on one instance, served by any.
            let app = apps[n % apps.len()];
            let email = email_of(who, portal);
            let cookie = app.session_cookie(portal, &email).await;
            let client = crate::helpers::client_with_cookie(&cookie);
            let jwt = app.jwt_for(portal, &email).await;
            let mut socket = app
                .live_socket(Some(&cookie), Some(&app.base_url))
                .await
                .unwrap();
            let viewer = Viewer {
                portal,
                email: email.clone(),
                role,
            };
            // Sockets are read all along, like browsers do, so none falls behind; each event
            // is stamped with the step it arrived during.
            let (received, step_now) = (received.clone(), step_now.clone());
            listeners.push(tokio::spawn(async move {
                while let Some(message) = socket.next_message(Duration::from_secs(3600)).await {
                    let step = step_now.load(Ordering::SeqCst);
                    received.lock().unwrap().push((
                        viewer.clone(),
                        step,
                        serde_json::to_string(&message).unwrap(),
                    ));
                }
            }));
            people.push(Person {
                portal,
                email,
                role,
                client,
                jwt,
            });
        }
    }

    let plain = crate::helpers::plain_client();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let statuses = ["Open", "In Progress", "Resolved", "Closed"];
    // The slowest operations, reported at the end (a run that nears the client's timeout
    // shows where the time went).
    let mut slowest: Vec<(Duration, &str, usize)> = Vec::new();

    for step in 0..operations {
        step_now.store(step, Ordering::SeqCst);
        let app = apps[rng.gen_range(0..apps.len())];
        let webhook = app.webhook_url();
        let person = &people[rng.gen_range(0..people.len())];
        let viewer = Viewer {
            portal: person.portal,
            email: person.email.clone(),
            role: person.role,
        };
        let all_ids: Vec<(String, usize)> =
            world.by_id.iter().map(|(id, n)| (id.clone(), *n)).collect();
        let (target, target_tag) = all_ids[rng.gen_range(0..all_ids.len())].clone();
        let op = rng.gen_range(0..12);
        let started = std::time::Instant::now();
        let (what, body) = match op {
            0 => (
                "dashboard page",
                app.page_text(&person.client, "/dashboard").await,
            ),
            1 => (
                "ticket page",
                app.page_text(&person.client, &format!("/tickets/{target}"))
                    .await,
            ),
            2 => (
                "load_dashboard",
                app.call(
                    &person.client,
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
                app.call(
                    &person.client,
                    server_fn::<LoadTicket>(),
                    &[("id", &target)],
                )
                .await
                .text()
                .await
                .unwrap(),
            ),
            4 => {
                // Written on the ticket, so it carries the ticket's tag.
                let text = format!(
                    "reply {step} {} {}",
                    tag(person.portal),
                    ticket_tag(target_tag)
                );
                let response = app
                    .call(
                        &person.client,
                        server_fn::<PostReply>(),
                        &[("ticket_id", &target), ("body", &text)],
                    )
                    .await;
                let status = response.status().as_u16();
                // 429: the person asked for too many tickets that are not theirs lately.
                if status != 429 {
                    assert_eq!(
                        status == 200,
                        world.visible(&viewer, target_tag, step),
                        "seed {seed} step {step}: {} replying on tt{target_tag}tt got {status}",
                        person.email
                    );
                }
                ("post_reply", response.text().await.unwrap())
            }
            5 => {
                next_tag += 1;
                world.by_tag.insert(
                    next_tag,
                    Known {
                        portal: person.portal,
                        raised_by: person.email.clone(),
                    },
                );
                let title = format!(
                    "created {step} {} {}",
                    tag(person.portal),
                    ticket_tag(next_tag)
                );
                (
                    "create_ticket",
                    app.create_ticket(&person.client, &title, "x", "high")
                        .await
                        .text()
                        .await
                        .unwrap(),
                )
            }
            6 => {
                let portal = if rng.gen_bool(0.7) {
                    person.portal
                } else {
                    PORTALS[rng.gen_range(0..PORTALS.len())]
                };
                (
                    "REST list",
                    plain
                        .get(app.url(&format!("/api/v1/tickets/{portal}")))
                        .bearer_auth(&person.jwt)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap(),
                )
            }
            7 => {
                next_tag += 1;
                world.by_tag.insert(
                    next_tag,
                    Known {
                        portal: person.portal,
                        raised_by: person.email.clone(),
                    },
                );
                let title = format!(
                    "rest {step} {} {}",
                    tag(person.portal),
                    ticket_tag(next_tag)
                );
                (
                    "REST create",
                    plain
                        .post(app.url("/api/v1/ticket"))
                        .bearer_auth(&person.jwt)
                        .json(&json!({"title": title, "priority": "low"}))
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap(),
                )
            }
            8 => {
                // Following: oneself, or a colleague (only members may add others). Allowed
                // only on a ticket the person may see.
                let who = PEOPLE[rng.gen_range(0..PEOPLE.len())].0;
                let email = if rng.gen_bool(0.5) {
                    person.email.clone()
                } else {
                    email_of(who, person.portal)
                };
                let response = app
                    .call(
                        &person.client,
                        server_fn::<SetFollowing>(),
                        &[("ticket_id", &target), ("email", &email)],
                    )
                    .await;
                let status = response.status().as_u16();
                let sees = world.visible(&viewer, target_tag, step);
                let may_add = email == person.email || person.role != Role::Requester;
                let expected = match (sees, may_add) {
                    (false, _) => 404,
                    (true, false) => 403,
                    (true, true) => 200,
                };
                if status != 429 {
                    assert_eq!(
                        status, expected,
                        "seed {seed} step {step}: {} making {email} follow tt{target_tag}tt",
                        person.email
                    );
                }
                if status == 200 {
                    world.follows.entry((email, target_tag)).or_insert(step);
                }
                ("follow", response.text().await.unwrap())
            }
            9 => {
                // The team changes a status: the raiser's and followers' live events and mail.
                let label = statuses[rng.gen_range(0..statuses.len())];
                crate::helpers::team_sets_status(board, &target, label).await;
                ("team status", String::new())
            }
            10 => {
                // The team answers in public, on the ticket.
                let known = &world.by_tag[&target_tag];
                let text = format!(
                    "<p>@client answer {step} {} {}</p>",
                    tag(known.portal),
                    ticket_tag(target_tag)
                );
                let item: u64 = target.parse().unwrap();
                board
                    .store()
                    .mutate(|txn| txn.create_update(item, &text, 2, None))
                    .await
                    .unwrap();
                ("team reply", String::new())
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
        slowest.push((started.elapsed(), what, step));
        slowest.sort_by_key(|op| std::cmp::Reverse(op.0));
        slowest.truncate(3);

        world.assert_clean(&viewer, &body, what, step, seed);
        if step % 50 == 0 {
            learn_ids(board, &mut world);
        }
    }
    learn_ids(board, &mut world);

    // Every event every socket received is one its person may see.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for listener in listeners {
        listener.abort();
    }
    let heard = std::mem::take(&mut *received.lock().unwrap());
    let mut by_role: HashMap<Role, usize> = HashMap::new();
    for (viewer, step, event) in &heard {
        *by_role.entry(viewer.role).or_default() += 1;
        world.assert_clean(viewer, event, "live event", *step, seed);
    }
    assert!(
        by_role.get(&Role::Member).is_some_and(|n| *n > 50),
        "the members' sockets heard their portals' changes ({by_role:?})"
    );
    assert!(
        by_role.get(&Role::Requester).is_some_and(|n| *n > 10),
        "the requesters' sockets heard their own tickets' changes ({by_role:?})"
    );

    // Every notification is about a ticket its recipient may see (follows only grow in this
    // run, so the last step's follows are the most anyone ever had).
    let mails: Vec<(String, String, String)> =
        client_portal::on_db!(&apps[0].state.db, pool => sqlx::query_as(
        "SELECT portal_id, email, ticket_id FROM notify_events",
    )
    .fetch_all(pool)
    .await)
        .unwrap();
    let mut mailed = HashSet::new();
    for (portal, email, ticket_id) in &mails {
        let person = people
            .iter()
            .find(|p| &p.email == email && p.portal == portal)
            .expect("mail only to the portals' people");
        let viewer = Viewer {
            portal: person.portal,
            email: email.clone(),
            role: person.role,
        };
        let line = format!("notification about {ticket_id}");
        world.assert_clean(&viewer, &line, "mail", operations, seed);
        mailed.insert(person.role);
    }
    assert!(
        mailed.contains(&Role::Requester),
        "requesters were mailed about their own and followed tickets ({} mails)",
        mails.len()
    );
    assert!(
        counts.len() == 12,
        "every kind of operation ran: {counts:?}"
    );
    eprintln!(
        "isolation: seed {seed}, {} instance(s), {operations} operations {counts:?}, live events {by_role:?}, {} follows, {} notifications checked; slowest {slowest:?}",
        apps.len(),
        world.follows.len(),
        mails.len()
    );
}
