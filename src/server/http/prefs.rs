//! Which language and time zone a request is answered in, decided once before any handler
//! runs and kept in the request's extensions ([`crate::i18n::prefs`] reads it while rendering).
//!
//! Language: the member's choice, else their portal's language (set by the agency), else the
//! browser's `Accept-Language`, else English. Signed-out pages (sign-in) use the browser's.
//! Zone: the member's choice, else the browser's (the `tz` cookie the page's script keeps), else
//! UTC.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{ACCEPT_LANGUAGE, COOKIE};

use super::state::AppState;
use crate::i18n::{self, Prefs};
use crate::server::auth::session;

/// The cookie holding the browser's own zone (an IANA name), written by the live island.
pub const ZONE_COOKIE: &str = "tz";

/// Resolves [`Prefs`] for requests that render words; static files, health checks, webhooks
/// and the REST API (machine clients, English) skip it and never load the session for it.
pub async fn resolve(
    State(state): State<AppState>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path();
    // Server functions live under `/api/` too and answer in words: only the REST API skips.
    let renders_words = !(path.starts_with("/pkg/")
        || path.starts_with("/api/v1/")
        || path.starts_with("/webhooks")
        || path.starts_with("/healthz")
        || path.starts_with("/readyz")
        || path.starts_with("/metrics")
        || path == "/favicon.svg");
    if renders_words {
        let access = match request.extensions().get::<tower_sessions::Session>() {
            Some(session) => {
                match session::current(session, state.config.auth.session_max_age).await {
                    Some(member) => state.auth.access(member).await.ok().flatten(),
                    None => None,
                }
            }
            None => None,
        };
        let headers = request.headers();
        let browser_language = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(i18n::from_accept_language);
        let browser_zone =
            cookie(headers, ZONE_COOKIE).filter(|zone| i18n::time::zone(zone).is_some());
        let (chosen_locale, portal_language, chosen_zone) = match &access {
            Some(access) => (
                access.locale,
                access.portal_language,
                access.time_zone.clone(),
            ),
            None => (None, None, None),
        };
        let prefs = Prefs {
            locale: chosen_locale
                .or(portal_language)
                .or(browser_language)
                .unwrap_or_default(),
            zone_chosen: chosen_zone.is_some(),
            zone: chosen_zone
                .or_else(|| browser_zone.clone())
                .unwrap_or_else(|| i18n::DEFAULT_ZONE.to_owned()),
            browser_zone,
        };
        request.extensions_mut().insert(prefs);
    }
    next.run(request).await
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.replace("%2F", "/").replace("%2f", "/"))
        })
}
