//! `GET /live`: one WebSocket per tab, carrying the live hub's events for the session's portal.
//! The socket re-checks the session and the membership whenever the directory changes (a
//! session ended or a member removed, on any instance) and at every heartbeat, so signing out
//! or being removed closes it within a second.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;
use tokio::time::{interval, timeout};
use tower_sessions::SessionStore;

use super::guard::is_same_origin;
use super::limits::address_key;
use super::request::{SignedIn, client_address};
use super::state::AppState;
use crate::components::ticket_row::row_html;
use crate::model::{LiveEvent, LiveMessage, RowUpdate, StatusCounts, Ticket, is_newest};
use crate::server::auth::session::member_of_record;
use crate::server::live_hub::Published;

/// A socket that cannot take a message within this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// After the directory changes, each socket re-checks at a random moment within this window,
/// so a thousand sockets do not ask the database at the same instant.
const RECHECK_SPREAD_MS: u64 = 400;

/// `GET /live`: one WebSocket per tab, for the session's portal only, and no more than the caps
/// per session and per address allow.
pub async fn socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    parts: Parts,
    signed_in: Result<SignedIn, crate::error::AppError>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Browsers always send Origin on a WebSocket handshake; a page on another site must not
    // ride on the session cookie.
    if headers.get(header::ORIGIN).is_none() || !is_same_origin(&headers, state.config.public_url())
    {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(SignedIn(member, session)) = signed_in else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let Some(session_id) = session.id() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let address = address_key(client_address(&parts, &state.config.trusted_proxies));
    let limits = &state.config.limits;
    let Some(slot) = state.live_sockets.open(&[
        (
            format!("session {session_id}"),
            limits.live_sockets_per_session,
        ),
        (
            format!("address {address}"),
            limits.live_sockets_per_address,
        ),
    ]) else {
        return StatusCode::TOO_MANY_REQUESTS.into_response();
    };
    let events = state.live.subscribe(&member.portal_id);
    // Clients send nothing worth reading and events are small: small buffers keep an idle
    // socket cheap (tungstenite's defaults reserve 128 KiB per connection).
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(16 * 1024)
        .max_frame_size(16 * 1024)
        .on_upgrade(move |socket| async move {
            run_socket(state, socket, events, session_id, member.portal_id).await;
            drop(slot);
        })
        .into_response()
}

/// The message a socket sends for `event`: the event, and for a change to one ticket its
/// dashboard row as it now stands (rendered once here for every open tab of the portal, from
/// the cache the change has just updated, never by asking monday), so open dashboards update
/// in place instead of loading the page again.
async fn message_text(state: &AppState, portal_id: &str, event: &LiveEvent) -> String {
    let changed = changed_ticket(event);
    let removed = matches!(event, LiveEvent::Removed { .. });
    // One read of the portal's cached tickets serves the row and the counts.
    let tickets = if changed.is_some() || removed {
        state.tickets.cached_portal_tickets(portal_id).await
    } else {
        None
    };
    let row = changed
        .zip(tickets.as_deref())
        .and_then(|(ticket_id, tickets)| dashboard_row(tickets, ticket_id));
    let remaining = tickets.as_deref().filter(|_| removed).map(StatusCounts::of);
    let message = LiveMessage {
        event: event.clone(),
        row,
        remaining,
    };
    serde_json::to_string(&message).unwrap_or_default()
}

/// The ticket whose dashboard row an event carries: one that changed, or a new one (not one
/// that is gone).
fn changed_ticket(event: &LiveEvent) -> Option<&str> {
    match event {
        LiveEvent::StatusChanged { ticket_id, .. }
        | LiveEvent::PriorityChanged { ticket_id, .. }
        | LiveEvent::Renamed { ticket_id, .. }
        | LiveEvent::Updated { ticket_id, .. }
        | LiveEvent::ReplyAdded { ticket_id, .. }
        | LiveEvent::ReplyEdited { ticket_id, .. }
        | LiveEvent::ReplyRemoved { ticket_id, .. } => Some(ticket_id),
        LiveEvent::TicketCreated { ticket } => Some(&ticket.id),
        LiveEvent::Removed { .. } | LiveEvent::DeliveryChanged { .. } | LiveEvent::Heartbeat => {
            None
        }
    }
}

/// The ticket's row as the portal's dashboards show it, with the counts of the default view
/// (every ticket of the portal).
fn dashboard_row(tickets: &[Ticket], ticket_id: &str) -> Option<RowUpdate> {
    let ticket = tickets.iter().find(|t| t.id == ticket_id)?;
    Some(RowUpdate {
        ticket_id: ticket_id.to_owned(),
        html: row_html(ticket).to_string(),
        status: ticket.status,
        counts: StatusCounts::of(tickets),
        newest: is_newest(ticket, tickets),
    })
}

/// Whether the session behind a socket still signs in a current member: it exists, has not
/// expired, and its member has not been removed.
async fn still_signed_in(state: &AppState, session_id: &tower_sessions::session::Id) -> bool {
    let record = match state.sessions.load(session_id).await {
        Ok(Some(record)) if record.expiry_date > time::OffsetDateTime::now_utc() => record,
        _ => return false,
    };
    match member_of_record(&record, state.config.auth.session_max_age) {
        Some(member) => state.auth.is_member(&member).await.unwrap_or(true),
        None => false,
    }
}

async fn run_socket(
    state: AppState,
    mut socket: WebSocket,
    mut events: broadcast::Receiver<Arc<Published>>,
    session_id: tower_sessions::session::Id,
    portal_id: String,
) {
    let mut heartbeat = interval(state.config.live_heartbeat.max(Duration::from_millis(100)));
    heartbeat.tick().await;
    let mut shutdown = state.shutdown.clone();
    let mut directory = state.auth.memory().subscribe();
    let recheck = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(recheck);
    let mut recheck_armed = false;
    let heartbeat_message = Arc::new(Published::new(LiveEvent::Heartbeat));
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    let reason = loop {
        let outgoing = tokio::select! {
            event = events.recv() => match event {
                Ok(event) => event,
                // Fell behind: drop it; the browser reconnects and refetches.
                Err(broadcast::error::RecvError::Lagged(_)) => break close(4000, "too slow"),
                Err(broadcast::error::RecvError::Closed) => break close(1001, "going away"),
            },
            _ = heartbeat.tick() => {
                if !still_signed_in(&state, &session_id).await {
                    break close(4401, "session ended");
                }
                heartbeat_message.clone()
            }
            Ok(()) = directory.changed() => {
                let spread = Duration::from_millis(rand::random::<u64>() % RECHECK_SPREAD_MS);
                recheck.as_mut().reset(tokio::time::Instant::now() + spread);
                recheck_armed = true;
                continue;
            }
            () = &mut recheck, if recheck_armed => {
                recheck_armed = false;
                if !still_signed_in(&state, &session_id).await {
                    break close(4401, "session ended");
                }
                continue;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            _ = shutdown.changed() => break close(1001, "server restarting"),
        };
        let text = outgoing
            .wire_with(|event| {
                let event = event.clone();
                let (state, portal_id) = (&state, &portal_id);
                async move { message_text(state, portal_id, &event).await }
            })
            .await;
        if text.is_empty() {
            continue;
        }
        match timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    };
    let _ = timeout(SEND_TIMEOUT, socket.send(reason)).await;
}
