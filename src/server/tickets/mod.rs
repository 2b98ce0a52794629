//! The ticket service: what pages, server functions, the REST API and webhooks use. Reads go
//! through the cache; writes go through the outbox, so a ticket or reply a client submitted
//! reaches monday even when monday is down or rate-limiting.

pub mod attachments;
pub mod cache;
pub mod conversation;
mod outbox;
mod resolution;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::db::Db;
use tokio::sync::{Notify, oneshot};

use self::attachments::FilesByRow;
use self::cache::{ItemDetail, Keyed, TicketList};
use self::conversation::{ClientMessage, Markers};
pub use self::resolution::ClientAction;
use super::auth::rate_limit::Limiter;
use super::auth::{Access, Member};
use super::board::{CONTINUED, TicketBoard, description_from_update};
use super::cluster::Cluster;
use super::config::ResolutionConfig;
use super::db::now_unix;
use super::live_hub::LiveHub;
use super::memory::{Memo, Memory};
use super::notify::Notifier;
use crate::model::{
    Delivery, FieldError, LiveEvent, NewTicket, Priority, Reply, Status, Ticket, TicketDetail,
    TimelineEntry,
};
use monday::{MondayError, format_utc, is_id as is_monday_id};

/// How long a delivered ticket is shown from the outbox in case the cached list lags behind.
const RECENTLY_DELIVERED_SECONDS: i64 = 120;

/// The prefix of a ticket that is saved but not yet on monday.
pub const PENDING_PREFIX: &str = "pending-";

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Unknown, or belonging to another portal: the same answer either way.
    #[error("no such ticket")]
    NotFound,
    #[error("{}", .0.message)]
    Invalid(FieldError),
    #[error("monday: {0}")]
    Monday(#[from] MondayError),
    /// Too many lookups of tickets that do not exist; try again after the wait.
    #[error("too many lookups of unknown tickets")]
    TooManyLookups(Duration),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Data with its age: `saved_at` is set when monday did not answer and this is saved data.
#[derive(Debug, Clone)]
pub struct Fresh<T> {
    pub value: T,
    pub saved_at: Option<String>,
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct OutboxRow {
    id: String,
    kind: String,
    portal_id: String,
    author_email: String,
    author_name: Option<String>,
    item_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    priority: Option<String>,
    body: Option<String>,
    monday_id: Option<String>,
    state: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    parent_update_id: Option<String>,
    uncertain: i64,
    description_update_id: Option<String>,
    delivered_at: Option<i64>,
    /// What the message also does on the board: `resolve`, `reopen`, `rate` (or nothing).
    action: Option<String>,
    action_value: Option<String>,
}

impl OutboxRow {
    fn delivery(&self) -> Delivery {
        match self.state.as_str() {
            "delivered" => Delivery::Delivered,
            "failed" => Delivery::Failed {
                reason: self
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "monday refused it".into()),
            },
            _ => Delivery::Waiting {
                attempts: self.attempts as u32,
                last_error: self.last_error.clone(),
            },
        }
    }

    fn created_at(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.created_at)
            .map(format_utc)
            .unwrap_or_default()
    }

    /// A ticket still in the outbox, shown to its portal until monday has it.
    fn pending_ticket(&self) -> Ticket {
        let created_at = self.created_at();
        Ticket {
            id: format!("{PENDING_PREFIX}{}", self.id),
            title: self.title.clone().unwrap_or_default(),
            description: self.description.clone().unwrap_or_default(),
            status: Status::Open,
            priority: self
                .priority
                .as_deref()
                .and_then(Priority::parse)
                .unwrap_or(Priority::Medium),
            portal_id: self.portal_id.clone(),
            client_email: Some(self.author_email.clone()),
            updated_at: created_at.clone(),
            created_at,
            delivery: self.delivery(),
        }
    }

    fn client_message(&self) -> ClientMessage {
        ClientMessage {
            id: self.id.clone(),
            author: self
                .author_name
                .clone()
                .unwrap_or_else(|| self.author_email.clone()),
            body: self.body.clone().unwrap_or_default(),
            created_at: self.created_at(),
            monday_update_id: self.monday_id.clone().filter(|_| self.kind == "reply"),
            parent_update_id: self.parent_update_id.clone(),
            delivery: self.delivery(),
            files: Vec::new(),
        }
    }
}

const OUTBOX_COLUMNS: &str = "id, kind, portal_id, author_email, author_name, item_id, title, \
    description, priority, body, monday_id, state, attempts, last_error, created_at, \
    parent_update_id, uncertain, description_update_id, delivered_at, action, action_value";

