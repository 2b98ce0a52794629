//! The live hub: one broadcast channel per portal. A socket subscribes to its session's portal
//! only, so an event can never reach another portal's browsers. The sockets themselves are the
//! HTTP layer's (`server::http::live`). When several instances share a database, every event
//! is also relayed to the others (`server::cluster`), whose sockets receive it through
//! [`LiveHub::publish_local`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::broadcast;

use crate::model::LiveEvent;

/// How many events a slow socket may fall behind before it is dropped.
pub const SOCKET_BUFFER: usize = 64;

/// An event as the sockets send it: made into its message once per way of reading it (the
/// dashboard row it carries is in a language and a time zone), by the first socket that reads
/// it so, however many sockets of the portal are open.
#[derive(Debug)]
pub struct Published {
    pub event: LiveEvent,
    wire: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<String>>>>,
}

impl Published {
    pub fn new(event: LiveEvent) -> Self {
        Self {
            event,
            wire: Mutex::default(),
        }
    }

    /// The message text for readers of `reading` (a language and zone), made by `make` the
    /// first time it is asked for.
    pub async fn wire_with<F, Fut>(&self, reading: &str, make: F) -> String
    where
        F: FnOnce(&LiveEvent) -> Fut,
        Fut: std::future::Future<Output = String>,
    {
        let cell = {
            let mut wire = self
                .wire
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            wire.entry(reading.to_owned()).or_default().clone()
        };
        cell.get_or_init(|| make(&self.event)).await.clone()
    }
}

/// Passes an event on to the other instances.
pub type Relay = Box<dyn Fn(&str, &LiveEvent) + Send + Sync>;

#[derive(Default)]
pub struct LiveHub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Published>>>>,
    relay: OnceLock<Relay>,
}

impl LiveHub {
    /// Sends every event published from now on to `relay` as well (set once, at start-up).
    pub fn relay_to(&self, relay: Relay) {
        if self.relay.set(relay).is_err() {
            tracing::error!("the live hub's relay was set twice; keeping the first");
        }
    }

    pub fn subscribe(&self, portal_id: &str) -> broadcast::Receiver<Arc<Published>> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        channels
            .entry(portal_id.to_owned())
            .or_insert_with(|| broadcast::channel(SOCKET_BUFFER).0)
            .subscribe()
    }

    /// Sends `event` to the sockets of `portal_id` on every instance; returns how many of this
    /// instance's sockets received it.
    pub fn publish(&self, portal_id: &str, event: LiveEvent) -> usize {
        if let Some(relay) = self.relay.get() {
            relay(portal_id, &event);
        }
        self.publish_local(portal_id, event)
    }

    /// Sends `event` to this instance's sockets of `portal_id` only.
    pub fn publish_local(&self, portal_id: &str, event: LiveEvent) -> usize {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(sender) = channels.get(portal_id) else {
            return 0;
        };
        match sender.send(Arc::new(Published::new(event))) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_reach_only_their_portal() {
        let hub = LiveHub::default();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        assert_eq!(hub.publish("a", LiveEvent::Heartbeat), 1);
        let received = a.recv().await.unwrap();
        assert_eq!(received.event, LiveEvent::Heartbeat);
        let made = std::sync::atomic::AtomicUsize::new(0);
        for reading in ["en UTC", "en UTC", "en UTC", "de Europe/Berlin"] {
            let text = received
                .wire_with(reading, |event| {
                    made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let text = serde_json::to_string(event).unwrap_or_default();
                    async move { text }
                })
                .await;
            assert_eq!(text, r#"{"type":"heartbeat"}"#);
        }
        assert_eq!(
            made.into_inner(),
            2,
            "made once per language and zone, however many sockets send it"
        );
        assert!(b.try_recv().is_err());
        drop(a);
        assert_eq!(hub.publish("a", LiveEvent::Heartbeat), 0);
    }
}
