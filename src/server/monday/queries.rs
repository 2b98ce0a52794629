//! Every GraphQL document the portal sends to monday. Values always travel as variables.
//!
//! `tests/api/monday_schema.rs` validates each document in [`ALL`] against monday's published
//! schema (`schema/monday-2026-10.graphql`), so a field monday lacks fails the tests, not
//! production.

/// The fields the portal reads from an item; `$columnIds` limits the column values to the
/// mapped columns.
macro_rules! ticket_fields {
    () => {
        r#"
fragment TicketFields on Item {
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

macro_rules! update_fields {
    () => {
        r#"
fragment UpdateFields on Update {
  id
  body
  text_body
  created_at
  creator_id
  creator { id name }
}"#
    };
}

pub const PING: &str = "query Ping { me { id name } }";

/// The first page of one portal's tickets: the filter runs on monday's side.
pub const PORTAL_TICKETS_FIRST_PAGE: &str = concat!(
    r#"
query PortalTicketsFirstPage($boardId: ID!, $limit: Int!, $query: ItemsQuery!, $columnIds: [String!]) {
  complexity { before after query reset_in_x_seconds }
  boards(ids: [$boardId]) {
    items_page(limit: $limit, query_params: $query) {
      cursor
      items { ...TicketFields }
    }
  }
}"#,
    ticket_fields!()
);

/// Later pages; monday refuses `query_params` together with a cursor, so this is a root field.
pub const PORTAL_TICKETS_NEXT_PAGE: &str = concat!(
    r#"
query PortalTicketsNextPage($cursor: String!, $limit: Int!, $columnIds: [String!]) {
  complexity { before after query reset_in_x_seconds }
  next_items_page(cursor: $cursor, limit: $limit) {
    cursor
    items { ...TicketFields }
  }
}"#,
    ticket_fields!()
);

pub const TICKET_BY_ID: &str = concat!(
    r#"
query TicketById($itemId: ID!, $columnIds: [String!]) {
  items(ids: [$itemId]) { ...TicketFields }
}"#,
    ticket_fields!()
);

pub const TICKET_WITH_UPDATES: &str = concat!(
    r#"
query TicketWithUpdates($itemId: ID!, $columnIds: [String!], $updatesLimit: Int!) {
  items(ids: [$itemId]) {
    ...TicketFields
    updates(limit: $updatesLimit) { ...UpdateFields }
  }
}"#,
    ticket_fields!(),
    update_fields!()
);

pub const CREATE_TICKET: &str = concat!(
    r#"
mutation CreateTicket($boardId: ID!, $name: String!, $columnValues: JSON!, $columnIds: [String!]) {
  create_item(board_id: $boardId, item_name: $name, column_values: $columnValues) {
    ...TicketFields
  }
}"#,
    ticket_fields!()
);

pub const ADD_UPDATE: &str = concat!(
    r#"
mutation AddUpdate($itemId: ID!, $body: String!) {
  create_update(item_id: $itemId, body: $body) { ...UpdateFields }
}"#,
    update_fields!()
);

pub const CHANGE_COLUMNS: &str = concat!(
    r#"
mutation ChangeColumns($boardId: ID!, $itemId: ID!, $columnValues: JSON!, $columnIds: [String!]) {
  change_multiple_column_values(board_id: $boardId, item_id: $itemId, column_values: $columnValues) {
    ...TicketFields
  }
}"#,
    ticket_fields!()
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
pub const ALL: &[(&str, &str)] = &[
    ("Ping", PING),
    ("PortalTicketsFirstPage", PORTAL_TICKETS_FIRST_PAGE),
    ("PortalTicketsNextPage", PORTAL_TICKETS_NEXT_PAGE),
    ("TicketById", TICKET_BY_ID),
    ("TicketWithUpdates", TICKET_WITH_UPDATES),
    ("CreateTicket", CREATE_TICKET),
    ("AddUpdate", ADD_UPDATE),
    ("ChangeColumns", CHANGE_COLUMNS),
    ("BoardStructure", BOARD_STRUCTURE),
    ("CreateBoard", CREATE_BOARD),
    ("CreateColumn", CREATE_COLUMN),
    ("Webhooks", LIST_WEBHOOKS),
    ("CreateWebhook", CREATE_WEBHOOK),
    ("DeleteWebhook", DELETE_WEBHOOK),
];
