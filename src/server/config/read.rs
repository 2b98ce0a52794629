//! Each section of the configuration read from its variables, with the checks that give a
//! wrong value its one-line error. Every variable read here is documented in `.env.example`
//! (a test in `mod.rs` keeps the two in step).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::vars::{ConfigError, DatabaseUrl, Vars};
use super::{
    AttachmentConfig, AuthConfig, ColumnMap, DEFAULT_ADDR, LimitsConfig, LocalBoardConfig,
    LogFormat, MailConfig, MondayConfig, NotifyConfig, ResolutionConfig, RunMode,
};
use crate::model::{Priority, Rating, Status};

pub(super) fn mode(vars: &Vars) -> Result<RunMode, ConfigError> {
    match vars
        .string("PORTAL_ENV", "development")
        .to_ascii_lowercase()
        .as_str()
    {
        "development" | "dev" => Ok(RunMode::Development),
        "production" | "prod" => Ok(RunMode::Production),
        other => Err(ConfigError::invalid(
            "PORTAL_ENV",
            other,
            "development or production",
        )),
    }
}

/// The top-level fields of [`super::Config`]: where the portal listens and keeps its data.
pub(super) struct ServerFields {
    pub listen_addr: SocketAddr,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub log_format: LogFormat,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub readyz_cache: std::time::Duration,
    pub live_heartbeat: std::time::Duration,
    pub metrics: bool,
}

impl ServerFields {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let listen_addr = vars.parse(
            "LEPTOS_SITE_ADDR",
            DEFAULT_ADDR.parse().expect("the default address parses"),
            "host:port with an IP address, such as 127.0.0.1:3000",
        )?;
        let public_url = match vars.get("PORTAL_PUBLIC_URL") {
            None => None,
            Some(raw) => Some(parse_base_url("PORTAL_PUBLIC_URL", raw)?),
        };
        let data_dir = PathBuf::from(vars.string("DATA_DIR", "data"));
        let database_url = match vars.get("DATABASE_URL") {
            None => DatabaseUrl::new(format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("portal.db").display()
            )),
            Some(raw) if crate::server::db::is_database_url(raw) => DatabaseUrl::new(raw),
            Some(raw) => {
                return Err(ConfigError::invalid(
                    "DATABASE_URL",
                    &DatabaseUrl::new(raw).to_string(),
                    "a SQLite URL such as sqlite://data/portal.db or a PostgreSQL URL such as \
                     postgres://portal:password@db.internal/portal",
                ));
            }
        };
        let log_format = match vars
            .string("LOG_FORMAT", "human")
            .to_ascii_lowercase()
            .as_str()
        {
            "human" | "pretty" | "text" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => return Err(ConfigError::invalid("LOG_FORMAT", other, "human or json")),
        };
        Ok(Self {
            listen_addr,
            public_url,
            data_dir,
            database_url,
            log_format,
            trusted_proxies: trusted_proxies(vars)?,
            readyz_cache: vars.seconds("READYZ_CACHE_SECONDS", 30)?,
            live_heartbeat: vars.seconds("LIVE_HEARTBEAT_SECONDS", 15)?,
            metrics: vars.flag("METRICS")?.unwrap_or(false),
        })
    }
}

