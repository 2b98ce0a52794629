//! What the portal instances sharing one PostgreSQL tell each other, so a client sees the same
//! portal whichever instance serves it: live events (a webhook reached instance A, the client's
//! socket is on B), the caches' new state after a webhook (B learns from A's payload and reads,
//! spending no monday call of its own), and finished deliveries (the request that waits for its
//! ticket to reach monday may be on another instance than the outbox worker that sent it).
//!
//! Messages are rows of `cluster_events`, announced with `NOTIFY`: PostgreSQL's notifications
//! are lost while a listener reconnects and cap their payload at 8,000 bytes, the rows are not,
//! so a notification only says "look", and every instance also looks every
//! [`POLL_EVERY`] on its own. Rows are kept for an hour (they are only ever read within
//! seconds). With SQLite there is one instance and nothing to tell: [`Cluster::send`] does
//! nothing.
//!
//! monday's webhooks, whichever instance receives them, are processed by one instance at a
//! time, the leader (whoever holds a PostgreSQL advisory lock): it alone reads from monday for
//! them, batching reads of new items as one instance does, so two instances spend no more
//! monday calls per change than one. The receiving instance queues the event in
//! `board_event_queue` and answers monday at once; a row leaves the queue once processed, so
//! when the leader dies another instance takes the lock within [`LEAD_RETRY`] and processes
//! what was left (at least once: an event the dead leader was half-way through is processed
//! again, which only repeats a cache update and a live event).
//!
//! Ordering: each instance sends its messages in order over one connection, so another
//! instance applies them in the order they were sent (a cache change before the live event that
//! makes browsers reload). Between instances rows are read in id order; a row whose transaction
//! commits after a higher id was read is still picked up, as long as it commits within
//! [`LATE_COMMIT`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, watch};

use super::db::{Db, now_unix};
use crate::model::{Delivery, LiveEvent, Ticket};

/// The PostgreSQL channel the instances listen on.
const CHANNEL: &str = "portal_cluster";
/// The channel announcing a queued webhook to the leader.
const QUEUE_CHANNEL: &str = "portal_board_events";
/// The advisory lock whose holder processes the board's webhooks (an arbitrary, fixed key).
const LEADER_LOCK: i64 = 0x626f_6172_645f_6576;
/// How often an instance that is not the leader tries to become it, and the leader checks
/// that it still is.
pub const LEAD_RETRY: Duration = Duration::from_secs(1);
/// How often an instance looks for messages without being told (a lost notification).
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// How long after a higher id a row may still commit and be read.
const LATE_COMMIT: Duration = Duration::from_secs(10);
/// How long rows are kept.
const KEEP_SECONDS: i64 = 3600;

/// One message between instances.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClusterMessage {
    /// A live event for the sockets of one portal.
    Live { portal_id: String, event: LiveEvent },
    /// A webhook changed an item: its new state, for other instances' caches, then the events
    /// it caused (published after the caches are right, so a browser that reloads on the event
    /// reads the new state).
    BoardChanged {
        item_id: String,
        /// The webhook's change, applied to cached updates without calling monday.
        change: serde_json::Value,
        /// Set for changes to the ticket's fields: the ticket as it now stands, or `None` when
        /// it is gone from every portal.
        ticket: Option<Option<Ticket>>,
        /// Team members' names the sender knows for this change.
        users: Vec<(String, String)>,
        events: Vec<(String, LiveEvent)>,
    },
    /// An outbox row was delivered (or failed for good): requests waiting for it may be on any
    /// instance.
    Delivered {
        outbox_id: String,
        delivery: Delivery,
    },
}

/// What an instance does with messages from the others.
#[async_trait::async_trait]
pub trait ClusterReceiver: Send + Sync {
    async fn receive(&self, message: ClusterMessage);
    /// Processes a queued board event (only ever called on the leader).
    async fn process_queued(&self, event: serde_json::Value);
}

/// This instance's side of the conversation. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    instance: String,
    outgoing: Option<mpsc::UnboundedSender<ClusterMessage>>,
    db: Db,
}

impl Cluster {
    /// Starts sending (PostgreSQL only); [`Cluster::listen`] starts receiving.
    pub fn new(db: Db, instance: String) -> Self {
        let outgoing = match &db {
            Db::Postgres(pool) => {
                let (sender, queue) = mpsc::unbounded_channel();
                tokio::spawn(send_all(pool.clone(), instance.clone(), queue));
                Some(sender)
            }
            Db::Sqlite(_) => None,
        };
        Self {
            instance,
            outgoing,
            db,
        }
    }

