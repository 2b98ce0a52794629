//! Files clients attach to a new ticket or a message, and files the team put on monday.
//!
//! On the way in, a file streams into a spool file under `DATA_DIR/uploads` while its size is
//! counted against the limits and its first bytes decide its type (never its name). Only once
//! every file of the message passed are they copied, in chunks, into the database with the
//! message's outbox row: the bytes are then where any instance can deliver them to monday (the
//! outbox puts them on the message's update with `add_file_to_update`) and serve them to the
//! client meanwhile. A delivered file's copy is removed after a grace period; downloads then
//! stream from monday's `public_url`, read fresh when the last one is near its hour.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use monday::{AssetNode, FileUpload, MondayError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{OutboxRow, TicketError, TicketService};
use crate::i18n::{Locale, td_string};
use crate::model::{Delivery, FieldError, FileRef, UploadLimits};
use crate::server::db::{Db, now_unix};

/// The size of a stored chunk: small enough that a download or a delivery holds one at a time.
const CHUNK_BYTES: usize = 256 * 1024;
/// How much of a file decides its type (office files name their parts in the first few KB).
const SNIFF_BYTES: usize = 16 * 1024;
/// monday's `public_url` works for an hour; one read this long ago is read again.
const PUBLIC_URL_REUSE: Duration = Duration::from_secs(55 * 60);
/// A file whose message never made it into the outbox (the process stopped in between) is
/// removed after this long.
const ORPHAN_SECONDS: i64 = 24 * 3600;

/// A type the portal accepts, known by the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub mime: &'static str,
    /// The extensions a name of this type may end with; the first is added to a name that has
    /// none of them, so a downloaded file opens as what it is.
    pub extensions: &'static [&'static str],
    /// Browsers show it safely inline (raster images only; never HTML or SVG).
    pub inline: bool,
}

const fn accepted(
    mime: &'static str,
    extensions: &'static [&'static str],
    inline: bool,
) -> FileType {
    FileType {
        mime,
        extensions,
        inline,
    }
}

/// Everything accepted, by the MIME type `infer` names from the content. HTML, SVG, XML,
/// scripts and programs are not here: they are refused.
const ACCEPTED: &[FileType] = &[
    accepted("image/png", &["png"], true),
    accepted("image/jpeg", &["jpg", "jpeg"], true),
    accepted("image/gif", &["gif"], true),
    accepted("image/webp", &["webp"], true),
    accepted("image/heif", &["heic", "heif"], false),
    accepted("application/pdf", &["pdf"], false),
    accepted("application/zip", &["zip"], false),
    accepted("application/msword", &["doc"], false),
    accepted(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
        false,
    ),
    accepted("application/vnd.ms-excel", &["xls"], false),
    accepted(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
        false,
    ),
    accepted("application/vnd.ms-powerpoint", &["ppt"], false),
    accepted(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
        false,
    ),
    accepted("application/vnd.oasis.opendocument.text", &["odt"], false),
    accepted(
        "application/vnd.oasis.opendocument.spreadsheet",
        &["ods"],
        false,
    ),
    accepted(
        "application/vnd.oasis.opendocument.presentation",
        &["odp"],
        false,
    ),
    accepted("video/mp4", &["mp4", "m4v"], false),
    accepted("video/quicktime", &["mov"], false),
];

/// Plain text (and CSV, logs): no magic number, so it is recognised by being UTF-8 without
/// NUL bytes and without markup a browser would run.
const TEXT: FileType = accepted("text/plain", &["txt", "csv", "log", "md", "json"], false);

/// What `head` (a file's first bytes, or all of a short file) is, if the portal accepts it.
pub fn sniff(head: &[u8]) -> Option<FileType> {
    if let Some(kind) = infer::get(head) {
        return ACCEPTED
            .iter()
            .copied()
            .find(|t| t.mime == kind.mime_type());
    }
    looks_like_plain_text(head).then_some(TEXT)
}

fn looks_like_plain_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    // The head may end inside a character: only the last three bytes may be incomplete.
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() && head.len() - error.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    // HTML, SVG and XML begin with `<`; a browser that guessed would run their scripts.
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('<') {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    !["<script", "<svg", "<html", "<!doctype", "<iframe", "<?xml"]
        .iter()
        .any(|markup| lower.contains(markup))
}

/// Invisible characters that change how a name reads without being seen: direction overrides
/// and isolates (`invoice\u{202e}fdp.exe` shows as "invoiceexe.pdf"), the zero-width space,
/// the soft hyphen and the byte-order mark. The zero-width joiners stay: Persian words and
/// emoji need them.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

