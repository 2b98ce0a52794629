//! Demo data for the local board's first start: the ticket board with the seed's columns, a
//! small support team, and tickets for the `demo` and `acme` portals in every status and
//! priority, some with public replies and internal notes.

use std::collections::BTreeMap;

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::LOCAL_BOARD_ID;
use super::store::{BoardError, Column, ColumnKind, Store};
use crate::server::monday::format_utc;

pub const TEAM: [(&str, &str); 2] = [
    ("Sam Rivera", "sam@agency.example"),
    ("Priya Shah", "priya@agency.example"),
];

pub async fn ensure_users(store: &Store) -> Result<(), BoardError> {
    if !store.snapshot().users.is_empty() {
        return Ok(());
    }
    store
        .mutate(|txn| {
            txn.add_user("Client Portal (API)", "portal@agency.example");
            for (name, email) in TEAM {
                txn.add_user(name, email);
            }
            Ok(())
        })
        .await
}

fn labels(names: &[&str]) -> BTreeMap<u32, String> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| (i as u32, (*name).to_owned()))
        .collect()
}

pub fn ticket_columns() -> Vec<Column> {
    let column = |id: &str, title: &str, kind, labels| Column {
        id: id.into(),
        title: title.into(),
        kind,
        labels,
    };
    vec![
        column(
            "description",
            "Description",
            ColumnKind::LongText,
            BTreeMap::new(),
        ),
        column("portal_id", "Portal ID", ColumnKind::Text, BTreeMap::new()),
        column(
            "client_email",
            "Client Email",
            ColumnKind::Email,
            BTreeMap::new(),
        ),
        column(
            "status",
            "Status",
            ColumnKind::Status,
            labels(&["Open", "In Progress", "Resolved", "Closed"]),
        ),
        column(
            "priority",
            "Priority",
            ColumnKind::Status,
            labels(&["Low", "Medium", "High", "Urgent"]),
        ),
    ]
}

struct DemoTicket {
    portal: &'static str,
    email: &'static str,
    title: &'static str,
    description: &'static str,
    status: &'static str,
    priority: &'static str,
    days_ago: i64,
    /// (team member index, body, days after creation)
    updates: &'static [(usize, &'static str, i64)],
}

