//! Types shared by the server and the browser. Nothing here may carry a secret: every value
//! can end up serialised into a page.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    InProgress,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
    ];

    /// The label on the monday board and on the page.
    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "Open",
            Status::InProgress => "In Progress",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
        }
    }

    /// The REST contract's spelling (`in_progress`), also used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| {
            s.as_str().eq_ignore_ascii_case(value) || s.label().eq_ignore_ascii_case(value)
        })
    }

    /// Resolved or closed: the client may rate it, reopen it (for a while) or follow it up.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

/// How the client says the answer was, once a ticket is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Good,
    #[serde(rename = "bad")]
    NotGood,
}

impl Rating {
    pub const ALL: [Rating; 2] = [Rating::Good, Rating::NotGood];

    /// The spelling in URLs and forms (`?rate=good`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::NotGood => "bad",
        }
    }

    /// The label on the page and on the board's rating column.
    pub fn label(self) -> &'static str {
        match self {
            Rating::Good => "Good",
            Rating::NotGood => "Not good",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| {
            r.as_str().eq_ignore_ascii_case(value.trim())
                || r.label().eq_ignore_ascii_case(value.trim())
        })
    }
}

/// What a client's message on a resolved or closed ticket does (`CLOSED_TICKET_REPLIES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClosedReplies {
    /// The message reopens the ticket (while the reopen window lasts).
    #[default]
    Reopen,
    /// The message starts a new ticket that links back to this one.
    FollowUp,
}

impl std::str::FromStr for ClosedReplies {
    type Err = ();

    fn from_str(raw: &str) -> Result<Self, ()> {
        match raw.trim() {
            "reopen" => Ok(ClosedReplies::Reopen),
            "follow_up" | "follow-up" => Ok(ClosedReplies::FollowUp),
            _ => Err(()),
        }
    }
}

/// A ticket's rating as the portal recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingRecord {
    pub score: Rating,
    pub comment: String,
    pub by: String,
}

/// What the ticket page offers once a ticket is resolved: rating, reopening, following up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Resolution {
    /// Until when the client may reopen the resolved ticket (RFC 3339); `None` when it is not
    /// resolved or the window has passed.
    pub reopen_until: Option<String>,
    /// How many days the window lasts (`REOPEN_DAYS`), for the page's sentences.
    pub reopen_days: u32,
    pub rating: Option<RatingRecord>,
    pub closed_replies: ClosedReplies,
    /// A "solved", "reopen" or rating is still on its way to monday: the buttons wait for it.
    pub action_pending: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Medium => "Medium",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| {
            p.as_str().eq_ignore_ascii_case(value) || p.label().eq_ignore_ascii_case(value)
        })
    }
}

/// Where a ticket or reply the client wrote stands on its way to monday.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// On the board.
    #[default]
    Delivered,
    /// Saved by the portal, not yet accepted by monday; retried until it is.
    Waiting {
        attempts: u32,
        last_error: Option<String>,
    },
    /// monday refused it for good; kept so nothing is lost.
    Failed { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The monday item id, or `pending-<uuid>` while the ticket waits in the outbox.
    pub id: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub portal_id: String,
    pub client_email: Option<String>,
    /// RFC 3339 in UTC, second precision: `2024-10-06T10:00:00Z`.
    pub created_at: String,
    pub updated_at: String,
    pub delivery: Delivery,
}

/// How a team message is signed when monday does not say who wrote it. Readers see it as
/// `common.support_team` in their language (the i18n module's `words::author`).
pub const TEAM_AUTHOR: &str = "Support team";

/// One message in a ticket's public conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub id: String,
    pub author: String,
    pub from_client: bool,
    /// Sanitised HTML: safe to insert as markup.
    pub body_html: String,
    pub created_at: String,
    pub delivery: Delivery,
    /// The id (as shown here) of the message whose thread this one is in, if it is a reply.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// The monday update a reply to this message goes under (its thread), when the client may
    /// answer it there.
    #[serde(default)]
    pub thread: Option<String>,
    /// The team edited it after posting.
    #[serde(default)]
    pub edited: bool,
    /// Files on the message: the client's (each with its way to monday) or the team's.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

/// A file on a ticket, as the page lists it. It downloads through the portal at
/// [`FileRef::url`]: the portal checks who asks, and monday's own links never reach the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// `a…` for a file a client attached (the portal's id), `m…` for a file on monday (its
    /// asset id).
    pub key: String,
    pub name: String,
    pub size: u64,
    /// An image the browser may show inline (PNG, JPEG, GIF, WebP): the page shows a thumbnail.
    pub image: bool,
    /// For a client's file: on its way to monday, on the board, or refused.
    pub delivery: Delivery,
}

impl FileRef {
    /// Where the file downloads from, on the ticket it belongs to.
    pub fn url(&self, ticket_id: &str) -> String {
        format!("/tickets/{ticket_id}/files/{}", self.key)
    }
}

/// Where the new-ticket form posts (`multipart/form-data`, files included).
pub const NEW_TICKET_PATH: &str = "/tickets";

/// Where the message form of ticket `ticket_id` posts.
pub fn message_path(ticket_id: &str) -> String {
    format!("/tickets/{ticket_id}/messages")
}

/// What the server accepts in one message, so the browser can say so before uploading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub max_message_bytes: u64,
    pub max_files: u32,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 25 * 1024 * 1024,
            max_message_bytes: 50 * 1024 * 1024,
            max_files: 10,
        }
    }
}

/// File types the portal accepts, in words (the server decides by content, not by name).
pub const ACCEPTED_FILES: &str = "images (PNG, JPEG, GIF, WebP, HEIC), PDF, Word, Excel, \
    PowerPoint and OpenDocument files, plain text and CSV, ZIP archives, MP4 and MOV videos";

