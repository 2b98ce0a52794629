//! The one way from an error to an HTTP answer. Services report in their own error types; they
//! become an [`AppError`] here, and an `AppError` becomes a response here: a JSON body of one
//! shape (`{"error": {"code", "message"}}`) for machine clients, and the status
//! [`AppError::status`] names for server functions too, without any code in their bodies.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::i18n::{I18nLocaleTrait, Locale};
use crate::server::auth::{AuthError, minutes};
use crate::server::html::escape;
use crate::server::tickets::TicketError;

/// `{"error": {"code", "message"}}`: every error a machine client receives.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: unauthorized, forbidden, not_found, invalid_input, rate_limited,
    /// bad_request, unavailable, internal.
    pub code: String,
    /// What went wrong, in words a person understands.
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl AppError {
    /// The error answered to a person, in `locale`: to a page's script (`Accept:
    /// application/json`) the one JSON body with its sentence in their language
    /// ([`AppError::words`]); to a browser that shows the answer itself (a form posted without
    /// JavaScript, a link opened) a short page in their language, with the same status.
    pub fn answer_in(self, locale: Locale, headers: &HeaderMap) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        told(status, self.code(), &self.words(locale), locale, headers)
    }
}

/// A refusal the HTTP layer makes before any service is asked (`code` is one of
/// `common.notice`'s: `too_large`, `slow`), answered as [`AppError::answer_in`] answers.
pub fn notice(status: StatusCode, code: &str, headers: &HeaderMap) -> Response {
    let locale = browser_locale(headers);
    let message = crate::i18n::words::form_notice(locale, code, None).unwrap_or_default();
    told(status, code, &message, locale, headers)
}

fn told(
    status: StatusCode,
    code: &str,
    message: &str,
    locale: Locale,
    headers: &HeaderMap,
) -> Response {
    if wants_page(headers) {
        return (status, plain_page(locale, message)).into_response();
    }
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
        },
    };
    (status, Json(body)).into_response()
}

/// Whether the request comes from a browser showing the answer itself, rather than from a
/// script that reads JSON.
fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The language a request's own headers ask for: for answers given before the member's choice
/// is known (the body limit, the deadline), which the browser's language then stands in for.
pub fn browser_locale(headers: &HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::i18n::from_accept_language)
        .unwrap_or_default()
}

/// A page of one sentence and the way back to the tickets, for answers given outside Leptos
/// (it renders the portal's pages; these come from the HTTP layer before or after it).
pub fn plain_page(l: Locale, message: &str) -> axum::response::Html<String> {
    use crate::i18n::td_string;
    axum::response::Html(format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{message}</title></head><body style=\"font-family: system-ui, sans-serif; \
         max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5\">\
         <main><p>{message}</p><p><a href=\"/dashboard\">{home}</a></p></main></body></html>",
        lang = l.as_str(),
        dir = crate::i18n::direction(l),
        message = escape(message),
        home = escape(td_string!(l, common.not_found.home)),
    ))
}

impl From<TicketError> for AppError {
    fn from(error: TicketError) -> Self {
        match error {
            TicketError::NotFound => AppError::NotFound,
            TicketError::TooManyLookups(wait) => AppError::RateLimited {
                minutes: minutes(wait),
            },
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
            AuthError::Forbidden { notice, message } => AppError::not_permitted(notice, message),
            AuthError::Field { field, message } => AppError::invalid(field, message),
            AuthError::Database(error) => {
                tracing::error!(%error, "database error");
                AppError::Internal
            }
        }
    }
}

/// The largest server-function error body read back to find its status (they are tiny).
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Gives a failed server function the status its error names. server_fn answers every error
/// with 500; it marks those answers with a header and an encoded [`AppError`] body, so the
/// status is fixed here for every server function at once, and the error's sentence put in the
/// request's language. Plain form posts keep the redirect they were given.
pub async fn server_fn_status(request: Request<Body>, next: Next) -> Response {
    let locale = request
        .extensions()
        .get::<crate::i18n::Prefs>()
        .map(|prefs| prefs.locale)
        .unwrap_or_default();
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
        || response.status().is_redirection()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(error) = serde_json::from_slice::<AppError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Ok(status) = StatusCode::from_u16(error.status()) {
        parts.status = status;
    }
    // The island shows the error's sentence: in the request's language.
    let body = serde_json::to_vec(&error.localized(locale)).map_or(bytes, Into::into);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_answer_with_their_status_and_the_one_body() {
        let response = AppError::NotFound.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["error"]["code"], "not_found");
        assert!(json["error"]["message"].is_string());

        let response = AppError::unauthorized("the token has expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