impl MondayConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let token = vars.secret("MONDAY_API_TOKEN");
        let api_url = parse_base_url(
            "MONDAY_API_URL",
            &vars.string("MONDAY_API_URL", "https://api.monday.com/v2"),
        )?;
        let api_version = vars.string("MONDAY_API_VERSION", "2026-10");
        if !is_api_version(&api_version) {
            return Err(ConfigError::invalid(
                "MONDAY_API_VERSION",
                &api_version,
                "a monday API version such as 2026-10 (YYYY-01, -04, -07 or -10)",
            ));
        }
        let board_id = match vars.get("MONDAY_BOARD_ID") {
            Some(raw) if raw.chars().all(|c| c.is_ascii_digit()) => raw.to_owned(),
            Some(raw) => {
                return Err(ConfigError::invalid(
                    "MONDAY_BOARD_ID",
                    raw,
                    "the numeric board id from the board's URL",
                ));
            }
            None if token.is_some() => {
                return Err(ConfigError::missing(
                    "MONDAY_BOARD_ID",
                    "it is required with MONDAY_API_TOKEN (the number in the board's URL)",
                ));
            }
            // The local board numbers its one board like this.
            None => monday_local::LOCAL_BOARD_ID.to_owned(),
        };
        let columns = ColumnMap {
            description: column_id(vars, "MONDAY_COLUMN_DESCRIPTION", "description")?,
            portal_id: column_id(vars, "MONDAY_COLUMN_PORTAL_ID", "portal_id")?,
            client_email: column_id(vars, "MONDAY_COLUMN_CLIENT_EMAIL", "client_email")?,
            status: column_id(vars, "MONDAY_COLUMN_STATUS", "status")?,
            priority: column_id(vars, "MONDAY_COLUMN_PRIORITY", "priority")?,
            rating: column_id(vars, "MONDAY_COLUMN_RATING", "rating")?,
        };
        let status_labels = label_map(
            vars,
            "MONDAY_STATUS_LABELS",
            Status::ALL.iter().map(|s| (s.label(), *s)),
            Status::parse,
        )?;
        let priority_labels = label_map(
            vars,
            "MONDAY_PRIORITY_LABELS",
            Priority::ALL.iter().map(|p| (p.label(), *p)),
            Priority::parse,
        )?;
        let rating_labels = label_map(
            vars,
            "MONDAY_RATING_LABELS",
            Rating::ALL.iter().map(|r| (r.label(), *r)),
            Rating::parse,
        )?;
        let max_concurrency = vars.parse(
            "MONDAY_MAX_CONCURRENCY",
            8usize,
            "a whole number from 1 to 250",
        )?;
        if !(1..=250).contains(&max_concurrency) {
            return Err(ConfigError::invalid(
                "MONDAY_MAX_CONCURRENCY",
                &max_concurrency.to_string(),
                "a whole number from 1 to 250",
            ));
        }
        let webhook_secret = vars.secret("MONDAY_WEBHOOK_SECRET");
        if let Some(secret) = &webhook_secret
            && (secret.expose().len() < 16
                || !secret
                    .expose()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(ConfigError::invalid_secret(
                "MONDAY_WEBHOOK_SECRET",
                "at least 16 characters of A-Z, a-z, 0-9, - and _ (it goes into a URL)",
            ));
        }
        Ok(Self {
            api_url,
            token,
            api_version,
            board_id,
            columns,
            status_labels,
            priority_labels,
            rating_labels,
            webhook_secret,
            signing_secret: vars.secret("MONDAY_SIGNING_SECRET"),
            max_concurrency,
            request_timeout: vars.seconds("MONDAY_TIMEOUT_SECONDS", 15)?,
            max_retry_wait: vars.seconds("MONDAY_MAX_RETRY_WAIT_SECONDS", 20)?,
            public_marker: vars.string("PUBLIC_REPLY_MARKER", "@client"),
            reply_image_hosts: host_list(vars, "REPLY_IMAGE_HOSTS")?,
            internal_marker: vars.string("INTERNAL_REPLY_MARKER", "@internal"),
            daily_call_limit: vars.parse(
                "MONDAY_DAILY_CALL_LIMIT",
                1000u32,
                "a whole number of calls a day, such as 1000 (Standard) or 10000 (Pro)",
            )?,
        })
    }
}

impl AuthConfig {
    pub(super) fn read(vars: &Vars, mode: RunMode) -> Result<Self, ConfigError> {
        let jwt_secret = vars.secret("JWT_SECRET");
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < 32
        {
            return Err(ConfigError::invalid_secret(
                "JWT_SECRET",
                "at least 32 characters (for example `openssl rand -base64 48`)",
            ));
        }
        if mode == RunMode::Production && jwt_secret.is_none() {
            return Err(ConfigError::missing(
                "JWT_SECRET",
                "it is required when PORTAL_ENV=production (at least 32 random characters)",
            ));
        }
        Ok(Self {
            jwt_secret,
            magic_link_ttl: vars.seconds("MAGIC_LINK_TTL_SECONDS", 3600)?,
            session_idle: vars.seconds("SESSION_IDLE_SECONDS", 7 * 24 * 3600)?,
            session_max_age: vars.seconds("SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600)?,
            jwt_ttl: vars.seconds("JWT_TTL_SECONDS", 24 * 3600)?,
            audit_retention: vars
                .parse("AUDIT_RETENTION_DAYS", 90u64, "a whole number of days")
                .map(|days| std::time::Duration::from_secs(days * 24 * 3600))?,
        })
    }
}

impl MailConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let smtp_url = vars.secret("SMTP_URL");
        if let Some(url) = &smtp_url
            && !(url.expose().starts_with("smtp://") || url.expose().starts_with("smtps://"))
        {
            return Err(ConfigError::invalid_secret(
                "SMTP_URL",
                "smtp://user:password@host:587 or smtps://user:password@host",
            ));
        }
        let from = vars.string("MAIL_FROM", "Support Portal <portal@localhost>");
        if !from.contains('@') {
            return Err(ConfigError::invalid(
                "MAIL_FROM",
                &from,
                "an address such as Support <support@example.com>",
            ));
        }
        Ok(Self {
            smtp_url,
            from,
            file_drop: vars.flag("MAIL_FILE_DROP")?.unwrap_or(false),
        })
    }
}

