//! The HTTP layer: pages' guards, the REST API, webhooks, the live socket and health checks.
//! These are the only modules that see [`state::AppState`], cookies and status codes; they turn
//! requests into service calls, and service errors into answers through [`error`].

pub mod assets;
pub mod error;
pub mod files;
pub mod guard;
pub mod health;
pub mod limits;
pub mod live;
pub mod notify;
pub mod prefs;
pub mod probe;
pub mod request;
pub mod rest;
pub mod serve;
pub mod state;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Response};
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;
use tower_sessions::SessionManagerLayer;

use self::state::AppState;
use crate::server::auth::store::DbSessionStore;

/// The largest request body the portal accepts (a ticket is at most ~40 KB of text).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route that is not a page or a server function.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/", get(guard::home))
        .merge(rest::router())
        .route("/live", get(live::socket))
        // Bodies of any size reach these: `limit_body` bounds them by the message limits.
        .route(
            files::NEW_TICKET_PATH,
            post(files::create_ticket).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/tickets/{id}/messages",
            post(files::post_message).layer(DefaultBodyLimit::disable()),
        )
        .route("/tickets/{id}/files/{key}", get(files::download))
        .route(
            notify::UNSUBSCRIBE_PATH,
            get(notify::confirm).post(notify::unsubscribe),
        )
        .route(
            "/webhooks/monday/{secret}",
            post(webhooks::with_secret).layer(DefaultBodyLimit::max(webhooks::MAX_WEBHOOK_BYTES)),
        )
        .route(
            "/webhooks/monday",
            post(webhooks::signed).layer(DefaultBodyLimit::max(webhooks::MAX_WEBHOOK_BYTES)),
        )
}

/// Wraps the whole application (pages, server functions, routes, dev tools) in the checks every
/// request passes, innermost first: server-function statuses, signed-in pages, the request's language and zone, same-origin
/// writes, the session, a known Host, the body limit, security headers and the request log.
pub fn layered(
    router: Router<AppState>,
    state: AppState,
    sessions: SessionManagerLayer<DbSessionStore>,
) -> Router {
    // One log line per request. Paths are logged without their query string (magic-link
    // tokens travel there) and webhook secrets are masked.
    let request_log = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<Body>| {
            tracing::info_span!(
                target: "client_portal::request",
                "request",
                method = %request.method(),
                path = %loggable_path(request.uri().path()),
            )
        })
        .on_response(
            |response: &Response<Body>, latency: Duration, _: &tracing::Span| {
                tracing::info!(
                    target: "client_portal::request",
                    status = response.status().as_u16(),
                    latency_ms = latency.as_millis() as u64,
                    "request"
                );
            },
        );
    router
        .layer(axum::middleware::from_fn(error::server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::require_member_for_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            prefs::resolve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::known_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_body,
        ))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(compression())
        .layer(axum::middleware::from_fn(report_slow_requests))
        .layer(request_log)
        .with_state(state)
}

