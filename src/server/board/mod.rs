//! The portal's board: tickets are items of one monday board, and this is the only module that
//! knows how. [`BoardMapping`] turns items into tickets and tickets into column values, following
//! the configured column ids and labels; [`TicketBoard`] asks monday for them through the
//! `monday` client.

pub mod setup;
pub mod usage;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use monday::{
    BoardNode, Client, ClientOptions, ColumnNode, ColumnValueNode, ItemNode, LONG_TEXT_MAX_CHARS,
    MondayError, RetryPolicy, Token, UpdateNode, UserRef, WebhookNode, normalize_timestamp,
};
use serde_json::{Value, json};

use super::config::{ColumnMap, MondayConfig};
use crate::model::{NewTicket, Priority, Rating, Status, Ticket};

/// Maps board items to tickets and tickets to column values, following the configured
/// column ids and labels.
pub struct BoardMapping {
    pub board_id: String,
    pub columns: ColumnMap,
    status_labels: Vec<(String, Status)>,
    priority_labels: Vec<(String, Priority)>,
    rating_labels: Vec<(String, Rating)>,
    /// Labels already reported as unknown, so each is logged once and not per request.
    reported_labels: Mutex<HashSet<String>>,
}

/// Before the reference the portal writes at the end of every ticket's description column.
pub const REFERENCE_LABEL: &str = "Client portal reference: ";
/// Where a description longer than the column holds says the rest is.
pub const CONTINUED: &str = "[The whole description is in this item's first update.]";
/// How the item's first update with the whole description begins.
pub const FULL_DESCRIPTION_LABEL: &str = "Full description";

/// The reference written into a ticket's item: `cp` and 32 hex digits, unique per outbox row,
/// so the portal can find the item on the board before ever creating it again.
pub fn reference_for(outbox_id: &str) -> String {
    let id = uuid::Uuid::parse_str(outbox_id).unwrap_or_else(|_| uuid::Uuid::new_v4());
    format!("cp{}", id.simple())
}

/// Length as monday's long-text limit counts it (UTF-16 units, never fewer than characters).
pub fn monday_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The description column's text: the description and the reference, or (when that would not
/// fit monday's 2,000 characters) the start of the description, a pointer to the item's first
/// update, and the reference. Never more than monday's long-text column holds.
pub fn description_column(description: &str, reference: &str) -> String {
    let reference_line = format!("{REFERENCE_LABEL}{reference}");
    let whole = if description.trim().is_empty() {
        reference_line.clone()
    } else {
        format!("{}\n\n{reference_line}", description.trim_end())
    };
    if monday_length(&whole) <= LONG_TEXT_MAX_CHARS {
        return whole;
    }
    let tail = format!("…\n\n{CONTINUED}\n{reference_line}");
    let room = LONG_TEXT_MAX_CHARS.saturating_sub(monday_length(&tail));
    let mut start = String::new();
    let mut used = 0;
    for c in description.chars() {
        used += c.len_utf16();
        if used > room {
            break;
        }
        start.push(c);
    }
    format!("{}{tail}", start.trim_end())
}

/// What the description column says, read back: the text the client wrote (or its start,
/// with `cut` set), and the portal's reference, if the portal wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub text: String,
    pub cut: bool,
    pub reference: Option<String>,
}

pub fn read_description(column: &str) -> Description {
    let trimmed = column.trim_end();
    let (rest, reference) = match trimmed.rfind(REFERENCE_LABEL) {
        Some(at) => {
            let candidate = &trimmed[at + REFERENCE_LABEL.len()..];
            let valid = candidate.len() == 34
                && candidate.starts_with("cp")
                && candidate[2..].bytes().all(|b| b.is_ascii_hexdigit());
            if valid {
                (&trimmed[..at], Some(candidate.to_owned()))
            } else {
                (trimmed, None)
            }
        }
        None => (trimmed, None),
    };
    let rest = rest.trim_end();
    match rest.strip_suffix(CONTINUED) {
        Some(start) => Description {
            text: start.trim_end().trim_end_matches('…').trim_end().to_owned(),
            cut: true,
            reference,
        },
        None => Description {
            text: rest.to_owned(),
            cut: false,
            reference,
        },
    }
}

