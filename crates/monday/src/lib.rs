//! A client for monday.com's GraphQL API (api.monday.com, or the local board: the same code).
//!
//! It knows monday and nothing of the portal: boards, items, column values, updates and
//! webhooks in monday's own terms. Every value travels as a GraphQL variable, the token goes into
//! one header and nowhere else, errors are typed ([`MondayError`]), and what is safe to send again
//! is retried within a time budget ([`RetryPolicy`]). Creations carry an `Idempotency-Key`.
//! Calls are counted against monday's daily cap ([`CallBudget`]), and a write that monday
//! answers with errors beside its result is read back, never guessed.

mod budget;
mod clock;
mod error;
mod nodes;
pub mod queries;
mod transport;

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

pub use budget::{BACKGROUND_SHARE, BudgetSnapshot, CallBudget, READ_SHARE};
pub use clock::{format_utc, normalize_timestamp, now_utc_string};
pub use error::MondayError;
pub use nodes::{
    AssetNode, BoardNode, ColumnNode, ColumnValueNode, Complexity, IdRef, ItemNode, ReplyNode,
    UpdateNode, UserRef, WebhookNode,
};
pub use transport::{
    Classified, FileUpload, GraphqlTransport, Replay, RetryPolicy, Written, classify_response,
};

/// monday's page size limit for `items_page` and `next_items_page`.
pub const PAGE_LIMIT: u32 = 500;
/// How many updates (comments) of one item are read at once: monday returns at most 100 a
/// page since 2025-01, so a longer conversation is read page by page.
pub const UPDATES_LIMIT: u32 = 100;
/// The most ids monday's `items` query takes at once.
pub const ITEMS_LIMIT: usize = 100;
/// The most text monday's long text column holds.
pub const LONG_TEXT_MAX_CHARS: usize = 2_000;

/// An API token: `Debug` never shows it, and [`Token::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where and how to talk to monday.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://api.monday.com/v2`, or a local board's `/v2`.
    pub endpoint: String,
    pub token: Token,
    /// `API-Version`, such as `2026-10`.
    pub api_version: String,
    /// Requests in flight at once; monday limits concurrency per account.
    pub max_concurrency: usize,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// The account's daily call cap (1,000 on Standard); see [`CallBudget`].
    pub daily_call_limit: u32,
}

/// A label for a new status column, in the typed form monday validates since 2025-10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatusLabel {
    pub label: String,
    /// A `StatusColumnColors` value, such as `working_orange`.
    pub color: &'static str,
    pub index: u32,
}

/// A label of an existing status column, read from `settings.labels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLabel {
    pub label: String,
    pub index: Option<u64>,
    /// Deactivated labels stay on the column but cannot be chosen.
    pub deactivated: bool,
}

/// One page of items and the cursor to the next (`None` on the last page).
#[derive(Debug, Clone, Deserialize)]
pub struct ItemsPage {
    pub cursor: Option<String>,
    pub items: Vec<ItemNode>,
}

