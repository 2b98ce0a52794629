//! Who may act, answered from memory: sessions, memberships and portals are read on every
//! signed-in request, so each instance keeps the ones it has read, and drops them all the
//! moment any of them may have changed.
//!
//! "May have changed" is a generation number. It moves when this instance changes a member,
//! a portal or a session (at once, before the change returns), and when the database's
//! `directory` counter moves: triggers move that counter on every change that can take access
//! away or change what a page shows, whoever makes it (another instance, the CLI, a
//! hand-written `DELETE`), and each instance reads it every [`WATCH_EVERY`]. An entry is only
//! served while the generation it was read in is current, and the generation is taken *before*
//! the database is read, so an entry read across a change is never served.
//!
//! So a member removed here is signed out on their very next request, and one removed anywhere
//! else within [`WATCH_EVERY`]; their open sockets re-check on the same signal. Only positive
//! answers are kept ("is a member", "the portal exists"): a refusal always asks the database,
//! so a member invited a moment ago signs in at once.
//!
//! A second generation, moved by the `tickets` counter (triggers on `outbox` and
//! `ticket_events`), governs what pages read of the portal's own bookkeeping: tickets and
//! replies on their way to monday and the status history (`server::tickets`). That one is kept
//! only with SQLite, where this instance is the only writer and moves it before every write
//! returns; instances sharing PostgreSQL ask the database, since a client's next request may
//! reach another instance a moment after the first wrote.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tower_sessions::session::{Id, Record};

use crate::model::PortalBrand;
use crate::server::db::Db;

/// How often an instance reads the database's change counter: the longest another instance's
/// (or the CLI's) change can go unseen here.
pub const WATCH_EVERY: Duration = Duration::from_millis(200);
/// Entries per cache before the stale ones are dropped (and, if none are, all of them).
const MAX_ENTRIES: usize = 20_000;

/// A member's row as memory keeps it (the auth service reads and writes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub display_name: Option<String>,
    pub role: crate::model::Role,
    /// The member's chosen language and time zone (`None`: not chosen).
    pub locale: Option<crate::i18n::Locale>,
    pub time_zone: Option<String>,
    /// The language the agency set for the member's portal.
    pub portal_language: Option<crate::i18n::Locale>,
}

/// The generations and the caches they govern. One per process, shared by the session store,
/// the auth service and the ticket service.
pub struct Memory {
    db: Db,
    generation: AtomicU64,
    changed: watch::Sender<u64>,
    tickets_generation: AtomicU64,
    /// `(portal, email)` -> display name and role, for current members only.
    pub(crate) members: Memo<(String, String), Membership>,
    /// portal -> its people, for the ticket page's "Add a colleague".
    pub(crate) colleagues: Memo<String, std::sync::Arc<Vec<crate::model::Colleague>>>,
    /// `(portal, ticket)` -> who follows it.
    pub(crate) followers: Memo<(String, String), std::sync::Arc<Vec<crate::model::Colleague>>>,
    /// `(portal, email)` -> the tickets the member follows.
    pub(crate) following: Memo<(String, String), std::sync::Arc<std::collections::HashSet<String>>>,
    pub(crate) portals: Memo<String, PortalBrand>,
    /// email -> every portal it is a member of, for the header's portal switcher.
    pub(crate) portals_of: Memo<String, std::sync::Arc<Vec<PortalBrand>>>,
    pub(crate) sessions: Memo<Id, Record>,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Memory {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            generation: AtomicU64::new(0),
            changed: watch::Sender::new(0),
            tickets_generation: AtomicU64::new(0),
            members: Memo::default(),
            following: Memo::default(),
            colleagues: Memo::default(),
            followers: Memo::default(),
            portals: Memo::default(),
            portals_of: Memo::default(),
            sessions: Memo::default(),
        }
    }

    /// The current generation: take it before reading the database, store with it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Something this process knows of changed: every cached entry is out of date from now.
    pub fn changed_here(&self) {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.changed.send_replace(generation);
    }

    /// The generation of the portal's own ticket bookkeeping (outbox, status history).
    pub fn tickets_generation(&self) -> u64 {
        self.tickets_generation.load(Ordering::Acquire)
    }

    /// This process wrote to the outbox or the status history.
    pub fn tickets_changed_here(&self) {
        self.tickets_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether ticket bookkeeping may be kept in memory: only when this is the one instance.
    pub fn keeps_tickets(&self) -> bool {
        matches!(self.db, Db::Sqlite(_))
    }

    /// Fires whenever the generation moves (live sockets re-check their member on it).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The database's counters: `(directory, tickets)`.
    async fn counters(&self) -> Result<(i64, i64), sqlx::Error> {
        let rows: Vec<(String, i64)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT name, version FROM change_counters",
        )
        .fetch_all(pool)
        .await)?;
        let of = |name: &str| rows.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v);
        Ok((of("directory"), of("tickets")))
    }

    /// Reads the database's counters every [`WATCH_EVERY`] until shut down, moving each
    /// generation when its counter moved. A failed read moves both: without the counters,
    /// memory cannot know it is still right.
    pub fn spawn_watch(self: &std::sync::Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let memory = self.clone();
        tokio::spawn(async move {
            let mut seen = memory.counters().await.ok();
            let mut every = tokio::time::interval(WATCH_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = shutdown.changed() => return,
                }
                let now = memory.counters().await;
                if let Err(error) = &now {
                    tracing::warn!(%error, "could not read the change counters");
                }
                let now = now.ok();
                let (before, after) = (seen.unzip(), now.unzip());
                if now.is_none() || before.0 != after.0 {
                    memory.changed_here();
                }
                if now.is_none() || before.1 != after.1 {
                    memory.tickets_changed_here();
                }
                seen = now;
            }
        });
    }
}