/// The units sizes are written in, smallest first, as English writes them; each language has
/// its own names for them (`common.size_unit`: "Ko", "Mo" in French).
pub const SIZE_UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];

/// `bytes` as people read sizes: "812 B", "312 KB", "4.2 MB".
pub fn human_size(bytes: u64) -> String {
    size_written(bytes, ".", &SIZE_UNITS)
}

/// `bytes` written with a language's decimal separator and its names for [`SIZE_UNITS`]: how
/// the browser writes the size of a file just chosen ("4,2 Mo").
pub fn size_written(bytes: u64, decimal: &str, units: &[impl AsRef<str>; 4]) -> String {
    let (tenths, decimals, unit) = size_parts(bytes);
    let unit = units[unit].as_ref();
    if decimals == 0 {
        format!("{} {unit}", tenths / 10)
    } else {
        format!("{}{decimal}{} {unit}", tenths / 10, tenths % 10)
    }
}

/// A size as its number in tenths, how many of its decimals to show (0 or 1) and its unit (an
/// index into [`SIZE_UNITS`]): what [`human_size`] writes, for a language to write its own way.
pub fn size_parts(bytes: u64) -> (u64, u8, usize) {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    let tenths = |value: f64| (value * 10.0).round() as u64;
    if b < KB {
        (bytes * 10, 0, 0)
    } else if b < KB * KB {
        (tenths((b / KB).max(1.0).round()), 0, 1)
    } else if b < KB * KB * KB {
        let mb = b / (KB * KB);
        if mb < 10.0 && mb.fract() > 0.05 {
            (tenths(mb), 1, 2)
        } else {
            (tenths(mb.round()), 0, 2)
        }
    } else {
        (tenths(b / (KB * KB * KB)), 1, 3)
    }
}

/// A point in a ticket's history shown on its timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub status: Status,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub replies: Vec<Reply>,
    pub timeline: Vec<TimelineEntry>,
    /// The files the client attached to the ticket itself (with its description).
    #[serde(default)]
    pub files: Vec<FileRef>,
}

/// What the page may show about the portal (branding) and who is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalBrand {
    pub id: String,
    pub name: String,
    /// `#rrggbb`, validated on the way in.
    pub colour: String,
    pub logo_url: Option<String>,
}

/// What a person may do inside their portal. The agency sets a portal's first admin
/// (`client-portal invite --role admin`); admins manage the rest from the Colleagues page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees every ticket of the portal and manages colleagues.
    Admin,
    /// Sees every ticket of the portal.
    #[default]
    Member,
    /// Sees only the tickets they raised or follow.
    Requester,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Member, Role::Requester];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Requester => "requester",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Requester => "Requester",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(value.trim()))
    }

    /// Whether the role sees every ticket of the portal (not only its own and followed ones).
    pub fn sees_all_tickets(self) -> bool {
        !matches!(self, Role::Requester)
    }
}

/// A person of the portal, as the Colleagues page and a ticket's followers list show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colleague {
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
}

impl Colleague {
    /// The name to show: the display name, or the address when there is none.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.email)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub display_name: Option<String>,
    /// The member's role in this portal, read on every request (never from the session).
    #[serde(default)]
    pub role: Role,
    pub portal: PortalBrand,
    /// The other portals this email is a member of, which the header offers to switch to.
    #[serde(default)]
    pub other_portals: Vec<PortalBrand>,
    /// What one message may carry in files.
    #[serde(default)]
    pub upload_limits: UploadLimits,
    /// A message for the member from their last form post without JavaScript that cannot be
    /// told by a code in the URL (it names their file), shown once.
    #[serde(default)]
    pub flash: Option<String>,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub viewer: Viewer,
    pub page: TicketPage,
    pub freshness: Freshness,
}

/// Everything a ticket's page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub viewer: Viewer,
    pub detail: TicketDetail,
    /// Who follows the ticket (they see it and hear of its changes).
    #[serde(default)]
    pub followers: Vec<Colleague>,
    /// Colleagues the viewer may add as followers (not yet following); empty for requesters,
    /// who do not see the portal's people.
    #[serde(default)]
    pub can_add: Vec<Colleague>,
    #[serde(default)]
    pub resolution: Resolution,
    pub freshness: Freshness,
}

/// What a magic link would do, shown before it is spent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkStatus {
    Valid {
        email: String,
        portal: PortalBrand,
    },
    /// Expired, used, tampered or another portal's: one answer for all.
    Unusable,
}

/// A member of a demo portal, listed on the login page only in local-board mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub portal_name: String,
    pub role: Role,
}

/// How fresh the data on a page is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Freshness {
    #[default]
    Live,
    /// monday did not answer; the page shows what was saved at `as_of`.
    Saved { as_of: String },
}

/// A change pushed to the browsers of one portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    TicketCreated {
        ticket: Ticket,
    },
    StatusChanged {
        ticket_id: String,
        title: String,
        status: Status,
    },
    PriorityChanged {
        ticket_id: String,
        title: String,
        priority: Priority,
    },
    Renamed {
        ticket_id: String,
        title: String,
    },
    ReplyAdded {
        ticket_id: String,
        title: String,
        reply: Reply,
    },
    Removed {
        ticket_id: String,
        title: String,
    },
    /// The team edited a message the client can see.
    ReplyEdited {
        ticket_id: String,
        title: String,
    },
    /// The team deleted a message the client could see.
    ReplyRemoved {
        ticket_id: String,
        title: String,
    },
    /// Another field (the description, say) changed.
    Updated {
        ticket_id: String,
        title: String,
    },
    /// A ticket or reply the portal saved reached monday (or failed for good). For a new
    /// ticket `ticket_id` is its `pending-` id and `monday_id` the item it became.
    DeliveryChanged {
        ticket_id: String,
        monday_id: Option<String>,
        delivery: Delivery,
    },
    /// Sent every few seconds so both ends notice a dead connection.
    Heartbeat,
}