/// The last part of a path a browser sent as a file's name, without control characters,
/// invisible formatting, characters file systems refuse, or a leading dot, and at most 120
/// characters: how a file is named in messages before its type is known.
pub fn base_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !is_invisible_format(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .take(120)
        .collect();
    name.trim().trim_start_matches('.').trim().to_owned()
}

/// The name a file is kept and delivered under: its [`base_name`], ending with its type's
/// extension (added when it has none of them), at most 120 characters.
pub fn clean_name(raw: &str, file_type: FileType) -> String {
    let name = base_name(raw);
    let extension = name
        .rsplit_once('.')
        .filter(|(stem, ext)| {
            !stem.is_empty()
                && file_type
                    .extensions
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(ext))
        })
        .map(|(_, ext)| ext.to_owned());
    let (stem, extension) = match extension {
        Some(ext) => (name[..name.len() - ext.len() - 1].to_owned(), ext),
        None => (
            if name.is_empty() {
                "file".to_owned()
            } else {
                name
            },
            file_type
                .extensions
                .first()
                .copied()
                .unwrap_or("bin")
                .to_owned(),
        ),
    };
    let stem: String = stem.chars().take(120 - extension.len() - 1).collect();
    format!("{stem}.{extension}")
}

/// Why a file was not accepted, in words that name it and the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    TooLarge {
        name: String,
        limit: u64,
    },
    /// `name` is the file that took the message over its limit.
    MessageTooLarge {
        name: String,
        limit: u64,
    },
    TooMany {
        limit: u32,
    },
    NotAccepted {
        name: String,
    },
    Empty {
        name: String,
    },
    /// The upload stopped before the file's end (the connection dropped).
    Interrupted,
    /// The spool could not be written (disk full).
    Storage,
}

impl FileProblem {
    /// What went wrong, naming the file and the limit, in a language.
    pub fn message(&self, l: Locale) -> String {
        let size = |bytes: u64| crate::i18n::islands::size(l, bytes);
        match self {
            FileProblem::TooLarge { name, limit } => {
                td_string!(
                    l,
                    ticket.file_problem.too_large,
                    name = name,
                    max = size(*limit)
                )
            }
            FileProblem::MessageTooLarge { name, limit } => {
                td_string!(
                    l,
                    ticket.file_problem.message_too_large,
                    name = name,
                    max = size(*limit)
                )
            }
            FileProblem::TooMany { limit } => {
                td_string!(l, ticket.file_problem.too_many, count = *limit)
            }
            FileProblem::NotAccepted { name } => td_string!(
                l,
                ticket.file_problem.not_accepted,
                name = name,
                types = if l == Locale::en {
                    crate::model::ACCEPTED_FILES
                } else {
                    td_string!(l, ticket.picker.types)
                }
            ),
            FileProblem::Empty { name } => td_string!(l, ticket.file_problem.empty, name = name),
            FileProblem::Interrupted => td_string!(l, ticket.file_problem.interrupted).to_owned(),
            FileProblem::Storage => td_string!(l, ticket.file_problem.storage).to_owned(),
        }
    }
}

/// Checked files that could not be kept (the portal's disk or database failed while saving
/// them): nothing was saved, and the client reads `common.notice.invalid_files_storage`.
fn storage_failed() -> TicketError {
    TicketError::Invalid(FieldError {
        field: "files_storage",
        message: FileProblem::Storage.message(Locale::default()),
    })
}

/// A file that passed every check, waiting on disk for its message to be saved. Its spool file
/// is removed when this is dropped, saved or not.
#[derive(Debug)]
pub struct SpooledFile {
    pub name: String,
    pub file_type: FileType,
    pub size: u64,
    path: PathBuf,
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The files of one message as they arrive, checked against the limits as they stream.
pub struct Spool {
    dir: PathBuf,
    limits: UploadLimits,
    files: Vec<SpooledFile>,
    total: u64,
}

/// Removes a spool file that did not make it to the end of its checks.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Spool {
    pub fn new(dir: &Path, limits: UploadLimits) -> Self {
        Self {
            dir: dir.to_owned(),
            limits,
            files: Vec::new(),
            total: 0,
        }
    }

