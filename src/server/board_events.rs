//! What monday's webhooks say happened on the board, and what the portal does about it:
//! de-duplicate on `triggerUuid`, map the item to its portal by reading the portal column itself
//! (never trusting the payload), refresh the caches and tell that portal's browsers only. The
//! HTTP side (verification, answering at once) is `server::http::webhooks`.

use std::sync::Arc;

use serde_json::Value;

use super::db::{Db, now_unix};
use super::live_hub::LiveHub;
use super::tickets::{TicketService, conversation};
use crate::model::{LiveEvent, Reply};

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
        .filter(|t| !t.is_empty() && t.len() <= 100 && !t.chars().any(char::is_control))
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

/// The service behind the webhook routes.
pub struct BoardEvents {
    db: Db,
    tickets: Arc<TicketService>,
    live: Arc<LiveHub>,
    /// Team updates are public only when they begin with this.
    public_marker: String,
}

impl BoardEvents {
    pub fn new(
        db: Db,
        tickets: Arc<TicketService>,
        live: Arc<LiveHub>,
        public_marker: String,
    ) -> Self {
        Self {
            db,
            tickets,
            live,
            public_marker,
        }
    }

    /// Records a trigger; false when it was seen before.
    pub async fn remember(&self, trigger_uuid: &str) -> Result<bool, sqlx::Error> {
        let now = now_unix();
        let inserted = crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO webhook_receipts (trigger_uuid, received_at) VALUES ($1, $2) \
             ON CONFLICT (trigger_uuid) DO NOTHING",
        )
        .bind(trigger_uuid)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Forgets triggers older than a day (monday retries for 30 minutes). Returns how many.
    pub async fn prune_receipts(&self) -> Result<u64, sqlx::Error> {
        Ok(
            crate::on_db!(&self.db, pool => sqlx::query("DELETE FROM webhook_receipts WHERE received_at < $1")
                .bind(now_unix() - RECEIPT_SECONDS)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?,
        )
    }

    /// Maps the item to its portal, refreshes the caches and tells that portal's browsers.
    pub async fn process(&self, event: ParsedEvent) {
        let tickets = &self.tickets;
        // What the caches knew before: the portal an archived or deleted item belonged to.
        let known = tickets.cached_ticket(&event.item_id).await;
        let fresh = match tickets.board().item(&event.item_id).await {
            Ok(item) => item.map(|item| tickets.board().mapping().ticket_from(&item)),
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
                self.live.publish(
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
        let columns = &tickets.board().mapping().columns;
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
                    self.live.publish(
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
            BoardChange::UpdateCreated { update_id } => self
                .public_reply(&ticket, &update_id)
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
            self.live.publish(&ticket.portal_id, live_event);
        }
    }

    /// The update as the client would see it, or `None` for internal notes and the portal's own
    /// messages (their authors already saw them).
    async fn public_reply(&self, ticket: &crate::model::Ticket, update_id: &str) -> Option<Reply> {
        let item = self
            .tickets
            .board()
            .item_with_updates(&ticket.id)
            .await
            .ok()??;
        let update = item.updates?.into_iter().find(|u| u.id == update_id)?;
        if self.tickets.is_portal_update(update_id).await {
            return None;
        }
        let marker = &self.public_marker;
        if !conversation::is_public(&update, marker) {
            return None;
        }
        conversation::conversation(std::slice::from_ref(&update), &[], marker).pop()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
