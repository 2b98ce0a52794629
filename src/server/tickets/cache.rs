//! Per-portal ticket lists and per-ticket details from monday, kept until a webhook says they
//! changed (or a time-to-live passes, in case a webhook was lost). One request to monday at a
//! time per portal: concurrent page loads wait for the same answer. When monday fails, the
//! last known data is served with its age.
//!
//! The time-to-live is a safety net (webhooks keep the data right), so it is paid for out of
//! monday's daily call cap with care: refreshes of the cached keys are spaced so that lists and
//! tickets together take at most a quarter of the day's calls ([`SAFETY_NET_SHARE`]: lists
//! [`LIST_SHARE`], ticket pages [`DETAIL_SHARE`]), and stop altogether once 80% of the cap is
//! used.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::Ticket;
use monday::{CallBudget, MondayError, UpdateNode, now_utc_string};

/// After monday fails, serve saved data this long before asking again.
const FAILURE_BACKOFF: Duration = Duration::from_secs(10);

/// The share of the daily call cap the time-to-live refreshes may take, all caches together.
pub const SAFETY_NET_SHARE: f64 = LIST_SHARE + DETAIL_SHARE;
/// The lists' part of it.
pub const LIST_SHARE: f64 = 0.15;
/// The ticket pages' part of it.
pub const DETAIL_SHARE: f64 = 0.10;

/// How long data may be kept before a refresh, given the configured time-to-live, the number
/// of cached keys, the daily cap and this cache's `share` of it: never sooner than `ttl`, and
/// spaced so that refreshing every key takes at most that share of the cap in a day. `None`:
/// do not refresh.
pub fn refresh_after(
    ttl: Duration,
    keys: usize,
    budget: Option<&CallBudget>,
    share: f64,
) -> Option<Duration> {
    let Some(budget) = budget else {
        return Some(ttl);
    };
    if !budget.background_allowed() {
        return None;
    }
    let per_day = (f64::from(budget.limit()) * share).max(1.0);
    let spacing = Duration::from_secs_f64(86_400.0 * keys.max(1) as f64 / per_day);
    Some(ttl.max(spacing))
}

/// What a read returns: the data, and when it was fetched if it is not fresh.
#[derive(Debug, Clone)]
pub struct Cached<T> {
    pub value: T,
    /// `Some(fetched at)` when monday is not answering and this is saved data.
    pub saved_at: Option<String>,
}

struct Entry<T> {
    value: T,
    fetched: Instant,
    fetched_at: String,
    /// Set by a webhook or a write: the next read fetches again.
    invalidated: bool,
    failed_at: Option<Instant>,
}

struct Slot<T> {
    entry: tokio::sync::Mutex<Option<Entry<T>>>,
    last_used: AtomicU64,
}

/// A keyed cache with single-flight loading, TTL, invalidation, stale-on-error and an LRU bound.
pub struct Keyed<T> {
    slots: Mutex<HashMap<String, Arc<Slot<T>>>>,
    ttl: Duration,
    max_keys: usize,
    clock: AtomicU64,
    loads: AtomicU64,
    budget: Option<Arc<CallBudget>>,
    share: f64,
}

