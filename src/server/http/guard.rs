//! Checks every request passes at the edge: a Host the portal answers to, same-origin writes,
//! signed-in pages, developer tools only for the developer's own machine, and the headers every
//! response carries.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request::{peer_address, session_access};
use super::state::AppState;
use crate::error::AppError;
use crate::server::config::RunMode;

/// Headers reverse proxies and tunnels add: a request carrying one did not come straight from
/// this machine, whatever its TCP peer says (nginx, Caddy, ngrok and cloudflared all connect
/// from 127.0.0.1).
const PROXY_HEADERS: [&str; 7] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "cf-connecting-ip",
    "true-client-ip",
];

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` of a URL, with the scheme's default port made explicit.
fn authority_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?.to_ascii_lowercase();
    let has_port = authority.rsplit_once(':').is_some_and(|(_, port)| {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !port.contains(']')
    });
    if has_port {
        Some(authority)
    } else {
        let port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        Some(format!("{authority}:{port}"))
    }
}

/// Whether the portal answers a request for `host`: the public URL's host (and port), or in
/// development any loopback name, so a page on another site cannot reach a developer's portal
/// through DNS rebinding.
pub fn host_allowed(host: &str, public_url: &str, mode: RunMode) -> bool {
    if mode == RunMode::Development && is_loopback_host(host) {
        return true;
    }
    let Some(public) = authority_of(public_url) else {
        return false;
    };
    let scheme = public_url.split("://").next().unwrap_or("http");
    authority_of(&format!("{scheme}://{host}")).is_some_and(|asked| asked == public)
}

/// Refuses requests whose `Host` the portal does not answer to. Health checks are exempt: load
/// balancers call them by address.
pub async fn known_host(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    if host_allowed(host, state.config.public_url(), state.config.mode) {
        next.run(request).await
    } else {
        tracing::warn!(host = %super::loggable_value(host, 100), "refused a request for an unknown host");
        AppError::bad_request("This portal does not answer to that host name.").into_response()
    }
}

/// Whether the team console, the demo inbox and the demo sign-in hints may be shown to this
/// request. They have no sign-in, so by default only to the developer's own machine: the
/// portal's public URL is a loopback one, the request comes from loopback, for a loopback
/// host, through no proxy. `LOCAL_BOARD_CONSOLE=on` shows them to everyone, `off` to no one.
pub fn devtools_allowed(state: &AppState, parts: &Parts) -> bool {
    if !state.team_console {
        return false;
    }
    if state.config.local_board.console == Some(true) {
        return true;
    }
    let from_loopback = peer_address(parts).is_some_and(|ip| ip.is_loopback());
    let through_proxy = PROXY_HEADERS.iter().any(|h| parts.headers.contains_key(*h));
    let host_is_loopback = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_loopback_host);
    let public_is_loopback =
        authority_of(state.config.public_url()).is_some_and(|a| is_loopback_host(&a));
    from_loopback && !through_proxy && host_is_loopback && public_is_loopback
}

/// Guards the developer tools' routes with [`devtools_allowed`]: anyone else gets a 404, as if
/// they did not exist.
pub async fn local_only(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if !devtools_allowed(&state, &parts) {
        return AppError::NotFound.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Refuses state-changing requests sent by another site (a CSRF defence for the cookie).
/// Browsers send `Sec-Fetch-Site` and `Origin`; non-browser clients send neither and carry
/// their own credentials (a bearer token), so they pass.
pub async fn same_origin(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // monday calls webhooks from its own servers; they authenticate with the secret.
    // Mail programs POST one-click unsubscribes from their own servers; the token decides.
    let exempt = request.uri().path().starts_with("/webhooks/")
        || request.uri().path() == super::notify::UNSUBSCRIBE_PATH;
    if unsafe_method && !exempt && !is_same_origin(request.headers(), state.config.public_url()) {
        tracing::warn!(path = %super::loggable_path(request.uri().path()), "refused a cross-site request");
        return AppError::Forbidden.into_response();
    }
    next.run(request).await
}

pub fn is_same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin.eq_ignore_ascii_case(public_url.trim_end_matches('/')) {
        return true;
    }
    // Same origin as the address the browser used (e.g. localhost vs 127.0.0.1 in development).
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Pages that need a signed-in member send everyone else to the login page before rendering,
/// under the same rule as server functions and the API.
pub async fn require_member_for_pages(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let protected = request.method() == Method::GET
        && (path == "/dashboard"
            || path == "/tickets"
            || path.starts_with("/tickets/")
            || path == "/colleagues"
            || path.starts_with("/settings/"))
        // A file answers 404 to everyone who may not have it, signed out or not.
        && !super::files::is_download(path);
    if protected {
        let signed_in = match request.extensions().get::<tower_sessions::Session>() {
            Some(session) => session_access(&state, session).await.is_ok(),
            None => false,
        };
        if !signed_in {
            return axum::response::Redirect::to("/login").into_response();
        }
    }
    next.run(request).await
}

/// `/`: the dashboard when signed in, the login page otherwise.
pub async fn home(
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> axum::response::Redirect {
    if session_access(&state, &session).await.is_ok() {
        axum::response::Redirect::to("/dashboard")
    } else {
        axum::response::Redirect::to("/login")
    }
}

/// Headers every response carries.
pub async fn security_headers(request: Request<Body>, next: Next) -> Response {
    // Static assets may be cached; everything else is about someone (signed-in pages, the login
    // page with its token, server functions, the API) and must not be kept by any cache.
    let path = request.uri().path();
    let is_asset = path.starts_with("/pkg/") || path == "/favicon.svg";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, header::HeaderValue::from_static(value));
    };
    set(headers, "x-content-type-options", "nosniff");
    // Magic-link tokens travel in the login URL: never leak it in a Referer.
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-frame-options", "DENY");
    // Downloads bring a stricter policy of their own.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            headers,
            "content-security-policy",
            "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'",
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn same_origin_rules() {
        let public = "https://portal.example.com";
        assert!(is_same_origin(&headers(&[]), public), "non-browser clients");
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            public
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            public
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            public
        ));
        assert!(is_same_origin(
            &headers(&[("origin", "https://portal.example.com")]),
            public
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example")]),
            public
        ));
        assert!(is_same_origin(
            &headers(&[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000")
            ]),
            "http://127.0.0.1:3000"
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://evil.test"), ("host", "localhost:3000")]),
            "http://127.0.0.1:3000"
        ));
    }
}
