//! The local board's data: boards, items, column values, updates and webhooks, held in memory
//! as a copy-on-write snapshot and written through to SQLite so a restart keeps the board.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::SqlitePool;
use tokio::sync::{Mutex, mpsc};

use crate::clock::now_utc_string;

/// An error in monday's vocabulary: `code` goes to `extensions.code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BoardError {
    pub code: &'static str,
    pub message: String,
}

impl BoardError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Name,
    Text,
    LongText,
    Email,
    Status,
    Date,
    /// Files (`add_file_to_column`): written only through `/v2/file`, cleared with
    /// `{"clear_all": true}`.
    File,
}

impl ColumnKind {
    /// The `ColumnType` enum value in monday's schema.
    pub fn graphql_name(self) -> &'static str {
        match self {
            ColumnKind::Name => "name",
            ColumnKind::Text => "text",
            ColumnKind::LongText => "long_text",
            ColumnKind::Email => "email",
            ColumnKind::Status => "status",
            ColumnKind::Date => "date",
            ColumnKind::File => "file",
        }
    }

    /// The spelling webhooks use in `columnType` (monday calls a status column `color` there).
    pub fn webhook_name(self) -> &'static str {
        match self {
            ColumnKind::Status => "color",
            ColumnKind::LongText => "long-text",
            other => other.graphql_name(),
        }
    }

    /// The GraphQL object type implementing `ColumnValue` for this column.
    pub fn value_type(self) -> &'static str {
        match self {
            ColumnKind::Name | ColumnKind::Text => "TextValue",
            ColumnKind::LongText => "LongTextValue",
            ColumnKind::Email => "EmailValue",
            ColumnKind::Status => "StatusValue",
            ColumnKind::Date => "DateValue",
            ColumnKind::File => "FileValue",
        }
    }

    pub fn from_graphql(name: &str) -> Option<Self> {
        [
            ColumnKind::Text,
            ColumnKind::LongText,
            ColumnKind::Email,
            ColumnKind::Status,
            ColumnKind::Date,
            ColumnKind::File,
        ]
        .into_iter()
        .find(|k| k.graphql_name() == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub id: String,
    pub title: String,
    pub kind: ColumnKind,
    /// Status labels by index; index 5 is monday's empty label and stays free.
    #[serde(default)]
    pub labels: BTreeMap<u32, String>,
    /// Indexes of labels the team deactivated: still on the column, no longer choosable.
    #[serde(default)]
    pub deactivated: BTreeSet<u32>,
}

impl Column {
    /// `settings` as monday returns it since 2025-10: status labels are an array of
    /// `{id, color, label, index, is_done, is_deactivated}` (the colour a number, as in
    /// monday's changelog example).
    pub fn settings(&self) -> Value {
        if self.kind == ColumnKind::Status {
            let labels: Vec<Value> = self
                .labels
                .iter()
                .enumerate()
                .map(|(position, (index, label))| {
                    json!({
                        "id": position,
                        "color": index,
                        "label": label,
                        "index": index,
                        "is_done": is_done_label(label),
                        "is_deactivated": self.deactivated.contains(index),
                    })
                })
                .collect();
            json!({ "labels": labels })
        } else {
            json!({})
        }
    }

    /// The deprecated `settings_str`: the legacy `{"labels": {"0": "Open"}}` map as a string.
    pub fn settings_str(&self) -> String {
        if self.kind == ColumnKind::Status {
            let labels: serde_json::Map<String, Value> = self
                .labels
                .iter()
                .map(|(i, l)| (i.to_string(), json!(l)))
                .collect();
            json!({ "labels": labels }).to_string()
        } else {
            "{}".to_owned()
        }
    }

    fn label_index(&self, label: &str) -> Option<u32> {
        self.labels
            .iter()
            .find(|(_, l)| l.as_str() == label)
            .map(|(i, _)| *i)
    }

    fn next_free_index(&self) -> u32 {
        (0..)
            .find(|i| *i != 5 && !self.labels.contains_key(i))
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Board {
    pub id: u64,
    pub name: String,
    pub kind: String,
    pub columns: Vec<Column>,
}

impl Board {
    pub fn column(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Active,
    Archived,
    Deleted,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Active => "active",
            ItemState::Archived => "archived",
            ItemState::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    pub id: u64,
    pub board_id: u64,
    pub name: String,
    pub state: ItemState,
    pub created_at: String,
    pub updated_at: String,
    pub creator_id: u64,
    /// Column id → monday's stored `value` JSON for that column.
    pub values: BTreeMap<String, Value>,
}

/// An update on an item, or (with `parent_id`) a reply in an update's thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    pub id: u64,
    pub item_id: u64,
    pub body: String,
    pub creator_id: u64,
    pub created_at: String,
    /// The update whose thread this reply is in; monday's threads are one level deep.
    #[serde(default)]
    pub parent_id: Option<u64>,
    /// Set when the body was edited.
    #[serde(default)]
    pub edited_at: Option<String>,
}

/// A file the API added to an update or a file column (`add_file_to_update`,
/// `add_file_to_column`). Its bytes live in the store's `asset_files` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asset {
    pub id: u64,
    pub item_id: u64,
    /// The update (or reply) it is attached to.
    #[serde(default)]
    pub update_id: Option<u64>,
    /// The file column it is in.
    #[serde(default)]
    pub column_id: Option<String>,
    pub name: String,
    /// Without the dot, as monday gives it (`png`).
    pub file_extension: String,
    pub file_size: u64,
    pub created_at: String,
    pub uploaded_by: u64,
}

/// monday's largest file: its own code caps uploads at 500 MB (524,288,000 bytes).
pub const MAX_FILE_BYTES: u64 = 524_288_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: u64,
    pub board_id: u64,
    pub url: String,
    pub event: String,
    pub config: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

/// The user the API token belongs to: what the portal writes appears under this name.
pub const API_USER_ID: u64 = 1;

/// One consistent view of the whole board. Entities sit behind `Arc` so a writer copies the
/// maps, not the entities.
#[derive(Debug, Clone, Default)]
pub struct BoardState {
    pub boards: BTreeMap<u64, Arc<Board>>,
    pub items: BTreeMap<u64, Arc<Item>>,
    pub updates: BTreeMap<u64, Arc<Update>>,
    pub updates_by_item: HashMap<u64, Vec<u64>>,
    pub webhooks: BTreeMap<u64, Arc<Webhook>>,
    pub users: BTreeMap<u64, Arc<User>>,
    pub assets: BTreeMap<u64, Arc<Asset>>,
    pub next_id: u64,
}

impl BoardState {
    pub fn board(&self, id: u64) -> Option<&Arc<Board>> {
        self.boards.get(&id)
    }

    pub fn user(&self, id: u64) -> Option<&Arc<User>> {
        self.users.get(&id)
    }

    /// Updates of an item (not the replies in their threads), newest first (monday's order).
    pub fn item_updates(&self, item_id: u64) -> Vec<Arc<Update>> {
        let mut updates: Vec<Arc<Update>> = self
            .updates_by_item
            .get(&item_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.updates.get(id).cloned())
            .filter(|update| update.parent_id.is_none())
            .collect();
        updates.sort_by_key(|update| std::cmp::Reverse(update.id));
        updates
    }

    /// The files attached to update (or reply) `update_id`, in the order they were added.
    pub fn update_assets(&self, update_id: u64) -> Vec<Arc<Asset>> {
        self.assets
            .values()
            .filter(|asset| asset.update_id == Some(update_id))
            .cloned()
            .collect()
    }

    /// The thread under update `update_id`, oldest first.
    pub fn replies(&self, update_id: u64) -> Vec<Arc<Update>> {
        let Some(parent) = self.updates.get(&update_id) else {
            return Vec::new();
        };
        let mut replies: Vec<Arc<Update>> = self
            .updates_by_item
            .get(&parent.item_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.updates.get(id).cloned())
            .filter(|reply| reply.parent_id == Some(update_id))
            .collect();
        replies.sort_by_key(|reply| reply.id);
        replies
    }

    /// The text monday shows for a column value.
    pub fn column_text(column: &Column, value: Option<&Value>) -> Option<String> {
        let value = value?;
        match column.kind {
            ColumnKind::Name | ColumnKind::Text => value.as_str().map(str::to_owned),
            ColumnKind::LongText => value.get("text").and_then(Value::as_str).map(str::to_owned),
            ColumnKind::Email => value
                .get("text")
                .or_else(|| value.get("email"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            ColumnKind::Status => value
                .get("index")
                .and_then(Value::as_u64)
                .and_then(|i| column.labels.get(&(i as u32)).cloned()),
            ColumnKind::Date => {
                let date = value.get("date").and_then(Value::as_str)?;
                Some(match value.get("time").and_then(Value::as_str) {
                    Some(time) => format!("{date} {time}"),
                    None => date.to_owned(),
                })
            }
            // monday's text is the files' links; here, their names (the links expire).
            ColumnKind::File => Some(
                value
                    .get("files")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.get("name").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }
}

/// Something that happened on the board, for webhooks (and the console's view).
#[derive(Debug, Clone)]
pub enum BoardEvent {
    ItemCreated {
        item: Arc<Item>,
        user_id: u64,
    },
    ColumnChanged {
        item: Arc<Item>,
        column: Column,
        previous: Option<Value>,
        user_id: u64,
    },
    NameChanged {
        item: Arc<Item>,
        previous: String,
        user_id: u64,
    },
    UpdateCreated {
        item: Arc<Item>,
        update: Arc<Update>,
        user_id: u64,
    },
    ItemArchived {
        item: Arc<Item>,
        user_id: u64,
    },
    ItemDeleted {
        item: Arc<Item>,
        user_id: u64,
    },
    /// An archived or deleted item is back on the board.
    ItemRestored {
        item: Arc<Item>,
        previous: ItemState,
        user_id: u64,
    },
    UpdateEdited {
        item: Arc<Item>,
        update: Arc<Update>,
        user_id: u64,
    },
    /// `update` is the update as it was before it was deleted.
    UpdateDeleted {
        item: Arc<Item>,
        update: Arc<Update>,
        user_id: u64,
    },
}

impl BoardEvent {
    pub fn board_id(&self) -> u64 {
        self.item().board_id
    }

    pub fn item(&self) -> &Arc<Item> {
        match self {
            BoardEvent::ItemCreated { item, .. }
            | BoardEvent::ColumnChanged { item, .. }
            | BoardEvent::NameChanged { item, .. }
            | BoardEvent::UpdateCreated { item, .. }
            | BoardEvent::ItemArchived { item, .. }
            | BoardEvent::ItemDeleted { item, .. }
            | BoardEvent::ItemRestored { item, .. }
            | BoardEvent::UpdateEdited { item, .. }
            | BoardEvent::UpdateDeleted { item, .. } => item,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Board,
    Item,
    Update,
    Webhook,
    User,
    Asset,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Board => "board",
            Kind::Item => "item",
            Kind::Update => "update",
            Kind::Webhook => "webhook",
            Kind::User => "user",
            Kind::Asset => "asset",
        }
    }
}

/// Changes made inside [`Store::mutate`]: what to persist and which events to fire.
pub struct Txn<'a> {
    state: &'a mut BoardState,
    touched: Vec<(Kind, u64)>,
    removed: Vec<(Kind, u64)>,
    events: Vec<BoardEvent>,
    /// Bytes of files added in this change, written in the same transaction as their assets.
    files: Vec<(u64, Vec<u8>)>,
}

pub struct Store {
    current: RwLock<Arc<BoardState>>,
    writer: Mutex<()>,
    db: SqlitePool,
    events: mpsc::UnboundedSender<BoardEvent>,
}

/// monday's long text column holds up to 2,000 characters.
pub const LONG_TEXT_MAX: usize = 2_000;

/// Whether a status label means done, for `is_done` (the local board has no per-label flag).
pub fn is_done_label(label: &str) -> bool {
    matches!(label, "Resolved" | "Closed" | "Done")
}

/// The first id handed out; monday ids are large numbers and the portal must not assume
/// anything smaller.
const FIRST_ID: u64 = 5_000_000_001;

impl Store {
    pub async fn open(
        db: SqlitePool,
        events: mpsc::UnboundedSender<BoardEvent>,
    ) -> Result<Self, sqlx::Error> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS board_entities (
                kind TEXT NOT NULL,
                id INTEGER NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (kind, id)
            )",
        )
        .execute(&db)
        .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS asset_files (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
        )
        .execute(&db)
        .await?;
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT kind, id, data FROM board_entities ORDER BY id")
                .fetch_all(&db)
                .await?;
        let mut state = BoardState {
            next_id: FIRST_ID,
            ..BoardState::default()
        };
        for (kind, id, data) in rows {
            let id = id as u64;
            state.next_id = state.next_id.max(id + 1);
            let loaded = match kind.as_str() {
                "board" => serde_json::from_str(&data).map(|b| {
                    state.boards.insert(id, Arc::new(b));
                }),
                "item" => serde_json::from_str(&data).map(|i| {
                    state.items.insert(id, Arc::new(i));
                }),
                "update" => serde_json::from_str::<Update>(&data).map(|u| {
                    state.updates_by_item.entry(u.item_id).or_default().push(id);
                    state.updates.insert(id, Arc::new(u));
                }),
                "webhook" => serde_json::from_str(&data).map(|w| {
                    state.webhooks.insert(id, Arc::new(w));
                }),
                "user" => serde_json::from_str(&data).map(|u| {
                    state.users.insert(id, Arc::new(u));
                }),
                "asset" => serde_json::from_str(&data).map(|a| {
                    state.assets.insert(id, Arc::new(a));
                }),
                _ => Ok(()),
            };
            if let Err(error) = loaded {
                tracing::warn!(kind, id, %error, "skipping an unreadable local board row");
            }
        }
        Ok(Self {
            current: RwLock::new(Arc::new(state)),
            writer: Mutex::new(()),
            db,
            events,
        })
    }

    pub fn snapshot(&self) -> Arc<BoardState> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Runs `change` on a copy of the board, persists what it touched, then publishes the copy
    /// and fires its events. Writers run one at a time.
    pub async fn mutate<R>(
        &self,
        change: impl FnOnce(&mut Txn<'_>) -> Result<R, BoardError>,
    ) -> Result<R, BoardError> {
        let _writer = self.writer.lock().await;
        let mut next = (*self.snapshot()).clone();
        let (result, touched, removed, events) = {
            let mut txn = Txn {
                state: &mut next,
                touched: Vec::new(),
                removed: Vec::new(),
                events: Vec::new(),
                files: Vec::new(),
            };
            let result = change(&mut txn)?;
            (result, txn.touched, txn.removed, (txn.events, txn.files))
        };
        let (events, files) = events;
        self.persist(&next, &touched, &removed, &files).await?;
        match self.current.write() {
            Ok(mut guard) => *guard = Arc::new(next),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(next),
        }
        for event in events {
            // The receiver lives as long as the board; a send can only fail during shutdown.
            let _ = self.events.send(event);
        }
        Ok(result)
    }

    /// The bytes of asset `id`, if it exists.
    pub async fn file(&self, id: u64) -> Option<Vec<u8>> {
        sqlx::query_scalar("SELECT data FROM asset_files WHERE id = ?")
            .bind(id as i64)
            .fetch_optional(&self.db)
            .await
            .ok()
            .flatten()
    }

    async fn persist(
        &self,
        state: &BoardState,
        touched: &[(Kind, u64)],
        removed: &[(Kind, u64)],
        files: &[(u64, Vec<u8>)],
    ) -> Result<(), BoardError> {
        let storage_error = |e: sqlx::Error| BoardError::new("InternalServerError", e.to_string());
        let mut tx = self.db.begin().await.map_err(storage_error)?;
        for (kind, id) in touched {
            let data = match kind {
                Kind::Board => state.boards.get(id).map(|b| serde_json::to_string(&**b)),
                Kind::Item => state.items.get(id).map(|i| serde_json::to_string(&**i)),
                Kind::Update => state.updates.get(id).map(|u| serde_json::to_string(&**u)),
                Kind::Webhook => state.webhooks.get(id).map(|w| serde_json::to_string(&**w)),
                Kind::User => state.users.get(id).map(|u| serde_json::to_string(&**u)),
                Kind::Asset => state.assets.get(id).map(|a| serde_json::to_string(&**a)),
            };
            let Some(Ok(data)) = data else { continue };
            sqlx::query("INSERT OR REPLACE INTO board_entities (kind, id, data) VALUES (?, ?, ?)")
                .bind(kind.as_str())
                .bind(*id as i64)
                .bind(data)
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
        }
        for (id, data) in files {
            sqlx::query("INSERT OR REPLACE INTO asset_files (id, data) VALUES (?, ?)")
                .bind(*id as i64)
                .bind(data.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
        }
        for (kind, id) in removed {
            sqlx::query("DELETE FROM board_entities WHERE kind = ? AND id = ?")
                .bind(kind.as_str())
                .bind(*id as i64)
                .execute(&mut *tx)
                .await
                .map_err(storage_error)?;
        }
        tx.commit().await.map_err(storage_error)
    }
}

impl Txn<'_> {
    pub fn state(&self) -> &BoardState {
        self.state
    }

    fn next_id(&mut self) -> u64 {
        let id = self.state.next_id;
        self.state.next_id += 1;
        id
    }

    pub fn add_user(&mut self, name: &str, email: &str) -> u64 {
        let id = match self.state.users.values().find(|u| u.email == email) {
            Some(existing) => existing.id,
            None if self.state.users.is_empty() => API_USER_ID,
            None => self.state.users.keys().max().copied().unwrap_or(0) + 1,
        };
        self.state.users.insert(
            id,
            Arc::new(User {
                id,
                name: name.to_owned(),
                email: email.to_owned(),
            }),
        );
        self.touched.push((Kind::User, id));
        id
    }

    pub fn create_board(&mut self, name: &str, kind: &str, columns: Vec<Column>) -> Arc<Board> {
        let id = self.next_id();
        self.insert_board(id, name, kind, columns)
    }

    /// Creates a board with a chosen id (the local board's one well-known board).
    pub fn insert_board(
        &mut self,
        id: u64,
        name: &str,
        kind: &str,
        columns: Vec<Column>,
    ) -> Arc<Board> {
        let mut all = vec![Column {
            id: "name".into(),
            title: "Name".into(),
            kind: ColumnKind::Name,
            labels: BTreeMap::new(),
            deactivated: BTreeSet::new(),
        }];
        all.extend(columns);
        let board = Arc::new(Board {
            id,
            name: name.to_owned(),
            kind: kind.to_owned(),
            columns: all,
        });
        self.state.boards.insert(id, board.clone());
        self.state.next_id = self.state.next_id.max(id + 1);
        self.touched.push((Kind::Board, id));
        board
    }

    pub fn create_column(
        &mut self,
        board_id: u64,
        id: Option<&str>,
        title: &str,
        kind: ColumnKind,
        labels: BTreeMap<u32, String>,
    ) -> Result<Column, BoardError> {
        let board = self.board_mut(board_id)?;
        let id = match id {
            Some(id) => {
                let valid = !id.is_empty()
                    && id.len() <= 20
                    && id.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                if !valid {
                    return Err(BoardError::new(
                        "ColumnIdInvalidException",
                        "A column id must be 1 to 20 characters of a-z and _",
                    ));
                }
                id.to_owned()
            }
            None => format!("{}_{}", kind.graphql_name(), board.columns.len()),
        };
        if board.column(&id).is_some() {
            return Err(BoardError::new(
                "ColumnIdTakenException",
                format!("A column with the id {id} already exists"),
            ));
        }
        let column = Column {
            id,
            title: title.to_owned(),
            kind,
            labels,
            deactivated: BTreeSet::new(),
        };
        board.columns.push(column.clone());
        self.touched.push((Kind::Board, board_id));
        Ok(column)
    }

    fn board_mut(&mut self, board_id: u64) -> Result<&mut Board, BoardError> {
        self.state
            .boards
            .get_mut(&board_id)
            .map(Arc::make_mut)
            .ok_or_else(|| {
                BoardError::new(
                    "InvalidBoardIdException",
                    format!("Board {board_id} does not exist"),
                )
            })
    }

    fn board(&self, board_id: u64) -> Result<Arc<Board>, BoardError> {
        self.state.boards.get(&board_id).cloned().ok_or_else(|| {
            BoardError::new(
                "InvalidBoardIdException",
                format!("Board {board_id} does not exist"),
            )
        })
    }

    fn active_item(&self, item_id: u64) -> Result<Arc<Item>, BoardError> {
        self.state
            .items
            .get(&item_id)
            .filter(|i| i.state == ItemState::Active)
            .cloned()
            .ok_or_else(|| {
                BoardError::new(
                    "InvalidItemIdException",
                    format!("Item {item_id} does not exist"),
                )
            })
    }

    pub fn create_item(
        &mut self,
        board_id: u64,
        name: &str,
        column_values: Option<&Value>,
        create_labels: bool,
        user_id: u64,
        created_at: Option<String>,
    ) -> Result<Arc<Item>, BoardError> {
        check_item_name(name)?;
        let board = self.board(board_id)?;
        let mut values = BTreeMap::new();
        let mut new_labels = Vec::new();
        for (column_id, input) in column_values_map(column_values)? {
            let column = known_column(&board, &column_id)?;
            let (stored, label) = parse_input(column, &input, create_labels)?;
            new_labels.extend(label.map(|l| (column_id.clone(), l)));
            if let Some(stored) = stored {
                values.insert(column_id, stored);
            }
        }
        self.add_labels(board_id, new_labels)?;
        let now = created_at.unwrap_or_else(now_utc_string);
        let item = Arc::new(Item {
            id: self.next_id(),
            board_id,
            name: name.to_owned(),
            state: ItemState::Active,
            created_at: now.clone(),
            updated_at: now,
            creator_id: user_id,
            values,
        });
        self.state.items.insert(item.id, item.clone());
        self.touched.push((Kind::Item, item.id));
        self.events.push(BoardEvent::ItemCreated {
            item: item.clone(),
            user_id,
        });
        Ok(item)
    }

    fn add_labels(
        &mut self,
        board_id: u64,
        labels: Vec<(String, (u32, String))>,
    ) -> Result<(), BoardError> {
        if labels.is_empty() {
            return Ok(());
        }
        let board = self.board_mut(board_id)?;
        for (column_id, (index, label)) in labels {
            if let Some(column) = board.columns.iter_mut().find(|c| c.id == column_id) {
                column.labels.insert(index, label);
            }
        }
        self.touched.push((Kind::Board, board_id));
        Ok(())
    }

    /// Sets several columns (and possibly the name) of an item, firing one event per change.
    pub fn change_column_values(
        &mut self,
        board_id: u64,
        item_id: u64,
        column_values: &Value,
        create_labels: bool,
        user_id: u64,
    ) -> Result<Arc<Item>, BoardError> {
        let board = self.board(board_id)?;
        let item = self.active_item(item_id)?;
        if item.board_id != board_id {
            return Err(BoardError::new(
                "InvalidItemIdException",
                format!("Item {item_id} is not on board {board_id}"),
            ));
        }
        let mut changed = (*item).clone();
        let mut column_events = Vec::new();
        let mut new_labels = Vec::new();
        let mut renamed_from = None;
        for (column_id, input) in column_values_map(Some(column_values))? {
            if column_id == "name" {
                let name = input.as_str().ok_or_else(|| {
                    BoardError::new("ColumnValueException", "The name must be a string")
                })?;
                check_item_name(name)?;
                if name != changed.name {
                    renamed_from = Some(std::mem::replace(&mut changed.name, name.to_owned()));
                }
                continue;
            }
            let column = known_column(&board, &column_id)?.clone();
            let (stored, label) = parse_input(&column, &input, create_labels)?;
            let mut column = column;
            if let Some((index, text)) = &label {
                column.labels.insert(*index, text.clone());
                new_labels.push((column_id.clone(), (*index, text.clone())));
            }
            let previous = changed.values.get(&column_id).cloned();
            let same = comparable(&previous) == comparable(&stored);
            match stored {
                Some(stored) => changed.values.insert(column_id.clone(), stored),
                None => changed.values.remove(&column_id),
            };
            if !same {
                column_events.push((column, previous));
            }
        }
        self.add_labels(board_id, new_labels)?;
        if column_events.is_empty() && renamed_from.is_none() {
            return Ok(item);
        }
        changed.updated_at = now_utc_string();
        let changed = Arc::new(changed);
        self.state.items.insert(item_id, changed.clone());
        self.touched.push((Kind::Item, item_id));
        if let Some(previous) = renamed_from {
            self.events.push(BoardEvent::NameChanged {
                item: changed.clone(),
                previous,
                user_id,
            });
        }
        for (column, previous) in column_events {
            self.events.push(BoardEvent::ColumnChanged {
                item: changed.clone(),
                column,
                previous,
                user_id,
            });
        }
        Ok(changed)
    }

    pub fn create_update(
        &mut self,
        item_id: u64,
        body: &str,
        user_id: u64,
        created_at: Option<String>,
    ) -> Result<Arc<Update>, BoardError> {
        let item = self.active_item(item_id)?;
        if body.trim().is_empty() {
            return Err(BoardError::new(
                "InvalidArgumentException",
                "An update needs a body",
            ));
        }
        let update = Arc::new(Update {
            id: self.next_id(),
            item_id,
            body: body.to_owned(),
            creator_id: user_id,
            created_at: created_at.unwrap_or_else(now_utc_string),
            parent_id: None,
            edited_at: None,
        });
        self.state.updates.insert(update.id, update.clone());
        self.state
            .updates_by_item
            .entry(item_id)
            .or_default()
            .push(update.id);
        self.touched.push((Kind::Update, update.id));
        let mut touched_item = (*item).clone();
        touched_item.updated_at = update.created_at.clone();
        let touched_item = Arc::new(touched_item);
        self.state.items.insert(item_id, touched_item.clone());
        self.touched.push((Kind::Item, item_id));
        self.events.push(BoardEvent::UpdateCreated {
            item: touched_item,
            update: update.clone(),
            user_id,
        });
        Ok(update)
    }

    /// Adds a file to an update or a reply (`add_file_to_update`). Files append: adding the
    /// same file twice makes two assets, as on monday.
    pub fn add_file_to_update(
        &mut self,
        update_id: u64,
        name: &str,
        bytes: Vec<u8>,
        user_id: u64,
    ) -> Result<Arc<Asset>, BoardError> {
        let update = self.state.updates.get(&update_id).cloned().ok_or_else(|| {
            BoardError::new(
                "ResourceNotFoundException",
                format!("Update {update_id} not found"),
            )
        })?;
        self.active_item(update.item_id)?;
        self.add_asset(update.item_id, Some(update_id), None, name, bytes, user_id)
    }

    /// Adds a file to a file column of an item (`add_file_to_column`); the column's value lists
    /// it after the files already there, and the change fires the column's webhook.
    pub fn add_file_to_column(
        &mut self,
        item_id: u64,
        column_id: &str,
        name: &str,
        bytes: Vec<u8>,
        user_id: u64,
    ) -> Result<Arc<Asset>, BoardError> {
        let item = self.active_item(item_id)?;
        let board = self.board(item.board_id)?;
        let column = known_column(&board, column_id)?.clone();
        if column.kind != ColumnKind::File {
            return Err(BoardError::new(
                "ColumnValueException",
                format!("Column {column_id} is not a file column"),
            ));
        }
        let asset = self.add_asset(item_id, None, Some(column_id), name, bytes, user_id)?;
        let previous = item.values.get(column_id).cloned();
        let mut files: Vec<Value> = previous
            .as_ref()
            .and_then(|v| v.get("files"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let is_image = matches!(
            asset.file_extension.as_str(),
            "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" | "svg"
        );
        files.push(json!({
            "name": asset.name,
            "assetId": asset.id,
            "isImage": if is_image { "true" } else { "false" },
            "fileType": "ASSET",
            "createdAt": asset.created_at,
            "createdBy": user_id.to_string(),
        }));
        let mut changed = (*item).clone();
        changed
            .values
            .insert(column_id.to_owned(), json!({ "files": files }));
        changed.updated_at = now_utc_string();
        let changed = Arc::new(changed);
        self.state.items.insert(item_id, changed.clone());
        self.touched.push((Kind::Item, item_id));
        self.events.push(BoardEvent::ColumnChanged {
            item: changed,
            column,
            previous,
            user_id,
        });
        Ok(asset)
    }

    fn add_asset(
        &mut self,
        item_id: u64,
        update_id: Option<u64>,
        column_id: Option<&str>,
        name: &str,
        bytes: Vec<u8>,
        user_id: u64,
    ) -> Result<Arc<Asset>, BoardError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(BoardError::new(
                "InvalidArgumentException",
                "The file needs a name",
            ));
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(BoardError::new(
                "FileTooLargeException",
                format!("The file is larger than {MAX_FILE_BYTES} bytes"),
            ));
        }
        let file_extension = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        let asset = Arc::new(Asset {
            id: self.next_id(),
            item_id,
            update_id,
            column_id: column_id.map(str::to_owned),
            name: name.to_owned(),
            file_extension,
            file_size: bytes.len() as u64,
            created_at: now_utc_string(),
            uploaded_by: user_id,
        });
        self.state.assets.insert(asset.id, asset.clone());
        self.touched.push((Kind::Asset, asset.id));
        self.files.push((asset.id, bytes));
        Ok(asset)
    }

    /// A reply in the thread of update `parent_id` (`create_update` with `parent_id`). A reply
    /// to a reply is refused: monday's threads are one level deep.
    pub fn create_reply(
        &mut self,
        parent_id: u64,
        body: &str,
        user_id: u64,
        created_at: Option<String>,
    ) -> Result<Arc<Update>, BoardError> {
        let parent = self.update(parent_id)?;
        if parent.parent_id.is_some() {
            return Err(BoardError::new(
                "InvalidArgumentException",
                format!("Update {parent_id} is a reply; reply to the update it belongs to"),
            ));
        }
        let item = self.active_item(parent.item_id)?;
        if body.trim().is_empty() {
            return Err(BoardError::new(
                "InvalidArgumentException",
                "An update needs a body",
            ));
        }
        let reply = Arc::new(Update {
            id: self.next_id(),
            item_id: item.id,
            body: body.to_owned(),
            creator_id: user_id,
            created_at: created_at.unwrap_or_else(now_utc_string),
            parent_id: Some(parent_id),
            edited_at: None,
        });
        self.state.updates.insert(reply.id, reply.clone());
        self.state
            .updates_by_item
            .entry(item.id)
            .or_default()
            .push(reply.id);
        self.touched.push((Kind::Update, reply.id));
        self.events.push(BoardEvent::UpdateCreated {
            item,
            update: reply.clone(),
            user_id,
        });
        Ok(reply)
    }

    fn update(&self, id: u64) -> Result<Arc<Update>, BoardError> {
        self.state.updates.get(&id).cloned().ok_or_else(|| {
            BoardError::new(
                "InvalidArgumentException",
                format!("Update {id} does not exist"),
            )
        })
    }

    /// Changes the body of an update or a reply (`edit_update`).
    pub fn edit_update(
        &mut self,
        id: u64,
        body: &str,
        user_id: u64,
    ) -> Result<Arc<Update>, BoardError> {
        let update = self.update(id)?;
        let item = self.active_item(update.item_id)?;
        if body.trim().is_empty() {
            return Err(BoardError::new(
                "InvalidArgumentException",
                "An update needs a body",
            ));
        }
        let mut edited = (*update).clone();
        edited.body = body.to_owned();
        edited.edited_at = Some(now_utc_string());
        let edited = Arc::new(edited);
        self.state.updates.insert(id, edited.clone());
        self.touched.push((Kind::Update, id));
        self.events.push(BoardEvent::UpdateEdited {
            item,
            update: edited.clone(),
            user_id,
        });
        Ok(edited)
    }

    /// Deletes an update (with its thread) or a reply (`delete_update`); returns it as it was.
    pub fn delete_update(&mut self, id: u64, user_id: u64) -> Result<Arc<Update>, BoardError> {
        let update = self.update(id)?;
        let item = self.active_item(update.item_id)?;
        let mut gone = vec![id];
        if update.parent_id.is_none() {
            gone.extend(self.state.replies(id).iter().map(|r| r.id));
        }
        for gone_id in &gone {
            self.state.updates.remove(gone_id);
            self.removed.push((Kind::Update, *gone_id));
        }
        if let Some(ids) = self.state.updates_by_item.get_mut(&item.id) {
            ids.retain(|i| !gone.contains(i));
        }
        self.events.push(BoardEvent::UpdateDeleted {
            item,
            update: update.clone(),
            user_id,
        });
        Ok(update)
    }

    /// Brings an archived or deleted item back (monday keeps both for 30 days).
    pub fn restore_item(&mut self, item_id: u64, user_id: u64) -> Result<Arc<Item>, BoardError> {
        let item = self
            .state
            .items
            .get(&item_id)
            .filter(|i| i.state != ItemState::Active)
            .cloned()
            .ok_or_else(|| {
                BoardError::new(
                    "InvalidItemIdException",
                    format!("Item {item_id} is not archived or deleted"),
                )
            })?;
        let previous = item.state;
        let mut restored = (*item).clone();
        restored.state = ItemState::Active;
        restored.updated_at = now_utc_string();
        let restored = Arc::new(restored);
        self.state.items.insert(item_id, restored.clone());
        self.touched.push((Kind::Item, item_id));
        self.events.push(BoardEvent::ItemRestored {
            item: restored.clone(),
            previous,
            user_id,
        });
        Ok(restored)
    }

    /// Deactivates (or reactivates) a status label, as the team does in the column's settings.
    pub fn set_label_active(
        &mut self,
        board_id: u64,
        column_id: &str,
        label: &str,
        active: bool,
    ) -> Result<(), BoardError> {
        let board = self.board_mut(board_id)?;
        let column = board
            .columns
            .iter_mut()
            .find(|c| c.id == column_id && c.kind == ColumnKind::Status)
            .ok_or_else(|| {
                BoardError::new(
                    "InvalidColumnIdException",
                    format!("No status column {column_id}"),
                )
            })?;
        let index = column
            .label_index(label)
            .ok_or_else(|| BoardError::new("ColumnValueException", format!("No label {label}")))?;
        if active {
            column.deactivated.remove(&index);
        } else {
            column.deactivated.insert(index);
        }
        self.touched.push((Kind::Board, board_id));
        Ok(())
    }

    pub fn set_item_state(
        &mut self,
        item_id: u64,
        state: ItemState,
        user_id: u64,
    ) -> Result<Arc<Item>, BoardError> {
        let item = self.active_item(item_id)?;
        let mut changed = (*item).clone();
        changed.state = state;
        changed.updated_at = now_utc_string();
        let changed = Arc::new(changed);
        self.state.items.insert(item_id, changed.clone());
        self.touched.push((Kind::Item, item_id));
        self.events.push(match state {
            ItemState::Deleted => BoardEvent::ItemDeleted {
                item: changed.clone(),
                user_id,
            },
            _ => BoardEvent::ItemArchived {
                item: changed.clone(),
                user_id,
            },
        });
        Ok(changed)
    }

    pub fn create_webhook(
        &mut self,
        board_id: u64,
        url: &str,
        event: &str,
        config: Option<Value>,
    ) -> Result<Arc<Webhook>, BoardError> {
        self.board(board_id)?;
        let webhook = Arc::new(Webhook {
            id: self.next_id(),
            board_id,
            url: url.to_owned(),
            event: event.to_owned(),
            config,
        });
        self.state.webhooks.insert(webhook.id, webhook.clone());
        self.touched.push((Kind::Webhook, webhook.id));
        Ok(webhook)
    }

    pub fn delete_webhook(&mut self, id: u64) -> Result<Arc<Webhook>, BoardError> {
        let webhook = self.state.webhooks.remove(&id).ok_or_else(|| {
            BoardError::new(
                "ResourceNotFoundException",
                format!("Webhook {id} does not exist"),
            )
        })?;
        self.removed.push((Kind::Webhook, id));
        Ok(webhook)
    }
}

fn check_item_name(name: &str) -> Result<(), BoardError> {
    let length = name.chars().count();
    if length == 0 || length > 255 {
        return Err(BoardError::new(
            "ItemNameTooLongException",
            "Item name must be between 1 and 255 characters long",
        ));
    }
    Ok(())
}

fn known_column<'a>(board: &'a Board, column_id: &str) -> Result<&'a Column, BoardError> {
    board
        .column(column_id)
        .filter(|c| c.kind != ColumnKind::Name)
        .ok_or_else(|| {
            BoardError::new(
                "InvalidColumnIdException",
                format!("This column ID doesn't exist for the board: {column_id}"),
            )
        })
}

/// `column_values` arrives as a JSON object, or (older clients) as a string holding one.
fn column_values_map(input: Option<&Value>) -> Result<Vec<(String, Value)>, BoardError> {
    let parsed;
    let value = match input {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(raw)) => {
            parsed = serde_json::from_str::<Value>(raw).map_err(|_| {
                BoardError::new("JsonParseException", "column_values is not valid JSON")
            })?;
            &parsed
        }
        Some(other) => other,
    };
    match value {
        Value::Object(map) => Ok(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        _ => Err(BoardError::new(
            "ColumnValueException",
            "column_values must be a JSON object keyed by column id",
        )),
    }
}

fn comparable(value: &Option<Value>) -> Option<Value> {
    value.as_ref().map(|v| match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "changed_at")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    })
}

