//! Client organisations: roles inside a portal (admin, member, requester), the Colleagues page,
//! and following tickets. Each test tries to cross the line a role draws.

use std::time::{Duration, Instant};

use client_portal::api::colleagues::{
    ChangeRole, InviteColleague, LoadColleagues, RemoveColleague,
};
use client_portal::api::tickets::{LoadDashboard, LoadTicket, PostReply, SetFollowing};
use client_portal::model::{LiveEvent, Role};
use client_portal::server::auth::Member;

use crate::helpers::{NO_WRITE_LIMITS, TestApp, client_with_cookie, server_fn, spawn_app_with};

/// A portal with an admin, a member and a requester, each signed in (their session cookies).
struct Org {
    app: TestApp,
    portal: &'static str,
    admin: String,
    member: String,
    requester: String,
}

const ADMIN: &str = "ada@org.test";
const MEMBER: &str = "max@org.test";
const REQUESTER: &str = "rae@org.test";

async fn org(portal: &'static str) -> Org {
    let app = spawn_app_with(NO_WRITE_LIMITS).await;
    app.webhooks_registered().await;
    let auth = &app.state.auth;
    auth.upsert_portal(portal, Some("Org Ltd")).await.unwrap();
    for (email, name, role) in [
        (ADMIN, "Ada", Role::Admin),
        (MEMBER, "Max", Role::Member),
        (REQUESTER, "Rae", Role::Requester),
    ] {
        auth.upsert_member(portal, email, Some(name), Some(role))
            .await
            .unwrap();
    }
    Org {
        admin: app.session_cookie(portal, ADMIN).await,
        member: app.session_cookie(portal, MEMBER).await,
        requester: app.session_cookie(portal, REQUESTER).await,
        app,
        portal,
    }
}

/// An open item on the board raised by `email` of `portal`, as a string id.
async fn raised_by(app: &TestApp, portal: &str, email: &str, title: &str) -> String {
    crate::helpers::item_raised_by(app, portal, email, title, "Open")
        .await
        .to_string()
}

async fn role_of(app: &TestApp, portal: &str, email: &str) -> Option<Role> {
    let member = Member {
        portal_id: portal.into(),
        email: email.into(),
    };
    app.state
        .auth
        .membership(&member)
        .await
        .unwrap()
        .map(|m| m.role)
}

async fn audit_details(app: &TestApp, event: &str) -> Vec<String> {
    let rows: Vec<(Option<String>,)> = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT detail FROM audit_log WHERE event = $1 ORDER BY id",
    )
    .bind(event)
    .fetch_all(pool)
    .await)
    .unwrap();
    rows.into_iter().filter_map(|(d,)| d).collect()
}

