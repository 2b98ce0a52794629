//! monday's webhooks: verified (secret URL or signed JWT), answered at once, de-duplicated on
//! `triggerUuid`, then mapped to a portal by the portal itself (never by the payload) and
//! published to that portal's browsers only.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::db::now_unix;
use super::state::AppState;
use super::tickets::conversation;
use crate::model::{LiveEvent, Reply};

/// The largest webhook body accepted; monday's payloads are a few kilobytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;
/// How long a `triggerUuid` is remembered (monday retries for 30 minutes).
const RECEIPT_SECONDS: i64 = 24 * 3600;

/// What a webhook says happened, in the portal's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoardChange {
    Created,
    ColumnChanged { column_id: String },
    Renamed,
    UpdateCreated { update_id: String },
    Archived,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEvent {
    pub trigger_uuid: String,
    pub item_id: String,
    pub change: BoardChange,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the body is not a JSON object")]
    NotJson,
    #[error("the body has no event")]
    NoEvent,
    #[error("unsupported event type {0:?}")]
    UnknownType(String),
    #[error("the event names no item")]
    NoItem,
    #[error("the event has no triggerUuid")]
    NoTrigger,
}

fn id_field(event: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match event.get(*name)? {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s)
            if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(s.clone())
        }
        _ => None,
    })
}

