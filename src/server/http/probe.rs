//! `/readyz`'s view of monday: one check at a time, reused for a while.

use std::time::{Duration, Instant};

use crate::server::board::TicketBoard;

/// The last check of monday, reused for a while: `/readyz` is unauthenticated and each check is
/// a monday call from the agency's daily budget, which a loop of requests must not spend.
pub struct MondayProbe {
    ttl: Duration,
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl MondayProbe {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// monday's state as last seen within the time to live; otherwise asks, once: callers who
    /// arrive meanwhile wait for that answer instead of asking too.
    pub async fn check(&self, board: &TicketBoard) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref()
            && at.elapsed() < self.ttl
        {
            return result.clone();
        }
        let result = board.ready().await.map_err(|e| e.to_string());
        *last = Some((Instant::now(), result.clone()));
        result
    }
}
