//! Every GraphQL document the client sends to monday. Values always travel as variables.
//!
//! `tests/schema.rs` validates each document in [`ALL`] against monday's published schema (the
//! copy the local board carries), so a field monday lacks fails the tests, not production.

/// The fields read from an item; `$columnIds` limits the column values to the
/// mapped columns.
macro_rules! item_fields {
    () => {
        r#"
fragment ItemFields on Item {
  id
  name
  state
  created_at
  updated_at
  board { id }
  column_values(ids: $columnIds) {
    id
    type
    text
    value
    ... on StatusValue { index label }
    ... on EmailValue { email }
  }
}"#
    };
}

/// An update and its thread: monday's replies are `Update.replies`, one level deep.
macro_rules! update_fields {
    () => {
        r#"
fragment UpdateFields on Update {
  id
  body
  text_body
  created_at
  updated_at
  creator_id
  creator { id name }
  assets { id name file_extension file_size }
  replies {
    id
    body
    text_body
    created_at
    updated_at
    creator_id
    creator { id name }
    assets { id name file_extension file_size }
  }
}"#
    };
}

pub const PING: &str = "query Ping { me { id name } }";

/// The first page of a board's items filtered by a column: the filter runs on monday's side.
pub const ITEMS_BY_COLUMN_FIRST_PAGE: &str = concat!(
    r#"
query ItemsByColumnFirstPage($boardId: ID!, $limit: Int!, $query: ItemsQuery!, $columnIds: [String!]) {
  complexity { before after query reset_in_x_seconds }
  boards(ids: [$boardId]) {
    items_page(limit: $limit, query_params: $query) {
      cursor
      items { ...ItemFields }
    }
  }
}"#,
    item_fields!()
);

/// Later pages; monday refuses `query_params` together with a cursor, so this is a root field.
pub const ITEMS_NEXT_PAGE: &str = concat!(
    r#"
query ItemsNextPage($cursor: String!, $limit: Int!, $columnIds: [String!]) {
  complexity { before after query reset_in_x_seconds }
  next_items_page(cursor: $cursor, limit: $limit) {
    cursor
    items { ...ItemFields }
  }
}"#,
    item_fields!()
);

pub const ITEM_BY_ID: &str = concat!(
    r#"
query ItemById($itemId: ID!, $columnIds: [String!]) {
  items(ids: [$itemId]) { ...ItemFields }
}"#,
    item_fields!()
);

/// Up to 100 items by id in one call (monday's `items` takes at most 100 ids).
pub const ITEMS_BY_IDS: &str = concat!(
    r#"
query ItemsByIds($ids: [ID!], $limit: Int!, $columnIds: [String!]) {
  items(ids: $ids, limit: $limit) { ...ItemFields }
}"#,
    item_fields!()
);

/// An item with the first page of its updates (monday returns at most 100 a page).
pub const ITEM_WITH_UPDATES: &str = concat!(
    r#"
query ItemWithUpdates($itemId: ID!, $columnIds: [String!], $updatesLimit: Int!) {
  items(ids: [$itemId]) {
    ...ItemFields
    updates(limit: $updatesLimit, page: 1) { ...UpdateFields }
  }
}"#,
    item_fields!(),
    update_fields!()
);

/// A later page of an item's updates, for items with more than one page.
pub const UPDATES_PAGE: &str = concat!(
    r#"
query UpdatesPage($itemId: ID!, $limit: Int!, $page: Int!) {
  items(ids: [$itemId]) {
    id
    updates(limit: $limit, page: $page) { ...UpdateFields }
  }
}"#,
    update_fields!()
);

pub const CREATE_ITEM: &str = concat!(
    r#"
mutation CreateItem($boardId: ID!, $name: String!, $columnValues: JSON!, $columnIds: [String!]) {
  create_item(board_id: $boardId, item_name: $name, column_values: $columnValues) {
    ...ItemFields
  }
}"#,
    item_fields!()
);

pub const CREATE_UPDATE: &str = concat!(
    r#"
mutation CreateUpdate($itemId: ID!, $body: String!) {
  create_update(item_id: $itemId, body: $body) { ...UpdateFields }
}"#,
    update_fields!()
);

/// A reply in the thread of update `$parentId`: monday's `create_update` with `parent_id`
/// (and no `item_id`, which monday says is not needed for a reply).
pub const CREATE_REPLY: &str = concat!(
    r#"
mutation CreateReply($parentId: ID!, $body: String!) {
  create_update(parent_id: $parentId, body: $body) { ...UpdateFields }
}"#,
    update_fields!()
);

