//! `/dashboard`: the portal's tickets with filters, search, sort and pages, all kept in the URL so
//! a link reproduces the view.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::tickets::load_dashboard;
use crate::components::frame::{FreshnessNotice, PortalFrame};
use crate::components::problem::Problem;
use crate::components::ticket_form::{INPUT, NewTicketModal, PRIMARY_BUTTON, SECONDARY_BUTTON};
#[cfg(feature = "ssr")]
use crate::components::ticket_row::row_html;
use crate::i18n::islands::TicketFormWords;
use crate::i18n::{locale, td_string, words};
use crate::live::LIVE_REGION;
use crate::model::{Delivery, Priority, Sort, Status, StatusCounts, TicketPage, TicketQuery};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.get();
        TicketQuery::from_params(|key| map.get(key))
    });
    let dashboard = Resource::new(move || query.get(), load_dashboard);
    let l = locale();
    view! {
        <Title text=td_string!(l, tickets.your_tickets) />
        <Suspense fallback=move || view! { <p class="p-8 text-slate-600">{td_string!(l, tickets.loading)}</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(data) => {
                        let created_banner = query_map.get().get("created").is_some();
                        let waiting = data
                            .page
                            .tickets
                            .iter()
                            .any(|t| matches!(t.delivery, Delivery::Waiting { .. }));
                        let counts = data.page.counts.clone();
                        let page = data.page;
                        view! {
                            <PortalFrame viewer=data.viewer.clone()>
                                <div class="flex flex-wrap items-center justify-between gap-4">
                                    <h1 class="text-2xl font-bold tracking-tight">{td_string!(l, tickets.your_tickets)}</h1>
                                    <NewTicketModal
                                        limits=data.viewer.upload_limits
                                        words=TicketFormWords::new(l, data.viewer.upload_limits)
                                    />
                                </div>
                                <div id=LIVE_REGION data-view="dashboard" data-waiting=waiting.to_string()>
                                    <div class="mt-4">
                                        <FreshnessNotice freshness=data.freshness.clone() />
                                        <Show when=move || created_banner>
                                            <p
                                                role="status"
                                                class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900"
                                            >
                                                {td_string!(l, tickets.created_banner)}
                                            </p>
                                        </Show>
                                    </div>
                                    <Filters
                                        query=query.get_untracked()
                                        counts
                                        portal_name=data.viewer.portal.name.clone()
                                        sees_all=data.viewer.role.sees_all_tickets()
                                    />
                                    <TicketList page query=query.get_untracked() />
                                </div>
                            </PortalFrame>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <Problem error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn chip_query(query: &TicketQuery, status: Option<Status>) -> String {
    let next = TicketQuery {
        status,
        page: 1,
        ..query.clone()
    };
    format!("/dashboard{}", next.to_query_string())
}

#[component]
fn Filters(
    query: TicketQuery,
    counts: StatusCounts,
    portal_name: String,
    sees_all: bool,
) -> impl IntoView {
    let l = locale();
    // Whose tickets: the whole organisation's (a requester's: the ones they raised or follow),
    // or only those this member raised.
    let everything = if sees_all {
        td_string!(l, tickets.all_of, portal = portal_name)
    } else {
        td_string!(l, tickets.raised_or_followed).to_owned()
    };
    let whose = [(false, everything), (true, td_string!(l, tickets.raised_by_me).to_owned())]
        .into_iter()
        .map(|(mine, label)| {
            let href = format!(
                "/dashboard{}",
                TicketQuery {
                    mine,
                    page: 1,
                    ..query.clone()
                }
                .to_query_string()
            );
            let active = query.mine == mine;
            let class = if active {
                "rounded-md bg-slate-900 px-3 py-1 text-sm font-medium text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900 focus-visible:ring-offset-2"
            } else {
                "rounded-md px-3 py-1 text-sm font-medium text-slate-800 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
            };
            view! {
                <li>
                    <a href=href class=class aria-current=active.then_some("page")>
                        {label}
                    </a>
                </li>
            }
        })
        .collect_view();
    let options: Vec<(Option<Status>, &'static str)> =
        std::iter::once((None, td_string!(l, tickets.all)))
            .chain(
                Status::ALL
                    .into_iter()
                    .map(|s| (Some(s), words::status(l, s))),
            )
            .collect();
    let chips = options
        .into_iter()
        .map(|(status, label)| {
            let active = query.status == status;
            let count = counts.get(status);
            let href = chip_query(&query, status);
            let class = if active {
                "inline-flex items-center gap-2 rounded-full bg-slate-900 px-3 py-1 text-sm font-medium text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900 focus-visible:ring-offset-2"
            } else {
                "inline-flex items-center gap-2 rounded-full bg-white px-3 py-1 text-sm font-medium text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900"
            };
            view! {
                <li>
                    <a href=href class=class aria-current=active.then_some("page")>
                        {label}
                        <span
                            class="rounded-full bg-slate-100 px-1.5 text-xs text-slate-800"
                            data-count=status.map_or("all", Status::as_str)
                        >
                            {count}
                        </span>
                    </a>
                </li>
            }
        })
        .collect_view();
    let status_value = query.status.map(|s| s.as_str()).unwrap_or_default();
    view! {
        <nav aria-label=td_string!(l, tickets.whose_tickets) class="mt-2">
            <ul class="flex flex-wrap gap-1">{whose}</ul>
        </nav>
        <nav aria-label=td_string!(l, tickets.filter_by_status) class="mt-2">
            <ul class="flex flex-wrap gap-2">{chips}</ul>
        </nav>
        <form method="get" action="/dashboard" class="mt-4 grid gap-3 rounded-lg bg-white p-4 shadow-sm sm:grid-cols-[1fr_auto_auto_auto] sm:items-end">
            <input type="hidden" name="status" value=status_value />
            {query.mine.then(|| view! { <input type="hidden" name="mine" value="1" /> })}
            <div class="space-y-1">
                <label for="search" class="block text-sm font-medium">
                    {td_string!(l, tickets.search_label)}
                </label>
                <input
                    id="search"
                    name="q"
                    type="search"
                    value=query.search.clone()
                    placeholder=td_string!(l, tickets.search_placeholder)
                    class=INPUT
                />
            </div>
            <div class="space-y-1">
                <label for="priority-filter" class="block text-sm font-medium">
                    {td_string!(l, tickets.filter_by_priority)}
                </label>
                <select id="priority-filter" name="priority" class=INPUT>
                    <option value="" selected=query.priority.is_none()>
                        {td_string!(l, tickets.any)}
                    </option>
                    {Priority::ALL
                        .into_iter()
                        .rev()
                        .map(|p| {
                            view! {
                                <option value=p.as_str() selected=query.priority == Some(p)>
                                    {words::priority(l, p)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="space-y-1">
                <label for="sort" class="block text-sm font-medium">
                    {td_string!(l, tickets.sort_by)}
                </label>
                <select id="sort" name="sort" class=INPUT>
                    {Sort::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.as_str() selected=query.sort == s>
                                    {words::sort(l, s)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class=SECONDARY_BUTTON>
                {td_string!(l, tickets.apply)}
            </button>
        </form>
    }
}

/// The rows, each rendered once for what it shows ([`row_html`]): the list is server-rendered
/// only (no island inside it), so its markup may come as text.
#[cfg(feature = "ssr")]
fn rows_html(tickets: &[crate::model::Ticket]) -> String {
    let prefs = crate::i18n::prefs();
    tickets
        .iter()
        .map(|ticket| row_html(ticket, &prefs))
        .collect::<Vec<_>>()
        .concat()
}

#[cfg(not(feature = "ssr"))]
fn rows_html(_tickets: &[crate::model::Ticket]) -> String {
    String::new()
}

#[component]
fn TicketList(page: TicketPage, query: TicketQuery) -> impl IntoView {
    let l = locale();
    if page.tickets.is_empty() {
        let nothing_at_all = page.counts.all == 0
            && query.search.is_empty()
            && query.priority.is_none()
            && !query.mine;
        return if nothing_at_all {
            view! {
                <section class="mt-8 rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center">
                    <h2 class="text-lg font-semibold">{td_string!(l, tickets.none_yet)}</h2>
                    <p class="mt-2 text-slate-700">
                        {td_string!(l, tickets.none_yet_body)}
                    </p>
                    <a href="/tickets/new" class=format!("{PRIMARY_BUTTON} mt-6")>
                        {td_string!(l, tickets.raise_first)}
                    </a>
                </section>
            }
            .into_any()
        } else {
            view! {
                <section class="mt-8 rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center">
                    <h2 class="text-lg font-semibold">{td_string!(l, tickets.none_match)}</h2>
                    <p class="mt-2 text-slate-700">{td_string!(l, tickets.none_match_body)}</p>
                    <a href="/dashboard" class=format!("{SECONDARY_BUTTON} mt-6")>
                        {td_string!(l, tickets.clear_filters)}
                    </a>
                </section>
            }
            .into_any()
        };
    }
    let previous = (page.page > 1).then(|| {
        let q = TicketQuery {
            page: page.page - 1,
            ..query.clone()
        };
        format!("/dashboard{}", q.to_query_string())
    });
    let next = (page.page < page.pages).then(|| {
        let q = TicketQuery {
            page: page.page + 1,
            ..query.clone()
        };
        format!("/dashboard{}", q.to_query_string())
    });
    view! {
        <p class="mt-6 text-sm text-slate-700" aria-live="polite" data-matching-label="">
            {td_string!(l, tickets.count, count = page.matching)}
        </p>
        // The list's shape, which the live island reads to put a new ticket in place.
        <ul
            class="mt-2 divide-y divide-slate-200 overflow-hidden rounded-lg bg-white shadow-sm"
            data-testid="ticket-list"
            data-page=page.page
            data-pages=page.pages
            data-matching=page.matching
            inner_html=rows_html(&page.tickets)
        ></ul>
        <nav aria-label=td_string!(l, tickets.pages) class="mt-4 flex items-center justify-between text-sm">
            {previous
                .map(|href| {
                    view! {
                        <a href=href class=SECONDARY_BUTTON rel="prev">
                            {td_string!(l, tickets.previous)}
                        </a>
                    }
                })}
            <span class="text-slate-700">
                {td_string!(l, tickets.page_of, page = page.page, pages = page.pages)}
            </span>
            {next
                .map(|href| {
                    view! {
                        <a href=href class=SECONDARY_BUTTON rel="next">
                            {td_string!(l, tickets.next)}
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}
