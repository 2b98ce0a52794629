//! What a client does once the team has answered: "This is solved", reopening within the
//! window (and not after it), following a closed ticket up, and rating the answer, where only a
//! POST from the page records and a mail's link (or a scanner fetching it) records nothing.

use std::time::Duration;

use client_portal::api::auth::ContinueSignIn;
use client_portal::api::tickets::{
    FollowUpTicket, LoadTicket, PostReply, RateTicket, ReopenTicket, ResolveTicket, SetFollowing,
};
use client_portal::model::{Role, Status, TicketView};
use monday_local::store::BoardState;

use crate::helpers::{
    NO_WRITE_LIMITS, TestApp, browser, client_with_cookie, server_fn, spawn_app_with,
};

const PORTAL: &str = "solve";
const RAE: &str = "rae@solve.test";
const MAX: &str = "max@solve.test";

/// A portal with Rae (who raises tickets) and Max, a colleague; monday's notifications are
/// collected for a second so the tests need not wait.
async fn portal() -> (TestApp, reqwest::Client, reqwest::Client) {
    let mut vars = vec![("NOTIFY_WINDOW_SECONDS", "1")];
    vars.extend_from_slice(NO_WRITE_LIMITS);
    let app = spawn_app_with(&vars).await;
    app.webhooks_registered().await;
    let auth = &app.state.auth;
    auth.upsert_portal(PORTAL, Some("Solve Ltd")).await.unwrap();
    auth.upsert_member(PORTAL, RAE, Some("Rae"), Some(Role::Requester))
        .await
        .unwrap();
    auth.upsert_member(PORTAL, MAX, Some("Max"), Some(Role::Member))
        .await
        .unwrap();
    let rae = client_with_cookie(&app.session_cookie(PORTAL, RAE).await);
    let max = client_with_cookie(&app.session_cookie(PORTAL, MAX).await);
    (app, rae, max)
}

/// An item Rae raised, with `status`; waits for the portal to hear of it.
async fn rae_ticket(app: &TestApp, title: &str, status: &str) -> String {
    crate::helpers::item_raised_by(app, PORTAL, RAE, title, status)
        .await
        .to_string()
}

/// A column's text on the board, as the team sees it.
fn column(app: &TestApp, item: &str, column: &str) -> String {
    let snap = app.local_board().store().snapshot();
    let board = snap.board(app.local_board().board_id()).unwrap();
    let item = &snap.items[&item.parse::<u64>().unwrap()];
    board
        .column(column)
        .and_then(|c| BoardState::column_text(c, item.values.get(column)))
        .unwrap_or_default()
}

/// The bodies of the item's updates on the board.
fn updates(app: &TestApp, item: &str) -> Vec<String> {
    let id: u64 = item.parse().unwrap();
    app.local_board()
        .store()
        .snapshot()
        .updates
        .values()
        .filter(|u| u.item_id == id)
        .map(|u| u.body.clone())
        .collect()
}

async fn view(app: &TestApp, client: &reqwest::Client, item: &str) -> TicketView {
    let response = app
        .call(client, server_fn::<LoadTicket>(), &[("id", item)])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 20 s");
}

async fn ratings(app: &TestApp) -> i64 {
    let (count,): (i64,) = client_portal::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM ratings",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    count
}