    /// Receives one file from `body`, failing as soon as it breaks a limit or its first bytes
    /// are of a type the portal does not take. A field without a name or bytes (a file input
    /// left empty) is skipped.
    pub async fn receive<S, B, E>(&mut self, raw_name: &str, body: S) -> Result<(), FileProblem>
    where
        S: Stream<Item = Result<B, E>>,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let shown = base_name(raw_name);
        if self.files.len() as u32 >= self.limits.max_files && !raw_name.trim().is_empty() {
            return Err(FileProblem::TooMany {
                limit: self.limits.max_files,
            });
        }
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|_| FileProblem::Storage)?;
        let path = self
            .dir
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let partial = Partial(Some(path.clone()));
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|_| FileProblem::Storage)?;
        let mut head: Vec<u8> = Vec::new();
        let mut file_type = None;
        let mut size: u64 = 0;
        futures::pin_mut!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| {
                tracing::info!(%error, "an upload stopped before its end");
                FileProblem::Interrupted
            })?;
            let bytes = chunk.as_ref();
            size += bytes.len() as u64;
            if size > self.limits.max_file_bytes {
                return Err(FileProblem::TooLarge {
                    name: shown,
                    limit: self.limits.max_file_bytes,
                });
            }
            if self.total + size > self.limits.max_message_bytes {
                return Err(FileProblem::MessageTooLarge {
                    name: shown,
                    limit: self.limits.max_message_bytes,
                });
            }
            if file_type.is_none() {
                let wanted = SNIFF_BYTES - head.len();
                head.extend_from_slice(&bytes[..bytes.len().min(wanted)]);
                if head.len() >= SNIFF_BYTES {
                    file_type = Some(sniff(&head).ok_or(FileProblem::NotAccepted {
                        name: shown.clone(),
                    })?);
                }
            }
            file.write_all(bytes)
                .await
                .map_err(|_| FileProblem::Storage)?;
        }
        if size == 0 {
            if raw_name.trim().is_empty() {
                return Ok(());
            }
            return Err(FileProblem::Empty { name: shown });
        }
        let file_type = match file_type {
            Some(file_type) => file_type,
            None => sniff(&head).ok_or(FileProblem::NotAccepted {
                name: shown.clone(),
            })?,
        };
        file.flush().await.map_err(|_| FileProblem::Storage)?;
        let mut partial = partial;
        partial.0 = None;
        self.total += size;
        self.files.push(SpooledFile {
            name: clean_name(raw_name, file_type),
            file_type,
            size,
            path,
        });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn into_files(self) -> Vec<SpooledFile> {
        self.files
    }

    /// Removes spool files a stopped process left behind (at start-up). Only old ones: another
    /// instance sharing the directory may be receiving one right now.
    pub async fn clear_leftovers(dir: &Path) {
        let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let old = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600));
            if old && entry.file_name().to_string_lossy().ends_with(".part") {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
}

/// A client's file as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct AttachmentRow {
    pub id: String,
    pub outbox_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub state: String,
    pub asset_id: Option<String>,
    pub uncertain: i64,
    pub last_error: Option<String>,
    pub stored: i64,
}

const ATTACHMENT_COLUMNS: &str =
    "id, outbox_id, name, content_type, size, state, asset_id, uncertain, last_error, stored";

impl AttachmentRow {
    pub fn file_ref(&self) -> FileRef {
        FileRef {
            key: format!("a{}", self.id),
            name: self.name.clone(),
            size: self.size.max(0) as u64,
            image: ACCEPTED
                .iter()
                .any(|t| t.inline && t.mime == self.content_type),
            delivery: match self.state.as_str() {
                "delivered" => Delivery::Delivered,
                "failed" => Delivery::Failed {
                    reason: self.last_error.clone().unwrap_or_default(),
                },
                _ => Delivery::Waiting {
                    attempts: 0,
                    last_error: None,
                },
            },
        }
    }
}

/// Files of outbox rows by row id, as pages read them.
pub(super) trait FilesByRow {
    /// Row `outbox_id`'s files as the page lists them (none when it has none).
    fn of_row(&self, outbox_id: &str) -> Vec<FileRef>;
}

impl FilesByRow for HashMap<String, Vec<AttachmentRow>> {
    fn of_row(&self, outbox_id: &str) -> Vec<FileRef> {
        self.get(outbox_id)
            .map(|files| files.iter().map(AttachmentRow::file_ref).collect())
            .unwrap_or_default()
    }
}