/// The whole description, as the item's first update carries it (its `text_body`), when that
/// update is the portal's.
pub fn description_from_update(update: &UpdateNode, reference: &str) -> Option<String> {
    let text = update.text_body.clone()?;
    let (first, rest) = text.split_once('\n')?;
    (first.starts_with(FULL_DESCRIPTION_LABEL) && first.contains(reference))
        .then(|| rest.trim().to_owned())
}

/// Whether an update's text is the portal's whole-description update of a ticket.
pub fn is_description_update(text: &str) -> bool {
    text.trim_start().starts_with(FULL_DESCRIPTION_LABEL)
        && text.contains("(client portal reference cp")
}

/// The update holding a whole description: a header naming the reference, then the text.
pub fn description_update_body(description: &str, reference: &str) -> String {
    format!(
        "<p><strong>{FULL_DESCRIPTION_LABEL}</strong> (client portal reference {reference}):</p>{}",
        crate::server::html::text_to_html(description)
    )
}

/// What an unknown status label means: the ticket still needs attention.
pub const FALLBACK_STATUS: Status = Status::Open;
/// What an unknown priority label means.
pub const FALLBACK_PRIORITY: Priority = Priority::Medium;

impl BoardMapping {
    pub fn new(config: &MondayConfig) -> Self {
        Self {
            board_id: config.board_id.clone(),
            columns: config.columns.clone(),
            status_labels: config.status_labels.clone(),
            priority_labels: config.priority_labels.clone(),
            rating_labels: config.rating_labels.clone(),
            reported_labels: Mutex::new(HashSet::new()),
        }
    }

    /// The column ids the portal reads, for `column_values(ids: ...)`.
    pub fn column_ids(&self) -> Vec<&str> {
        vec![
            &self.columns.description,
            &self.columns.portal_id,
            &self.columns.client_email,
            &self.columns.status,
            &self.columns.priority,
        ]
    }

    pub fn status_label(&self, status: Status) -> &str {
        self.status_labels
            .iter()
            .find(|(_, s)| *s == status)
            .map_or(status.label(), |(label, _)| label)
    }

    pub fn priority_label(&self, priority: Priority) -> &str {
        self.priority_labels
            .iter()
            .find(|(_, p)| *p == priority)
            .map_or(priority.label(), |(label, _)| label)
    }

    pub fn rating_label(&self, rating: Rating) -> &str {
        self.rating_labels
            .iter()
            .find(|(_, r)| *r == rating)
            .map_or(rating.label(), |(label, _)| label)
    }

    pub fn rating_labels(&self) -> &[(String, Rating)] {
        &self.rating_labels
    }

    pub fn status_labels(&self) -> &[(String, Status)] {
        &self.status_labels
    }

    pub fn priority_labels(&self) -> &[(String, Priority)] {
        &self.priority_labels
    }

    pub fn status_from_label(&self, label: &str) -> Status {
        match self.status_labels.iter().find(|(l, _)| l == label) {
            Some((_, status)) => *status,
            None => {
                self.report_unknown("status", label);
                FALLBACK_STATUS
            }
        }
    }

    pub fn priority_from_label(&self, label: &str) -> Priority {
        match self.priority_labels.iter().find(|(l, _)| l == label) {
            Some((_, priority)) => *priority,
            None => {
                self.report_unknown("priority", label);
                FALLBACK_PRIORITY
            }
        }
    }

    fn report_unknown(&self, column: &str, label: &str) {
        if label.is_empty() {
            return;
        }
        let key = format!("{column}:{label}");
        let first_time = self
            .reported_labels
            .lock()
            .map(|mut seen| seen.insert(key))
            .unwrap_or(false);
        if first_time {
            tracing::warn!(
                column,
                label,
                "unknown {column} label on the board; treating it as the fallback (set MONDAY_{}_LABELS to map it)",
                column.to_ascii_uppercase()
            );
        }
    }