impl<T: Clone> Keyed<T> {
    pub fn new(ttl: Duration, max_keys: usize) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            ttl,
            max_keys: max_keys.max(1),
            clock: AtomicU64::new(0),
            loads: AtomicU64::new(0),
            budget: None,
            share: SAFETY_NET_SHARE,
        }
    }

    /// Spaces time-to-live refreshes so they take at most `share` of monday's daily call cap
    /// (see [`refresh_after`]).
    pub fn with_budget(mut self, budget: Arc<CallBudget>, share: f64) -> Self {
        self.budget = Some(budget);
        self.share = share;
        self
    }

    /// How many times a loader ran (each is at least one request to monday).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    fn slot(&self, key: &str) -> Arc<Slot<T>> {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(key) {
            slot.last_used.store(tick, Ordering::Relaxed);
            return slot.clone();
        }
        if slots.len() >= self.max_keys {
            // Evict the least recently used key: memory stays bounded.
            if let Some(oldest) = slots
                .iter()
                .min_by_key(|(_, s)| s.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone())
            {
                slots.remove(&oldest);
            }
        }
        let slot = Arc::new(Slot {
            entry: tokio::sync::Mutex::new(None),
            last_used: AtomicU64::new(tick),
        });
        slots.insert(key.to_owned(), slot.clone());
        slot
    }

    fn existing(&self, key: &str) -> Option<Arc<Slot<T>>> {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub async fn get<F, Fut>(&self, key: &str, load: F) -> Result<Cached<T>, MondayError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, MondayError>>,
    {
        let slot = self.slot(key);
        let mut entry = slot.entry.lock().await;
        if let Some(current) = entry.as_ref() {
            let keys = self.slots.lock().map(|s| s.len()).unwrap_or(1);
            let refresh = refresh_after(self.ttl, keys, self.budget.as_deref(), self.share);
            let fresh = !current.invalidated
                && refresh.is_none_or(|after| current.fetched.elapsed() < after);
            if fresh {
                return Ok(Cached {
                    value: current.value.clone(),
                    saved_at: None,
                });
            }
            if current
                .failed_at
                .is_some_and(|at| at.elapsed() < FAILURE_BACKOFF)
            {
                return Ok(Cached {
                    value: current.value.clone(),
                    saved_at: Some(current.fetched_at.clone()),
                });
            }
        }
        self.loads.fetch_add(1, Ordering::Relaxed);
        match load().await {
            Ok(value) => {
                *entry = Some(Entry {
                    value: value.clone(),
                    fetched: Instant::now(),
                    fetched_at: now_utc_string(),
                    invalidated: false,
                    failed_at: None,
                });
                Ok(Cached {
                    value,
                    saved_at: None,
                })
            }
            Err(error) if error.is_transient() => match entry.as_mut() {
                Some(saved) => {
                    tracing::warn!(%error, key, "monday is not answering; serving saved data");
                    saved.failed_at = Some(Instant::now());
                    Ok(Cached {
                        value: saved.value.clone(),
                        saved_at: Some(saved.fetched_at.clone()),
                    })
                }
                None => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    /// Makes the next read of `key` ask monday again (keeping the data in case it fails).
    pub async fn invalidate(&self, key: &str) {
        if let Some(slot) = self.existing(key)
            && let Some(entry) = slot.entry.lock().await.as_mut()
        {
            entry.invalidated = true;
        }
    }

    /// Changes cached data in place when the change is known exactly (a created ticket).
    /// Returns false when nothing is cached for `key`.
    pub async fn update(&self, key: &str, change: impl FnOnce(&mut T)) -> bool {
        let Some(slot) = self.existing(key) else {
            return false;
        };
        let mut entry = slot.entry.lock().await;
        match entry.as_mut() {
            Some(entry) => {
                change(&mut entry.value);
                true
            }
            None => false,
        }
    }

    /// Forgets `key` altogether (an archived or deleted ticket's detail).
    pub async fn forget(&self, key: &str) {
        if let Some(slot) = self.existing(key) {
            *slot.entry.lock().await = None;
        }
    }

    pub async fn peek(&self, key: &str) -> Option<T> {
        let slot = self.existing(key)?;
        let entry = slot.entry.lock().await;
        entry.as_ref().map(|e| e.value.clone())
    }

    /// The value as it stands, unless a change has invalidated it since it was read (what may
    /// be shown as current without asking monday).
    pub async fn peek_current(&self, key: &str) -> Option<T> {
        let slot = self.existing(key)?;
        let entry = slot.entry.lock().await;
        entry
            .as_ref()
            .filter(|e| !e.invalidated)
            .map(|e| e.value.clone())
    }

    pub fn keys(&self) -> Vec<String> {
        self.slots
            .lock()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// A portal's tickets as monday has them.
pub type TicketList = Arc<Vec<Ticket>>;

/// One ticket with its updates (newest first, as monday returns them).
#[derive(Debug, Clone)]
pub struct ItemDetail {
    pub ticket: Ticket,
    pub updates: Vec<UpdateNode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_reads_share_one_load() {
        let cache: Arc<Keyed<u32>> = Arc::new(Keyed::new(Duration::from_secs(60), 10));
        let reads = (0..20).map(|_| {
            let cache = cache.clone();
            async move {
                cache
                    .get("p", || async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(7)
                    })
                    .await
            }
        });
        for result in futures::future::join_all(reads).await {
            assert_eq!(result.unwrap().value, 7);
        }
        assert_eq!(cache.loads(), 1);
    }

    #[tokio::test]
    async fn serves_saved_data_when_monday_fails_and_refetches_after_invalidation() {
        let cache: Keyed<u32> = Keyed::new(Duration::from_secs(60), 10);
        cache.get("p", || async { Ok(1) }).await.unwrap();
        cache.invalidate("p").await;
        let saved = cache
            .get("p", || async { Err(MondayError::Timeout) })
            .await
            .unwrap();
        assert_eq!(saved.value, 1);
        assert!(saved.saved_at.is_some());
        assert!(
            cache
                .get("q", || async { Err(MondayError::Timeout) })
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_number_of_keys_is_bounded() {
        let cache: Keyed<u32> = Keyed::new(Duration::from_secs(60), 3);
        for key in ["a", "b", "c", "d", "e"] {
            cache.get(key, || async { Ok(1) }).await.unwrap();
        }
        assert_eq!(cache.keys().len(), 3);
    }

    #[test]
    fn refreshes_are_spaced_by_the_daily_cap_and_stop_near_it() {
        let ttl = Duration::from_secs(300);
        assert_eq!(refresh_after(ttl, 50, None, LIST_SHARE), Some(ttl));
        let standard = CallBudget::new(1000);
        // 50 lists, 15% of 1,000 calls a day: each may refresh 3 times a day.
        assert_eq!(
            refresh_after(ttl, 50, Some(&standard), LIST_SHARE),
            Some(Duration::from_secs(86_400 / 3))
        );
        let pro = CallBudget::new(10_000);
        assert_eq!(
            refresh_after(ttl, 2, Some(&pro), LIST_SHARE),
            Some(ttl),
            "a few keys on a large cap keep the configured time-to-live"
        );
        let (day, _, _) = standard.usage();
        standard.counted_elsewhere(&day, 8_000, None);
        assert_eq!(
            refresh_after(ttl, 50, Some(&standard), LIST_SHARE),
            None,
            "80% used"
        );
    }
}
