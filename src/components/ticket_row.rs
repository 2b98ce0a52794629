//! One ticket as the dashboard lists it. Live messages carry it rendered by the server
//! (`server::http::live`), so an open dashboard swaps it in place.

use leptos::prelude::*;

use crate::components::badges::{DeliveryBadge, PriorityBadge, StatusBadge};
use crate::components::time::When;
use crate::model::Ticket;

/// One ticket in the list.
#[component]
pub fn TicketRow(ticket: Ticket) -> impl IntoView {
    let excerpt: String = ticket
        .description
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect();
    let href = format!("/tickets/{}", ticket.id);
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
                "Opened " <When at=ticket.created_at.clone() /> " · updated "
                <When at=ticket.updated_at.clone() />
            </p>
        </li>
    }
}
