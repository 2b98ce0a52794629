//! Limits per key (an email, a member, a client address) within a window: in memory for one
//! instance on SQLite ([`RateLimiter`], a sliding window), and in PostgreSQL when several
//! instances must count together ([`Limiter`] picks by the database), so that a client cannot
//! get a fresh budget by landing on another instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::server::db::{Db, now_unix};

/// A limit that every instance sharing the database enforces together.
pub struct Limiter {
    /// Keeps the keys of different limits apart in the shared table.
    name: &'static str,
    limit: u32,
    window: Duration,
    store: Store,
}

enum Store {
    Memory(RateLimiter),
    /// Hits per key in fixed windows; the count is the current window's hits plus the part of
    /// the previous window's that still falls within the sliding window, the usual
    /// approximation of a sliding window with two counters.
    Shared(Db),
}

impl Limiter {
    pub fn new(name: &'static str, limit: u32, window: Duration, db: &Db) -> Self {
        let store = match db {
            Db::Sqlite(_) => Store::Memory(RateLimiter::new(limit, window)),
            Db::Postgres(_) => Store::Shared(db.clone()),
        };
        Self {
            name,
            limit,
            window: window.max(Duration::from_secs(1)),
            store,
        }
    }

    /// How long `key` must wait before a hit is allowed, without counting one.
    pub async fn wait(&self, key: &str) -> Option<Duration> {
        match &self.store {
            Store::Memory(memory) => memory.wait(key),
            Store::Shared(db) => self.shared_wait(db, key).await,
        }
    }

    /// Counts one hit for `key`, or says how long until the next one is allowed.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        match &self.store {
            Store::Memory(memory) => memory.check(key),
            Store::Shared(db) => {
                if let Some(wait) = self.shared_wait(db, key).await {
                    return Err(wait);
                }
                self.shared_hit(db, key).await;
                Ok(())
            }
        }
    }

    fn shared_key(&self, key: &str) -> String {
        format!("{}\n{key}", self.name)
    }

    /// The window `now` falls in, and how far into it (0 to 1).
    fn windows(&self, now: i64) -> (i64, f64) {
        let length = self.window.as_secs() as i64;
        let start = now - now.rem_euclid(length);
        (start, (now - start) as f64 / length as f64)
    }

    async fn shared_wait(&self, db: &Db, key: &str) -> Option<Duration> {
        let now = now_unix();
        let (current, elapsed) = self.windows(now);
        let previous = current - self.window.as_secs() as i64;
        let rows: Vec<(i64, i64)> = crate::on_db!(db, pool => sqlx::query_as(
            "SELECT window_start, hits FROM rate_limit_hits
             WHERE key = $1 AND window_start IN ($2, $3)",
        )
        .bind(self.shared_key(key))
        .bind(current)
        .bind(previous)
        .fetch_all(pool)
        .await)
        // The database not answering must not lock everyone out: no limit then.
        .unwrap_or_default();
        let hits = |start: i64| {
            rows.iter()
                .find(|(s, _)| *s == start)
                .map_or(0.0, |(_, h)| *h as f64)
        };
        let estimate = hits(current) + hits(previous) * (1.0 - elapsed);
        (estimate >= f64::from(self.limit)).then(|| {
            Duration::from_secs((current + self.window.as_secs() as i64 - now).max(1) as u64)
        })
    }

    async fn shared_hit(&self, db: &Db, key: &str) {
        let (current, _) = self.windows(now_unix());
        let result = crate::on_db!(db, pool => sqlx::query(
            "INSERT INTO rate_limit_hits (key, window_start, hits) VALUES ($1, $2, 1)
             ON CONFLICT (key, window_start)
             DO UPDATE SET hits = rate_limit_hits.hits + 1",
        )
        .bind(self.shared_key(key))
        .bind(current)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        if let Err(error) = result {
            tracing::warn!(%error, limit = self.name, "could not count a hit");
        }
    }
}

/// Deletes counters of windows long past (the longest window is an hour). Returns how many.
pub async fn prune_shared(db: &Db) -> Result<u64, sqlx::Error> {
    match db {
        Db::Sqlite(_) => Ok(0),
        Db::Postgres(pool) => Ok(sqlx::query(
            "DELETE FROM rate_limit_hits WHERE window_start < $1",
        )
        .bind(now_unix() - 3 * 3600)
        .execute(pool)
        .await?
        .rows_affected()),
    }
}

/// A sliding window kept in this process.
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
