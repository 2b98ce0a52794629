//! Shared checks at the edge: who is signed in, same-origin writes, write rate limits, and
//! turning service errors into what a client may see.

use std::net::IpAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::rate_limit::RateLimiter;
use super::auth::{AuthError, minutes};
use super::state::AppState;
use super::tickets::TicketError;
use crate::error::AppError;

/// Per-session and per-address limits on creating tickets and replies.
pub struct WriteLimits {
    tickets: RateLimiter,
    replies: RateLimiter,
    per_address: RateLimiter,
}

impl WriteLimits {
    pub fn new(tickets_per_hour: u32, replies_per_hour: u32, per_address_per_hour: u32) -> Self {
        let hour = Duration::from_secs(3600);
        Self {
            tickets: RateLimiter::new(tickets_per_hour, hour),
            replies: RateLimiter::new(replies_per_hour, hour),
            per_address: RateLimiter::new(per_address_per_hour, hour),
        }
    }
}

#[derive(Clone, Copy)]
pub enum Write {
    Ticket,
    Reply,
}

/// Counts one write for the session (or token) `key` and the client address.
pub fn check_write_limits(
    state: &AppState,
    key: &str,
    address: Option<IpAddr>,
    write: Write,
) -> Result<(), AppError> {
    let limiter = match write {
        Write::Ticket => &state.write_limits.tickets,
        Write::Reply => &state.write_limits.replies,
    };
    let address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    state
        .write_limits
        .per_address
        .check(&address)
        .and_then(|()| limiter.check(key))
        .map_err(|wait| AppError::RateLimited {
            minutes: minutes(wait),
        })
}

impl From<TicketError> for AppError {
    fn from(error: TicketError) -> Self {
        match error {
            TicketError::NotFound => AppError::NotFound,
            TicketError::Invalid(field) => AppError::invalid(field.field, field.message),
            TicketError::Monday(error) => {
                tracing::warn!(%error, "monday error shown to a client as unavailable");
                AppError::Unavailable {
                    message: "The support board is not answering right now. Your saved tickets \
                              are safe; please try again in a few minutes."
                        .into(),
                }
            }
            TicketError::Database(error) => {
                tracing::error!(%error, "database error");
                AppError::Internal
            }
        }
    }
}

impl From<AuthError> for AppError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(message) => AppError::invalid("email", message),
            AuthError::RateLimited(wait) => AppError::RateLimited {
                minutes: minutes(wait),
            },
            AuthError::LinkUnusable => AppError::NotFound,
            AuthError::Database(error) => {
                tracing::error!(%error, "database error");
                AppError::Internal
            }
        }
    }
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
    let exempt = request.uri().path().starts_with("/webhooks/");
    if unsafe_method && !exempt && !is_same_origin(request.headers(), &state.public_url) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
        return (
            StatusCode::FORBIDDEN,
            "Cross-site requests are not allowed.",
        )
            .into_response();
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

/// Pages that need a signed-in member send everyone else to the login page before rendering.
pub async fn require_member_for_pages(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path();
    let protected = request.method() == Method::GET
        && (path == "/dashboard" || path == "/tickets" || path.starts_with("/tickets/"));
    if protected {
        let signed_in = match request.extensions().get::<tower_sessions::Session>() {
            Some(session) => super::auth::session::current(session).await.is_some(),
            None => false,
        };
        if !signed_in {
            return axum::response::Redirect::to("/login").into_response();
        }
    }
    next.run(request).await
}

/// `/`: the dashboard when signed in, the login page otherwise.
pub async fn home(session: tower_sessions::Session) -> axum::response::Redirect {
    if super::auth::session::current(&session).await.is_some() {
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
