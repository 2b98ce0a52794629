//! Executes monday GraphQL against the local board: every request is parsed and validated
//! against monday's real schema, then resolved field by field with apollo-compiler's executor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apollo_compiler::executable::{ExecutableDocument, OperationType, Selection};
use apollo_compiler::resolvers::{
    AsyncObjectValue, AsyncResolvedValue, Execution, FieldError, ResolveInfo,
};
use apollo_compiler::validation::Valid;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::schema::schema;
use crate::store::{
    API_USER_ID, Board, BoardError, BoardState, Column, ColumnKind, Item, ItemState, Update,
    is_done_label,
};

/// apollo-compiler's resolvers can fail only with a plain-text message, but monday's errors
/// carry a code in `extensions`. So the code travels inside the message, before this separator
/// (the ASCII unit separator, which no real message contains), and [`shape_response`] moves it
/// back out into `extensions.code` before the answer leaves.
const CODE_SEPARATOR: char = '\u{1f}';

fn field_error(error: BoardError) -> FieldError {
    FieldError {
        message: format!("{}{CODE_SEPARATOR}{}", error.code, error.message),
    }
}

/// What the request costs and what is left, for the `complexity` field.
#[derive(Debug, Clone, Copy)]
pub struct ComplexityReport {
    pub before: i64,
    pub after: i64,
    pub query: i64,
    pub reset_in_x_seconds: i64,
}

/// A cursor's remembered position: the filter and the last id returned.
#[derive(Debug, Clone)]
pub struct CursorState {
    pub filter: ItemFilter,
    pub after_id: u64,
    pub created: Instant,
}

/// How long monday keeps a cursor usable.
pub const CURSOR_LIFETIME: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone)]
pub struct ItemFilter {
    board_id: u64,
    rules: Vec<Rule>,
    any: bool,
    ids: Option<Vec<u64>>,
}

#[derive(Debug, Clone)]
struct Rule {
    column_id: String,
    operator: String,
    values: Vec<Value>,
}

/// The operators monday supports on each column type, from each type's page of monday's
/// documentation (text, long text, email, status); the name column's are not documented and
/// get the text operators; date filters (relative dates, ranges) are not emulated beyond
/// emptiness. Anything else is refused, as monday refuses it.
fn operators_for(kind: ColumnKind) -> &'static [&'static str] {
    const TEXT: &[&str] = &[
        "any_of",
        "not_any_of",
        "is_empty",
        "is_not_empty",
        "contains_text",
        "not_contains_text",
    ];
    match kind {
        ColumnKind::Text | ColumnKind::LongText | ColumnKind::Email => TEXT,
        ColumnKind::Name => &["any_of", "not_any_of", "contains_text", "not_contains_text"],
        ColumnKind::Status => &[
            "any_of",
            "not_any_of",
            "is_empty",
            "is_not_empty",
            "contains_terms",
        ],
        ColumnKind::Date => &["is_empty", "is_not_empty"],
        // monday: a files column cannot be filtered.
        ColumnKind::File => &[],
    }
}

impl ItemFilter {
    fn parse(board: &Board, query: Option<&Value>) -> Result<Self, BoardError> {
        let mut filter = ItemFilter {
            board_id: board.id,
            rules: Vec::new(),
            any: false,
            ids: None,
        };
        let Some(query) = query.filter(|q| !q.is_null()) else {
            return Ok(filter);
        };
        filter.any = query.get("operator").and_then(Value::as_str) == Some("or");
        if let Some(query) = query.as_object() {
            filter.ids = id_list(query, "ids");
        }
        if filter.ids.as_ref().is_some_and(|ids| ids.len() > 100) {
            return Err(BoardError::new(
                "InvalidArgumentException",
                "ItemsQuery.ids takes at most 100 ids",
            ));
        }
        for rule in query
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let column_id = rule
                .get("column_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let operator = rule
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or("any_of")
                .to_owned();
            let values = match rule.get("compare_value") {
                Some(Value::Array(values)) => values.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(single) => vec![single.clone()],
            };
            let column = board.column(&column_id).ok_or_else(|| {
                BoardError::new(
                    "InvalidColumnIdException",
                    format!("This column ID doesn't exist for the board: {column_id}"),
                )
            })?;
            if !operators_for(column.kind).contains(&operator.as_str()) {
                return Err(BoardError::new(
                    "InvalidArgumentException",
                    format!(
                        "The operator {operator} is not supported for the {} column {column_id}",
                        column.kind.graphql_name()
                    ),
                ));
            }
            filter.rules.push(Rule {
                column_id,
                operator,
                values,
            });
        }
        Ok(filter)
    }

    fn matches(&self, board: &Board, item: &Item) -> bool {
        if item.board_id != self.board_id || item.state != ItemState::Active {
            return false;
        }
        if let Some(ids) = &self.ids
            && !ids.contains(&item.id)
        {
            return false;
        }
        if self.rules.is_empty() {
            return true;
        }
        let mut results = self.rules.iter().map(|rule| rule.matches(board, item));
        if self.any {
            results.any(|m| m)
        } else {
            results.all(|m| m)
        }
    }
}

impl Rule {
    fn matches(&self, board: &Board, item: &Item) -> bool {
        let column = board.column(&self.column_id);
        let text = match column {
            Some(c) if c.kind == ColumnKind::Name => Some(item.name.clone()),
            Some(c) => BoardState::column_text(c, item.values.get(&c.id)),
            None => None,
        }
        .unwrap_or_default();
        let strings: Vec<String> = self
            .values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        if let Some(column) = column.filter(|c| c.kind == ColumnKind::Status) {
            // Status columns compare label *indexes* (5 is the empty label); the label's text
            // is matched only by contains_terms.
            let index = item
                .values
                .get(&column.id)
                .and_then(|v| v.get("index"))
                .and_then(Value::as_u64)
                .unwrap_or(5)
                .to_string();
            return match self.operator.as_str() {
                "any_of" => strings.contains(&index),
                "not_any_of" => !strings.contains(&index),
                "is_empty" => index == "5",
                "is_not_empty" => index != "5",
                "contains_terms" => strings
                    .iter()
                    .any(|s| !text.is_empty() && text.to_lowercase() == s.to_lowercase()),
                _ => false,
            };
        }
        let lower = text.to_lowercase();
        let equals_any = || strings.iter().any(|s| s == &text);
        match self.operator.as_str() {
            "any_of" => equals_any(),
            "not_any_of" => !equals_any(),
            "is_empty" => text.is_empty(),
            "is_not_empty" => !text.is_empty(),
            "contains_text" => strings.iter().any(|s| lower.contains(&s.to_lowercase())),
            "not_contains_text" => !strings.iter().any(|s| lower.contains(&s.to_lowercase())),
            _ => false,
        }
    }
}

fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// A list argument of ids (`ids: [ID!]`), if given.
fn id_list(args: &Map<String, Value>, name: &str) -> Option<Vec<u64>> {
    args.get(name)
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(id_of).collect())
}

/// A list argument of strings (`ids: [String!]` for columns), if given.
fn string_list(args: &Map<String, Value>, name: &str) -> Option<Vec<String>> {
    args.get(name).and_then(Value::as_array).map(|values| {
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

fn required_id(args: &Map<String, Value>, name: &str) -> Result<u64, BoardError> {
    args.get(name).and_then(id_of).ok_or_else(|| {
        BoardError::new(
            "InvalidArgumentException",
            format!("{name} must be a numeric id"),
        )
    })
}

fn limit_arg(args: &Map<String, Value>, default: u64, max: u64) -> Result<usize, BoardError> {
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(BoardError::new(
            "InvalidArgumentException",
            format!("limit must be between 1 and {max}"),
        ));
    }
    Ok(limit as usize)
}

/// One request's view: the snapshot it reads and the board's shared parts.
struct Ctx {
    snap: Arc<BoardState>,
    shared: Arc<Shared>,
    complexity: ComplexityReport,
    /// Files sent with a multipart request to `/v2/file`, which `File` variables name.
    uploads: Arc<Uploads>,
}

/// A file part of a multipart request, until a mutation takes it.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The files of one request. A `File` variable holds `{"$upload": n}`: the `n`-th file.
#[derive(Default)]
pub struct Uploads(std::sync::Mutex<Vec<Option<Upload>>>);

impl Uploads {
    pub fn new(files: Vec<Upload>) -> Self {
        Self(std::sync::Mutex::new(files.into_iter().map(Some).collect()))
    }

    /// The upload a `File` argument names; each can be taken once.
    fn take(&self, value: Option<&Value>) -> Result<Upload, BoardError> {
        let index = value
            .and_then(|v| v.get(UPLOAD_KEY))
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                BoardError::new(
                    "InvalidArgumentException",
                    "No file was sent: post the file as multipart form data to /v2/file",
                )
            })?;
        self.0
            .lock()
            .ok()
            .and_then(|mut files| files.get_mut(index as usize).and_then(Option::take))
            .ok_or_else(|| BoardError::new("InvalidArgumentException", "The file part is missing"))
    }
}

/// The key a `File` variable's placeholder carries (see [`Uploads`]).
pub const UPLOAD_KEY: &str = "$upload";

/// A resolved value, independent of apollo's lifetimes.
enum Out {
    Leaf(Value),
    Obj(Box<dyn Obj>),
    List(Vec<Out>),
}

impl Out {
    fn null() -> Self {
        Out::Leaf(Value::Null)
    }

    fn leaf(value: impl Into<Value>) -> Self {
        Out::Leaf(value.into())
    }

    fn opt_obj<T: Obj + 'static>(value: Option<T>) -> Self {
        value.map_or_else(Out::null, |v| Out::Obj(Box::new(v)))
    }

    fn list<T: Obj + 'static>(values: impl IntoIterator<Item = T>) -> Self {
        Out::List(values.into_iter().map(|v| Out::Obj(Box::new(v))).collect())
    }
}

/// A GraphQL object resolved synchronously from a snapshot.
trait Obj: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn field(&self, name: &str, args: &Map<String, Value>) -> Result<Out, BoardError>;
}

/// Bridges [`Obj`] to apollo's async executor.
struct Adapter(Box<dyn Obj>);

