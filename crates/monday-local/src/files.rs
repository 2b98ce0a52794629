//! Files, as monday's `/v2/file` endpoint takes them and `Asset.public_url` gives them back.
//!
//! monday takes a file only as `multipart/form-data` on `/v2/file`
//! (<https://developer.monday.com/api-reference/reference/assets>: "requires a multipart form
//! request. It cannot be sent as a standard JSON request to the `/v2` endpoint"), with the
//! GraphQL document in a `query` part and the file in a part that a `File!` variable names.
//! monday's own material shows three ways of naming it, and the board accepts each:
//! - `variables[file]`: the file part is named after the variable (monday's 2020 curl sample);
//! - a `map` part `{"image":"variables.file"}` (a string) with a file part `image` (the current
//!   page's JavaScript sample);
//! - a `variables` part with `"file": null` and a `map` part `{"0":["variables.file"]}` (the
//!   GraphQL multipart request spec, as monday's JavaScript SDK sends it).
//!
//! `public_url` is "valid for 1 hour" (same page): each read hands out a fresh link that works
//! for [`PUBLIC_URL_LIFETIME`] and then answers 404. The largest file is
//! [`crate::store::MAX_FILE_BYTES`] (monday's code caps uploads at 500 MB; its pages state no
//! limit, and no answer to a larger file has been captured, so the board answers as for any
//! refused argument, `FileTooLargeException` in a 200).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::graphql::{UPLOAD_KEY, Upload, Uploads};
use crate::{GraphqlRequest, Shared, monday_error};

/// How long a file's public link works: monday says an hour.
pub const PUBLIC_URL_LIFETIME: Duration = Duration::from_secs(3600);

/// A public link handed out for a file.
pub struct Link {
    asset_id: u64,
    until: Instant,
}

impl Shared {
    /// A fresh public link to asset `asset_id`, working for the public-URL lifetime.
    pub(crate) fn public_file_url(&self, asset_id: u64) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let lifetime = self
            .public_url_lifetime
            .lock()
            .map(|l| *l)
            .unwrap_or(PUBLIC_URL_LIFETIME);
        if let Ok(mut links) = self.file_links.lock() {
            let now = Instant::now();
            links.retain(|_, link| link.until > now);
            links.insert(
                token.clone(),
                Link {
                    asset_id,
                    until: now + lifetime,
                },
            );
        }
        let base = self.base_url.lock().map(|b| b.clone()).unwrap_or_default();
        format!("{base}/files/{asset_id}/{token}")
    }

    /// Sets how long public links work from now on (tests shorten monday's hour).
    pub fn set_public_url_lifetime(&self, lifetime: Duration) {
        if let Ok(mut current) = self.public_url_lifetime.lock() {
            *current = lifetime;
        }
    }
}

fn bad_request(message: &str) -> Response {
    monday_error(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
}

/// Reads a multipart request into the GraphQL request and its files. A `File` variable is
/// replaced by a placeholder naming its file (see [`Uploads`]).
pub(crate) async fn read_request(
    mut multipart: Multipart,
) -> Result<(GraphqlRequest, Uploads), Response> {
    let mut query = None;
    let mut variables: Map<String, Value> = Map::new();
    let mut map: Option<Value> = None;
    // (part name, file) in the order they came.
    let mut parts: Vec<(String, Upload)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return Err(match error.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => monday_error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "FileTooLargeException",
                        "The request is larger than the file limit",
                    ),
                    _ => bad_request(&format!("the multipart body cannot be read: {error}")),
                });
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|error| bad_request(&format!("a part cannot be read: {error}")))?;
        match (name.as_str(), filename) {
            ("query", None) => query = Some(String::from_utf8_lossy(&bytes).into_owned()),
            ("variables", None) => {
                variables = match serde_json::from_slice(&bytes) {
                    Ok(Value::Object(object)) => object,
                    Ok(Value::Null) => Map::new(),
                    _ => return Err(bad_request("variables must be a JSON object")),
                }
            }
            ("map", None) => {
                map = Some(
                    serde_json::from_slice(&bytes).map_err(|_| bad_request("map must be JSON"))?,
                )
            }
            (_, filename) => parts.push((
                name.clone(),
                Upload {
                    filename: filename.unwrap_or(name),
                    bytes: bytes.to_vec(),
                },
            )),
        }
    }
    let Some(query) = query else {
        return Err(bad_request("Pass your query string with the `query` key"));
    };
    let mut files = Vec::new();
    for (part, upload) in parts {
        let index = files.len();
        // Which variable the part fills: the map's word for it, or its own name.
        let targets: Vec<String> = match map.as_ref().and_then(|m| m.get(&part)) {
            Some(Value::String(path)) => vec![path.clone()],
            Some(Value::Array(paths)) => paths
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => vec![part.clone()],
        };
        for target in targets {
            let variable = target
                .strip_prefix("variables.")
                .or_else(|| {
                    target
                        .strip_prefix("variables[")
                        .and_then(|t| t.strip_suffix(']'))
                })
                .unwrap_or(&target);
            variables.insert(
                variable.to_owned(),
                serde_json::json!({ UPLOAD_KEY: index }),
            );
        }
        files.push(upload);
    }
    Ok((
        GraphqlRequest {
            query,
            variables: Some(Value::Object(variables)),
            operation_name: None,
        },
        Uploads::new(files),
    ))
}

/// `GET /files/{asset}/{token}`: a file by its public link, while the link works. Served as a
/// download, whatever it is (`Content-Disposition: attachment`, `nosniff`).
pub(crate) async fn download(
    State(shared): State<Arc<Shared>>,
    Path((asset_id, token)): Path<(u64, String)>,
) -> Response {
    let valid = shared.file_links.lock().is_ok_and(|links| {
        links
            .get(&token)
            .is_some_and(|link| link.asset_id == asset_id && link.until > Instant::now())
    });
    let asset = shared.store.snapshot().assets.get(&asset_id).cloned();
    let (true, Some(asset)) = (valid, asset) else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let Some(bytes) = shared.store.file(asset_id).await else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let filename: String = asset
        .name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