/// Puts the whole text back into descriptions the board holds only the start of, from the
/// outbox (the client's own words, exactly). One query for the lot.
async fn complete_descriptions(db: &Db, tickets: &mut [Ticket]) {
    let cut: Vec<String> = tickets
        .iter()
        .filter(|t| t.description.ends_with(CONTINUED))
        .map(|t| t.id.clone())
        .collect();
    if cut.is_empty() {
        return;
    }
    let placeholders: Vec<String> = (1..=cut.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT monday_id, description FROM outbox WHERE kind = 'ticket' AND monday_id IN ({})",
        placeholders.join(", ")
    );
    let rows = crate::on_db!(db, pool => {
        let mut query = sqlx::query_as::<_, (String, Option<String>)>(&sql);
        for id in &cut {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    });
    match rows {
        Ok(rows) => {
            for (item_id, description) in rows {
                if let (Some(ticket), Some(description)) =
                    (tickets.iter_mut().find(|t| t.id == item_id), description)
                {
                    ticket.description = description;
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not complete long descriptions"),
    }
}

/// A value bound to an outbox query: the columns are text or integers, and PostgreSQL wants
/// each with its own type.
#[derive(Clone, Copy)]
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

pub struct TicketService {
    db: Db,
    board: TicketBoard,
    live: Arc<LiveHub>,
    lists: Keyed<TicketList>,
    details: Keyed<Arc<ItemDetail>>,
    markers: Markers,
    /// Team members' names by monday user id, for replies built from webhook payloads.
    users: Mutex<HashMap<String, String>>,
    wakeup: Notify,
    waiters: Mutex<HashMap<String, Vec<oneshot::Sender<Delivery>>>>,
    /// While monday is failing, the outbox waits instead of trying every row.
    paused_until: Mutex<Option<Instant>>,
    /// Lookups of tickets that turned out not to exist, per member.
    misses: Limiter,
    /// The other instances, told when a delivery finishes; its name for this instance is the
    /// one outbox leases record.
    cluster: Cluster,
    /// How long a claimed outbox row stays this instance's before another may take it over.
    lease: Duration,
    /// Told when a ticket reached the team or monday refused something for good.
    notifier: Arc<Notifier>,
    /// What pages read of the outbox and the status history, while its generation holds
    /// (SQLite only; see `server::memory`).
    memory: Arc<Memory>,
    kept_outbox: Memo<String, Arc<Vec<OutboxRow>>>,
    kept_history: Memo<(String, String), Arc<StatusHistory>>,
    /// `(portal, ticket)` -> its rating (score, comment, by whom), if any.
    kept_ratings: Memo<(String, String), Arc<Option<RatingRow>>>,
    /// What clients may do once a ticket is resolved.
    resolution: ResolutionConfig,
    /// Files on outbox rows, by the rows a page shows.
    kept_attachments: Memo<String, Arc<HashMap<String, Vec<attachments::AttachmentRow>>>>,
    attachments: AttachmentSettings,
    public_urls: attachments::PublicUrls,
    /// Fetches monday's files from their `public_url` (not the API: no token, no call).
    file_fetcher: reqwest::Client,
}

/// Where uploads spool, what a message may carry, and how long delivered copies stay.
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    pub spool_dir: std::path::PathBuf,
    pub limits: crate::model::UploadLimits,
    pub keep_after_delivery: Duration,
}

/// Who writes a client's message: the name it is signed with (if they gave one) and the
/// language the portal writes its own notes for them in ("Attached: …", "Marked this ticket as
/// solved."), which are their message as much as their own words are.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    pub name: Option<&'a str>,
    pub locale: crate::i18n::Locale,
}

/// A client's message as it goes into the outbox: its words, the thread it answers, what it
/// also does on the board, and its files.
struct NewMessage<'a> {
    body: &'a str,
    parent: Option<&'a str>,
    action: Option<ClientAction>,
    files: Vec<attachments::SpooledFile>,
}

/// A ticket's recorded status changes: `(status, at)`, oldest first.
type StatusHistory = Vec<(String, String)>;

/// A ticket's rating as stored: `(score, comment, by whom)`.
type RatingRow = (String, String, String);

pub struct TicketSettings {
    pub cache_ttl: Duration,
    pub cache_max_portals: usize,
    pub public_marker: String,
    pub internal_marker: String,
    /// Hosts team messages may show images from.
    pub reply_image_hosts: Vec<String>,
    /// Unknown ticket ids a member may look up in an hour.
    pub misses_per_hour: u32,
    /// How long an instance holds an outbox row it is delivering (see [`TicketService`]).
    pub outbox_lease: Duration,
    pub notifier: Arc<Notifier>,
    pub memory: Arc<Memory>,
    pub resolution: ResolutionConfig,
    pub attachments: AttachmentSettings,
}

impl TicketService {
    pub fn new(
        db: Db,
        board: TicketBoard,
        live: Arc<LiveHub>,
        cluster: Cluster,
        settings: TicketSettings,
    ) -> Self {
        let misses = Limiter::new(
            "ticket misses per member",
            settings.misses_per_hour,
            Duration::from_secs(3600),
            &db,
        );
        let budget = board.client().budget().clone();
        Self {
            db,
            live,
            lists: Keyed::new(settings.cache_ttl, settings.cache_max_portals)
                .with_budget(budget.clone(), cache::LIST_SHARE),
            // Details are small and per ticket: allow many more of them than portals.
            details: Keyed::new(settings.cache_ttl, settings.cache_max_portals * 50)
                .with_budget(budget, cache::DETAIL_SHARE),
            board,
            markers: Markers::new(
                settings.public_marker,
                settings.internal_marker,
                settings.reply_image_hosts,
            ),
            users: Mutex::new(HashMap::new()),
            wakeup: Notify::new(),
            waiters: Mutex::new(HashMap::new()),
            paused_until: Mutex::new(None),
            misses,
            cluster,
            lease: settings.outbox_lease,
            notifier: settings.notifier,
            memory: settings.memory,
            resolution: settings.resolution,
            kept_ratings: Memo::default(),
            kept_outbox: Memo::default(),
            kept_history: Memo::default(),
            kept_attachments: Memo::default(),
            attachments: settings.attachments,
            public_urls: attachments::PublicUrls::default(),
            file_fetcher: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
        }
    }

    /// A new spool for one message's files, with the configured limits.
    pub fn spool(&self) -> attachments::Spool {
        attachments::Spool::new(&self.attachments.spool_dir, self.attachments.limits)
    }

    /// What one message may carry in files.
    pub fn upload_limits(&self) -> crate::model::UploadLimits {
        self.attachments.limits
    }

    /// This instance changed the outbox or the status history: what pages keep of them is out
    /// of date from now.
    fn wrote_bookkeeping(&self) {
        self.memory.tickets_changed_here();
    }

    /// [`Self::outbox_rows`] for a page: from memory while nothing was written since (SQLite).
    async fn outbox_rows_for_page(
        &self,
        filter: &str,
        binds: &[Bind<'_>],
    ) -> Result<Arc<Vec<OutboxRow>>, sqlx::Error> {
        let mut key = filter.to_owned();
        for bind in binds {
            key.push('\u{1f}');
            match bind {
                Bind::Text(text) => key.push_str(text),
                Bind::Int(number) => key.push_str(&number.to_string()),
            }
        }
        self.kept(&self.kept_outbox, key, self.outbox_rows(filter, binds))
            .await
    }

    /// What `read` reads, from `memo` while nothing was written since it was kept (SQLite; on
    /// PostgreSQL every read asks the database). The generation is taken before reading.
    async fn kept<K: Eq + std::hash::Hash, V>(
        &self,
        memo: &Memo<K, Arc<V>>,
        key: K,
        read: impl Future<Output = Result<V, sqlx::Error>>,
    ) -> Result<Arc<V>, sqlx::Error> {
        if !self.memory.keeps_tickets() {
            return Ok(Arc::new(read.await?));
        }
        let generation = self.memory.tickets_generation();
        if let Some(value) = memo.get(&key, generation) {
            return Ok(value);
        }
        let value = Arc::new(read.await?);
        memo.put(key, value.clone(), generation);
        Ok(value)
    }

    /// Where changes worth a mail are reported (the webhook side reports through this too).
    pub fn notifier(&self) -> &Arc<Notifier> {
        &self.notifier
    }

    pub fn board(&self) -> &TicketBoard {
        &self.board
    }

    pub fn live(&self) -> &Arc<LiveHub> {
        &self.live
    }

    /// Loads of ticket lists and details from monday since start-up.
    pub fn cache_loads(&self) -> u64 {
        self.lists.loads() + self.details.loads()
    }

    /// This instance's name in outbox leases.
    pub fn instance(&self) -> &str {
        self.cluster.instance()
    }

    pub fn markers(&self) -> &Markers {
        &self.markers
    }

    /// Outbox rows matching `filter` (with `$1`… for `binds`), oldest first.
    async fn outbox_rows(
        &self,
        filter: &str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<OutboxRow>, sqlx::Error> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {filter} ORDER BY seq");
        crate::on_db!(&self.db, pool => {
            let mut query = sqlx::query_as::<_, OutboxRow>(&sql);
            for bind in binds {
                query = match bind {
                    Bind::Text(text) => query.bind(*text),
                    Bind::Int(number) => query.bind(*number),
                };
            }
            query.fetch_all(pool).await
        })
    }

    /// Outbox tickets and replies still waiting to reach monday (for `/metrics`).
    pub async fn waiting_in_outbox(&self) -> Result<i64, sqlx::Error> {
        crate::on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE state = 'waiting'",
        )
        .fetch_one(pool)
        .await)
    }

    /// The portal's tickets as monday's cache holds them now, without asking monday; `None`
    /// when they are not cached or a change has made them stale. (Live messages render their
    /// rows from it; outbox tickets are not in it.)
    pub async fn cached_portal_tickets(&self, portal_id: &str) -> Option<Vec<Ticket>> {
        let list = self.lists.peek_current(portal_id).await?;
        Some(
            list.iter()
                .filter(|t| t.portal_id == portal_id)
                .cloned()
                .collect(),
        )
    }

    /// The tickets `access` may see: the portal's on monday (through the cache) plus those
    /// still in the outbox; for a requester, only the ones they raised or follow.
    pub async fn list(&self, access: &Access) -> Result<Fresh<Vec<Ticket>>, TicketError> {
        let member = &access.member;
        let portal = member.portal_id.clone();
        let board = self.board.clone();
        let db = self.db.clone();
        let cached = self
            .lists
            .get(&member.portal_id, || async move {
                let mut tickets = board.portal_tickets(&portal).await?;
                complete_descriptions(&db, &mut tickets).await;
                Ok(Arc::new(tickets))
            })
            .await?;
        // Tickets still in the outbox, and ones delivered so recently that the cached list
        // (or saved data, while monday is down) may not have them yet.
        // Read with a window a minute wider, rounded to the minute, so the same read serves a
        // minute of page loads; the rows are then cut to the window itself.
        let now = now_unix();
        let recent = now - RECENTLY_DELIVERED_SECONDS;
        let read_from = (recent - 60) / 60 * 60;
        let outbox: Vec<OutboxRow> = self
            .outbox_rows_for_page(
                "portal_id = $1 AND kind = 'ticket' AND (state != 'delivered' OR delivered_at > $2)",
                &[Bind::Text(&member.portal_id), Bind::Int(read_from)],
            )
            .await?
            .iter()
            .filter(|row| row.state != "delivered" || row.delivered_at.is_some_and(|at| at > recent))
            .cloned()
            .collect();
        let mut tickets: Vec<Ticket> = cached
            .value
            .iter()
            .filter(|t| t.portal_id == member.portal_id)
            .cloned()
            .collect();
        for row in &outbox {
            match &row.monday_id {
                // On the board (a long description may still be on its way to the item's first
                // update): shown once, under the item's id.
                Some(item_id) => match tickets.iter_mut().find(|t| &t.id == item_id) {
                    Some(ticket) => ticket.delivery = row.delivery(),
                    None => tickets.push(Ticket {
                        id: item_id.clone(),
                        ..row.pending_ticket()
                    }),
                },
                None => tickets.push(row.pending_ticket()),
            }
        }
        tickets.retain(|ticket| access.can_see(ticket));
        Ok(Fresh {
            value: tickets,
            saved_at: cached.saved_at,
        })
    }

    async fn item_detail(
        &self,
        item_id: &str,
    ) -> Result<Fresh<Option<Arc<ItemDetail>>>, TicketError> {
        let board = self.board.clone();
        let db = self.db.clone();
        let id = item_id.to_owned();
        let result = self
            .details
            .get(item_id, || async move {
                let item = board.item_with_updates(&id).await?;
                let mut detail = item.map(|item| ItemDetail {
                    ticket: board.mapping().ticket_from(&item),
                    updates: item.updates.unwrap_or_default(),
                });
                if let Some(detail) = &mut detail {
                    complete_descriptions(&db, std::slice::from_mut(&mut detail.ticket)).await;
                    complete_from_updates(detail);
                }
                // A missing item is cached too, as an empty detail for no portal.
                Ok(Arc::new(detail.unwrap_or_else(|| ItemDetail {
                    ticket: missing_ticket(),
                    updates: Vec::new(),
                })))
            })
            .await?;
        self.learn_users(&result.value.updates);
        let detail = Some(result.value).filter(|d| !d.ticket.portal_id.is_empty());
        Ok(Fresh {
            value: detail,
            saved_at: result.saved_at,
        })
    }

    /// One ticket with its public conversation. Another portal's ticket, or a colleague's
    /// that a requester does not follow, is `NotFound`.
    pub async fn detail(
        &self,
        access: &Access,
        ticket_id: &str,
    ) -> Result<Fresh<TicketDetail>, TicketError> {
        let member = &access.member;
        if let Some(outbox_id) = ticket_id.strip_prefix(PENDING_PREFIX) {
            let rows = self
                .outbox_rows(
                    "id = $1 AND portal_id = $2 AND kind = 'ticket'",
                    &[Bind::Text(outbox_id), Bind::Text(&member.portal_id)],
                )
                .await?;
            let row = rows.first().ok_or(TicketError::NotFound)?;
            if let (Some(item_id), "delivered") = (&row.monday_id, row.state.as_str()) {
                // It reached monday since the page was loaded: show the real ticket.
                return Box::pin(self.detail(access, &item_id.clone())).await;
            }
            let ticket = row.pending_ticket();
            if !access.can_see(&ticket) {
                return Err(TicketError::NotFound);
            }
            let files = self
                .attachments_for_page(std::slice::from_ref(row))
                .await?
                .of_row(&row.id);
            return Ok(Fresh {
                value: TicketDetail {
                    timeline: vec![TimelineEntry {
                        status: Status::Open,
                        at: ticket.created_at.clone(),
                    }],
                    ticket,
                    replies: Vec::new(),
                    files,
                },
                saved_at: None,
            });
        }
        if !is_monday_id(ticket_id) {
            return Err(TicketError::NotFound);
        }
        // Each id the caches do not know costs a monday call: a member who keeps asking for
        // ids that turn out not to be theirs must wait, and no longer spends the board's calls.
        let miss_key = format!("{}\n{}", member.portal_id, member.email);
        if let Some(wait) = self.misses.wait(&miss_key).await
            && self.details.peek(ticket_id).await.is_none()
        {
            return Err(TicketError::TooManyLookups(wait));
        }
        let fresh = self.item_detail(ticket_id).await?;
        let Some(detail) = fresh.value.filter(|d| access.can_see(&d.ticket)) else {
            let _ = self.misses.check(&miss_key).await;
            return Err(TicketError::NotFound);
        };
        // The client's messages on the ticket, and the ticket's own row (for its files).
        let mine = self
            .outbox_rows_for_page(
                "item_id = $1 AND portal_id = $2",
                &[Bind::Text(ticket_id), Bind::Text(&member.portal_id)],
            )
            .await?;
        let files = self.attachments_for_page(&mine).await?;
        let files_of = |row: &OutboxRow| files.of_row(&row.id);
        let messages: Vec<ClientMessage> = mine
            .iter()
            .filter(|row| row.kind == "reply")
            .map(|row| ClientMessage {
                files: files_of(row),
                ..row.client_message()
            })
            .collect();
        let ticket_files = mine
            .iter()
            .filter(|row| row.kind == "ticket")
            .flat_map(files_of)
            .collect();
        let replies = conversation::conversation(&detail.updates, &messages, &self.markers);
        let timeline = self.timeline(&detail.ticket).await?;
        Ok(Fresh {
            value: TicketDetail {
                ticket: detail.ticket.clone(),
                replies,
                timeline,
                files: ticket_files,
            },
            saved_at: fresh.saved_at,
        })
    }

    async fn timeline(&self, ticket: &Ticket) -> Result<Vec<TimelineEntry>, sqlx::Error> {
        let key = (ticket.id.clone(), ticket.portal_id.clone());
        let read = async {
            crate::on_db!(&self.db, pool => sqlx::query_as(
                "SELECT status, at FROM ticket_events WHERE item_id = $1 AND portal_id = $2 \
                     ORDER BY id",
            )
            .bind(&ticket.id)
            .bind(&ticket.portal_id)
            .fetch_all(pool)
            .await)
        };
        let changes = self.kept(&self.kept_history, key, read).await?;
        let mut timeline = vec![TimelineEntry {
            status: Status::Open,
            at: ticket.created_at.clone(),
        }];
        for (status, at) in changes.iter() {
            if let Some(status) = Status::parse(status)
                && timeline.last().is_none_or(|last| last.status != status)
            {
                timeline.push(TimelineEntry {
                    status,
                    at: at.clone(),
                });
            }
        }
        if timeline
            .last()
            .is_some_and(|last| last.status != ticket.status)
        {
            timeline.push(TimelineEntry {
                status: ticket.status,
                at: ticket.updated_at.clone(),
            });
        }
        Ok(timeline)
    }

    /// Saves a new ticket and hands it to the outbox. Returns at once with the ticket as it
    /// stands (usually still waiting for monday).
    pub async fn create(
        &self,
        member: &Member,
        author_name: Option<&str>,
        ticket: &NewTicket,
        files: Vec<attachments::SpooledFile>,
    ) -> Result<Ticket, TicketError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_unix();
        // The files first: the outbox may take the row the moment it exists.
        self.store_files(&id, &member.portal_id, &files).await?;
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO outbox (id, kind, portal_id, author_email, author_name, title, description,
                                 priority, next_attempt_at, created_at)
             VALUES ($1, 'ticket', $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&member.portal_id)
        .bind(&member.email)
        .bind(author_name)
        .bind(&ticket.title)
        .bind(&ticket.description)
        .bind(ticket.priority.as_str())
        .bind(now)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.wrote_bookkeeping();
        self.wakeup.notify_one();
        // The author's page shows it from the outbox; other tabs hear of it from monday's
        // webhook once the team can see it.
        let rows = self.outbox_rows("id = $1", &[Bind::Text(&id)]).await?;
        let row = rows.first().ok_or(TicketError::NotFound)?;
        Ok(row.pending_ticket())
    }

    /// Saves a client's reply and hands it to the outbox. With `reply_to` (a team message's
    /// thread, as the page offers it) it is posted as a monday reply in that thread.
    pub async fn reply(
        &self,
        access: &Access,
        by: Writer<'_>,
        ticket_id: &str,
        body: &str,
        reply_to: Option<&str>,
        files: Vec<attachments::SpooledFile>,
    ) -> Result<Reply, TicketError> {
        // Files alone make a message too; monday's update then names them.
        let body = if body.trim().is_empty() && !files.is_empty() {
            let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
            crate::i18n::td_string!(
                by.locale,
                ticket.client_note.attached,
                names = names.join(", ")
            )
        } else {
            body.to_owned()
        };
        let body = crate::model::validate_reply(&body).map_err(TicketError::Invalid)?;
        if ticket_id.starts_with(PENDING_PREFIX) {
            return Err(TicketError::Invalid(FieldError {
                field: "pending_reply",
                message: "This ticket has not reached the team yet. You can reply once it has."
                    .into(),
            }));
        }
        // The ticket must be one the member may see: the same check as reading it.
        let detail = self.detail(access, ticket_id).await?;
        // Only a thread the client can see on this ticket: never another item's update.
        let parent = match reply_to.filter(|r| !r.is_empty()) {
            None => None,
            Some(thread) => {
                let offered = detail
                    .value
                    .replies
                    .iter()
                    .any(|r| !r.from_client && r.thread.as_deref() == Some(thread));
                if !offered {
                    return Err(TicketError::Invalid(FieldError {
                        field: "reply_to",
                        message:
                            "That message is no longer on this ticket. Send a new message instead."
                                .into(),
                    }));
                }
                Some(thread.to_owned())
            }
        };
        // A message on a resolved ticket reopens it, while the client may still reopen it.
        let action = if detail.value.ticket.status.is_done() {
            self.check_reply_reopens(&detail.value)?;
            Some(ClientAction::Reopen)
        } else {
            None
        };
        self.enqueue_message(
            access,
            by.name,
            &detail.value.ticket,
            NewMessage {
                body: &body,
                parent: parent.as_deref(),
                action,
                files,
            },
        )
        .await
    }

    /// Saves a client's message (and what it also does on the board) in the outbox, tells the
    /// portal's open pages, and returns it as the conversation shows it.
    async fn enqueue_message(
        &self,
        access: &Access,
        author_name: Option<&str>,
        ticket: &Ticket,
        message: NewMessage<'_>,
    ) -> Result<Reply, TicketError> {
        let NewMessage {
            body,
            parent,
            action,
            files,
        } = message;
        let member = &access.member;
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_unix();
        let stored = self.store_files(&id, &member.portal_id, &files).await?;
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO outbox (id, kind, portal_id, author_email, author_name, item_id, body,
                                 parent_update_id, next_attempt_at, created_at, action,
                                 action_value)
             VALUES ($1, 'reply', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&member.portal_id)
        .bind(&member.email)
        .bind(author_name)
        .bind(&ticket.id)
        .bind(body)
        .bind(parent)
        .bind(now)
        .bind(now)
        .bind(action.map(ClientAction::as_str))
        .bind(action.and_then(ClientAction::value))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.wrote_bookkeeping();
        self.wakeup.notify_one();
        let rows = self.outbox_rows("id = $1", &[Bind::Text(&id)]).await?;
        let row = rows.first().ok_or(TicketError::NotFound)?;
        let message = ClientMessage {
            files: stored,
            ..row.client_message()
        };
        let reply = conversation::conversation(&[], &[message], &self.markers)
            .pop()
            .ok_or(TicketError::NotFound)?;
        self.live.publish(
            &member.portal_id,
            LiveEvent::ReplyAdded {
                ticket_id: ticket.id.clone(),
                title: ticket.title.clone(),
                reply: reply.clone(),
            },
        );
        Ok(reply)
    }

    /// The ticket as the caches last saw it, with the portal it belonged to then.
    pub async fn cached_ticket(&self, item_id: &str) -> Option<Ticket> {
        if let Some(detail) = self.details.peek(item_id).await
            && !detail.ticket.portal_id.is_empty()
        {
            return Some(detail.ticket.clone());
        }
        for portal in self.lists.keys() {
            if let Some(list) = self.lists.peek(&portal).await
                && let Some(ticket) = list.iter().find(|t| t.id == item_id)
            {
                return Some(ticket.clone());
            }
        }
        None
    }

    /// Whether monday update `update_id` is a client's message the portal posted.
    pub async fn is_portal_update(&self, update_id: &str) -> bool {
        crate::on_db!(&self.db, pool => sqlx::query("SELECT 1 FROM outbox WHERE kind = 'reply' AND monday_id = $1")
            .bind(update_id)
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some()))
            .unwrap_or(false)
    }

    /// A webhook said an item changed: forget what the caches hold for it and its portal.
    pub async fn invalidate(&self, portal_id: &str, item_id: &str) {
        self.lists.invalidate(portal_id).await;
        self.details.invalidate(item_id).await;
    }

    /// Changes a ticket wherever the caches hold it (its detail and its portal's list), with
    /// what a webhook said; returns the ticket as it now stands, or `None` when no cache holds
    /// it. No call to monday.
    pub async fn patch_ticket(
        &self,
        item_id: &str,
        change: impl Fn(&mut Ticket),
    ) -> Option<Ticket> {
        let mut patched = None;
        self.details
            .update(item_id, |detail| {
                if !detail.ticket.portal_id.is_empty() {
                    let mut changed = (**detail).clone();
                    change(&mut changed.ticket);
                    patched = Some(changed.ticket.clone());
                    *detail = Arc::new(changed);
                }
            })
            .await;
        for portal in self.lists.keys() {
            self.lists
                .update(&portal, |list| {
                    if let Some(at) = list.iter().position(|t| t.id == item_id) {
                        let mut tickets = (**list).clone();
                        change(&mut tickets[at]);
                        patched.get_or_insert_with(|| tickets[at].clone());
                        *list = Arc::new(tickets);
                    }
                })
                .await;
        }
        patched
    }

    /// Takes a ticket out of every cached list and detail (archived, deleted, or moved to
    /// another portal's list by [`TicketService::put_ticket`]).
    pub async fn drop_ticket(&self, item_id: &str) {
        self.details.forget(item_id).await;
        for portal in self.lists.keys() {
            self.lists
                .update(&portal, |list| {
                    if list.iter().any(|t| t.id == item_id) {
                        *list =
                            Arc::new(list.iter().filter(|t| t.id != item_id).cloned().collect());
                    }
                })
                .await;
        }
    }

    /// Puts a ticket read from monday into its portal's cached list (replacing an older copy),
    /// and refreshes its cached detail's fields.
    pub async fn put_ticket(&self, ticket: &Ticket) {
        let mut ticket = ticket.clone();
        complete_descriptions(&self.db, std::slice::from_mut(&mut ticket)).await;
        for portal in self
            .lists
            .keys()
            .into_iter()
            .filter(|p| *p != ticket.portal_id)
        {
            self.lists
                .update(&portal, |list| {
                    if list.iter().any(|t| t.id == ticket.id) {
                        *list =
                            Arc::new(list.iter().filter(|t| t.id != ticket.id).cloned().collect());
                    }
                })
                .await;
        }
        self.lists
            .update(&ticket.portal_id, |list| {
                let mut tickets: Vec<Ticket> =
                    list.iter().filter(|t| t.id != ticket.id).cloned().collect();
                tickets.push(ticket.clone());
                *list = Arc::new(tickets);
            })
            .await;
        self.details
            .update(&ticket.id, |detail| {
                let mut changed = (**detail).clone();
                changed.ticket = ticket.clone();
                *detail = Arc::new(changed);
            })
            .await;
    }

    /// The cached updates of an item, if its detail is cached.
    pub async fn cached_updates(&self, item_id: &str) -> Option<Vec<monday::UpdateNode>> {
        self.details
            .peek(item_id)
            .await
            .filter(|d| !d.ticket.portal_id.is_empty())
            .map(|d| d.updates.clone())
    }

    /// Changes the cached updates of an item (a webhook said one was posted, edited or
    /// deleted); false when the detail is not cached.
    pub async fn patch_updates(
        &self,
        item_id: &str,
        change: impl FnOnce(&mut Vec<monday::UpdateNode>),
    ) -> bool {
        let mut done = false;
        self.details
            .update(item_id, |detail| {
                if !detail.ticket.portal_id.is_empty() {
                    let mut changed = (**detail).clone();
                    change(&mut changed.updates);
                    *detail = Arc::new(changed);
                    done = true;
                }
            })
            .await;
        done
    }

    /// Whether an update whose text is `text`, just posted on item `item_id`, is one of the
    /// portal's own messages still being delivered: its author's address and its first line,
    /// as the portal writes them on monday.
    pub async fn is_message_in_flight(&self, item_id: &str, text: &str) -> bool {
        let Ok(rows) = self
            .outbox_rows(
                "kind = 'reply' AND item_id = $1 AND monday_id IS NULL AND state = 'waiting'",
                &[Bind::Text(item_id)],
            )
            .await
        else {
            return false;
        };
        rows.iter().any(|row| {
            let first_line = row
                .body
                .as_deref()
                .and_then(|body| body.lines().map(str::trim).find(|l| !l.is_empty()));
            text.contains(&row.author_email) && first_line.is_some_and(|line| text.contains(line))
        })
    }

    /// The outbox row of the portal's message posted as monday update `update_id`, if any:
    /// `(outbox id, the update whose thread it answered)`.
    pub async fn portal_message(&self, update_id: &str) -> Option<(String, Option<String>)> {
        crate::on_db!(&self.db, pool => sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT id, parent_update_id FROM outbox WHERE kind = 'reply' AND monday_id = $1",
        )
        .bind(update_id)
        .fetch_optional(pool)
        .await)
        .ok()
        .flatten()
    }

    /// A team member's name, from what the portal has seen or (once per member) from monday.
    pub async fn user_name(&self, user_id: &str) -> String {
        let known = self
            .users
            .lock()
            .ok()
            .and_then(|users| users.get(user_id).cloned());
        if let Some(name) = known {
            return name;
        }
        match self.board.users(&[user_id]).await {
            Ok(users) => {
                let mut known = self.users.lock().unwrap_or_else(|p| p.into_inner());
                for user in users {
                    known.insert(user.id, user.name);
                }
                known
                    .get(user_id)
                    .cloned()
                    .unwrap_or_else(|| crate::model::TEAM_AUTHOR.into())
            }
            Err(error) => {
                tracing::info!(%error, "could not read a team member's name");
                crate::model::TEAM_AUTHOR.into()
            }
        }
    }

    /// A name the portal already knows (no call).
    pub fn known_user(&self, user_id: &str) -> Option<String> {
        self.users.lock().ok()?.get(user_id).cloned()
    }

    /// Whether `access` may see ticket `ticket_id` (an item or a `pending-` outbox id), from
    /// what this instance knows without asking monday. Unknown tickets are not visible: the
    /// live socket asks this for requesters, and a requester misses a change rather than
    /// hearing of a colleague's ticket.
    pub async fn visible_to(&self, access: &Access, ticket_id: &str) -> bool {
        if access.role.sees_all_tickets() || access.follows(ticket_id) {
            return true;
        }
        let raised_by_them = |row: &OutboxRow| {
            row.portal_id == access.member.portal_id && row.author_email == access.member.email
        };
        if let Some(outbox_id) = ticket_id.strip_prefix(PENDING_PREFIX) {
            return self
                .outbox_rows("id = $1 AND kind = 'ticket'", &[Bind::Text(outbox_id)])
                .await
                .is_ok_and(|rows| rows.iter().any(raised_by_them));
        }
        if let Some(ticket) = self.cached_ticket(ticket_id).await {
            return access.can_see(&ticket);
        }
        self.outbox_rows(
            "kind = 'ticket' AND monday_id = $1",
            &[Bind::Text(ticket_id)],
        )
        .await
        .is_ok_and(|rows| rows.iter().any(raised_by_them))
    }

    /// A ticket the outbox delivered, as the client wrote it: what a `create_pulse` webhook
    /// for the portal's own item needs, without asking monday.
    pub async fn delivered_ticket(&self, item_id: &str) -> Option<Ticket> {
        let rows = self
            .outbox_rows("kind = 'ticket' AND monday_id = $1", &[Bind::Text(item_id)])
            .await
            .ok()?;
        rows.first().map(|row| Ticket {
            id: item_id.to_owned(),
            delivery: Delivery::Delivered,
            ..row.pending_ticket()
        })
    }

    /// Update `update_id` of item `item_id` as its portal's client sees it (with the ticket),
    /// or `None` when the client does not see it. Reads the item only when its detail is not
    /// cached.
    pub async fn public_message(&self, item_id: &str, update_id: &str) -> Option<(Ticket, Reply)> {
        let detail = self.item_detail(item_id).await.ok()?.value?;
        let rows = self
            .outbox_rows(
                "item_id = $1 AND kind = 'reply' AND portal_id = $2",
                &[Bind::Text(item_id), Bind::Text(&detail.ticket.portal_id)],
            )
            .await
            .ok()?;
        let messages: Vec<ClientMessage> = rows.iter().map(OutboxRow::client_message).collect();
        let reply = conversation::conversation(&detail.updates, &messages, &self.markers)
            .into_iter()
            .find(|r| r.id == update_id && !r.from_client)?;
        Some((detail.ticket.clone(), reply))
    }

    /// Remembers a team member's name another instance learnt.
    pub fn learn_user(&self, user_id: &str, name: &str) {
        let mut known = self.users.lock().unwrap_or_else(|p| p.into_inner());
        known.insert(user_id.to_owned(), name.to_owned());
    }

    /// Remembers names seen in updates read from monday, so webhooks need not ask for them.
    pub fn learn_users(&self, updates: &[monday::UpdateNode]) {
        let mut known = self.users.lock().unwrap_or_else(|p| p.into_inner());
        for update in updates {
            if let Some(creator) = &update.creator {
                known.insert(creator.id.clone(), creator.name.clone());
            }
            for reply in update.replies.iter().flatten() {
                if let Some(creator) = &reply.creator {
                    known.insert(creator.id.clone(), creator.name.clone());
                }
            }
        }
    }

    /// Records a status change for the ticket's timeline.
    pub async fn record_status(&self, portal_id: &str, item_id: &str, status: Status, at: &str) {
        let result = crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO ticket_events (item_id, portal_id, status, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(item_id)
        .bind(portal_id)
        .bind(status.as_str())
        .bind(at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        self.wrote_bookkeeping();
        if let Err(error) = result {
            tracing::error!(%error, "could not record a status change");
        }
    }
}

/// The whole description from the item's first update written by the portal, when the board
/// holds only its start and the outbox does not have it (another instance created it).
fn complete_from_updates(detail: &mut ItemDetail) {
    if !detail.ticket.description.ends_with(CONTINUED) {
        return;
    }
    // The reference is gone from the mapped text; find it again in the updates' header.
    let whole = detail.updates.iter().rev().find_map(|update| {
        let text = update.text_body.as_deref()?;
        let reference = text.split_once("reference ")?.1.get(..34)?;
        description_from_update(update, reference)
    });
    if let Some(whole) = whole {
        detail.ticket.description = whole;
    }
}

fn missing_ticket() -> Ticket {
    Ticket {
        id: String::new(),
        title: String::new(),
        description: String::new(),
        status: Status::Open,
        priority: Priority::Medium,
        portal_id: String::new(),
        client_email: None,
        created_at: String::new(),
        updated_at: String::new(),
        delivery: Delivery::Delivered,
    }
}