fn arguments(info: &ResolveInfo<'_>) -> Map<String, Value> {
    match serde_json::to_value(info.arguments()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn into_resolved<'a>(out: Out) -> AsyncResolvedValue<'a> {
    match out {
        Out::Leaf(value) => AsyncResolvedValue::leaf(value),
        Out::Obj(object) => AsyncResolvedValue::Object(Box::new(Adapter(object))),
        Out::List(values) => {
            AsyncResolvedValue::list(values.into_iter().map(into_resolved).collect::<Vec<_>>())
        }
    }
}

impl AsyncObjectValue for Adapter {
    fn type_name(&self) -> &str {
        self.0.type_name()
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> BoxFuture<'a, Result<AsyncResolvedValue<'a>, FieldError>> {
        let result = self.0.field(info.field_name(), &arguments(info));
        Box::pin(async move { result.map(into_resolved).map_err(field_error) })
    }
}

fn unsupported(type_name: &str, field: &str) -> BoardError {
    BoardError::new(
        "FieldNotSupported",
        format!("the local board does not implement {type_name}.{field}"),
    )
}

struct QueryRoot(Arc<Ctx>);

impl Obj for QueryRoot {
    fn type_name(&self) -> &'static str {
        "Query"
    }

    fn field(&self, name: &str, args: &Map<String, Value>) -> Result<Out, BoardError> {
        let ctx = &self.0;
        match name {
            "boards" => {
                let ids = id_list(args, "ids");
                let limit = limit_arg(args, 25, 500)?;
                let boards = ctx
                    .snap
                    .boards
                    .values()
                    .filter(|b| ids.as_ref().is_none_or(|ids| ids.contains(&b.id)))
                    .take(limit)
                    .map(|board| BoardObj {
                        ctx: ctx.clone(),
                        board: board.clone(),
                    });
                Ok(Out::list(boards))
            }
            "items" => {
                let ids = id_list(args, "ids").unwrap_or_default();
                let limit = limit_arg(args, 25, 100)?;
                let items = ids
                    .iter()
                    .filter_map(|id| ctx.snap.items.get(id))
                    .filter(|item| item.state != ItemState::Deleted)
                    .take(limit)
                    .map(|item| ItemObj {
                        ctx: ctx.clone(),
                        item: item.clone(),
                    });
                Ok(Out::list(items))
            }
            "next_items_page" => {
                let cursor = args
                    .get("cursor")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let limit = limit_arg(args, 25, 500)?;
                ItemsPage::next(ctx, cursor, limit)
            }
            "users" => {
                let ids = id_list(args, "ids");
                let limit = limit_arg(args, 200, 1000)?;
                Ok(Out::list(
                    ctx.snap
                        .users
                        .values()
                        .filter(|u| ids.as_ref().is_none_or(|ids| ids.contains(&u.id)))
                        .take(limit)
                        .map(|u| UserObj(u.as_ref().clone())),
                ))
            }
            "me" => Ok(Out::opt_obj(
                ctx.snap
                    .user(API_USER_ID)
                    .map(|user| UserObj(user.as_ref().clone())),
            )),
            "complexity" => Ok(Out::Obj(Box::new(ComplexityObj(ctx.complexity)))),
            "assets" => {
                let ids = id_list(args, "ids").unwrap_or_default();
                Ok(Out::list(ids.into_iter().filter_map(|id| {
                    ctx.snap.assets.get(&id).map(|asset| AssetObj {
                        ctx: ctx.clone(),
                        asset: asset.clone(),
                    })
                })))
            }
            "webhooks" => {
                let board_id = required_id(args, "board_id")?;
                Ok(Out::list(
                    ctx.snap
                        .webhooks
                        .values()
                        .filter(|w| w.board_id == board_id)
                        .map(|w| WebhookObj(w.as_ref().clone())),
                ))
            }
            other => Err(unsupported("Query", other)),
        }
    }
}

struct BoardObj {
    ctx: Arc<Ctx>,
    board: Arc<Board>,
}

impl Obj for BoardObj {
    fn type_name(&self) -> &'static str {
        "Board"
    }

    fn field(&self, name: &str, args: &Map<String, Value>) -> Result<Out, BoardError> {
        let board = &self.board;
        match name {
            "id" => Ok(Out::leaf(board.id.to_string())),
            "name" => Ok(Out::leaf(board.name.clone())),
            "board_kind" => Ok(Out::leaf(board.kind.clone())),
            "state" => Ok(Out::leaf("active")),
            "description" => Ok(Out::null()),
            "items_count" => Ok(Out::leaf(
                self.ctx
                    .snap
                    .items
                    .values()
                    .filter(|i| i.board_id == board.id && i.state == ItemState::Active)
                    .count(),
            )),
            "columns" => {
                let ids = string_list(args, "ids");
                Ok(Out::list(
                    board
                        .columns
                        .iter()
                        .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                        .map(|c| ColumnObj(c.clone())),
                ))
            }
            "items_page" => {
                let limit = limit_arg(args, 25, 500)?;
                if let Some(cursor) = args.get("cursor").and_then(Value::as_str) {
                    if args.get("query_params").is_some_and(|q| !q.is_null()) {
                        return Err(BoardError::new(
                            "InvalidArgumentException",
                            "cursor and query_params cannot be used together; use next_items_page",
                        ));
                    }
                    return ItemsPage::next(&self.ctx, cursor, limit);
                }
                let filter = ItemFilter::parse(board, args.get("query_params"))?;
                Ok(ItemsPage::start(&self.ctx, filter, limit))
            }
            other => Err(unsupported("Board", other)),
        }
    }
}

struct ItemsPage;

impl ItemsPage {
    fn start(ctx: &Arc<Ctx>, filter: ItemFilter, limit: usize) -> Out {
        Self::page(ctx, filter, 0, limit)
    }

    fn next(ctx: &Arc<Ctx>, cursor: &str, limit: usize) -> Result<Out, BoardError> {
        let expired = || {
            BoardError::new(
                "CursorException",
                "CursorExpiredError: The cursor provided for pagination has expired. Please use a new cursor.",
            )
        };
        if ctx.shared.cursor_fault_active() {
            return Err(expired());
        }
        let state = ctx
            .shared
            .cursors
            .lock()
            .ok()
            .and_then(|cursors| cursors.get(cursor).cloned())
            .ok_or_else(expired)?;
        if state.created.elapsed() > CURSOR_LIFETIME {
            return Err(expired());
        }
        Ok(Self::page(ctx, state.filter, state.after_id, limit))
    }

    fn page(ctx: &Arc<Ctx>, filter: ItemFilter, after_id: u64, limit: usize) -> Out {
        let Some(board) = ctx.snap.board(filter.board_id).cloned() else {
            return Out::Obj(Box::new(ItemsResponseObj {
                ctx: ctx.clone(),
                cursor: None,
                items: Vec::new(),
            }));
        };
        let mut matching = ctx
            .snap
            .items
            .range(after_id + 1..)
            .map(|(_, item)| item)
            .filter(|item| filter.matches(&board, item));
        let items: Vec<Arc<Item>> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        let cursor = match (more, items.last()) {
            (true, Some(last)) => Some(ctx.shared.remember_cursor(CursorState {
                filter,
                after_id: last.id,
                created: Instant::now(),
            })),
            _ => None,
        };
        ctx.shared.count_items_returned(items.len());
        Out::Obj(Box::new(ItemsResponseObj {
            ctx: ctx.clone(),
            cursor,
            items,
        }))
    }
}

struct ItemsResponseObj {
    ctx: Arc<Ctx>,
    cursor: Option<String>,
    items: Vec<Arc<Item>>,
}

impl Obj for ItemsResponseObj {
    fn type_name(&self) -> &'static str {
        "ItemsResponse"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        match name {
            "cursor" => Ok(self.cursor.clone().map_or_else(Out::null, Out::leaf)),
            "items" => Ok(Out::list(self.items.iter().map(|item| ItemObj {
                ctx: self.ctx.clone(),
                item: item.clone(),
            }))),
            other => Err(unsupported("ItemsResponse", other)),
        }
    }
}

