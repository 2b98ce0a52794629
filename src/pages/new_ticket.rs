//! `/tickets/new`: the new-ticket form as a page of its own (where the dashboard's button leads
//! without JavaScript).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::tickets::load_viewer;
use crate::components::frame::PortalFrame;
use crate::components::problem::Problem;
use crate::components::ticket_form::NewTicketForm;
use crate::i18n::islands::TicketFormWords;
use crate::i18n::{locale, td_string, words};

/// `/tickets/new`: the same form as the dashboard's modal, as a page of its own.
#[component]
pub fn NewTicketPage() -> impl IntoView {
    let viewer = Resource::new(|| (), |()| load_viewer());
    let query = use_query_map();
    let l = locale();
    view! {
        <Title text=td_string!(l, tickets.new_ticket) />
        <Suspense fallback=move || view! { <p class="p-8 text-slate-600">{td_string!(l, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(viewer) => {
                        let query = query.get_untracked();
                        let url_error = query
                            .get("error")
                            .and_then(|code| {
                                words::form_notice(l, &code, query.get("minutes").and_then(|m| m.parse().ok()))
                            })
                            .or_else(|| viewer.flash.clone());
                        let limits = viewer.upload_limits;
                        let words = TicketFormWords::new(l, limits);
                        view! {
                            <PortalFrame viewer>
                                <div class="mx-auto max-w-2xl">
                                    <p>
                                        <a href="/dashboard" class="text-sm text-slate-700 underline underline-offset-4">
                                            {td_string!(l, tickets.all_tickets)}
                                        </a>
                                    </p>
                                    <h1 class="mt-2 text-2xl font-bold tracking-tight">{td_string!(l, tickets.new_ticket)}</h1>
                                    <p class="mt-1 text-slate-700">
                                        {td_string!(l, tickets.new_ticket_intro)}
                                    </p>
                                    <div class="mt-6 rounded-lg bg-white p-6 shadow-sm">
                                        {match url_error {
                                            Some(error) => view! { <NewTicketForm limits words url_error=error /> }.into_any(),
                                            None => view! { <NewTicketForm limits words /> }.into_any(),
                                        }}
                                    </div>
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