#[derive(Clone)]
pub struct Client {
    transport: GraphqlTransport,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Self, MondayError> {
        Ok(Self {
            transport: GraphqlTransport::new(options)?,
        })
    }

    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// HTTP requests sent to monday since start-up, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.transport.requests_sent()
    }

    /// Today's calls against the daily cap.
    pub fn budget(&self) -> &std::sync::Arc<CallBudget> {
        self.transport.budget()
    }

    /// Whether monday's last answer, if it came within `max_age`, showed it working.
    pub fn recently_working(&self, max_age: Duration) -> Option<bool> {
        self.transport.recently_working(max_age)
    }

    /// Checks the token by asking who it belongs to.
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

    /// Every active item of `board_id` whose column `column_id` is exactly `value`. The filter
    /// runs on monday's side; the walk follows cursors [`PAGE_LIMIT`] items at a time and starts
    /// over once if a cursor expires mid-walk (monday's item order is not stable, so resuming is
    /// not possible).
    pub async fn items_with_text(
        &self,
        board_id: &str,
        column_id: &str,
        value: &str,
        column_ids: &[&str],
    ) -> Result<Vec<ItemNode>, MondayError> {
        match self
            .walk_items(board_id, column_id, value, column_ids)
            .await
        {
            Err(MondayError::CursorExpired) => {
                tracing::info!(board_id, "cursor expired mid-walk; starting over");
                self.walk_items(board_id, column_id, value, column_ids)
                    .await
            }
            other => other,
        }
    }

    async fn walk_items(
        &self,
        board_id: &str,
        column_id: &str,
        value: &str,
        column_ids: &[&str],
    ) -> Result<Vec<ItemNode>, MondayError> {
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
                queries::ITEMS_BY_COLUMN_FIRST_PAGE,
                json!({
                    "boardId": board_id,
                    "limit": PAGE_LIMIT,
                    "query": {
                        "rules": [{
                            "column_id": column_id,
                            "compare_value": [value],
                            "operator": "any_of",
                        }],
                    },
                    "columnIds": column_ids,
                }),
                Replay::Safe,
            )
            .await?;
        let Some(Some(board)) = first.boards.and_then(|b| b.into_iter().next()) else {
            return Err(MondayError::Api {
                code: "BOARD_NOT_FOUND".into(),
                message: format!("board {board_id} does not exist or the token cannot see it"),
            });
        };
        let mut items = Vec::new();
        let mut page = board.items_page;
        loop {
            items.append(&mut page.items);
            let Some(cursor) = page.cursor else {
                break;
            };
            let next: Next = self
                .transport
                .execute(
                    queries::ITEMS_NEXT_PAGE,
                    json!({ "cursor": cursor, "limit": PAGE_LIMIT, "columnIds": column_ids }),
                    Replay::Safe,
                )
                .await?;
            page = next.next_items_page;
        }
        Ok(items)
    }

    /// One item with the columns `column_ids`, or `None` when monday has no such item.
    pub async fn item(
        &self,
        item_id: &str,
        column_ids: &[&str],
    ) -> Result<Option<ItemNode>, MondayError> {
        self.fetch_item(queries::ITEM_BY_ID, item_id, column_ids, false)
            .await
    }

    /// Items by id, up to [`ITEMS_LIMIT`] in one call (more ids take more calls).
    pub async fn items(
        &self,
        item_ids: &[&str],
        column_ids: &[&str],
    ) -> Result<Vec<ItemNode>, MondayError> {
        #[derive(Deserialize)]
        struct Items {
            items: Option<Vec<Option<ItemNode>>>,
        }
        let ids: Vec<&str> = item_ids.iter().copied().filter(|id| is_id(id)).collect();
        let mut found = Vec::new();
        for chunk in ids.chunks(ITEMS_LIMIT) {
            let items: Items = self
                .transport
                .execute(
                    queries::ITEMS_BY_IDS,
                    json!({ "ids": chunk, "limit": chunk.len(), "columnIds": column_ids }),
                    Replay::Safe,
                )
                .await?;
            found.extend(
                items
                    .items
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|item| chunk.contains(&item.id.as_str())),
            );
        }
        Ok(found)
    }

    /// One item with all its updates (newest first, as monday returns them) and their
    /// threads. monday returns at most [`UPDATES_LIMIT`] updates a page; a full page is
    /// followed by the next (one call each), so a long conversation is never cut.
    pub async fn item_with_updates(
        &self,
        item_id: &str,
        column_ids: &[&str],
    ) -> Result<Option<ItemNode>, MondayError> {
        #[derive(Deserialize)]
        struct Items {
            items: Option<Vec<Option<UpdatesOnly>>>,
        }
        #[derive(Deserialize)]
        struct UpdatesOnly {
            #[serde(default)]
            updates: Option<Vec<UpdateNode>>,
        }
        let Some(mut item) = self
            .fetch_item(queries::ITEM_WITH_UPDATES, item_id, column_ids, true)
            .await?
        else {
            return Ok(None);
        };
        let mut last_page = item.updates.as_ref().map_or(0, Vec::len);
        let mut page = 1;
        while last_page == UPDATES_LIMIT as usize {
            page += 1;
            let more: Items = self
                .transport
                .execute(
                    queries::UPDATES_PAGE,
                    json!({ "itemId": item_id, "limit": UPDATES_LIMIT, "page": page }),
                    Replay::Safe,
                )
                .await?;
            let updates = more
                .items
                .into_iter()
                .flatten()
                .flatten()
                .next()
                .and_then(|i| i.updates)
                .unwrap_or_default();
            last_page = updates.len();
            item.updates.get_or_insert_with(Vec::new).extend(updates);
        }
        Ok(Some(item))
    }

    async fn fetch_item(
        &self,
        query: &str,
        item_id: &str,
        column_ids: &[&str],
        with_updates: bool,
    ) -> Result<Option<ItemNode>, MondayError> {
        #[derive(Deserialize)]
        struct Items {
            items: Option<Vec<Option<ItemNode>>>,
        }
        if !is_id(item_id) {
            return Ok(None);
        }
        let mut variables = json!({ "itemId": item_id, "columnIds": column_ids });
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
            .find(|item| item.id == item_id))
    }

    /// The first items (at most `limit`) of `board_id` matching `query` (an `ItemsQuery`):
    /// one call, for finding an item by something the portal wrote into it.
    pub async fn items_matching(
        &self,
        board_id: &str,
        query: Value,
        column_ids: &[&str],
        limit: u32,
    ) -> Result<Vec<ItemNode>, MondayError> {
        #[derive(Deserialize)]
        struct First {
            boards: Option<Vec<Option<BoardPage>>>,
        }
        #[derive(Deserialize)]
        struct BoardPage {
            items_page: ItemsPage,
        }
        let first: First = self
            .transport
            .execute(
                queries::ITEMS_BY_COLUMN_FIRST_PAGE,
                json!({
                    "boardId": board_id,
                    "limit": limit.clamp(1, PAGE_LIMIT),
                    "query": query,
                    "columnIds": column_ids,
                }),
                Replay::Safe,
            )
            .await?;
        Ok(first
            .boards
            .into_iter()
            .flatten()
            .flatten()
            .next()
            .map(|b| b.items_page.items)
            .unwrap_or_default())
    }

    /// Creates an item; `idempotency_key` makes a resend within monday's window return the
    /// first result instead of a second item. An answer with errors beside the item is read
    /// back.
    pub async fn create_item(
        &self,
        board_id: &str,
        name: &str,
        column_values: &Value,
        column_ids: &[&str],
        idempotency_key: uuid::Uuid,
    ) -> Result<ItemNode, MondayError> {
        let written: Written<Option<ItemNode>> = self
            .transport
            .execute_write(
                queries::CREATE_ITEM,
                json!({
                    "boardId": board_id,
                    "name": name,
                    "columnValues": column_values,
                    "columnIds": column_ids,
                }),
                Replay::WithKey(idempotency_key),
                "create_item",
            )
            .await?;
        let item = written
            .value
            .ok_or_else(|| MondayError::Malformed("create_item returned no item".into()))?;
        if !written.with_errors {
            return Ok(item);
        }
        self.item(&item.id, column_ids)
            .await?
            .ok_or(MondayError::Uncertain {
                code: "create_item read back: no item".into(),
            })
    }

    /// Adds an update (a post, HTML) to an item.
    pub async fn create_update(
        &self,
        item_id: &str,
        body_html: &str,
        idempotency_key: uuid::Uuid,
    ) -> Result<UpdateNode, MondayError> {
        let written: Written<Option<UpdateNode>> = self
            .transport
            .execute_write(
                queries::CREATE_UPDATE,
                json!({ "itemId": item_id, "body": body_html }),
                Replay::WithKey(idempotency_key),
                "create_update",
            )
            .await?;
        self.confirm_update(item_id, written, "create_update").await
    }

    /// Replies in the thread of update `parent_id` on item `item_id` (the item is only used to
    /// read the reply back when monday answers with errors beside it).
    pub async fn create_reply(
        &self,
        item_id: &str,
        parent_id: &str,
        body_html: &str,
        idempotency_key: uuid::Uuid,
    ) -> Result<UpdateNode, MondayError> {
        let written: Written<Option<UpdateNode>> = self
            .transport
            .execute_write(
                queries::CREATE_REPLY,
                json!({ "parentId": parent_id, "body": body_html }),
                Replay::WithKey(idempotency_key),
                "create_update",
            )
            .await?;
        self.confirm_update(item_id, written, "create_update (reply)")
            .await
    }

    /// An update monday returned; when errors came with it, the item is read to see that it
    /// is really there (as an update or as a reply in a thread).
    async fn confirm_update(
        &self,
        item_id: &str,
        written: Written<Option<UpdateNode>>,
        what: &str,
    ) -> Result<UpdateNode, MondayError> {
        let update = written
            .value
            .ok_or_else(|| MondayError::Malformed(format!("{what} returned no update")))?;
        if !written.with_errors {
            return Ok(update);
        }
        let item = self.item_with_updates(item_id, &[]).await?;
        let found = item
            .and_then(|i| i.updates)
            .unwrap_or_default()
            .iter()
            .any(|u| u.id == update.id || u.replies.iter().flatten().any(|r| r.id == update.id));
        if found {
            Ok(update)
        } else {
            Err(MondayError::Uncertain {
                code: format!("{what} read back: not found"),
            })
        }
    }

    /// Sets column values on an item; setting a value twice changes nothing, so it is retried.
    /// An answer with errors beside the item is read back.
    pub async fn change_column_values(
        &self,
        board_id: &str,
        item_id: &str,
        column_values: &Value,
        column_ids: &[&str],
    ) -> Result<ItemNode, MondayError> {
        let written: Written<Option<ItemNode>> = self
            .transport
            .execute_write(
                queries::CHANGE_COLUMN_VALUES,
                json!({
                    "boardId": board_id,
                    "itemId": item_id,
                    "columnValues": column_values,
                    "columnIds": column_ids,
                }),
                Replay::Safe,
                "change_multiple_column_values",
            )
            .await?;
        let item = written.value.ok_or_else(|| {
            MondayError::Malformed("change_multiple_column_values returned no item".into())
        })?;
        if !written.with_errors {
            return Ok(item);
        }
        self.item(item_id, column_ids)
            .await?
            .ok_or(MondayError::Uncertain {
                code: "change_multiple_column_values read back: no item".into(),
            })
    }

    /// The names of users (team members who write updates).
    pub async fn users(&self, ids: &[&str]) -> Result<Vec<UserRef>, MondayError> {
        #[derive(Deserialize)]
        struct Users {
            users: Option<Vec<Option<UserRef>>>,
        }
        let ids: Vec<&str> = ids.iter().copied().filter(|id| is_id(id)).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let users: Users = self
            .transport
            .execute(queries::USERS, json!({ "ids": ids }), Replay::Safe)
            .await?;
        Ok(users.users.into_iter().flatten().flatten().collect())
    }

    /// Adds a file to an update or a reply (`add_file_to_update` on `/v2/file`). Sent once:
    /// files append on monday, so a caller who may have sent it before looks at the update's
    /// files first (`Update.assets`).
    pub async fn add_file_to_update(
        &self,
        update_id: &str,
        file: FileUpload,
    ) -> Result<AssetNode, MondayError> {
        if !is_id(update_id) {
            return Err(MondayError::Api {
                code: "InvalidArgumentException".into(),
                message: format!("`{update_id}` is not an update id"),
            });
        }
        let written: Written<Option<AssetNode>> = self
            .transport
            .execute_file_write(
                queries::ADD_FILE_TO_UPDATE,
                json!({ "updateId": update_id }),
                file,
                "add_file_to_update",
            )
            .await?;
        written.value.ok_or_else(|| MondayError::Uncertain {
            code: "add_file_to_update: no asset in the answer".into(),
        })
    }

    /// Files by id, each with a fresh `public_url` (valid for an hour from now).
    pub async fn assets(&self, ids: &[&str]) -> Result<Vec<AssetNode>, MondayError> {
        #[derive(Deserialize)]
        struct Assets {
            assets: Option<Vec<Option<AssetNode>>>,
        }
        let ids: Vec<&str> = ids.iter().copied().filter(|id| is_id(id)).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let assets: Assets = self
            .transport
            .execute(queries::ASSETS, json!({ "ids": ids }), Replay::Safe)
            .await?;
        Ok(assets.assets.into_iter().flatten().flatten().collect())
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

    /// Creates a status column with typed labels, the form monday validates since 2025-10.
    pub async fn create_status_column(
        &self,
        board_id: &str,
        id: &str,
        title: &str,
        labels: &[NewStatusLabel],
    ) -> Result<ColumnNode, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_status_column: Option<ColumnNode>,
        }
        let labels: Vec<Value> = labels
            .iter()
            .map(|l| json!({ "label": l.label, "color": l.color, "index": l.index }))
            .collect();
        let created: Created = self
            .transport
            .execute(
                queries::CREATE_STATUS_COLUMN,
                json!({ "boardId": board_id, "id": id, "title": title, "defaults": { "labels": labels } }),
                Replay::WithKey(uuid::Uuid::new_v4()),
            )
            .await?;
        created
            .create_status_column
            .ok_or_else(|| MondayError::Malformed("create_status_column returned no column".into()))
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
pub fn is_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit())
}

