//! Files both ways: a client attaches files to a new ticket and to a message (with and without
//! the page's script), they reach monday once even while monday is down or loses answers, the
//! team's files reach the client through the portal, and nobody else can download any of them.
//! Limits and types are checked on the server, and a refused upload leaves nothing behind.

use std::time::Duration;

use client_portal::api::tickets::LoadTicket;
use client_portal::model::{Delivery, FileRef, Role, TicketView};
use monday_local::{Failure, Faults};
use reqwest::multipart::{Form, Part};

use crate::helpers::{NO_WRITE_LIMITS, TestApp, client_with_cookie, server_fn, spawn_app_with};

const PORTAL: &str = "files";
const KIM: &str = "kim@files.test";
const LEE: &str = "lee@files.test";
const OTHER_PORTAL: &str = "elsewhere";
const EVE: &str = "eve@elsewhere.test";

/// A PNG's signature and header, then `extra` bytes that make each file's content its own.
fn png(extra: usize, seed: u8) -> Vec<u8> {
    let mut bytes =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    bytes.extend((0..extra).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

fn pdf(extra: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.extend((0..extra).map(|i| b'a' + (i % 26) as u8));
    bytes
}

fn file(name: &str, bytes: Vec<u8>, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .expect("a mime type")
}

/// A portal with Kim and Lee (a requester each) and another portal with Eve.
async fn portal(extra: &[(&str, &str)]) -> (TestApp, reqwest::Client, reqwest::Client) {
    let mut vars = extra.to_vec();
    vars.extend_from_slice(NO_WRITE_LIMITS);
    let app = spawn_app_with(&vars).await;
    app.webhooks_registered().await;
    let auth = &app.state.auth;
    auth.upsert_portal(PORTAL, Some("Files Ltd")).await.unwrap();
    auth.upsert_member(PORTAL, KIM, Some("Kim"), Some(Role::Requester))
        .await
        .unwrap();
    auth.upsert_member(PORTAL, LEE, Some("Lee"), Some(Role::Requester))
        .await
        .unwrap();
    auth.upsert_portal(OTHER_PORTAL, None).await.unwrap();
    auth.upsert_member(OTHER_PORTAL, EVE, None, None)
        .await
        .unwrap();
    let kim = client_with_cookie(&app.session_cookie(PORTAL, KIM).await);
    let eve = client_with_cookie(&app.session_cookie(OTHER_PORTAL, EVE).await);
    (app, kim, eve)
}

async fn view(app: &TestApp, client: &reqwest::Client, ticket: &str) -> TicketView {
    let response = app
        .call(client, server_fn::<LoadTicket>(), &[("id", ticket)])
        .await;
    assert_eq!(response.status(), 200, "{ticket}");
    response.json().await.unwrap()
}

/// Posts a multipart form to `path` as `client`, asking for `accept` (`application/json` as the
/// page's script does, `text/html` as a form without JavaScript).
async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    accept: &str,
    form: Form,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("accept", accept)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Posts the new-ticket form with `files`, as the page's script does (JSON back).
async fn create_with_files(
    app: &TestApp,
    client: &reqwest::Client,
    title: &str,
    files: Vec<Part>,
) -> reqwest::Response {
    let mut form = Form::new()
        .text("title", title.to_owned())
        .text("description", "See the screenshot.")
        .text("priority", "high");
    for part in files {
        form = form.part("files", part);
    }
    post_form(app, client, "/tickets", "application/json", form).await
}

/// The files (name, bytes) on item `item`'s updates and replies on the board.
fn board_files(app: &TestApp, item: &str) -> Vec<(String, u64)> {
    let id: u64 = item.parse().unwrap();
    let snap = app.local_board().store().snapshot();
    let mut files: Vec<(String, u64)> = snap
        .updates
        .values()
        .filter(|u| u.item_id == id)
        .flat_map(|u| snap.update_assets(u.id))
        .map(|a| (a.name.clone(), a.file_size))
        .collect();
    files.sort();
    files
}

async fn download(
    app: &TestApp,
    client: &reqwest::Client,
    ticket: &str,
    file: &FileRef,
) -> reqwest::Response {
    client.get(app.url(&file.url(ticket))).send().await.unwrap()
}

/// Checks a download answered 200 as `disposition` (`inline` or `attachment`) with `nosniff`,
/// and returns its bytes.
async fn served(response: reqwest::Response, disposition: &str) -> Vec<u8> {
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    let given = headers["content-disposition"].to_str().unwrap();
    assert!(given.starts_with(disposition), "{given}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store", "kept by no cache");
    response.bytes().await.unwrap().to_vec()
}

async fn stored_rows(app: &TestApp) -> (i64, i64) {
    client_portal::on_db!(&app.state.db, pool => {
        let files: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM attachments").fetch_one(pool).await.unwrap();
        let chunks: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM attachment_chunks").fetch_one(pool).await.unwrap();
        (files.0, chunks.0)
    })
}

async fn wait_for_item(app: &TestApp, outbox_ticket: &str) -> String {
    let outbox_id = outbox_ticket.trim_start_matches("pending-");
    for _ in 0..200 {
        if let Some(item) = app.state.tickets.delivered_item(outbox_id).await {
            return item;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the ticket never reached monday");
}

#[tokio::test]
async fn files_reach_monday_once_while_it_is_down_and_loses_answers_and_come_back_with_the_right_bytes()
 {
    let (app, kim, eve) = portal(&[]).await;
    let shot = png(300_000, 7);
    let report = pdf(200_000);

    // monday is down while Kim uploads: everything is kept and shown as on its way.
    app.take_monday_down().await;
    let response = create_with_files(
        &app,
        &kim,
        "Printer offline",
        vec![
            file("screenshot.png", shot.clone(), "image/png"),
            file("report.pdf", report.clone(), "application/pdf"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    let pending = saved["ticket_id"].as_str().unwrap().to_owned();
    assert!(pending.starts_with("pending-"), "{saved}");
    let page = view(&app, &kim, &pending).await;
    let names: Vec<&str> = page.detail.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["screenshot.png", "report.pdf"]);
    assert!(page.detail.files[0].image && !page.detail.files[1].image);
    assert!(
        page.detail
            .files
            .iter()
            .all(|f| matches!(f.delivery, Delivery::Waiting { .. })),
        "{:?}",
        page.detail.files
    );
    // Kim can download her own files before monday has them, with the exact bytes.
    let png_back = download(&app, &kim, &pending, &page.detail.files[0]).await;
    assert_eq!(png_back.headers()["content-type"], "image/png");
    assert_eq!(served(png_back, "inline").await, shot);
    // Nobody else gets them: another portal's member, a signed-out browser.
    for (who, client) in [("eve", &eve), ("signed out", &reqwest::Client::new())] {
        let response = download(&app, client, &pending, &page.detail.files[0]).await;
        assert_eq!(response.status(), 404, "{who}");
    }

    // monday comes back, but loses its answer to the first write (the item) after doing it:
    // the outbox must look before creating it again.
    app.local_board()
        .set_faults(Faults {
            failure: Some(Failure::LostResponse),
            remaining: Some(1),
            ..Faults::default()
        })
        .await
        .unwrap();
    // The lost answer hits the first mutation (the item); the files come later and must each
    // arrive once even so. A second round loses a file's answer.
    let item = wait_for_item(&app, &pending).await;
    app.outbox_drained(Duration::from_secs(30)).await;
    assert_eq!(
        board_files(&app, &item),
        vec![
            ("report.pdf".to_owned(), report.len() as u64),
            ("screenshot.png".to_owned(), shot.len() as u64)
        ],
        "each file once on the item"
    );
    assert_eq!(app.board_titles().get("Printer offline"), Some(&1));
    let page = view(&app, &kim, &item).await;
    assert!(
        page.detail
            .files
            .iter()
            .all(|f| f.delivery == Delivery::Delivered),
        "{:?}",
        page.detail.files
    );
    let pdf_back = download(&app, &kim, &item, &page.detail.files[1]).await;
    assert_eq!(served(pdf_back, "attachment").await, report);

    // A message with a file, while an upload's answer is lost: the file is on the message's
    // update once.
    app.local_board()
        .set_faults(Faults {
            failure: Some(Failure::LostResponse),
            remaining: Some(1),
            every: Some(2),
            ..Faults::default()
        })
        .await
        .unwrap();
    let reply_file = png(50_000, 9);
    let form = Form::new()
        .text("body", "Here is another one.")
        .part("files", file("second.png", reply_file.clone(), "image/png"));
    let response = post_form(
        &app,
        &kim,
        &format!("/tickets/{item}/messages"),
        "application/json",
        form,
    )
    .await;
    assert_eq!(response.status(), 200);
    app.outbox_drained(Duration::from_secs(30)).await;
    let files = board_files(&app, &item);
    assert_eq!(
        files
            .iter()
            .filter(|(name, _)| name == "second.png")
            .count(),
        1,
        "{files:?}"
    );
    let page = view(&app, &kim, &item).await;
    let message = page
        .detail
        .replies
        .iter()
        .find(|r| r.from_client && !r.files.is_empty())
        .expect("the message with its file");
    assert_eq!(message.files[0].name, "second.png");
    assert_eq!(message.files[0].delivery, Delivery::Delivered);

    // Once the grace period is over the portal's copies go; downloads then come from monday,
    // with the same bytes, and monday's address never reaches the browser.
    let removed = app
        .state
        .tickets
        .remove_delivered_files(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(removed, 3);
    assert_eq!(stored_rows(&app).await.1, 0, "no chunks left");
    let png_back = download(&app, &kim, &item, &page.detail.files[0]).await;
    assert_eq!(png_back.headers()["content-type"], "image/png");
    assert_eq!(served(png_back, "inline").await, shot, "from monday now");
    let html = app.page_text(&kim, &format!("/tickets/{item}")).await;
    let board_url = app.local_board().url().await;
    let board_host = board_url.trim_end_matches("/v2");
    assert!(
        !html.contains(board_host),
        "monday's file URLs stay on the server"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn team_files_are_listed_and_downloaded_only_by_those_who_may_see_the_ticket() {
    let (app, kim, eve) = portal(&[]).await;
    let lee = client_with_cookie(&app.session_cookie(PORTAL, LEE).await);
    let item =
        crate::helpers::item_raised_by(&app, PORTAL, KIM, "Invoice wrong", "In Progress").await;
    // Kim opens the ticket (its detail is cached), then the team answers with a file, added
    // to its update after the update is posted, as monday's API does it.
    let _ = view(&app, &kim, &item.to_string()).await;
    let board = app.local_board();
    let team_pdf = pdf(90_000);
    let update = board
        .store()
        .mutate(|txn| {
            txn.create_update(
                item,
                "<p>@client Here is the corrected invoice.</p>",
                2,
                None,
            )
        })
        .await
        .unwrap();
    // The team's files are whatever the team attached: a web page and an SVG with a script
    // among them, which the portal must never serve as something a browser runs.
    let page_html = b"<!doctype html><script>alert(document.cookie)</script>".to_vec();
    let scripted_svg =
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    for (name, bytes) in [
        ("invoice.pdf", team_pdf.clone()),
        ("page.html", page_html.clone()),
        ("logo.svg", scripted_svg.clone()),
    ] {
        board
            .store()
            .mutate(|txn| txn.add_file_to_update(update.id, name, bytes, 2))
            .await
            .unwrap();
    }
    // The portal hears of the message at once and of its files a few seconds later.
    let mut team_files = Vec::new();
    for _ in 0..100 {
        let page = view(&app, &kim, &item.to_string()).await;
        team_files = page
            .detail
            .replies
            .iter()
            .flat_map(|r| r.files.clone())
            .collect();
        if team_files.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let named = |name: &str| {
        team_files
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is listed on the ticket: {team_files:?}"))
    };
    let listed = named("invoice.pdf");
    assert_eq!(listed.size, team_pdf.len() as u64);
    let ticket = item.to_string();
    // monday's links last a short while here: the portal reads a fresh one when the one it
    // kept no longer works.
    board.set_public_url_lifetime(Duration::from_millis(300));
    let got = download(&app, &kim, &ticket, &listed).await;
    assert_eq!(served(got, "attachment").await, team_pdf);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = download(&app, &kim, &ticket, &listed).await;
    assert_eq!(
        served(got, "attachment").await,
        team_pdf,
        "through a fresh public_url once the kept one expired"
    );
    board.set_public_url_lifetime(Duration::from_secs(3600));
    for (name, bytes) in [("page.html", &page_html), ("logo.svg", &scripted_svg)] {
        let got = download(&app, &kim, &ticket, &named(name)).await;
        assert_eq!(
            got.headers()["content-type"],
            "application/octet-stream",
            "{name} is not served as markup"
        );
        assert_eq!(&served(got, "attachment").await, bytes, "{name}");
    }

    // Nobody else: another portal's member, a colleague who is a requester not following it,
    // a signed-out browser, and a guessed asset id on a ticket one may see.
    for (who, client) in [
        ("eve", &eve),
        ("lee", &lee),
        ("signed out", &reqwest::Client::new()),
    ] {
        let response = download(&app, client, &ticket, &listed).await;
        assert_eq!(response.status(), 404, "{who}");
    }
    // Nor can Lee put files on it: refused before anything is kept.
    let before = stored_rows(&app).await;
    let form = Form::new()
        .text("body", "Me too")
        .part("files", file("mine.png", png(10_000, 8), "image/png"));
    let response = post_form(
        &app,
        &lee,
        &format!("/tickets/{ticket}/messages"),
        "application/json",
        form,
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(stored_rows(&app).await, before, "nothing kept");
    let other = crate::helpers::item_raised_by(&app, PORTAL, KIM, "Another", "In Progress").await;
    let response = download(&app, &kim, &other.to_string(), &listed).await;
    assert_eq!(response.status(), 404, "a file of another ticket");
    let last_listed = team_files
        .iter()
        .map(|f| f.key.trim_start_matches('m').parse::<u64>().unwrap())
        .max()
        .unwrap();
    let guessed = FileRef {
        key: format!("m{}", last_listed + 1),
        ..listed.clone()
    };
    assert_eq!(download(&app, &kim, &ticket, &guessed).await.status(), 404);

    // An internal note's file is not the client's to see.
    let note = board
        .store()
        .mutate(|txn| txn.create_update(item, "<p>Internal: the old invoice</p>", 2, None))
        .await
        .unwrap();
    let asset = board
        .store()
        .mutate(|txn| txn.add_file_to_update(note.id, "old.pdf", pdf(10), 2))
        .await
        .unwrap();
    let hidden = FileRef {
        key: format!("m{}", asset.id),
        ..listed.clone()
    };
    assert_eq!(download(&app, &kim, &ticket, &hidden).await.status(), 404);
    app.shutdown().await;
}

#[tokio::test]
async fn limits_and_types_are_checked_on_the_server_and_a_refused_upload_leaves_nothing() {
    let (app, kim, _) = portal(&[
        ("ATTACHMENT_MAX_FILE_MB", "1"),
        ("ATTACHMENT_MAX_MESSAGE_MB", "2"),
    ])
    .await;
    let spool = app.data_dir.0.join("uploads");
    let refused = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = response.json().await.unwrap();
        body["error"]["message"].as_str().unwrap().to_owned()
    };
    // Too large: the message names the file and the limit.
    let message = refused(
        create_with_files(
            &app,
            &kim,
            "Big",
            vec![file("huge.png", png(1_200_000, 1), "image/png")],
        )
        .await,
    )
    .await;
    assert!(
        message.contains("“huge.png”") && message.contains("1 MB"),
        "{message}"
    );
    // Together too large.
    let message = refused(
        create_with_files(
            &app,
            &kim,
            "Many",
            vec![
                file("a.png", png(900_000, 1), "image/png"),
                file("b.png", png(900_000, 2), "image/png"),
                file("c.png", png(900_000, 3), "image/png"),
            ],
        )
        .await,
    )
    .await;
    assert!(
        message.contains("“c.png”") && message.contains("2 MB"),
        "the file that went over and the limit: {message}"
    );
    // HTML, and an SVG with a script (whatever they claim to be), are refused by content.
    for (name, bytes, claimed) in [
        (
            "page.html",
            b"<!doctype html><script>alert(document.cookie)</script>".to_vec(),
            "text/html",
        ),
        (
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            "image/png",
        ),
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec(),
            "application/pdf",
        ),
    ] {
        let message =
            refused(create_with_files(&app, &kim, "Bad", vec![file(name, bytes, claimed)]).await)
                .await;
        assert!(message.contains(&format!("“{name}”")), "{message}");
    }
    // Without JavaScript: back to the form, whose page names the file and the limit.
    let form = Form::new()
        .text("title", "Big, no script")
        .text("description", "")
        .text("priority", "low")
        .part("files", file("huge.png", png(1_200_000, 1), "image/png"));
    let response = post_form(&app, &kim, "/tickets", "text/html", form).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/tickets/new?error=files");
    let page = app.page_text(&kim, &location).await;
    assert!(
        page.contains("huge.png") && page.contains("1 MB"),
        "the page says which file and why"
    );
    let again = app.page_text(&kim, &location).await;
    assert!(!again.contains("huge.png"), "the message shows once");

    // A form of more text fields than any form has, or of more text than any form needs, is
    // refused while it arrives instead of being held in memory.
    let mut many = Form::new().text("title", "Fields").text("description", "");
    for n in 0..40 {
        many = many.text(format!("extra{n}"), "x");
    }
    let message = refused(post_form(&app, &kim, "/tickets", "application/json", many).await).await;
    assert!(message.contains("too many fields"), "{message}");
    let heavy = Form::new()
        .text("title", "t".repeat(100_000))
        .text("description", "d".repeat(100_000))
        .text("priority", "p".repeat(100_000));
    let message = refused(post_form(&app, &kim, "/tickets", "application/json", heavy).await).await;
    assert!(message.contains("too long"), "{message}");

    // Nothing of any of it was kept.
    assert_eq!(stored_rows(&app).await, (0, 0));
    assert_eq!(
        app.outbox_count("waiting").await + app.outbox_count("delivered").await,
        0
    );
    let left = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no spool files left");

    // A PNG named like a web page is kept as the image it is, and served as one.
    let response = create_with_files(
        &app,
        &kim,
        "Disguised",
        vec![file("evil.html", png(100, 4), "text/html")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    let pending = saved["ticket_id"].as_str().unwrap();
    let page = view(&app, &kim, pending).await;
    assert_eq!(page.detail.files[0].name, "evil.html.png");
    let got = download(&app, &kim, pending, &page.detail.files[0]).await;
    assert_eq!(got.headers()["content-type"], "image/png");
    assert!(
        got.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );

    // Without JavaScript a message with a file posts and comes back to the ticket.
    app.outbox_drained(Duration::from_secs(20)).await;
    let item = wait_for_item(&app, pending).await;
    let form = Form::new().text("body", "").part(
        "files",
        file("notes.txt", b"step 1\nstep 2\n".to_vec(), "text/plain"),
    );
    let response = post_form(
        &app,
        &kim,
        &format!("/tickets/{item}/messages"),
        "text/html",
        form,
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("/tickets/{item}").as_str()
    );
    app.outbox_drained(Duration::from_secs(20)).await;
    let page = view(&app, &kim, &item).await;
    let message = page.detail.replies.iter().find(|r| r.from_client).unwrap();
    assert!(
        message.body_html.contains("Attached: notes.txt"),
        "{}",
        message.body_html
    );
    let got = download(&app, &kim, &item, &message.files[0]).await;
    assert_eq!(got.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_file_stored_by_one_instance_is_delivered_by_another() {
    let data = std::sync::Arc::new(crate::helpers::TempDir::new("files-handover"));
    let shared_db = crate::helpers::test_database_url(&data).await;
    let db_var = shared_db
        .clone()
        .unwrap_or_else(|| data.sqlite_url("portal.db"));
    // A short lease: the first instance may stop in the middle of an attempt, and its claim on
    // the row then runs out before the second takes it over.
    let vars = [
        ("DATABASE_URL", db_var.as_str()),
        ("OUTBOX_LEASE_SECONDS", "2"),
    ];
    let (first, kim, _) = portal(&vars).await;
    first.take_monday_down().await;
    let bytes = png(120_000, 5);
    let response = create_with_files(
        &first,
        &kim,
        "Handed over",
        vec![file("shot.png", bytes.clone(), "image/png")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    let pending = saved["ticket_id"].as_str().unwrap().to_owned();
    first.shutdown().await;

    // Another instance, with a data directory of its own (the bytes are in the database), on
    // a monday that works.
    let second = spawn_app_with(&vars).await;
    let item = wait_for_item(&second, &pending).await;
    second.outbox_drained(Duration::from_secs(30)).await;
    assert_eq!(
        board_files(&second, &item),
        vec![("shot.png".to_owned(), bytes.len() as u64)]
    );
    second.shutdown().await;
}
