//! The shapes monday answers with, as far as the portal reads them. Every field monday may omit
//! is optional, so a new or missing field never breaks a read.

use serde::Deserialize;
use serde_json::Value;

/// An item (a row of a board).
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

/// An update (a post on an item) with its thread of replies.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct UpdateNode {
    pub id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub text_body: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub creator_id: Option<String>,
    #[serde(default)]
    pub creator: Option<UserRef>,
    /// The thread under this update, oldest first (monday's `Update.replies`). A reply has no
    /// replies of its own: monday's threads are one level deep.
    #[serde(default)]
    pub replies: Option<Vec<ReplyNode>>,
    /// Files on the update (without `public_url`: that is read when one is downloaded).
    #[serde(default)]
    pub assets: Option<Vec<AssetNode>>,
}

/// A reply in an update's thread (monday's `Reply`: no item id, no parent id; its place is
/// the update it was read under).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ReplyNode {
    pub id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub text_body: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub creator_id: Option<String>,
    #[serde(default)]
    pub creator: Option<UserRef>,
    #[serde(default)]
    pub assets: Option<Vec<AssetNode>>,
}

/// A file on monday (`Asset`). `public_url` works for an hour from when it was read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AssetNode {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub file_extension: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
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
