//! `setup-board` and `doctor`: make a monday board fit the portal, and say exactly what is
//! wrong when it does not.

use std::fmt;

use monday::{BoardNode, MondayError, NewStatusLabel, status_labels};

use super::TicketBoard;
use crate::model::{Priority, Rating, Status};
use crate::server::config::Config;
use crate::server::db::Db;

/// The webhook subscriptions the portal needs, by monday's event names.
pub const WEBHOOK_EVENTS: [&str; 9] = [
    "create_item",
    "change_column_value",
    "change_name",
    "create_update",
    "edit_update",
    "delete_update",
    "item_archived",
    "item_deleted",
    "item_restored",
];

/// One column the portal needs: its role, the configured id and monday's type.
pub struct ColumnRole {
    pub role: &'static str,
    pub variable: &'static str,
    /// The variable that renames its labels, for a status column.
    pub labels_variable: &'static str,
    pub id: String,
    pub title: &'static str,
    pub kind: &'static str,
    pub labels: Vec<String>,
}

pub fn required_columns(config: &Config, client: &TicketBoard) -> Vec<ColumnRole> {
    let columns = &config.monday.columns;
    let mapping = client.mapping();
    vec![
        ColumnRole {
            role: "description",
            variable: "MONDAY_COLUMN_DESCRIPTION",
            labels_variable: "",
            id: columns.description.clone(),
            title: "Description",
            kind: "long_text",
            labels: Vec::new(),
        },
        ColumnRole {
            role: "portal id",
            variable: "MONDAY_COLUMN_PORTAL_ID",
            labels_variable: "",
            id: columns.portal_id.clone(),
            title: "Portal ID",
            kind: "text",
            labels: Vec::new(),
        },
        ColumnRole {
            role: "client email",
            variable: "MONDAY_COLUMN_CLIENT_EMAIL",
            labels_variable: "",
            id: columns.client_email.clone(),
            title: "Client Email",
            kind: "email",
            labels: Vec::new(),
        },
        ColumnRole {
            role: "status",
            variable: "MONDAY_COLUMN_STATUS",
            labels_variable: "MONDAY_STATUS_LABELS",
            id: columns.status.clone(),
            title: "Status",
            kind: "status",
            labels: Status::ALL
                .iter()
                .map(|s| mapping.status_label(*s).to_owned())
                .collect(),
        },
        ColumnRole {
            role: "priority",
            variable: "MONDAY_COLUMN_PRIORITY",
            labels_variable: "MONDAY_PRIORITY_LABELS",
            id: columns.priority.clone(),
            title: "Priority",
            kind: "status",
            labels: Priority::ALL
                .iter()
                .map(|p| mapping.priority_label(*p).to_owned())
                .collect(),
        },
        ColumnRole {
            role: "rating",
            variable: "MONDAY_COLUMN_RATING",
            labels_variable: "MONDAY_RATING_LABELS",
            id: columns.rating.clone(),
            title: "Client Rating",
            kind: "status",
            labels: Rating::ALL
                .iter()
                .map(|r| mapping.rating_label(*r).to_owned())
                .collect(),
        },
    ]
}

/// Something the doctor found, with the exact fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub ok: bool,
    pub check: String,
    pub detail: String,
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark} {}: {}", self.check, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n     fix: {fix}")?;
        }
        Ok(())
    }
}

fn pass(check: impl Into<String>, detail: impl Into<String>) -> Finding {
    Finding {
        ok: true,
        check: check.into(),
        detail: detail.into(),
        fix: None,
    }
}

fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        ok: false,
        check: check.into(),
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// The URL monday should call for the portal's webhooks.
pub fn webhook_url(public_url: &str, secret: &str) -> String {
    format!(
        "{}/webhooks/monday/{secret}",
        public_url.trim_end_matches('/')
    )
}