const DEMO: &[DemoTicket] = &[
    DemoTicket {
        portal: "demo",
        email: "jordan@demo.example",
        title: "Website login issue",
        description: "Customers get 'invalid password' on the login page even with the right password. Started this morning.",
        status: "In Progress",
        priority: "High",
        days_ago: 3,
        updates: &[
            (
                0,
                "<p>@client Thanks for reporting this. We can reproduce it and a fix is on its way today.</p>",
                1,
            ),
            (
                1,
                "<p>Internal: root cause is the session cookie domain on the new load balancer. Do not mention the outage window to the client yet.</p>",
                1,
            ),
        ],
    },
    DemoTicket {
        portal: "demo",
        email: "jordan@demo.example",
        title: "Invoice PDF shows the wrong VAT number",
        description: "The VAT number on generated invoices is our old one (GB123). It should be GB987654321.",
        status: "Open",
        priority: "Urgent",
        days_ago: 1,
        updates: &[],
    },
    DemoTicket {
        portal: "demo",
        email: "alex@demo.example",
        title: "Add our new logo to the header",
        description: "New logo files are attached in the brand folder we shared last week.",
        status: "Resolved",
        priority: "Low",
        days_ago: 14,
        updates: &[(
            0,
            "<p>@client Done: the new logo is live. Let us know if the size looks right on mobile.</p>",
            2,
        )],
    },
    DemoTicket {
        portal: "demo",
        email: "alex@demo.example",
        title: "Newsletter signup form returns an error",
        description: "Submitting the footer form shows 'Something went wrong'.",
        status: "Open",
        priority: "Medium",
        days_ago: 2,
        updates: &[],
    },
    DemoTicket {
        portal: "demo",
        email: "jordan@demo.example",
        title: "Slow page loads on the product catalogue",
        description: "Category pages take 6 to 8 seconds to load since the last release.",
        status: "In Progress",
        priority: "Medium",
        days_ago: 6,
        updates: &[(
            1,
            "<p>Check the CDN cache headers on /catalogue first; the origin looks fine.</p>",
            1,
        )],
    },
    DemoTicket {
        portal: "demo",
        email: "alex@demo.example",
        title: "Update opening hours on the contact page",
        description: "We now open at 8:30 on weekdays.",
        status: "Closed",
        priority: "Low",
        days_ago: 30,
        updates: &[(0, "<p>@client Updated, thanks!</p>", 1)],
    },
    DemoTicket {
        portal: "demo",
        email: "jordan@demo.example",
        title: "Password reset emails land in spam",
        description: "Several customers told us the reset email went to their spam folder.",
        status: "Open",
        priority: "High",
        days_ago: 4,
        updates: &[(
            1,
            "<p>@client We are adding SPF and DKIM records for your sending domain; we will confirm here once they are live.</p>",
            1,
        )],
    },
    DemoTicket {
        portal: "demo",
        email: "alex@demo.example",
        title: "Export of orders to CSV is missing the delivery date",
        description: "The delivery date column is empty in the export.",
        status: "Resolved",
        priority: "Medium",
        days_ago: 20,
        updates: &[],
    },
    DemoTicket {
        portal: "acme",
        email: "riley@acme.example",
        title: "Checkout button unresponsive on mobile",
        description: "On iPhones the 'Pay now' button does nothing.",
        status: "Open",
        priority: "Urgent",
        days_ago: 1,
        updates: &[(
            0,
            "<p>Internal: likely the new payment SDK; ask Priya before replying.</p>",
            0,
        )],
    },
    DemoTicket {
        portal: "acme",
        email: "riley@acme.example",
        title: "Migrate blog to the new domain",
        description: "Move blog.acme.example to acme.example/blog with redirects.",
        status: "In Progress",
        priority: "Medium",
        days_ago: 9,
        updates: &[(
            1,
            "<p>@client Redirect map is ready for your review.</p>",
            3,
        )],
    },
    DemoTicket {
        portal: "acme",
        email: "morgan@acme.example",
        title: "Typo on the About page",
        description: "'Acme Corportation' should be 'Acme Corporation'.",
        status: "Closed",
        priority: "Low",
        days_ago: 40,
        updates: &[],
    },
    DemoTicket {
        portal: "acme",
        email: "morgan@acme.example",
        title: "API rate limit errors from the inventory sync",
        description: "The nightly sync fails with 429 errors since Tuesday.",
        status: "Open",
        priority: "High",
        days_ago: 2,
        updates: &[],
    },
    DemoTicket {
        portal: "acme",
        email: "riley@acme.example",
        title: "Request: dark mode for the customer dashboard",
        description: "Several of our users asked for a dark theme.",
        status: "Resolved",
        priority: "Low",
        days_ago: 25,
        updates: &[],
    },
    DemoTicket {
        portal: "acme",
        email: "morgan@acme.example",
        title: "SSL certificate expires next week",
        description: "Our monitoring warns that the certificate for shop.acme.example expires in 6 days.",
        status: "In Progress",
        priority: "Urgent",
        days_ago: 2,
        updates: &[(
            0,
            "<p>@client Renewal is scheduled for tomorrow morning; no downtime expected.</p>",
            0,
        )],
    },
];

/// Creates the ticket board with the seed's columns and no items, unless it exists.
pub async fn ensure_ticket_board(store: &Store) -> Result<(), BoardError> {
    ensure_users(store).await?;
    let board_id: u64 = LOCAL_BOARD_ID.parse().unwrap_or_default();
    if store.snapshot().board(board_id).is_some() {
        return Ok(());
    }
    store
        .mutate(|txn| {
            txn.insert_board(
                board_id,
                "Client Support Tickets",
                "private",
                ticket_columns(),
            );
            Ok(())
        })
        .await
}

pub async fn seed_if_empty(store: &Store) -> Result<(), BoardError> {
    ensure_users(store).await?;
    let board_id: u64 = LOCAL_BOARD_ID.parse().unwrap_or_default();
    if store.snapshot().board(board_id).is_some() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let team_ids: Vec<u64> = {
        let snap = store.snapshot();
        TEAM.iter()
            .filter_map(|(_, email)| {
                snap.users
                    .values()
                    .find(|u| u.email == *email)
                    .map(|u| u.id)
            })
            .collect()
    };
    store
        .mutate(|txn| {
            txn.insert_board(
                board_id,
                "Client Support Tickets",
                "private",
                ticket_columns(),
            );
            for demo in DEMO {
                let created = now - Duration::days(demo.days_ago) - Duration::hours(2);
                let item = txn.create_item(
                    board_id,
                    demo.title,
                    Some(&json!({
                        "description": {"text": demo.description},
                        "portal_id": demo.portal,
                        "client_email": {"email": demo.email, "text": demo.email},
                        "status": {"label": demo.status},
                        "priority": {"label": demo.priority},
                    })),
                    false,
                    super::store::API_USER_ID,
                    Some(format_utc(created)),
                )?;
                for (member, body, days_after) in demo.updates {
                    let author = team_ids
                        .get(*member)
                        .copied()
                        .unwrap_or(super::store::API_USER_ID);
                    let at = created + Duration::days(*days_after) + Duration::hours(1);
                    txn.create_update(item.id, body, author, Some(format_utc(at.min(now))))?;
                }
            }
            Ok(())
        })
        .await
}
