//! Files over HTTP: the new-ticket and message forms as `multipart/form-data` (with files, and
//! without JavaScript), and downloads of a ticket's files through the portal.
//!
//! Both forms answer JSON to the page's script (`Accept: application/json`, which shows upload
//! progress) and a redirect to a form posted without JavaScript, whose errors are left in the
//! session for the page to show (they name the file, which no code in a URL may).

use crate::i18n::Locale;
use axum::Json;
use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use futures::StreamExt;
use serde::Serialize;
use tower_sessions::Session;

use super::limits::Write;
use super::request::{SignedIn, client_address, session_access};
use super::state::AppState;
use crate::error::AppError;
use crate::model::{NewTicket, Ticket};
use crate::server::auth::{Access, AuditEvent, session};
use crate::server::html::query_value;
use crate::server::tickets::Writer;
use crate::server::tickets::attachments::{Download, Spool, inline_type};

pub use crate::model::NEW_TICKET_PATH;

/// Whether a request carries files (its body may be as large as a message's files, and may
/// take longer than other requests to arrive).
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && (path == NEW_TICKET_PATH
            || (path.starts_with("/tickets/") && path.ends_with("/messages")))
}

/// Whether `path` is a file's download (never a page: signed out, it is simply not found).
pub fn is_download(path: &str) -> bool {
    path.starts_with("/tickets/") && path.contains("/files/")
}

/// The longest text field a form may carry (a description is at most ~40 KB of text).
const MAX_TEXT_FIELD_BYTES: usize = 128 * 1024;

/// All of a form's text fields together: the body limit leaves room for a message's files, and
/// without this a form of many text fields would be held in memory up to that limit.
const MAX_FORM_TEXT_BYTES: usize = 2 * MAX_TEXT_FIELD_BYTES;

/// More text fields than any of the portal's forms has (they have at most four).
const MAX_TEXT_FIELDS: usize = 16;

/// What the page's script gets back once a form is saved: where to go (or what to refresh).
#[derive(Serialize)]
struct Saved {
    redirect: String,
    ticket_id: String,
}

/// How the browser posted: with the page's script (JSON back) or as a plain form.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

/// The language the request is answered in (`server::http::prefs`).
fn request_locale(parts: &axum::http::request::Parts) -> Locale {
    parts
        .extensions
        .get::<crate::i18n::Prefs>()
        .map(|prefs| prefs.locale)
        .unwrap_or_default()
}

/// The answer to a form: JSON for the script, a redirect for a plain form (with the error left
/// for the page it goes back to).
async fn answer(
    locale: Locale,
    headers: &HeaderMap,
    session: Option<&Session>,
    result: Result<Saved, AppError>,
    ok_path: &str,
    error_path: &str,
) -> Response {
    if wants_json(headers) {
        return match result {
            Ok(saved) => Json(saved).into_response(),
            // The script shows the message: in the page's language.
            Err(error) => error.answer_in(locale, headers),
        };
    }
    match result {
        Ok(_) => Redirect::to(ok_path).into_response(),
        Err(AppError::NotSignedIn) => Redirect::to("/login").into_response(),
        Err(error) => {
            let separator = if error_path.contains('?') { '&' } else { '?' };
            let location = match (&error, session) {
                (AppError::Invalid { field, message }, Some(session)) if field == "files" => {
                    session::set_flash(session, message).await;
                    format!("{error_path}{separator}error=files")
                }
                _ => {
                    let (code, minutes) = error.form_code();
                    let minutes = minutes.map(|m| format!("&minutes={m}")).unwrap_or_default();
                    format!(
                        "{error_path}{separator}error={}{minutes}",
                        query_value(&code)
                    )
                }
            };
            Redirect::to(&location).into_response()
        }
    }
}

