//! Conversations with threads, as the team works on monday: a reply under a client's message
//! answers the client (unless `@internal`), the client's answer to a team message lands in that
//! message's thread, edits and deletions reach the client's page live, restored items come
//! back; and what it costs: a webhook that carries its value costs no monday call.

use std::time::Duration;

use client_portal::api::tickets::PostReply;
use client_portal::model::LiveEvent;
use client_portal::server::auth::Member;
use monday_local::store::{API_USER_ID, ItemState};
use serde_json::json;

use crate::helpers::{NO_WRITE_LIMITS, TestApp, server_fn, spawn_app_with};

/// A member of `portal`, signed in, with a live socket; and one ticket of theirs on the board,
/// with a message they wrote through the portal (delivered).
struct Scene {
    client: reqwest::Client,
    socket: crate::helpers::LiveSocket,
    member: Member,
    item_id: u64,
    /// The monday update the client's message became.
    message_update: u64,
}

async fn scene(app: &TestApp, portal: &str) -> Scene {
    app.webhooks_registered().await;
    let email = format!("kim@{portal}.test");
    let board = app.local_board();
    let board_id = board.board_id();
    let item = board
        .store()
        .mutate(|txn| {
            txn.create_item(
                board_id,
                "Threaded ticket",
                Some(&json!({"portal_id": portal, "status": {"label": "Open"}, "priority": {"label": "Low"}})),
                false,
                API_USER_ID,
                None,
            )
        })
        .await
        .unwrap();
    let client = app.signed_in(portal, &email).await;
    let cookie = app.session_cookie(portal, &email).await;
    let socket = app
        .live_socket(Some(&cookie), Some(&app.base_url))
        .await
        .unwrap();
    let member = Member {
        email: email.clone(),
        portal_id: portal.to_owned(),
    };
    // Warm the caches as open pages do.
    let access = app.access_of(&member).await;
    app.state.tickets.list(&access).await.unwrap();
    app.state
        .tickets
        .detail(&access, &item.id.to_string())
        .await
        .unwrap();
    let response = app
        .call(
            &client,
            server_fn::<PostReply>(),
            &[
                ("ticket_id", &item.id.to_string()),
                ("body", "The printer is on fire"),
            ],
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    app.outbox_drained(Duration::from_secs(10)).await;
    let message_update = app
        .local_board()
        .store()
        .snapshot()
        .item_updates(item.id)
        .iter()
        .find(|u| u.body.contains("The printer is on fire"))
        .expect("the client's message on the board")
        .id;
    let mut scene = Scene {
        client,
        socket,
        member,
        item_id: item.id,
        message_update,
    };
    // Let the events of the set-up pass.
    while scene
        .socket
        .next_event(Duration::from_millis(500))
        .await
        .is_some()
    {}
    scene
}

async fn conversation_ids(app: &TestApp, scene: &Scene) -> Vec<(String, Option<String>)> {
    app.state
        .tickets
        .detail(
            &app.access_of(&scene.member).await,
            &scene.item_id.to_string(),
        )
        .await
        .unwrap()
        .value
        .replies
        .into_iter()
        .map(|r| (r.body_html, r.in_reply_to))
        .collect()
}

#[tokio::test]
async fn a_reply_in_the_clients_thread_answers_the_client_and_an_internal_one_never_shows() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let mut scene = scene(&app, "thread_a").await;
    let store = app.local_board().store();
    let reply = store
        .mutate(|txn| {
            txn.create_reply(
                scene.message_update,
                "<p>We are sending a technician</p>",
                2,
                None,
            )
        })
        .await
        .unwrap();
    match scene.socket.next_event(Duration::from_secs(5)).await {
        Some(LiveEvent::ReplyAdded { reply: shown, .. }) => {
            assert_eq!(shown.id, reply.id.to_string());
            assert_eq!(shown.body_html, "<p>We are sending a technician</p>");
            assert!(!shown.from_client);
            assert!(shown.in_reply_to.is_some(), "shown in the client's thread");
            assert!(
                client_portal::i18n::islands::LiveWords::new(client_portal::i18n::Locale::en)
                    .announce(&LiveEvent::ReplyAdded {
                        ticket_id: String::new(),
                        title: "T".into(),
                        reply: shown
                    })
                    .is_some(),
                "with a toast"
            );
        }
        other => panic!("{other:?}"),
    }
    store
        .mutate(|txn| {
            txn.create_reply(
                scene.message_update,
                "<p>@internal they dropped it, charge them</p>",
                2,
                None,
            )
        })
        .await
        .unwrap();
    assert!(
        scene
            .socket
            .next_event(Duration::from_millis(800))
            .await
            .is_none(),
        "an internal reply publishes nothing"
    );
    let shown = conversation_ids(&app, &scene).await;
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[1].0.contains("technician"));
    let page = app
        .page_text(&scene.client, &format!("/tickets/{}", scene.item_id))
        .await;
    assert!(page.contains("We are sending a technician"));
    assert!(!page.contains("charge them"));
    assert!(!page.contains("@internal"));
}

