//! A client for monday.com's GraphQL API (api.monday.com, or the local board: the same code).
//!
//! It knows monday and nothing of the portal: boards, items, column values, updates and
//! webhooks in monday's own terms. Every value travels as a GraphQL variable, the token goes into
//! one header and nowhere else, errors are typed ([`MondayError`]), and what is safe to send again
//! is retried within a time budget ([`RetryPolicy`]). Creations carry an `Idempotency-Key`.

mod clock;
mod error;
mod nodes;
pub mod queries;
mod transport;

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

pub use clock::{format_utc, normalize_timestamp, now_utc_string};
pub use error::MondayError;
pub use nodes::{
    BoardNode, ColumnNode, ColumnValueNode, Complexity, IdRef, ItemNode, UpdateNode, UserRef,
    WebhookNode,
};
pub use transport::{GraphqlTransport, Replay, RetryPolicy};

/// monday's page size limit for `items_page` and `next_items_page`.
pub const PAGE_LIMIT: u32 = 500;
/// How many updates (comments) of one item are read at once.
pub const UPDATES_LIMIT: u32 = 100;

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

    /// One item with its updates (newest first, as monday returns them).
    pub async fn item_with_updates(
        &self,
        item_id: &str,
        column_ids: &[&str],
    ) -> Result<Option<ItemNode>, MondayError> {
        self.fetch_item(queries::ITEM_WITH_UPDATES, item_id, column_ids, true)
            .await
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

    /// Creates an item; `idempotency_key` makes a resend within monday's window return the
    /// first result instead of a second item.
    pub async fn create_item(
        &self,
        board_id: &str,
        name: &str,
        column_values: &Value,
        column_ids: &[&str],
        idempotency_key: uuid::Uuid,
    ) -> Result<ItemNode, MondayError> {
        #[derive(Deserialize)]
        struct Created {
            create_item: Option<ItemNode>,
        }
        let created: Created = self
            .transport
            .execute(
                queries::CREATE_ITEM,
                json!({
                    "boardId": board_id,
                    "name": name,
                    "columnValues": column_values,
                    "columnIds": column_ids,
                }),
                Replay::WithKey(idempotency_key),
            )
            .await?;
        created
            .create_item
            .ok_or_else(|| MondayError::Malformed("create_item returned no item".into()))
    }

    /// Adds an update (a comment, HTML) to an item.
    pub async fn create_update(
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
                queries::CREATE_UPDATE,
                json!({ "itemId": item_id, "body": body_html }),
                Replay::WithKey(idempotency_key),
            )
            .await?;
        created
            .create_update
            .ok_or_else(|| MondayError::Malformed("create_update returned no update".into()))
    }

    /// Sets column values on an item; setting a value twice changes nothing, so it is retried.
    pub async fn change_column_values(
        &self,
        board_id: &str,
        item_id: &str,
        column_values: &Value,
        column_ids: &[&str],
    ) -> Result<ItemNode, MondayError> {
        #[derive(Deserialize)]
        struct Changed {
            change_multiple_column_values: Option<ItemNode>,
        }
        let changed: Changed = self
            .transport
            .execute(
                queries::CHANGE_COLUMN_VALUES,
                json!({
                    "boardId": board_id,
                    "itemId": item_id,
                    "columnValues": column_values,
                    "columnIds": column_ids,
                }),
                Replay::Safe,
            )
            .await?;
        changed.change_multiple_column_values.ok_or_else(|| {
            MondayError::Malformed("change_multiple_column_values returned no item".into())
        })
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
pub fn is_id(value: &str) -> bool {
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

    #[test]
    fn reads_both_label_formats() {
        let old = json!(r#"{"labels":{"0":"Open","1":"Closed"}}"#);
        assert_eq!(status_column_labels(Some(&old)), vec!["Open", "Closed"]);
        let new = json!({"labels": [{"index": 0, "label": "Low"}]});
        assert_eq!(status_column_labels(Some(&new)), vec!["Low"]);
    }

    #[test]
    fn ids_are_decimal_numbers() {
        assert!(is_id("5000000001"));
        assert!(!is_id(""));
        assert!(!is_id("12a"));
        assert!(!is_id("123456789012345678901"));
    }
}