pub const CHANGE_COLUMN_VALUES: &str = concat!(
    r#"
mutation ChangeColumnValues($boardId: ID!, $itemId: ID!, $columnValues: JSON!, $columnIds: [String!]) {
  change_multiple_column_values(board_id: $boardId, item_id: $itemId, column_values: $columnValues) {
    ...ItemFields
  }
}"#,
    item_fields!()
);

pub const BOARD_STRUCTURE: &str = r#"
query BoardStructure($boardId: ID!) {
  boards(ids: [$boardId]) {
    id
    name
    columns { id title type settings }
  }
}"#;

pub const CREATE_BOARD: &str = r#"
mutation CreateBoard($name: String!) {
  create_board(board_name: $name, board_kind: private, empty: true) { id name }
}"#;

pub const CREATE_COLUMN: &str = r#"
mutation CreateColumn($boardId: ID!, $id: String!, $title: String!, $type: ColumnType!, $defaults: JSON) {
  create_column(board_id: $boardId, id: $id, title: $title, column_type: $type, defaults: $defaults) {
    id
    title
    type
  }
}"#;

/// A status column with typed labels (`CreateStatusColumnSettingsInput`): since 2025-10
/// monday validates column defaults against the column type's schema.
pub const CREATE_STATUS_COLUMN: &str = r#"
mutation CreateStatusColumn($boardId: ID!, $id: String!, $title: String!, $defaults: CreateStatusColumnSettingsInput!) {
  create_status_column(board_id: $boardId, id: $id, title: $title, defaults: $defaults) {
    id
    title
    type
  }
}"#;

/// Names of the team members who write updates, read once and kept.
pub const USERS: &str = r#"
query Users($ids: [ID!]) {
  users(ids: $ids) { id name }
}"#;

pub const LIST_WEBHOOKS: &str = r#"
query Webhooks($boardId: ID!) {
  webhooks(board_id: $boardId) { id event board_id config }
}"#;

pub const CREATE_WEBHOOK: &str = r#"
mutation CreateWebhook($boardId: ID!, $url: String!, $event: WebhookEventType!) {
  create_webhook(board_id: $boardId, url: $url, event: $event) { id event board_id config }
}"#;

pub const DELETE_WEBHOOK: &str = r#"
mutation DeleteWebhook($id: ID!) {
  delete_webhook(id: $id) { id }
}"#;

/// Every document above, by name, for the schema-validation test.
/// Adds a file to an update or a reply; sent to `/v2/file` with the file as `$file`.
pub const ADD_FILE_TO_UPDATE: &str = r#"
mutation AddFileToUpdate($updateId: ID!, $file: File!) {
  add_file_to_update(update_id: $updateId, file: $file) {
    id name file_extension file_size created_at
  }
}"#;

/// Files by id, with a fresh `public_url` (monday: valid for an hour).
pub const ASSETS: &str = r#"
query Assets($ids: [ID!]!) {
  assets(ids: $ids) { id name file_extension file_size created_at public_url }
}"#;

pub const ALL: &[(&str, &str)] = &[
    ("Ping", PING),
    ("ItemsByColumnFirstPage", ITEMS_BY_COLUMN_FIRST_PAGE),
    ("ItemsNextPage", ITEMS_NEXT_PAGE),
    ("ItemById", ITEM_BY_ID),
    ("ItemsByIds", ITEMS_BY_IDS),
    ("ItemWithUpdates", ITEM_WITH_UPDATES),
    ("UpdatesPage", UPDATES_PAGE),
    ("CreateReply", CREATE_REPLY),
    ("CreateStatusColumn", CREATE_STATUS_COLUMN),
    ("Users", USERS),
    ("CreateItem", CREATE_ITEM),
    ("CreateUpdate", CREATE_UPDATE),
    ("ChangeColumnValues", CHANGE_COLUMN_VALUES),
    ("BoardStructure", BOARD_STRUCTURE),
    ("CreateBoard", CREATE_BOARD),
    ("CreateColumn", CREATE_COLUMN),
    ("Webhooks", LIST_WEBHOOKS),
    ("CreateWebhook", CREATE_WEBHOOK),
    ("DeleteWebhook", DELETE_WEBHOOK),
    ("AddFileToUpdate", ADD_FILE_TO_UPDATE),
    ("Assets", ASSETS),
];
