//! What a client does once the team has answered: "This is solved", reopening (within
//! `REOPEN_DAYS`, with a reason), rating the answer, and following a closed ticket up with a new
//! ticket. Each is a message on the ticket that reaches monday through the outbox like any other
//! and also changes a column when it does (the status, the rating): nothing is lost while monday
//! is down, nothing is done twice, and the team reads on the item who did what.

use monday::format_utc;

use super::{Bind, NewMessage, TicketError, TicketService, Writer};
use crate::i18n::td_string;
use crate::model::{
    ClosedReplies, FieldError, NewTicket, Priority, RATING_COMMENT_MAX_CHARS, REPLY_MAX_CHARS,
    Rating, RatingRecord, Reply, Resolution, Status, TITLE_MAX_CHARS, Ticket, TicketDetail,
    parse_utc_seconds,
};
use crate::server::auth::Access;
use crate::server::db::now_unix;

/// What a client's message also does on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAction {
    /// "This is solved": the status becomes Resolved.
    Resolve,
    /// The status becomes Open again and the rating is cleared.
    Reopen,
    /// The rating column gets the client's rating.
    Rate(Rating),
}

impl ClientAction {
    /// The outbox's `action` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAction::Resolve => "resolve",
            ClientAction::Reopen => "reopen",
            ClientAction::Rate(_) => "rate",
        }
    }

    /// The outbox's `action_value` column.
    pub fn value(self) -> Option<&'static str> {
        match self {
            ClientAction::Rate(rating) => Some(rating.as_str()),
            _ => None,
        }
    }

    /// Back from the outbox's columns; `None` for a plain message (or a value this version
    /// does not know, which is then delivered as the message it also is).
    pub fn parse(action: Option<&str>, value: Option<&str>) -> Option<Self> {
        match action? {
            "resolve" => Some(ClientAction::Resolve),
            "reopen" => Some(ClientAction::Reopen),
            "rate" => value.and_then(Rating::parse).map(ClientAction::Rate),
            _ => None,
        }
    }

    /// The status the action sets on the board, if it sets one.
    pub fn status(self) -> Option<Status> {
        match self {
            ClientAction::Resolve => Some(Status::Resolved),
            ClientAction::Reopen => Some(Status::Open),
            ClientAction::Rate(_) => None,
        }
    }
}

/// How long after a change the portal still says a status change on the board was a client's
/// own doing (the board's webhook arrives seconds later; a day covers an outbox that waited).
const OWN_CHANGE_WINDOW_SECONDS: i64 = 24 * 3600;

fn wrong_status(message: &str) -> TicketError {
    TicketError::Invalid(FieldError {
        field: "status",
        message: message.to_owned(),
    })
}

impl TicketService {
    /// When the ticket was resolved (or closed), if it is: the last step of its timeline.
    fn resolved_at(detail: &TicketDetail) -> Option<i64> {
        if !detail.ticket.status.is_done() {
            return None;
        }
        let last = detail.timeline.last()?;
        parse_utc_seconds(&last.at).or_else(|| parse_utc_seconds(&detail.ticket.updated_at))
    }

    /// Until when a resolved ticket may be reopened (Unix seconds); `None` when it is not
    /// resolved or the window has passed.
    fn reopen_until(&self, detail: &TicketDetail) -> Option<i64> {
        let until = Self::resolved_at(detail)? + i64::from(self.resolution.reopen_days) * 24 * 3600;
        (until > now_unix()).then_some(until)
    }

    /// What the ticket page offers once a ticket is resolved.
    pub async fn resolution(&self, detail: &TicketDetail) -> Result<Resolution, TicketError> {
        let ticket = &detail.ticket;
        let read = async {
            crate::on_db!(&self.db, pool => sqlx::query_as(
                "SELECT score, comment, email FROM ratings WHERE portal_id = $1 AND ticket_id = $2",
            )
            .bind(&ticket.portal_id)
            .bind(&ticket.id)
            .fetch_optional(pool)
            .await)
        };
        let key = (ticket.portal_id.clone(), ticket.id.clone());
        let rating = self.kept(&self.kept_ratings, key, read).await?;
        let rating: Option<super::RatingRow> = rating.as_ref().clone();
        Ok(Resolution {
            reopen_until: self.reopen_until(detail).and_then(|until| {
                time::OffsetDateTime::from_unix_timestamp(until)
                    .ok()
                    .map(format_utc)
            }),
            reopen_days: self.resolution.reopen_days,
            rating: rating.and_then(|(score, comment, by)| {
                Some(RatingRecord {
                    score: Rating::parse(&score)?,
                    comment,
                    by,
                })
            }),
            closed_replies: self.resolution.closed_replies,
            action_pending: self.action_pending(ticket).await?,
        })
    }

