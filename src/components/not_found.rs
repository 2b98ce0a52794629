//! The 404 page: what an unknown path, and a ticket of another portal, look like.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{locale, td_string};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let l = locale();
    view! {
        <Title text=td_string!(l, common.not_found.title) />
        <main class="mx-auto max-w-lg px-4 py-24 text-center">
            <p class="text-sm font-semibold text-slate-500">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">{td_string!(l, common.not_found.heading)}</h1>
            <p class="mt-4 text-slate-600">
                {td_string!(l, common.not_found.body)}
            </p>
            <a
                href="/dashboard"
                class="mt-8 inline-block rounded-md bg-slate-900 px-4 py-2 text-sm font-semibold text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 focus-visible:ring-slate-900"
            >
                {td_string!(l, common.not_found.home)}
            </a>
        </main>
    }
}
