//! The outbox: what clients wrote, sent to monday row by row with the row id as the
//! `Idempotency-Key`, retried with back-off while monday is down or limiting (also after a
//! restart), and announced to the author's browsers once delivered or refused for good.
//!
//! monday replays an `Idempotency-Key`'s answer for 30 minutes only, and an outage can last
//! longer. So when an attempt may have reached monday without the portal learning the outcome
//! (a lost answer, a timeout, a partial answer), the row is marked *uncertain* and the next
//! attempt first looks on the board: a ticket by the reference written into its description, a
//! message by its text among the item's updates not claimed by another row. Only what is not
//! there is sent again. A ticket whose description is longer than monday's long-text column
//! holds is delivered in two steps, each recorded: the item (the description's start), then the
//! item's first update with the whole text.

use std::sync::Arc;
use std::time::{Duration, Instant};

use monday::MondayError;
use tokio::sync::oneshot;

use super::attachments;
use super::conversation;
use super::resolution::ClientAction;
use super::{Bind, OUTBOX_COLUMNS, OutboxRow, PENDING_PREFIX, TicketService};
use crate::model::{Delivery, LiveEvent, NewTicket, Priority, Ticket};
use crate::server::board::{
    description_column, description_update_body, read_description, reference_for,
};
use crate::server::cluster::ClusterMessage;
use crate::server::db::Backend;
use crate::server::db::now_unix;
use crate::server::notify::{Change, Notice};

/// Mixed into a row's key for its second write (the description's update, or a reply moved to
/// the item), so each write has a key of its own that is the same on every attempt.
const DESCRIPTION_KEY: u128 = 0x6465_7363_7269_7074_696f_6e00_0000_0001;

/// How often delivered files' copies past their grace period are looked for.
const FILE_REMOVAL_INTERVAL: Duration = Duration::from_secs(300);

/// Waits between outbox attempts: 1 s, 2 s, 4 s ... capped at five minutes.
fn outbox_backoff(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 8) as u32).min(Duration::from_secs(300))
}

