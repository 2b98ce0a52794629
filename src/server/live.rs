//! The live hub: one broadcast channel per portal. A socket subscribes to its session's portal
//! only, so an event can never reach another portal's browsers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::model::LiveEvent;

/// How many events a slow socket may fall behind before it is dropped.
pub const SOCKET_BUFFER: usize = 64;

#[derive(Default)]
pub struct LiveHub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<LiveEvent>>>>,
}

impl LiveHub {
    pub fn subscribe(&self, portal_id: &str) -> broadcast::Receiver<Arc<LiveEvent>> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        channels
            .entry(portal_id.to_owned())
            .or_insert_with(|| broadcast::channel(SOCKET_BUFFER).0)
            .subscribe()
    }

    /// Sends `event` to the sockets of `portal_id`; returns how many received it.
    pub fn publish(&self, portal_id: &str, event: LiveEvent) -> usize {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(sender) = channels.get(portal_id) else {
            return 0;
        };
        match sender.send(Arc::new(event)) {
            Ok(receivers) => receivers,
            Err(_) => {
                // Nobody listens any more: forget the channel.
                channels.remove(portal_id);
                0
            }
        }
    }

    pub fn connected(&self) -> usize {
        self.channels
            .lock()
            .map(|c| c.values().map(broadcast::Sender::receiver_count).sum())
            .unwrap_or(0)
    }
}

/// A socket that cannot take a message within this long is dropped.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `GET /live`: one WebSocket per tab, for the session's portal only.
pub async fn socket(
    axum::extract::State(state): axum::extract::State<super::state::AppState>,
    headers: axum::http::HeaderMap,
    signed_in: Result<super::auth::session::SignedIn, axum::http::StatusCode>,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Browsers always send Origin on a WebSocket handshake; a page on another site must not
    // ride on the session cookie.
    if headers.get(axum::http::header::ORIGIN).is_none()
        || !super::guard::is_same_origin(&headers, &state.public_url)
    {
        return axum::http::StatusCode::FORBIDDEN.into_response();
    }
    let Ok(super::auth::session::SignedIn(member, session)) = signed_in else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    };
    let Some(session_id) = session.id() else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
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
        .on_upgrade(move |socket| run_socket(state, socket, events, session_id))
        .into_response()
}

async fn run_socket(
    state: super::state::AppState,
    mut socket: axum::extract::ws::WebSocket,
    mut events: broadcast::Receiver<Arc<LiveEvent>>,
    session_id: tower_sessions::session::Id,
) {
    use axum::extract::ws::{CloseFrame, Message};
    use tokio::time::{interval, timeout};
    use tower_sessions::SessionStore;

    let mut heartbeat = interval(
        state
            .config
            .live_heartbeat
            .max(std::time::Duration::from_millis(100)),
    );
    heartbeat.tick().await;
    let mut shutdown = state.shutdown.clone();
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
                let alive = matches!(
                    state.sessions.load(&session_id).await,
                    Ok(Some(record)) if record.expiry_date > time::OffsetDateTime::now_utc()
                );
                if !alive {
                    break close(4401, "session ended");
                }
                Arc::new(LiveEvent::Heartbeat)
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            _ = shutdown.changed() => break close(1001, "server restarting"),
        };
        let Ok(text) = serde_json::to_string(&*outgoing) else {
            continue;
        };
        match timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    };
    let _ = timeout(SEND_TIMEOUT, socket.send(reason)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_reach_only_their_portal() {
        let hub = LiveHub::default();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        assert_eq!(hub.publish("a", LiveEvent::Heartbeat), 1);
        assert_eq!(*a.recv().await.unwrap(), LiveEvent::Heartbeat);
        assert!(b.try_recv().is_err());
        drop(a);
        assert_eq!(hub.publish("a", LiveEvent::Heartbeat), 0);
    }
}