/// A team file (a monday asset) as the page lists it.
pub fn asset_ref(asset: &AssetNode) -> FileRef {
    let extension = asset
        .file_extension
        .as_deref()
        .unwrap_or_else(|| asset.name.rsplit('.').next().unwrap_or_default())
        .trim_start_matches('.')
        .to_ascii_lowercase();
    FileRef {
        key: format!("m{}", asset.id),
        name: asset.name.clone(),
        size: asset.file_size.unwrap_or(0),
        // A guess for the thumbnail only: the download decides by the bytes.
        image: ACCEPTED
            .iter()
            .any(|t| t.inline && t.extensions.contains(&extension.as_str())),
        delivery: Delivery::Delivered,
    }
}

/// A file on its way to the browser.
pub struct Download {
    pub name: String,
    pub size: Option<u64>,
    /// The type the bytes were checked to be, for the portal's stored copies; `None` for a
    /// monday file, whose first bytes the HTTP layer sniffs before answering.
    pub file_type: Option<FileType>,
    pub body: std::pin::Pin<Box<dyn Stream<Item = Result<Vec<u8>, std::io::Error>> + Send>>,
}

/// The chunks of a stored file, read one at a time.
fn stored_chunks(
    db: Db,
    attachment_id: String,
) -> impl Stream<Item = Result<Vec<u8>, sqlx::Error>> + Send + 'static {
    futures::stream::try_unfold(0i64, move |seq| {
        let db = db.clone();
        let id = attachment_id.clone();
        async move {
            let chunk: Option<(Vec<u8>,)> = crate::on_db!(&db, pool => sqlx::query_as(
                "SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND seq = $2",
            )
            .bind(&id)
            .bind(seq)
            .fetch_optional(pool)
            .await)?;
            Ok(chunk.map(|(data,)| (data, seq + 1)))
        }
    })
}

/// `public_url`s read from monday, by asset id, with when they were read.
#[derive(Default)]
pub(super) struct PublicUrls(Mutex<HashMap<String, (String, Instant)>>);

impl PublicUrls {
    fn get(&self, asset_id: &str) -> Option<String> {
        let urls = self.0.lock().ok()?;
        urls.get(asset_id)
            .filter(|(_, at)| at.elapsed() < PUBLIC_URL_REUSE)
            .map(|(url, _)| url.clone())
    }

    fn put(&self, asset_id: &str, url: &str) {
        if let Ok(mut urls) = self.0.lock() {
            urls.retain(|_, (_, at)| at.elapsed() < PUBLIC_URL_REUSE);
            urls.insert(asset_id.to_owned(), (url.to_owned(), Instant::now()));
        }
    }

    fn forget(&self, asset_id: &str) {
        if let Ok(mut urls) = self.0.lock() {
            urls.remove(asset_id);
        }
    }
}

/// The files of one outbox row, as one delivery attempt reads them (once).
pub(super) struct MessageFiles(Vec<AttachmentRow>);

impl MessageFiles {
    /// Whether any is not on monday yet.
    pub fn any_waiting(&self) -> bool {
        self.0.iter().any(|f| f.state == "waiting")
    }
}

impl TicketService {
    /// The files of outbox row `row`, for an attempt to deliver it. A database error is one
    /// that makes the attempt look on the board next time, as every step's is.
    pub(super) async fn message_files(&self, row: &OutboxRow) -> Result<MessageFiles, MondayError> {
        let files = self.attachments_of(&[&row.id]).await.map_err(|error| {
            tracing::error!(%error, "outbox: could not read a message's files");
            MondayError::Interrupted("the outbox could not read a message's files".into())
        })?;
        Ok(MessageFiles(files.into_values().flatten().collect()))
    }

