//! The only code that talks to monday (api.monday.com or the local board: same code path).

mod client;
pub mod queries;
pub mod schema;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

pub use client::{GraphqlTransport, Replay, RetryPolicy};

use super::config::{ColumnMap, MondayConfig, Secret};
use crate::model::{NewTicket, Priority, Status, Ticket};

/// monday's page size limit for `items_page` and `next_items_page`.
pub const PAGE_LIMIT: u32 = 500;
/// How many updates (comments) of one item the portal reads.
pub const UPDATES_LIMIT: u32 = 100;

#[derive(Debug, Clone, thiserror::Error)]
pub enum MondayError {
    #[error("monday is rate-limiting the portal ({code})")]
    RateLimited {
        code: String,
        retry_in: Option<Duration>,
    },
    #[error("monday rejected the API token")]
    Unauthorized,
    #[error("monday answered with HTTP {status}")]
    Server { status: u16 },
    #[error("monday did not answer in time")]
    Timeout,
    #[error("monday could not be reached: {0}")]
    Unreachable(String),
    #[error("monday's answer could not be read: {0}")]
    Malformed(String),
    #[error("the pagination cursor expired")]
    CursorExpired,
    #[error("the same request is already being processed by monday")]
    IdempotencyConflict { retry_in: Option<Duration> },
    #[error("monday refused the request ({code}): {message}")]
    Api { code: String, message: String },
}

impl MondayError {
    /// Errors that may go away by themselves: worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MondayError::RateLimited { .. }
                | MondayError::Server { .. }
                | MondayError::Timeout
                | MondayError::Unreachable(_)
                | MondayError::Malformed(_)
                | MondayError::IdempotencyConflict { .. }
        )
    }

    /// The wait monday asked for, if it said.
    pub fn retry_in(&self) -> Option<Duration> {
        match self {
            MondayError::RateLimited { retry_in, .. }
            | MondayError::IdempotencyConflict { retry_in } => *retry_in,
            _ => None,
        }
    }
}

