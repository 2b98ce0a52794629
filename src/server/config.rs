//! Typed configuration read once at start-up from the environment (and an optional `.env`).
//!
//! Every variable is documented in `.env.example`. A wrong value stops start-up with one line
//! naming the variable and what it expects; secrets are wrapped in [`Secret`] so that neither
//! `Debug` nor a log line can print them.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::{Priority, Status};

/// A value that must never be printed: `Debug` shows `[redacted]` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to read the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A configuration variable with a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn invalid(variable: &'static str, shown_value: &str, expected: &str) -> Self {
        Self {
            variable,
            problem: format!("is {shown_value:?}, expected {expected}"),
        }
    }

    fn invalid_secret(variable: &'static str, expected: &str) -> Self {
        Self {
            variable,
            problem: format!("is not valid (value hidden), expected {expected}"),
        }
    }

    pub fn missing(variable: &'static str, why: &str) -> Self {
        Self {
            variable,
            problem: format!("is not set: {why}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// `development` generates missing secrets and keeps them under the data directory;
/// `production` refuses to start without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: RunMode,
    /// Where the portal listens (`LEPTOS_SITE_ADDR`, the variable cargo-leptos also sets).
    pub listen_addr: SocketAddr,
    /// The address clients use, for magic links, cookie `Secure` and the `Origin` check.
    /// `None` means "the address the server is bound to", resolved once it is bound.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_format: LogFormat,
    pub monday: MondayConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub local_board: LocalBoardConfig,
    pub limits: LimitsConfig,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// How often live sockets get a heartbeat (and their session is checked).
    pub live_heartbeat: Duration,
    /// Serve `/metrics` (counters only, no client data).
    pub metrics: bool,
}

#[derive(Debug, Clone)]
pub struct MondayConfig {
    pub api_url: String,
    /// `None` runs the embedded local board and points the client at it.
    pub token: Option<Secret>,
    pub api_version: String,
    pub board_id: String,
    pub columns: ColumnMap,
    pub status_labels: Vec<(String, Status)>,
    pub priority_labels: Vec<(String, Priority)>,
    pub webhook_secret: Option<Secret>,
    pub signing_secret: Option<Secret>,
    pub max_concurrency: usize,
    pub request_timeout: Duration,
    /// Longest total time a request may spend waiting between retries.
    pub max_retry_wait: Duration,
    /// Updates from the team are shown to clients only when they begin with this marker.
    pub public_marker: String,
}

/// Which monday column plays which role; real boards have generated ids like `text_mkx1ab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    pub description: String,
    pub portal_id: String,
    pub client_email: String,
    pub status: String,
    pub priority: String,
}

impl Default for ColumnMap {
    fn default() -> Self {
        Self {
            description: "description".into(),
            portal_id: "portal_id".into(),
            client_email: "client_email".into(),
            status: "status".into(),
            priority: "priority".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_secret: Option<Secret>,
    pub magic_link_ttl: Duration,
    pub session_idle: Duration,
    pub jwt_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_url: Option<Secret>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct LocalBoardConfig {
    /// `None`: on when listening on loopback, off otherwise.
    pub console: Option<bool>,
    /// Where the local board's GraphQL API listens (port 0: any free port).
    pub listen_addr: SocketAddr,
    /// monday retries a failed webhook once a minute; tests shorten it.
    pub webhook_retry_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub cache_ttl: Duration,
    pub cache_max_portals: usize,
    pub tickets_per_hour_per_session: u32,
    pub replies_per_hour_per_session: u32,
    pub writes_per_hour_per_address: u32,
    pub link_requests_per_hour_per_email: u32,
    pub link_requests_per_hour_per_address: u32,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// Reads variables from a snapshot of the environment so tests can pass their own.
pub struct Vars(HashMap<String, String>);

impl Vars {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// An empty string counts as unset, which is what `FOO=` in a `.env` file usually means.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }

    fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret::new)
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::invalid(name, raw, expected)),
        }
    }

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parse(name, default, "a whole number of seconds")
            .map(Duration::from_secs)
    }

    fn flag(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("1" | "true" | "on" | "yes") => Ok(Some(true)),
            Some("0" | "false" | "off" | "no") => Ok(Some(false)),
            Some(other) => Err(ConfigError::invalid(name, other, "on or off")),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_process())
    }

    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let mode = match vars
            .string("PORTAL_ENV", "development")
            .to_ascii_lowercase()
            .as_str()
        {
            "development" | "dev" => RunMode::Development,
            "production" | "prod" => RunMode::Production,
            other => {
                return Err(ConfigError::invalid(
                    "PORTAL_ENV",
                    other,
                    "development or production",
                ));
            }
        };

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
            None => format!("sqlite://{}?mode=rwc", data_dir.join("portal.db").display()),
            Some(raw) if raw.starts_with("sqlite:") => raw.to_owned(),
            Some(raw) => {
                return Err(ConfigError::invalid(
                    "DATABASE_URL",
                    raw,
                    "a SQLite URL such as sqlite://data/portal.db",
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
            None => crate::server::local_board::LOCAL_BOARD_ID.to_owned(),
        };
        let columns = ColumnMap {
            description: column_id(vars, "MONDAY_COLUMN_DESCRIPTION", "description")?,
            portal_id: column_id(vars, "MONDAY_COLUMN_PORTAL_ID", "portal_id")?,
            client_email: column_id(vars, "MONDAY_COLUMN_CLIENT_EMAIL", "client_email")?,
            status: column_id(vars, "MONDAY_COLUMN_STATUS", "status")?,
            priority: column_id(vars, "MONDAY_COLUMN_PRIORITY", "priority")?,
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

        let monday = MondayConfig {
            api_url,
            token,
            api_version,
            board_id,
            columns,
            status_labels,
            priority_labels,
            webhook_secret,
            signing_secret: vars.secret("MONDAY_SIGNING_SECRET"),
            max_concurrency,
            request_timeout: vars.seconds("MONDAY_TIMEOUT_SECONDS", 15)?,
            max_retry_wait: vars.seconds("MONDAY_MAX_RETRY_WAIT_SECONDS", 20)?,
            public_marker: vars.string("PUBLIC_REPLY_MARKER", "@client"),
        };

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
        let auth = AuthConfig {
            jwt_secret,
            magic_link_ttl: vars.seconds("MAGIC_LINK_TTL_SECONDS", 3600)?,
            session_idle: vars.seconds("SESSION_IDLE_SECONDS", 7 * 24 * 3600)?,
            jwt_ttl: vars.seconds("JWT_TTL_SECONDS", 24 * 3600)?,
        };

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

        let limits = LimitsConfig {
            cache_ttl: vars.seconds("CACHE_TTL_SECONDS", 300)?,
            cache_max_portals: vars.parse(
                "CACHE_MAX_PORTALS",
                1000usize,
                "a whole number of portals",
            )?,
            tickets_per_hour_per_session: vars.parse(
                "LIMIT_TICKETS_PER_HOUR",
                30u32,
                "a whole number",
            )?,
            replies_per_hour_per_session: vars.parse(
                "LIMIT_REPLIES_PER_HOUR",
                120u32,
                "a whole number",
            )?,
            writes_per_hour_per_address: vars.parse(
                "LIMIT_WRITES_PER_HOUR_PER_ADDRESS",
                600u32,
                "a whole number",
            )?,
            link_requests_per_hour_per_email: vars.parse(
                "LIMIT_LINK_REQUESTS_PER_HOUR_PER_EMAIL",
                5u32,
                "a whole number",
            )?,
            link_requests_per_hour_per_address: vars.parse(
                "LIMIT_LINK_REQUESTS_PER_HOUR_PER_ADDRESS",
                20u32,
                "a whole number",
            )?,
        };

        Ok(Self {
            mode,
            listen_addr,
            public_url,
            data_dir,
            database_url,
            log_format,
            monday,
            auth,
            mail: MailConfig { smtp_url, from },
            local_board: LocalBoardConfig {
                console: vars.flag("LOCAL_BOARD_CONSOLE")?,
                listen_addr: vars.parse(
                    "LOCAL_BOARD_ADDR",
                    SocketAddr::from(([127, 0, 0, 1], 0)),
                    "host:port with an IP address, such as 127.0.0.1:3002",
                )?,
                webhook_retry_interval: vars.seconds("LOCAL_BOARD_WEBHOOK_RETRY_SECONDS", 60)?,
            },
            limits,
            trust_forwarded_for: vars.flag("TRUST_FORWARDED_FOR")?.unwrap_or(false),
            live_heartbeat: vars.seconds("LIVE_HEARTBEAT_SECONDS", 15)?,
            metrics: vars.flag("METRICS")?.unwrap_or(false),
        })
    }

    pub fn uses_local_board(&self) -> bool {
        self.monday.token.is_none()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(&Vars::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn no_configuration_means_local_board_and_data_dir() {
        let config = config(&[]).expect("defaults are valid");
        assert!(config.uses_local_board());
        assert_eq!(config.listen_addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.database_url, "sqlite://data/portal.db?mode=rwc");
        assert_eq!(config.monday.columns, ColumnMap::default());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("DATABASE_URL", "nonsense://x")]).unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
        assert!(err.to_string().contains("SQLite URL"), "{err}");

        let err = config(&[("LEPTOS_SITE_ADDR", "127.0.0.1:http")]).unwrap_err();
        assert_eq!(err.variable, "LEPTOS_SITE_ADDR");

        let err = config(&[("MONDAY_API_VERSION", "2026-05")]).unwrap_err();
        assert_eq!(err.variable, "MONDAY_API_VERSION");

        let err = config(&[("MONDAY_API_TOKEN", "t")]).unwrap_err();
        assert_eq!(err.variable, "MONDAY_BOARD_ID");
    }

    #[test]
    fn secrets_never_print() {
        let err = config(&[("JWT_SECRET", "short-but-secret")]).unwrap_err();
        assert!(!err.to_string().contains("short-but-secret"), "{err}");
        let config = config(&[
            ("MONDAY_API_TOKEN", "tok-123-secret"),
            ("MONDAY_BOARD_ID", "42"),
        ])
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("tok-123-secret"));
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn production_needs_a_jwt_secret() {
        let err = config(&[("PORTAL_ENV", "production")]).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn label_maps_override_single_labels() {
        let config = config(&[(
            "MONDAY_STATUS_LABELS",
            "Working on it=in_progress, Done=resolved",
        )])
        .expect("valid");
        let labels = &config.monday.status_labels;
        assert!(labels.contains(&("Working on it".into(), Status::InProgress)));
        assert!(labels.contains(&("Open".into(), Status::Open)));
        assert!(!labels.iter().any(|(label, _)| label == "In Progress"));
        assert!(config_err_is("MONDAY_STATUS_LABELS", "Done"));
    }

    #[test]
    fn every_variable_is_documented_in_env_example() {
        let example = include_str!("../../.env.example");
        let source = include_str!("config.rs");
        let documented = |name: &str| example.lines().any(|l| l.starts_with(&format!("{name}=")));
        let mut checked = 0;
        for quoted in source.split('"').skip(1).step_by(2) {
            let looks_like_variable = quoted.len() > 3
                && quoted.contains('_')
                && quoted.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if looks_like_variable {
                assert!(documented(quoted), "{quoted} is missing from .env.example");
                checked += 1;
            }
        }
        assert!(checked > 30, "found only {checked} variables");
    }

    #[test]
    fn leptos_toml_names_the_same_bundle_as_cargo_toml() {
        let output_name = |text: &str| {
            text.lines()
                .find(|l| l.starts_with("output-name"))
                .map(|l| l.to_owned())
        };
        assert_eq!(
            output_name(include_str!("../../Leptos.toml")),
            output_name(include_str!("../../Cargo.toml"))
        );
    }

    fn config_err_is(variable: &str, raw: &str) -> bool {
        config(&[("MONDAY_STATUS_LABELS", raw)]).is_err_and(|e| e.variable == variable)
    }
}