impl LiveEvent {
    /// Whether the event changes ticket `id` (a pending ticket's id or the item it became).
    pub fn concerns(&self, id: &str) -> bool {
        match self {
            LiveEvent::TicketCreated { ticket } => ticket.id == id,
            LiveEvent::DeliveryChanged {
                ticket_id,
                monday_id,
                ..
            } => ticket_id == id || monday_id.as_deref() == Some(id),
            LiveEvent::StatusChanged { ticket_id, .. }
            | LiveEvent::PriorityChanged { ticket_id, .. }
            | LiveEvent::Renamed { ticket_id, .. }
            | LiveEvent::ReplyAdded { ticket_id, .. }
            | LiveEvent::Removed { ticket_id, .. }
            | LiveEvent::ReplyEdited { ticket_id, .. }
            | LiveEvent::ReplyRemoved { ticket_id, .. }
            | LiveEvent::Updated { ticket_id, .. } => ticket_id == id,
            LiveEvent::Heartbeat => false,
        }
    }
}

/// How the dashboard list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest first (the default).
    #[default]
    Created,
    /// Most recently changed first.
    Updated,
    /// Urgent first, then newest.
    Priority,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Created, Sort::Updated, Sort::Priority];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Created => "created",
            Sort::Updated => "updated",
            Sort::Priority => "priority",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Created => "Newest first",
            Sort::Updated => "Recently updated",
            Sort::Priority => "Priority",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// The dashboard's filters, as they appear in the URL (`?status=open&q=login&page=2`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketQuery {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub search: String,
    pub sort: Sort,
    /// 1-based.
    pub page: u32,
    /// Only the tickets the signed-in member raised (`?mine=1`); who that is comes from the
    /// session, never from the URL.
    pub mine: bool,
}

pub const PAGE_SIZE: usize = 25;
/// The longest comment a rating may carry, in characters.
pub const RATING_COMMENT_MAX_CHARS: usize = 1000;
/// The longest search the dashboard runs, in characters, and the most words it matches: every
/// entry point (URL, server function) is held to these, so a search costs at most a bounded
/// pass over each ticket's text.
pub const SEARCH_MAX_CHARS: usize = 200;
pub const SEARCH_MAX_WORDS: usize = 8;

/// `raw` trimmed to [`SEARCH_MAX_CHARS`].
pub fn bounded_search(raw: &str) -> String {
    raw.trim().chars().take(SEARCH_MAX_CHARS).collect()
}

impl TicketQuery {
    /// Reads the URL's query parameters; anything unknown is ignored.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            status: get("status").as_deref().and_then(Status::parse),
            priority: get("priority").as_deref().and_then(Priority::parse),
            search: get("q").map(|q| bounded_search(&q)).unwrap_or_default(),
            sort: get("sort")
                .as_deref()
                .and_then(Sort::parse)
                .unwrap_or_default(),
            page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1),
            mine: get("mine").is_some_and(|m| m == "1"),
        }
    }

    /// The query string for this view (what a link to it carries).
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if let Some(priority) = self.priority {
            parts.push(format!("priority={}", priority.as_str()));
        }
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode_query_value(&self.search)));
        }
        if self.sort != Sort::Created {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if self.mine {
            parts.push("mine=1".to_owned());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Tickets per status under the current priority and search filters.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusCounts {
    pub all: usize,
    pub open: usize,
    pub in_progress: usize,
    pub resolved: usize,
    pub closed: usize,
}

impl StatusCounts {
    /// The counts of `tickets`, in all and by status.
    pub fn of<'a>(tickets: impl IntoIterator<Item = &'a Ticket>) -> Self {
        let mut counts = StatusCounts::default();
        for ticket in tickets {
            counts.all += 1;
            match ticket.status {
                Status::Open => counts.open += 1,
                Status::InProgress => counts.in_progress += 1,
                Status::Resolved => counts.resolved += 1,
                Status::Closed => counts.closed += 1,
            }
        }
        counts
    }

    pub fn get(&self, status: Option<Status>) -> usize {
        match status {
            None => self.all,
            Some(Status::Open) => self.open,
            Some(Status::InProgress) => self.in_progress,
            Some(Status::Resolved) => self.resolved,
            Some(Status::Closed) => self.closed,
        }
    }
}

/// One page of a portal's tickets under a query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    /// Matching tickets across all pages.
    pub matching: usize,
    pub counts: StatusCounts,
    pub page: u32,
    pub pages: u32,
}

/// The words of a search, lowercased once, however the query arrived: at most
/// [`SEARCH_MAX_WORDS`] words from the first [`SEARCH_MAX_CHARS`] characters.
fn search_words(search: &str) -> Vec<String> {
    let bounded: String = search.chars().take(SEARCH_MAX_CHARS).collect();
    let mut words: Vec<String> = Vec::new();
    for word in bounded.split_whitespace().map(str::to_lowercase) {
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == SEARCH_MAX_WORDS {
            break;
        }
    }
    words
}

/// Every word in the title or the description. Each ticket's text is lowercased once, not once
/// per word.
fn matches_search(ticket: &Ticket, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let title = ticket.title.to_lowercase();
    let description = ticket.description.to_lowercase();
    words
        .iter()
        .all(|word| title.contains(word.as_str()) || description.contains(word.as_str()))
}

/// The default order: newest first (ties by id, so the order is total).
fn newest_first(a: &Ticket, b: &Ticket) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
}

/// Whether `ticket` comes first of `tickets` in the default order, so a new ticket's row goes
/// at the top of the first page.
pub fn is_newest(ticket: &Ticket, tickets: &[Ticket]) -> bool {
    tickets
        .iter()
        .all(|other| other.id == ticket.id || newest_first(ticket, other).is_lt())
}