/// Bounds every request's body: [`MAX_BODY_BYTES`], or for the forms that carry files, what
/// one message's files may add up to (each file is checked as it streams; this is the backstop).
async fn limit_body(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response<Body> {
    let path = request.uri().path();
    let upload = files::is_upload(request.method(), path);
    let limit = if upload {
        // The form's text and framing come on top of the files; and room for one more file, so
        // a form over the limit is read to its end and answered with the message that names
        // the file, not cut off.
        let limits = state.tickets.upload_limits();
        (limits.max_message_bytes + limits.max_file_bytes) as usize + MAX_BODY_BYTES
    } else if path.starts_with("/local-board/items/") && path.ends_with("/updates") {
        // The team console attaches a file to a message (it bounds the file itself).
        64 * 1024 * 1024
    } else {
        MAX_BODY_BYTES
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return files::too_large(request.headers());
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// A request unanswered this long is reported while it runs.
const SLOW_REQUEST: Duration = Duration::from_secs(10);
/// ...and one unanswered this long is given up with 503: no request holds its connection and
/// its client forever (a stuck wait anywhere below becomes a logged, answered failure).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// A form with files may take this long to arrive over a slow connection (50 MB at ~60 KB/s).
const UPLOAD_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Says in the log when a request has gone [`SLOW_REQUEST`] without an answer, and how it ended
/// (answered, given up at [`REQUEST_DEADLINE`], or abandoned by its client): the request log
/// writes its line only once there is an answer, so without this a stalled request would leave
/// nothing behind.
async fn report_slow_requests(
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response<Body> {
    let started = std::time::Instant::now();
    // What the answer is given in if it comes to giving up (two reference counts, not a copy
    // of the request's headers).
    let asked = [
        axum::http::header::ACCEPT,
        axum::http::header::ACCEPT_LANGUAGE,
    ]
    .map(|name| Some((name.clone(), request.headers().get(&name)?.clone())));
    let deadline = if files::is_upload(request.method(), request.uri().path()) {
        UPLOAD_DEADLINE
    } else {
        REQUEST_DEADLINE
    };
    let answer = next.run(request);
    tokio::pin!(answer);
    tokio::select! {
        response = &mut answer => return response,
        () = tokio::time::sleep(SLOW_REQUEST) => {}
    }
    tracing::warn!(
        target: "client_portal::request",
        waited_ms = started.elapsed().as_millis() as u64,
        "request still unanswered"
    );
    /// Logs when the client gave up (the future is dropped before it finished).
    struct Abandoned(Option<std::time::Instant>);
    impl Drop for Abandoned {
        fn drop(&mut self) {
            if let Some(started) = self.0 {
                tracing::warn!(
                    target: "client_portal::request",
                    waited_ms = started.elapsed().as_millis() as u64,
                    "request abandoned by its client before an answer"
                );
            }
        }
    }
    let mut abandoned = Abandoned(Some(started));
    let response = tokio::select! {
        response = &mut answer => response,
        () = tokio::time::sleep(deadline.saturating_sub(SLOW_REQUEST)) => {
            tracing::error!(
                target: "client_portal::request",
                waited_ms = started.elapsed().as_millis() as u64,
                "request given up: no answer in time"
            );
            let headers: axum::http::HeaderMap = asked.into_iter().flatten().collect();
            error::notice(axum::http::StatusCode::SERVICE_UNAVAILABLE, "slow", &headers)
        }
    };
    abandoned.0 = None;
    response
}

/// Pages, server functions' and the API's JSON compressed as the client asks (brotli or gzip).
/// The fastest levels: a page is compressed on every request, and at these levels that costs
/// less than sending it raw over a phone's connection, while the static files, which never
/// change, are compressed once, at build time, at the highest level (they already carry
/// `Content-Encoding` and pass through). Nothing secret shares a compressed body with text an
/// attacker chose (the only secret in a page is the sign-in token of the link being opened), so
/// compression leaks nothing (BREACH).
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE)
                // Files are streamed as they are: most are compressed already.
                .and(NotForContentType::const_new("application/octet-stream"))
                .and(NotForContentType::const_new("application/pdf"))
                .and(NotForContentType::const_new("application/zip"))
                .and(NotForContentType::const_new("application/vnd."))
                .and(NotForContentType::const_new("video/")),
        )
}

/// The longest value from a request that goes into a log line.
const MAX_LOGGED_CHARS: usize = 200;

/// A path as the log shows it: secrets and sign-in tokens masked (webhook secrets and the REST
/// API's link exchange carry them in the path), and never longer than [`MAX_LOGGED_CHARS`].
pub fn loggable_path(path: &str) -> String {
    if path.starts_with("/webhooks/monday/") {
        return "/webhooks/monday/[secret]".to_owned();
    }
    if path.starts_with("/api/v1/auth/") {
        return "/api/v1/auth/[portal]/[token]".to_owned();
    }
    loggable_value(path, MAX_LOGGED_CHARS)
}

/// A value a client sent, made safe for a log line: at most `max_chars`, control characters
/// replaced, so nobody can forge lines or fill the disk through the log.
pub fn loggable_value(value: &str, max_chars: usize) -> String {
    let mut out: String = value
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().count() > max_chars {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route(
                "/stuck",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
                    "too late"
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(SLOW_REQUEST + Duration::from_secs(5)).await;
                    "slow but in time"
                }),
            )
            .layer(axum::middleware::from_fn(report_slow_requests))
    }

    async fn status_of(path: &str) -> (u16, String) {
        let response = app()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    // On tokio's paused clock: the sleeps pass at once, in order.
    #[tokio::test(start_paused = true)]
    async fn a_request_without_an_answer_is_given_up_at_the_deadline_and_a_slow_one_is_not() {
        let started = tokio::time::Instant::now();
        let (status, body) = status_of("/stuck").await;
        assert_eq!(status, 503);
        assert!(body.contains("took too long"), "{body}");
        assert_eq!(
            started.elapsed(),
            REQUEST_DEADLINE,
            "given up at the deadline"
        );
        let (status, body) = status_of("/slow").await;
        assert_eq!((status, body.as_str()), (200, "slow but in time"));
        // A browser showing the answer itself gets a page, in its language.
        let response = app()
            .oneshot(
                Request::get("/stuck")
                    .header("accept", "text/html")
                    .header("accept-language", "de-DE,de;q=0.9")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let page = String::from_utf8_lossy(&body);
        assert!(
            page.contains("lang=\"de\"") && page.contains("zu lange"),
            "{page}"
        );
    }
}