/// A map whose entries count only in the generation they were stored in. A memo of values that
/// never go stale (a pure function's results) uses one generation, [`TIMELESS`].
///
/// Reads share the lock: a page reads a memo many times (a dashboard, once per row) from every
/// worker thread at once, and writes are rare.
pub struct Memo<K, V> {
    entries: RwLock<HashMap<K, (u64, V)>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    // A panic while holding the lock cannot leave the map half-written (every write is one
    // insert or remove), so a poisoned lock is still a good map.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<K, (u64, V)>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<K, (u64, V)>> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value stored for `key` in `generation`, if any.
    pub fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match self.read().get(key) {
            Some((stored, value)) if *stored == generation => Some(value.clone()),
            _ => None,
        }
    }

    /// Stores `value` as read in `generation` (taken before the read).
    pub fn put(&self, key: K, value: V, generation: u64) {
        let mut entries = self.write();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (stored, _)| *stored == generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (generation, value));
    }

    /// How many entries are kept, of any generation.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value for `key` in the current generation, or what `read` reads (kept under the
    /// generation taken before reading, so a change during the read is never kept as current).
    pub async fn get_or_read<E>(
        &self,
        key: K,
        generation: u64,
        read: impl std::future::Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        if let Some(value) = self.get(&key, generation) {
            return Ok(value);
        }
        let value = read.await?;
        self.put(key, value.clone(), generation);
        Ok(value)
    }

    /// The value for `key` in `generation`, made by `make` (and kept) when there is none.
    pub fn get_or_make<Q>(&self, key: &Q, generation: u64, make: impl FnOnce() -> V) -> V
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(value) = self.get(key, generation) {
            return value;
        }
        let value = make();
        self.put(key.to_owned(), value.clone(), generation);
        value
    }
}

/// The one generation of a memo whose values never go stale.
pub const TIMELESS: u64 = 0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_counts_only_in_its_generation() {
        let memo: Memo<&str, u32> = Memo::default();
        memo.put("a", 1, 3);
        assert_eq!(memo.get(&"a", 3), Some(1));
        assert_eq!(memo.get(&"a", 4), None, "a newer generation never sees it");
        memo.put("a", 2, 4);
        assert_eq!(memo.get(&"a", 4), Some(2));
        assert_eq!(memo.get_or_make(&"b", 4, || 3), 3);
        assert_eq!(memo.get_or_make(&"b", 4, || 9), 3, "made once");
    }

    #[test]
    fn a_full_memo_drops_stale_entries_first() {
        let memo: Memo<usize, usize> = Memo::default();
        for n in 0..MAX_ENTRIES {
            memo.put(n, n, 1);
        }
        memo.put(MAX_ENTRIES, 0, 2);
        assert_eq!(memo.len(), 1, "every generation-1 entry was stale");
        assert_eq!(memo.get(&MAX_ENTRIES, 2), Some(0));
    }
}