/// `1 ticket`, `25 tickets`: the count above the dashboard's list.
pub fn tickets_label(count: usize) -> String {
    format!("{count} ticket{}", if count == 1 { "" } else { "s" })
}

/// Filters, counts, sorts and pages a portal's tickets as `viewer` (the signed-in member's
/// email, whose tickets "Raised by me" keeps) sees them.
pub fn apply_query(tickets: &[Ticket], query: &TicketQuery, viewer: &str) -> TicketPage {
    let words = search_words(&query.search);
    let filtered: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| !query.mine || t.client_email.as_deref() == Some(viewer))
        .filter(|t| query.priority.is_none_or(|p| t.priority == p))
        .filter(|t| matches_search(t, &words))
        .collect();
    let counts = StatusCounts::of(filtered.iter().copied());
    let mut matching: Vec<&Ticket> = filtered
        .into_iter()
        .filter(|t| query.status.is_none_or(|s| t.status == s))
        .collect();
    let newest = |a: &&Ticket, b: &&Ticket| newest_first(a, b);
    match query.sort {
        Sort::Created => matching.sort_by(newest),
        Sort::Updated => {
            matching.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(newest(a, b)))
        }
        Sort::Priority => matching.sort_by(|a, b| b.priority.cmp(&a.priority).then(newest(a, b))),
    }
    let total = matching.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1) as u32;
    let page = query.page.clamp(1, pages);
    let start = (page as usize - 1) * PAGE_SIZE;
    TicketPage {
        tickets: matching
            .into_iter()
            .skip(start)
            .take(PAGE_SIZE)
            .cloned()
            .collect(),
        matching: total,
        counts,
        page,
        pages,
    }
}

/// White or near-black, whichever reads better on `background` (`#rrggbb`).
pub fn text_colour_on(background: &str) -> &'static str {
    let channel = |i: usize| {
        u8::from_str_radix(background.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f64 / 255.0
    };
    let linear = |c: f64| {
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance =
        0.2126 * linear(channel(1)) + 0.7152 * linear(channel(3)) + 0.0722 * linear(channel(5));
    // Contrast against white is (1.05)/(L+0.05); against #0f172a (L≈0.0086) it is (L+0.05)/0.0586.
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0586 {
        "#ffffff"
    } else {
        "#0f172a"
    }
}

pub const TITLE_MAX_CHARS: usize = 255;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const REPLY_MAX_CHARS: usize = 10_000;

/// A new ticket as the client typed it, checked the same way in the browser and on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    pub title: String,
    pub description: String,
    pub priority: Priority,
}

/// What an invalid form can be wrong about: its fields, and a few states of the ticket a form
/// acts on. Each has its sentence as `common.notice.invalid_<name>` in every language, and is
/// the code (`invalid_<name>`) a no-JavaScript error redirect carries.
pub const FORM_FIELDS: &[&str] = &[
    "title",
    "description",
    "priority",
    "body",
    "email",
    "colleague",
    "domain",
    "name",
    "reason",
    "rating",
    "comment",
    "status",
    "zone",
    "language",
    "mode",
    "digest_hour",
    "utc_offset_minutes",
    "role",
    // A reply or a follow on a ticket still on its way to the team.
    "pending_reply",
    "pending_follow",
    // A reply to a team message that is no longer on the ticket.
    "reply_to",
    // A ticket's or message's files could not be kept (the portal's disk).
    "files_storage",
];

/// What a signed-in person may be refused (403), each with its sentence as
/// `common.notice.<name>` in every language.
pub const REFUSALS: &[&str] = &[
    "not_permitted",
    "admins_only",
    "own_role",
    "remove_self",
    "followers_by_members",
    "other_portal",
];

/// A member's language and time zone as the preferences page shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguagePrefs {
    /// The member's choices (`None`: the default).
    pub language: Option<String>,
    pub zone: Option<String>,
    /// What "the default" is: the portal's language (if the agency set one) and the browser's
    /// zone (if the browser has said).
    pub portal_language: Option<String>,
    pub browser_zone: Option<String>,
    /// The zones one may choose.
    pub zones: Vec<String>,
}

/// Which field of a form is wrong and why, in words a client understands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl NewTicket {
    /// Trims the input and checks its limits; lengths count characters, not bytes.
    pub fn validate(title: &str, description: &str, priority: &str) -> Result<Self, FieldError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(FieldError {
                field: "title",
                message: "Give the ticket a title.".into(),
            });
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(FieldError {
                field: "title",
                message: format!("Keep the title to {TITLE_MAX_CHARS} characters or fewer."),
            });
        }
        if title.chars().any(char::is_control) {
            return Err(FieldError {
                field: "title",
                message: "The title must be a single line of text.".into(),
            });
        }
        let description = without_nul(description);
        let description = description.trim();
        if description.chars().count() > DESCRIPTION_MAX_CHARS {
            return Err(FieldError {
                field: "description",
                message: format!(
                    "Keep the description to {DESCRIPTION_MAX_CHARS} characters or fewer."
                ),
            });
        }
        let priority = Priority::parse(priority.trim()).ok_or_else(|| FieldError {
            field: "priority",
            message: "Choose Low, Medium, High or Urgent.".into(),
        })?;
        Ok(Self {
            title: title.to_owned(),
            description: description.to_owned(),
            priority,
        })
    }
}

/// Text without NUL characters: they mean nothing in a message and no database text column can
/// hold them (PostgreSQL refuses them).
fn without_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', ""))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Checks a reply the client typed.
pub fn validate_reply(body: &str) -> Result<String, FieldError> {
    let body = without_nul(body);
    let body = body.trim();
    if body.is_empty() {
        return Err(FieldError {
            field: "body",
            message: "Write a message first.".into(),
        });
    }
    if body.chars().count() > REPLY_MAX_CHARS {
        return Err(FieldError {
            field: "body",
            message: format!("Keep the message to {REPLY_MAX_CHARS} characters or fewer."),
        });
    }
    Ok(body.to_owned())
}

