//! Magic links, sessions, the REST API's JWTs, and that no portal reaches another's data.

use std::time::{Duration, Instant};

use client_portal::api::auth::{CheckLink, ContinueSignIn, RequestSignInLink, SignOut};
use client_portal::api::tickets::{CreateTicket, LoadDashboard, LoadTicket, PostReply};
use client_portal::model::LinkStatus;
use serde_json::Value;

use crate::helpers::{browser, server_fn, smtp_sink, spawn_app, spawn_app_with};

async fn dashboard_status(app: &crate::helpers::TestApp, client: &reqwest::Client) -> u16 {
    client
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_link_signs_in_once_and_only_by_the_post() {
    let app = spawn_app().await;
    let token = app.link_for("client_one", "a@one.test").await;

    // Opening the link (what a mail scanner does) shows who it is for and spends nothing.
    let page = crate::helpers::plain_client()
        .get(app.url(&format!("/login?portal_id=client_one&token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let status = app
        .call(
            &browser(),
            server_fn::<CheckLink>(),
            &[("portal_id", "client_one"), ("token", &token)],
        )
        .await;
    let status: LinkStatus = status.json().await.unwrap();
    assert!(matches!(status, LinkStatus::Valid { ref email, .. } if email == "a@one.test"));

    let client = browser();
    assert_eq!(
        dashboard_status(&app, &client).await,
        303,
        "not signed in yet"
    );
    let response = app
        .call(
            &client,
            server_fn::<ContinueSignIn>(),
            &[("portal_id", "client_one"), ("token", &token)],
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    assert_eq!(dashboard_status(&app, &client).await, 200);

    // Replaying the spent link fails the same way as any unusable link.
    let replay = browser();
    let again = app
        .call(
            &replay,
            server_fn::<ContinueSignIn>(),
            &[("portal_id", "client_one"), ("token", &token)],
        )
        .await;
    assert!(again.status().is_server_error() || again.status().is_client_error());
    assert_eq!(dashboard_status(&app, &replay).await, 303);
    let status: LinkStatus = app
        .call(
            &browser(),
            server_fn::<CheckLink>(),
            &[("portal_id", "client_one"), ("token", &token)],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status, LinkStatus::Unusable);
}

#[tokio::test]
async fn expired_foreign_and_tampered_links_are_refused_alike() {
    let app = spawn_app().await;
    let expired = app.link_for("p_one", "a@one.test").await;
    client_portal::on_db!(&app.state.db, pool => sqlx::query("UPDATE magic_links SET expires_at = 0")
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .unwrap();
    let good = app.link_for("p_one", "a@one.test").await;
    app.link_for("p_two", "b@two.test").await;
    let mut tampered = good.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    for (portal, token) in [
        ("p_one", expired.as_str()),
        ("p_two", good.as_str()),
        ("p_one", tampered.as_str()),
        ("p_one", "short"),
        ("../etc", good.as_str()),
    ] {
        let client = browser();
        let response = app
            .call(
                &client,
                server_fn::<ContinueSignIn>(),
                &[("portal_id", portal), ("token", token)],
            )
            .await;
        assert!(!response.status().is_success(), "{portal} {token}");
        assert_eq!(dashboard_status(&app, &client).await, 303);
        let page = app
            .page_text(&client, &format!("/login?portal_id={portal}&token={token}"))
            .await;
        assert!(
            page.contains("This link has expired or was already used"),
            "{portal}"
        );
    }
    // The good link still works: a wrong portal did not burn it.
    let client = browser();
    app.call(
        &client,
        server_fn::<ContinueSignIn>(),
        &[("portal_id", "p_one"), ("token", &good)],
    )
    .await;
    assert_eq!(dashboard_status(&app, &client).await, 200);

    // Well-formed attempts are audited; a token or portal that is not even shaped like one
    // ("short", "../etc") writes nothing (the hardening against unauthenticated write floods).
    let failures: (i64,) =
        client_portal::on_db!(&app.state.db, pool => sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE event = 'sign_in_failed'")
            .fetch_one(pool)
            .await)
            .unwrap();
    assert!(failures.0 >= 3, "failed attempts are audited");
}

#[tokio::test]
async fn known_and_unknown_emails_get_the_same_answer_and_only_members_get_mail() {
    let app = spawn_app().await;
    app.link_for("p_one", "known@one.test").await;
    let mail_dir = app.state.auth.mailer().mail_dir().to_owned();
    let before = std::fs::read_dir(&mail_dir).map(|d| d.count()).unwrap_or(0);

    let mut answers = Vec::new();
    for email in ["known@one.test", "nobody@nowhere.test"] {
        let started = Instant::now();
        let response = app
            .call(
                &browser(),
                server_fn::<RequestSignInLink>(),
                &[("email", email)],
            )
            .await;
        let took = started.elapsed();
        let status = response.status();
        let body = response.text().await.unwrap().replace(email, "EMAIL");
        answers.push((status, body, took));
    }
    assert_eq!(answers[0].0, answers[1].0);
    assert_eq!(answers[0].1, answers[1].1);
    let difference = answers[0].2.abs_diff(answers[1].2);
    assert!(difference < Duration::from_millis(150), "{difference:?}");

    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = app.state.auth.mailer().kept(10).await;
    assert_eq!(mails.len(), before + 1, "one mail, to the member");
    assert_eq!(mails[0].1.to, "known@one.test");
    assert!(mails[0].1.text.contains("/login?portal_id=p_one&token="));
}

#[tokio::test]
async fn link_requests_are_rate_limited_per_email_and_per_address() {
    let app = spawn_app_with(&[
        ("LIMIT_LINK_REQUESTS_PER_HOUR_PER_EMAIL", "2"),
        ("LIMIT_LINK_REQUESTS_PER_HOUR_PER_ADDRESS", "4"),
    ])
    .await;
    let client = browser();
    for _ in 0..2 {
        let ok = app
            .call(
                &client,
                server_fn::<RequestSignInLink>(),
                &[("email", "a@x.test")],
            )
            .await;
        assert!(ok.status().is_success());
    }
    let limited = app
        .call(
            &client,
            server_fn::<RequestSignInLink>(),
            &[("email", "a@x.test")],
        )
        .await;
    assert!(!limited.status().is_success());
    let body = limited.text().await.unwrap();
    assert!(
        body.contains("RateLimited") && body.contains("minutes"),
        "{body}"
    );

    // Other emails from the same address: the address limit (4) applies.
    assert!(
        app.call(
            &client,
            server_fn::<RequestSignInLink>(),
            &[("email", "b@x.test")]
        )
        .await
        .status()
        .is_success()
    );
    let by_address = app
        .call(
            &client,
            server_fn::<RequestSignInLink>(),
            &[("email", "c@x.test")],
        )
        .await;
    assert!(
        !by_address.status().is_success(),
        "the fifth request from one address"
    );
}

#[tokio::test]
async fn bad_emails_get_a_clear_error() {
    let app = spawn_app().await;
    let response = app
        .call(
            &browser(),
            server_fn::<RequestSignInLink>(),
            &[("email", "not an email")],
        )
        .await;
    assert!(!response.status().is_success());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Enter an email address")
    );
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        // Behind https the name carries the `__Host-` prefix.
        .find(|c| c.starts_with("portal_session=") || c.starts_with("__Host-portal_session="))
        .map(str::to_owned)
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_behind_https() {
    for (public_url, secure) in [(None, false), (Some("https://portal.example.com"), true)] {
        let extra: Vec<(&str, &str)> = public_url
            .map(|u| ("PORTAL_PUBLIC_URL", u))
            .into_iter()
            .collect();
        let app = spawn_app_with(&extra).await;
        let token = app.link_for("p", "a@p.test").await;
        let origin = public_url.unwrap_or(&app.base_url).to_owned();
        let response = browser()
            .post(app.url(server_fn::<ContinueSignIn>()))
            .header("origin", origin)
            .form(&[("portal_id", "p"), ("token", token.as_str())])
            .send()
            .await
            .unwrap();
        let cookie = session_cookie(&response).expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
        assert!(
            cookie.contains("Max-Age=") || cookie.contains("Expires="),
            "idle expiry: {cookie}"
        );
    }
}

#[tokio::test]
async fn signing_in_again_cycles_the_session_id_and_sign_out_kills_it() {
    let app = spawn_app().await;
    let client = browser();
    let first = app.link_for("p", "a@p.test").await;
    let response = app
        .call(
            &client,
            server_fn::<ContinueSignIn>(),
            &[("portal_id", "p"), ("token", &first)],
        )
        .await;
    let first_cookie = session_cookie(&response).unwrap();
    let second = app.link_for("p", "a@p.test").await;
    let response = app
        .call(
            &client,
            server_fn::<ContinueSignIn>(),
            &[("portal_id", "p"), ("token", &second)],
        )
        .await;
    let second_cookie = session_cookie(&response).unwrap();
    let id = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first_cookie), id(&second_cookie), "a new id at sign-in");

    // The old id no longer signs anyone in.
    let stale = reqwest::Client::builder()
        .timeout(crate::helpers::REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let status = stale
        .get(app.url("/dashboard"))
        .header("cookie", id(&first_cookie))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 303);

    assert_eq!(dashboard_status(&app, &client).await, 200);
    app.call(&client, server_fn::<SignOut>(), &[]).await;
    assert_eq!(dashboard_status(&app, &client).await, 303);
    let status = stale
        .get(app.url("/dashboard"))
        .header("cookie", id(&second_cookie))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 303, "the server forgot the session");
    let audit: Vec<(String,)> =
        client_portal::on_db!(&app.state.db, pool => sqlx::query_as("SELECT event FROM audit_log WHERE email = 'a@p.test' ORDER BY id")
            .fetch_all(pool)
            .await)
            .unwrap();
    let events: Vec<&str> = audit.iter().map(|(e,)| e.as_str()).collect();
    assert!(
        events.contains(&"sign_in") && events.contains(&"sign_out"),
        "{events:?}"
    );
}

#[tokio::test]
async fn writes_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let client = app.signed_in("p", "a@p.test").await;
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = client
            .post(app.url(server_fn::<CreateTicket>()))
            .header(header, value)
            .form(&[("title", "csrf"), ("description", ""), ("priority", "low")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}");
    }
    let outbox: (i64,) =
        client_portal::on_db!(&app.state.db, pool => sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!(outbox.0, 0, "nothing was created");
}

async fn jwt_for(app: &crate::helpers::TestApp, portal: &str, email: &str) -> String {
    let token = app.link_for(portal, email).await;
    let response = crate::helpers::plain_client()
        .get(app.url(&format!("/api/v1/auth/{portal}/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["portal_id"], portal);
    // The link is spent by the exchange.
    let again = crate::helpers::plain_client()
        .get(app.url(&format!("/api/v1/auth/{portal}/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    let error: Value = again.json().await.unwrap();
    assert_eq!(error["error"]["code"], "unauthorized");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_rest_api_keeps_the_original_contract() {
    let app = spawn_app().await;
    let jwt = jwt_for(&app, "demo", "jordan@demo.example").await;
    let client = crate::helpers::plain_client();
    let tickets: Vec<Value> = client
        .get(app.url("/api/v1/tickets/demo"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tickets.len() >= 8, "the demo portal's seeded tickets");
    for ticket in &tickets {
        assert_eq!(ticket["client_id"], "demo");
        for field in [
            "id",
            "title",
            "description",
            "status",
            "priority",
            "created_at",
            "updated_at",
        ] {
            assert!(ticket.get(field).is_some(), "{field}");
        }
        assert!(
            ["open", "in_progress", "resolved", "closed"]
                .contains(&ticket["status"].as_str().unwrap())
        );
        assert!(
            ["low", "medium", "high", "urgent"].contains(&ticket["priority"].as_str().unwrap())
        );
    }

    let created = client
        .post(app.url("/api/v1/ticket"))
        .bearer_auth(&jwt)
        .json(&serde_json::json!({"title": "From the API", "description": "multi\nline", "priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["client_id"], "demo");
    assert_eq!(created["priority"], "high");
    assert_eq!(created["status"], "open");
    assert!(
        created["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );

    let bad = client
        .post(app.url("/api/v1/ticket"))
        .bearer_auth(&jwt)
        .json(&serde_json::json!({"title": "", "priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["code"], "invalid_input");
}

#[tokio::test]
async fn bad_tokens_are_401_and_another_portals_path_is_403() {
    use base64::Engine;
    let app = spawn_app().await;
    let jwt = jwt_for(&app, "demo", "jordan@demo.example").await;
    let client = crate::helpers::plain_client();
    let status = |response: reqwest::Response| response.status().as_u16();

    assert_eq!(
        status(
            client
                .get(app.url("/api/v1/tickets/acme"))
                .bearer_auth(&jwt)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            client
                .get(app.url("/api/v1/tickets/demo"))
                .send()
                .await
                .unwrap()
        ),
        401
    );

    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    let mut forged = claims.clone();
    forged["portal_id"] = "acme".into();
    parts[1] = b64.encode(forged.to_string());
    let bad_signature = parts.join(".");
    assert_eq!(
        status(
            client
                .get(app.url("/api/v1/tickets/acme"))
                .bearer_auth(&bad_signature)
                .send()
                .await
                .unwrap()
        ),
        401
    );

    let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{}.", b64.encode(forged.to_string()));
    assert_eq!(
        status(
            client
                .get(app.url("/api/v1/tickets/acme"))
                .bearer_auth(&alg_none)
                .send()
                .await
                .unwrap()
        ),
        401
    );

    let member = client_portal::server::auth::Member {
        email: "jordan@demo.example".into(),
        portal_id: "demo".into(),
    };
    let expired = app.state.jwt.issue_at(&member, 1_000_000).unwrap();
    let response = client
        .get(app.url("/api/v1/tickets/demo"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn a_member_of_one_portal_never_gets_anothers_data() {
    let app = spawn_app().await;
    let demo = app.signed_in("demo", "jordan@demo.example").await;
    let acme_item = app
        .state
        .tickets
        .list(
            &app.access_of(&client_portal::server::auth::Member {
                email: "riley@acme.example".into(),
                portal_id: "acme".into(),
            })
            .await,
        )
        .await
        .unwrap()
        .value
        .into_iter()
        .next()
        .expect("acme has tickets");
    let secret_title = acme_item.title.clone();

    let page = demo
        .get(app.url(&format!("/tickets/{}", acme_item.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(!page.text().await.unwrap().contains(&secret_title));

    let response = app
        .call(&demo, server_fn::<LoadTicket>(), &[("id", &acme_item.id)])
        .await;
    assert!(!response.status().is_success());
    assert!(!response.text().await.unwrap().contains(&secret_title));

    let reply = app
        .call(
            &demo,
            server_fn::<PostReply>(),
            &[("ticket_id", &acme_item.id), ("body", "let me in")],
        )
        .await;
    assert!(!reply.status().is_success());
    let replies: (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'reply'")
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!(replies.0, 0);

    let dashboard = app
        .call(&demo, server_fn::<LoadDashboard>(), &[("query[page]", "1")])
        .await;
    assert!(dashboard.status().is_success());
    let body = dashboard.text().await.unwrap();
    assert!(body.contains("Website login issue"), "demo's own ticket");
    assert!(!body.contains(&secret_title));
    assert!(!body.contains("\"portal_id\":\"acme\""));

    let jwt = jwt_for(&app, "demo", "alex@demo.example").await;
    let rest = crate::helpers::plain_client()
        .get(app.url("/api/v1/tickets/acme"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 403);
    assert!(!rest.text().await.unwrap().contains(&secret_title));
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let app = spawn_app().await;
    let doc: Value = crate::helpers::plain_client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/{portal_id}/{token}",
        "/api/v1/tickets/{portal_id}",
        "/api/v1/ticket",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_invite_command_prints_the_link_last() {
    let app = spawn_app().await;
    let _ = &app;
    let dir = crate::helpers::TempDir::new("invite");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_client-portal"))
        .args([
            "invite",
            "--portal",
            "client_abc123",
            "--email",
            "Pat@Example.com",
            "--name",
            "Pat",
        ])
        .env_clear()
        .env("DATA_DIR", dir.0.join("data"))
        .env("PORTAL_PUBLIC_URL", "https://portal.example.com")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("https://portal.example.com/login?portal_id=client_abc123&token="),
        "{stdout}"
    );

    let listing = tokio::process::Command::new(env!("CARGO_BIN_EXE_client-portal"))
        .arg("portals")
        .env_clear()
        .env("DATA_DIR", dir.0.join("data"))
        .output()
        .await
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("client_abc123"), "{listing}");
    assert!(listing.contains("pat@example.com  Pat"), "{listing}");
}

#[tokio::test]
async fn with_smtp_the_link_is_mailed_as_text_and_html_and_signs_in() {
    let (smtp_url, mut received) = smtp_sink().await;
    let app = spawn_app_with(&[
        ("SMTP_URL", &smtp_url),
        ("MAIL_FROM", "Support <support@agency.test>"),
    ])
    .await;
    // Makes the portal and the member; the link itself is not mailed.
    app.link_for("p_mail", "client@mail.test").await;

    let response = app
        .call(
            &browser(),
            server_fn::<RequestSignInLink>(),
            &[("email", "client@mail.test")],
        )
        .await;
    assert!(response.status().is_success());
    let message = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a mail within 10 s")
        .expect("a message");
    assert!(message.contains("To: client@mail.test"), "{message}");
    assert!(message.contains("support@agency.test"));
    assert!(message.contains("multipart/alternative"));
    assert!(message.contains("text/plain") && message.contains("text/html"));
    let kept = app.state.auth.mailer().kept(10).await;
    assert!(kept.is_empty(), "with SMTP nothing is kept on disk");

    // Quoted-printable may wrap the link; undo soft line breaks before looking for it.
    let unwrapped = message.replace("=\n", "").replace("=3D", "=");
    let token = unwrapped
        .split("token=")
        .nth(1)
        .and_then(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .next()
        })
        .expect("a link in the mail")
        .to_owned();
    let client = browser();
    let signed_in = app
        .call(
            &client,
            server_fn::<ContinueSignIn>(),
            &[("portal_id", "p_mail"), ("token", &token)],
        )
        .await;
    assert!(signed_in.status().is_redirection() || signed_in.status().is_success());
    assert_eq!(dashboard_status(&app, &client).await, 200);
}

/// People in several portals (one email) switch between them from the header, under a fresh
/// session id; nobody switches into a portal they are not a member of, however they ask.
#[tokio::test]
async fn a_member_of_two_portals_switches_from_the_header_and_nobody_else_can() {
    use client_portal::api::auth::SwitchPortal;

    let app = spawn_app().await;
    let email = "sam@acme.example";
    let acme_ticket = app.first_ticket_of("acme").await.title;
    let demo_ticket = app.first_ticket_of("demo").await.title;
    let cookie = app.session_cookie("acme", email).await;
    let acme = crate::helpers::client_with_cookie(&cookie);
    let page = app.page_text(&acme, "/dashboard").await;
    assert!(page.contains(&acme_ticket));
    assert!(
        !page.contains("switch-portal"),
        "one portal: nothing to switch to"
    );

    // Not a member of demo: refused as if it did not exist, and nothing changes.
    for portal_id in ["demo", "../acme", ""] {
        let refused = app
            .call(
                &acme,
                server_fn::<SwitchPortal>(),
                &[("portal_id", portal_id)],
            )
            .await;
        assert_eq!(refused.status().as_u16(), 404, "{portal_id:?}");
    }
    let page = app.page_text(&acme, "/dashboard").await;
    assert!(page.contains(&acme_ticket) && !page.contains(&demo_ticket));

    // A member of demo too: the header offers it, and a plain form post moves there.
    app.link_for("demo", email).await;
    let page = app.page_text(&acme, "/dashboard").await;
    assert!(
        page.contains(r#"<option value="demo">"#),
        "the header offers demo"
    );
    let switched = acme
        .post(app.url(server_fn::<SwitchPortal>()))
        .header("origin", &app.base_url)
        .header("accept", "text/html")
        .form(&[("portal_id", "demo")])
        .send()
        .await
        .expect("switched");
    assert!(switched.status().is_redirection(), "{}", switched.status());
    assert_eq!(
        switched
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok()),
        Some("/dashboard")
    );
    let demo = crate::helpers::client_with_cookie(&crate::helpers::session_cookie_in(&switched));
    let page = app.page_text(&demo, "/dashboard").await;
    assert!(page.contains(&demo_ticket), "demo's tickets");
    assert!(!page.contains(&acme_ticket), "and none of acme's");
    assert!(
        page.contains(r#"<option value="acme">"#),
        "and the way back"
    );
    assert_eq!(
        dashboard_status(&app, &acme).await,
        303,
        "the old session id is spent"
    );

    // Removed from acme (by hand, as an agency might): within the memory's watch the way back
    // is gone, and asking for it anyway is refused.
    client_portal::on_db!(&app.state.db, pool => sqlx::query(
        "DELETE FROM members WHERE portal_id = 'acme' AND email = 'sam@acme.example'",
    )
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))
    .expect("removed");
    let removed_at = Instant::now();
    while app
        .page_text(&demo, "/dashboard")
        .await
        .contains(r#"<option value="acme">"#)
    {
        assert!(
            removed_at.elapsed() < Duration::from_secs(2),
            "acme still offered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = app
        .call(&demo, server_fn::<SwitchPortal>(), &[("portal_id", "acme")])
        .await;
    assert_eq!(refused.status().as_u16(), 404);
    assert!(
        app.page_text(&demo, "/dashboard")
            .await
            .contains(&demo_ticket)
    );
}
