//! monday's webhook routes: verified (a secret in the URL, or an app's signed JWT), answered
//! at once, then handed to the board-events service in the background (monday times out slow
//! receivers, and the work needs a monday read).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::state::AppState;
use crate::error::AppError;
use crate::server::board_events::parse_event;

/// The largest webhook body accepted; monday's payloads are a few kilobytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// `POST /webhooks/monday/{secret}`: webhooks created with a personal token carry no
/// signature, so the URL holds a secret.
pub async fn with_secret(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    body: Bytes,
) -> Response {
    let expected = state
        .config
        .monday
        .webhook_secret
        .as_ref()
        .map(|s| s.expose().as_bytes());
    let valid = expected.is_some_and(|expected| bool::from(secret.as_bytes().ct_eq(expected)));
    if !valid {
        tracing::warn!("webhook refused: wrong secret");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    receive(state, body).await
}

/// `POST /webhooks/monday`: webhooks created by a monday app carry a JWT signed with the
/// app's signing secret in `Authorization`.
pub async fn signed(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.config.monday.signing_secret else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim());
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // monday's app webhooks carry `exp` (five minutes) and `aud`, the endpoint they were sent
    // to; its docs ask receivers to check both, so a token copied from one request cannot be
    // replayed later or against another endpoint.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "aud"]);
    validation.leeway = 30;
    let endpoint = format!("{}/webhooks/monday", state.config.public_url());
    validation.set_audience(&[endpoint.as_str(), &format!("{endpoint}/")]);
    let key = jsonwebtoken::DecodingKey::from_secret(secret.expose().as_bytes());
    if jsonwebtoken::decode::<Value>(token, &key, &validation).is_err() {
        tracing::warn!("webhook refused: bad signature");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    receive(state, body).await
}

async fn receive(state: AppState, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        tracing::warn!("webhook refused: not JSON");
        return AppError::bad_request("the body must be JSON").into_response();
    };
    if let Some(challenge) = body.get("challenge") {
        return Json(json!({ "challenge": challenge })).into_response();
    }
    let event = match parse_event(&body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "webhook refused");
            return AppError::bad_request(error.to_string()).into_response();
        }
    };
    match state.board_events.remember(&event.trigger_uuid).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(trigger = %event.trigger_uuid, "duplicate webhook ignored");
            return Json(json!({ "ok": true, "duplicate": true })).into_response();
        }
        Err(error) => {
            // Without the record monday's retry is what saves us: ask for it.
            tracing::error!(%error, "could not record a webhook");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    state.board_events.accept(event).await;
    Json(json!({ "ok": true })).into_response()
}