    /// Whether a solve, reopen or rating of this ticket is still on its way to monday. Reads
    /// the rows the ticket's page reads anyway (from memory on SQLite).
    async fn action_pending(&self, ticket: &Ticket) -> Result<bool, TicketError> {
        let rows = self
            .outbox_rows_for_page(
                "item_id = $1 AND kind = 'reply' AND portal_id = $2",
                &[Bind::Text(&ticket.id), Bind::Text(&ticket.portal_id)],
            )
            .await?;
        Ok(rows
            .iter()
            .any(|row| row.action.is_some() && row.state == "waiting"))
    }

    /// The ticket `access` may see and act on: delivered to monday, and with no other action of
    /// the client's still on its way (two quick clicks must not cross on the board).
    async fn actionable(
        &self,
        access: &Access,
        ticket_id: &str,
    ) -> Result<TicketDetail, TicketError> {
        if ticket_id.starts_with(super::PENDING_PREFIX) {
            return Err(wrong_status(
                "This ticket has not reached the team yet. Try again once it has.",
            ));
        }
        let detail = self.detail(access, ticket_id).await?.value;
        if self.action_pending(&detail.ticket).await? {
            return Err(wrong_status(
                "Your last change to this ticket is still on its way to the team. Try again in a moment.",
            ));
        }
        Ok(detail)
    }

    /// "This is solved": the status becomes Resolved on monday, with a message saying who.
    pub async fn resolve(
        &self,
        access: &Access,
        by: Writer<'_>,
        ticket_id: &str,
    ) -> Result<Reply, TicketError> {
        let detail = self.actionable(access, ticket_id).await?;
        if detail.ticket.status.is_done() {
            return Err(wrong_status("This ticket is already resolved."));
        }
        self.enqueue_message(
            access,
            by.name,
            &detail.ticket,
            NewMessage {
                body: td_string!(by.locale, ticket.client_note.solved),
                parent: None,
                action: Some(ClientAction::Resolve),
                files: Vec::new(),
            },
        )
        .await
    }

