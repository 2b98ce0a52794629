//! Notification mails, against a real SMTP server on loopback: a team reply is mailed once with
//! a deep link that signs in and opens the ticket; changes within the window become one mail;
//! internal notes and the member's own messages are never mailed; every preference and the
//! digest are honoured; one-click unsubscribe works by POST only; links are single use,
//! expiring and bound; mails survive SMTP refusing and a restart, and two instances on one
//! database share the queue without sending anything twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use client_portal::api::auth::ContinueSignIn;
use client_portal::api::tickets::PostReply;
use client_portal::model::{NotifyMode, Status};
use client_portal::server::auth::Member;
use client_portal::server::notify::{Change, Notice, Notifier};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::helpers::{
    NO_WRITE_LIMITS, TempDir, TestApp, browser, record_issued_token, server_fn, smtp_server,
    spawn_app_in,
};

/// A mail as the SMTP server received it, decoded.
#[derive(Debug)]
struct Received {
    headers: String,
    text: String,
    html: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }

    fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The first link in the text part that starts with `prefix`.
    fn link(&self, prefix: &str) -> String {
        let start = self.text.find(prefix).expect("the link is in the mail");
        self.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }
}

/// Unfolds headers and decodes the text and HTML parts (quoted-printable, base64 or 7bit).
fn parse(raw: &str) -> Received {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let headers = head.replace("\n ", " ").replace("\n\t", " ");
    let boundary = headers
        .split("boundary=")
        .nth(1)
        .map(|b| {
            b.trim_matches(|c| c == '"' || c == ';')
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .expect("a multipart mail");
    let mut text = String::new();
    let mut html = String::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((part_head, part_body)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let part_head = part_head.to_ascii_lowercase();
        let decoded = if part_head.contains("content-transfer-encoding: base64") {
            use base64::Engine;
            let joined: String = part_body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("base64"),
            )
            .expect("utf-8")
        } else if part_head.contains("quoted-printable") {
            quoted_printable(part_body)
        } else {
            part_body.to_owned()
        };
        if part_head.contains("text/plain") {
            text = decoded;
        } else if part_head.contains("text/html") {
            html = decoded;
        }
    }
    Received {
        headers,
        text,
        html,
    }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

async fn next_mail(inbox: &mut UnboundedReceiver<String>, wait: Duration) -> Option<Received> {
    let raw = tokio::time::timeout(wait, inbox.recv()).await.ok()??;
    let mail = parse(&raw);
    // The links in it are tokens: the suite's log scanner checks that none reached the log.
    for word in mail.text.split_whitespace() {
        if let Some(token) = word.split("token=").nth(1) {
            record_issued_token(token);
        }
    }
    Some(mail)
}

async fn no_mail(inbox: &mut UnboundedReceiver<String>, wait: Duration) {
    if let Some(mail) = next_mail(inbox, wait).await {
        panic!("no mail expected, got {:?}", mail.subject());
    }
}

struct Portal {
    app: TestApp,
    inbox: UnboundedReceiver<String>,
    refusing: Arc<std::sync::atomic::AtomicBool>,
    smtp_url: String,
}

async fn portal_with(window: &str, extra: &[(&str, &str)]) -> Portal {
    let (smtp_url, inbox, refusing) = smtp_server().await;
    let mut vars = vec![
        ("SMTP_URL", smtp_url.as_str()),
        ("NOTIFY_WINDOW_SECONDS", window),
        ("NOTIFY_RETRY_MAX_SECONDS", "1"),
    ];
    vars.extend_from_slice(NO_WRITE_LIMITS);
    vars.extend_from_slice(extra);
    let app = spawn_app_in(Arc::new(TempDir::new("portal-notify")), &vars).await;
    app.webhooks_registered().await;
    Portal {
        app,
        inbox,
        refusing,
        smtp_url,
    }
}

/// A member of `portal` and a ticket on the board that they raised.
async fn ticket_of(app: &TestApp, portal: &str, email: &str, title: &str) -> (Member, u64) {
    let auth = &app.state.auth;
    auth.upsert_portal(portal, Some("Acme Support"))
        .await
        .unwrap();
    auth.upsert_member(portal, email, Some("Kim"), None)
        .await
        .unwrap();
    let item = crate::helpers::item_raised_by(app, portal, email, title, "Open").await;
    let member = Member {
        email: email.to_owned(),
        portal_id: portal.to_owned(),
    };
    (member, item)
}

async fn team_posts(app: &TestApp, item: u64, body: &str) {
    app.local_board()
        .store()
        .mutate(|txn| txn.create_update(item, body, 2, None))
        .await
        .unwrap();
}

/// Continues a notification's sign-in link as a browser would; returns where it leads.
async fn continue_link(app: &TestApp, client: &reqwest::Client, link: &str) -> (u16, String) {
    let query = link.split_once('?').unwrap().1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let response = app
        .call(
            client,
            server_fn::<ContinueSignIn>(),
            &[
                ("portal_id", &param("portal_id")),
                ("token", &param("token")),
            ],
        )
        .await;
    let location = response
        .headers()
        .get("location")
        .or_else(|| response.headers().get("serverfnredirect"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (response.status().as_u16(), location)
}

#[tokio::test]
async fn a_team_reply_is_mailed_once_with_a_link_that_signs_in_and_opens_the_ticket() {
    let Portal { app, mut inbox, .. } = portal_with("1", &[]).await;
    let (member, item) = ticket_of(&app, "notify_a", "kim@a.test", "Printer jam").await;
    team_posts(
        &app,
        item,
        "<p>@client We replaced the <b>toner</b> &amp; rollers</p>",
    )
    .await;

    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("a mail for the reply");
    no_mail(&mut inbox, Duration::from_secs(2)).await;
    assert!(mail.subject().contains("replied"), "{}", mail.subject());
    assert!(mail.subject().contains("Printer jam"));
    assert!(
        mail.text.contains("We replaced the toner & rollers"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("@client"));
    assert!(
        mail.html.contains("<b>toner</b>"),
        "the team's formatting stays"
    );
    assert!(mail.html.contains("Acme Support"), "the portal's name");
    assert!(mail.header("To").unwrap().contains("kim@a.test"));
    // Threading and one-click unsubscribe.
    let message_id = mail.header("Message-ID").expect("a Message-ID");
    let thread = mail.header("In-Reply-To").expect("In-Reply-To");
    assert_eq!(mail.header("References").as_deref(), Some(thread.as_str()));
    assert!(thread.contains(&format!("ticket-{item}.notify_a@")));
    assert_ne!(message_id, thread);
    assert!(mail.header("List-Unsubscribe").unwrap().starts_with('<'));
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(mail.text.contains("/settings/notifications"));

    // The link: opening it shows the continue step and spends nothing (a scanner may open it).
    let link = mail.link(&format!("{}/login?", app.base_url));
    let visitor = browser();
    for _ in 0..2 {
        let page = app
            .page_text(&visitor, &link.replacen(&app.base_url, "", 1))
            .await;
        assert!(page.contains("Continue as kim@a.test"), "{page}");
    }
    // Continuing signs in and opens that ticket.
    let (status, location) = continue_link(&app, &visitor, &link).await;
    assert!(status < 400, "{status}");
    assert_eq!(location, format!("/tickets/{item}"));
    let page = app.page_text(&visitor, &format!("/tickets/{item}")).await;
    assert!(page.contains("Printer jam"));
    assert!(page.contains("We replaced the"));
    // Twice: the link is spent.
    let (status, _) = continue_link(&app, &browser(), &link).await;
    assert!(status == 404 || status >= 300, "{status}");
    let again = app
        .page_text(&browser(), &link.replacen(&app.base_url, "", 1))
        .await;
    assert!(again.contains("expired or was already used"));
    let _ = member;
}

/// A mail the queue sends is written in its reader's language: the member's choice, else their
/// portal's; never the team's or the server's.
#[tokio::test]
async fn a_team_reply_is_mailed_in_the_members_language_then_in_the_portals() {
    use client_portal::i18n::Locale;
    let Portal { app, mut inbox, .. } = portal_with("1", &[]).await;
    let auth = &app.state.auth;
    let (kim, item) = ticket_of(&app, "notify_lang", "kim@lang.test", "Printer jam").await;
    auth.set_preferences(&kim, Some(Locale::de), None)
        .await
        .unwrap();
    team_posts(&app, item, "<p>@client We replaced the toner.</p>").await;
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("a mail for the reply");
    assert!(mail.html.contains("lang=\"de\""), "{}", mail.html);
    assert!(
        mail.text.contains("vom Support-Team hat geantwortet:"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Ticket öffnen"), "{}", mail.text);
    assert!(
        mail.text.contains("We replaced the toner."),
        "the team's words as written"
    );

    // Someone who chose nothing reads their portal's language.
    auth.set_portal_language("notify_lang", Some(Locale::fr))
        .await
        .unwrap();
    let (_, other) = ticket_of(&app, "notify_lang", "lee@lang.test", "Scanner").await;
    team_posts(&app, other, "<p>@client Fixed.</p>").await;
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("a mail for the second reply");
    assert!(mail.header("To").unwrap().contains("lee@lang.test"));
    assert!(mail.html.contains("lang=\"fr\""), "{}", mail.html);
    assert!(mail.text.contains("Ouvrir le ticket"), "{}", mail.text);
    app.shutdown().await;
}

#[tokio::test]
async fn changes_within_the_window_are_one_mail_and_internal_notes_and_own_messages_none() {
    let Portal { app, mut inbox, .. } = portal_with("3", &[]).await;
    let (member, item) = ticket_of(&app, "notify_b", "kim@b.test", "VPN down").await;
    let client = app.signed_in("notify_b", "kim@b.test").await;

    // An internal note (no marker), an explicitly internal one, and the member's own message.
    team_posts(&app, item, "<p>Internal: they broke it, charge them</p>").await;
    team_posts(&app, item, "<p>@internal escalate to the vendor</p>").await;
    let response = app
        .call(
            &client,
            server_fn::<PostReply>(),
            &[
                ("ticket_id", &item.to_string()),
                ("body", "Any news on this?"),
            ],
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    app.outbox_drained(Duration::from_secs(10)).await;
    // And a team reply in the member's thread marked internal.
    let own = app
        .local_board()
        .store()
        .snapshot()
        .item_updates(item)
        .iter()
        .find(|u| u.body.contains("Any news"))
        .expect("the member's message on the board")
        .id;
    app.local_board()
        .store()
        .mutate(|txn| txn.create_reply(own, "<p>@internal ignore until Monday</p>", 2, None))
        .await
        .unwrap();
    no_mail(&mut inbox, Duration::from_secs(5)).await;
    assert_eq!(app.state.notifier.counts().await.unwrap().sent, 0);

    // Three status changes inside the window: one mail.
    for label in ["In Progress", "Resolved", "Closed"] {
        app.team_sets_status(&item.to_string(), label).await;
    }
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("one mail for three changes");
    no_mail(&mut inbox, Duration::from_secs(4)).await;
    assert_eq!(mail.subject(), "3 updates on VPN down");
    for said in ["In Progress", "Resolved", "Closed", "reopen"] {
        assert!(mail.text.contains(said), "{said}: {}", mail.text);
    }
    for never in ["charge them", "vendor", "Monday", "Any news"] {
        assert!(!mail.text.contains(never), "{never}");
        assert!(!mail.html.contains(never), "{never}");
    }
    let _ = member;
}

#[tokio::test]
async fn each_preference_is_honoured_and_the_digest_comes_at_the_chosen_hour() {
    let Portal { app, mut inbox, .. } = portal_with("1", &[]).await;
    let notifier = &app.state.notifier;
    let (replies, replies_item) = ticket_of(&app, "notify_c", "r@c.test", "Replies only").await;
    let (nothing, nothing_item) = ticket_of(&app, "notify_c", "n@c.test", "Nothing").await;
    let (digest, digest_item) = ticket_of(&app, "notify_c", "d@c.test", "Digest one").await;
    let (_, digest_item_2) = ticket_of(&app, "notify_c", "d@c.test", "Digest two").await;
    notifier
        .set_prefs(&replies, NotifyMode::Replies, 8, 0)
        .await
        .unwrap();
    notifier
        .set_prefs(&nothing, NotifyMode::None, 8, 0)
        .await
        .unwrap();
    notifier
        .set_prefs(&digest, NotifyMode::Digest, 7, 120)
        .await
        .unwrap();

    // Replies only: In Progress is not mailed, Resolved is.
    app.team_sets_status(&replies_item.to_string(), "In Progress")
        .await;
    no_mail(&mut inbox, Duration::from_secs(3)).await;
    app.team_sets_status(&replies_item.to_string(), "Resolved")
        .await;
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(mail.header("To").unwrap().contains("r@c.test"));
    assert_eq!(mail.subject(), "Replies only is now Resolved");

    // Nothing: nothing.
    app.team_sets_status(&nothing_item.to_string(), "Resolved")
        .await;
    team_posts(&app, nothing_item, "<p>@client Done</p>").await;

    // Digest: collected, not sent before the hour.
    app.team_sets_status(&digest_item.to_string(), "In Progress")
        .await;
    team_posts(&app, digest_item_2, "<p>@client Which model is it?</p>").await;
    no_mail(&mut inbox, Duration::from_secs(4)).await;
    assert_eq!(notifier.counts().await.unwrap().collecting, 1);
    // A day later (the digest's hour has passed): one mail with both tickets.
    notifier.advance_clock(25 * 3600);
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("the digest");
    no_mail(&mut inbox, Duration::from_secs(2)).await;
    assert!(mail.header("To").unwrap().contains("d@c.test"));
    assert!(
        mail.subject().starts_with("Your daily summary"),
        "{}",
        mail.subject()
    );
    assert!(mail.text.contains("Digest one") && mail.text.contains("Digest two"));
    assert!(mail.text.contains("Which model is it?"));
    assert!(mail.text.contains("In Progress"));
    // Each ticket has its own link.
    assert_eq!(mail.text.matches("Open the ticket: ").count(), 2);
}

#[tokio::test]
async fn one_click_unsubscribe_works_by_post_and_a_get_changes_nothing() {
    let Portal { app, mut inbox, .. } = portal_with("1", &[]).await;
    let (member, item) = ticket_of(&app, "notify_d", "kim@d.test", "Email bounce").await;
    app.team_sets_status(&item.to_string(), "In Progress").await;
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .unwrap();
    let header = mail.header("List-Unsubscribe").unwrap();
    let url = header.trim_matches(|c| c == '<' || c == '>').to_owned();
    assert!(url.starts_with(&app.base_url), "{url}");

    // A GET (a person, or a scanner) shows a confirm page and changes nothing.
    let plain = reqwest::Client::new();
    let page = plain.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Stop notification mails?"));
    assert!(page.contains("method=\"post\""));
    let prefs = app.state.notifier.prefs(&member).await.unwrap();
    assert_eq!(prefs.mode, NotifyMode::All);
    assert!(prefs.is_default);

    // The mail program's one click: a POST from its own server, no cookies, no Origin.
    let done = plain
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("unsubscribed"));
    assert_eq!(
        app.state.notifier.prefs(&member).await.unwrap().mode,
        NotifyMode::None
    );
    app.team_sets_status(&item.to_string(), "Resolved").await;
    no_mail(&mut inbox, Duration::from_secs(3)).await;

    // A made-up token does nothing.
    let forged = plain
        .post(format!(
            "{}/notifications/unsubscribe?token={}",
            app.base_url,
            "A".repeat(43)
        ))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);
}

#[tokio::test]
async fn notification_links_are_single_use_expiring_and_bound_to_their_member_and_ticket() {
    let Portal { app, .. } = portal_with("1", &[]).await;
    let auth = &app.state.auth;
    let (_, item) = ticket_of(&app, "notify_e", "kim@e.test", "Bound").await;
    auth.upsert_portal("notify_other", None).await.unwrap();
    auth.upsert_member("notify_other", "eve@other.test", None, None)
        .await
        .unwrap();
    let ttl = Duration::from_secs(3600);
    let make = || async {
        let link = auth
            .create_ticket_link("notify_e", "kim@e.test", &item.to_string(), ttl)
            .await
            .unwrap();
        record_issued_token(link.split("token=").nth(1).unwrap());
        link
    };

    // Another portal's member (signed in there) edits the portal in the link: refused.
    let eve = app.signed_in("notify_other", "eve@other.test").await;
    let link = make().await;
    let moved = link.replace("portal_id=notify_e", "portal_id=notify_other");
    let (status, _) = continue_link(&app, &eve, &moved).await;
    assert!(status == 404 || (300..400).contains(&status), "{status}");
    let page = app
        .page_text(&eve, &moved.replacen(&app.base_url, "", 1))
        .await;
    assert!(page.contains("expired or was already used"));
    // The real link still works, signs in as its own member and opens its own ticket only.
    let (_, location) = continue_link(&app, &eve, &link).await;
    assert_eq!(location, format!("/tickets/{item}"));

    // Expired.
    let link = make().await;
    client_portal::on_db!(&app.state.db, pool => sqlx::query("UPDATE magic_links SET expires_at = $1 WHERE ticket_id = $2 AND used_at IS NULL")
        .bind(client_portal::server::db::now_unix() - 1)
        .bind(item.to_string())
        .execute(pool)
        .await
        .map(|d| d.rows_affected()))
    .unwrap();
    let page = app
        .page_text(&browser(), &link.replacen(&app.base_url, "", 1))
        .await;
    assert!(page.contains("expired or was already used"));
    let (status, location) = continue_link(&app, &browser(), &link).await;
    assert!(!location.starts_with("/tickets/"), "{status} {location}");
}

/// Notices straight into the notifier: what the webhook and outbox services send it.
fn status_notice(portal: &str, email: &str, ticket: usize) -> Notice {
    Notice {
        portal_id: portal.to_owned(),
        ticket_id: (900_000 + ticket).to_string(),
        ticket_title: format!("Ticket {ticket}"),
        raised_by: Some(email.to_owned()),
        actor: None,
        change: Change::StatusChanged {
            status: Status::InProgress,
        },
    }
}

async fn count(app: &TestApp, state: &str) -> i64 {
    let (n,): (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM notify_mails WHERE state = $1",
    )
    .bind(state)
    .fetch_one(pool)
    .await)
    .unwrap();
    n
}

#[tokio::test]
async fn mails_wait_while_smtp_refuses_and_go_out_once_after_a_restart() {
    let Portal {
        app,
        mut inbox,
        refusing,
        smtp_url,
    } = portal_with("1", &[]).await;
    refusing.store(true, Ordering::SeqCst);
    let auth = &app.state.auth;
    auth.upsert_portal("notify_f", None).await.unwrap();
    auth.upsert_member("notify_f", "kim@f.test", None, None)
        .await
        .unwrap();
    for n in 0..5 {
        assert_eq!(
            app.state
                .notifier
                .record(status_notice("notify_f", "kim@f.test", n))
                .await,
            1
        );
    }
    // Five minutes of refusals (on the queue's clock), retried with back-off.
    for _ in 0..10 {
        app.state.notifier.advance_clock(30);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (attempts,): (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT COALESCE(MAX(attempts), 0) FROM notify_mails",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    // The first in line is retried; the others wait behind it (one refusal pauses the queue).
    assert!(attempts >= 3, "retried with back-off: {attempts}");
    assert_eq!(count(&app, "waiting").await, 5);
    assert_eq!(count(&app, "sent").await, 0);
    assert!(inbox.try_recv().is_err());

    // The portal restarts; SMTP takes mail again.
    let data_dir = app.data_dir.clone();
    app.shutdown().await;
    refusing.store(false, Ordering::SeqCst);
    let mut vars = vec![
        ("SMTP_URL", smtp_url.as_str()),
        ("NOTIFY_WINDOW_SECONDS", "1"),
        ("NOTIFY_RETRY_MAX_SECONDS", "1"),
    ];
    vars.extend_from_slice(NO_WRITE_LIMITS);
    let app = spawn_app_in(data_dir, &vars).await;
    // Past the last retry time and any lease the stopped instance held.
    app.state.notifier.advance_clock(600);
    let mut ids = HashSet::new();
    for _ in 0..5 {
        let mail = next_mail(&mut inbox, Duration::from_secs(10))
            .await
            .expect("every mail goes out");
        assert!(ids.insert(mail.header("Message-ID").unwrap()), "sent twice");
    }
    no_mail(&mut inbox, Duration::from_secs(3)).await;
    assert_eq!(count(&app, "sent").await, 5);
}

#[tokio::test]
async fn instances_sharing_the_database_send_each_mail_once() {
    let Portal { app, mut inbox, .. } = portal_with("0", &[]).await;
    let auth = &app.state.auth;
    auth.upsert_portal("notify_g", None).await.unwrap();
    auth.upsert_member("notify_g", "kim@g.test", None, None)
        .await
        .unwrap();
    let config = &app.state.config;
    let other = |name: &str| {
        Arc::new(Notifier::new(
            app.state.db.clone(),
            auth.clone(),
            config.notify.clone(),
            config.public_url().to_owned(),
            name.to_owned(),
            Duration::from_secs(120),
        ))
    };
    let (a, b) = (other("instance-a"), other("instance-b"));
    const MAILS: usize = 40;
    for n in 0..MAILS {
        // Recorded through different instances, as webhooks land on any of them.
        let notifier = if n % 2 == 0 { &a } else { &b };
        notifier
            .record(status_notice("notify_g", "kim@g.test", n))
            .await;
    }
    // Both extra instances and the portal's own queue work at once.
    let (ra, rb) = tokio::join!(a.work(), b.work());
    ra.unwrap();
    rb.unwrap();
    app.state.notifier.wake();
    let mut ids = HashSet::new();
    for _ in 0..MAILS {
        let mail = next_mail(&mut inbox, Duration::from_secs(15))
            .await
            .expect("every mail goes out");
        assert!(ids.insert(mail.header("Message-ID").unwrap()), "sent twice");
    }
    no_mail(&mut inbox, Duration::from_secs(2)).await;
    assert_eq!(count(&app, "sent").await, MAILS as i64);
}

#[tokio::test]
async fn a_new_ticket_is_confirmed_once_it_reached_the_team() {
    let Portal { app, mut inbox, .. } = portal_with("1", &[]).await;
    let client = app.signed_in("notify_h", "kim@h.test").await;
    let response = app
        .create_ticket(
            &client,
            "Laptop will not boot",
            "Black screen since the update.",
            "high",
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("the confirmation");
    assert_eq!(
        mail.subject(),
        "We received your ticket: Laptop will not boot"
    );
    assert!(mail.text.contains("Its reference is cp"), "{}", mail.text);
    // Straight through, so it does not say it waited.
    assert!(!mail.text.contains("could not be reached"));

    // Written while monday is down: the confirmation says when it finally arrived.
    app.take_monday_down().await;
    let response = app
        .create_ticket(&client, "Written while down", "", "low")
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    // The first attempt (with the client's own retries) is over before the clock is moved.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (attempts,): (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
            "SELECT attempts FROM outbox WHERE title = $1",
        )
        .bind("Written while down")
        .fetch_one(pool)
        .await)
        .unwrap();
        if attempts >= 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the outbox tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Ten minutes ago, as far as the outbox knows.
    let moved = client_portal::on_db!(&app.state.db, pool => sqlx::query("UPDATE outbox SET created_at = created_at - 600 WHERE title = $1 AND state = 'waiting'")
        .bind("Written while down")
        .execute(pool)
        .await
        .map(|d| d.rows_affected()))
    .unwrap();
    assert_eq!(moved, 1, "the ticket waits in the outbox");
    no_mail(&mut inbox, Duration::from_secs(1)).await;
    app.local_board()
        .set_faults(monday_local::Faults::default())
        .await
        .unwrap();
    app.outbox_drained(Duration::from_secs(20)).await;
    let mail = next_mail(&mut inbox, Duration::from_secs(10))
        .await
        .expect("the late confirmation");
    assert_eq!(
        mail.subject(),
        "We received your ticket: Written while down"
    );
    assert!(mail.text.contains("could not be reached"), "{}", mail.text);
    assert!(
        mail.text.contains(" UTC."),
        "the time, in the member's zone (UTC until chosen): {}",
        mail.text
    );
}

#[tokio::test]
async fn a_ticket_monday_refuses_for_good_is_mailed_with_what_to_do() {
    let Portal { app, mut inbox, .. } =
        portal_with("1", &[("MONDAY_PRIORITY_LABELS", "Critical=urgent")]).await;
    let client = app.signed_in("notify_i", "kim@i.test").await;
    app.create_ticket(&client, "Refused by monday", "Please help", "urgent")
        .await;
    let mail = next_mail(&mut inbox, Duration::from_secs(15))
        .await
        .expect("the refusal");
    assert_eq!(
        mail.subject(),
        "Your ticket could not be sent: Refused by monday"
    );
    assert!(mail.text.contains("The board said:"), "{}", mail.text);
    assert!(mail.text.contains("try again"));
    // Its link opens the kept ticket.
    let link = mail.link(&format!("{}/login?", app.base_url));
    let (_, location) = continue_link(&app, &browser(), &link).await;
    assert!(location.starts_with("/tickets/pending-"), "{location}");
}

#[tokio::test]
async fn the_demo_inbox_and_the_team_console_show_notifications() {
    // No SMTP: the local board's demo inbox shows the mail.
    let app = crate::helpers::spawn_app_with(&[("NOTIFY_WINDOW_SECONDS", "1")]).await;
    app.webhooks_registered().await;
    let (_, item) = ticket_of(&app, "notify_j", "kim@j.test", "Console ticket").await;
    team_posts(&app, item, "<p>@client Looking into it</p>").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.state.notifier.counts().await.unwrap().sent < 1 {
        assert!(tokio::time::Instant::now() < deadline, "the mail was kept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let local = reqwest::Client::new();
    let inbox = local
        .get(app.url("/local-board/mail"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        inbox.contains("Support team replied: Console ticket")
            || inbox.contains("replied: Console ticket"),
        "{inbox}"
    );
    assert!(inbox.contains(&format!(
        r#"href="{}/login?portal_id=notify_j&amp;token="#,
        app.base_url
    )));
    for token in inbox.split("token=").skip(1) {
        record_issued_token(&token[..43.min(token.len())]);
    }
    let console = local
        .get(app.url(&format!("/local-board/items/{item}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(console.contains("Notification mails"));
    assert!(
        console.contains("Mail to <strong>kim@j.test</strong> about a team reply: sent"),
        "{console}"
    );
}

#[tokio::test]
async fn the_settings_page_saves_a_choice_and_the_portal_default_applies_until_then() {
    use client_portal::api::notify::SaveNotifyPrefs;
    let Portal { app, .. } = portal_with("1", &[("NOTIFY_DEFAULT", "all")]).await;
    let client = app.signed_in("notify_k", "kim@k.test").await;
    let member = Member {
        email: "kim@k.test".into(),
        portal_id: "notify_k".into(),
    };
    let notifier = &app.state.notifier;
    assert_eq!(notifier.prefs(&member).await.unwrap().mode, NotifyMode::All);
    // The portal's own default comes before NOTIFY_DEFAULT.
    assert!(
        app.state
            .auth
            .set_notify_default("notify_k", Some(NotifyMode::Replies))
            .await
            .unwrap()
    );
    let prefs = notifier.prefs(&member).await.unwrap();
    assert_eq!((prefs.mode, prefs.is_default), (NotifyMode::Replies, true));
    let page = app.page_text(&client, "/settings/notifications").await;
    assert!(page.contains("Preferences") && page.contains(">Notifications<"));
    assert!(page.contains("your portal&#x27;s default") || page.contains("portal's default"));

    // The member's choice, as the plain form posts it.
    let response = client
        .post(app.url(server_fn::<SaveNotifyPrefs>()))
        .header("origin", &app.base_url)
        .header("accept", "text/html")
        .form(&[
            ("mode", "digest"),
            ("digest_hour", "18"),
            ("utc_offset_minutes", "-300"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(
        response.headers()["location"],
        "/settings/notifications?saved=1"
    );
    let prefs = notifier.prefs(&member).await.unwrap();
    assert_eq!(
        (
            prefs.mode,
            prefs.is_default,
            prefs.digest_hour,
            prefs.utc_offset_minutes
        ),
        (NotifyMode::Digest, false, 18, -300)
    );
    // Nonsense is refused.
    let response = app
        .call(
            &client,
            server_fn::<SaveNotifyPrefs>(),
            &[("mode", "spam"), ("digest_hour", "8")],
        )
        .await;
    assert_eq!(response.status(), 422);
    // Signed out: nothing.
    let response = app
        .call(
            &browser(),
            server_fn::<SaveNotifyPrefs>(),
            &[("mode", "none")],
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        notifier.prefs(&member).await.unwrap().mode,
        NotifyMode::Digest
    );
}