/// Parses the canonical `YYYY-MM-DDTHH:MM:SSZ` (fractions allowed) into Unix seconds, without
/// a date library, so the browser bundle stays small.
pub fn parse_utc_seconds(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let num =
        |range: std::ops::Range<usize>| -> Option<i64> { value.get(range)?.parse::<i64>().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if !value.ends_with('Z') {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// "just now", "5 minutes ago", "3 days ago", or "in the future" for clock skew.
pub fn relative_time(now_seconds: i64, then_seconds: i64) -> String {
    let delta = now_seconds - then_seconds;
    if delta < -60 {
        return "in the future".into();
    }
    let delta = delta.max(0);
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match delta {
        0..=44 => "just now".into(),
        45..=3599 => plural((delta / 60).max(1), "minute"),
        3600..=86_399 => plural(delta / 3600, "hour"),
        86_400..=2_591_999 => plural(delta / 86_400, "day"),
        2_592_000..=31_535_999 => plural(delta / 2_592_000, "month"),
        _ => plural(delta / 31_536_000, "year"),
    }
}

/// `2024-10-06 10:00 UTC`, the exact time shown on hover.
pub fn exact_time(value: &str) -> String {
    if value.len() >= 16 && parse_utc_seconds(value).is_some() {
        format!("{} {} UTC", &value[..10], &value[11..16])
    } else {
        value.to_owned()
    }
}

/// A live event as the socket sends it, with what lets an open dashboard update itself in place
/// instead of loading the page again: the changed ticket's row as the dashboard renders it, its
/// status, and the portal's status counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMessage {
    #[serde(flatten)]
    pub event: LiveEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<RowUpdate>,
    /// For a removed ticket: the portal's status counts without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<StatusCounts>,
}

/// The changed ticket's dashboard row (HTML, rendered once on the server for every open tab).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowUpdate {
    pub ticket_id: String,
    pub html: String,
    pub status: Status,
    pub counts: StatusCounts,
    /// The ticket comes first of all its portal's tickets in the default order (newest first):
    /// a new ticket's row then goes at the top of the first page.
    #[serde(default)]
    pub newest: bool,
}

/// What an open dashboard's list shows, as its markup says: which page of how many, and how
/// many tickets match its filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListShape {
    pub page: u32,
    pub pages: u32,
    pub matching: usize,
}

/// What an open dashboard does with a live message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DashboardUpdate {
    /// Swap the ticket's row for the message's, and set the counts.
    ReplaceRow,
    /// A new ticket: put its row at the top (the last row moves to the next page), and set
    /// the counts and the number of matching tickets.
    InsertRow,
    /// A removed ticket: take its row away, and set the counts and the number of matching
    /// tickets.
    RemoveRow,
    /// The ticket is not on this page and does not join it: set the counts.
    CountsOnly,
    /// The change may reorder, add or drop rows: load the page again.
    Reload,
}