    /// Reopens a resolved ticket, within the reopen window, saying why.
    pub async fn reopen(
        &self,
        access: &Access,
        by: Writer<'_>,
        ticket_id: &str,
        reason: &str,
    ) -> Result<Reply, TicketError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > REPLY_MAX_CHARS {
            return Err(TicketError::Invalid(FieldError {
                field: "reason",
                message: format!(
                    "Say in a few words why it needs reopening (at most {REPLY_MAX_CHARS} characters)."
                ),
            }));
        }
        let detail = self.actionable(access, ticket_id).await?;
        if !detail.ticket.status.is_done() {
            return Err(wrong_status("This ticket is open already."));
        }
        self.check_reply_reopens(&detail)?;
        self.enqueue_message(
            access,
            by.name,
            &detail.ticket,
            NewMessage {
                body: &td_string!(by.locale, ticket.client_note.reopened, reason = reason),
                parent: None,
                action: Some(ClientAction::Reopen),
                files: Vec::new(),
            },
        )
        .await
    }

    /// Whether the client may still reopen this resolved ticket; a clear error when not.
    pub(super) fn check_reply_reopens(&self, detail: &TicketDetail) -> Result<(), TicketError> {
        if self.resolution.closed_replies == ClosedReplies::FollowUp {
            return Err(wrong_status(
                "This ticket is closed. Start a follow-up ticket to continue.",
            ));
        }
        if self.reopen_until(detail).is_none() {
            return Err(wrong_status(&format!(
                "This ticket was resolved more than {} day(s) ago and can no longer be reopened. \
                 Start a follow-up ticket instead.",
                self.resolution.reopen_days
            )));
        }
        Ok(())
    }

    /// Records the client's rating of a resolved ticket: kept here, written to the board's
    /// rating column and as a message the team reads.
    pub async fn rate(
        &self,
        access: &Access,
        by: Writer<'_>,
        ticket_id: &str,
        score: Rating,
        comment: &str,
    ) -> Result<Reply, TicketError> {
        let comment = comment.trim();
        if comment.chars().count() > RATING_COMMENT_MAX_CHARS {
            return Err(TicketError::Invalid(FieldError {
                field: "comment",
                message: format!(
                    "Keep the comment to {RATING_COMMENT_MAX_CHARS} characters or fewer."
                ),
            }));
        }
        let detail = self.actionable(access, ticket_id).await?;
        let ticket = &detail.ticket;
        if !ticket.status.is_done() {
            return Err(wrong_status(
                "You can rate the answer once the ticket is resolved.",
            ));
        }
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO ratings (portal_id, ticket_id, email, score, comment, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (portal_id, ticket_id) DO UPDATE SET email = excluded.email,
                 score = excluded.score, comment = excluded.comment,
                 created_at = excluded.created_at",
        )
        .bind(&ticket.portal_id)
        .bind(&ticket.id)
        .bind(&access.member.email)
        .bind(score.as_str())
        .bind(comment)
        .bind(now_unix())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.wrote_bookkeeping();
        let rating = crate::i18n::words::rating(by.locale, score);
        let body = if comment.is_empty() {
            td_string!(by.locale, ticket.client_note.rated, rating = rating)
        } else {
            td_string!(
                by.locale,
                ticket.client_note.rated_with_comment,
                rating = rating,
                comment = comment
            )
        };
        self.enqueue_message(
            access,
            by.name,
            ticket,
            NewMessage {
                body: &body,
                parent: None,
                action: Some(ClientAction::Rate(score)),
                files: Vec::new(),
            },
        )
        .await
    }

    /// The ticket was reopened (by the client or the team): its rating no longer stands.
    /// Returns whether it had one.
    pub async fn forget_rating(&self, portal_id: &str, ticket_id: &str) -> bool {
        let result = crate::on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM ratings WHERE portal_id = $1 AND ticket_id = $2",
        )
        .bind(portal_id)
        .bind(ticket_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        self.wrote_bookkeeping();
        match result {
            Ok(deleted) => deleted > 0,
            Err(error) => {
                tracing::error!(%error, ticket = %ticket_id, "could not reset a rating");
                false
            }
        }
    }

    /// The team reopened a rated ticket on monday: the rating goes, here and from the board's
    /// rating column (one call, only when there was a rating; a client's own reopen clears the
    /// column as it is delivered).
    pub async fn reopened_by_team(&self, portal_id: &str, item_id: &str) {
        if !self.forget_rating(portal_id, item_id).await {
            return;
        }
        let column = self.board.mapping().columns.rating.clone();
        let clear = serde_json::json!({ column: serde_json::Value::Null });
        if let Err(error) = self.board.change_columns(item_id, clear).await {
            tracing::warn!(%error, item = %item_id, "could not clear the rating column of a reopened ticket");
        }
    }

    /// Starts a new ticket that continues a resolved one, saying which in its description.
    pub async fn follow_up(
        &self,
        access: &Access,
        by: Writer<'_>,
        ticket_id: &str,
        body: &str,
    ) -> Result<Ticket, TicketError> {
        let detail = self.detail(access, ticket_id).await?.value;
        let original = &detail.ticket;
        if !original.status.is_done() {
            return Err(wrong_status(
                "This ticket is still open: reply on it instead.",
            ));
        }
        let body = crate::model::validate_reply(body).map_err(TicketError::Invalid)?;
        let title: String = td_string!(
            by.locale,
            ticket.client_note.follow_up_title,
            title = &original.title
        )
        .chars()
        .take(TITLE_MAX_CHARS)
        .collect();
        let back = td_string!(
            by.locale,
            ticket.client_note.follows_up_on,
            id = &original.id,
            title = &original.title
        );
        let description = format!("{body}\n\n{back}");
        let new = NewTicket::validate(&title, &description, original.priority.as_str())
            .or_else(|_| {
                // A long message and the back-reference may not fit together: the message wins.
                NewTicket::validate(&title, &body, Priority::Medium.as_str())
            })
            .map_err(TicketError::Invalid)?;
        self.create(&access.member, by.name, &new, Vec::new()).await
    }

    /// Who of the portal's people set `status` on the item lately through the portal (their
    /// "solved" or "reopen"), so the board's webhook for it does not mail them about their own
    /// doing.
    pub async fn own_status_change(&self, item_id: &str, status: Status) -> Option<String> {
        let rows = self
            .outbox_rows(
                "item_id = $1 AND kind = 'reply' AND action IN ('resolve', 'reopen') \
                 AND created_at > $2",
                &[
                    Bind::Text(item_id),
                    Bind::Int(now_unix() - OWN_CHANGE_WINDOW_SECONDS),
                ],
            )
            .await
            .ok()?;
        let row = rows.last()?;
        let action = ClientAction::parse(row.action.as_deref(), row.action_value.as_deref())?;
        (action.status() == Some(status)).then(|| row.author_email.clone())
    }
}
