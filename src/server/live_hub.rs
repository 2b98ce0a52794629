//! The live hub: one broadcast channel per portal. A socket subscribes to its session's portal
//! only, so an event can never reach another portal's browsers. The sockets themselves are the
//! HTTP layer's (`server::http::live`).

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