impl TicketService {
    /// Waits up to `timeout` for an outbox row to reach monday (or fail for good).
    pub async fn wait_for_delivery(&self, outbox_id: &str, timeout: Duration) -> Option<Delivery> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.entry(outbox_id.to_owned()).or_default().push(tx);
        }
        // It may have been delivered before we started waiting.
        let settled = match self.outbox_rows("id = $1", &[Bind::Text(outbox_id)]).await {
            Ok(rows) => rows
                .first()
                .filter(|row| row.state != "waiting")
                .map(OutboxRow::delivery),
            Err(_) => None,
        };
        let outcome = match settled {
            Some(delivery) => {
                drop(rx);
                Some(delivery)
            }
            None => tokio::time::timeout(timeout, rx)
                .await
                .ok()
                .and_then(Result::ok),
        };
        self.forget_waiter(outbox_id);
        outcome
    }

    /// Drops waiters whose caller has stopped waiting (answered early or timed out), so a
    /// delivery that never comes leaves no entry behind.
    fn forget_waiter(&self, outbox_id: &str) {
        if let Ok(mut waiters) = self.waiters.lock()
            && let Some(senders) = waiters.get_mut(outbox_id)
        {
            senders.retain(|sender| !sender.is_closed());
            if senders.is_empty() {
                waiters.remove(outbox_id);
            }
        }
    }

    /// How many deliveries have callers waiting for them (for tests and metrics).
    pub fn waiting_callers(&self) -> usize {
        self.waiters.lock().map(|w| w.len()).unwrap_or(0)
    }

    /// The monday item a delivered outbox ticket became.
    pub async fn delivered_item(&self, outbox_id: &str) -> Option<String> {
        let rows = self
            .outbox_rows("id = $1", &[Bind::Text(outbox_id)])
            .await
            .ok()?;
        rows.into_iter().next().and_then(|r| r.monday_id)
    }

    pub fn spawn_outbox(self: &Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let service = self.clone();
        tokio::spawn(async move { service.run_outbox(shutdown).await });
    }

    async fn run_outbox(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        attachments::Spool::clear_leftovers(&self.attachments.spool_dir).await;
        let mut removed_files_at: Option<Instant> = None;
        loop {
            if *shutdown.borrow() {
                return;
            }
            // Copies of files monday has had long enough go, every few minutes.
            if removed_files_at.is_none_or(|at| at.elapsed() > FILE_REMOVAL_INTERVAL) {
                removed_files_at = Some(Instant::now());
                if let Err(error) = self
                    .remove_delivered_files(self.attachments.keep_after_delivery)
                    .await
                {
                    tracing::error!(%error, "attachments: could not remove delivered copies");
                }
            }
            let wait = match self.deliver_due().await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::error!(%error, "outbox: database error");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims up to 64 rows that are due and not leased by anyone, for this instance, until
    /// the lease runs out. On PostgreSQL the rows are locked while claimed (`SKIP LOCKED`), so
    /// two instances claiming at once get different rows; SQLite runs one writer at a time.
    async fn claim_due(&self, now: i64) -> Result<Vec<OutboxRow>, sqlx::Error> {
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, lease_until = $2
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE state = 'waiting' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until < $3)
                 ORDER BY seq LIMIT 64 {lock})
             RETURNING seq, {OUTBOX_COLUMNS}"
        );
        let mut rows: Vec<(i64, OutboxRow)> = crate::on_db!(&self.db, pool => {
            sqlx::query_as::<_, ClaimedRow>(&sql)
                .bind(self.instance())
                .bind(now + self.lease.as_secs() as i64)
                .bind(now)
                .fetch_all(pool)
                .await
        })?
        .into_iter()
        .map(|claimed| (claimed.seq, claimed.row))
        .collect();
        rows.sort_by_key(|(seq, _)| *seq);
        Ok(rows.into_iter().map(|(_, row)| row).collect())
    }

    /// Extends this instance's lease on outbox row `id` before a step that may take long (a
    /// file's upload, or a row that waited behind others of its claim). False when the row is
    /// no longer this instance's to deliver: its lease ran out and another instance claimed it,
    /// or it was delivered meanwhile. The caller then leaves it alone, so the two never send
    /// the same thing side by side.
    pub(super) async fn hold(&self, id: &str) -> bool {
        let held = crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE outbox SET lease_until = $1
             WHERE id = $2 AND claimed_by = $3 AND state = 'waiting'",
        )
        .bind(now_unix() + self.lease.as_secs() as i64)
        .bind(id)
        .bind(self.instance())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        match held {
            Ok(1) => true,
            Ok(_) => {
                tracing::warn!(%id, "outbox: the lease on a row ran out and another instance has it; leaving it");
                false
            }
            Err(error) => {
                tracing::error!(%error, %id, "outbox: could not extend a lease; leaving the row for later");
                false
            }
        }
    }

    /// Gives back rows this instance claimed but did not try (monday started failing).
    async fn release(&self, rows: &[OutboxRow]) {
        for row in rows {
            let _ = crate::on_db!(&self.db, pool => sqlx::query(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL
                 WHERE id = $1 AND claimed_by = $2",
            )
            .bind(&row.id)
            .bind(self.instance())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        }
    }

    /// How long until some waiting row can be claimed: its next attempt, or the end of another
    /// instance's lease on it.
    async fn next_claimable(&self, now: i64) -> Result<Duration, sqlx::Error> {
        let waiting: Vec<(i64, Option<i64>)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT next_attempt_at, lease_until FROM outbox WHERE state = 'waiting'
             ORDER BY next_attempt_at LIMIT 64",
        )
        .fetch_all(pool)
        .await)?;
        let soonest = waiting
            .iter()
            .map(|(next, lease)| (*next).max(lease.unwrap_or(0)))
            .min();
        Ok(soonest.map_or(Duration::from_secs(30), |at| {
            Duration::from_secs((at - now).clamp(1, 30) as u64)
        }))
    }

    /// Sends what is due; returns how long to sleep before looking again.
    async fn deliver_due(&self) -> Result<Duration, sqlx::Error> {
        if let Some(until) = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner())
            && until > Instant::now()
        {
            return Ok(until - Instant::now());
        }
        let now = now_unix();
        let due = self.claim_due(now).await?;
        if due.is_empty() {
            return self.next_claimable(now).await;
        }
        // A few at a time: fast when monday is healthy, and one failure stops the batch.
        for (n, chunk) in due.chunks(8).enumerate() {
            let results =
                futures::future::join_all(chunk.iter().map(|row| self.deliver(row))).await;
            if let Some(wait) = results.into_iter().flatten().max() {
                *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Instant::now() + wait);
                self.release(due.get((n + 1) * 8..).unwrap_or_default())
                    .await;
                return Ok(wait);
            }
        }
        Ok(Duration::ZERO)
    }

    /// Sends one row; returns a pause when monday is failing for everyone.
    async fn deliver(&self, row: &OutboxRow) -> Option<Duration> {
        // A claim holds 64 rows sent eight at a time, and a batch of large files can outlast
        // the lease: each row is held again as its turn comes.
        if !self.hold(&row.id).await {
            return None;
        }
        let key = uuid::Uuid::parse_str(&row.id).unwrap_or_else(|_| uuid::Uuid::new_v4());
        let outcome = match row.kind.as_str() {
            "ticket" => self.deliver_ticket(row, key).await.map(Delivered::Ticket),
            _ => self
                .deliver_reply(row, key)
                .await
                .map(|(item_id, update_id)| Delivered::Reply(item_id, update_id)),
        };
        match outcome {
            Ok(delivered) => {
                if let Err(error) = self.mark_delivered(row, delivered).await {
                    tracing::error!(%error, id = %row.id, "outbox: could not record a delivery");
                }
                None
            }
            Err(error) if error.is_transient() => {
                let wait = error
                    .retry_in()
                    .unwrap_or_else(|| outbox_backoff(row.attempts));
                let message = match &error {
                    MondayError::DailyLimit { .. } => {
                        "monday's daily call limit is reached; sending when it resets"
                    }
                    MondayError::RateLimited { .. } => {
                        "monday is limiting requests; retrying automatically"
                    }
                    _ => "monday is not answering; retrying automatically",
                };
                // Once uncertain, a row stays so until a step succeeds: a later failure that
                // never reached monday does not make the earlier one certain.
                let uncertain = row.uncertain != 0 || error.may_have_been_done();
                let _ = crate::on_db!(&self.db, pool => sqlx::query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
                                       uncertain = $3, claimed_by = NULL, lease_until = NULL
                     WHERE id = $4 AND claimed_by = $5",
                )
                .bind(message)
                .bind(now_unix() + wait.as_secs().max(1) as i64)
                .bind(i64::from(uncertain))
                .bind(&row.id)
                .bind(self.instance())
                .execute(pool)
                .await
                .map(|done| done.rows_affected()));
                self.wrote_bookkeeping();
                tracing::warn!(%error, id = %row.id, uncertain, wait_s = wait.as_secs(), "outbox: monday failed; will retry");
                Some(wait)
            }
            Err(error) => {
                let reason = match &error {
                    MondayError::Api { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                tracing::error!(%error, id = %row.id, "outbox: monday refused this for good");
                let _ = crate::on_db!(&self.db, pool => sqlx::query(
                    "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $1,
                                       claimed_by = NULL, lease_until = NULL
                     WHERE id = $2",
                )
                .bind(&reason)
                .bind(&row.id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()));
                self.wrote_bookkeeping();
                self.notify_refused(row, &reason).await;
                let delivery = Delivery::Failed { reason };
                self.announce_delivery(row, None, delivery);
                None
            }
        }
    }

    /// A ticket: the item (found by its reference when an earlier attempt may have made it),
    /// then, for a description longer than the column holds, the update with all of it.
    async fn deliver_ticket(
        &self,
        row: &OutboxRow,
        key: uuid::Uuid,
    ) -> Result<Ticket, MondayError> {
        let reference = reference_for(&row.id);
        let new = NewTicket {
            title: row.title.clone().unwrap_or_default(),
            description: row.description.clone().unwrap_or_default(),
            priority: row
                .priority
                .as_deref()
                .and_then(Priority::parse)
                .unwrap_or(Priority::Medium),
        };
        let ticket = match &row.monday_id {
            // The item exists from an earlier attempt; only the description's update is left.
            Some(item_id) => Ticket {
                id: item_id.clone(),
                ..row.pending_ticket()
            },
            None => {
                let found = if row.uncertain != 0 {
                    self.board
                        .find_by_reference(&row.portal_id, &reference)
                        .await?
                } else {
                    None
                };
                let ticket = match found {
                    Some(ticket) => {
                        tracing::info!(id = %row.id, item = %ticket.id, "outbox: the ticket is already on the board; not creating it again");
                        ticket
                    }
                    None => {
                        self.board
                            .create_ticket(&row.portal_id, &row.author_email, &new, &reference, key)
                            .await?
                    }
                };
                self.record_step(
                    "UPDATE outbox SET monday_id = $1, item_id = $2, uncertain = 0 WHERE id = $3",
                    &[&ticket.id, &ticket.id, &row.id],
                )
                .await?;
                ticket
            }
        };
        let cut = read_description(&description_column(&new.description, &reference)).cut;
        // A ticket's files go on the update that holds its description, so one with files
        // gets that update even when the column holds all of the text.
        let files = self.message_files(row).await?;
        let mut description_update = row.description_update_id.clone();
        if (cut || files.any_waiting()) && description_update.is_none() {
            let step_uncertain = row.uncertain != 0 && row.monday_id.is_some();
            let found = if step_uncertain {
                self.board
                    .find_updates(&ticket.id, &[&reference])
                    .await?
                    .into_iter()
                    .next()
            } else {
                None
            };
            let update_id = match found {
                Some(id) => id,
                None => {
                    // A key of its own, derived from the row's, so a resend is replayed too.
                    let key = uuid::Uuid::from_u128(key.as_u128() ^ DESCRIPTION_KEY);
                    self.board
                        .add_update(
                            &ticket.id,
                            &description_update_body(&new.description, &reference),
                            key,
                        )
                        .await?
                        .id
                }
            };
            self.record_step(
                "UPDATE outbox SET description_update_id = $1, uncertain = 0 WHERE id = $2",
                &[&update_id, &row.id],
            )
            .await?;
            description_update = Some(update_id);
        }
        if let (true, Some(update_id)) = (files.any_waiting(), &description_update) {
            self.deliver_files(&files, &ticket.id, update_id).await?;
        }
        Ok(Ticket {
            // The client's whole text, not the column's start.
            description: new.description,
            ..ticket
        })
    }

    /// Writes a step's result. If the database fails here the row stays as it was, and the
    /// next attempt goes through the step again: it must be told to look first, so the error
    /// is one that marks the row uncertain.
    async fn record_step(&self, sql: &str, binds: &[&str]) -> Result<(), MondayError> {
        let done = crate::on_db!(&self.db, pool => {
            let mut query = sqlx::query(sql);
            for value in binds {
                query = query.bind(*value);
            }
            query.execute(pool).await.map(|done| done.rows_affected())
        });
        self.wrote_bookkeeping();
        done.map(|_| ()).map_err(|error| {
            tracing::error!(%error, "outbox: could not record a step");
            MondayError::Interrupted("the outbox could not record a step".into())
        })
    }

    /// A message: posted in its thread when it answers a team message, on the item otherwise;
    /// first looked for on the item when an earlier attempt may have posted it.
    async fn deliver_reply(
        &self,
        row: &OutboxRow,
        key: uuid::Uuid,
    ) -> Result<(String, String), MondayError> {
        let body = conversation::monday_body(
            row.author_name.as_deref(),
            &row.author_email,
            row.body.as_deref().unwrap_or_default(),
        );
        let item_id = row.item_id.clone().unwrap_or_default();
        let files = self.message_files(row).await?;
        // The message is on the board from an earlier attempt: only its files are left.
        if let Some(update_id) = &row.monday_id {
            if files.any_waiting() {
                self.deliver_files(&files, &item_id, update_id).await?;
            }
            return Ok((item_id, update_id.clone()));
        }
        if row.uncertain != 0 {
            let text = row.body.as_deref().unwrap_or_default();
            let first_line = text.lines().next().unwrap_or_default();
            let candidates = self
                .board
                .find_updates(&item_id, &[first_line, &row.author_email])
                .await?;
            for candidate in candidates {
                // The id, not `SELECT 1`: PostgreSQL answers that as INT4, which an i64 does not
                // decode; and a failed read is not "not claimed" (it would take another
                // message's update for this one): the attempt ends and looks again next time.
                let claimed = crate::on_db!(&self.db, pool => sqlx::query_as::<_, (String,)>(
                    "SELECT id FROM outbox WHERE monday_id = $1 AND id <> $2",
                )
                    .bind(&candidate)
                    .bind(&row.id)
                    .fetch_optional(pool)
                    .await)
                .map_err(|error| {
                    tracing::error!(%error, "outbox: could not tell whose an update is");
                    MondayError::Interrupted("the outbox could not read its records".into())
                })?
                .is_some();
                if !claimed {
                    tracing::info!(id = %row.id, update = %candidate, "outbox: the message is already on the board; not posting it again");
                    self.files_onto_message(row, &files, &item_id, &candidate)
                        .await?;
                    return Ok((item_id, candidate));
                }
            }
        }
        // The column change first: repeating it on a retry changes nothing, and the message
        // that says it is then posted once, as every message is.
        if let Some(action) =
            ClientAction::parse(row.action.as_deref(), row.action_value.as_deref())
        {
            // The rating goes before the board hears of the reopen, so the board's webhook
            // finds none left to clear.
            if action == ClientAction::Reopen {
                self.forget_rating(&row.portal_id, &item_id).await;
            }
            self.apply_action(&item_id, action).await?;
        }
        let posted = match &row.parent_update_id {
            Some(parent) => match self.board.add_reply(&item_id, parent, &body, key).await {
                // The thread is gone (the team deleted the message): the words are not lost,
                // they go on the item instead.
                Err(MondayError::Api { code, .. }) => {
                    tracing::warn!(%code, id = %row.id, "outbox: the thread is gone; posting on the item");
                    let key = uuid::Uuid::from_u128(key.as_u128() ^ DESCRIPTION_KEY);
                    self.board.add_update(&item_id, &body, key).await?
                }
                other => other?,
            },
            None => self.board.add_update(&item_id, &body, key).await?,
        };
        self.files_onto_message(row, &files, &item_id, &posted.id)
            .await?;
        Ok((item_id, posted.id))
    }

    /// Sends a message's waiting files to its update `update_id`, which is recorded first, so
    /// a retry sends only the files that are missing and never the message again.
    async fn files_onto_message(
        &self,
        row: &OutboxRow,
        files: &attachments::MessageFiles,
        item_id: &str,
        update_id: &str,
    ) -> Result<(), MondayError> {
        if !files.any_waiting() {
            return Ok(());
        }
        self.record_step(
            "UPDATE outbox SET monday_id = $1, uncertain = 0 WHERE id = $2",
            &[update_id, &row.id],
        )
        .await?;
        self.deliver_files(files, item_id, update_id).await
    }

    /// The columns a client's action changes: the status for "solved" and "reopen", the rating
    /// for a rating (a reopen clears it).
    async fn apply_action(&self, item_id: &str, action: ClientAction) -> Result<(), MondayError> {
        let mapping = self.board.mapping();
        let columns = &mapping.columns;
        let mut values = serde_json::Map::new();
        if let Some(status) = action.status() {
            values.insert(
                columns.status.clone(),
                serde_json::json!({ "label": mapping.status_label(status) }),
            );
        }
        let rating = match action {
            ClientAction::Rate(rating) => {
                Some(serde_json::json!({ "label": mapping.rating_label(rating) }))
            }
            // monday clears a column given `null`.
            ClientAction::Reopen => Some(serde_json::Value::Null),
            ClientAction::Resolve => None,
        };
        let with_rating = rating.is_some();
        if let Some(rating) = rating {
            values.insert(columns.rating.clone(), rating);
        }
        match self
            .board
            .change_columns(item_id, serde_json::Value::Object(values.clone()))
            .await
        {
            Ok(_) => Ok(()),
            // A board set up before ratings existed has no rating column: the status still
            // changes and the message still says the rating (`doctor` names the column).
            Err(MondayError::Api { code, .. }) if with_rating => {
                tracing::warn!(%code, item = %item_id, "outbox: the rating column could not be written; delivering without it");
                values.remove(&columns.rating);
                if values.is_empty() {
                    return Ok(());
                }
                self.board
                    .change_columns(item_id, serde_json::Value::Object(values))
                    .await
                    .map(|_| ())
            }
            Err(other) => Err(other),
        }
    }

    async fn mark_delivered(
        &self,
        row: &OutboxRow,
        delivered: Delivered,
    ) -> Result<(), sqlx::Error> {
        let (monday_id, item_id) = match &delivered {
            Delivered::Ticket(ticket) => (ticket.id.clone(), ticket.id.clone()),
            Delivered::Reply(item_id, update_id) => (update_id.clone(), item_id.clone()),
        };
        crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE outbox SET state = 'delivered', monday_id = $1, item_id = $2,
                               attempts = attempts + 1, last_error = NULL, delivered_at = $3,
                               claimed_by = NULL, lease_until = NULL
             WHERE id = $4",
        )
        .bind(&monday_id)
        .bind(&item_id)
        .bind(now_unix())
        .bind(&row.id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.wrote_bookkeeping();
        match delivered {
            Delivered::Ticket(ticket) => {
                // The list knows exactly what changed: add it instead of asking monday again.
                let portal = row.portal_id.clone();
                self.lists
                    .update(&portal, |list| {
                        if !list.iter().any(|t| t.id == ticket.id) {
                            let mut tickets = (**list).clone();
                            tickets.push(ticket.clone());
                            *list = Arc::new(tickets);
                        }
                    })
                    .await;
                self.notify_received(row, &ticket).await;
                self.announce_delivery(row, Some(ticket.id.clone()), Delivery::Delivered);
            }
            // The page shows the client's messages from the outbox: the cached detail stays
            // right without reading the item again.
            Delivered::Reply(..) => {
                self.announce_delivery(row, None, Delivery::Delivered);
            }
        }
        Ok(())
    }

    /// The confirmation that a new ticket reached the team (saying when, if it had to wait).
    async fn notify_received(&self, row: &OutboxRow, ticket: &Ticket) {
        let now = now_unix();
        self.notifier
            .record(Notice {
                portal_id: row.portal_id.clone(),
                ticket_id: ticket.id.clone(),
                ticket_title: ticket.title.clone(),
                raised_by: Some(row.author_email.clone()),
                actor: None,
                change: Change::Received {
                    reference: reference_for(&row.id),
                    arrived_at: now,
                    waited_seconds: (now - row.created_at).max(0),
                },
            })
            .await;
    }

    /// monday refused a ticket or message for good: the author is told what to do.
    async fn notify_refused(&self, row: &OutboxRow, reason: &str) {
        let is_ticket = row.kind == "ticket";
        let ticket_id = if is_ticket {
            format!("{PENDING_PREFIX}{}", row.id)
        } else {
            row.item_id.clone().unwrap_or_default()
        };
        let title = match (&row.title, is_ticket) {
            (Some(title), true) => title.clone(),
            _ => self
                .cached_ticket(&ticket_id)
                .await
                .map(|t| t.title)
                .unwrap_or_else(|| "your ticket".to_owned()),
        };
        self.notifier
            .record(Notice {
                portal_id: row.portal_id.clone(),
                ticket_id,
                ticket_title: title,
                raised_by: Some(row.author_email.clone()),
                actor: None,
                change: Change::Refused {
                    reply: !is_ticket,
                    reason: reason.to_owned(),
                },
            })
            .await;
    }

    fn announce_delivery(&self, row: &OutboxRow, monday_id: Option<String>, delivery: Delivery) {
        let ticket_id = if row.kind == "ticket" {
            format!("{PENDING_PREFIX}{}", row.id)
        } else {
            row.item_id.clone().unwrap_or_default()
        };
        self.live.publish(
            &row.portal_id,
            LiveEvent::DeliveryChanged {
                ticket_id,
                monday_id,
                delivery: delivery.clone(),
            },
        );
        // The request waiting for this row may be on another instance.
        self.cluster.send(ClusterMessage::Delivered {
            outbox_id: row.id.clone(),
            delivery: delivery.clone(),
        });
        self.wake_waiters(&row.id, delivery);
    }

    /// Answers the requests on this instance waiting for outbox row `outbox_id`.
    pub fn wake_waiters(&self, outbox_id: &str, delivery: Delivery) {
        if let Some(waiters) = self
            .waiters
            .lock()
            .ok()
            .and_then(|mut w| w.remove(outbox_id))
        {
            for waiter in waiters {
                let _ = waiter.send(delivery.clone());
            }
        }
    }
}

enum Delivered {
    Ticket(Ticket),
    Reply(String, String),
}

/// A row as a claim returns it, with its place in line.
struct ClaimedRow {
    seq: i64,
    row: OutboxRow,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for ClaimedRow
where
    OutboxRow: sqlx::FromRow<'r, R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'static str: sqlx::ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            seq: row.try_get("seq")?,
            row: OutboxRow::from_row(row)?,
        })
    }
}