/// Decides how a dashboard showing `query` follows `message`. `row_shown`: the ticket's row is
/// on the page; `waiting`: the page shows something still on its way to monday (whose rows and
/// counts only the server knows); `list`: the list's shape (none when the page shows no list).
/// In place only when the result is certainly what a reload would show: the default order
/// (newest first, which a change never moves), no search and no priority filter (the counts are
/// the portal's), the row staying in or out of the status filter, and a new ticket joining the
/// top of a first page without adding a page (whose links only the server renders).
pub fn dashboard_update(
    message: &LiveMessage,
    query: &TicketQuery,
    row_shown: bool,
    waiting: bool,
    list: Option<ListShape>,
) -> DashboardUpdate {
    let changes_a_ticket = matches!(
        message.event,
        LiveEvent::StatusChanged { .. }
            | LiveEvent::PriorityChanged { .. }
            | LiveEvent::Renamed { .. }
            | LiveEvent::Updated { .. }
            | LiveEvent::ReplyAdded { .. }
            | LiveEvent::ReplyEdited { .. }
            | LiveEvent::ReplyRemoved { .. }
    );
    let created = matches!(message.event, LiveEvent::TicketCreated { .. });
    let plain_view = query.search.is_empty()
        && query.priority.is_none()
        && !query.mine
        && query.sort == Sort::Created;
    if let LiveEvent::Removed { .. } = message.event {
        // Only from the last page, which keeps a row: elsewhere the rows after it move up
        // from the next page, and an emptied page is no longer there.
        let rows_here = list.map_or(0, |list| {
            list.matching
                .saturating_sub((list.page as usize).saturating_sub(1) * PAGE_SIZE)
        });
        let last_page = list.is_some_and(|list| list.page == list.pages);
        return if message.remaining.is_some()
            && plain_view
            && !waiting
            && row_shown
            && last_page
            && rows_here > 1
        {
            DashboardUpdate::RemoveRow
        } else {
            DashboardUpdate::Reload
        };
    }
    let Some(row) = &message.row else {
        return DashboardUpdate::Reload;
    };
    if !(changes_a_ticket || created)
        || waiting
        || !plain_view
        || !message.event.concerns(&row.ticket_id)
    {
        return DashboardUpdate::Reload;
    }
    let in_filter = query.status.is_none_or(|status| status == row.status);
    if created && !row_shown {
        let Some(list) = list else {
            return DashboardUpdate::Reload;
        };
        let pages_after = (list.matching + 1).div_ceil(PAGE_SIZE).max(1);
        return if !in_filter {
            DashboardUpdate::CountsOnly
        } else if list.page == 1 && row.newest && pages_after == list.pages as usize {
            DashboardUpdate::InsertRow
        } else {
            // Every row after it moves down a place, or a page is added.
            DashboardUpdate::Reload
        };
    }
    match (row_shown, query.status) {
        (true, _) if in_filter => DashboardUpdate::ReplaceRow,
        // Leaves the filtered list (the rows after it move up), or may join it somewhere.
        (true, _) | (false, Some(_)) => DashboardUpdate::Reload,
        // Unfiltered and on another page: only the counts by status move.
        (false, None) => DashboardUpdate::CountsOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_both_spellings() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
            assert_eq!(Status::parse(status.label()), Some(status));
        }
        assert_eq!(Status::parse("Working on it"), None);
        assert_eq!(
            serde_json::to_string(&Status::InProgress).unwrap(),
            "\"in_progress\""
        );
    }

    #[test]
    fn new_ticket_limits_count_characters() {
        let title = "é".repeat(TITLE_MAX_CHARS);
        assert!(NewTicket::validate(&title, "", "high").is_ok());
        let too_long = "é".repeat(TITLE_MAX_CHARS + 1);
        assert_eq!(
            NewTicket::validate(&too_long, "", "high")
                .unwrap_err()
                .field,
            "title"
        );
        assert_eq!(
            NewTicket::validate("   ", "", "high").unwrap_err().field,
            "title"
        );
        assert_eq!(
            NewTicket::validate("ok", "", "critical").unwrap_err().field,
            "priority"
        );
        let description = "x".repeat(DESCRIPTION_MAX_CHARS + 1);
        assert_eq!(
            NewTicket::validate("ok", &description, "low")
                .unwrap_err()
                .field,
            "description"
        );
        assert_eq!(
            NewTicket::validate("a\nb", "", "low").unwrap_err().field,
            "title"
        );
    }

    #[test]
    fn parses_utc_timestamps() {
        assert_eq!(parse_utc_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_utc_seconds("2024-10-06T10:00:00Z"),
            Some(1_728_208_800)
        );
        assert_eq!(
            parse_utc_seconds("2024-02-29T23:59:59.123Z"),
            Some(1_709_251_199)
        );
        assert_eq!(parse_utc_seconds("2024-10-06 10:00:00"), None);
        assert_eq!(parse_utc_seconds("garbage"), None);
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative_time(100, 100), "just now");
        assert_eq!(relative_time(100 + 60, 100), "1 minute ago");
        assert_eq!(relative_time(100 + 7200, 100), "2 hours ago");
        assert_eq!(relative_time(100 + 3 * 86_400, 100), "3 days ago");
        assert_eq!(relative_time(0, 1000), "in the future");
    }

    fn ticket(id: &str, title: &str, status: Status, priority: Priority, created: &str) -> Ticket {
        Ticket {
            id: id.into(),
            title: title.into(),
            description: format!("about {title}"),
            status,
            priority,
            portal_id: "p".into(),
            client_email: None,
            created_at: created.into(),
            updated_at: created.into(),
            delivery: Delivery::Delivered,
        }
    }

    #[test]
    fn queries_filter_count_sort_and_page() {
        let tickets = vec![
            ticket(
                "1",
                "Login broken",
                Status::Open,
                Priority::High,
                "2024-01-01T00:00:00Z",
            ),
            ticket(
                "2",
                "Invoice wrong",
                Status::Resolved,
                Priority::Urgent,
                "2024-01-02T00:00:00Z",
            ),
            ticket(
                "3",
                "Login slow",
                Status::InProgress,
                Priority::Low,
                "2024-01-03T00:00:00Z",
            ),
        ];
        let all = apply_query(&tickets, &TicketQuery::default(), "");
        let ids: Vec<&str> = all.tickets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, vec!["3", "2", "1"], "newest first");
        assert_eq!(all.counts.all, 3);

        let login = apply_query(
            &tickets,
            &TicketQuery {
                search: "LOGIN".into(),
                ..TicketQuery::default()
            },
            "",
        );
        assert_eq!(login.matching, 2);
        assert_eq!(login.counts.open, 1);
        assert_eq!(login.counts.resolved, 0);

        let open_login = apply_query(
            &tickets,
            &TicketQuery {
                search: "login".into(),
                status: Some(Status::Open),
                ..TicketQuery::default()
            },
            "",
        );
        assert_eq!(open_login.tickets.len(), 1);
        assert_eq!(
            open_login.counts.in_progress, 1,
            "counts ignore the status filter"
        );

        let by_priority = apply_query(
            &tickets,
            &TicketQuery {
                sort: Sort::Priority,
                ..TicketQuery::default()
            },
            "",
        );
        assert_eq!(by_priority.tickets[0].id, "2");

        let many: Vec<Ticket> = (0..60)
            .map(|i| {
                ticket(
                    &i.to_string(),
                    "t",
                    Status::Open,
                    Priority::Low,
                    &format!("2024-01-01T00:00:{:02}Z", i % 60),
                )
            })
            .collect();
        let third = apply_query(
            &many,
            &TicketQuery {
                page: 3,
                ..TicketQuery::default()
            },
            "",
        );
        assert_eq!((third.page, third.pages, third.tickets.len()), (3, 3, 10));
        let beyond = apply_query(
            &many,
            &TicketQuery {
                page: 9,
                ..TicketQuery::default()
            },
            "",
        );
        assert_eq!(beyond.page, 3);

        // Raised by me: only the viewer's own tickets, counted among themselves.
        let mut mixed = tickets.clone();
        mixed[0].client_email = Some("ana@acme.test".into());
        mixed[1].client_email = Some("ben@acme.test".into());
        let mine = TicketQuery {
            mine: true,
            ..TicketQuery::default()
        };
        let anas = apply_query(&mixed, &mine, "ana@acme.test");
        let ids: Vec<&str> = anas.tickets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, vec!["1"]);
        assert_eq!((anas.counts.all, anas.matching), (1, 1));
        assert_eq!(apply_query(&mixed, &mine, "").matching, 0, "nobody's");
        assert_eq!(
            apply_query(&mixed, &TicketQuery::default(), "ana@acme.test").matching,
            3,
            "all of the portal"
        );
    }

    #[test]
    fn queries_round_trip_through_the_url() {
        let query = TicketQuery {
            status: Some(Status::InProgress),
            priority: Some(Priority::High),
            search: "login & more".into(),
            sort: Sort::Updated,
            page: 2,
            mine: true,
        };
        let url = query.to_query_string();
        assert_eq!(
            url,
            "?status=in_progress&priority=high&q=login+%26+more&sort=updated&page=2&mine=1"
        );
        let pairs: Vec<(String, String)> = url[1..]
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                let v = v.replace('+', " ").replace("%26", "&");
                (k.to_owned(), v)
            })
            .collect();
        let parsed = TicketQuery::from_params(|key| {
            pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        });
        assert_eq!(parsed, query);
    }

    #[test]
    fn brand_text_colour_keeps_contrast() {
        assert_eq!(text_colour_on("#4338ca"), "#ffffff");
        assert_eq!(text_colour_on("#fde047"), "#0f172a");
    }

    fn status_message(row_status: Status) -> LiveMessage {
        LiveMessage {
            event: LiveEvent::StatusChanged {
                ticket_id: "7".into(),
                title: "Printer".into(),
                status: row_status,
            },
            row: Some(RowUpdate {
                ticket_id: "7".into(),
                html: "<li data-ticket-id=\"7\"></li>".into(),
                status: row_status,
                counts: StatusCounts::default(),
                newest: false,
            }),
            remaining: None,
        }
    }

    /// A first page of ten tickets, all of them.
    const ONE_PAGE: Option<ListShape> = Some(ListShape {
        page: 1,
        pages: 1,
        matching: 10,
    });

    #[test]
    fn a_dashboard_follows_a_change_in_place_only_when_a_reload_would_show_the_same() {
        let plain = TicketQuery::default();
        let message = status_message(Status::Resolved);
        assert_eq!(
            dashboard_update(&message, &plain, true, false, ONE_PAGE),
            DashboardUpdate::ReplaceRow
        );
        assert_eq!(
            dashboard_update(&message, &plain, false, false, ONE_PAGE),
            DashboardUpdate::CountsOnly,
            "a ticket on another page moves only the counts"
        );
        assert_eq!(
            dashboard_update(&message, &plain, true, true, ONE_PAGE),
            DashboardUpdate::Reload,
            "something on its way to monday: only the server knows the rows"
        );
        let resolved = TicketQuery {
            status: Some(Status::Resolved),
            ..TicketQuery::default()
        };
        let open = TicketQuery {
            status: Some(Status::Open),
            ..TicketQuery::default()
        };
        assert_eq!(
            dashboard_update(&message, &resolved, true, false, ONE_PAGE),
            DashboardUpdate::ReplaceRow
        );
        assert_eq!(
            dashboard_update(&message, &open, true, false, ONE_PAGE),
            DashboardUpdate::Reload,
            "leaves the filtered list"
        );
        assert_eq!(
            dashboard_update(&message, &resolved, false, false, ONE_PAGE),
            DashboardUpdate::Reload,
            "joins the filtered list"
        );
        for other in [
            TicketQuery {
                sort: Sort::Updated,
                ..TicketQuery::default()
            },
            TicketQuery {
                search: "printer".into(),
                ..TicketQuery::default()
            },
            TicketQuery {
                priority: Some(Priority::High),
                ..TicketQuery::default()
            },
            TicketQuery {
                mine: true,
                ..TicketQuery::default()
            },
        ] {
            assert_eq!(
                dashboard_update(&message, &other, true, false, ONE_PAGE),
                DashboardUpdate::Reload,
                "{other:?}: the order or the counts may differ"
            );
        }
        let no_row = LiveMessage {
            row: None,
            ..message.clone()
        };
        assert_eq!(
            dashboard_update(&no_row, &plain, true, false, ONE_PAGE),
            DashboardUpdate::Reload
        );
        let created = LiveMessage {
            event: LiveEvent::TicketCreated {
                ticket: ticket(
                    "7",
                    "Printer",
                    Status::Resolved,
                    Priority::Low,
                    "2024-01-01T00:00:00Z",
                ),
            },
            row: message.row.clone().map(|row| RowUpdate {
                newest: true,
                ..row
            }),
            remaining: None,
        };
        assert_eq!(
            dashboard_update(&created, &plain, false, false, ONE_PAGE),
            DashboardUpdate::InsertRow,
            "a new ticket goes on top of the first page"
        );
        let full_page = Some(ListShape {
            page: 1,
            pages: 2,
            matching: 40,
        });
        assert_eq!(
            dashboard_update(&created, &plain, false, false, full_page),
            DashboardUpdate::InsertRow,
            "the last row moves to the next page, which exists"
        );
        let exactly_full = Some(ListShape {
            page: 1,
            pages: 1,
            matching: PAGE_SIZE,
        });
        assert_eq!(
            dashboard_update(&created, &plain, false, false, exactly_full),
            DashboardUpdate::Reload,
            "a second page appears, with a link only the server renders"
        );
        let second_page = Some(ListShape {
            page: 2,
            pages: 2,
            matching: 40,
        });
        assert_eq!(
            dashboard_update(&created, &plain, false, false, second_page),
            DashboardUpdate::Reload,
            "every row of a later page moves down"
        );
        assert_eq!(
            dashboard_update(&created, &open, false, false, ONE_PAGE),
            DashboardUpdate::CountsOnly,
            "outside the status filter: the list stays as it is"
        );
        assert_eq!(
            dashboard_update(&created, &plain, false, false, None),
            DashboardUpdate::Reload,
            "an empty dashboard shows no list to add to"
        );
        assert_eq!(
            dashboard_update(&created, &plain, false, true, ONE_PAGE),
            DashboardUpdate::Reload
        );
        let backdated = LiveMessage {
            row: message.row.clone(),
            ..created.clone()
        };
        assert_eq!(
            dashboard_update(&backdated, &plain, false, false, ONE_PAGE),
            DashboardUpdate::Reload,
            "not the newest: its place is somewhere below"
        );
        let searching = TicketQuery {
            search: "printer".into(),
            ..TicketQuery::default()
        };
        assert_eq!(
            dashboard_update(&created, &searching, false, false, ONE_PAGE),
            DashboardUpdate::Reload
        );
    }

    #[test]
    fn a_removed_ticket_leaves_in_place_only_from_a_last_page_that_keeps_a_row() {
        let removed = LiveMessage {
            event: LiveEvent::Removed {
                ticket_id: "7".into(),
                title: "Printer".into(),
            },
            row: None,
            remaining: Some(StatusCounts::default()),
        };
        let plain = TicketQuery::default();
        let shape = |page, pages, matching| {
            Some(ListShape {
                page,
                pages,
                matching,
            })
        };
        assert_eq!(
            dashboard_update(&removed, &plain, true, false, shape(1, 1, 10)),
            DashboardUpdate::RemoveRow
        );
        assert_eq!(
            dashboard_update(&removed, &plain, true, false, shape(2, 2, 30)),
            DashboardUpdate::RemoveRow,
            "the last page's rows after it have nowhere to come from"
        );
        for (why, update) in [
            (
                "a next page's first row moves up",
                dashboard_update(&removed, &plain, true, false, shape(1, 2, 30)),
            ),
            (
                "the page empties",
                dashboard_update(&removed, &plain, true, false, shape(2, 2, 26)),
            ),
            (
                "not on this page: maybe on an earlier one",
                dashboard_update(&removed, &plain, false, false, shape(1, 1, 10)),
            ),
            (
                "something on its way",
                dashboard_update(&removed, &plain, true, true, shape(1, 1, 10)),
            ),
            (
                "searching",
                dashboard_update(
                    &removed,
                    &TicketQuery {
                        search: "printer".into(),
                        ..TicketQuery::default()
                    },
                    true,
                    false,
                    shape(1, 1, 10),
                ),
            ),
            (
                "no counts to show",
                dashboard_update(
                    &LiveMessage {
                        remaining: None,
                        ..removed.clone()
                    },
                    &plain,
                    true,
                    false,
                    shape(1, 1, 10),
                ),
            ),
        ] {
            assert_eq!(update, DashboardUpdate::Reload, "{why}");
        }
    }

    #[test]
    fn the_newest_ticket_is_first_in_the_default_order() {
        let older = ticket(
            "5",
            "Old",
            Status::Open,
            Priority::Low,
            "2024-01-01T00:00:00Z",
        );
        let newer = ticket(
            "6",
            "New",
            Status::Open,
            Priority::Low,
            "2024-02-01T00:00:00Z",
        );
        let same_second = ticket(
            "7",
            "Same",
            Status::Open,
            Priority::Low,
            "2024-02-01T00:00:00Z",
        );
        let tickets = [older.clone(), newer.clone(), same_second.clone()];
        assert!(
            is_newest(&same_second, &tickets),
            "ties go by id, as the list sorts"
        );
        assert!(!is_newest(&newer, &tickets));
        assert!(!is_newest(&older, &tickets));
        let page = apply_query(&tickets, &TicketQuery::default(), "");
        assert_eq!(page.tickets[0].id, "7", "the list agrees");
        assert_eq!(tickets_label(1), "1 ticket");
        assert_eq!(tickets_label(2), "2 tickets");
    }

    #[test]
    fn a_live_message_reads_as_its_event_too() {
        let message = status_message(Status::Closed);
        let text = serde_json::to_string(&message).unwrap();
        let event: LiveEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(
            event, message.event,
            "older readers of the socket still understand it"
        );
        let back: LiveMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(back, message);
    }
}