pub async fn doctor(
    config: &Config,
    client: &TicketBoard,
    db: &Db,
    expected_webhook_url: Option<&str>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let calls = check_calls(config, db).await;
    let spent = !calls.ok;
    findings.push(calls);
    match client.ping().await {
        Ok(()) => findings.push(pass("token", "monday accepts the API token")),
        Err(MondayError::DailyLimit { .. }) if spent => return findings,
        Err(MondayError::DailyLimit { retry_in }) => {
            findings.push(fail(
                "token",
                format!(
                    "monday answers that the account's daily call limit is spent (it asks to wait {} s)",
                    retry_in.map_or(0, |d| d.as_secs())
                ),
                "wait for the reset at midnight UTC (pages show saved data, the outbox waits); \
                 other apps on the account share the limit, and a larger plan raises it",
            ));
            return findings;
        }
        Err(MondayError::Forbidden { code, message }) => {
            findings.push(fail(
                "token",
                format!("the token works, but its user may not do this ({code}: {message})"),
                "use a token of a user who can see and edit the board (not a viewer or guest), \
                 with a confirmed email address; an account IP allow-list must include this server",
            ));
            return findings;
        }
        Err(MondayError::Unauthorized) => {
            findings.push(fail(
                "token",
                "monday does not accept MONDAY_API_TOKEN",
                "create a personal API token in monday (avatar → Developers → My access tokens) \
                 and set MONDAY_API_TOKEN to it",
            ));
            return findings;
        }
        Err(error) => {
            findings.push(fail(
                "token",
                format!("could not reach monday at {}: {error}", client.endpoint()),
                "check MONDAY_API_URL and the network, then run `client-portal doctor` again",
            ));
            return findings;
        }
    }

    let board_id = &config.monday.board_id;
    let board = match client.board_structure(board_id).await {
        Ok(Some(board)) => {
            findings.push(pass("board", format!("board {board_id} ({})", board.name)));
            board
        }
        Ok(None) => {
            findings.push(fail(
                "board",
                format!("board {board_id} does not exist or the token cannot see it"),
                "set MONDAY_BOARD_ID to the number in the board's URL, or create one with \
                 `client-portal setup-board --create-board \"Client Support Tickets\"`",
            ));
            return findings;
        }
        Err(error) => {
            findings.push(fail(
                "board",
                format!("could not read board {board_id}: {error}"),
                "run `client-portal doctor` again; if it persists check MONDAY_BOARD_ID",
            ));
            return findings;
        }
    };

    findings.extend(check_columns(config, client, &board));
    findings.push(check_webhooks(config, client, db, expected_webhook_url).await);
    findings
}

/// Today's monday calls against the daily cap, as the running portal last saved them.
async fn check_calls(config: &Config, db: &Db) -> Finding {
    let limit = config.monday.daily_call_limit;
    let today = monday::format_utc(time::OffsetDateTime::now_utc());
    let used = match super::usage::saved(db).await {
        Some((day, calls)) if today.starts_with(&day) => calls,
        _ => 0.0,
    };
    let left = (f64::from(limit) - used).max(0.0);
    let detail = format!(
        "{used:.1} of {limit} monday calls used today (UTC), {left:.1} left (MONDAY_DAILY_CALL_LIMIT)"
    );
    if used >= f64::from(limit) * monday::READ_SHARE {
        fail(
            "daily calls",
            detail,
            "the portal now sends only clients' tickets and replies, and waits for the reset at \
             midnight UTC; if your monday plan allows more calls, raise MONDAY_DAILY_CALL_LIMIT \
             (Pro: 10000, Enterprise: 25000)",
        )
    } else {
        pass("daily calls", detail)
    }
}