/// Reads monday's payload shapes. Anything else is an error, never a panic.
pub fn parse_event(body: &Value) -> Result<ParsedEvent, WebhookError> {
    let event = body.as_object().ok_or(WebhookError::NotJson)?;
    let event = event.get("event").ok_or(WebhookError::NoEvent)?;
    if !event.is_object() {
        return Err(WebhookError::NoEvent);
    }
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::UnknownType(String::new()))?;
    let trigger_uuid = event
        .get("triggerUuid")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.len() <= 100)
        .ok_or(WebhookError::NoTrigger)?
        .to_owned();
    let item_id = id_field(event, &["pulseId", "itemId"]).ok_or(WebhookError::NoItem)?;
    let change = match kind {
        "create_pulse" => BoardChange::Created,
        "update_column_value" => BoardChange::ColumnChanged {
            column_id: event
                .get("columnId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        "update_name" => BoardChange::Renamed,
        "create_update" => BoardChange::UpdateCreated {
            update_id: id_field(event, &["updateId"]).unwrap_or_default(),
        },
        "archive_pulse" => BoardChange::Archived,
        "delete_pulse" => BoardChange::Deleted,
        other => return Err(WebhookError::UnknownType(other.chars().take(40).collect())),
    };
    Ok(ParsedEvent {
        trigger_uuid,
        item_id,
        change,
    })
}

/// `POST /webhooks/monday/{secret}`: webhooks created with a personal token carry no
/// signature, so the URL holds a secret.
pub async fn with_secret(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    body: Bytes,
) -> Response {
    let expected = state.webhook_secret.as_ref().map(|s| s.expose().as_bytes());
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
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
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
        return bad_request("the body must be JSON");
    };
    if let Some(challenge) = body.get("challenge") {
        return Json(json!({ "challenge": challenge })).into_response();
    }
    let event = match parse_event(&body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "webhook refused");
            return bad_request(&error.to_string());
        }
    };
    match remember(&state, &event.trigger_uuid).await {
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
    // Acknowledge now; monday times out slow receivers and the work needs a monday query.
    tokio::spawn(async move { process(&state, event).await });
    Json(json!({ "ok": true })).into_response()
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// Records a trigger; false when it was seen before.
async fn remember(state: &AppState, trigger_uuid: &str) -> Result<bool, sqlx::Error> {
    let now = now_unix();
    let inserted = sqlx::query(
        "INSERT OR IGNORE INTO webhook_receipts (trigger_uuid, received_at) VALUES (?, ?)",
    )
    .bind(trigger_uuid)
    .bind(now)
    .execute(&state.db)
    .await?
    .rows_affected();
    // Cheap housekeeping, a few times an hour at most.
    if now % 600 == 0 {
        let _ = sqlx::query("DELETE FROM webhook_receipts WHERE received_at < ?")
            .bind(now - RECEIPT_SECONDS)
            .execute(&state.db)
            .await;
    }
    Ok(inserted == 1)
}

/// Maps the item to its portal, refreshes the caches and tells that portal's browsers.
pub async fn process(state: &AppState, event: ParsedEvent) {
    let tickets = &state.tickets;
    // What the caches knew before: the portal an archived or deleted item belonged to.
    let known = tickets.cached_ticket(&event.item_id).await;
    let fresh = match tickets.monday().item(&event.item_id).await {
        Ok(item) => item.map(|item| tickets.monday().mapping().ticket_from(&item)),
        Err(error) => {
            tracing::warn!(%error, item = %event.item_id, "webhook: could not read the item");
            if let Some(ticket) = &known {
                tickets.invalidate(&ticket.portal_id, &ticket.id).await;
            }
            return;
        }
    };
    if let Some(old) = &known {
        tickets.invalidate(&old.portal_id, &old.id).await;
    }
    let Some(ticket) = fresh else {
        // Gone from the board: archived or deleted.
        if let Some(old) = known {
            state.live.publish(
                &old.portal_id,
                LiveEvent::Removed {
                    ticket_id: old.id,
                    title: old.title,
                },
            );
        }
        return;
    };
    if ticket.portal_id.is_empty() {
        return;
    }
    tickets.invalidate(&ticket.portal_id, &ticket.id).await;
    let columns = &tickets.monday().mapping().columns;
    let live_event = match event.change {
        BoardChange::Created => Some(LiveEvent::TicketCreated {
            ticket: ticket.clone(),
        }),
        BoardChange::Renamed => Some(LiveEvent::Renamed {
            ticket_id: ticket.id.clone(),
            title: ticket.title.clone(),
        }),
        BoardChange::ColumnChanged { column_id } if column_id == columns.status => {
            tickets
                .record_status(
                    &ticket.portal_id,
                    &ticket.id,
                    ticket.status,
                    &ticket.updated_at,
                )
                .await;
            Some(LiveEvent::StatusChanged {
                ticket_id: ticket.id.clone(),
                title: ticket.title.clone(),
                status: ticket.status,
            })
        }
        BoardChange::ColumnChanged { column_id } if column_id == columns.priority => {
            Some(LiveEvent::PriorityChanged {
                ticket_id: ticket.id.clone(),
                title: ticket.title.clone(),
                priority: ticket.priority,
            })
        }
        BoardChange::ColumnChanged { column_id } if column_id == columns.portal_id => {
            // Moved between portals: the old one loses it, the new one gains it.
            if let Some(old) = known.filter(|old| old.portal_id != ticket.portal_id) {
                state.live.publish(
                    &old.portal_id,
                    LiveEvent::Removed {
                        ticket_id: old.id,
                        title: old.title,
                    },
                );
            }
            Some(LiveEvent::TicketCreated {
                ticket: ticket.clone(),
            })
        }
        BoardChange::ColumnChanged { .. } => Some(LiveEvent::Updated {
            ticket_id: ticket.id.clone(),
            title: ticket.title.clone(),
        }),
        BoardChange::UpdateCreated { update_id } => public_reply(state, &ticket, &update_id)
            .await
            .map(|reply| LiveEvent::ReplyAdded {
                ticket_id: ticket.id.clone(),
                title: ticket.title.clone(),
                reply,
            }),
        BoardChange::Archived | BoardChange::Deleted => Some(LiveEvent::Removed {
            ticket_id: ticket.id.clone(),
            title: ticket.title.clone(),
        }),
    };
    if let Some(live_event) = live_event {
        state.live.publish(&ticket.portal_id, live_event);
    }
}

/// The update as the client would see it, or `None` for internal notes and the portal's own
/// messages (their authors already saw them).
async fn public_reply(
    state: &AppState,
    ticket: &crate::model::Ticket,
    update_id: &str,
) -> Option<Reply> {
    let item = state
        .tickets
        .monday()
        .item_with_updates(&ticket.id)
        .await
        .ok()??;
    let update = item.updates?.into_iter().find(|u| u.id == update_id)?;
    if state.tickets.is_portal_update(update_id).await {
        return None;
    }
    let marker = &state.config.monday.public_marker;
    if !conversation::is_public(&update, marker) {
        return None;
    }
    conversation::conversation(std::slice::from_ref(&update), &[], marker).pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mondays_shapes() {
        let status = json!({"event": {"type": "update_column_value", "pulseId": 123, "columnId": "status", "triggerUuid": "abc"}});
        assert_eq!(
            parse_event(&status).unwrap(),
            ParsedEvent {
                trigger_uuid: "abc".into(),
                item_id: "123".into(),
                change: BoardChange::ColumnChanged {
                    column_id: "status".into()
                },
            }
        );
        let archived =
            json!({"event": {"type": "archive_pulse", "itemId": "77", "triggerUuid": "t"}});
        assert_eq!(
            parse_event(&archived).unwrap().change,
            BoardChange::Archived
        );
        let update = json!({"event": {"type": "create_update", "pulseId": 5, "updateId": 9, "triggerUuid": "u"}});
        assert_eq!(
            parse_event(&update).unwrap().change,
            BoardChange::UpdateCreated {
                update_id: "9".into()
            }
        );
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for body in [
            json!([1, 2]),
            json!({}),
            json!({"event": "x"}),
            json!({"event": {"type": "update_column_value", "triggerUuid": "t"}}),
            json!({"event": {"type": "update_column_value", "pulseId": "1; DROP", "triggerUuid": "t"}}),
            json!({"event": {"type": "launch_rockets", "pulseId": 1, "triggerUuid": "t"}}),
            json!({"event": {"type": "create_pulse", "pulseId": 1}}),
        ] {
            assert!(parse_event(&body).is_err(), "{body}");
        }
    }
}
