//! Pages on the server: a big portal is paged, and the URL's filters reach the query.

use client_portal::api::tickets::LoadDashboard;
use client_portal::model::Dashboard;

use crate::helpers::{add_generated_tickets, server_fn, spawn_app};

#[tokio::test]
async fn a_portal_with_2000_tickets_gets_pages_of_25() {
    let app = spawn_app().await;
    add_generated_tickets(app.local_board(), "big", 2000).await;
    let client = app.signed_in("big", "someone@big.test").await;

    let html = app.page_text(&client, "/dashboard").await;
    assert_eq!(html.matches("data-ticket-id=").count(), 25);
    assert!(html.contains("Page 1 of 80"), "paged");
    assert!(html.contains("2000 tickets"));
    assert!(
        html.len() < 200_000,
        "the page stays small: {} bytes",
        html.len()
    );

    let last = app.page_text(&client, "/dashboard?page=80").await;
    assert_eq!(last.matches("data-ticket-id=").count(), 25);
    assert!(last.contains("Page 80 of 80"));

    let response = app
        .call(
            &client,
            server_fn::<LoadDashboard>(),
            &[
                ("query[priority]", "urgent"),
                ("query[search]", "ticket 19"),
                ("query[page]", "1"),
            ],
        )
        .await;
    let dashboard: Dashboard = response.json().await.unwrap();
    // Every word must match; bench tickets cycle priorities in runs of four.
    let expected = (0..2000)
        .filter(|n: &usize| n.to_string().contains("19") && (n / 4) % 4 == 3)
        .count();
    assert!(dashboard.page.tickets.iter().all(|t| {
        t.title.contains("19") && t.priority == client_portal::model::Priority::Urgent
    }));
    assert_eq!(dashboard.page.matching, expected);
    assert_eq!(dashboard.page.tickets.len(), 25);
}

/// The whole portal's list says who raised each ticket; "Raised by me" keeps one's own, whose
/// owner comes from the session (the URL only says `mine=1`).
#[tokio::test]
async fn the_dashboard_says_who_raised_each_ticket_and_keeps_ones_own() {
    let app = spawn_app().await;
    let ana = app.signed_in("p_whose", "ana@whose.test").await;
    let ben = app.signed_in("p_whose", "ben@whose.test").await;
    for (client, title) in [(&ana, "Printer on fire"), (&ben, "Laptop will not start")] {
        let created = app.create_ticket(client, title, "", "medium").await;
        assert!(created.status().is_success(), "{}", created.status());
    }

    let all = app.page_text(&ana, "/dashboard").await;
    assert!(all.contains("Printer on fire") && all.contains("Laptop will not start"));
    assert!(all.contains(r#"data-raised-by="">ana@whose.test"#), "{all}");
    assert!(all.contains(r#"data-raised-by="">ben@whose.test"#));
    assert!(all.contains("All of p_whose"));

    let mine = app.page_text(&ana, "/dashboard?mine=1").await;
    assert!(mine.contains("Printer on fire"), "ana's own");
    assert!(!mine.contains("Laptop will not start"), "not ben's");
    assert!(mine.contains("1 ticket"), "counted among her own");
    assert!(
        mine.contains(r#"<input type="hidden" name="mine" value="1""#),
        "the search form keeps the choice"
    );
    let bens = app.page_text(&ben, "/dashboard?mine=1").await;
    assert!(bens.contains("Laptop will not start") && !bens.contains("Printer on fire"));
    // Someone who raised nothing sees an empty list, not another member's tickets.
    let cleo = app.signed_in("p_whose", "cleo@whose.test").await;
    let none = app.page_text(&cleo, "/dashboard?mine=1").await;
    assert!(none.contains("No tickets match"));
    assert!(!none.contains("Printer on fire") && !none.contains("Laptop will not start"));
}