/// What a member wants mailed about their tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyMode {
    /// Every team reply, status change, arrival and refusal (coalesced per ticket).
    All,
    /// Team replies, Resolved and Closed, and tickets monday refused.
    Replies,
    /// One mail a day, at the member's chosen local hour, with everything.
    Digest,
    /// Nothing.
    None,
}

impl NotifyMode {
    pub const ALL: [NotifyMode; 4] = [
        NotifyMode::All,
        NotifyMode::Replies,
        NotifyMode::Digest,
        NotifyMode::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyMode::All => "all",
            NotifyMode::Replies => "replies",
            NotifyMode::Digest => "digest",
            NotifyMode::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NotifyMode::All => "Every update",
            NotifyMode::Replies => "Replies and resolutions only",
            NotifyMode::Digest => "A daily digest",
            NotifyMode::None => "Nothing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

impl std::str::FromStr for NotifyMode {
    type Err = ();

    fn from_str(raw: &str) -> Result<Self, ()> {
        Self::parse(raw.trim()).ok_or(())
    }
}

/// A member's notification settings as the preferences page shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPrefs {
    pub mode: NotifyMode,
    /// Whether `mode` is the portal's default (the member never chose).
    pub is_default: bool,
    /// The local hour (0-23) the digest goes out.
    pub digest_hour: i64,
    /// The member's offset from UTC in minutes (the digest's "local").
    pub utc_offset_minutes: i64,
}

/// Whether `id` can stand in a `/tickets/{id}` path as it is: monday's digits, or a pending
/// ticket's `pending-<uuid>`.
pub fn valid_ticket_path_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