    /// Stores the checked files of outbox row `outbox_id` (written just after, in the same
    /// call): chunk by chunk from their spool files, in one transaction, so the outbox never
    /// sees half a message's files.
    pub(super) async fn store_files(
        &self,
        outbox_id: &str,
        portal_id: &str,
        files: &[SpooledFile],
    ) -> Result<Vec<FileRef>, TicketError> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_unix();
        let mut stored = Vec::with_capacity(files.len());
        crate::on_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for (position, file) in files.iter().enumerate() {
                let id = uuid::Uuid::new_v4().to_string();
                // As the page lists it: on its way to monday.
                stored.push(AttachmentRow {
                    id: id.clone(),
                    outbox_id: outbox_id.to_owned(),
                    name: file.name.clone(),
                    content_type: file.file_type.mime.to_owned(),
                    size: file.size as i64,
                    state: "waiting".to_owned(),
                    asset_id: None,
                    uncertain: 0,
                    last_error: None,
                    stored: 1,
                }.file_ref());
                sqlx::query(
                    "INSERT INTO attachments (id, outbox_id, portal_id, position, name,
                                              content_type, size, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&id)
                .bind(outbox_id)
                .bind(portal_id)
                .bind(position as i64)
                .bind(&file.name)
                .bind(file.file_type.mime)
                .bind(file.size as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let mut spooled = tokio::fs::File::open(&file.path).await.map_err(|error| {
                    tracing::error!(%error, "attachments: a spool file went missing");
                    storage_failed()
                })?;
                let mut seq: i64 = 0;
                loop {
                    let mut chunk = Vec::with_capacity(CHUNK_BYTES);
                    let read = (&mut spooled)
                        .take(CHUNK_BYTES as u64)
                        .read_to_end(&mut chunk)
                        .await
                        .map_err(|_| storage_failed())?;
                    if read == 0 {
                        break;
                    }
                    sqlx::query(
                        "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES ($1, $2, $3)",
                    )
                    .bind(&id)
                    .bind(seq)
                    .bind(chunk)
                    .execute(&mut *tx)
                    .await?;
                    seq += 1;
                }
            }
            tx.commit().await?;
        });
        Ok(stored)
    }

    /// The files of these outbox rows, by row, in the order they were attached.
    pub(super) async fn attachments_of(
        &self,
        outbox_ids: &[&str],
    ) -> Result<HashMap<String, Vec<AttachmentRow>>, sqlx::Error> {
        let mut by_row: HashMap<String, Vec<AttachmentRow>> = HashMap::new();
        if outbox_ids.is_empty() {
            return Ok(by_row);
        }
        let placeholders: Vec<String> = (1..=outbox_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE outbox_id IN ({})
             ORDER BY outbox_id, position",
            placeholders.join(", ")
        );
        let rows = crate::on_db!(&self.db, pool => {
            let mut query = sqlx::query_as::<_, AttachmentRow>(&sql);
            for id in outbox_ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        for row in rows {
            by_row.entry(row.outbox_id.clone()).or_default().push(row);
        }
        Ok(by_row)
    }

    /// [`Self::attachments_of`] for a page: from memory while nothing was written since.
    pub(super) async fn attachments_for_page(
        &self,
        rows: &[OutboxRow],
    ) -> Result<std::sync::Arc<HashMap<String, Vec<AttachmentRow>>>, sqlx::Error> {
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let key = ids.join("\u{1f}");
        self.kept(&self.kept_attachments, key, self.attachments_of(&ids))
            .await
    }

    /// Puts outbox row `row`'s waiting files on monday update `update_id`. A file whose upload
    /// may have arrived without its answer is first looked for among the update's files (by
    /// name and size, not taken by another of the row's files); only a missing one is sent.
    /// A file monday refuses for good is marked so; the message still counts as delivered.
    pub(super) async fn deliver_files(
        &self,
        files: &MessageFiles,
        item_id: &str,
        update_id: &str,
    ) -> Result<(), MondayError> {
        let files = &files.0;
        let mut taken: Vec<String> = files.iter().filter_map(|f| f.asset_id.clone()).collect();
        let mut on_update: Option<Vec<AssetNode>> = None;
        for file in files.iter().filter(|f| f.state == "waiting") {
            // An upload can take minutes: the row stays this instance's for each file, or is
            // left to the instance that took it over.
            if !self.hold(&file.outbox_id).await {
                return Err(MondayError::Interrupted(
                    "another instance took over this message".into(),
                ));
            }
            if file.uncertain != 0 {
                if on_update.is_none() {
                    on_update = Some(self.board.update_assets(item_id, update_id).await?);
                }
                let found = on_update.iter().flatten().find(|asset| {
                    asset.name == file.name
                        && asset.file_size == Some(file.size as u64)
                        && !taken.contains(&asset.id)
                });
                if let Some(asset) = found {
                    tracing::info!(file = %file.id, asset = %asset.id, "outbox: the file is already on the board; not sending it again");
                    taken.push(asset.id.clone());
                    self.file_delivered(&file.id, &asset.id).await?;
                    continue;
                }
            }
            // Written before the upload starts: if this process stops while monday may be
            // taking the file, the next attempt looks for it before sending it again.
            self.file_uncertain(&file.id, true).await?;
            let chunks = stored_chunks(self.db.clone(), file.id.clone());
            let upload = FileUpload {
                filename: file.name.clone(),
                content_type: file.content_type.clone(),
                len: file.size as u64,
                body: reqwest::Body::wrap_stream(chunks),
            };
            match self
                .board
                .client()
                .add_file_to_update(update_id, upload)
                .await
            {
                Ok(asset) => {
                    taken.push(asset.id.clone());
                    self.file_delivered(&file.id, &asset.id).await?;
                }
                Err(error) if error.is_transient() => {
                    // Certainly not taken (and looked for, if it was uncertain before): the
                    // next attempt can send it without looking. Should this write fail, the
                    // next attempt merely looks first.
                    if !error.may_have_been_done() {
                        let _ = self.file_uncertain(&file.id, false).await;
                    }
                    return Err(error);
                }
                Err(error) => {
                    let reason = match &error {
                        MondayError::Api { message, .. } => message.clone(),
                        other => other.to_string(),
                    };
                    tracing::error!(%error, file = %file.id, "outbox: monday refused a file for good");
                    let _ = crate::on_db!(&self.db, pool => sqlx::query(
                        "UPDATE attachments SET state = 'failed', last_error = $1 WHERE id = $2",
                    )
                    .bind(&reason)
                    .bind(&file.id)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()));
                    self.wrote_bookkeeping();
                }
            }
        }
        Ok(())
    }

    /// Records whether monday may have file `file_id` without the portal knowing its asset.
    async fn file_uncertain(&self, file_id: &str, uncertain: bool) -> Result<(), MondayError> {
        let done = crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE attachments SET uncertain = $1 WHERE id = $2",
        )
        .bind(i64::from(uncertain))
        .bind(file_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        done.map(|_| ()).map_err(|error| {
            tracing::error!(%error, "outbox: could not record a file's upload");
            MondayError::Interrupted("the outbox could not record a file's upload".into())
        })
    }

    async fn file_delivered(&self, file_id: &str, asset_id: &str) -> Result<(), MondayError> {
        let done = crate::on_db!(&self.db, pool => sqlx::query(
            "UPDATE attachments SET state = 'delivered', asset_id = $1, uncertain = 0,
                                    last_error = NULL, delivered_at = $2
             WHERE id = $3",
        )
        .bind(asset_id)
        .bind(now_unix())
        .bind(file_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        self.wrote_bookkeeping();
        done.map(|_| ()).map_err(|error| {
            tracing::error!(%error, "outbox: could not record a delivered file");
            // Not recorded: the next attempt must look before sending it again.
            MondayError::Interrupted("the outbox could not record a delivered file".into())
        })
    }

    /// Removes the portal's copies of files monday has had for the grace period, and files
    /// whose message never reached the outbox. Returns how many files' bytes went.
    pub async fn remove_delivered_files(&self, keep: Duration) -> Result<u64, sqlx::Error> {
        let now = now_unix();
        let delivered_before = now - keep.as_secs() as i64;
        let orphaned_before = now - ORPHAN_SECONDS;
        let removed = crate::on_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "DELETE FROM attachment_chunks WHERE attachment_id IN (
                     SELECT id FROM attachments
                     WHERE stored = 1 AND state = 'delivered' AND delivered_at <= $1)",
            )
            .bind(delivered_before)
            .execute(&mut *tx)
            .await?;
            let gone = sqlx::query(
                "UPDATE attachments SET stored = 0
                 WHERE stored = 1 AND state = 'delivered' AND delivered_at <= $1",
            )
            .bind(delivered_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM attachment_chunks WHERE attachment_id IN (
                     SELECT a.id FROM attachments a
                     WHERE a.created_at <= $1
                       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = a.outbox_id))",
            )
            .bind(orphaned_before)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM attachments WHERE created_at <= $1
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = attachments.outbox_id)",
            )
            .bind(orphaned_before)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            gone
        });
        if removed > 0 {
            self.wrote_bookkeeping();
            tracing::info!(
                files = removed,
                "attachments: removed copies monday has had for the grace period"
            );
        }
        Ok(removed)
    }

    /// Opens file `key` of ticket `ticket_id` for `access`: only a file the ticket's page lists
    /// to them (their portal, a ticket they may see, a public message), so another portal's
    /// member, a requester on a colleague's ticket and a guessed asset id all get `NotFound`.
    pub async fn open_file(
        &self,
        access: &crate::server::auth::Access,
        ticket_id: &str,
        key: &str,
    ) -> Result<Download, TicketError> {
        let detail = self.detail(access, ticket_id).await?.value;
        let listed = detail
            .files
            .iter()
            .chain(detail.replies.iter().flat_map(|r| r.files.iter()))
            .find(|f| f.key == key)
            .cloned()
            .ok_or(TicketError::NotFound)?;
        if let Some(attachment_id) = key.strip_prefix('a') {
            let row: Option<AttachmentRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
                &format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1 AND portal_id = $2"),
            )
            .bind(attachment_id)
            .bind(&access.member.portal_id)
            .fetch_optional(pool)
            .await)?;
            let row = row.ok_or(TicketError::NotFound)?;
            let file_type = ACCEPTED
                .iter()
                .chain([&TEXT])
                .find(|t| t.mime == row.content_type)
                .copied();
            if row.stored != 0 {
                let chunks = stored_chunks(self.db.clone(), row.id.clone())
                    .map(|chunk| chunk.map_err(std::io::Error::other));
                return Ok(Download {
                    name: row.name,
                    size: Some(row.size.max(0) as u64),
                    file_type,
                    body: Box::pin(chunks),
                });
            }
            let asset_id = row.asset_id.ok_or(TicketError::NotFound)?;
            let mut download = self.monday_file(&asset_id, &row.name).await?;
            download.file_type = file_type;
            return Ok(download);
        }
        let asset_id = key.strip_prefix('m').ok_or(TicketError::NotFound)?;
        self.monday_file(asset_id, &listed.name).await
    }

    /// Streams asset `asset_id` from its `public_url`, read again if the kept one is near its
    /// hour or no longer works.
    async fn monday_file(&self, asset_id: &str, name: &str) -> Result<Download, TicketError> {
        for fresh in [false, true] {
            let url = match self.public_urls.get(asset_id).filter(|_| !fresh) {
                Some(url) => url,
                None => {
                    let asset = self
                        .board
                        .client()
                        .assets(&[asset_id])
                        .await?
                        .into_iter()
                        .next()
                        .ok_or(TicketError::NotFound)?;
                    let url = asset.public_url.ok_or(TicketError::NotFound)?;
                    self.public_urls.put(asset_id, &url);
                    url
                }
            };
            let response = self.file_fetcher.get(&url).send().await;
            match response {
                Ok(response) if response.status().is_success() => {
                    let size = response.content_length();
                    let body = response
                        .bytes_stream()
                        .map(|chunk| chunk.map(|b| b.to_vec()).map_err(std::io::Error::other));
                    return Ok(Download {
                        name: name.to_owned(),
                        size,
                        file_type: None,
                        body: Box::pin(body),
                    });
                }
                Ok(response) => {
                    tracing::info!(status = response.status().as_u16(), asset = %asset_id, "attachments: a public_url no longer works; reading a fresh one");
                    self.public_urls.forget(asset_id);
                }
                Err(error) => {
                    tracing::warn!(%error, asset = %asset_id, "attachments: monday's file server did not answer");
                    return Err(TicketError::Monday(MondayError::Interrupted(
                        "monday's file server did not answer".into(),
                    )));
                }
            }
        }
        Err(TicketError::NotFound)
    }
}