/// An item as the portal reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct ItemNode {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub board: Option<IdRef>,
    #[serde(default)]
    pub column_values: Vec<ColumnValueNode>,
    #[serde(default)]
    pub updates: Option<Vec<UpdateNode>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdRef {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnValueNode {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpdateNode {
    pub id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub text_body: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub creator_id: Option<String>,
    #[serde(default)]
    pub creator: Option<UserRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UserRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnNode {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub settings: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BoardNode {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub columns: Vec<ColumnNode>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookNode {
    pub id: String,
    pub event: String,
    pub board_id: String,
    #[serde(default)]
    pub config: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Complexity {
    pub before: i64,
    pub after: i64,
    pub query: i64,
    pub reset_in_x_seconds: i64,
}

#[derive(Deserialize)]
struct ItemsPage {
    cursor: Option<String>,
    items: Vec<ItemNode>,
}

/// Maps board items to tickets and tickets to column values, following the configured
/// column ids and labels.
pub struct BoardMapping {
    pub board_id: String,
    pub columns: ColumnMap,
    status_labels: Vec<(String, Status)>,
    priority_labels: Vec<(String, Priority)>,
    /// Labels already reported as unknown, so each is logged once and not per request.
    reported_labels: Mutex<HashSet<String>>,
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
        Ticket {
            id: item.id.clone(),
            title: item.name.clone(),
            description: self.column_text(item, &self.columns.description),
            status,
            priority,
            portal_id: self.portal_of(item),
            client_email: email,
            created_at,
            updated_at,
            delivery: Default::default(),
        }
    }

    /// The `column_values` JSON for a new ticket, in monday's write formats.
    pub fn new_ticket_columns(&self, portal_id: &str, email: &str, ticket: &NewTicket) -> Value {
        let mut values = serde_json::Map::new();
        values.insert(
            self.columns.description.clone(),
            json!({ "text": ticket.description }),
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

/// `2024-10-06T10:00:00.123Z` or `2024-10-06T12:00:00+02:00` → `2024-10-06T10:00:00Z`.
pub fn normalize_timestamp(value: Option<&str>) -> String {
    use time::format_description::well_known::Rfc3339;
    value
        .and_then(|v| time::OffsetDateTime::parse(v, &Rfc3339).ok())
        .map(format_utc)
        .or_else(|| value.map(str::to_owned))
        .unwrap_or_default()
}

pub fn format_utc(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

pub fn now_utc_string() -> String {
    format_utc(time::OffsetDateTime::now_utc())
}

#[derive(Clone)]
pub struct MondayClient {
    transport: GraphqlTransport,
    mapping: Arc<BoardMapping>,
}

impl MondayClient {
    pub fn new(
        config: &MondayConfig,
        endpoint: String,
        token: Secret,
    ) -> Result<Self, MondayError> {
        let transport = GraphqlTransport::new(
            endpoint,
            token,
            config.api_version.clone(),
            config.max_concurrency,
            config.request_timeout,
            RetryPolicy {
                max_total_wait: config.max_retry_wait,
                ..RetryPolicy::default()
            },
        )?;
        Ok(Self {
            transport,
            mapping: Arc::new(BoardMapping::new(config)),
        })
    }

    pub fn mapping(&self) -> &BoardMapping {
        &self.mapping
    }

    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// HTTP requests sent to monday since start-up.
    pub fn requests_sent(&self) -> u64 {
        self.transport.requests_sent()
    }

    fn column_ids(&self) -> Value {
        json!(self.mapping.column_ids())
    }

    pub async fn ping(&self) -> Result<(), MondayError> {
        #[derive(Deserialize)]
        struct Me {
            me: Option<UserRef>,
        }
        let me: Me = self
            .transport
            .execute(queries::PING, json!({}), Replay::Safe)
            .await?;
        me.me.map(|_| ()).ok_or(MondayError::Unauthorized)
    }

    /// Every ticket of one portal. The filter runs on monday's side; the walk follows cursors
    /// 500 items at a time and starts over once if a cursor expires mid-walk.
    pub async fn portal_tickets(&self, portal_id: &str) -> Result<Vec<Ticket>, MondayError> {
        match self.walk_portal(portal_id).await {
            Err(MondayError::CursorExpired) => {
                tracing::info!(portal_id, "cursor expired mid-walk; starting over");
                self.walk_portal(portal_id).await
            }
            other => other,
        }
    }

    async fn walk_portal(&self, portal_id: &str) -> Result<Vec<Ticket>, MondayError> {
        #[derive(Deserialize)]
        struct First {
            boards: Option<Vec<Option<BoardPage>>>,
        }
        #[derive(Deserialize)]
        struct BoardPage {
            items_page: ItemsPage,
        }
        #[derive(Deserialize)]
        struct Next {
            next_items_page: ItemsPage,
        }

        let first: First = self
            .transport
            .execute(
                queries::PORTAL_TICKETS_FIRST_PAGE,
                json!({
                    "boardId": self.mapping.board_id,
                    "limit": PAGE_LIMIT,
                    "query": {
                        "rules": [{
                            "column_id": self.mapping.columns.portal_id,
                            "compare_value": [portal_id],
                            "operator": "any_of",
                        }],
                    },
                    "columnIds": self.column_ids(),
                }),
                Replay::Safe,
            )
            .await?;
        let Some(Some(board)) = first.boards.and_then(|b| b.into_iter().next()) else {
            return Err(MondayError::Api {
                code: "BOARD_NOT_FOUND".into(),
                message: format!(
                    "board {} does not exist or the token cannot see it",
                    self.mapping.board_id
                ),
            });
        };
        let mut tickets = Vec::new();
        let mut page = board.items_page;
        loop {
            tickets.extend(
                page.items
                    .iter()
                    .filter(|item| self.mapping.is_live_on_board(item))
                    // Defence in depth: never trust a filter to be exact.
                    .filter(|item| self.mapping.portal_of(item) == portal_id)
                    .map(|item| self.mapping.ticket_from(item)),
            );
            let Some(cursor) = page.cursor else {
                break;
            };
            let next: Next = self
                .transport
                .execute(
                    queries::PORTAL_TICKETS_NEXT_PAGE,
                    json!({ "cursor": cursor, "limit": PAGE_LIMIT, "columnIds": self.column_ids() }),
                    Replay::Safe,
                )
                .await?;
            page = next.next_items_page;
        }
        Ok(tickets)
    }

    /// One item, or `None` when it does not exist, is not active or is on another board.
    pub async fn item(&self, item_id: &str) -> Result<Option<ItemNode>, MondayError> {
        self.fetch_item(queries::TICKET_BY_ID, item_id, false).await
    }

    /// One item with its updates (newest first, as monday returns them).
    pub async fn item_with_updates(&self, item_id: &str) -> Result<Option<ItemNode>, MondayError> {
        self.fetch_item(queries::TICKET_WITH_UPDATES, item_id, true)
            .await
    }

    async fn fetch_item(
        &self,
        query: &str,
        item_id: &str,
        with_updates: bool,
    ) -> Result<Option<ItemNode>, MondayError> {
        #[derive(Deserialize)]
        struct Items {
            items: Option<Vec<Option<ItemNode>>>,
        }
        if !is_monday_id(item_id) {
            return Ok(None);
        }
        let mut variables = json!({ "itemId": item_id, "columnIds": self.column_ids() });
        if with_updates {
            variables["updatesLimit"] = json!(UPDATES_LIMIT);
        }
        let items: Items = self
            .transport
            .execute(query, variables, Replay::Safe)
            .await?;
        Ok(items
            .items
            .into_iter()
            .flatten()
            .flatten()
            .find(|item| item.id == item_id && self.mapping.is_live_on_board(item)))
    }

    pub async fn create_ticket(
        &self,
        portal_id: &str,
        email: &str,
        ticket: &NewTicket,
        idempotency_key: uuid::Uuid,
    ) -> Result<Ticket, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_item: Option<ItemNode>,
        }
        let columns = self.mapping.new_ticket_columns(portal_id, email, ticket);
        let created: Created = self
            .transport
            .execute(
                queries::CREATE_TICKET,
                json!({
                    "boardId": self.mapping.board_id,
                    "name": ticket.title,
                    "columnValues": columns,
                    "columnIds": self.column_ids(),
                }),
                Replay::WithKey(idempotency_key),
            )
            .await?;
        let item = created
            .create_item
            .ok_or_else(|| MondayError::Malformed("create_item returned no item".into()))?;
        Ok(self.mapping.ticket_from(&item))
    }

    pub async fn add_update(
        &self,
        item_id: &str,
        body_html: &str,
        idempotency_key: uuid::Uuid,
    ) -> Result<UpdateNode, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_update: Option<UpdateNode>,
        }
        let created: Created = self
            .transport
            .execute(
                queries::ADD_UPDATE,
                json!({ "itemId": item_id, "body": body_html }),
                Replay::WithKey(idempotency_key),
            )
            .await?;
        created
            .create_update
            .ok_or_else(|| MondayError::Malformed("create_update returned no update".into()))
    }

    /// Sets column values on an item; setting a value twice changes nothing, so it is retried.
    pub async fn change_columns(
        &self,
        item_id: &str,
        column_values: Value,
    ) -> Result<Ticket, MondayError> {
        #[derive(Deserialize)]
        struct Changed {
            change_multiple_column_values: Option<ItemNode>,
        }
        let changed: Changed = self
            .transport
            .execute(
                queries::CHANGE_COLUMNS,
                json!({
                    "boardId": self.mapping.board_id,
                    "itemId": item_id,
                    "columnValues": column_values,
                    "columnIds": self.column_ids(),
                }),
                Replay::Safe,
            )
            .await?;
        let item = changed.change_multiple_column_values.ok_or_else(|| {
            MondayError::Malformed("change_multiple_column_values returned no item".into())
        })?;
        Ok(self.mapping.ticket_from(&item))
    }

    pub async fn board_structure(&self, board_id: &str) -> Result<Option<BoardNode>, MondayError> {
        #[derive(Deserialize)]
        struct Boards {
            boards: Option<Vec<Option<BoardNode>>>,
        }
        let boards: Boards = self
            .transport
            .execute(
                queries::BOARD_STRUCTURE,
                json!({ "boardId": board_id }),
                Replay::Safe,
            )
            .await?;
        Ok(boards.boards.into_iter().flatten().flatten().next())
    }

    pub async fn create_board(&self, name: &str) -> Result<BoardNode, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_board: Option<BoardNode>,
        }
        let created: Created = self
            .transport
            .execute(
                queries::CREATE_BOARD,
                json!({ "name": name }),
                Replay::WithKey(uuid::Uuid::new_v4()),
            )
            .await?;
        created
            .create_board
            .ok_or_else(|| MondayError::Malformed("create_board returned no board".into()))
    }

    pub async fn create_column(
        &self,
        board_id: &str,
        id: &str,
        title: &str,
        kind: &str,
        defaults: Option<Value>,
    ) -> Result<ColumnNode, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_column: Option<ColumnNode>,
        }
        let created: Created = self
            .transport
            .execute(
                queries::CREATE_COLUMN,
                json!({ "boardId": board_id, "id": id, "title": title, "type": kind, "defaults": defaults }),
                Replay::WithKey(uuid::Uuid::new_v4()),
            )
            .await?;
        created
            .create_column
            .ok_or_else(|| MondayError::Malformed("create_column returned no column".into()))
    }

    pub async fn webhooks(&self, board_id: &str) -> Result<Vec<WebhookNode>, MondayError> {
        #[derive(Deserialize)]
        struct Hooks {
            webhooks: Option<Vec<Option<WebhookNode>>>,
        }
        let hooks: Hooks = self
            .transport
            .execute(
                queries::LIST_WEBHOOKS,
                json!({ "boardId": board_id }),
                Replay::Safe,
            )
            .await?;
        Ok(hooks.webhooks.into_iter().flatten().flatten().collect())
    }

    pub async fn create_webhook(
        &self,
        board_id: &str,
        url: &str,
        event: &str,
    ) -> Result<WebhookNode, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_webhook: Option<WebhookNode>,
        }
        let created: Created = self
            .transport
            .execute(
                queries::CREATE_WEBHOOK,
                json!({ "boardId": board_id, "url": url, "event": event }),
                Replay::WithKey(uuid::Uuid::new_v4()),
            )
            .await?;
        created
            .create_webhook
            .ok_or_else(|| MondayError::Malformed("create_webhook returned no webhook".into()))
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<(), MondayError> {
        let _: Value = self
            .transport
            .execute(queries::DELETE_WEBHOOK, json!({ "id": id }), Replay::Safe)
            .await?;
        Ok(())
    }
}

