//! `GET /live`: one WebSocket per tab, carrying the live hub's events for the session's portal.
//! The socket re-checks the session and the membership whenever the directory changes (a
//! session ended or a member removed, on any instance) and at every heartbeat, so signing out
//! or being removed closes it within a second.

use std::collections::HashSet;
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
use crate::i18n::{I18nLocaleTrait, Prefs};
use crate::model::{LiveEvent, LiveMessage, RowUpdate, StatusCounts, Ticket, is_newest};
use crate::server::auth::Access;
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
    let Ok(SignedIn(access, session)) = signed_in else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The socket's rows are in the language and zone its page was in.
    let prefs = parts.extensions.get::<Prefs>().cloned().unwrap_or_default();
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
    let events = state.live.subscribe(&access.member.portal_id);
    // Clients send nothing worth reading and events are small: small buffers keep an idle
    // socket cheap (tungstenite's defaults reserve 128 KiB per connection).
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(16 * 1024)
        .max_frame_size(16 * 1024)
        .on_upgrade(move |socket| async move {
            run_socket(state, socket, events, session_id, access, prefs).await;
            drop(slot);
        })
        .into_response()
}

/// The message a socket sends for `event`: the event, and for a change to one ticket its
/// dashboard row as it now stands (from the cache the change has just updated, never by asking
/// monday), so open dashboards update in place instead of loading the page again. For members
/// who see the whole portal it is made once for every open tab (`only` is `None`); for a
/// requester, the counts are of the tickets they may see (`only`).
async fn message_text(
    state: &AppState,
    portal_id: &str,
    event: &LiveEvent,
    only: Option<&Access>,
    prefs: &Prefs,
) -> String {
    let changed = changed_ticket(event);
    let removed = matches!(event, LiveEvent::Removed { .. });
    // One read of the portal's cached tickets serves the row and the counts.
    let tickets = if changed.is_some() || removed {
        state
            .tickets
            .cached_portal_tickets(portal_id)
            .await
            .map(|mut tickets| {
                if let Some(access) = only {
                    tickets.retain(|t| access.can_see(t));
                }
                tickets
            })
    } else {
        None
    };
    let row = changed
        .zip(tickets.as_deref())
        .and_then(|(ticket_id, tickets)| dashboard_row(tickets, ticket_id, prefs));
    let remaining = tickets.as_deref().filter(|_| removed).map(StatusCounts::of);
    let message = LiveMessage {
        event: event.clone(),
        row,
        remaining,
    };
    serde_json::to_string(&message).unwrap_or_default()
}

/// Whether a requester's socket may carry `event`: only changes to tickets they raised or
/// follow. `shown` holds the tickets this socket has told of (and the ones visible when it
/// opened), so a removal reaches the dashboards that showed the ticket.
async fn requester_hears(
    state: &AppState,
    access: &Access,
    event: &LiveEvent,
    shown: &mut HashSet<String>,
) -> bool {
    let ids: Vec<&str> = match event {
        LiveEvent::Heartbeat => return true,
        LiveEvent::TicketCreated { ticket } => {
            if access.can_see(ticket) {
                shown.insert(ticket.id.clone());
                return true;
            }
            return false;
        }
        LiveEvent::Removed { ticket_id, .. } => {
            return shown.remove(ticket_id) || access.follows(ticket_id);
        }
        LiveEvent::DeliveryChanged {
            ticket_id,
            monday_id,
            ..
        } => std::iter::once(ticket_id.as_str())
            .chain(monday_id.as_deref())
            .collect(),
        other => changed_ticket(other).into_iter().collect(),
    };
    for id in &ids {
        if !state.tickets.visible_to(access, id).await {
            return false;
        }
    }
    shown.extend(ids.iter().map(|id| (*id).to_owned()));
    true
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
fn dashboard_row(tickets: &[Ticket], ticket_id: &str, prefs: &Prefs) -> Option<RowUpdate> {
    let ticket = tickets.iter().find(|t| t.id == ticket_id)?;
    Some(RowUpdate {
        ticket_id: ticket_id.to_owned(),
        html: row_html(ticket, prefs).to_string(),
        status: ticket.status,
        counts: StatusCounts::of(tickets),
        newest: is_newest(ticket, tickets),
    })
}

/// What a re-check of a socket's session finds.
enum Recheck {
    /// Still a current member, with their access as it now stands (a role change or a follow
    /// shows here).
    Current(Access),
    /// The session ended, expired, or its member was removed: the socket closes.
    Ended,
    /// The membership could not be read (the database failed for a moment): nothing changes.
    Unknown,
}

/// Re-checks the session behind a socket: it exists, has not expired, and its member has not
/// been removed.
async fn recheck_session(state: &AppState, session_id: &tower_sessions::session::Id) -> Recheck {
    let record = match state.sessions.load(session_id).await {
        Ok(Some(record)) if record.expiry_date > time::OffsetDateTime::now_utc() => record,
        _ => return Recheck::Ended,
    };
    let Some(member) = member_of_record(&record, state.config.auth.session_max_age) else {
        return Recheck::Ended;
    };
    match state.auth.access(member).await {
        Ok(Some(access)) => Recheck::Current(access),
        Ok(None) => Recheck::Ended,
        Err(error) => {
            tracing::warn!(%error, "live: could not re-check a socket's member; keeping it open");
            Recheck::Unknown
        }
    }
}

async fn run_socket(
    state: AppState,
    mut socket: WebSocket,
    mut events: broadcast::Receiver<Arc<Published>>,
    session_id: tower_sessions::session::Id,
    mut access: Access,
    prefs: Prefs,
) {
    let reading = format!("{} {}", prefs.locale.as_str(), prefs.zone);
    let portal_id = access.member.portal_id.clone();
    // What a requester's dashboard shows now; members and admins see the whole portal.
    let mut shown: HashSet<String> = if access.role.sees_all_tickets() {
        HashSet::new()
    } else {
        state
            .tickets
            .cached_portal_tickets(&portal_id)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|t| access.can_see(t))
            .map(|t| t.id)
            .collect()
    };
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
                match recheck_session(&state, &session_id).await {
                    Recheck::Current(now) => access = now,
                    Recheck::Ended => break close(4401, "session ended"),
                    Recheck::Unknown => {}
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
                match recheck_session(&state, &session_id).await {
                    Recheck::Current(now) => access = now,
                    Recheck::Ended => break close(4401, "session ended"),
                    Recheck::Unknown => {}
                }
                continue;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            _ = shutdown.changed() => break close(1001, "server restarting"),
        };
        let text: String = if access.role.sees_all_tickets() {
            outgoing
                .wire_with(&reading, |event| {
                    let event = event.clone();
                    let (state, portal_id, prefs) = (&state, &portal_id, &prefs);
                    async move { message_text(state, portal_id, &event, None, prefs).await }
                })
                .await
        } else if requester_hears(&state, &access, &outgoing.event, &mut shown).await {
            message_text(&state, &portal_id, &outgoing.event, Some(&access), &prefs).await
        } else {
            continue;
        };
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
