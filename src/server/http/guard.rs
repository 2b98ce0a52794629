//! Checks every request passes at the edge: same-origin writes, signed-in pages, and the
//! headers every response carries.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request::session_member;
use super::state::AppState;
use crate::error::AppError;

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
    let exempt = request.uri().path().starts_with("/webhooks/");
    if unsafe_method && !exempt && !is_same_origin(request.headers(), state.config.public_url()) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
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
        && (path == "/dashboard" || path == "/tickets" || path.starts_with("/tickets/"));
    if protected {
        let signed_in = match request.extensions().get::<tower_sessions::Session>() {
            Some(session) => session_member(&state, session).await.is_ok(),
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
    if session_member(&state, &session).await.is_ok() {
        axum::response::Redirect::to("/dashboard")
    } else {
        axum::response::Redirect::to("/login")
    }
}

/// Headers every response carries.
pub async fn security_headers(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, header::HeaderValue::from_static(value));
    };
    set(headers, "x-content-type-options", "nosniff");
    // Magic-link tokens travel in the login URL: never leak it in a Referer.
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-frame-options", "DENY");
    set(
        headers,
        "content-security-policy",
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'",
    );
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