fn check_columns(config: &Config, client: &TicketBoard, board: &BoardNode) -> Vec<Finding> {
    let mut findings = Vec::new();
    for role in required_columns(config, client) {
        let check = format!("column {}", role.role);
        let Some(column) = board.columns.iter().find(|c| c.id == role.id) else {
            findings.push(fail(
                check,
                format!(
                    "no column with id `{}` (a {} column) on the board",
                    role.id, role.kind
                ),
                format!(
                    "run `client-portal setup-board` to create it, or set {}=<id of your existing {} column>",
                    role.variable, role.kind
                ),
            ));
            continue;
        };
        if column.kind != role.kind {
            findings.push(fail(
                check,
                format!(
                    "column `{}` is a {} column, the portal needs a {} column",
                    role.id, column.kind, role.kind
                ),
                format!("set {} to the id of a {} column", role.variable, role.kind),
            ));
            continue;
        }
        if !role.labels.is_empty() {
            let labels = status_labels(column.settings.as_ref());
            let variable = role.labels_variable;
            let quoted = |names: &[&String]| {
                names
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            // A deactivated label is still listed by monday but cannot be chosen: the portal
            // could not write it, so it does not count.
            let deactivated: Vec<&String> = role
                .labels
                .iter()
                .filter(|l| {
                    labels.iter().any(|p| &p.label == *l && p.deactivated)
                        && !labels.iter().any(|p| &p.label == *l && !p.deactivated)
                })
                .collect();
            if !deactivated.is_empty() {
                findings.push(fail(
                    check,
                    format!(
                        "column `{}` has the label(s) {} but they are deactivated",
                        role.id,
                        quoted(&deactivated)
                    ),
                    format!(
                        "reactivate them in monday (column menu → Settings → Edit labels → \
                         deactivated labels), or map other labels with {variable}, e.g. \
                         {variable}='Done=resolved'"
                    ),
                ));
                continue;
            }
            let missing: Vec<&String> = role
                .labels
                .iter()
                .filter(|l| !labels.iter().any(|p| &p.label == *l))
                .collect();
            if !missing.is_empty() {
                findings.push(fail(
                    check,
                    format!(
                        "column `{}` lacks the label(s) {}",
                        role.id,
                        quoted(&missing)
                    ),
                    format!(
                        "add them in monday (column menu → Settings → Edit labels), or map your \
                         labels with {variable}, e.g. {variable}='Done=resolved'"
                    ),
                ));
                continue;
            }
        }
        findings.push(pass(check, format!("`{}` ({})", column.id, column.title)));
    }
    findings
}

/// A webhook URL carries the portal's secret, so the record keeps only its hash.
fn url_hash(url: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(url.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

struct Registered {
    id: String,
    event: String,
    url_hash: String,
}

async fn registered(db: &Db, board_id: &str) -> Result<Vec<Registered>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = crate::on_db!(db, pool => sqlx::query_as("SELECT id, event, url_hash FROM monday_webhooks WHERE board_id = $1")
            .bind(board_id)
            .fetch_all(pool)
            .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, event, url_hash)| Registered {
            id,
            event,
            url_hash,
        })
        .collect())
}

/// Events with a live webhook that this portal registered for `url`, and the portal's
/// records of webhooks for other URLs.
async fn live_events(
    db: &Db,
    client: &TicketBoard,
    board_id: &str,
    url: &str,
) -> Result<(Vec<String>, Vec<Registered>), SetupError> {
    let on_monday = client.webhooks(board_id).await?;
    let records = registered(db, board_id).await?;
    let hash = url_hash(url);
    let (current, stale): (Vec<Registered>, Vec<Registered>) =
        records.into_iter().partition(|r| r.url_hash == hash);
    let live = current
        .into_iter()
        .filter(|r| on_monday.iter().any(|h| h.id == r.id && h.event == r.event))
        .map(|r| r.event)
        .collect();
    Ok((live, stale))
}