struct ItemObj {
    ctx: Arc<Ctx>,
    item: Arc<Item>,
}

impl Obj for ItemObj {
    fn type_name(&self) -> &'static str {
        "Item"
    }

    fn field(&self, name: &str, args: &Map<String, Value>) -> Result<Out, BoardError> {
        let item = &self.item;
        let board = self.ctx.snap.board(item.board_id);
        match name {
            "id" => Ok(Out::leaf(item.id.to_string())),
            "name" => Ok(Out::leaf(item.name.clone())),
            "state" => Ok(Out::leaf(item.state.as_str())),
            "created_at" => Ok(Out::leaf(item.created_at.clone())),
            "updated_at" => Ok(Out::leaf(item.updated_at.clone())),
            "creator_id" => Ok(Out::leaf(item.creator_id.to_string())),
            "creator" => Ok(Out::opt_obj(
                self.ctx
                    .snap
                    .user(item.creator_id)
                    .map(|u| UserObj(u.as_ref().clone())),
            )),
            "url" | "relative_link" => Ok(Out::leaf(format!(
                "/boards/{}/pulses/{}",
                item.board_id, item.id
            ))),
            // monday gives every item a mail-in address; `.invalid` (RFC 2606) can never deliver.
            "email" => Ok(Out::leaf(format!("pulse-{}@local-board.invalid", item.id))),
            "board" => Ok(Out::opt_obj(board.cloned().map(|board| BoardObj {
                ctx: self.ctx.clone(),
                board,
            }))),
            "column_values" => {
                let Some(board) = board else {
                    return Ok(Out::List(Vec::new()));
                };
                let ids = string_list(args, "ids");
                let values = board
                    .columns
                    .iter()
                    .filter(|c| c.kind != ColumnKind::Name)
                    .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                    .map(|column| ColumnValueObj {
                        column: column.clone(),
                        value: item.values.get(&column.id).cloned(),
                    });
                Ok(Out::list(values))
            }
            "updates" => {
                // "The updates query now returns a maximum of 100 updates per page" (2025-01):
                // a larger limit still gets 100, so clients must page.
                let limit = args
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(25)
                    .clamp(1, 100) as usize;
                let page = args.get("page").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
                let updates = self
                    .ctx
                    .snap
                    .item_updates(item.id)
                    .into_iter()
                    .skip((page - 1) * limit)
                    .take(limit)
                    .map(|update| UpdateObj {
                        ctx: self.ctx.clone(),
                        update,
                    });
                Ok(Out::list(updates))
            }
            other => Err(unsupported("Item", other)),
        }
    }
}

struct ColumnObj(Column);

impl Obj for ColumnObj {
    fn type_name(&self) -> &'static str {
        "Column"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        let column = &self.0;
        match name {
            "id" => Ok(Out::leaf(column.id.clone())),
            "title" => Ok(Out::leaf(column.title.clone())),
            "type" => Ok(Out::leaf(column.kind.graphql_name())),
            "archived" => Ok(Out::leaf(false)),
            "description" => Ok(Out::null()),
            "width" => Ok(Out::null()),
            "settings" => Ok(Out::leaf(column.settings())),
            // Deprecated since 2025-10 and still served: the legacy label map, as a string.
            "settings_str" => Ok(Out::leaf(column.settings_str())),
            other => Err(unsupported("Column", other)),
        }
    }
}

struct ColumnValueObj {
    column: Column,
    value: Option<Value>,
}

impl Obj for ColumnValueObj {
    fn type_name(&self) -> &'static str {
        self.column.kind.value_type()
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        let text = || BoardState::column_text(&self.column, self.value.as_ref());
        let get = |key: &str| {
            self.value
                .as_ref()
                .and_then(|v| v.get(key))
                .cloned()
                .unwrap_or(Value::Null)
        };
        match name {
            "id" => Ok(Out::leaf(self.column.id.clone())),
            "type" => Ok(Out::leaf(self.column.kind.graphql_name())),
            "text" => Ok(Out::leaf(text().unwrap_or_default())),
            // monday returns JSON column values as a JSON-encoded string.
            "value" => Ok(self
                .value
                .as_ref()
                .map_or_else(Out::null, |v| Out::leaf(v.to_string()))),
            "is_leaf" => Ok(Out::leaf(true)),
            "column" => Ok(Out::Obj(Box::new(ColumnObj(self.column.clone())))),
            "index" => Ok(Out::Leaf(get("index"))),
            "label" => Ok(Out::leaf(text().map_or(Value::Null, Value::String))),
            "is_done" => Ok(Out::leaf(text().is_some_and(|t| is_done_label(&t)))),
            "email" => Ok(Out::Leaf(get("email"))),
            "date" => Ok(Out::Leaf(get("date"))),
            "time" => Ok(Out::Leaf(get("time"))),
            "updated_at" => Ok(Out::Leaf(get("changed_at"))),
            other => Err(unsupported(self.type_name(), other)),
        }
    }
}

struct UpdateObj {
    ctx: Arc<Ctx>,
    update: Arc<Update>,
}

impl UpdateObj {
    /// The fields an update and a reply share.
    fn common(&self, name: &str) -> Option<Out> {
        let update = &self.update;
        Some(match name {
            "id" => Out::leaf(update.id.to_string()),
            "body" => Out::leaf(update.body.clone()),
            "text_body" => Out::leaf(html_to_text(&update.body)),
            "created_at" => Out::leaf(update.created_at.clone()),
            "updated_at" | "edited_at" => Out::leaf(
                update
                    .edited_at
                    .clone()
                    .unwrap_or_else(|| update.created_at.clone()),
            ),
            "creator_id" => Out::leaf(update.creator_id.to_string()),
            "creator" => Out::opt_obj(
                self.ctx
                    .snap
                    .user(update.creator_id)
                    .map(|u| UserObj(u.as_ref().clone())),
            ),
            "assets" => Out::list(self.ctx.snap.update_assets(update.id).into_iter().map(
                |asset| AssetObj {
                    ctx: self.ctx.clone(),
                    asset,
                },
            )),
            _ => return None,
        })
    }
}