#[tokio::test]
async fn this_is_solved_reaches_the_board_once_with_a_note_even_after_monday_was_down() {
    let (app, rae, max) = portal().await;
    let item = rae_ticket(&app, "Printer jams", "In Progress").await;
    // Max follows it: he is told of the resolution, Rae (who did it) is not.
    let follow = app
        .call(&max, server_fn::<SetFollowing>(), &[("ticket_id", &item)])
        .await;
    assert_eq!(follow.status(), 200);

    app.take_monday_down().await;
    let solved = app
        .call(&rae, server_fn::<ResolveTicket>(), &[("ticket_id", &item)])
        .await;
    assert_eq!(solved.status(), 200, "{}", solved.text().await.unwrap());
    let page = view(&app, &rae, &item).await;
    assert!(
        page.resolution.action_pending,
        "the page says it is on its way"
    );
    assert_eq!(page.detail.ticket.status, Status::InProgress);
    // A second click while the first waits changes nothing.
    let again = app
        .call(&rae, server_fn::<ResolveTicket>(), &[("ticket_id", &item)])
        .await;
    assert_eq!(again.status(), 422);

    app.local_board()
        .set_faults(monday_local::Faults::default())
        .await
        .unwrap();
    until("the status reached the board", async || {
        column(&app, &item, "status") == "Resolved"
    })
    .await;
    app.outbox_drained(Duration::from_secs(10)).await;
    let notes: Vec<String> = updates(&app, &item)
        .into_iter()
        .filter(|b| b.contains("Marked this ticket as solved."))
        .collect();
    assert_eq!(notes.len(), 1, "one note: {notes:?}");
    assert!(notes[0].contains("Rae"), "it says who: {}", notes[0]);

    until("the page shows it resolved", async || {
        let page = view(&app, &rae, &item).await;
        page.detail.ticket.status == Status::Resolved && !page.resolution.action_pending
    })
    .await;
    let page = view(&app, &rae, &item).await;
    assert!(page.resolution.reopen_until.is_some());

    // Mail: Max hears of the resolution and is asked how it went; Rae is not told of her own
    // doing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.state.notifier.advance_clock(5);
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = app.state.auth.mailer().kept(20).await;
        if mails.iter().any(|(_, m)| m.to == MAX) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let to_max = &mails
        .iter()
        .find(|(_, m)| m.to == MAX && m.subject.contains("Printer jams"))
        .expect("Max is mailed")
        .1;
    assert!(to_max.text.contains("How did we do?"), "{}", to_max.text);
    for word in to_max.text.split_whitespace() {
        if let Some(token) = word.split("token=").nth(1) {
            crate::helpers::record_issued_token(&token[..43]);
        }
    }
    assert!(
        !mails
            .iter()
            .any(|(_, m)| m.to == RAE && m.subject.contains("Printer jams")),
        "no mail to Rae about her own change"
    );
}