    fn column<'a>(&self, item: &'a ItemNode, id: &str) -> Option<&'a ColumnValueNode> {
        item.column_values.iter().find(|c| c.id == id)
    }

    fn column_text(&self, item: &ItemNode, id: &str) -> String {
        self.column(item, id)
            .and_then(|c| c.text.clone())
            .unwrap_or_default()
    }

    /// The portal an item belongs to, as written in its portal column.
    pub fn portal_of(&self, item: &ItemNode) -> String {
        self.column_text(item, &self.columns.portal_id)
            .trim()
            .to_owned()
    }

    pub fn ticket_from(&self, item: &ItemNode) -> Ticket {
        let label_of = |id: &str| {
            self.column(item, id)
                .and_then(|c| c.label.clone().or_else(|| c.text.clone()))
                .unwrap_or_default()
        };
        let status_label = label_of(&self.columns.status);
        let priority_label = label_of(&self.columns.priority);
        let status = if status_label.is_empty() {
            FALLBACK_STATUS
        } else {
            self.status_from_label(&status_label)
        };
        let priority = if priority_label.is_empty() {
            FALLBACK_PRIORITY
        } else {
            self.priority_from_label(&priority_label)
        };
        let email = self
            .column(item, &self.columns.client_email)
            .and_then(|c| c.email.clone().or_else(|| c.text.clone()))
            .filter(|e| !e.is_empty());
        let created_at = normalize_timestamp(item.created_at.as_deref());
        let updated_at = item
            .updated_at
            .as_deref()
            .map(|t| normalize_timestamp(Some(t)))
            .unwrap_or_else(|| created_at.clone());
        let description = read_description(&self.column_text(item, &self.columns.description));
        Ticket {
            id: item.id.clone(),
            title: item.name.clone(),
            // A cut description keeps its pointer until the service puts the whole text in.
            description: if description.cut {
                format!("{}…\n\n{CONTINUED}", description.text)
            } else {
                description.text
            },
            status,
            priority,
            portal_id: self.portal_of(item),
            client_email: email,
            created_at,
            updated_at,
            delivery: Default::default(),
        }
    }

    /// The status a webhook's status `value` names (`{"label": {"text": …}}`), if any.
    pub fn status_from_webhook(&self, value: Option<&Value>) -> Option<Status> {
        let text = value?.get("label")?.get("text")?.as_str()?;
        Some(self.status_from_label(text))
    }

    pub fn priority_from_webhook(&self, value: Option<&Value>) -> Option<Priority> {
        let text = value?.get("label")?.get("text")?.as_str()?;
        Some(self.priority_from_label(text))
    }

    /// The `column_values` JSON for a new ticket, in monday's write formats, with the
    /// reference in the description column.
    pub fn new_ticket_columns(
        &self,
        portal_id: &str,
        email: &str,
        ticket: &NewTicket,
        reference: &str,
    ) -> Value {
        let mut values = serde_json::Map::new();
        values.insert(
            self.columns.description.clone(),
            json!({ "text": description_column(&ticket.description, reference) }),
        );
        values.insert(self.columns.portal_id.clone(), json!(portal_id));
        values.insert(
            self.columns.client_email.clone(),
            json!({ "email": email, "text": email }),
        );
        values.insert(
            self.columns.status.clone(),
            json!({ "label": self.status_label(Status::Open) }),
        );
        values.insert(
            self.columns.priority.clone(),
            json!({ "label": self.priority_label(ticket.priority) }),
        );
        Value::Object(values)
    }

    /// Whether an item is one the portal may show: active and on the configured board.
    pub fn is_live_on_board(&self, item: &ItemNode) -> bool {
        let active = item.state.as_deref().is_none_or(|s| s == "active");
        let on_board = item.board.as_ref().is_none_or(|b| b.id == self.board_id);
        active && on_board
    }
}

/// How recent monday's last answer must be to stand for a readiness check.
const READY_FROM_LAST_ANSWER: std::time::Duration = std::time::Duration::from_secs(600);
/// How long a failed answer stands for a readiness check.
const RECENT_FAILURE: std::time::Duration = std::time::Duration::from_secs(30);

/// The ticket board: monday's client with the portal's mapping. Clones share both.
#[derive(Clone)]
pub struct TicketBoard {
    client: Client,
    mapping: Arc<BoardMapping>,
}

impl TicketBoard {
    pub fn new(config: &MondayConfig, endpoint: String, token: Token) -> Result<Self, MondayError> {
        let client = Client::new(ClientOptions {
            endpoint,
            token,
            api_version: config.api_version.clone(),
            max_concurrency: config.max_concurrency,
            request_timeout: config.request_timeout,
            retry: RetryPolicy {
                max_total_wait: config.max_retry_wait,
                ..RetryPolicy::default()
            },
            daily_call_limit: config.daily_call_limit,
        })?;
        Ok(Self {
            client,
            mapping: Arc::new(BoardMapping::new(config)),
        })
    }

