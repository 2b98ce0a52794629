//! One ticket as the dashboard lists it. Live messages carry it rendered by the server
//! (`server::http::live`), so an open dashboard swaps it in place.

use leptos::prelude::*;

use crate::components::badges::{DeliveryBadge, PriorityBadge, StatusBadge};
use crate::components::time::When;
use crate::i18n::{locale, td_string};
use crate::model::Ticket;

/// One ticket in the list.
#[component]
pub fn TicketRow(ticket: Ticket) -> impl IntoView {
    let excerpt = excerpt(&ticket.description).to_owned();
    let href = format!("/tickets/{}", ticket.id);
    let l = locale();
    view! {
        <li class="relative p-4 hover:bg-slate-50 focus-within:bg-slate-50" data-ticket-id=ticket.id.clone()>
            <div class="flex flex-col gap-2 sm:flex-row sm:items-start sm:justify-between">
                <div class="min-w-0 flex-1">
                    <h3 class="font-medium text-slate-900">
                        <a
                            href=href
                            class="rounded after:absolute after:inset-0 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
                        >
                            {ticket.title.clone()}
                        </a>
                    </h3>
                    <p class="mt-1 truncate text-sm text-slate-600">{excerpt}</p>
                </div>
                <div class="flex flex-wrap items-center gap-2">
                    <DeliveryBadge delivery=ticket.delivery.clone() />
                    <StatusBadge status=ticket.status />
                    <PriorityBadge priority=ticket.priority />
                </div>
            </div>
            <p class="mt-2 text-xs text-slate-600">
                <When at=ticket.created_at.clone() sentence=move |when| td_string!(l, tickets.opened, when = when) />
                {ticket
                    .client_email
                    .clone()
                    .map(|email| view! { {td_string!(l, tickets.by)} <span data-raised-by="">{email}</span> })}
                <When at=ticket.updated_at.clone() sentence=move |when| td_string!(l, tickets.updated, when = when) />
            </p>
        </li>
    }
}

/// What the row shows of a description: its first non-blank line, at most 160 characters.
fn excerpt(description: &str) -> &str {
    let line = description
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    line.char_indices()
        .nth(160)
        .map_or(line, |(end, _)| &line[..end])
}

/// A ticket's row as HTML, rendered once for what it shows: the ticket's fields and the two
/// relative times ("3 hours ago"), which is all the row depends on. A dashboard of 25 rows is
/// then 25 lookups instead of 25 renders; the live socket sends the same markup.
#[cfg(feature = "ssr")]
pub fn row_html(ticket: &Ticket, prefs: &crate::i18n::Prefs) -> std::sync::Arc<str> {
    use std::fmt::Write;
    use std::sync::{Arc, LazyLock};

    use crate::components::time::now_seconds;
    use crate::i18n::I18nLocaleTrait;
    use crate::i18n::time::relative;
    use crate::model::parse_utc_seconds;
    use crate::server::memory::{Memo, TIMELESS};

    static RENDERED: LazyLock<Memo<String, Arc<str>>> = LazyLock::new(Memo::default);
    let now = now_seconds();
    let when = |at: &str| parse_utc_seconds(at).map(|then| relative(prefs.locale, now, then));
    // Everything the row shows and nothing else (not the whole description, not the portal),
    // so two tickets that read the same share one rendering, a change to any of it is a new
    // key, and the key costs little to build and hash. Every field is written quoted and
    // escaped (`{:?}`), so no title or text can pass for another field.
    let mut key = String::with_capacity(256);
    let _ = write!(
        key,
        "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        prefs.locale.as_str(),
        prefs.zone,
        ticket.id,
        ticket.title,
        ticket.client_email,
        excerpt(&ticket.description),
        ticket.status,
        ticket.priority,
        ticket.delivery,
        ticket.created_at,
        ticket.updated_at,
        when(&ticket.created_at),
        when(&ticket.updated_at),
    );
    RENDERED.get_or_make(key.as_str(), TIMELESS, || {
        let ticket = ticket.clone();
        Owner::new()
            .with(|| {
                // The row reads its language and zone from here, not from a request.
                crate::i18n::provide(prefs.clone());
                view! { <TicketRow ticket /> }.to_html()
            })
            .into()
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::model::{Delivery, Priority, Status};

    fn ticket(id: &str, title: &str, description: &str) -> Ticket {
        Ticket {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            status: Status::Open,
            priority: Priority::Low,
            portal_id: "acme".into(),
            client_email: None,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
            delivery: Delivery::Delivered,
        }
    }

    #[test]
    fn a_row_is_kept_for_exactly_what_it_shows() {
        let english = crate::i18n::Prefs::default();
        // A title that spells out the next field cannot borrow another ticket's row.
        let plain = row_html(&ticket("7", "Printer", "jam"), &english);
        let tricky = row_html(&ticket("7", "Printer\" \"jam", ""), &english);
        assert_ne!(plain, tricky);
        assert!(
            plain.contains("jam") && plain.contains(">Printer<"),
            "{plain}"
        );
        // What the row does not show (the portal, the rest of a long description) shares it.
        let mut elsewhere = ticket("7", "Printer", "jam\nand more below");
        elsewhere.portal_id = "demo".into();
        assert!(std::sync::Arc::ptr_eq(
            &plain,
            &row_html(&elsewhere, &english)
        ));
        // A change to what it shows is a new row.
        let mut moved = ticket("7", "Printer", "jam");
        moved.status = Status::Resolved;
        assert_ne!(plain, row_html(&moved, &english));
        // Another language or zone is another row.
        let german = crate::i18n::Prefs {
            locale: crate::i18n::Locale::de,
            zone: "Europe/Berlin".into(),
            zone_chosen: true,
            browser_zone: None,
        };
        let in_german = row_html(&ticket("7", "Printer", "jam"), &german);
        assert!(in_german.contains("Eröffnet"), "{in_german}");
        assert!(
            in_german.contains("title=\"01.01.2024, 01:00 CET\""),
            "{in_german}"
        );
    }
}