impl ResolutionConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            reopen_days: vars.parse(
                "REOPEN_DAYS",
                14u32,
                "a whole number of days (0: resolved tickets cannot be reopened)",
            )?,
            closed_replies: vars.parse(
                "CLOSED_TICKET_REPLIES",
                crate::model::ClosedReplies::Reopen,
                "reopen or follow_up",
            )?,
        })
    }
}

impl AttachmentConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        const MB: u64 = 1024 * 1024;
        // monday takes files up to 500 MB: a larger limit here would accept what it refuses.
        let megabytes = "a whole number of megabytes from 1 to 500";
        let in_range = |name: &'static str, value: u64| {
            if (1..=500).contains(&value) {
                Ok(value * MB)
            } else {
                Err(ConfigError::invalid(name, &value.to_string(), megabytes))
            }
        };
        let max_file_bytes = in_range(
            "ATTACHMENT_MAX_FILE_MB",
            vars.parse("ATTACHMENT_MAX_FILE_MB", 25u64, megabytes)?,
        )?;
        let max_message_bytes = in_range(
            "ATTACHMENT_MAX_MESSAGE_MB",
            vars.parse("ATTACHMENT_MAX_MESSAGE_MB", 50u64, megabytes)?,
        )?;
        let max_files: u32 =
            vars.parse("ATTACHMENT_MAX_FILES", 10u32, "a whole number of files")?;
        let keep_hours: u64 =
            vars.parse("ATTACHMENT_KEEP_HOURS", 24u64, "a whole number of hours")?;
        Ok(Self {
            limits: crate::model::UploadLimits {
                max_file_bytes,
                max_message_bytes: max_message_bytes.max(max_file_bytes),
                max_files,
            },
            keep_after_delivery: std::time::Duration::from_secs(keep_hours * 3600),
        })
    }
}

impl NotifyConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let link_hours: u64 = vars.parse("NOTIFY_LINK_HOURS", 72u64, "a whole number of hours")?;
        Ok(Self {
            window: vars.seconds("NOTIFY_WINDOW_SECONDS", 120)?,
            default_mode: vars.parse(
                "NOTIFY_DEFAULT",
                crate::model::NotifyMode::All,
                "all, replies, digest or none",
            )?,
            link_ttl: std::time::Duration::from_secs(link_hours.max(1) * 3600),
            retry_max: vars.seconds("NOTIFY_RETRY_MAX_SECONDS", 300)?,
        })
    }
}

impl LocalBoardConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            console: vars.flag("LOCAL_BOARD_CONSOLE")?,
            in_production: vars.flag("LOCAL_BOARD_IN_PRODUCTION")?.unwrap_or(false),
            listen_addr: vars.parse(
                "LOCAL_BOARD_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 0)),
                "host:port with an IP address, such as 127.0.0.1:3002",
            )?,
            webhook_retry_interval: vars.seconds("LOCAL_BOARD_WEBHOOK_RETRY_SECONDS", 60)?,
            plan: vars.parse(
                "LOCAL_BOARD_PLAN",
                monday_local::Plan::Standard,
                "free, standard, pro or enterprise",
            )?,
        })
    }
}

impl LimitsConfig {
    pub(super) fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let whole = "a whole number";
        Ok(Self {
            cache_ttl: vars.seconds("CACHE_TTL_SECONDS", 300)?,
            cache_max_portals: vars.parse(
                "CACHE_MAX_PORTALS",
                1000usize,
                "a whole number of portals",
            )?,
            tickets_per_hour_per_member: vars.parse("LIMIT_TICKETS_PER_HOUR", 30u32, whole)?,
            replies_per_hour_per_member: vars.parse("LIMIT_REPLIES_PER_HOUR", 120u32, whole)?,
            writes_per_hour_per_address: vars.parse(
                "LIMIT_WRITES_PER_HOUR_PER_ADDRESS",
                600u32,
                whole,
            )?,
            link_requests_per_hour_per_email: vars.parse(
                "LIMIT_LINK_REQUESTS_PER_HOUR_PER_EMAIL",
                5u32,
                whole,
            )?,
            link_requests_per_hour_per_email_total: vars.parse(
                "LIMIT_LINK_REQUESTS_PER_HOUR_PER_EMAIL_TOTAL",
                30u32,
                whole,
            )?,
            link_requests_per_hour_per_address: vars.parse(
                "LIMIT_LINK_REQUESTS_PER_HOUR_PER_ADDRESS",
                20u32,
                whole,
            )?,
            sign_in_failures_per_hour_per_address: vars.parse(
                "LIMIT_SIGN_IN_FAILURES_PER_HOUR_PER_ADDRESS",
                30u32,
                whole,
            )?,
            ticket_misses_per_hour_per_member: vars.parse(
                "LIMIT_TICKET_MISSES_PER_HOUR",
                60u32,
                whole,
            )?,
            live_sockets_per_session: vars.parse("LIMIT_LIVE_SOCKETS_PER_SESSION", 8u32, whole)?,
            live_sockets_per_address: vars.parse("LIMIT_LIVE_SOCKETS_PER_ADDRESS", 64u32, whole)?,
            outbox_lease: vars.seconds("OUTBOX_LEASE_SECONDS", 300)?,
        })
    }
}