/// monday ids are decimal numbers; anything else cannot name an item.
pub fn is_monday_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit())
}

/// Reads the labels of a status column's settings, in either of monday's formats:
/// `{"labels": {"0": "Open"}}` (settings_str) or `{"labels": [{"index": 0, "label": "Open"}]}`.
pub fn status_column_labels(settings: Option<&Value>) -> Vec<String> {
    let settings = match settings {
        Some(Value::String(raw)) => serde_json::from_str(raw).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    match settings.get("labels") {
        Some(Value::Object(map)) => map
            .values()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|l| {
                l.get("label")
                    .or_else(|| l.get("name"))
                    .and_then(Value::as_str)
            })
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::{Config, Vars};

    fn mapping() -> BoardMapping {
        let config = Config::from_vars(&Vars::from_pairs([])).expect("defaults");
        BoardMapping::new(&config.monday)
    }

    fn item(columns: Value) -> ItemNode {
        serde_json::from_value(json!({
            "id": "11", "name": "Login issue", "state": "active",
            "created_at": "2024-10-06T10:00:00.000Z", "updated_at": "2024-10-07T12:30:00+02:00",
            "board": {"id": crate::server::local_board::LOCAL_BOARD_ID},
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
        let values = mapping().new_ticket_columns("acme", "a@acme.test", &ticket);
        assert_eq!(values["description"], json!({"text": "line one\nline two"}));
        assert_eq!(values["portal_id"], json!("acme"));
        assert_eq!(values["status"], json!({"label": "Open"}));
        assert_eq!(values["priority"], json!({"label": "High"}));
        assert_eq!(values["client_email"]["email"], json!("a@acme.test"));
    }

    #[test]
    fn reads_both_label_formats() {
        let old = json!(r#"{"labels":{"0":"Open","1":"Closed"}}"#);
        assert_eq!(status_column_labels(Some(&old)), vec!["Open", "Closed"]);
        let new = json!({"labels": [{"index": 0, "label": "Low"}]});
        assert_eq!(status_column_labels(Some(&new)), vec!["Low"]);
    }
}
