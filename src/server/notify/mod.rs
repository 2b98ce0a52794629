//! Notification mails: what brings a client back when the team answers or changes a ticket.
//!
//! The ticket services tell this one what happened ([`Notifier::record`] with a [`Notice`]);
//! it never reaches back into them, so the dependency points one way (tickets -> notify ->
//! auth, mail). A notice becomes one *event* per recipient, saved before anything is sent.
//! Events gather into a mail by *channel*: one member's ticket (coalesced for
//! `NOTIFY_WINDOW_SECONDS`) or one member's daily digest. [`queue`] seals a mail when its
//! window ends and sends it under a lease, as the ticket outbox does, so across restarts and
//! instances every mail goes out once. [`templates`] holds every sentence of every mail.
//!
//! Who is told ([`Notifier::recipients`]): the member who raised the ticket and the ticket's
//! followers, never the member whose own action it was; everything after that is per
//! recipient.

pub mod queue;
pub mod templates;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::auth::{Auth, Member};
use super::config::NotifyConfig;
use super::db::{Db, now_unix};
use crate::model::{NotifyMode, NotifyPrefs, Status};

/// What happened to a ticket, as much as a mail needs to say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A public team reply: its author's name and its HTML (sanitised again in the mail).
    TeamReply {
        author: String,
        body_html: String,
    },
    StatusChanged {
        status: Status,
    },
    /// A new ticket reached the team; `waited_seconds` is how long it sat in the outbox.
    Received {
        reference: String,
        arrived_at: i64,
        waited_seconds: i64,
    },
    /// monday refused the client's ticket (`reply: false`) or message for good.
    Refused {
        reply: bool,
        reason: String,
    },
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self {
            Change::TeamReply { .. } => "team_reply",
            Change::StatusChanged { .. } => "status",
            Change::Received { .. } => "received",
            Change::Refused { .. } => "refused",
        }
    }

    /// What "replies and resolutions only" lets through.
    pub fn is_essential(&self) -> bool {
        match self {
            Change::TeamReply { .. } | Change::Refused { .. } => true,
            Change::StatusChanged { status } => matches!(status, Status::Resolved | Status::Closed),
            Change::Received { .. } => false,
        }
    }
}

/// A change to one ticket, from the service that saw it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub portal_id: String,
    pub ticket_id: String,
    pub ticket_title: String,
    /// The member who raised the ticket (the board's client email), if known.
    pub raised_by: Option<String>,
    /// Whose action it was: never told about it.
    pub actor: Option<String>,
    pub change: Change,
}

pub struct Notifier {
    db: Db,
    auth: Arc<Auth>,
    config: NotifyConfig,
    public_url: String,
    instance: String,
    lease: Duration,
    wakeup: Notify,
    /// While SMTP is failing, the queue waits until then (the notifier's clock, seconds).
    paused_until: AtomicI64,
    /// Added to the wall clock: tests move time forward to reach digests and expiries.
    clock_offset: AtomicI64,
}

/// The queue's state, for the console, `/metrics` and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    pub collecting: i64,
    pub waiting: i64,
    pub sent: i64,
    pub failed: i64,
    pub dropped: i64,
}

/// One change that is (or was) on its way to a member's mailbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TicketNotification {
    pub email: String,
    pub kind: String,
    pub created_at: i64,
    pub state: String,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

/// One mail as the team console lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QueuedMail {
    pub email: String,
    pub portal_id: String,
    pub ticket_id: Option<String>,
    pub state: String,
    pub events: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

impl Notifier {
    pub fn new(
        db: Db,
        auth: Arc<Auth>,
        config: NotifyConfig,
        public_url: String,
        instance: String,
        lease: Duration,
    ) -> Self {
        Self {
            db,
            auth,
            config,
            public_url,
            instance,
            lease,
            wakeup: Notify::new(),
            paused_until: AtomicI64::new(0),
            clock_offset: AtomicI64::new(0),
        }
    }

    /// Now, in Unix seconds, as the queue sees it.
    pub fn now(&self) -> i64 {
        now_unix() + self.clock_offset.load(Ordering::Relaxed)
    }

    /// Moves the queue's clock forward (tests: digests, windows) and looks at the queue again.
    pub fn advance_clock(&self, seconds: i64) {
        self.clock_offset.fetch_add(seconds, Ordering::Relaxed);
        self.paused_until.store(0, Ordering::Relaxed);
        self.wakeup.notify_one();
    }