async fn check_webhooks(
    config: &Config,
    client: &TicketBoard,
    db: &Db,
    expected_url: Option<&str>,
) -> Finding {
    let Some(expected_url) = expected_url else {
        return fail(
            "webhooks",
            "PORTAL_PUBLIC_URL or MONDAY_WEBHOOK_SECRET is not set, so monday cannot reach the portal",
            "set PORTAL_PUBLIC_URL (the address clients use) and MONDAY_WEBHOOK_SECRET (random, \
             at least 16 characters), then run `client-portal setup-board`",
        );
    };
    match live_events(db, client, &config.monday.board_id, expected_url).await {
        Ok((live, _)) => {
            let missing: Vec<&str> = WEBHOOK_EVENTS
                .iter()
                .copied()
                .filter(|event| !live.iter().any(|e| e == event))
                .collect();
            if missing.is_empty() {
                pass(
                    "webhooks",
                    format!("{} events registered", WEBHOOK_EVENTS.len()),
                )
            } else {
                fail(
                    "webhooks",
                    format!("not registered for this portal: {}", missing.join(", ")),
                    "run `client-portal setup-board` (it registers the missing webhooks)",
                )
            }
        }
        Err(error) => fail(
            "webhooks",
            format!("could not list webhooks: {error}"),
            "run `client-portal doctor` again",
        ),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Monday(#[from] MondayError),
    #[error("the portal's database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The colours new labels get, in order (values of monday's `StatusColumnColors`).
const LABEL_COLORS: [&str; 6] = [
    "bright_blue",
    "working_orange",
    "done_green",
    "american_gray",
    "stuck_red",
    "purple",
];

/// Labels for a new status column: indexes 0, 1, 2, … skipping 5, which monday keeps for the
/// empty label.
pub fn typed_labels(labels: &[String]) -> Vec<NewStatusLabel> {
    let indexes = (0u32..).filter(|i| *i != 5);
    labels
        .iter()
        .zip(indexes)
        .enumerate()
        .map(|(n, (label, index))| NewStatusLabel {
            label: label.clone(),
            color: LABEL_COLORS[n % LABEL_COLORS.len()],
            index,
        })
        .collect()
}

/// What `setup-board` did.
#[derive(Debug, Default)]
pub struct SetupReport {
    pub board_created: Option<String>,
    pub columns_created: Vec<String>,
    pub webhooks_created: Vec<String>,
    pub problems: Vec<Finding>,
}

impl fmt::Display for SetupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = &self.board_created {
            writeln!(
                f,
                "created board {id}: set MONDAY_BOARD_ID={id} in the portal's environment"
            )?;
        }
        for column in &self.columns_created {
            writeln!(f, "created column {column}")?;
        }
        for hook in &self.webhooks_created {
            writeln!(f, "registered webhook for {hook}")?;
        }
        if self.board_created.is_none()
            && self.columns_created.is_empty()
            && self.webhooks_created.is_empty()
        {
            writeln!(f, "nothing to change: the board already fits the portal")?;
        }
        for problem in &self.problems {
            writeln!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Creates what is missing: the board (when asked), the columns and the webhooks. Running it
/// twice changes nothing the second time.
pub async fn setup_board(
    config: &Config,
    client: &TicketBoard,
    db: &Db,
    create_board: Option<&str>,
    webhook_url: Option<&str>,
) -> Result<SetupReport, SetupError> {
    let mut report = SetupReport::default();
    let board_id = match create_board {
        Some(name) => {
            let board = client.create_board(name).await?;
            report.board_created = Some(board.id.clone());
            board.id
        }
        None => config.monday.board_id.clone(),
    };
    let Some(board) = client.board_structure(&board_id).await? else {
        report.problems.push(fail(
            "board",
            format!("board {board_id} does not exist or the token cannot see it"),
            "set MONDAY_BOARD_ID, or pass --create-board \"Client Support Tickets\"",
        ));
        return Ok(report);
    };
    for role in required_columns(config, client) {
        if board.columns.iter().any(|c| c.id == role.id) {
            continue;
        }
        let valid_id = !role.id.is_empty()
            && role.id.len() <= 20
            && role.id.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if !valid_id {
            report.problems.push(fail(
                format!("column {}", role.role),
                format!(
                    "`{}` is not on the board and cannot be created with that id",
                    role.id
                ),
                format!(
                    "create the column in monday and set {} to its id",
                    role.variable
                ),
            ));
            continue;
        }
        if role.kind == "status" {
            // monday's typed defaults (2025-10+): labels with a colour and an index each.
            client
                .client()
                .create_status_column(&board_id, &role.id, role.title, &typed_labels(&role.labels))
                .await?;
        } else {
            client
                .create_column(&board_id, &role.id, role.title, role.kind, None)
                .await?;
        }
        report
            .columns_created
            .push(format!("`{}` ({})", role.id, role.kind));
    }
    // Labels on columns that already existed: re-read and report.
    if let Some(board) = client.board_structure(&board_id).await? {
        report.problems.extend(
            check_columns(config, client, &board)
                .into_iter()
                .filter(|f| !f.ok),
        );
    }

    if let Some(url) = webhook_url {
        let (live, stale) = live_events(db, client, &board_id, url).await?;
        // Webhooks this portal registered for an older URL (a rotated secret, a new domain).
        for old in stale {
            if let Err(error) = client.delete_webhook(&old.id).await {
                tracing::info!(%error, id = %old.id, "stale webhook already gone");
            }
            crate::on_db!(db, pool => sqlx::query("DELETE FROM monday_webhooks WHERE id = $1")
                .bind(&old.id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))?;
        }
        for event in WEBHOOK_EVENTS {
            if live.iter().any(|e| e == event) {
                continue;
            }
            let hook = client.create_webhook(&board_id, url, event).await?;
            crate::on_db!(db, pool => sqlx::query(
                "INSERT INTO monday_webhooks (id, board_id, event, url_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET board_id = excluded.board_id, \
                 event = excluded.event, url_hash = excluded.url_hash, \
                 created_at = excluded.created_at",
            )
            .bind(&hook.id)
            .bind(&board_id)
            .bind(event)
            .bind(url_hash(url))
            .bind(crate::server::db::now_unix())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
            report.webhooks_created.push(event.to_owned());
        }
    } else {
        report.problems.push(fail(
            "webhooks",
            "not registered: PORTAL_PUBLIC_URL or MONDAY_WEBHOOK_SECRET is not set",
            "set both and run `client-portal setup-board` again",
        ));
    }
    Ok(report)
}