    pub fn mapping(&self) -> &BoardMapping {
        &self.mapping
    }

    /// monday's client, for what is not about tickets (board set-up, webhooks).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    /// HTTP requests sent to monday since start-up.
    pub fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    pub async fn ping(&self) -> Result<(), MondayError> {
        self.client.ping().await
    }

    /// Readiness without spending the day's calls: monday's last answer when it came within
    /// ten minutes (a busy portal never pays for its health checks), a `me` query otherwise (at
    /// most 144 a day on an idle portal). A spent day is not "not ready": pages serve saved
    /// data and the outbox waits, so the instance must stay in service.
    pub async fn ready(&self) -> Result<(), MondayError> {
        // A failure seconds ago is not asked again: health checks every few seconds during an
        // outage would otherwise spend a call each.
        if self.client.recently_working(RECENT_FAILURE) == Some(false) {
            return Err(MondayError::Unreachable(
                "monday's last answer, seconds ago, was a failure".into(),
            ));
        }
        if self.client.recently_working(READY_FROM_LAST_ANSWER) == Some(true) {
            return Ok(());
        }
        match self.client.ping().await {
            Err(MondayError::DailyLimit { .. }) => Ok(()),
            other => other,
        }
    }

    /// Every ticket of one portal, filtered on monday's side by the portal column.
    pub async fn portal_tickets(&self, portal_id: &str) -> Result<Vec<Ticket>, MondayError> {
        let mapping = &self.mapping;
        let items = self
            .client
            .items_with_text(
                &mapping.board_id,
                &mapping.columns.portal_id,
                portal_id,
                &mapping.column_ids(),
            )
            .await?;
        Ok(items
            .iter()
            .filter(|item| mapping.is_live_on_board(item))
            // Defence in depth: never trust a filter to be exact.
            .filter(|item| mapping.portal_of(item) == portal_id)
            .map(|item| mapping.ticket_from(item))
            .collect())
    }

    /// One item, or `None` when it does not exist, is not active or is on another board.
    pub async fn item(&self, item_id: &str) -> Result<Option<ItemNode>, MondayError> {
        let item = self
            .client
            .item(item_id, &self.mapping.column_ids())
            .await?;
        Ok(item.filter(|item| self.mapping.is_live_on_board(item)))
    }

    /// Several items in one call (up to 100), on the same terms as [`TicketBoard::item`]:
    /// those not live on the board are left out.
    pub async fn items(&self, item_ids: &[&str]) -> Result<Vec<ItemNode>, MondayError> {
        let items = self
            .client
            .items(item_ids, &self.mapping.column_ids())
            .await?;
        Ok(items
            .into_iter()
            .filter(|item| self.mapping.is_live_on_board(item))
            .collect())
    }

    /// One item with its updates (newest first), on the same terms as [`TicketBoard::item`].
    pub async fn item_with_updates(&self, item_id: &str) -> Result<Option<ItemNode>, MondayError> {
        let item = self
            .client
            .item_with_updates(item_id, &self.mapping.column_ids())
            .await?;
        Ok(item.filter(|item| self.mapping.is_live_on_board(item)))
    }

    /// The portal's ticket with `reference` in its description, if it is on the board: one
    /// call, filtered on monday's side (`contains_text` on the long text column).
    pub async fn find_by_reference(
        &self,
        portal_id: &str,
        reference: &str,
    ) -> Result<Option<Ticket>, MondayError> {
        let mapping = &self.mapping;
        let query = json!({
            "rules": [
                { "column_id": mapping.columns.portal_id, "compare_value": [portal_id], "operator": "any_of" },
                { "column_id": mapping.columns.description, "compare_value": [reference], "operator": "contains_text" },
            ],
            "operator": "and",
        });
        let items = self
            .client
            .items_matching(&mapping.board_id, query, &mapping.column_ids(), 5)
            .await?;
        Ok(items
            .iter()
            .filter(|item| mapping.is_live_on_board(item) && mapping.portal_of(item) == portal_id)
            .find(|item| {
                read_description(&mapping.column_text(item, &mapping.columns.description))
                    .reference
                    .as_deref()
                    == Some(reference)
            })
            .map(|item| mapping.ticket_from(item)))
    }