/// A text field, refused when longer than any form needs or than what is `left` of the form's
/// text allowance.
async fn text_field(field: Field<'_>, left: usize) -> Result<String, AppError> {
    let limit = left.min(MAX_TEXT_FIELD_BYTES);
    let mut bytes = Vec::new();
    let mut field = field;
    while let Some(chunk) = field.chunk().await.map_err(|_| {
        AppError::bad_request("The form did not arrive whole. Please send it again.")
    })? {
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::invalid(
                "form",
                "A field of the form is far too long.",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::invalid("form", "The form was not text."))
}

/// A form's text fields and its files (checked and spooled as they arrive).
struct Posted {
    fields: Vec<(String, String)>,
    spool: Spool,
}

impl Posted {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a multipart form: text fields into memory (small), files through the spool (never
/// whole in memory). At the first file that breaks a limit, the rest of the form is read and
/// dropped (within the body limit), so a browser still sending it gets the answer rather than
/// a reset connection.
async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
    locale: Locale,
) -> Result<Posted, AppError> {
    let result = read_fields(state, &mut multipart, locale).await;
    if result.is_err() {
        drain(multipart).await;
    }
    result
}

/// Reads what is left of a refused form and drops it (within the body limit), so a browser
/// still sending it gets the answer rather than a reset connection.
async fn drain(mut multipart: Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

async fn read_fields(
    state: &AppState,
    multipart: &mut Multipart,
    locale: Locale,
) -> Result<Posted, AppError> {
    let mut posted = Posted {
        fields: Vec::new(),
        spool: state.tickets.spool(),
    };
    loop {
        let field = multipart.next_field().await.map_err(|error| {
            tracing::info!(%error, "a form did not arrive whole");
            AppError::bad_request("The form did not arrive whole. Please send it again.")
        })?;
        let Some(field) = field else {
            return Ok(posted);
        };
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) if name == "files" => {
                posted
                    .spool
                    .receive(&file_name, field)
                    .await
                    .map_err(|problem| AppError::invalid("files", problem.message(locale)))?;
            }
            _ => {
                if posted.fields.len() >= MAX_TEXT_FIELDS {
                    return Err(AppError::invalid("form", "The form has too many fields."));
                }
                let used: usize = posted.fields.iter().map(|(n, v)| n.len() + v.len()).sum();
                let left = MAX_FORM_TEXT_BYTES.saturating_sub(used + name.len());
                let value = text_field(field, left).await?;
                posted.fields.push((name, value));
            }
        }
    }
}

/// A signed-in member's form, read once their write limits allowed it.
struct Accepted {
    access: Access,
    posted: Posted,
}

impl Accepted {
    /// Reads the form of `signed` (the session's member) as a `write`, on ticket `on` if it
    /// is a message: the ticket is checked first, so nobody's files are taken in for a ticket
    /// they may not see.
    async fn read(
        state: &AppState,
        address: Option<std::net::IpAddr>,
        signed: Result<SignedIn, AppError>,
        multipart: Multipart,
        on: Option<&str>,
        write: Write,
        locale: Locale,
    ) -> Result<Self, AppError> {
        let SignedIn(access, _) = signed?;
        state
            .write_limits
            .check(&access.member, address, write)
            .await?;
        if let Some(ticket_id) = on
            && let Err(error) = state.tickets.detail(&access, ticket_id).await
        {
            drain(multipart).await;
            return Err(error.into());
        }
        let posted = read_form(state, multipart, locale).await?;
        Ok(Self { access, posted })
    }
}

/// The session a form's answer may leave its message in.
fn session_of(signed: &Result<SignedIn, AppError>) -> Option<Session> {
    signed
        .as_ref()
        .ok()
        .map(|SignedIn(_, session)| session.clone())
}

/// `POST /tickets`: a new ticket with its files.
pub async fn create_ticket(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    signed: Result<SignedIn, AppError>,
    multipart: Multipart,
) -> Response {
    let address = client_address(&parts, &state.config.trusted_proxies);
    let session = session_of(&signed);
    let locale = request_locale(&parts);
    let result = async {
        let form = Accepted::read(
            &state,
            address,
            signed,
            multipart,
            None,
            Write::Ticket,
            locale,
        )
        .await?;
        let field = |name| form.posted.get(name).unwrap_or_default();
        // A form without a priority (a script of the agency's own) gets the default.
        let priority = form.posted.get("priority").unwrap_or("medium");
        let new = NewTicket::validate(field("title"), field("description"), priority)
            .map_err(|e| AppError::invalid(e.field, e.message))?;
        let Accepted { access, posted } = form;
        let ticket: Ticket = state
            .tickets
            .create(
                &access.member,
                access.display_name.as_deref(),
                &new,
                posted.spool.into_files(),
            )
            .await?;
        state
            .auth
            .audit_member(
                AuditEvent::TicketCreated,
                &access.member,
                address,
                &new.title,
            )
            .await;
        Ok(Saved {
            // Where the form without JavaScript goes too: the list, saying it is on its way.
            redirect: "/dashboard?created=1".to_owned(),
            ticket_id: ticket.id,
        })
    }
    .await;
    answer(
        locale,
        &parts.headers,
        session.as_ref(),
        result,
        "/dashboard?created=1",
        "/tickets/new",
    )
    .await
}

/// `POST /tickets/{id}/messages`: the client's message with its files.
pub async fn post_message(
    State(state): State<AppState>,
    Path(ticket_id): Path<String>,
    parts: axum::http::request::Parts,
    signed: Result<SignedIn, AppError>,
    multipart: Multipart,
) -> Response {
    let address = client_address(&parts, &state.config.trusted_proxies);
    let session = session_of(&signed);
    let page = format!("/tickets/{}", query_value(&ticket_id));
    let locale = request_locale(&parts);
    let result = async {
        let form = Accepted::read(
            &state,
            address,
            signed,
            multipart,
            Some(&ticket_id),
            Write::Reply,
            locale,
        )
        .await?;
        let reply_to = form
            .posted
            .get("reply_to")
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let body = form.posted.get("body").unwrap_or_default().to_owned();
        let Accepted { access, posted } = form;
        state
            .tickets
            .reply(
                &access,
                Writer {
                    name: access.display_name.as_deref(),
                    locale,
                },
                &ticket_id,
                &body,
                reply_to.as_deref(),
                posted.spool.into_files(),
            )
            .await?;
        state
            .auth
            .audit_member(AuditEvent::ReplyPosted, &access.member, address, &ticket_id)
            .await;
        Ok(Saved {
            redirect: page.clone(),
            ticket_id: ticket_id.clone(),
        })
    }
    .await;
    answer(
        locale,
        &parts.headers,
        session.as_ref(),
        result,
        &page,
        &page,
    )
    .await
}

/// `GET /tickets/{id}/files/{key}`: a file of a ticket the member may see. Everyone else, signed
/// out included, gets 404: the URL says nothing about whether the file exists.
pub async fn download(
    State(state): State<AppState>,
    Path((ticket_id, key)): Path<(String, String)>,
    parts: axum::http::request::Parts,
    session: Session,
) -> Response {
    let locale = request_locale(&parts);
    let Ok(access) = session_access(&state, &session).await else {
        return AppError::NotFound.answer_in(locale, &parts.headers);
    };
    match state.tickets.open_file(&access, &ticket_id, &key).await {
        Ok(download) => file_response(download).await,
        Err(error) => AppError::from(error).answer_in(locale, &parts.headers),
    }
}

/// The response for a file: raster images inline with their own type; everything else as a
/// download, so nothing a client or the team uploaded ever runs in the portal's origin. The
/// type of a monday file is decided by its first bytes, not by its name.
async fn file_response(download: Download) -> Response {
    let Download {
        name,
        size,
        file_type,
        mut body,
    } = download;
    // A monday file: look at its first bytes before answering.
    let mut head: Vec<u8> = Vec::new();
    let file_type = match file_type {
        Some(file_type) => Some(file_type),
        None => {
            while head.len() < 64 {
                match body.next().await {
                    Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                    Some(Err(error)) => {
                        tracing::warn!(%error, "a file from monday broke off");
                        return AppError::Unavailable {
                            message: "The file could not be fetched just now. Please try again."
                                .into(),
                        }
                        .into_response();
                    }
                    None => break,
                }
            }
            inline_type(&head)
        }
    };
    let inline = file_type.filter(|t| t.inline);
    let content_type = match (inline, file_type) {
        (Some(t), _) => t.mime,
        (None, Some(t)) if t.mime != "text/plain" => t.mime,
        (None, Some(_)) => "text/plain; charset=utf-8",
        (None, None) => "application/octet-stream",
    };
    let disposition = content_disposition(
        if inline.is_some() {
            "inline"
        } else {
            "attachment"
        },
        &name,
    );
    let head_chunk =
        futures::stream::iter((!head.is_empty()).then_some(Ok::<_, std::io::Error>(head)));
    let mut response = Response::new(Body::from_stream(head_chunk.chain(body)));
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_TYPE, content_type);
    set(headers, header::CONTENT_DISPOSITION, &disposition);
    if let Some(size) = size {
        set(headers, header::CONTENT_LENGTH, &size.to_string());
    }
    // Even a file opened on its own runs nothing: no scripts, no plugins, its own origin. (Like
    // every page about someone, it is `no-store`, from `guard::security_headers`: nothing of a
    // ticket stays in a shared computer's cache once its member signs out.)
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    );
    response
}

/// `inline` or `attachment` with the file's name, for every browser (RFC 6266: an ASCII
/// fallback and the exact name in UTF-8).
fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// 413 before reading a body whose declared length is over the limit, in the browser's
/// language (the member's choice is not read yet).
pub fn too_large(headers: &HeaderMap) -> Response {
    super::error::notice(StatusCode::PAYLOAD_TOO_LARGE, "too_large", headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_travel_safely_in_the_disposition() {
        assert_eq!(
            content_disposition("attachment", "Report \"Q3\" é.pdf"),
            "attachment; filename=\"Report _Q3_ _.pdf\"; filename*=UTF-8''Report%20%22Q3%22%20%C3%A9.pdf"
        );
    }

    #[test]
    fn only_the_forms_with_files_are_uploads() {
        let post = axum::http::Method::POST;
        assert!(is_upload(&post, "/tickets"));
        assert!(is_upload(&post, "/tickets/123/messages"));
        assert!(!is_upload(&axum::http::Method::GET, "/tickets"));
        assert!(!is_upload(&post, "/api/create_ticket"));
        assert!(is_download("/tickets/1/files/a1"));
        assert!(!is_download("/tickets/1"));
    }
}