/// Production refuses what is only safe on a developer's machine, unless told explicitly.
pub(super) fn production_checks(config: &super::Config) -> Result<(), ConfigError> {
    if config.mode != RunMode::Production {
        return Ok(());
    }
    if config.uses_local_board() && !config.local_board.in_production {
        return Err(ConfigError::missing(
            "MONDAY_API_TOKEN",
            "production needs a real board (set MONDAY_API_TOKEN and MONDAY_BOARD_ID), or \
             LOCAL_BOARD_IN_PRODUCTION=on for a demo server on the local board",
        ));
    }
    if config.mail.smtp_url.is_none() && !config.mail.file_drop {
        return Err(ConfigError::missing(
            "SMTP_URL",
            "production sends sign-in links by SMTP; MAIL_FILE_DROP=on keeps them in files \
             under DATA_DIR/mail instead, for testing a deployment only",
        ));
    }
    Ok(())
}

/// `TRUSTED_PROXIES`: IP addresses or CIDR ranges, comma-separated.
fn trusted_proxies(vars: &Vars) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let Some(raw) = vars.get("TRUSTED_PROXIES") else {
        return Ok(Vec::new());
    };
    let expected = "IP addresses or CIDR ranges, comma-separated, such as 127.0.0.1,10.0.0.0/8";
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::invalid("TRUSTED_PROXIES", raw, expected))
        })
        .collect()
}

/// A comma-separated list of host names (lowercase, no scheme or path).
fn host_list(vars: &Vars, name: &'static str) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = vars.get(name) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|part| part.trim().to_ascii_lowercase())
        .filter(|part| !part.is_empty())
        .map(|host| {
            let valid = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if valid {
                Ok(host)
            } else {
                Err(ConfigError::invalid(
                    name,
                    raw,
                    "host names, comma-separated, such as files.monday.com",
                ))
            }
        })
        .collect()
}

fn parse_base_url(variable: &'static str, raw: &str) -> Result<String, ConfigError> {
    let trimmed = raw.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(ConfigError::invalid(
            variable,
            raw,
            "an http:// or https:// URL such as https://portal.example.com",
        )),
    }
}

fn is_api_version(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 7
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && matches!(&value[5..], "01" | "04" | "07" | "10")
}

fn column_id(vars: &Vars, name: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = vars.string(name, default);
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            name,
            &value,
            "a monday column id such as text_mkx1ab (see `client-portal doctor`)",
        ))
    }
}

/// Parses `Label=value,Other Label=value` into a label map. A value named in the variable
/// loses its default label, so a board with one renamed label needs only that one entry; the
/// first label given for a value is the one the portal writes.
fn label_map<T: Copy + PartialEq>(
    vars: &Vars,
    name: &'static str,
    defaults: impl Iterator<Item = (&'static str, T)>,
    parse: fn(&str) -> Option<T>,
) -> Result<Vec<(String, T)>, ConfigError> {
    let defaults: Vec<(String, T)> = defaults.map(|(l, v)| (l.to_owned(), v)).collect();
    let Some(raw) = vars.get(name) else {
        return Ok(defaults);
    };
    let expected =
        "comma-separated Label=value pairs, such as `Working on it=in_progress,Done=resolved`";
    let mut given: Vec<(String, T)> = Vec::new();
    for pair in raw.split(',') {
        let (label, value) = pair
            .split_once('=')
            .ok_or_else(|| ConfigError::invalid(name, raw, expected))?;
        let value = parse(value.trim()).ok_or_else(|| ConfigError::invalid(name, raw, expected))?;
        let label = label.trim();
        if label.is_empty() || given.iter().any(|(existing, _)| existing == label) {
            return Err(ConfigError::invalid(name, raw, expected));
        }
        given.push((label.to_owned(), value));
    }
    let kept_defaults = defaults
        .into_iter()
        .filter(|(label, value)| !given.iter().any(|(l, v)| v == value || l == label));
    Ok(given.iter().cloned().chain(kept_defaults).collect())
}