#[tokio::test]
async fn the_clients_answer_to_a_team_message_is_a_reply_in_that_thread() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let scene = scene(&app, "thread_b").await;
    let store = app.local_board().store();
    let team = store
        .mutate(|txn| {
            txn.create_update(
                scene.item_id,
                "<p>@client Could you send a photo?</p>",
                2,
                None,
            )
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = app
        .call(
            &scene.client,
            server_fn::<PostReply>(),
            &[
                ("ticket_id", &scene.item_id.to_string()),
                ("body", "Here it is, attached"),
                ("reply_to", &team.id.to_string()),
            ],
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    app.outbox_drained(Duration::from_secs(10)).await;
    let snap = app.local_board().store().snapshot();
    let thread = snap.replies(team.id);
    assert_eq!(thread.len(), 1, "a monday reply under the team's message");
    assert!(thread[0].body.contains("Here it is, attached"));
    assert!(thread[0].body.contains("wrote via the client portal"));
    let shown = conversation_ids(&app, &scene).await;
    let answer = shown
        .iter()
        .find(|(body, _)| body.contains("Here it is"))
        .unwrap();
    assert_eq!(answer.1.as_deref(), Some(team.id.to_string().as_str()));

    // A thread the client cannot see (an internal note) is refused.
    let note = store
        .mutate(|txn| txn.create_update(scene.item_id, "<p>Internal note</p>", 2, None))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = app
        .call(
            &scene.client,
            server_fn::<PostReply>(),
            &[
                ("ticket_id", &scene.item_id.to_string()),
                ("body", "Sneaky"),
                ("reply_to", &note.id.to_string()),
            ],
        )
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
}

#[tokio::test]
async fn edited_and_deleted_public_replies_change_on_the_clients_page_live() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let mut scene = scene(&app, "thread_c").await;
    let store = app.local_board().store();
    let reply = store
        .mutate(|txn| txn.create_reply(scene.message_update, "<p>Fixed on Monday</p>", 2, None))
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::ReplyAdded { .. })
    ));
    store
        .mutate(|txn| txn.edit_update(reply.id, "<p>Fixed on Tuesday</p>", 2))
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::ReplyEdited { .. })
    ));
    let page = app
        .page_text(&scene.client, &format!("/tickets/{}", scene.item_id))
        .await;
    assert!(page.contains("Fixed on Tuesday"));
    assert!(!page.contains("Fixed on Monday"));

    store
        .mutate(|txn| txn.delete_update(reply.id, 2))
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::ReplyRemoved { .. })
    ));
    let page = app
        .page_text(&scene.client, &format!("/tickets/{}", scene.item_id))
        .await;
    assert!(!page.contains("Fixed on Tuesday"));

    // Editing an internal note tells the client nothing.
    let note = store
        .mutate(|txn| txn.create_update(scene.item_id, "<p>internal</p>", 2, None))
        .await
        .unwrap();
    store
        .mutate(|txn| txn.edit_update(note.id, "<p>still internal</p>", 2))
        .await
        .unwrap();
    assert!(
        scene
            .socket
            .next_event(Duration::from_millis(800))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn an_archived_item_restored_comes_back() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let mut scene = scene(&app, "thread_d").await;
    let store = app.local_board().store();
    store
        .mutate(|txn| txn.set_item_state(scene.item_id, ItemState::Archived, 2))
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::Removed { .. })
    ));
    let list = app
        .state
        .tickets
        .list(&app.access_of(&scene.member).await)
        .await
        .unwrap()
        .value;
    assert!(!list.iter().any(|t| t.id == scene.item_id.to_string()));
    store
        .mutate(|txn| txn.restore_item(scene.item_id, 2))
        .await
        .unwrap();
    match scene.socket.next_event(Duration::from_secs(5)).await {
        Some(LiveEvent::TicketCreated { ticket }) => {
            assert_eq!(ticket.id, scene.item_id.to_string())
        }
        other => panic!("{other:?}"),
    }
    let list = app
        .state
        .tickets
        .list(&app.access_of(&scene.member).await)
        .await
        .unwrap()
        .value;
    assert!(list.iter().any(|t| t.id == scene.item_id.to_string()));
}