/// The asset ids on a ticket's updates and replies.
fn asset_ids(detail: &super::cache::ItemDetail) -> Vec<String> {
    let mut ids: Vec<String> = detail
        .updates
        .iter()
        .flat_map(|u| {
            u.assets.iter().flatten().chain(
                u.replies
                    .iter()
                    .flatten()
                    .flat_map(|r| r.assets.iter().flatten()),
            )
        })
        .map(|a| a.id.clone())
        .collect();
    ids.sort();
    ids
}

impl TicketService {
    /// monday sends no webhook when a file is added to an update, and an update with files is
    /// made before its files are added (through the API, and possibly in monday's own editor).
    /// So a while after a public team message arrives, while someone has the ticket open (its
    /// detail is cached), the ticket is read once more; if files appeared, its pages refresh.
    /// One call per public team message, and none when nobody is looking.
    pub fn look_for_files_later(self: &std::sync::Arc<Self>, ticket: &crate::model::Ticket) {
        let service = self.clone();
        let (item_id, title, portal_id) = (
            ticket.id.clone(),
            ticket.title.clone(),
            ticket.portal_id.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(FILE_RECHECK).await;
            let Some(before) = service.details.peek(&item_id).await else {
                return;
            };
            service.details.invalidate(&item_id).await;
            let Ok(after) = service.item_detail(&item_id).await else {
                return;
            };
            let Some(after) = after.value else {
                return;
            };
            if asset_ids(&before) != asset_ids(&after) {
                tracing::info!(item = %item_id, "files appeared on a team message; refreshing its pages");
                service.live.publish(
                    &portal_id,
                    crate::model::LiveEvent::Updated {
                        ticket_id: item_id,
                        title,
                    },
                );
            }
        });
    }
}

