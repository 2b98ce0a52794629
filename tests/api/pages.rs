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
