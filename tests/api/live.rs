//! Webhooks in, live events out: verified, de-duplicated, and only to the right portal.

use std::time::Duration;

use client_portal::api::auth::SignOut;
use client_portal::model::{LiveEvent, Status};
use monday_local::store::API_USER_ID;
use serde_json::{Value, json};

use crate::helpers::{client_with_cookie, server_fn, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_challenge_is_echoed_and_wrong_secrets_are_refused() {
    let app = spawn_app().await;
    let client = crate::helpers::plain_client();
    let echoed: Value = client
        .post(app.webhook_url())
        .json(&json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        echoed,
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );

    for url in [
        app.url("/webhooks/monday/wrong-secret-0123456789"),
        app.url("/webhooks/monday/"),
    ] {
        let response = client
            .post(url)
            .json(&json!({"challenge": "x"}))
            .send()
            .await
            .unwrap();
        assert!(
            response.status() == 401 || response.status() == 404 || response.status() == 405,
            "{}",
            response.status()
        );
    }
    // Without a signing secret the app-signed route refuses everything.
    let unsigned = client
        .post(app.url("/webhooks/monday"))
        .json(&json!({"challenge": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[tokio::test]
async fn app_webhooks_need_a_valid_signature() {
    let secret = "the-apps-signing-secret-0123456789";
    let app = spawn_app_with(&[("MONDAY_SIGNING_SECRET", secret)]).await;
    let client = crate::helpers::plain_client();
    // As monday signs them: expiring in five minutes, for the endpoint it calls.
    let audience = app.url("/webhooks/monday");
    let sign = |key: &str| {
        let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 300;
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"accountId": 1, "userId": 2, "exp": exp, "aud": audience}),
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let good = client
        .post(app.url("/webhooks/monday"))
        .header("authorization", sign(secret))
        .json(&json!({"challenge": "abc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    for header in [
        sign("some-other-secret-0123456789abcd"),
        "not.a.jwt".to_owned(),
        String::new(),
    ] {
        let bad = client
            .post(app.url("/webhooks/monday"))
            .header("authorization", header)
            .json(&json!({"challenge": "abc"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 401);
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_4xx() {
    let app = spawn_app().await;
    let client = crate::helpers::plain_client();
    for body in [
        "not json".to_owned(),
        "[]".to_owned(),
        r#"{"event": {"type": "update_column_value"}}"#.to_owned(),
        r#"{"event": {"type": "nope", "pulseId": 1, "triggerUuid": "t"}}"#.to_owned(),
        format!(r#"{{"challenge": "{}"}}"#, "x".repeat(100_000)),
    ] {
        let response = client
            .post(app.webhook_url())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{} for {}",
            response.status(),
            &body[..body.len().min(60)]
        );
    }
}

#[tokio::test]
async fn a_status_change_reaches_its_portal_once_and_never_another() {
    let app = spawn_app().await;
    app.webhooks_registered().await;
    let demo_cookie = app.session_cookie("demo", "jordan@demo.example").await;
    let acme_cookie = app.session_cookie("acme", "riley@acme.example").await;
    let mut demo = app
        .live_socket(Some(&demo_cookie), Some(&app.base_url))
        .await
        .unwrap();
    let mut acme = app
        .live_socket(Some(&acme_cookie), Some(&app.base_url))
        .await
        .unwrap();
    let ticket = app.first_ticket_of("demo").await;
    let item_id: u64 = ticket.id.parse().unwrap();

    // The team changes the status on the board; the board fires the webhook.
    let board = app.local_board();
    let board_id = board.board_id();
    board
        .store()
        .mutate(|txn| {
            txn.change_column_values(
                board_id,
                item_id,
                &json!({"status": {"label": "Closed"}}),
                false,
                2,
            )
        })
        .await
        .unwrap();
    let message = demo
        .next_message(Duration::from_secs(5))
        .await
        .expect("an event for demo");
    assert_eq!(
        message.event,
        LiveEvent::StatusChanged {
            ticket_id: ticket.id.clone(),
            title: ticket.title.clone(),
            status: Status::Closed
        }
    );
    // With it, the ticket's dashboard row as it now stands and the portal's counts, so open
    // dashboards change in place instead of loading the page again.
    let row = message.row.expect("the row comes with the change");
    assert_eq!(row.ticket_id, ticket.id);
    assert_eq!(row.status, Status::Closed);
    assert!(row.html.starts_with("<li "), "{}", row.html);
    assert!(
        row.html
            .contains(&format!("data-ticket-id=\"{}\"", ticket.id))
    );
    assert!(row.html.contains("data-status=\"closed\""), "{}", row.html);
    assert!(row.html.contains(&ticket.title));
    let listed = app
        .state
        .tickets
        .list(
            &app.access_of(&client_portal::server::auth::Member {
                portal_id: "demo".into(),
                email: "jordan@demo.example".into(),
            })
            .await,
        )
        .await
        .expect("the list")
        .value;
    let counts = client_portal::model::apply_query(
        &listed,
        &client_portal::model::TicketQuery::default(),
        "",
    )
    .counts;
    assert_eq!(row.counts, counts, "the counts a reload would show");
    assert!(
        acme.next_event(Duration::from_millis(700)).await.is_none(),
        "acme hears nothing"
    );

    // monday retries with the same triggerUuid: delivered once.
    let replay = json!({"event": {"type": "update_column_value", "pulseId": item_id, "columnId": "status", "triggerUuid": "fixed-uuid-1"}});
    let client = crate::helpers::plain_client();
    for _ in 0..3 {
        let response = client
            .post(app.webhook_url())
            .json(&replay)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert!(demo.next_event(Duration::from_secs(3)).await.is_some());
    assert!(
        demo.next_event(Duration::from_millis(700)).await.is_none(),
        "duplicates are dropped"
    );

    // A payload that lies about the portal changes nothing: the portal looks the item up.
    let lying = json!({"event": {"type": "update_column_value", "pulseId": item_id, "columnId": "status", "triggerUuid": "lie-1", "boardId": 1, "portal_id": "acme"}});
    client
        .post(app.webhook_url())
        .json(&lying)
        .send()
        .await
        .unwrap();
    assert!(acme.next_event(Duration::from_millis(700)).await.is_none());
}

#[tokio::test]
async fn public_replies_are_pushed_and_internal_notes_are_not() {
    let app = spawn_app().await;
    app.webhooks_registered().await;
    let cookie = app.session_cookie("demo", "jordan@demo.example").await;
    let mut socket = app
        .live_socket(Some(&cookie), Some(&app.base_url))
        .await
        .unwrap();
    let ticket = app.first_ticket_of("demo").await;
    let item_id: u64 = ticket.id.parse().unwrap();
    let store = app.local_board().store();
    store
        .mutate(|txn| txn.create_update(item_id, "<p>Internal: do not share</p>", 2, None))
        .await
        .unwrap();
    assert!(
        socket
            .next_event(Duration::from_millis(800))
            .await
            .is_none(),
        "internal notes publish nothing"
    );
    store
        .mutate(|txn| {
            txn.create_update(
                item_id,
                "<p>@client All fixed <script>x</script></p>",
                2,
                None,
            )
        })
        .await
        .unwrap();
    match socket.next_event(Duration::from_secs(5)).await {
        Some(LiveEvent::ReplyAdded {
            ticket_id, reply, ..
        }) => {
            assert_eq!(ticket_id, ticket.id);
            assert_eq!(reply.body_html, "<p>All fixed </p>");
            assert!(!reply.from_client);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn sockets_need_a_session_and_the_same_origin() {
    let app = spawn_app().await;
    assert!(
        app.live_socket(None, Some(&app.base_url)).await.is_err(),
        "no session"
    );
    let cookie = app.session_cookie("demo", "jordan@demo.example").await;
    assert!(
        app.live_socket(Some(&cookie), Some("https://evil.example"))
            .await
            .is_err(),
        "another origin"
    );
    assert!(
        app.live_socket(Some(&cookie), None).await.is_err(),
        "no origin"
    );
    assert!(
        app.live_socket(Some("portal_session=forged"), Some(&app.base_url))
            .await
            .is_err()
    );
    assert!(
        app.live_socket(Some(&cookie), Some(&app.base_url))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn signing_out_closes_the_socket() {
    let app = spawn_app_with(&[("LIVE_HEARTBEAT_SECONDS", "1")]).await;
    let cookie = app.session_cookie("demo", "jordan@demo.example").await;
    let mut socket = app
        .live_socket(Some(&cookie), Some(&app.base_url))
        .await
        .unwrap();
    let client = crate::helpers::plain_client();
    client
        .post(app.url(server_fn::<SignOut>()))
        .header("cookie", &cookie)
        .header("origin", &app.base_url)
        .send()
        .await
        .unwrap();
    assert!(socket.closed_within(Duration::from_secs(4)).await);
}

#[tokio::test]
async fn a_new_ticket_on_the_board_appears_for_its_portal() {
    let app = spawn_app().await;
    app.webhooks_registered().await;
    let cookie = app.session_cookie("acme", "riley@acme.example").await;
    let mut socket = app
        .live_socket(Some(&cookie), Some(&app.base_url))
        .await
        .unwrap();
    // An open dashboard: the portal's tickets are in the cache the webhook updates.
    let dashboard = app
        .page_text(&client_with_cookie(&cookie), "/dashboard")
        .await;
    assert!(
        dashboard.contains("data-matching="),
        "the list says its shape"
    );
    let board = app.local_board();
    let board_id = board.board_id();
    board
        .store()
        .mutate(|txn| {
            txn.create_item(
                board_id,
                "Raised by the team",
                Some(&json!({"portal_id": "acme", "status": {"label": "Open"}})),
                false,
                API_USER_ID,
                None,
            )
        })
        .await
        .unwrap();
    let message = socket
        .next_message(Duration::from_secs(5))
        .await
        .expect("a message");
    let LiveEvent::TicketCreated { ticket } = &message.event else {
        panic!("{message:?}");
    };
    assert_eq!(ticket.title, "Raised by the team");
    // Its row comes with it, marked as the newest, so an open first page puts it on top.
    let row = message.row.expect("the new ticket's row");
    assert_eq!(row.ticket_id, ticket.id);
    assert!(row.newest, "the ticket just made is the newest");
    assert!(row.html.contains("Raised by the team"), "{}", row.html);
    let cached = app
        .state
        .tickets
        .cached_portal_tickets("acme")
        .await
        .expect("the portal's tickets are cached");
    assert_eq!(row.counts.all, cached.len(), "the portal's counts, with it");
}

/// A browser that stops reading fills its buffers; the server drops it instead of letting it
/// hold up the portal's other sockets, which keep receiving every event.
#[tokio::test]
async fn a_socket_that_stops_reading_is_dropped_and_the_others_keep_up() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let app = spawn_app().await;
    let stuck_cookie = app.session_cookie("demo", "jordan@demo.example").await;
    let reader_cookie = app.session_cookie("demo", "alex@demo.example").await;
    let _stuck = app
        .live_socket(Some(&stuck_cookie), Some(&app.base_url))
        .await
        .unwrap();
    let mut reader = app
        .live_socket(Some(&reader_cookie), Some(&app.base_url))
        .await
        .unwrap();
    for _ in 0..100 {
        if app.state.live.connected() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.state.live.connected(), 2);

    // 4,000 events of 4 KB: 16 MB, far more than the kernel buffers of a socket nobody reads.
    const EVENTS: usize = 4_000;
    let title = "x".repeat(4_096);
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let reading = tokio::spawn(async move {
        while counter.load(Ordering::Relaxed) < EVENTS {
            match reader.next_event(Duration::from_secs(20)).await {
                Some(LiveEvent::Renamed { .. }) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {}
                None => break,
            }
        }
    });
    for n in 0..EVENTS {
        // Paced by the reading socket, so only the stuck one can fall behind.
        while n > received.load(Ordering::Relaxed) + 32 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        app.state.live.publish(
            "demo",
            LiveEvent::Renamed {
                ticket_id: n.to_string(),
                title: title.clone(),
            },
        );
    }
    tokio::time::timeout(Duration::from_secs(30), reading)
        .await
        .expect("the reading socket keeps up")
        .unwrap();
    assert_eq!(received.load(Ordering::Relaxed), EVENTS);

    let mut connected = app.state.live.connected();
    for _ in 0..200 {
        if connected == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        connected = app.state.live.connected();
    }
    assert_eq!(connected, 1, "the socket that stopped reading was dropped");
}