    /// Whether other instances may be listening.
    pub fn is_shared(&self) -> bool {
        self.outgoing.is_some()
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Tells every other instance; never waits, never fails (a message that cannot be written
    /// is logged: the others' caches then catch up at their time-to-live).
    pub fn send(&self, message: ClusterMessage) {
        if let Some(outgoing) = &self.outgoing {
            let _ = outgoing.send(message);
        }
    }

    /// Hands other instances' messages to `receiver` until shut down, and takes its turn as
    /// the leader that processes the board's webhooks.
    pub fn listen(&self, receiver: Arc<dyn ClusterReceiver>, shutdown: watch::Receiver<bool>) {
        if let Db::Postgres(pool) = &self.db {
            tokio::spawn(receive_all(
                pool.clone(),
                self.instance.clone(),
                receiver.clone(),
                shutdown.clone(),
            ));
            tokio::spawn(lead(pool.clone(), receiver, shutdown));
        }
    }

    /// Queues a webhook's event for the leader (PostgreSQL only: returns it otherwise).
    pub async fn queue_board_event(&self, event: serde_json::Value) -> Result<(), QueueError> {
        let Db::Postgres(pool) = &self.db else {
            return Err(QueueError::NotShared);
        };
        sqlx::query(
            "WITH queued AS (
                 INSERT INTO board_event_queue (payload, received_at) VALUES ($1, $2)
                 RETURNING id)
             SELECT pg_notify($3, (SELECT id FROM queued)::text)",
        )
        .bind(event.to_string())
        .bind(now_unix())
        .bind(QUEUE_CHANNEL)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(QueueError::Database)
    }

    /// Removes rows older than an hour. Returns how many.
    pub async fn prune(&self) -> Result<u64, sqlx::Error> {
        match &self.db {
            Db::Postgres(pool) => sqlx::query("DELETE FROM cluster_events WHERE created_at < $1")
                .bind(now_unix() - KEEP_SECONDS)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
            Db::Sqlite(_) => Ok(0),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("there is one instance: nothing to queue for")]
    NotShared,
    #[error("the queue could not be written: {0}")]
    Database(sqlx::Error),
}

/// Waits to become the leader, then processes queued board events (each in a task of its own,
/// as one instance processes webhooks) until it loses the lock or shuts down.
async fn lead(
    pool: PgPool,
    receiver: Arc<dyn ClusterReceiver>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Some(lock) = take_the_lead(&pool).await {
            tracing::info!("this instance now processes the board's webhooks");
            let outcome = process_queue(&pool, lock, receiver.clone(), &mut shutdown).await;
            if let Err(error) = outcome {
                tracing::warn!(%error, "cluster: no longer the leader; trying again");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(LEAD_RETRY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// A connection of its own holding the leader's lock, when this instance got it.
async fn take_the_lead(pool: &PgPool) -> Option<sqlx::PgConnection> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect_with(&pool.connect_options())
        .await
        .ok()?;
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(LEADER_LOCK)
        .fetch_one(&mut connection)
        .await
        .ok()?;
    if held {
        Some(connection)
    } else {
        let _ = connection.close().await;
        None
    }
}

async fn process_queue(
    pool: &PgPool,
    mut lock: sqlx::PgConnection,
    receiver: Arc<dyn ClusterReceiver>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(QUEUE_CHANNEL).await?;
    let (done, mut finished) = mpsc::unbounded_channel::<i64>();
    let mut running: Vec<i64> = Vec::new();
    let mut checked = Instant::now();
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, payload FROM board_event_queue WHERE NOT (id = ANY($1))
             ORDER BY id LIMIT 500",
        )
        .bind(&running)
        .fetch_all(pool)
        .await?;
        for (id, payload) in rows {
            running.push(id);
            let (receiver, done) = (receiver.clone(), done.clone());
            tokio::spawn(async move {
                match serde_json::from_str(&payload) {
                    Ok(event) => receiver.process_queued(event).await,
                    Err(error) => {
                        tracing::warn!(%error, id, "cluster: a queued event was not understood")
                    }
                }
                let _ = done.send(id);
            });
        }
        tokio::select! {
            notified = listener.recv() => { notified?; }
            Some(id) = finished.recv() => {
                let mut ids = vec![id];
                while let Ok(more) = finished.try_recv() {
                    ids.push(more);
                }
                sqlx::query("DELETE FROM board_event_queue WHERE id = ANY($1)")
                    .bind(&ids)
                    .execute(pool)
                    .await?;
                running.retain(|id| !ids.contains(id));
            }
            () = tokio::time::sleep(POLL_EVERY) => {}
            _ = shutdown.changed() => return Ok(()),
        }
        // The lock lives as long as its connection: make sure it still does.
        if checked.elapsed() >= LEAD_RETRY {
            sqlx::query("SELECT 1").execute(&mut lock).await?;
            checked = Instant::now();
        }
    }
}

/// Writes each message as a row and announces it, in order.
async fn send_all(
    pool: PgPool,
    instance: String,
    mut queue: mpsc::UnboundedReceiver<ClusterMessage>,
) {
    while let Some(message) = queue.recv().await {
        let payload = match serde_json::to_string(&message) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(%error, "cluster: a message could not be written");
                continue;
            }
        };
        // One statement: the row and its notification commit together.
        let written = sqlx::query(
            "WITH written AS (
                 INSERT INTO cluster_events (origin, payload, created_at) VALUES ($1, $2, $3)
                 RETURNING id)
             SELECT pg_notify($4, (SELECT id FROM written)::text)",
        )
        .bind(&instance)
        .bind(&payload)
        .bind(now_unix())
        .bind(CHANNEL)
        .execute(&pool)
        .await;
        if let Err(error) = written {
            tracing::warn!(%error, "cluster: could not tell the other instances");
        }
    }
}

