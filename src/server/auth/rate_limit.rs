//! A sliding-window limit per key (an email, a member, a client address), kept in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys tracked before idle ones are dropped, so a flood of new keys cannot grow memory
/// without bound.
const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must wait before a hit is allowed, without counting one.
    pub fn wait(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let hits = self.hits.lock().ok()?;
        let times = hits.get(key)?;
        let recent: Vec<&Instant> = times
            .iter()
            .filter(|t| now.duration_since(**t) < self.window)
            .collect();
        if (recent.len() as u32) < self.limit {
            return None;
        }
        recent
            .first()
            .map(|oldest| self.window.saturating_sub(now.duration_since(**oldest)))
    }

    /// Counts one hit for `key`, or says how long until the next one is allowed.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return Ok(());
        };
        if hits.len() >= MAX_KEYS {
            let window = self.window;
            hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = hits.entry(key.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() as u32 >= self.limit {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_says_how_long_to_wait() {
        let limiter = RateLimiter::new(2, Duration::from_secs(3600));
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        let wait = limiter.check("a").unwrap_err();
        assert!(wait > Duration::from_secs(3500));
        assert!(limiter.check("b").is_ok(), "keys are independent");
    }

    #[test]
    fn waiting_is_asked_without_counting() {
        let limiter = RateLimiter::new(1, Duration::from_secs(3600));
        assert_eq!(limiter.wait("a"), None);
        assert_eq!(limiter.wait("a"), None, "asking does not count");
        assert!(limiter.check("a").is_ok());
        assert!(limiter.wait("a").is_some());
    }

    #[test]
    fn the_window_slides() {
        let limiter = RateLimiter::new(1, Duration::from_millis(30));
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.check("a").is_ok());
    }
}
