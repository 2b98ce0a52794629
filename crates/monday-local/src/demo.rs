//! The demo agency, in one place: its support team on the board, its two client companies
//! (portals) with their people, and their tickets. The local board seeds its items from here; the
//! portal creates its demo portals and members and shows its sign-in hints from here; the README's
//! demo addresses are checked against it by a test.

/// The support team: monday users who answer tickets (name, email).
pub const TEAM: [(&str, &str); 2] = [
    ("Sam Rivera", "sam@agency.example"),
    ("Priya Shah", "priya@agency.example"),
];

/// A client company with a portal of its own.
pub struct DemoPortal {
    /// The value of the board's portal column for this company's tickets.
    pub id: &'static str,
    pub name: &'static str,
    /// Brand colour, `#rrggbb`.
    pub colour: &'static str,
    /// The people who may sign in (email, name, role in the portal: `admin` manages colleagues,
    /// `member` sees every ticket, `requester` only the ones they raised or follow).
    pub members: &'static [(&'static str, &'static str, &'static str)],
}

pub const PORTALS: [DemoPortal; 2] = [
    DemoPortal {
        id: "demo",
        name: "Demo Company",
        colour: "#4338ca",
        members: &[
            ("jordan@demo.example", "Jordan Lee", "admin"),
            ("alex@demo.example", "Alex Kim", "member"),
        ],
    },
    DemoPortal {
        id: "acme",
        name: "Acme Corp",
        colour: "#b91c1c",
        members: &[
            ("riley@acme.example", "Riley Chen", "admin"),
            ("morgan@acme.example", "Morgan Diaz", "requester"),
        ],
    },
];

/// Whether `portal_id` names one of the demo portals.
pub fn is_demo_portal(portal_id: &str) -> bool {
    PORTALS.iter().any(|p| p.id == portal_id)
}

pub struct DemoTicket {
    pub portal: &'static str,
    pub email: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub status: &'static str,
    pub priority: &'static str,
    pub days_ago: i64,
    /// (team member index, body, days after creation)
    pub updates: &'static [(usize, &'static str, i64)],
}

/// The demo board's tickets, in every status and priority, some with public replies (marked
/// `@client`) and internal notes.
pub const TICKETS: &[DemoTicket] = &[
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ticket_belongs_to_a_demo_member() {
        for ticket in TICKETS {
            let portal = PORTALS.iter().find(|p| p.id == ticket.portal);
            assert!(
                portal.is_some_and(|p| p.members.iter().any(|(email, ..)| *email == ticket.email)),
                "{} is not raised by a member of {}",
                ticket.title,
                ticket.portal
            );
            for (author, _, _) in ticket.updates {
                assert!(
                    *author < TEAM.len(),
                    "{}: unknown team member",
                    ticket.title
                );
            }
        }
    }
}
