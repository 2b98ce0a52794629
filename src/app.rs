//! The HTML shell, the router and the pages' common frame.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::not_found::NotFound;
use crate::pages::colleagues::ColleaguesPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::login::LoginPage;
use crate::pages::new_ticket::NewTicketPage;
use crate::pages::settings::NotificationSettingsPage;
use crate::pages::ticket::TicketPage;

/// The document around every page. `stylesheet` is the stylesheet's address (a content-hashed
/// name in release builds; see `server::http::assets`).
pub fn shell(options: LeptosOptions, stylesheet: std::sync::Arc<str>) -> impl IntoView {
    // The request's language and zone (`server::http::prefs`), for the whole page; Arabic
    // turns it around.
    let prefs = crate::i18n::prefs();
    let locale = prefs.locale;
    crate::i18n::provide(prefs);
    view! {
        <!DOCTYPE html>
        <html lang=crate::i18n::I18nLocaleTrait::as_str(locale) dir=crate::i18n::direction(locale)>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // Only `cargo leptos watch` (a debug build) reloads; release pages skip it.
                {cfg!(debug_assertions).then(|| view! { <AutoReload options=options.clone() /> })}
                <HydrationScripts options islands=true />
                <link rel="stylesheet" id="leptos" href=stylesheet.to_string() />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// `/` is answered by the server (to the dashboard or the login page), not by this router.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Read here, in the request's context: the formatter runs later, outside it.
    let l = crate::i18n::locale();
    view! {
        <Title formatter=move |page: String| {
            crate::i18n::td_string!(l, common.site_title, page = page)
        } />
        <Router>
            <Routes fallback=NotFound>
                // Async: the whole page (and its status code) is ready before it is sent, so it
                // works without JavaScript and answers 404 with a 404.
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                <Route path=path!("/tickets/new") view=NewTicketPage ssr=SsrMode::Async />
                <Route path=path!("/tickets/:id") view=TicketPage ssr=SsrMode::Async />
                <Route path=path!("/colleagues") view=ColleaguesPage ssr=SsrMode::Async />
                <Route
                    path=path!("/settings/notifications")
                    view=NotificationSettingsPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}