/// Reads new rows whenever told (or every [`POLL_EVERY`]) and hands the others' messages on.
async fn receive_all(
    pool: PgPool,
    instance: String,
    receiver: Arc<dyn ClusterReceiver>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener = loop {
        match listen(&pool).await {
            Ok(listener) => break listener,
            Err(error) => {
                tracing::warn!(%error, "cluster: cannot listen yet; retrying");
                tokio::select! {
                    () = tokio::time::sleep(POLL_EVERY) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    };
    // Only what is sent from now on matters: earlier rows are already in the caches that
    // loaded since (or are events for sockets that no longer exist).
    let start: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM cluster_events")
        .fetch_one(&pool)
        .await
        .unwrap_or(None);
    let mut reader = Reader::new(start.unwrap_or(0));
    loop {
        reader.read(&pool, &instance, receiver.as_ref()).await;
        tokio::select! {
            notified = listener.recv() => {
                if let Err(error) = notified {
                    tracing::warn!(%error, "cluster: listening failed; polling until it reconnects");
                    tokio::time::sleep(POLL_EVERY).await;
                }
            }
            () = tokio::time::sleep(POLL_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Keep waiting through a pool shutdown: the shutdown signal ends the loop instead.
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Which rows this instance has handled: everything up to `floor`, and the ids above it in
/// `seen` (kept for [`LATE_COMMIT`], so a row committed late, under a lower id, is not missed).
struct Reader {
    floor: i64,
    seen: BTreeMap<i64, Instant>,
}

impl Reader {
    fn new(floor: i64) -> Self {
        Self {
            floor,
            seen: BTreeMap::new(),
        }
    }

    async fn read(&mut self, pool: &PgPool, instance: &str, receiver: &dyn ClusterReceiver) {
        let seen: Vec<i64> = self.seen.keys().copied().collect();
        let rows: Vec<(i64, String)> = match sqlx::query_as(
            "SELECT id, payload FROM cluster_events
             WHERE id > $1 AND origin <> $2 AND NOT (id = ANY($3))
             ORDER BY id",
        )
        .bind(self.floor)
        .bind(instance)
        .bind(&seen)
        .fetch_all(pool)
        .await
        {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "cluster: could not read messages");
                return;
            }
        };
        let now = Instant::now();
        for (id, payload) in rows {
            self.seen.insert(id, now);
            match serde_json::from_str::<ClusterMessage>(&payload) {
                Ok(message) => receiver.receive(message).await,
                Err(error) => tracing::warn!(%error, id, "cluster: a message was not understood"),
            }
        }
        self.advance(now);
    }

    /// Moves the floor past ids seen long enough ago that nothing below them can still commit.
    fn advance(&mut self, now: Instant) {
        while let Some((&id, &at)) = self.seen.first_key_value() {
            if now.duration_since(at) < LATE_COMMIT {
                break;
            }
            self.floor = self.floor.max(id);
            self.seen.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_moves_only_past_ids_seen_long_ago() {
        let mut reader = Reader::new(5);
        let then = Instant::now();
        reader.seen.insert(7, then);
        reader.seen.insert(9, then + LATE_COMMIT);
        reader.advance(then + LATE_COMMIT);
        assert_eq!(reader.floor, 7, "7 was seen long enough ago");
        assert!(
            reader.seen.contains_key(&9),
            "9 is kept: a lower id may still commit"
        );
        reader.advance(then + LATE_COMMIT * 2);
        assert_eq!(reader.floor, 9);
        assert!(reader.seen.is_empty());
    }

    #[test]
    fn messages_survive_the_round_trip_through_a_row() {
        let message = ClusterMessage::Live {
            portal_id: "acme".into(),
            event: LiveEvent::Heartbeat,
        };
        let row = serde_json::to_string(&message).unwrap();
        assert!(matches!(
            serde_json::from_str::<ClusterMessage>(&row).unwrap(),
            ClusterMessage::Live { portal_id, event: LiveEvent::Heartbeat } if portal_id == "acme"
        ));
    }
}