    /// Looks at the queue now (after a change, or when SMTP may be back).
    pub fn wake(&self) {
        self.paused_until.store(0, Ordering::Relaxed);
        self.wakeup.notify_one();
    }

    /// Who hears about a ticket: the member who raised it and its followers, never the one
    /// whose own doing it was. (Whether each still is a member is checked per recipient.)
    pub async fn recipients(&self, notice: &Notice) -> Vec<String> {
        let followers = match self
            .auth
            .follower_emails(&notice.portal_id, &notice.ticket_id)
            .await
        {
            Ok(followers) => followers,
            Err(error) => {
                tracing::error!(%error, portal = %notice.portal_id, ticket = %notice.ticket_id, "notify: could not read the followers");
                Vec::new()
            }
        };
        recipients_of(notice, &followers)
    }

    /// Saves one event per recipient who wants it; returns how many were saved. Never fails
    /// the caller: a database error is logged (without any of the text).
    pub async fn record(&self, notice: Notice) -> usize {
        let mut saved = 0;
        for email in self.recipients(&notice).await {
            let member = Member {
                email,
                portal_id: notice.portal_id.clone(),
            };
            match self.record_for(&member, &notice).await {
                Ok(true) => saved += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(%error, portal = %notice.portal_id, ticket = %notice.ticket_id, "notify: could not save a notification");
                }
            }
        }
        if saved > 0 {
            self.wakeup.notify_one();
        }
        saved
    }

    async fn record_for(&self, member: &Member, notice: &Notice) -> Result<bool, sqlx::Error> {
        if !self.auth.is_member(member).await.unwrap_or(false) {
            return Ok(false);
        }
        let prefs = self.prefs(member).await?;
        let now = self.now();
        let (kind, channel, due) = match prefs.mode {
            NotifyMode::None => return Ok(false),
            NotifyMode::Replies if !notice.change.is_essential() => return Ok(false),
            NotifyMode::Digest => (
                "digest",
                format!("digest\n{}\n{}", member.portal_id, member.email),
                next_digest(now, prefs.digest_hour, prefs.utc_offset_minutes),
            ),
            NotifyMode::All | NotifyMode::Replies => (
                "ticket",
                format!(
                    "ticket\n{}\n{}\n{}",
                    member.portal_id, member.email, notice.ticket_id
                ),
                now + self.config.window.as_secs() as i64,
            ),
        };
        let payload = serde_json::to_string(&notice.change).unwrap_or_default();
        // The event first, then a mail to collect it: a mail sealed in between has taken the
        // event already, and the new mail (empty) is dropped when its window ends.
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO notify_events (channel, portal_id, email, ticket_id, ticket_title, kind,
                                        payload, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&channel)
        .bind(&member.portal_id)
        .bind(&member.email)
        .bind(&notice.ticket_id)
        .bind(&notice.ticket_title)
        .bind(notice.change.kind())
        .bind(&payload)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let ticket = (kind == "ticket").then_some(notice.ticket_id.as_str());
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO notify_mails (id, channel, open_key, kind, portal_id, email, ticket_id,
                                       state, due_at, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'collecting', $8, $9, $10)
             ON CONFLICT (open_key) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(&channel)
        .bind(&channel)
        .bind(kind)
        .bind(&member.portal_id)
        .bind(&member.email)
        .bind(ticket)
        .bind(due)
        .bind(due)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(true)
    }

    /// A portal's default (its own, set with `client-portal notify-default`, or `NOTIFY_DEFAULT`).
    async fn portal_default(&self, portal_id: &str) -> Result<NotifyMode, sqlx::Error> {
        let row: Option<(Option<String>,)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT notify_default FROM portals WHERE id = $1",
        )
        .bind(portal_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row
            .and_then(|(mode,)| mode)
            .and_then(|m| NotifyMode::parse(&m))
            .unwrap_or(self.config.default_mode))
    }

    /// What `member` gets mailed.
    pub async fn prefs(&self, member: &Member) -> Result<NotifyPrefs, sqlx::Error> {
        let row: Option<(String, i64, i64)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT mode, digest_hour, utc_offset_minutes FROM notify_prefs
             WHERE portal_id = $1 AND email = $2",
        )
        .bind(&member.portal_id)
        .bind(&member.email)
        .fetch_optional(pool)
        .await)?;
        Ok(
            match row
                .and_then(|(mode, hour, offset)| Some((NotifyMode::parse(&mode)?, hour, offset)))
            {
                Some((mode, digest_hour, utc_offset_minutes)) => NotifyPrefs {
                    mode,
                    is_default: false,
                    digest_hour,
                    utc_offset_minutes,
                },
                None => NotifyPrefs {
                    mode: self.portal_default(&member.portal_id).await?,
                    is_default: true,
                    digest_hour: 8,
                    utc_offset_minutes: 0,
                },
            },
        )
    }

    /// Saves what `member` wants mailed. The hour is 0-23 and the offset within ±14 hours.
    pub async fn set_prefs(
        &self,
        member: &Member,
        mode: NotifyMode,
        digest_hour: i64,
        utc_offset_minutes: i64,
    ) -> Result<(), sqlx::Error> {
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO notify_prefs (portal_id, email, mode, digest_hour, utc_offset_minutes, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (portal_id, email) DO UPDATE SET mode = excluded.mode,
                 digest_hour = excluded.digest_hour,
                 utc_offset_minutes = excluded.utc_offset_minutes,
                 updated_at = excluded.updated_at",
        )
        .bind(&member.portal_id)
        .bind(&member.email)
        .bind(mode.as_str())
        .bind(digest_hour.clamp(0, 23))
        .bind(utc_offset_minutes.clamp(-14 * 60, 14 * 60))
        .bind(now_unix())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Whom an unsubscribe link (from any mail sent) stands for, without changing anything.
    pub async fn unsubscribe_target(&self, token: &str) -> Result<Option<Member>, sqlx::Error> {
        if !super::auth::plausible_token(token) {
            return Ok(None);
        }
        let row: Option<(String, String)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT portal_id, email FROM notify_mails WHERE unsubscribe_hash = $1",
        )
        .bind(super::auth::hash_token(token))
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|(portal_id, email)| Member { email, portal_id }))
    }

    /// RFC 8058's one-click unsubscribe (a POST): the member gets nothing from now on, and
    /// mails not yet sent are not sent. Returns who was unsubscribed.
    pub async fn unsubscribe(&self, token: &str) -> Result<Option<Member>, sqlx::Error> {
        let Some(member) = self.unsubscribe_target(token).await? else {
            return Ok(None);
        };
        let prefs = self.prefs(&member).await?;
        self.set_prefs(
            &member,
            NotifyMode::None,
            prefs.digest_hour,
            prefs.utc_offset_minutes,
        )
        .await?;
        Ok(Some(member))
    }

    /// How many mails are in each state.
    pub async fn counts(&self) -> Result<QueueCounts, sqlx::Error> {
        let rows: Vec<(String, i64)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT state, COUNT(*) FROM notify_mails GROUP BY state",
        )
        .fetch_all(pool)
        .await)?;
        let mut counts = QueueCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "collecting" => counts.collecting = n,
                "waiting" => counts.waiting = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                _ => counts.dropped += n,
            }
        }
        Ok(counts)
    }

    /// The notifications one ticket's changes produced, newest first, each with the state of
    /// the mail it went into (the team console shows them on the item's page).
    pub async fn ticket_log(
        &self,
        ticket_id: &str,
    ) -> Result<Vec<TicketNotification>, sqlx::Error> {
        crate::on_db!(&self.db, pool => sqlx::query_as::<_, TicketNotification>(
            "SELECT e.email, e.kind, e.created_at, COALESCE(m.state, 'collecting') AS state,
                    m.sent_at, m.last_error
             FROM notify_events e LEFT JOIN notify_mails m ON m.id = e.mail_id
             WHERE e.ticket_id = $1 ORDER BY e.seq DESC LIMIT 20",
        )
        .bind(ticket_id)
        .fetch_all(pool)
        .await)
    }

    /// The latest mails, newest first (the team console's list).
    pub async fn recent(&self, limit: i64) -> Result<Vec<QueuedMail>, sqlx::Error> {
        crate::on_db!(&self.db, pool => sqlx::query_as::<_, QueuedMail>(
            "SELECT m.email, m.portal_id, m.ticket_id, m.state,
                    (SELECT COUNT(*) FROM notify_events e
                     WHERE e.mail_id = m.id
                        OR (m.state = 'collecting' AND e.mail_id IS NULL AND e.channel = m.channel)) AS events,
                    m.attempts, m.last_error, m.created_at
             FROM notify_mails m ORDER BY m.seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await)
    }

    /// Deletes mails (and their events) sent or given up on more than `keep` ago. An
    /// unsubscribe link works as long as its mail is kept.
    pub async fn prune(&self, keep: Duration) -> Result<u64, sqlx::Error> {
        let before = self.now() - keep.as_secs() as i64;
        let events = crate::on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM notify_events WHERE mail_id IN (
                 SELECT id FROM notify_mails WHERE state IN ('sent', 'failed', 'dropped') AND created_at < $1)",
        )
        .bind(before)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let mails = crate::on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM notify_mails WHERE state IN ('sent', 'failed', 'dropped') AND created_at < $1",
        )
        .bind(before)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(events + mails)
    }
}

