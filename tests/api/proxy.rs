//! The portal behind a real reverse proxy: Debian's nginx on loopback in front of a portal on
//! its local board, configured as the README's production example. The developer tools vanish,
//! a client's own `X-Forwarded-For` moves nothing, and the app works end to end through it.

use std::time::Duration;

use client_portal::api::auth::{ContinueSignIn, RequestSignInLink};
use client_portal::model::{LiveEvent, Status};
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Nginx, client_from, free_port, server_fn, session_cookie_in, spawn_app_with};

#[tokio::test]
async fn behind_nginx_the_tools_vanish_forged_addresses_move_nothing_and_everything_works() {
    let proxy_port = free_port();
    let public_url = format!("http://127.0.0.1:{proxy_port}");
    let app = spawn_app_with(&[
        ("PORTAL_PUBLIC_URL", &public_url),
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LIMIT_LINK_REQUESTS_PER_HOUR_PER_ADDRESS", "3"),
    ])
    .await;
    app.webhooks_registered().await;
    let portal_addr = app
        .base_url
        .trim_start_matches("http://")
        .parse()
        .expect("the portal's address");
    let nginx = Nginx::start(proxy_port, &[portal_addr]).await;

    // The console, the demo inbox and the demo sign-in hints answer as if they did not exist.
    let visitor = client_from("127.0.0.2");
    for path in ["/local-board", "/local-board/mail", "/local-board/items/1"] {
        let response = visitor.get(nginx.url(path)).send().await.expect("answer");
        assert_eq!(response.status(), 404, "{path} through the proxy");
    }
    let login = visitor
        .get(nginx.url("/login"))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("body");
    assert!(login.contains("Sign in to your support portal"));
    assert!(
        !login.contains("jordan@demo.example"),
        "no demo hints through the proxy"
    );

    // A forged X-Forwarded-For from the client does not move its rate-limit key.
    let mut statuses = Vec::new();
    for n in 0..5 {
        let response = visitor
            .post(nginx.url(server_fn::<RequestSignInLink>()))
            .header("origin", &nginx.url)
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .form(&[("email", format!("someone{n}@example.com"))])
            .send()
            .await
            .expect("answer");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    // Yet each real client has its own: the key is the client nginx saw, not nginx.
    let other = client_from("127.0.0.3")
        .post(nginx.url(server_fn::<RequestSignInLink>()))
        .header("origin", &nginx.url)
        .form(&[("email", "someone@example.com")])
        .send()
        .await
        .expect("answer");
    assert_eq!(other.status(), 200);

    // End to end through the proxy: sign in, create a ticket, and see the team's change live.
    let client = client_from("127.0.0.4");
    let token = app.link_for("demo", "jordan@demo.example").await;
    let signed_in = client
        .post(nginx.url(server_fn::<ContinueSignIn>()))
        .header("origin", &nginx.url)
        .form(&[("portal_id", "demo"), ("token", token.as_str())])
        .send()
        .await
        .expect("sign-in");
    assert!(signed_in.status().is_redirection() || signed_in.status().is_success());
    let cookie = session_cookie_in(&signed_in);
    let dashboard = client
        .get(nginx.url("/dashboard"))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(dashboard.status(), 200);
    let created = client
        .post(nginx.url(server_fn::<client_portal::api::tickets::CreateTicket>()))
        .header("origin", &nginx.url)
        .form(&[
            ("title", "Raised through the proxy"),
            ("description", ""),
            ("priority", "low"),
        ])
        .send()
        .await
        .expect("created");
    assert!(created.status().is_success(), "{}", created.status());

    let mut request = format!("{}/live", nginx.url.replacen("http", "ws", 1))
        .into_client_request()
        .expect("a request");
    request
        .headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    request
        .headers_mut()
        .insert("origin", nginx.url.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the live socket upgrades through nginx");
    let ticket = app.first_ticket_of("demo").await;
    app.team_sets_status(&ticket.id, "Resolved").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let event = loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("an event in time")
            .expect("open")
            .expect("a message");
        if let Message::Text(text) = message {
            // The created ticket's delivery is announced too; wait for the team's change.
            let event: LiveEvent = serde_json::from_str(&text).expect("an event");
            if matches!(event, LiveEvent::StatusChanged { .. }) {
                break event;
            }
        }
    };
    assert_eq!(
        event,
        LiveEvent::StatusChanged {
            ticket_id: ticket.id.clone(),
            title: ticket.title.clone(),
            status: Status::Resolved,
        }
    );
}
