//! The one way from an error to an HTTP answer. Services report in their own error types; they
//! become an [`AppError`] here, and an `AppError` becomes a response here: a JSON body of one
//! shape (`{"error": {"code", "message"}}`) for machine clients, and the status
//! [`AppError::status`] names for server functions too, without any code in their bodies.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::server::auth::{AuthError, minutes};
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
            AuthError::Forbidden(message) => AppError::NotPermitted { message },
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