/// Posts a server function as a form without JavaScript: the answer is a redirect.
async fn plain_form(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> String {
    let response = client_with_cookie(cookie)
        .post(app.url(path))
        .header("origin", &app.base_url)
        .header("accept", "text/html")
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_admin_invites_changes_roles_and_removes_colleagues_and_nobody_else_can() {
    let org = org("org_admin").await;
    let app = &org.app;
    let (admin, member) = (
        client_with_cookie(&org.admin),
        client_with_cookie(&org.member),
    );
    let invite = |who: &reqwest::Client, email: &str, role: &str| {
        let form = [("email", email.to_owned()), ("role", role.to_owned())];
        let request = who
            .post(app.url(server_fn::<InviteColleague>()))
            .header("origin", &app.base_url)
            .form(&form);
        async move { request.send().await.unwrap() }
    };

    // A member (not an admin) can do none of it, and nothing changes.
    assert_eq!(invite(&member, "new@org.test", "admin").await.status(), 403);
    assert_eq!(role_of(app, org.portal, "new@org.test").await, None);
    for (path, form) in [
        (
            server_fn::<ChangeRole>(),
            vec![("email", REQUESTER), ("role", "admin")],
        ),
        (server_fn::<RemoveColleague>(), vec![("email", REQUESTER)]),
        (server_fn::<LoadColleagues>(), vec![]),
    ] {
        assert_eq!(app.call(&member, path, &form).await.status(), 403, "{path}");
    }
    assert_eq!(
        role_of(app, org.portal, REQUESTER).await,
        Some(Role::Requester)
    );
    let page = member.get(app.url("/colleagues")).send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(!page.text().await.unwrap().contains(REQUESTER));

    // The admin sees everyone, and invites a colleague, who is mailed a link naming the portal.
    let page = admin.get(app.url("/colleagues")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for email in [ADMIN, MEMBER, REQUESTER] {
        assert!(html.contains(email), "{email} is listed");
    }
    let answer = invite(&admin, " New@Org.test ", "requester").await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    assert_eq!(
        role_of(app, org.portal, "new@org.test").await,
        Some(Role::Requester)
    );
    let mails = app.state.auth.mailer().kept(5).await;
    let mail = &mails
        .iter()
        .find(|(_, m)| m.to == "new@org.test")
        .expect("an invitation mail")
        .1;
    assert_eq!(mail.subject, "Ada invited you to Org Ltd");
    assert!(
        mail.text
            .contains("Ada invited you to the Org Ltd support portal."),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("/login?portal_id=org_admin&token="));
    if let Some(token) = mail.text.split("token=").nth(1) {
        crate::helpers::record_issued_token(&token[..43]);
    }

    // Allowed domains: an address elsewhere is refused with a clear message and not stored.
    app.state
        .auth
        .set_allowed_domains(org.portal, &["org.test".to_owned()])
        .await
        .unwrap();
    let refused = invite(&admin, "mallory@evil.test", "member").await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("org.test only"));
    assert_eq!(role_of(app, org.portal, "mallory@evil.test").await, None);
    // Without JavaScript the form comes back with the reason.
    let location = plain_form(
        app,
        &org.admin,
        server_fn::<InviteColleague>(),
        &[("email", "mallory@evil.test"), ("role", "member")],
    )
    .await;
    assert_eq!(location, "/colleagues?error=invalid_domain");
    let back = admin.get(app.url(&location)).send().await.unwrap();
    assert!(
        back.text()
            .await
            .unwrap()
            .contains("allowed email domains only")
    );

    // Roles change, never one's own; the change counts from the next request.
    let location = plain_form(
        app,
        &org.admin,
        server_fn::<ChangeRole>(),
        &[("email", REQUESTER), ("role", "member")],
    )
    .await;
    assert_eq!(location, "/colleagues?saved=1");
    assert_eq!(
        role_of(app, org.portal, REQUESTER).await,
        Some(Role::Member)
    );
    let own = app
        .call(
            &admin,
            server_fn::<ChangeRole>(),
            &[("email", ADMIN), ("role", "requester")],
        )
        .await;
    assert_eq!(own.status(), 403);
    assert_eq!(role_of(app, org.portal, ADMIN).await, Some(Role::Admin));
    let bad_role = app
        .call(
            &admin,
            server_fn::<ChangeRole>(),
            &[("email", MEMBER), ("role", "owner")],
        )
        .await;
    assert_eq!(bad_role.status(), 422);

    // Removing a colleague ends their sessions and closes their socket at once.
    let mut socket = app
        .live_socket(Some(&org.member), Some(&app.base_url))
        .await
        .unwrap();
    let removed = app
        .call(&admin, server_fn::<RemoveColleague>(), &[("email", MEMBER)])
        .await;
    assert_eq!(removed.status(), 200);
    let started = Instant::now();
    assert!(
        socket.closed_within(Duration::from_secs(1)).await,
        "the removed colleague's socket closed"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    let next = app
        .call(
            &member,
            server_fn::<LoadDashboard>(),
            &[("query[page]", "1")],
        )
        .await;
    assert_eq!(next.status(), 401, "signed out on the next request");
    assert_eq!(
        app.call(&admin, server_fn::<RemoveColleague>(), &[("email", ADMIN)])
            .await
            .status(),
        403,
        "an admin cannot remove themselves"
    );

    // Every change is in the audit log, with who did it.
    assert_eq!(
        audit_details(app, "colleague_invited").await,
        vec!["new@org.test as requester"]
    );
    assert_eq!(
        audit_details(app, "role_changed").await,
        vec![format!("{REQUESTER} is now member")]
    );
    assert!(
        audit_details(app, "member_removed")
            .await
            .contains(&format!("{MEMBER} removed by an admin"))
    );
}

#[tokio::test]
async fn a_requester_sees_a_colleagues_ticket_only_while_following_it() {
    let org = org("org_follow").await;
    let app = &org.app;
    let (member, requester) = (
        client_with_cookie(&org.member),
        client_with_cookie(&org.requester),
    );
    let theirs = raised_by(app, org.portal, MEMBER, "Max's invoice question").await;
    let mine = raised_by(app, org.portal, REQUESTER, "Rae's login problem").await;
    let mut socket = app
        .live_socket(Some(&org.requester), Some(&app.base_url))
        .await
        .unwrap();

    // Not following: the colleague's ticket exists nowhere for the requester.
    let dashboard = requester.get(app.url("/dashboard")).send().await.unwrap();
    let html = dashboard.text().await.unwrap();
    assert!(html.contains("Rae&#x27;s login problem") || html.contains("Rae's login problem"));
    assert!(!html.contains("invoice question"));
    let page = requester.get(app.url(&format!("/tickets/{theirs}")));
    assert_eq!(page.send().await.unwrap().status(), 404);
    let load = |client: &reqwest::Client, id: &str| {
        let request = client
            .post(app.url(server_fn::<LoadTicket>()))
            .header("origin", &app.base_url)
            .form(&[("id", id)]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(load(&requester, &theirs).await, 404);
    assert_eq!(load(&requester, &mine).await, 200);
    let reply = app
        .call(
            &requester,
            server_fn::<PostReply>(),
            &[("ticket_id", &theirs), ("body", "let me in")],
        )
        .await;
    assert_eq!(reply.status(), 404);
    // They cannot follow it themselves either, nor add a colleague to their own ticket.
    let follow_self = app
        .call(
            &requester,
            server_fn::<SetFollowing>(),
            &[("ticket_id", &theirs)],
        )
        .await;
    assert_eq!(follow_self.status(), 404);
    let add_other = app
        .call(
            &requester,
            server_fn::<SetFollowing>(),
            &[("ticket_id", &mine), ("email", MEMBER)],
        )
        .await;
    assert_eq!(add_other.status(), 403);
    // The REST API says the same.
    let jwt = app.jwt_for(org.portal, REQUESTER).await;
    let listed: Vec<serde_json::Value> = crate::helpers::plain_client()
        .get(app.url(&format!("/api/v1/tickets/{}", org.portal)))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec![mine.as_str()]
    );
    // The team's change on the colleague's ticket reaches the requester's socket not at all.
    app.team_sets_status(&theirs, "In Progress").await;
    app.team_sets_status(&mine, "In Progress").await;
    match socket.next_event(Duration::from_secs(3)).await {
        Some(LiveEvent::StatusChanged { ticket_id, .. }) => assert_eq!(ticket_id, mine),
        other => panic!("expected the requester's own change, got {other:?}"),
    }

    // A member adds them as a follower: now they see it on every path, live and by mail.
    let added = plain_form(
        app,
        &org.member,
        server_fn::<SetFollowing>(),
        &[("ticket_id", &theirs), ("email", REQUESTER)],
    )
    .await;
    assert_eq!(added, format!("/tickets/{theirs}"));
    let page = member
        .get(app.url(&format!("/tickets/{theirs}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("data-follower=\"{REQUESTER}\"")));
    assert_eq!(load(&requester, &theirs).await, 200);
    let page = requester
        .get(app.url(&format!("/tickets/{theirs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = requester
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("invoice question"));
    // The socket learns of the follow within a second (the directory moved).
    tokio::time::sleep(Duration::from_millis(800)).await;
    app.team_sets_status(&theirs, "Resolved").await;
    match socket.next_event(Duration::from_secs(3)).await {
        Some(LiveEvent::StatusChanged { ticket_id, .. }) => assert_eq!(ticket_id, theirs),
        other => panic!("expected the followed ticket's change, got {other:?}"),
    }
    let mailed: Vec<(String,)> = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT ticket_id FROM notify_events WHERE email = $1 ORDER BY seq",
    )
    .bind(REQUESTER)
    .fetch_all(pool)
    .await)
    .unwrap();
    let mailed: Vec<&str> = mailed.iter().map(|(t,)| t.as_str()).collect();
    assert!(
        mailed.contains(&theirs.as_str()),
        "the follower is told: {mailed:?}"
    );
    assert_eq!(
        mailed.iter().filter(|t| **t == theirs).count(),
        1,
        "only the change made while following: {mailed:?}"
    );

    // They stop following: it is gone again.
    let stopped = app
        .call(
            &requester,
            server_fn::<SetFollowing>(),
            &[("ticket_id", &theirs), ("stop", "1")],
        )
        .await;
    assert_eq!(stopped.status(), 200);
    assert_eq!(load(&requester, &theirs).await, 404);
}

#[tokio::test]
async fn a_role_change_counts_from_the_next_request_and_on_open_sockets() {
    let org = org("org_roles").await;
    let app = &org.app;
    let member = client_with_cookie(&org.member);
    let theirs = raised_by(app, org.portal, ADMIN, "Ada's server outage").await;
    let mut socket = app
        .live_socket(Some(&org.member), Some(&app.base_url))
        .await
        .unwrap();
    let sees = || async {
        app.call(
            &member,
            server_fn::<LoadDashboard>(),
            &[("query[page]", "1")],
        )
        .await
        .text()
        .await
        .unwrap()
        .contains("server outage")
    };
    assert!(sees().await, "a member sees the whole portal");
    app.team_sets_status(&theirs, "In Progress").await;
    assert!(socket.next_event(Duration::from_secs(3)).await.is_some());

    let changed = app
        .call(
            &client_with_cookie(&org.admin),
            server_fn::<ChangeRole>(),
            &[("email", MEMBER), ("role", "requester")],
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert!(!sees().await, "a requester no longer does");
    tokio::time::sleep(Duration::from_millis(800)).await;
    app.team_sets_status(&theirs, "Resolved").await;
    assert_eq!(
        socket.next_event(Duration::from_secs(2)).await,
        None,
        "nor does their open socket"
    );
}

#[tokio::test]
async fn the_invite_command_sets_the_first_admin_and_the_allowed_domains() {
    let app = spawn_app_with(&[]).await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_client-portal"));
    command
        .args([
            "invite",
            "--portal",
            "org_cli",
            "--email",
            "boss@cli.test",
            "--role",
            "admin",
            "--allowed-domains",
            "cli.test, @Example.org",
        ])
        .env_clear()
        .env("DATA_DIR", &app.data_dir.0)
        .env("RUST_LOG", "warn");
    if let Some(url) = crate::helpers::test_database_url(&app.data_dir).await {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().await.expect("the command runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if let Some(token) = String::from_utf8_lossy(&output.stdout)
        .split("token=")
        .nth(1)
    {
        crate::helpers::record_issued_token(token.trim());
    }
    assert_eq!(
        role_of(&app, "org_cli", "boss@cli.test").await,
        Some(Role::Admin)
    );
    assert_eq!(
        app.state.auth.allowed_domains("org_cli").await.unwrap(),
        vec!["cli.test", "example.org"]
    );
    // An unknown role is refused before anything is written.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_client-portal"))
        .args([
            "invite",
            "--portal",
            "org_cli",
            "--email",
            "x@cli.test",
            "--role",
            "owner",
        ])
        .env_clear()
        .env("DATA_DIR", &app.data_dir.0)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert_eq!(role_of(&app, "org_cli", "x@cli.test").await, None);
}

#[tokio::test]
async fn the_ticket_page_offers_a_colleague_added_anywhere_within_the_watch_period() {
    let org = org("org_cached").await;
    let app = &org.app;
    let member = client_with_cookie(&org.member);
    let item = raised_by(app, org.portal, MEMBER, "Who can help?").await;
    let offered = || async {
        let response = app
            .call(&member, server_fn::<LoadTicket>(), &[("id", &item)])
            .await;
        let view: client_portal::model::TicketView = response.json().await.unwrap();
        view.can_add
            .into_iter()
            .map(|c| c.email)
            .collect::<Vec<_>>()
    };
    assert!(offered().await.contains(&REQUESTER.to_owned()));
    assert!(!offered().await.contains(&"new@org.test".to_owned()));
    // Another instance or the CLI adds someone: plain SQL, nothing this instance did.
    client_portal::on_db!(&app.state.db, pool => sqlx::query(
        "INSERT INTO members (portal_id, email, display_name, created_at, role)
         VALUES ($1, 'new@org.test', 'Nia', 0, 'member')",
    )
    .bind(org.portal)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    tokio::time::sleep(client_portal::server::memory::WATCH_EVERY * 3).await;
    assert!(
        offered().await.contains(&"new@org.test".to_owned()),
        "the kept list of colleagues is refreshed"
    );
}
