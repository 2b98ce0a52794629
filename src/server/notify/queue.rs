//! The notification queue: seals mails whose window has ended, then sends them one by one
//! under a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`, as the ticket outbox claims rows), so
//! several instances share the work and none sends a mail another holds. While SMTP is down or
//! answers "try later", a mail waits (1 s, 2 s, 4 s… up to `NOTIFY_RETRY_MAX_SECONDS`) and the
//! queue pauses; a mail the server refused for good is marked failed. A mail is marked sent as
//! soon as SMTP accepts it; its `Message-ID` is the same on every attempt, so in the one gap
//! left (the database fails right after SMTP accepted) a resend is recognisably the same mail.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::templates::{self, MailContext, TicketNews};
use super::{Change, Notifier};
use crate::model::{NotifyMode, Rating};
use crate::server::auth::{Member, hash_token, new_token};
use crate::server::db::Backend;
use crate::server::html::query_value;
use crate::server::mail::{Mail, MailError, MailHeaders};

/// Mails claimed at once.
const BATCH: i64 = 32;
/// Mails sent at once.
const PARALLEL: usize = 8;

/// A claimed mail.
#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    id: String,
    kind: String,
    portal_id: String,
    email: String,
    ticket_id: Option<String>,
    attempts: i64,
}

/// The outcome of one attempt.
enum Attempt {
    Sent,
    /// Nothing to say any more (unsubscribed, no longer a member, no events).
    Dropped(&'static str),
    Failed(String),
    /// SMTP is down or said "later": wait this long.
    Retry(String, Duration),
}

impl Notifier {
    pub fn spawn_queue(self: &Arc<Self>, shutdown: tokio::sync::watch::Receiver<bool>) {
        let notifier = self.clone();
        tokio::spawn(async move { notifier.run_queue(shutdown).await });
    }

    async fn run_queue(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let wait = match self.work().await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::error!(%error, "notify: database error");
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

    /// Seals and sends what is due; returns how long to sleep before looking again.
    pub async fn work(&self) -> Result<Duration, sqlx::Error> {
        let now = self.now();
        self.seal_due(now).await?;
        let paused = self.paused_until.load(Ordering::Relaxed);
        if paused > now {
            return Ok(Duration::from_secs((paused - now) as u64));
        }
        loop {
            let claimed = self.claim(self.now()).await?;
            if claimed.is_empty() {
                break;
            }
            // A few at a time (SMTP round trips dominate), and one failure stops the batch.
            for (n, chunk) in claimed.chunks(PARALLEL).enumerate() {
                let pauses =
                    futures::future::join_all(chunk.iter().map(|mail| self.attempt(mail))).await;
                if let Some(wait) = pauses.into_iter().flatten().max() {
                    // SMTP is failing for everyone: give the rest back and pause.
                    self.release(claimed.get((n + 1) * PARALLEL..).unwrap_or_default())
                        .await;
                    self.paused_until
                        .store(self.now() + wait.as_secs() as i64, Ordering::Relaxed);
                    return Ok(wait);
                }
            }
        }
        self.next_due(self.now()).await
    }

    /// Closes every mail whose window has ended: from now on its events are fixed, and a new
    /// event on the same channel starts a new mail. One transaction, so no event is left
    /// between two mails.
    async fn seal_due(&self, now: i64) -> Result<(), sqlx::Error> {
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let seal = format!(
            "UPDATE notify_mails SET state = 'waiting', open_key = NULL, next_attempt_at = $1
             WHERE id IN (SELECT id FROM notify_mails WHERE state = 'collecting' AND due_at <= $1
                          ORDER BY seq LIMIT 500 {lock})
             RETURNING id, channel"
        );
        crate::on_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let sealed: Vec<(String, String)> =
                sqlx::query_as(&seal).bind(now).fetch_all(&mut *tx).await?;
            for (id, channel) in &sealed {
                sqlx::query(
                    "UPDATE notify_events SET mail_id = $1 WHERE channel = $2 AND mail_id IS NULL",
                )
                .bind(id)
                .bind(channel)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })
    }