    /// The ids of the updates and replies on `item_id` whose text contains every one of
    /// `needles`, oldest first: how the outbox finds what it may already have posted.
    /// The files on update (or reply) `update_id` of item `item_id`, as monday lists them now.
    pub async fn update_assets(
        &self,
        item_id: &str,
        update_id: &str,
    ) -> Result<Vec<monday::AssetNode>, MondayError> {
        let Some(item) = self.client.item_with_updates(item_id, &[]).await? else {
            return Ok(Vec::new());
        };
        for update in item.updates.unwrap_or_default() {
            if update.id == update_id {
                return Ok(update.assets.unwrap_or_default());
            }
            if let Some(reply) = update
                .replies
                .into_iter()
                .flatten()
                .find(|r| r.id == update_id)
            {
                return Ok(reply.assets.unwrap_or_default());
            }
        }
        Ok(Vec::new())
    }

    pub async fn find_updates(
        &self,
        item_id: &str,
        needles: &[&str],
    ) -> Result<Vec<String>, MondayError> {
        let Some(item) = self.client.item_with_updates(item_id, &[]).await? else {
            return Ok(Vec::new());
        };
        let matches = |body: &str, text: Option<&str>| {
            needles
                .iter()
                .all(|n| body.contains(n) || text.is_some_and(|t| t.contains(n)))
        };
        let mut found: Vec<(String, String)> = Vec::new();
        for update in item.updates.unwrap_or_default() {
            if matches(&update.body, update.text_body.as_deref()) {
                found.push((
                    update.created_at.clone().unwrap_or_default(),
                    update.id.clone(),
                ));
            }
            for reply in update.replies.iter().flatten() {
                if matches(&reply.body, reply.text_body.as_deref()) {
                    found.push((
                        reply.created_at.clone().unwrap_or_default(),
                        reply.id.clone(),
                    ));
                }
            }
        }
        found.sort();
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    pub async fn create_ticket(
        &self,
        portal_id: &str,
        email: &str,
        ticket: &NewTicket,
        reference: &str,
        idempotency_key: uuid::Uuid,
    ) -> Result<Ticket, MondayError> {
        let columns = self
            .mapping
            .new_ticket_columns(portal_id, email, ticket, reference);
        let item = self
            .client
            .create_item(
                &self.mapping.board_id,
                &ticket.title,
                &columns,
                &self.mapping.column_ids(),
                idempotency_key,
            )
            .await?;
        Ok(self.mapping.ticket_from(&item))
    }

    pub async fn add_update(
        &self,
        item_id: &str,
        body_html: &str,
        idempotency_key: uuid::Uuid,
    ) -> Result<UpdateNode, MondayError> {
        self.client
            .create_update(item_id, body_html, idempotency_key)
            .await
    }

    /// A reply in the thread of update `parent_id` on item `item_id`.
    pub async fn add_reply(
        &self,
        item_id: &str,
        parent_id: &str,
        body_html: &str,
        idempotency_key: uuid::Uuid,
    ) -> Result<UpdateNode, MondayError> {
        self.client
            .create_reply(item_id, parent_id, body_html, idempotency_key)
            .await
    }

    /// The names of team members by user id.
    pub async fn users(&self, ids: &[&str]) -> Result<Vec<UserRef>, MondayError> {
        self.client.users(ids).await
    }

    /// Sets column values on a ticket's item and returns the ticket as it now stands.
    pub async fn change_columns(
        &self,
        item_id: &str,
        column_values: Value,
    ) -> Result<Ticket, MondayError> {
        let item = self
            .client
            .change_column_values(
                &self.mapping.board_id,
                item_id,
                &column_values,
                &self.mapping.column_ids(),
            )
            .await?;
        Ok(self.mapping.ticket_from(&item))
    }

    pub async fn board_structure(&self, board_id: &str) -> Result<Option<BoardNode>, MondayError> {
        self.client.board_structure(board_id).await
    }

    pub async fn create_board(&self, name: &str) -> Result<BoardNode, MondayError> {
        self.client.create_board(name).await
    }

    pub async fn create_column(
        &self,
        board_id: &str,
        id: &str,
        title: &str,
        kind: &str,
        defaults: Option<Value>,
    ) -> Result<ColumnNode, MondayError> {
        self.client
            .create_column(board_id, id, title, kind, defaults)
            .await
    }

    pub async fn webhooks(&self, board_id: &str) -> Result<Vec<WebhookNode>, MondayError> {
        self.client.webhooks(board_id).await
    }

    pub async fn create_webhook(
        &self,
        board_id: &str,
        url: &str,
        event: &str,
    ) -> Result<WebhookNode, MondayError> {
        self.client.create_webhook(board_id, url, event).await
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<(), MondayError> {
        self.client.delete_webhook(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::{Config, Vars};
    use serde_json::json;

    fn mapping() -> BoardMapping {
        let config = Config::from_vars(&Vars::from_pairs([])).expect("defaults");
        BoardMapping::new(&config.monday)
    }

    fn item(columns: Value) -> ItemNode {
        serde_json::from_value(json!({
            "id": "11", "name": "Login issue", "state": "active",
            "created_at": "2024-10-06T10:00:00.000Z", "updated_at": "2024-10-07T12:30:00+02:00",
            "board": {"id": monday_local::LOCAL_BOARD_ID},
            "column_values": columns,
        }))
        .expect("item")
    }

    #[test]
    fn maps_an_item_to_a_ticket() {
        let ticket = mapping().ticket_from(&item(json!([
            {"id": "description", "text": "Cannot log in"},
            {"id": "portal_id", "text": "acme"},
            {"id": "client_email", "text": "a@acme.test", "email": "a@acme.test"},
            {"id": "status", "text": "In Progress", "label": "In Progress", "index": 1},
            {"id": "priority", "text": "Urgent", "label": "Urgent", "index": 3},
        ])));
        assert_eq!(ticket.status, Status::InProgress);
        assert_eq!(ticket.priority, Priority::Urgent);
        assert_eq!(ticket.portal_id, "acme");
        assert_eq!(ticket.created_at, "2024-10-06T10:00:00Z");
        assert_eq!(ticket.updated_at, "2024-10-07T10:30:00Z");
    }

    #[test]
    fn unknown_labels_fall_back() {
        let ticket = mapping().ticket_from(&item(json!([
            {"id": "status", "text": "Stuck", "label": "Stuck"},
            {"id": "priority", "text": "Whenever", "label": "Whenever"},
        ])));
        assert_eq!(ticket.status, FALLBACK_STATUS);
        assert_eq!(ticket.priority, FALLBACK_PRIORITY);
    }

    #[test]
    fn new_ticket_columns_use_monday_formats() {
        let ticket = NewTicket::validate("T", "line one\nline two", "high").unwrap();
        let reference = reference_for("3f2a9c1e-0000-4000-8000-000000000001");
        let values = mapping().new_ticket_columns("acme", "a@acme.test", &ticket, &reference);
        assert_eq!(
            values["description"],
            json!({"text": format!("line one\nline two\n\n{REFERENCE_LABEL}{reference}")})
        );
        assert_eq!(values["portal_id"], json!("acme"));
        assert_eq!(values["status"], json!({"label": "Open"}));
        assert_eq!(values["priority"], json!({"label": "High"}));
        assert_eq!(values["client_email"]["email"], json!("a@acme.test"));
    }

    #[test]
    fn a_long_description_fits_the_column_with_a_pointer_and_reads_back() {
        let reference = reference_for("3f2a9c1e-0000-4000-8000-000000000002");
        for description in ["x".repeat(2_500), "é".repeat(2_500), "😀".repeat(1_500)] {
            let column = description_column(&description, &reference);
            assert!(
                monday_length(&column) <= LONG_TEXT_MAX_CHARS,
                "{}",
                monday_length(&column)
            );
            let read = read_description(&column);
            assert!(read.cut);
            assert_eq!(read.reference.as_deref(), Some(reference.as_str()));
            assert!(description.starts_with(&read.text));
            assert!(
                read.text.chars().count() > 900,
                "most of the column is text"
            );
        }
        let short = description_column("Printer on fire", &reference);
        assert_eq!(
            read_description(&short),
            Description {
                text: "Printer on fire".into(),
                cut: false,
                reference: Some(reference.clone())
            }
        );
        // Written by the team, without a reference: read as it is.
        assert_eq!(read_description("Plain text").text, "Plain text");
    }
}