impl Obj for UpdateObj {
    fn type_name(&self) -> &'static str {
        "Update"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        if let Some(out) = self.common(name) {
            return Ok(out);
        }
        let update = &self.update;
        match name {
            "item_id" => Ok(Out::leaf(update.item_id.to_string())),
            "replies" => Ok(Out::list(self.ctx.snap.replies(update.id).into_iter().map(
                |reply| {
                    ReplyObj(UpdateObj {
                        ctx: self.ctx.clone(),
                        update: reply,
                    })
                },
            ))),
            other => Err(unsupported("Update", other)),
        }
    }
}

/// A reply in an update's thread: monday's `Reply` has no item id and no replies.
struct ReplyObj(UpdateObj);

impl Obj for ReplyObj {
    fn type_name(&self) -> &'static str {
        "Reply"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        match self.0.common(name) {
            Some(out) => Ok(out),
            None if name == "kind" => Ok(Out::leaf("reply")),
            None => Err(unsupported("Reply", name)),
        }
    }
}

/// A file. `public_url` is a fresh link valid for an hour (monday: "valid for 1 hour"), made
/// each time it is read; `url` stands for monday's account-only link and is never served.
struct AssetObj {
    ctx: Arc<Ctx>,
    asset: Arc<super::store::Asset>,
}

impl Obj for AssetObj {
    fn type_name(&self) -> &'static str {
        "Asset"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        let asset = &self.asset;
        match name {
            "id" => Ok(Out::leaf(asset.id.to_string())),
            "name" => Ok(Out::leaf(asset.name.clone())),
            "file_extension" => Ok(Out::leaf(asset.file_extension.clone())),
            "file_size" => Ok(Out::leaf(asset.file_size)),
            "created_at" => Ok(Out::leaf(asset.created_at.clone())),
            "public_url" => Ok(Out::leaf(self.ctx.shared.public_file_url(asset.id))),
            "url" => Ok(Out::leaf(format!(
                "https://local-board.monday.invalid/protected_static/{}/{}",
                asset.id, asset.name
            ))),
            // monday: "Only available for images"; the local board makes no thumbnails.
            "url_thumbnail" | "original_geometry" => Ok(Out::null()),
            "uploaded_by" => Ok(Out::opt_obj(
                self.ctx
                    .snap
                    .user(asset.uploaded_by)
                    .map(|u| UserObj(u.as_ref().clone())),
            )),
            other => Err(unsupported("Asset", other)),
        }
    }
}

struct UserObj(super::store::User);

impl Obj for UserObj {
    fn type_name(&self) -> &'static str {
        "User"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        match name {
            "id" => Ok(Out::leaf(self.0.id.to_string())),
            "name" => Ok(Out::leaf(self.0.name.clone())),
            "email" => Ok(Out::leaf(self.0.email.clone())),
            other => Err(unsupported("User", other)),
        }
    }
}

struct WebhookObj(super::store::Webhook);

impl Obj for WebhookObj {
    fn type_name(&self) -> &'static str {
        "Webhook"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        let webhook = &self.0;
        match name {
            "id" => Ok(Out::leaf(webhook.id.to_string())),
            "board_id" => Ok(Out::leaf(webhook.board_id.to_string())),
            "event" => Ok(Out::leaf(webhook.event.clone())),
            "config" => Ok(webhook
                .config
                .as_ref()
                .map_or_else(Out::null, |c| Out::leaf(c.to_string()))),
            other => Err(unsupported("Webhook", other)),
        }
    }
}

struct ComplexityObj(ComplexityReport);

impl Obj for ComplexityObj {
    fn type_name(&self) -> &'static str {
        "Complexity"
    }

    fn field(&self, name: &str, _args: &Map<String, Value>) -> Result<Out, BoardError> {
        let c = self.0;
        match name {
            "before" => Ok(Out::leaf(c.before)),
            "after" => Ok(Out::leaf(c.after)),
            "query" => Ok(Out::leaf(c.query)),
            "reset_in_x_seconds" => Ok(Out::leaf(c.reset_in_x_seconds)),
            other => Err(unsupported("Complexity", other)),
        }
    }
}

/// Mutations write through the store, so they resolve asynchronously.
struct MutationRoot(Arc<Ctx>);

impl MutationRoot {
    /// A fresh read context after a write, so the returned object shows the new state.
    fn after_write(&self) -> Arc<Ctx> {
        Arc::new(Ctx {
            snap: self.0.shared.store.snapshot(),
            shared: self.0.shared.clone(),
            complexity: self.0.complexity,
            uploads: self.0.uploads.clone(),
        })
    }