    async fn claim(&self, now: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE notify_mails SET claimed_by = $1, lease_until = $2
             WHERE id IN (
                 SELECT id FROM notify_mails
                 WHERE state = 'waiting' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until < $3)
                 ORDER BY seq LIMIT {BATCH} {lock})
             RETURNING id, kind, portal_id, email, ticket_id, attempts"
        );
        crate::on_db!(&self.db, pool => sqlx::query_as::<_, Claimed>(&sql)
            .bind(&self.instance)
            .bind(now + self.lease.as_secs() as i64)
            .bind(now)
            .fetch_all(pool)
            .await)
    }

    async fn release(&self, mails: &[Claimed]) {
        for mail in mails {
            let _ = crate::on_db!(&self.db, pool => sqlx::query(
                "UPDATE notify_mails SET claimed_by = NULL, lease_until = NULL
                 WHERE id = $1 AND claimed_by = $2",
            )
            .bind(&mail.id)
            .bind(&self.instance)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()));
        }
    }

    /// How long until something is due: a window's end, a retry, or another instance's lease.
    async fn next_due(&self, now: i64) -> Result<Duration, sqlx::Error> {
        let (soonest,): (Option<i64>,) = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT MIN(CASE WHEN state = 'collecting' THEN due_at
                             ELSE CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at
                                       THEN lease_until ELSE next_attempt_at END END)
             FROM notify_mails WHERE state IN ('collecting', 'waiting')",
        )
        .fetch_one(pool)
        .await)?;
        Ok(soonest.map_or(Duration::from_secs(30), |at| {
            Duration::from_secs((at - now).clamp(1, 30) as u64)
        }))
    }

    /// Sends one mail; returns a pause when SMTP is failing.
    async fn attempt(&self, mail: &Claimed) -> Option<Duration> {
        let outcome = match self.build(mail).await {
            Ok(Ok(built)) => match self.auth.mailer().send(built).await {
                Ok(()) => Attempt::Sent,
                Err(error @ (MailError::Refused(_) | MailError::Build(_))) => {
                    Attempt::Failed(error.to_string())
                }
                Err(error) => {
                    let wait = backoff(mail.attempts, self.config.retry_max);
                    Attempt::Retry(error.to_string(), wait)
                }
            },
            Ok(Err(dropped)) => Attempt::Dropped(dropped),
            Err(error) => {
                tracing::error!(%error, mail = %mail.id, "notify: database error while building a mail");
                Attempt::Retry("the database failed".into(), Duration::from_secs(5))
            }
        };
        let (state, error, next, pause) = match outcome {
            Attempt::Sent => ("sent", None, None, None),
            Attempt::Dropped(why) => ("dropped", Some(why.to_owned()), None, None),
            Attempt::Failed(why) => {
                tracing::error!(mail = %mail.id, error = %why, "notify: SMTP refused a mail for good");
                ("failed", Some(why), None, None)
            }
            Attempt::Retry(why, wait) => {
                tracing::warn!(mail = %mail.id, error = %why, wait_s = wait.as_secs(), "notify: could not send; will retry");
                (
                    "waiting",
                    Some(why),
                    Some(self.now() + wait.as_secs() as i64),
                    Some(wait),
                )
            }
        };
        let sent_at = (state == "sent").then(|| self.now());
        let recorded = crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE notify_mails SET state = $1, last_error = $2, attempts = attempts + 1,
                 next_attempt_at = COALESCE($3, next_attempt_at), sent_at = $4,
                 claimed_by = NULL, lease_until = NULL
             WHERE id = $5 AND claimed_by = $6",
        )
        .bind(state)
        .bind(error)
        .bind(next)
        .bind(sent_at)
        .bind(&mail.id)
        .bind(&self.instance)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        if let Err(error) = recorded {
            tracing::error!(%error, mail = %mail.id, "notify: could not record a mail's outcome");
        }
        pause
    }

    /// The mail to send, or why there is none.
    async fn build(&self, mail: &Claimed) -> Result<Result<Mail, &'static str>, sqlx::Error> {
        let member = Member {
            email: mail.email.clone(),
            portal_id: mail.portal_id.clone(),
        };
        let membership = match self.auth.membership(&member).await {
            Ok(Some(membership)) => membership,
            Ok(None) => return Ok(Err("no longer a member")),
            Err(error) => return Err(database(error)),
        };
        let name = membership.display_name.clone();
        if self.prefs(&member).await?.mode == NotifyMode::None {
            return Ok(Err("unsubscribed"));
        }
        let Ok(Some(portal)) = self.auth.portal(&mail.portal_id).await else {
            return Ok(Err("the portal is gone"));
        };
        let events: Vec<(String, String, String, i64)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT ticket_id, ticket_title, payload, created_at FROM notify_events
             WHERE mail_id = $1 ORDER BY seq",
        )
        .bind(&mail.id)
        .fetch_all(pool)
        .await)?;
        // Per ticket, in the order they first changed.
        let mut order: Vec<String> = Vec::new();
        let mut tickets: BTreeMap<String, TicketNews> = BTreeMap::new();
        for (ticket_id, title, payload, at) in events {
            let Ok(change) = serde_json::from_str::<Change>(&payload) else {
                continue;
            };
            let news = tickets.entry(ticket_id.clone()).or_insert_with(|| {
                order.push(ticket_id.clone());
                TicketNews {
                    ticket_id: ticket_id.clone(),
                    title: title.clone(),
                    link: String::new(),
                    rating_links: None,
                    changes: Vec::new(),
                }
            });
            // The latest title wins (the team may rename while the window is open).
            news.title = title;
            news.changes.push((change, at));
        }
        if tickets.is_empty() {
            return Ok(Err("nothing to tell"));
        }
        let mut news = Vec::new();
        for ticket_id in order {
            let Some(mut item) = tickets.remove(&ticket_id) else {
                continue;
            };
            let link = || {
                self.auth.create_ticket_link(
                    &mail.portal_id,
                    &mail.email,
                    &ticket_id,
                    self.config.link_ttl,
                )
            };
            item.link = link().await.map_err(database)?;
            // Ends resolved or closed: the mail asks how it went, with a link per answer.
            let resolved = item
                .changes
                .iter()
                .rev()
                .find_map(|(change, _)| match change {
                    Change::StatusChanged { status } => Some(status.is_done()),
                    _ => None,
                });
            if resolved == Some(true) {
                let good = link().await.map_err(database)?;
                let bad = link().await.map_err(database)?;
                item.rating_links = Some((
                    format!("{good}&rate={}", Rating::Good.as_str()),
                    format!("{bad}&rate={}", Rating::NotGood.as_str()),
                ));
            }
            news.push(item);
        }
        // A fresh unsubscribe token per attempt; only its hash is kept, on the mail's row.
        let token = new_token();
        crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE notify_mails SET unsubscribe_hash = $1 WHERE id = $2 AND claimed_by = $3",
        )
        .bind(hash_token(&token))
        .bind(&mail.id)
        .bind(&self.instance)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let context = MailContext {
            prefs: crate::i18n::Prefs::of_member(
                membership.locale,
                membership.portal_language,
                membership.time_zone,
            ),
            portal: &portal,
            public_url: &self.public_url,
            name: name.as_deref(),
            preferences_url: format!("{}/settings/notifications", self.public_url),
            unsubscribe_url: format!(
                "{}/notifications/unsubscribe?token={}",
                self.public_url,
                query_value(&token)
            ),
            link_hours: self.config.link_ttl.as_secs() / 3600,
        };
        let written = if mail.kind == "digest" {
            templates::digest(&context, &news)
        } else {
            templates::ticket(&context, &news[0])
        };
        let domain = self.auth.mailer().from_domain();
        let thread_id = mail
            .ticket_id
            .as_ref()
            .map(|ticket| format!("ticket-{ticket}.{}@{domain}", mail.portal_id));
        Ok(Ok(Mail {
            to: mail.email.clone(),
            subject: written.subject,
            text: written.text,
            html: written.html,
            headers: MailHeaders {
                message_id: Some(format!("<{}@{domain}>", mail.id)),
                thread_id: thread_id.map(|id| format!("<{id}>")),
                unsubscribe: Some(context.unsubscribe_url.clone()),
            },
        }))
    }
}

fn database(error: crate::server::auth::AuthError) -> sqlx::Error {
    match error {
        crate::server::auth::AuthError::Database(error) => error,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// Waits between attempts: 1 s, 2 s, 4 s… up to `max`.
fn backoff(attempts: i64, max: Duration) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 16) as u32).min(max.max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_secs(300);
        assert_eq!(backoff(0, max), Duration::from_secs(1));
        assert_eq!(backoff(3, max), Duration::from_secs(8));
        assert_eq!(backoff(40, max), max);
    }
}