/// The payload carries the value: status, priority, name and a reply in a known thread cost no
/// monday call when the ticket is in the caches; a new item the team made costs one read.
#[tokio::test]
async fn webhooks_that_carry_their_value_cost_no_monday_call() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let mut scene = scene(&app, "thread_e").await;
    let board = app.local_board();
    let board_id = board.board_id();
    let store = board.store();
    // The team member's name, learned once from an update read with the item.
    store
        .mutate(|txn| txn.create_update(scene.item_id, "<p>hello team</p>", 2, None))
        .await
        .unwrap();
    app.state
        .tickets
        .invalidate("thread_e", &scene.item_id.to_string())
        .await;
    app.state
        .tickets
        .detail(
            &app.access_of(&scene.member).await,
            &scene.item_id.to_string(),
        )
        .await
        .unwrap();
    while scene
        .socket
        .next_event(Duration::from_millis(300))
        .await
        .is_some()
    {}
    let calls = || app.state.board.requests_sent();
    let before = calls();
    store
        .mutate(|txn| {
            txn.change_column_values(
                board_id,
                scene.item_id,
                &json!({"status": {"label": "In Progress"}}),
                false,
                2,
            )
        })
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::StatusChanged { .. })
    ));
    store
        .mutate(|txn| {
            txn.change_column_values(
                board_id,
                scene.item_id,
                &json!({"priority": {"label": "Urgent"}, "name": "Renamed ticket"}),
                false,
                2,
            )
        })
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(
            scene
                .socket
                .next_event(Duration::from_secs(5))
                .await
                .is_some()
        );
    }
    store
        .mutate(|txn| txn.create_reply(scene.message_update, "<p>On it</p>", 2, None))
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::ReplyAdded { .. })
    ));
    assert_eq!(calls() - before, 0, "four webhooks, no monday call");
    // The caches are right without a read: the page shows the new values.
    let detail = app
        .state
        .tickets
        .detail(
            &app.access_of(&scene.member).await,
            &scene.item_id.to_string(),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(detail.ticket.title, "Renamed ticket");
    assert_eq!(
        detail.ticket.status,
        client_portal::model::Status::InProgress
    );
    assert_eq!(
        detail.ticket.priority,
        client_portal::model::Priority::Urgent
    );
    assert!(detail.replies.iter().any(|r| r.body_html.contains("On it")));
    assert_eq!(calls() - before, 0);

    // A new item the team made: the portal must read it (its portal is not in the payload).
    store
        .mutate(|txn| {
            txn.create_item(
                board_id,
                "Made by the team",
                Some(&json!({"portal_id": "thread_e"})),
                false,
                2,
                None,
            )
        })
        .await
        .unwrap();
    assert!(matches!(
        scene.socket.next_event(Duration::from_secs(5)).await,
        Some(LiveEvent::TicketCreated { .. })
    ));
    assert_eq!(calls() - before, 1);
}

/// Nobody has the ticket open (its detail is not cached): a public team update still reaches
/// the portal's dashboard, built from the payload; the author's name costs one call, once.
#[tokio::test]
async fn a_public_update_on_a_ticket_nobody_has_open_costs_no_read() {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    let mut scene = scene(&app, "thread_f").await;
    let board = app.local_board();
    let board_id = board.board_id();
    let store = board.store();
    let quiet = store
        .mutate(|txn| {
            txn.create_item(
                board_id,
                "Nobody looks at this",
                Some(&json!({"portal_id": "thread_f"})),
                false,
                API_USER_ID,
                None,
            )
        })
        .await
        .unwrap();
    while scene
        .socket
        .next_event(Duration::from_millis(500))
        .await
        .is_some()
    {}
    let before = app.state.board.requests_sent();
    for (n, text) in ["<p>@client First news</p>", "<p>@client More news</p>"]
        .into_iter()
        .enumerate()
    {
        store
            .mutate(|txn| txn.create_update(quiet.id, text, 3, None))
            .await
            .unwrap();
        match scene.socket.next_event(Duration::from_secs(5)).await {
            Some(LiveEvent::ReplyAdded {
                reply, ticket_id, ..
            }) => {
                assert_eq!(ticket_id, quiet.id.to_string());
                assert_eq!(reply.author, "Priya Shah");
                assert!(!reply.body_html.contains("@client"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            app.state.board.requests_sent() - before,
            1,
            "update {n}: only the author's name, once"
        );
    }
}