/// A stored value (`None` clears the column) and a status label to create, if any.
type ParsedInput = (Option<Value>, Option<(u32, String)>);

/// Parses a written value in monday's input formats into the stored `value`, plus a status
/// label to create when `create_labels_if_missing` allowed one.
fn parse_input(
    column: &Column,
    input: &Value,
    create_labels: bool,
) -> Result<ParsedInput, BoardError> {
    let invalid = |what: &str| {
        BoardError::new(
            "ColumnValueException",
            format!("invalid value for column {} ({what})", column.id),
        )
    };
    if input.is_null() || input.as_str() == Some("") {
        return Ok((None, None));
    }
    let changed_at = now_utc_string();
    let stored = match column.kind {
        ColumnKind::Name => return Err(invalid("use item_name")),
        // Files come through `add_file_to_column` on `/v2/file`; the value only clears them.
        ColumnKind::File => {
            if input.get("clear_all").and_then(Value::as_bool) == Some(true) {
                return Ok((None, None));
            }
            return Err(invalid(
                "a file column takes {\"clear_all\": true}; add files with add_file_to_column",
            ));
        }
        ColumnKind::Text => match input {
            Value::String(s) => json!(s),
            Value::Number(n) => json!(n.to_string()),
            _ => return Err(invalid("expected a string")),
        },
        ColumnKind::LongText => {
            let text = input
                .as_str()
                .or_else(|| input.get("text").and_then(Value::as_str))
                .ok_or_else(|| invalid("expected {\"text\": ...}"))?;
            // monday: "The long text column stores up to 2,000 characters". Counted in UTF-16
            // units, as monday's JavaScript front end counts them: never more than monday takes.
            let length = text.encode_utf16().count();
            if length > LONG_TEXT_MAX {
                return Err(BoardError::new(
                    "ColumnValueException",
                    format!(
                        "invalid value for column {}: long text holds up to {LONG_TEXT_MAX} characters, got {length}",
                        column.id
                    ),
                ));
            }
            json!({ "text": text, "changed_at": changed_at })
        }
        ColumnKind::Email => {
            let (email, text) = match input {
                Value::String(s) => {
                    let mut parts = s.splitn(2, ' ');
                    let email = parts.next().unwrap_or_default().to_owned();
                    let text = parts
                        .next()
                        .map(str::to_owned)
                        .unwrap_or_else(|| email.clone());
                    (email, text)
                }
                Value::Object(_) => {
                    let email = input
                        .get("email")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid("expected {\"email\": ..., \"text\": ...}"))?
                        .to_owned();
                    let text = input
                        .get("text")
                        .and_then(Value::as_str)
                        .map_or_else(|| email.clone(), str::to_owned);
                    (email, text)
                }
                _ => return Err(invalid("expected an email")),
            };
            if !email.contains('@') {
                return Err(invalid("not an email address"));
            }
            json!({ "email": email, "text": text, "changed_at": changed_at })
        }
        ColumnKind::Status => {
            let label = input
                .as_str()
                .or_else(|| input.get("label").and_then(Value::as_str));
            let index = input.get("index").and_then(Value::as_u64);
            let (index, created) = match (label, index) {
                (Some(label), _) => match column.label_index(label) {
                    Some(index) if column.deactivated.contains(&index) => {
                        return Err(BoardError::new(
                            "ColumnValueException",
                            format!("The status label {label} is deactivated"),
                        ));
                    }
                    Some(index) => (index, None),
                    None if create_labels => {
                        let index = column.next_free_index();
                        (index, Some((index, label.to_owned())))
                    }
                    None => {
                        let known: Vec<&str> = column
                            .labels
                            .iter()
                            .filter(|(i, _)| !column.deactivated.contains(i))
                            .map(|(_, l)| l.as_str())
                            .collect();
                        return Err(BoardError::new(
                            "ColumnValueException",
                            format!(
                                "This status label doesn't exist, possible statuses are: {}",
                                known.join(", ")
                            ),
                        ));
                    }
                },
                (None, Some(index))
                    if column.labels.contains_key(&(index as u32))
                        && !column.deactivated.contains(&(index as u32)) =>
                {
                    (index as u32, None)
                }
                _ => return Err(invalid("expected {\"label\": ...} or {\"index\": ...}")),
            };
            return Ok((
                Some(json!({ "index": index, "post_id": null, "changed_at": changed_at })),
                created,
            ));
        }
        ColumnKind::Date => {
            let date = input
                .as_str()
                .or_else(|| input.get("date").and_then(Value::as_str))
                .ok_or_else(|| invalid("expected {\"date\": \"YYYY-MM-DD\"}"))?;
            let mut stored = json!({ "date": date, "changed_at": changed_at });
            if let Some(time) = input.get("time").and_then(Value::as_str) {
                stored["time"] = json!(time);
            }
            stored
        }
    };
    Ok((Some(stored), None))
}

/// The `value` monday puts in a webhook for a column: richer than the stored value.
pub fn webhook_value(column: &Column, stored: Option<&Value>) -> Value {
    let Some(stored) = stored else {
        return Value::Null;
    };
    match column.kind {
        ColumnKind::Status => {
            let index = stored.get("index").and_then(Value::as_u64).unwrap_or(0);
            let text = column
                .labels
                .get(&(index as u32))
                .cloned()
                .unwrap_or_default();
            json!({
                "label": {
                    "index": index,
                    "text": text,
                    "style": {"color": "#fdab3d", "border": "#e99729", "var_name": "orange"},
                    "is_done": is_done_label(&text),
                },
                "post_id": null,
            })
        }
        ColumnKind::Text => json!({ "value": stored }),
        _ => stored.clone(),
    }
}