/// The labels of a status column's settings, in either of monday's formats: the array of
/// 2025-10 and later (`{"labels": [{"id", "label", "index", "is_deactivated", …}]}`) or the
/// legacy map of `settings_str` (`{"labels": {"0": "Open"}}`, a JSON string or an object).
pub fn status_labels(settings: Option<&Value>) -> Vec<StatusLabel> {
    let settings = match settings {
        Some(Value::String(raw)) => serde_json::from_str(raw).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    match settings.get("labels") {
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(index, label)| {
                Some(StatusLabel {
                    label: label.as_str()?.to_owned(),
                    index: index.parse().ok(),
                    deactivated: false,
                })
            })
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|l| {
                let label = l
                    .get("label")
                    .or_else(|| l.get("name"))
                    .and_then(Value::as_str)?;
                Some(StatusLabel {
                    label: label.to_owned(),
                    index: l.get("index").and_then(Value::as_u64),
                    deactivated: l
                        .get("is_deactivated")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The labels a status column offers: those of [`status_labels`] that are not deactivated.
pub fn status_column_labels(settings: Option<&Value>) -> Vec<String> {
    status_labels(settings)
        .into_iter()
        .filter(|l| !l.deactivated)
        .map(|l| l.label)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_label_formats() {
        let old = json!(r#"{"labels":{"0":"Open","1":"Closed"}}"#);
        assert_eq!(status_column_labels(Some(&old)), vec!["Open", "Closed"]);
        let new = json!({"labels": [{"index": 0, "label": "Low"}]});
        assert_eq!(status_column_labels(Some(&new)), vec!["Low"]);
    }

    #[test]
    fn deactivated_labels_do_not_count() {
        let settings = json!({"labels": [
            {"id": 0, "color": 0, "label": "Open", "index": 0, "is_done": false, "is_deactivated": false},
            {"id": 1, "color": 1, "label": "Closed", "index": 2, "is_done": true, "is_deactivated": true},
        ]});
        assert_eq!(status_column_labels(Some(&settings)), vec!["Open"]);
        let all = status_labels(Some(&settings));
        assert_eq!(all[1].index, Some(2), "index, not id");
        assert!(all[1].deactivated);
    }

    #[test]
    fn ids_are_decimal_numbers() {
        assert!(is_id("5000000001"));
        assert!(!is_id(""));
        assert!(!is_id("12a"));
        assert!(!is_id("123456789012345678901"));
    }
}