/// The people a notice concerns (see [`Notifier::recipients`]), lowercased, without its actor.
fn recipients_of(notice: &Notice, followers: &[String]) -> Vec<String> {
    let mut recipients: Vec<String> = notice
        .raised_by
        .iter()
        .chain(followers)
        .map(|email| email.trim().to_lowercase())
        .collect();
    recipients.retain(|email| {
        !email.is_empty()
            && notice
                .actor
                .as_deref()
                .is_none_or(|actor| !actor.eq_ignore_ascii_case(email))
    });
    recipients.sort();
    recipients.dedup();
    recipients
}

/// When a digest for a member at UTC offset `offset_minutes` goes out next: the next time their
/// local clock shows `hour`:00 (strictly after `now`).
pub fn next_digest(now: i64, hour: i64, offset_minutes: i64) -> i64 {
    let offset = offset_minutes * 60;
    let local = now + offset;
    let day_start = local - local.rem_euclid(86_400);
    let mut target = day_start + hour.clamp(0, 23) * 3600;
    if target <= local {
        target += 86_400;
    }
    target - offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_go_out_at_the_next_local_hour() {
        // 2026-11-24 10:00 UTC.
        let now = 1_795_514_400;
        assert_eq!(next_digest(now, 11, 0), now + 3600);
        assert_eq!(
            next_digest(now, 10, 0),
            now + 86_400,
            "not the same instant"
        );
        assert_eq!(next_digest(now, 9, 0), now + 23 * 3600);
        // UTC+2: it is 12:00 there; 13:00 local is 11:00 UTC.
        assert_eq!(next_digest(now, 13, 120), now + 3600);
        // UTC-5: it is 05:00 there; 08:00 local is 13:00 UTC.
        assert_eq!(next_digest(now, 8, -300), now + 3 * 3600);
    }

    #[test]
    fn nobody_is_told_about_their_own_doing() {
        let notice = |actor: Option<&str>| Notice {
            portal_id: "p".into(),
            ticket_id: "1".into(),
            ticket_title: "T".into(),
            raised_by: Some(" Kim@Example.com ".into()),
            actor: actor.map(str::to_owned),
            change: Change::StatusChanged {
                status: Status::Closed,
            },
        };
        assert_eq!(recipients_of(&notice(None), &[]), vec!["kim@example.com"]);
        assert!(recipients_of(&notice(Some("KIM@example.com")), &[]).is_empty());
        assert_eq!(
            recipients_of(&notice(Some("team@example.com")), &[]),
            vec!["kim@example.com"]
        );
        // Followers are told too, once each, except the one who did it.
        let followers = ["lee@example.com".to_owned(), "kim@example.com".to_owned()];
        assert_eq!(
            recipients_of(&notice(None), &followers),
            vec!["kim@example.com", "lee@example.com"]
        );
        assert_eq!(
            recipients_of(&notice(Some("lee@example.com")), &followers),
            vec!["kim@example.com"]
        );
    }

    #[test]
    fn replies_only_lets_the_essential_through() {
        let status = |status| Change::StatusChanged { status };
        assert!(status(Status::Resolved).is_essential());
        assert!(status(Status::Closed).is_essential());
        assert!(!status(Status::InProgress).is_essential());
        assert!(
            !Change::Received {
                reference: "r".into(),
                arrived_at: 0,
                waited_seconds: 0
            }
            .is_essential()
        );
    }
}
