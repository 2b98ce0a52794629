//! Status, priority and delivery badges: text plus a shape or bars, so nothing is said by colour
//! alone.

use leptos::prelude::*;

use crate::i18n::{locale, td_string, words};
use crate::model::{Delivery, Priority, Status};

pub fn status_classes(status: Status) -> &'static str {
    match status {
        Status::Open => "bg-sky-100 text-sky-900 ring-sky-300",
        Status::InProgress => "bg-amber-100 text-amber-900 ring-amber-300",
        Status::Resolved => "bg-emerald-100 text-emerald-900 ring-emerald-300",
        Status::Closed => "bg-slate-200 text-slate-800 ring-slate-300",
    }
}

fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Open => "○",
        Status::InProgress => "◐",
        Status::Resolved => "✓",
        Status::Closed => "■",
    }
}

/// The status as text with a shape, never colour alone.
#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let l = locale();
    view! {
        <span
            class=format!(
                "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}",
                status_classes(status),
            )
            data-status=status.as_str()
        >
            <span aria-hidden="true">{status_icon(status)}</span>
            <span class="sr-only">{td_string!(l, common.status.label)}</span>
            {words::status(l, status)}
        </span>
    }
}

fn priority_classes(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "bg-white text-slate-700 ring-slate-300",
        Priority::Medium => "bg-indigo-50 text-indigo-900 ring-indigo-200",
        Priority::High => "bg-orange-100 text-orange-900 ring-orange-300",
        Priority::Urgent => "bg-red-700 text-white ring-red-700",
    }
}

fn priority_bars(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "▁",
        Priority::Medium => "▁▃",
        Priority::High => "▁▃▅",
        Priority::Urgent => "▁▃▅▇",
    }
}

#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    let l = locale();
    view! {
        <span
            class=format!(
                "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}",
                priority_classes(priority),
            )
            data-priority=priority.as_str()
        >
            <span aria-hidden="true" class="tracking-tighter">{priority_bars(priority)}</span>
            <span class="sr-only">{td_string!(l, common.priority.label)}</span>
            {words::priority(l, priority)}
        </span>
    }
}

/// Shown while something the client wrote has not reached the team (or never will).
#[component]
pub fn DeliveryBadge(delivery: Delivery) -> impl IntoView {
    let l = locale();
    match delivery {
        Delivery::Delivered => ().into_any(),
        Delivery::Waiting { attempts, .. } => {
            let text = if attempts == 0 {
                td_string!(l, common.delivery.sending)
            } else {
                td_string!(l, common.delivery.retrying)
            };
            view! {
                <span
                    class="inline-flex items-center gap-1 rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-900 ring-1 ring-inset ring-amber-300"
                    data-delivery="waiting"
                >
                    <span aria-hidden="true" class="motion-safe:animate-pulse">"●"</span>
                    {text}
                </span>
            }
            .into_any()
        }
        // monday's own words on hover: they are not the portal's to translate.
        Delivery::Failed { reason } => view! {
            <span
                class="inline-flex items-center gap-1 rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-800 ring-1 ring-inset ring-red-300"
                data-delivery="failed"
                title=reason
            >
                <span aria-hidden="true">"!"</span>
                {td_string!(l, common.delivery.failed)}
            </span>
        }
        .into_any(),
    }
}