    async fn resolve(&self, name: &str, args: Map<String, Value>) -> Result<Out, BoardError> {
        let shared = &self.0.shared;
        let create_labels = args
            .get("create_labels_if_missing")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match name {
            "create_item" => {
                let board_id = required_id(&args, "board_id")?;
                let name = args
                    .get("item_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let values = args.get("column_values").cloned();
                let item = shared
                    .store
                    .mutate(|txn| {
                        txn.create_item(
                            board_id,
                            &name,
                            values.as_ref(),
                            create_labels,
                            API_USER_ID,
                            None,
                        )
                    })
                    .await?;
                Ok(Out::Obj(Box::new(ItemObj {
                    ctx: self.after_write(),
                    item,
                })))
            }
            "change_multiple_column_values" | "change_simple_column_value" => {
                let board_id = required_id(&args, "board_id")?;
                let item_id = required_id(&args, "item_id")?;
                let values = if name == "change_simple_column_value" {
                    let column_id = args
                        .get("column_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    json!({ column_id: args.get("value").cloned().unwrap_or(Value::Null) })
                } else {
                    args.get("column_values").cloned().unwrap_or(Value::Null)
                };
                let item = shared
                    .store
                    .mutate(|txn| {
                        txn.change_column_values(
                            board_id,
                            item_id,
                            &values,
                            create_labels,
                            API_USER_ID,
                        )
                    })
                    .await?;
                Ok(Out::Obj(Box::new(ItemObj {
                    ctx: self.after_write(),
                    item,
                })))
            }
            "create_update" => {
                let body = args
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let item_id = args.get("item_id").and_then(id_of);
                let parent_id = args.get("parent_id").and_then(id_of);
                let update = match (item_id, parent_id) {
                    (_, Some(parent_id)) => {
                        let snap = shared.store.snapshot();
                        if let (Some(item_id), Some(parent)) =
                            (item_id, snap.updates.get(&parent_id))
                            && parent.item_id != item_id
                        {
                            return Err(BoardError::new(
                                "InvalidArgumentException",
                                format!("Update {parent_id} is not on item {item_id}"),
                            ));
                        }
                        shared
                            .store
                            .mutate(|txn| txn.create_reply(parent_id, &body, API_USER_ID, None))
                            .await?
                    }
                    (Some(item_id), None) => {
                        shared
                            .store
                            .mutate(|txn| txn.create_update(item_id, &body, API_USER_ID, None))
                            .await?
                    }
                    (None, None) => {
                        return Err(BoardError::new(
                            "InvalidArgumentException",
                            "create_update needs item_id, or parent_id for a reply",
                        ));
                    }
                };
                Ok(Out::Obj(Box::new(UpdateObj {
                    ctx: self.after_write(),
                    update,
                })))
            }
            // Both take the file `/v2/file` carried and answer with its asset.
            "add_file_to_update" | "add_file_to_column" => {
                let upload = self.0.uploads.take(args.get("file"))?;
                let asset = if name == "add_file_to_update" {
                    let update_id = required_id(&args, "update_id")?;
                    shared
                        .store
                        .mutate(|txn| {
                            txn.add_file_to_update(
                                update_id,
                                &upload.filename,
                                upload.bytes,
                                API_USER_ID,
                            )
                        })
                        .await?
                } else {
                    let item_id = required_id(&args, "item_id")?;
                    let column_id = args
                        .get("column_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    shared
                        .store
                        .mutate(|txn| {
                            txn.add_file_to_column(
                                item_id,
                                &column_id,
                                &upload.filename,
                                upload.bytes,
                                API_USER_ID,
                            )
                        })
                        .await?
                };
                Ok(Out::Obj(Box::new(AssetObj {
                    ctx: self.after_write(),
                    asset,
                })))
            }
            "edit_update" => {
                let id = required_id(&args, "id")?;
                let body = args
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let update = shared
                    .store
                    .mutate(|txn| txn.edit_update(id, &body, API_USER_ID))
                    .await?;
                Ok(Out::Obj(Box::new(UpdateObj {
                    ctx: self.after_write(),
                    update,
                })))
            }
            "delete_update" => {
                let id = required_id(&args, "id")?;
                let update = shared
                    .store
                    .mutate(|txn| txn.delete_update(id, API_USER_ID))
                    .await?;
                Ok(Out::Obj(Box::new(UpdateObj {
                    ctx: self.after_write(),
                    update,
                })))
            }
            "archive_item" | "delete_item" => {
                let item_id = required_id(&args, "item_id")?;
                let state = if name == "delete_item" {
                    ItemState::Deleted
                } else {
                    ItemState::Archived
                };
                let item = shared
                    .store
                    .mutate(|txn| txn.set_item_state(item_id, state, API_USER_ID))
                    .await?;
                Ok(Out::Obj(Box::new(ItemObj {
                    ctx: self.after_write(),
                    item,
                })))
            }
            "create_board" => {
                let name = args
                    .get("board_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let kind = args
                    .get("board_kind")
                    .and_then(Value::as_str)
                    .unwrap_or("public")
                    .to_owned();
                let board = shared
                    .store
                    .mutate(|txn| Ok(txn.create_board(&name, &kind, Vec::new())))
                    .await?;
                Ok(Out::Obj(Box::new(BoardObj {
                    ctx: self.after_write(),
                    board,
                })))
            }
            "create_column" => {
                let board_id = required_id(&args, "board_id")?;
                let kind_name = args
                    .get("column_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let kind = ColumnKind::from_graphql(kind_name).ok_or_else(|| {
                    BoardError::new(
                        "InvalidArgumentException",
                        format!("the local board does not support {kind_name} columns"),
                    )
                })?;
                let title = args
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let id = args.get("id").and_then(Value::as_str).map(str::to_owned);
                let labels = if kind == ColumnKind::Status {
                    typed_status_labels(args.get("defaults"))?
                } else {
                    Default::default()
                };
                let column = shared
                    .store
                    .mutate(|txn| txn.create_column(board_id, id.as_deref(), &title, kind, labels))
                    .await?;
                Ok(Out::Obj(Box::new(ColumnObj(column))))
            }
            "create_status_column" => {
                let board_id = required_id(&args, "board_id")?;
                let title = args
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let id = args.get("id").and_then(Value::as_str).map(str::to_owned);
                // The schema has already checked the typed input; the labels are read the same
                // way as create_column's defaults.
                let labels = typed_status_labels(args.get("defaults"))?;
                let column = shared
                    .store
                    .mutate(|txn| {
                        txn.create_column(
                            board_id,
                            id.as_deref(),
                            &title,
                            ColumnKind::Status,
                            labels,
                        )
                    })
                    .await?;
                Ok(Out::Obj(Box::new(ColumnObj(column))))
            }
            "create_webhook" => {
                let board_id = required_id(&args, "board_id")?;
                let url = args
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let event = args
                    .get("event")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if url.len() > 255 {
                    return Err(BoardError::new(
                        "InvalidArgumentException",
                        "The webhook URL must be at most 255 characters",
                    ));
                }
                let config = args.get("config").cloned().filter(|c| !c.is_null());
                if shared.store.snapshot().board(board_id).is_none() {
                    return Err(BoardError::new(
                        "InvalidBoardIdException",
                        format!("Board {board_id} does not exist"),
                    ));
                }
                shared.webhooks.verify_url(&url).await?;
                let webhook = shared
                    .store
                    .mutate(|txn| txn.create_webhook(board_id, &url, &event, config))
                    .await?;
                Ok(Out::Obj(Box::new(WebhookObj(webhook.as_ref().clone()))))
            }
            "delete_webhook" => {
                let id = required_id(&args, "id")?;
                let webhook = shared.store.mutate(|txn| txn.delete_webhook(id)).await?;
                Ok(Out::Obj(Box::new(WebhookObj(webhook.as_ref().clone()))))
            }
            "complexity" => Ok(Out::Obj(Box::new(ComplexityObj(self.0.complexity)))),
            other => Err(unsupported("Mutation", other)),
        }
    }
}

impl AsyncObjectValue for MutationRoot {
    fn type_name(&self) -> &str {
        "Mutation"
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> BoxFuture<'a, Result<AsyncResolvedValue<'a>, FieldError>> {
        let args = arguments(info);
        Box::pin(async move {
            self.resolve(info.field_name(), args)
                .await
                .map(into_resolved)
                .map_err(field_error)
        })
    }
}

/// The values of monday's `StatusColumnColors` enum, which typed label defaults must use.
fn status_colors() -> Vec<String> {
    schema()
        .types
        .get("StatusColumnColors")
        .and_then(|t| match t {
            apollo_compiler::schema::ExtendedType::Enum(e) => {
                Some(e.values.keys().map(|k| k.to_string()).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Status labels from typed `defaults`: since 2025-10 monday validates `create_column`'s
/// defaults against the column type's schema, where labels are `[{label, color, index}]`
/// (`CreateStatusLabelInput`). The legacy `{"labels": {"1": "Open"}}` map, a label without a
/// colour or index, an unknown colour and a repeated index are refused. (Whether monday still
/// accepts the legacy map on `create_column` is not confirmed; the portal never sends it.)
fn typed_status_labels(
    defaults: Option<&Value>,
) -> Result<std::collections::BTreeMap<u32, String>, BoardError> {
    let invalid = |why: &str| {
        BoardError::new(
            "InvalidArgumentException",
            format!(
                "defaults do not match the status column's schema: {why} (labels are [{{label, color, index}}])"
            ),
        )
    };
    let defaults = match defaults {
        None | Some(Value::Null) => return Ok(Default::default()),
        Some(Value::String(raw)) => serde_json::from_str(raw).map_err(|_| invalid("not JSON"))?,
        Some(other) => other.clone(),
    };
    let labels = match defaults.get("labels") {
        None => return Ok(Default::default()),
        Some(Value::Array(labels)) => labels,
        Some(_) => return Err(invalid("labels must be an array")),
    };
    let colors = status_colors();
    let mut out = std::collections::BTreeMap::new();
    for label in labels {
        let text = label
            .get("label")
            .and_then(Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .ok_or_else(|| invalid("every label needs a label"))?;
        let color = label
            .get("color")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("every label needs a color"))?;
        if !colors.iter().any(|c| c == color) {
            return Err(invalid(&format!(
                "{color} is not a StatusColumnColors value"
            )));
        }
        let index = label
            .get("index")
            .and_then(Value::as_u64)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| invalid("every label needs an index"))?;
        if out.insert(index, text.to_owned()).is_some() {
            return Err(invalid(&format!("index {index} is used twice")));
        }
    }
    Ok(out)
}

/// Plain text of an update body, as monday's `text_body` gives it.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if matches!(name, "p" | "br" | "br/" | "div" | "li")
                    && !text.ends_with('\n')
                    && !text.is_empty()
                {
                    text.push('\n');
                }
            }
            _ if in_tag => tag.push(c),
            _ => text.push(c),
        }
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

/// What the HTTP handler needs to know about a request before running it.
pub struct Prepared {
    document: Valid<ExecutableDocument>,
    operation_name: Option<String>,
    pub is_mutation: bool,
    pub cost: i64,
    /// The operation's root fields by response key, for answers that null them.
    pub root_fields: Vec<String>,
}

/// A request monday would refuse before running it: parse and validation errors.
pub fn request_error(code: &str, message: String) -> Value {
    json!({
        "errors": [{
            "message": message,
            "extensions": { "code": code, "status_code": 400, "error_data": {} },
        }],
    })
}

pub fn prepare(query: &str, operation_name: Option<String>) -> Result<Prepared, Value> {
    let document = ExecutableDocument::parse_and_validate(schema(), query, "request.graphql")
        .map_err(|errors| {
            let message = errors
                .errors
                .iter()
                .map(|e| e.error.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            request_error("GRAPHQL_VALIDATION_FAILED", message)
        })?;
    let operation = document
        .operations
        .get(operation_name.as_deref())
        .map_err(|e| request_error("GRAPHQL_VALIDATION_FAILED", e.message().to_string()))?;
    let is_mutation = operation.operation_type == OperationType::Mutation;
    let cost = estimate_cost(&operation.selection_set.selections);
    let root_fields = operation
        .selection_set
        .selections
        .iter()
        .filter_map(|selection| match selection {
            Selection::Field(field) => Some(field.response_key().to_string()),
            _ => None,
        })
        .collect();
    Ok(Prepared {
        document,
        operation_name,
        is_mutation,
        cost,
        root_fields,
    })
}

/// A rough stand-in for monday's complexity: reading many items costs more than one.
fn estimate_cost(selections: &[Selection]) -> i64 {
    selections
        .iter()
        .map(|selection| match selection {
            Selection::Field(field) => {
                let limit = field
                    .arguments
                    .iter()
                    .find(|a| a.name == "limit")
                    .and_then(|a| a.value.to_i32())
                    .unwrap_or(25) as i64;
                let own = match field.name.as_str() {
                    "items_page" | "next_items_page" => 10 * limit,
                    "create_item"
                    | "create_update"
                    | "edit_update"
                    | "delete_update"
                    | "change_multiple_column_values" => 10_000,
                    "create_board"
                    | "create_column"
                    | "create_status_column"
                    | "create_webhook" => 30_000,
                    "complexity" => 0,
                    _ => 10,
                };
                own + estimate_cost(&field.selection_set.selections)
            }
            Selection::InlineFragment(fragment) => {
                estimate_cost(&fragment.selection_set.selections)
            }
            Selection::FragmentSpread(_) => 10,
        })
        .sum()
}

/// Runs a prepared request. apollo-compiler's executor future is not `Send`, so it runs on a
/// blocking thread that drives it with the runtime's handle (the resolvers still use tokio).
pub async fn execute(
    shared: Arc<Shared>,
    prepared: Prepared,
    variables: Map<String, Value>,
    complexity: ComplexityReport,
    uploads: Uploads,
) -> Value {
    let handle = tokio::runtime::Handle::current();
    let run = move || {
        handle.block_on(execute_here(
            shared, &prepared, variables, complexity, uploads,
        ))
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(response) => response,
        Err(_) => request_error(
            "INTERNAL_SERVER_ERROR",
            "the request could not be executed".into(),
        ),
    }
}

async fn execute_here(
    shared: Arc<Shared>,
    prepared: &Prepared,
    variables: Map<String, Value>,
    complexity: ComplexityReport,
    uploads: Uploads,
) -> Value {
    let variables = match serde_json::from_value::<apollo_compiler::response::JsonMap>(
        Value::Object(variables),
    ) {
        Ok(map) => map,
        Err(e) => return request_error("GRAPHQL_VALIDATION_FAILED", e.to_string()),
    };
    let execution = match Execution::new(schema(), &prepared.document)
        .operation_name(prepared.operation_name.as_deref())
    {
        Ok(execution) => execution.raw_variable_values(&variables),
        Err(e) => return request_error("GRAPHQL_VALIDATION_FAILED", e.message().to_string()),
    };
    let ctx = Arc::new(Ctx {
        snap: shared.store.snapshot(),
        shared: shared.clone(),
        complexity,
        uploads: Arc::new(uploads),
    });
    let result = if prepared.is_mutation {
        execution.execute_async(&MutationRoot(ctx)).await
    } else {
        execution
            .execute_async(&Adapter(Box::new(QueryRoot(ctx))))
            .await
    };
    match result {
        Ok(response) => shape_response(response),
        Err(e) => request_error("GRAPHQL_VALIDATION_FAILED", e.message().to_string()),
    }
}

/// Moves the error code hidden in a field error's message into `extensions`, as monday
/// sends it.
fn shape_response(response: apollo_compiler::response::ExecutionResponse) -> Value {
    let mut value = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    if let Some(errors) = value.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            // apollo-compiler prefixes resolver errors; monday's messages have no prefix.
            let message = message
                .strip_prefix("resolver error: ")
                .map(str::to_owned)
                .unwrap_or(message);
            let (code, message) = message
                .split_once(CODE_SEPARATOR)
                .map(|(c, m)| (c.to_owned(), m.to_owned()))
                .unwrap_or_else(|| ("GRAPHQL_EXECUTION_ERROR".to_owned(), message));
            error["message"] = json!(message);
            error["extensions"] = json!({ "code": code, "status_code": 200, "error_data": {} });
        }
    }
    let no_errors = value
        .get("errors")
        .is_some_and(|e| e.as_array().is_some_and(Vec::is_empty));
    if let (true, Some(map)) = (no_errors, value.as_object_mut()) {
        map.remove("errors");
    }
    value
}

/// Tracks the per-minute complexity budget monday gives a token.
pub struct Budget {
    pub per_minute: i64,
    used: i64,
    window_start: Instant,
}

impl Budget {
    pub fn new(per_minute: i64) -> Self {
        Self {
            per_minute,
            used: 0,
            window_start: Instant::now(),
        }
    }

    /// Charges `cost`, or says how long until the budget resets.
    pub fn charge(&mut self, cost: i64) -> Result<ComplexityReport, i64> {
        let elapsed = self.window_start.elapsed();
        if elapsed >= Duration::from_secs(60) {
            self.used = 0;
            self.window_start = Instant::now();
        }
        let reset_in = 60 - self.window_start.elapsed().as_secs().min(60) as i64;
        let before = self.per_minute - self.used;
        if cost > before {
            return Err(reset_in.max(1));
        }
        self.used += cost;
        Ok(ComplexityReport {
            before,
            after: before - cost,
            query: cost,
            reset_in_x_seconds: reset_in,
        })
    }
}

/// Remembered mutation responses by `Idempotency-Key`, kept for the window in force (30
/// minutes, as monday keeps them).
#[derive(Default)]
pub struct IdempotencyCache {
    entries: HashMap<String, IdempotencyEntry>,
}

pub enum IdempotencyEntry {
    InFlight,
    Done { response: Value, at: Instant },
}

pub enum IdempotencyCheck {
    Proceed,
    Replay(Value),
    Conflict,
}

impl IdempotencyCache {
    /// Starts a request with `key`: replays an answer younger than `window` (monday: 30
    /// minutes), refuses a duplicate still in flight.
    pub fn begin(&mut self, key: &str, window: Duration) -> IdempotencyCheck {
        self.entries.retain(|_, entry| match entry {
            IdempotencyEntry::Done { at, .. } => at.elapsed() < window,
            IdempotencyEntry::InFlight => true,
        });
        match self.entries.get(key) {
            Some(IdempotencyEntry::Done { response, .. }) => {
                IdempotencyCheck::Replay(response.clone())
            }
            Some(IdempotencyEntry::InFlight) => IdempotencyCheck::Conflict,
            None => {
                self.entries
                    .insert(key.to_owned(), IdempotencyEntry::InFlight);
                IdempotencyCheck::Proceed
            }
        }
    }

    /// Records the outcome; a failed request may be tried again with the same key.
    pub fn finish(&mut self, key: &str, response: &Value) {
        if response.get("errors").is_some() {
            self.entries.remove(key);
        } else {
            self.entries.insert(
                key.to_owned(),
                IdempotencyEntry::Done {
                    response: response.clone(),
                    at: Instant::now(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_become_text() {
        assert_eq!(
            html_to_text("<p>@client Hello &amp; welcome</p><p>Second</p>"),
            "@client Hello & welcome\nSecond"
        );
    }

    #[test]
    fn budget_runs_out_and_resets() {
        let mut budget = Budget::new(100);
        assert_eq!(budget.charge(60).map(|r| r.after), Ok(40));
        assert!(budget.charge(60).is_err());
    }

    #[test]
    fn rejects_fields_monday_lacks() {
        assert!(prepare("query { me { id shoe_size } }", None).is_err());
        assert!(prepare("query { me { id name } }", None).is_ok());
    }
}