/// How long after a team message its ticket is read again for files added to it.
const FILE_RECHECK: Duration = Duration::from_secs(4);

/// What a file from monday may be served inline as: a raster image, known by its first bytes.
pub fn inline_type(head: &[u8]) -> Option<FileType> {
    sniff(head).filter(|t| t.inline)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    #[test]
    fn types_are_decided_by_content_and_markup_is_refused() {
        assert_eq!(sniff(PNG).map(|t| t.mime), Some("image/png"));
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3").map(|t| t.mime),
            Some("application/pdf")
        );
        assert_eq!(
            sniff(b"name,amount\nA,1\n").map(|t| t.mime),
            Some("text/plain")
        );
        for markup in [
            &b"<!DOCTYPE html><script>alert(1)</script>"[..],
            b"  <svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            b"\xef\xbb\xbf<html>",
            b"hello <script>alert(1)</script>",
            b"<?xml version='1.0'?><svg/>",
        ] {
            assert_eq!(sniff(markup), None, "{:?}", String::from_utf8_lossy(markup));
        }
        // Programs and unknown binary data are refused too.
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), None);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(sniff(b"bin\0ary"), None);
    }

    #[test]
    fn names_are_cleaned_and_end_with_their_types_extension() {
        let png = sniff(PNG).expect("png");
        assert_eq!(clean_name("C:\\Users\\me\\shot.PNG", png), "shot.PNG");
        assert_eq!(clean_name("../../etc/passwd", TEXT), "passwd.txt");
        assert_eq!(clean_name("evil.html", png), "evil.html.png");
        assert_eq!(clean_name(".hidden", TEXT), "hidden.txt");
        assert_eq!(clean_name("a\u{0}b<c>.txt", TEXT), "a_b_c_.txt");
        assert_eq!(
            clean_name("invoice\u{202e}fdp.png", png),
            "invoicefdp.png",
            "no direction override to disguise a name"
        );
        assert_eq!(clean_name("a\u{200b}b\u{feff}.png", png), "ab.png");
        assert_eq!(clean_name("", png), "file.png");
        let long = format!("{}.png", "x".repeat(300));
        assert_eq!(clean_name(&long, png).chars().count(), 120);
        assert!(clean_name(&long, png).ends_with(".png"));
    }

    fn chunks(parts: Vec<&'static [u8]>) -> impl Stream<Item = Result<&'static [u8], String>> {
        futures::stream::iter(parts.into_iter().map(Ok))
    }

    #[tokio::test]
    async fn the_spool_stops_a_file_at_its_limit_and_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("spool-test-{}", uuid::Uuid::new_v4()));
        let limits = UploadLimits {
            max_file_bytes: 64,
            max_message_bytes: 100,
            max_files: 2,
        };
        let mut spool = Spool::new(&dir, limits);
        let too_big = spool
            .receive("big.png", chunks(vec![PNG, &[0u8; 64]]))
            .await;
        assert_eq!(
            too_big,
            Err(FileProblem::TooLarge {
                name: "big.png".into(),
                limit: 64
            })
        );
        spool
            .receive("shot.png", chunks(vec![PNG, &[0u8; 20]]))
            .await
            .expect("fits");
        let over_message = spool
            .receive("second.png", chunks(vec![PNG, &[0u8; 30]]))
            .await;
        assert_eq!(
            over_message,
            Err(FileProblem::MessageTooLarge {
                name: "second.png".into(),
                limit: 100
            })
        );
        let html = spool
            .receive("page.html", chunks(vec![b"<html><script>x</script>"]))
            .await;
        assert_eq!(
            html,
            Err(FileProblem::NotAccepted {
                name: "page.html".into()
            })
        );
        // An empty file input is no file at all.
        spool.receive("", chunks(vec![])).await.expect("skipped");
        let files = spool.into_files();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].size, PNG.len() as u64 + 20);
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(left.len(), 1, "only the accepted file is on disk");
        drop(files);
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir(&dir);
    }
}
