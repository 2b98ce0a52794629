//! The signed-in page frame (the portal's brand, navigation, sign-out) and the notice shown when
//! a page holds saved data because monday is not answering.

use leptos::prelude::*;

use crate::api::auth::{SignOut, SwitchPortal};
use crate::i18n::islands::LiveWords;
use crate::i18n::{prefs, td_string};
use crate::live::LiveUpdates;
use crate::model::{Freshness, Role, Viewer, text_colour_on};

use super::time::When;

/// The signed-in frame: the portal's brand, navigation, who is signed in and sign-out.
#[component]
pub fn PortalFrame(viewer: Viewer, children: Children) -> impl IntoView {
    let prefs = prefs();
    let l = prefs.locale;
    let sign_out = ServerAction::<SignOut>::new();
    let switch_portal = ServerAction::<SwitchPortal>::new();
    // People in several portals (the same email) move between them here; a plain form, so it
    // works without JavaScript too.
    let switcher = (!viewer.other_portals.is_empty()).then(|| {
        let options = viewer
            .other_portals
            .iter()
            .map(|portal| view! { <option value=portal.id.clone()>{portal.name.clone()}</option> })
            .collect_view();
        view! {
            <ActionForm action=switch_portal attr:class="flex items-center gap-2">
                <label for="switch-portal" class="sr-only">
                    {td_string!(l, common.switch_portal_label)}
                </label>
                <select
                    id="switch-portal"
                    name="portal_id"
                    class="max-w-40 rounded-md border border-current bg-white px-2 py-1 text-slate-900"
                >
                    {options}
                </select>
                <button
                    type="submit"
                    class="rounded-md border border-current px-3 py-1 font-medium hover:opacity-80 focus:outline-none focus-visible:ring-2 focus-visible:ring-current focus-visible:ring-offset-2"
                >
                    {td_string!(l, common.switch)}
                </button>
            </ActionForm>
        }
    });
    let brand = viewer.portal.colour.clone();
    let ink = text_colour_on(&brand);
    let who = viewer
        .display_name
        .clone()
        .unwrap_or_else(|| viewer.email.clone());
    view! {
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:start-4 focus:top-4 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-slate-900 focus:ring-2 focus:ring-slate-900"
        >
            {td_string!(l, common.skip_to_content)}
        </a>
        <header style=format!("background-color:{brand};color:{ink}")>
            <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
                <a
                    href="/dashboard"
                    class="flex items-center gap-2 rounded font-semibold focus:outline-none focus-visible:ring-2 focus-visible:ring-current"
                >
                    {viewer
                        .portal
                        .logo_url
                        .clone()
                        .map(|src| view! { <img src=src alt="" class="h-7 w-7 rounded bg-white object-contain" /> })}
                    <span>{viewer.portal.name.clone()}</span>
                    <span class="sr-only">{td_string!(l, common.brand_suffix)}</span>
                </a>
                <nav aria-label=td_string!(l, common.nav_label) class="flex gap-4 text-sm">
                    <a
                        href="/dashboard"
                        class="rounded underline-offset-4 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-current"
                    >
                        {td_string!(l, common.nav_tickets)}
                    </a>
                    <a
                        href="/tickets/new"
                        class="rounded underline-offset-4 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-current"
                    >
                        {td_string!(l, common.nav_new_ticket)}
                    </a>
                    <a
                        href="/settings/notifications"
                        class="rounded underline-offset-4 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-current"
                    >
                        {td_string!(l, common.nav_preferences)}
                    </a>
                    {(viewer.role == Role::Admin)
                        .then(|| {
                            view! {
                                <a
                                    href="/colleagues"
                                    class="rounded underline-offset-4 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-current"
                                >
                                    {td_string!(l, common.nav_colleagues)}
                                </a>
                            }
                        })}
                </nav>
                <div class="ms-auto flex flex-wrap items-center gap-3 text-sm">
                    <LiveUpdates words=LiveWords::new(l) zone=prefs.zone.clone() zone_chosen=prefs.zone_chosen />
                    {switcher}
                    <span class="hidden sm:inline" title=viewer.email.clone()>
                        {who}
                    </span>
                    <ActionForm action=sign_out>
                        <button
                            type="submit"
                            class="rounded-md border border-current px-3 py-1 font-medium hover:opacity-80 focus:outline-none focus-visible:ring-2 focus-visible:ring-current focus-visible:ring-offset-2"
                        >
                            {td_string!(l, common.sign_out)}
                        </button>
                    </ActionForm>
                </div>
            </div>
        </header>
        <main id="main" tabindex="-1" class="mx-auto max-w-6xl px-4 py-6 focus:outline-none">
            {children()}
        </main>
    }
}

/// Says when the page shows saved data because monday is not answering.
#[component]
pub fn FreshnessNotice(freshness: Freshness) -> impl IntoView {
    let l = crate::i18n::locale();
    match freshness {
        Freshness::Live => ().into_any(),
        Freshness::Saved { as_of } => view! {
            <p
                role="status"
                class="mb-4 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900"
                data-testid="saved-data"
            >
                {td_string!(l, common.saved_data_before)}
                <When at=as_of />
                {td_string!(l, common.saved_data_after)}
            </p>
        }
        .into_any(),
    }
}