#[tokio::test]
async fn a_ticket_reopens_inside_the_window_and_not_after_it() {
    let (app, rae, _max) = portal().await;
    let item = rae_ticket(&app, "Invoices are wrong", "Resolved").await;
    app.team_sets_status(&item, "Resolved").await;

    // A reason is required.
    let empty = app
        .call(
            &rae,
            server_fn::<ReopenTicket>(),
            &[("ticket_id", &item), ("reason", "  ")],
        )
        .await;
    assert_eq!(empty.status(), 422);
    let reopened = app
        .call(
            &rae,
            server_fn::<ReopenTicket>(),
            &[("ticket_id", &item), ("reason", "Still wrong for March")],
        )
        .await;
    assert_eq!(reopened.status(), 200);
    app.outbox_drained(Duration::from_secs(10)).await;
    until("the board shows it open", async || {
        column(&app, &item, "status") == "Open"
    })
    .await;
    assert!(
        updates(&app, &item)
            .iter()
            .any(|b| b.contains("Reopened this ticket: Still wrong for March"))
    );

    // Resolved again, a month ago: the window has passed.
    app.team_sets_status(&item, "Resolved").await;
    until("the portal heard of it", async || {
        view(&app, &rae, &item).await.detail.ticket.status == Status::Resolved
    })
    .await;
    let month_ago = client_portal::server::db::now_unix() - 30 * 24 * 3600;
    client_portal::on_db!(&app.state.db, pool => sqlx::query("UPDATE ticket_events SET at = $1")
        .bind(monday::format_utc(time::OffsetDateTime::from_unix_timestamp(month_ago).unwrap()))
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    app.state.auth.memory().changed_here();
    app.state.auth.memory().tickets_changed_here();
    let page = view(&app, &rae, &item).await;
    assert_eq!(page.resolution.reopen_until, None);
    let late = app
        .call(
            &rae,
            server_fn::<ReopenTicket>(),
            &[("ticket_id", &item), ("reason", "It is back")],
        )
        .await;
    assert_eq!(late.status(), 422);
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("more than 14 day(s) ago")
    );
    // A message no longer reopens it either; a follow-up ticket links back to it.
    let reply = app
        .call(
            &rae,
            server_fn::<PostReply>(),
            &[("ticket_id", &item), ("body", "Hello?")],
        )
        .await;
    assert_eq!(reply.status(), 422);
    let html = rae
        .get(app.url(&format!("/tickets/{item}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"follow-up\""));
    assert!(!html.contains("id=\"reply-body\""));
    let follow_up = app
        .call(
            &rae,
            server_fn::<FollowUpTicket>(),
            &[("ticket_id", &item), ("body", "The April invoices too")],
        )
        .await;
    assert_eq!(follow_up.status(), 200);
    let ticket: client_portal::model::Ticket = follow_up.json().await.unwrap();
    assert_eq!(ticket.title, "Follow-up: Invoices are wrong");
    assert!(
        ticket
            .description
            .contains(&format!("Follows up on ticket {item}"))
    );
    let status_on_board = column(&app, &item, "status");
    assert_eq!(status_on_board, "Resolved", "the old ticket stays resolved");
}

#[tokio::test]
async fn a_rating_counts_only_when_sent_from_the_page_and_reaches_the_board() {
    let (app, rae, _max) = portal().await;
    let item = rae_ticket(&app, "Login loops", "In Progress").await;
    // Not resolved yet: nothing to rate.
    let early = app
        .call(
            &rae,
            server_fn::<RateTicket>(),
            &[("ticket_id", &item), ("rating", "good")],
        )
        .await;
    assert_eq!(early.status(), 422);

    // The team resolves it; Rae's mail asks how it went.
    app.team_sets_status(&item, "Resolved").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.state.notifier.advance_clock(5);
    let mut mail = None;
    for _ in 0..100 {
        mail = app
            .state
            .auth
            .mailer()
            .kept(20)
            .await
            .into_iter()
            .find(|(_, m)| m.to == RAE && m.text.contains("How did we do?"));
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = mail.expect("the resolution mail").1;
    let good = mail
        .text
        .lines()
        .find_map(|line| line.strip_prefix("Good: "))
        .expect("a Good link")
        .to_owned();
    for word in mail.text.split_whitespace() {
        if let Some(token) = word.split("token=").nth(1) {
            crate::helpers::record_issued_token(&token[..43]);
        }
    }
    assert!(good.ends_with("&rate=good"));

    // A mail scanner fetches the link (and the page it leads to): nothing is recorded.
    let path = good.split_once("/login").unwrap().1;
    let scanner = browser();
    let fetched = scanner
        .get(app.url(&format!("/login{path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert!(
        fetched
            .text()
            .await
            .unwrap()
            .contains("name=\"rate\" value=\"good\"")
    );
    assert_eq!(ratings(&app).await, 0);
    assert_eq!(column(&app, &item, "rating"), "");

    // Rae follows it: she lands on the ticket with Good chosen, and still nothing is recorded.
    let query = path.split_once('?').unwrap().1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let person = browser();
    let continued = app
        .call(
            &person,
            server_fn::<ContinueSignIn>(),
            &[
                ("portal_id", &param("portal_id")),
                ("token", &param("token")),
                ("rate", &param("rate")),
            ],
        )
        .await;
    let location = continued
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        location,
        format!("/tickets/{item}?rate=good#rating-heading")
    );
    let page = person
        .get(app.url(&format!("/tickets/{item}?rate=good")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"id="rating-good" name="rating" value="good" required checked"#)
            || page.contains(r#"value="good" required="" checked"#),
        "Good is chosen"
    );
    assert_eq!(ratings(&app).await, 0, "opening the page records nothing");

    // Sending the form records it: here, on the board's rating column and as a note.
    let rated = app
        .call(
            &person,
            server_fn::<RateTicket>(),
            &[
                ("ticket_id", &item),
                ("rating", "good"),
                ("comment", "Quick and clear"),
            ],
        )
        .await;
    assert_eq!(rated.status(), 200);
    assert_eq!(ratings(&app).await, 1);
    app.outbox_drained(Duration::from_secs(10)).await;
    assert_eq!(column(&app, &item, "rating"), "Good");
    assert!(
        updates(&app, &item)
            .iter()
            .any(|b| b.contains("Rated the answer: Good. Quick and clear"))
    );
    let page = view(&app, &rae, &item).await;
    let rating = page.resolution.rating.expect("the rating shows");
    assert_eq!(rating.by, RAE);
    assert_eq!(rating.comment, "Quick and clear");

    // Reopening resets it, here and on the board.
    let reopened = app
        .call(
            &rae,
            server_fn::<ReopenTicket>(),
            &[("ticket_id", &item), ("reason", "It loops again")],
        )
        .await;
    assert_eq!(reopened.status(), 200);
    app.outbox_drained(Duration::from_secs(10)).await;
    assert_eq!(column(&app, &item, "rating"), "");
    assert_eq!(ratings(&app).await, 0);

    // Rated again, then reopened by the team on monday: the rating goes there too.
    app.team_sets_status(&item, "Resolved").await;
    until("the portal heard of it", async || {
        view(&app, &rae, &item).await.detail.ticket.status == Status::Resolved
    })
    .await;
    let rated = app
        .call(
            &rae,
            server_fn::<RateTicket>(),
            &[("ticket_id", &item), ("rating", "bad")],
        )
        .await;
    assert_eq!(rated.status(), 200);
    app.outbox_drained(Duration::from_secs(10)).await;
    assert_eq!(column(&app, &item, "rating"), "Not good");
    app.team_sets_status(&item, "In Progress").await;
    until("the board's rating is cleared", async || {
        column(&app, &item, "rating").is_empty()
    })
    .await;
    assert_eq!(ratings(&app).await, 0);
}
