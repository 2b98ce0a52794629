//! Typed configuration read once at start-up from the environment (and an optional `.env`).
//!
//! Every variable is documented in `.env.example`. A wrong value stops start-up with one line
//! naming the variable and what it expects; secrets are wrapped in [`Secret`] so that neither
//! `Debug` nor a log line can print them.

mod read;
mod vars;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use vars::{ConfigError, DatabaseUrl, Secret, Vars};

use crate::model::{Priority, Status};

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
    /// `None` means "the address the server is bound to": start-up resolves it once bound, and
    /// everything reads it through [`Config::public_url`].
    pub public_url: Option<String>,
    /// `public_url`, or the listening address until start-up knows the bound one.
    resolved_public_url: String,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub log_format: LogFormat,
    pub monday: MondayConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub notify: NotifyConfig,
    pub resolution: ResolutionConfig,
    pub attachments: AttachmentConfig,
    pub local_board: LocalBoardConfig,
    pub limits: LimitsConfig,
    /// The reverse proxies whose `X-Forwarded-For` is believed (their own entries are skipped
    /// from the right; the first address that is not one of them is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long `/readyz` reuses its check of monday (each check spends a monday call).
    pub readyz_cache: Duration,
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
    pub rating_labels: Vec<(String, crate::model::Rating)>,
    pub webhook_secret: Option<Secret>,
    pub signing_secret: Option<Secret>,
    pub max_concurrency: usize,
    pub request_timeout: Duration,
    /// Longest total time a request may spend waiting between retries.
    pub max_retry_wait: Duration,
    /// Updates from the team are shown to clients only when they begin with this marker.
    pub public_marker: String,
    /// Hosts team replies may load images from; other images become links, so a reply cannot
    /// tell a third party who read it and when.
    pub reply_image_hosts: Vec<String>,
    /// A reply in a client's thread is public unless it begins with this marker.
    pub internal_marker: String,
    /// monday's daily call cap for the account (1,000 on Standard): the portal counts its
    /// calls against it.
    pub daily_call_limit: u32,
}

/// Which monday column plays which role; real boards have generated ids like `text_mkx1ab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    pub description: String,
    pub portal_id: String,
    pub client_email: String,
    pub status: String,
    pub priority: String,
    /// A status column with the clients' satisfaction ratings (written, never read).
    pub rating: String,
}

impl Default for ColumnMap {
    fn default() -> Self {
        Self {
            description: "description".into(),
            portal_id: "portal_id".into(),
            client_email: "client_email".into(),
            status: "status".into(),
            priority: "priority".into(),
            rating: "rating".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_secret: Option<Secret>,
    pub magic_link_ttl: Duration,
    /// A session ends after this long without use...
    pub session_idle: Duration,
    /// ...and after this long in any case: a stolen cookie does not live forever.
    pub session_max_age: Duration,
    pub jwt_ttl: Duration,
    /// Audit rows older than this are deleted.
    pub audit_retention: Duration,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_url: Option<Secret>,
    pub from: String,
    /// Production without SMTP keeps mail (sign-in links included) in files only when told to,
    /// for testing a deployment.
    pub file_drop: bool,
}

/// Notification mails (`src/server/notify`).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Changes to one ticket within this long go out as one mail.
    pub window: Duration,
    /// What members get unless they or their portal chose otherwise.
    pub default_mode: crate::model::NotifyMode,
    /// How long a link in a notification signs its member in (once).
    pub link_ttl: Duration,
    /// The longest wait between two attempts while SMTP is down or refusing.
    pub retry_max: Duration,
}

/// What clients may do once a ticket is resolved.
#[derive(Debug, Clone)]
pub struct ResolutionConfig {
    /// How many days after resolution the client may reopen a ticket (`REOPEN_DAYS`).
    pub reopen_days: u32,
    /// What a message on a resolved or closed ticket does (`CLOSED_TICKET_REPLIES`).
    pub closed_replies: crate::model::ClosedReplies,
}

/// Files clients attach: how big, how many, and how long a delivered file's copy is kept.
#[derive(Debug, Clone)]
pub struct AttachmentConfig {
    /// `ATTACHMENT_MAX_FILE_MB` (25), `ATTACHMENT_MAX_MESSAGE_MB` (50), `ATTACHMENT_MAX_FILES`
    /// (10). monday itself takes files up to 500 MB.
    pub limits: crate::model::UploadLimits,
    /// How long the portal keeps its copy once monday has a file (`ATTACHMENT_KEEP_HOURS`, 24):
    /// the client's own downloads need no monday call meanwhile.
    pub keep_after_delivery: Duration,
}

#[derive(Debug, Clone)]
pub struct LocalBoardConfig {
    /// `None`: served to requests that come straight from this machine (loopback peer, loopback
    /// host, no proxy headers) while the public URL is a loopback one; `on`: to everyone who can
    /// reach the portal; `off`: to no one.
    pub console: Option<bool>,
    /// Production on the local board (demo data, no monday) only when asked for explicitly.
    pub in_production: bool,
    /// Where the local board's GraphQL API listens (port 0: any free port).
    pub listen_addr: SocketAddr,
    /// monday retries a failed webhook once a minute; tests shorten it.
    pub webhook_retry_interval: Duration,
    /// Whose limits the local board enforces: `free`, `standard`, `pro` or `enterprise`.
    pub plan: monday_local::Plan,
}

#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub cache_ttl: Duration,
    pub cache_max_portals: usize,
    /// Counted per member (portal and email), whatever session or token they use.
    pub tickets_per_hour_per_member: u32,
    pub replies_per_hour_per_member: u32,
    pub writes_per_hour_per_address: u32,
    /// Links for one email asked from one address: a stranger flooding from elsewhere does not
    /// use up the member's own.
    pub link_requests_per_hour_per_email: u32,
    /// Links for one email from all addresses together, against mail bombing.
    pub link_requests_per_hour_per_email_total: u32,
    pub link_requests_per_hour_per_address: u32,
    /// Failed sign-ins (unusable links, bad tokens) from one address before it must wait.
    pub sign_in_failures_per_hour_per_address: u32,
    /// Ticket ids a member may look up that turn out not to exist, before lookups of unknown
    /// ids wait: each costs a monday call.
    pub ticket_misses_per_hour_per_member: u32,
    pub live_sockets_per_session: u32,
    pub live_sockets_per_address: u32,
    /// How long an instance holds an outbox row while delivering it; if the instance dies,
    /// another takes the row over after this.
    pub outbox_lease: Duration,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_process())
    }

    /// Reads every section; the first wrong value stops with an error naming its variable.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let mode = read::mode(vars)?;
        let read::ServerFields {
            listen_addr,
            public_url,
            data_dir,
            database_url,
            log_format,
            trusted_proxies,
            readyz_cache,
            live_heartbeat,
            metrics,
        } = read::ServerFields::read(vars)?;
        let resolved_public_url = public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen_addr}"));
        let config = Self {
            mode,
            listen_addr,
            public_url,
            resolved_public_url,
            data_dir,
            database_url,
            log_format,
            monday: MondayConfig::read(vars)?,
            auth: AuthConfig::read(vars, mode)?,
            mail: MailConfig::read(vars)?,
            notify: NotifyConfig::read(vars)?,
            resolution: ResolutionConfig::read(vars)?,
            attachments: AttachmentConfig::read(vars)?,
            local_board: LocalBoardConfig::read(vars)?,
            limits: LimitsConfig::read(vars)?,
            trusted_proxies,
            readyz_cache,
            live_heartbeat,
            metrics,
        };
        read::production_checks(&config)?;
        Ok(config)
    }

    /// The base URL clients reach the portal on, without a trailing slash: the configured one,
    /// or the address the server listens on.
    pub fn public_url(&self) -> &str {
        &self.resolved_public_url
    }

    /// Records the address the server is bound to (a port 0 becomes a real port), which is
    /// the public URL when none is configured.
    pub fn bound_to(&mut self, addr: SocketAddr) {
        if self.public_url.is_none() {
            self.resolved_public_url = format!("http://{addr}");
        }
    }

    pub fn uses_local_board(&self) -> bool {
        self.monday.token.is_none()
    }
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
    fn database_passwords_never_print() {
        let config = config(&[(
            "DATABASE_URL",
            "postgres://portal:hunter2@db.internal/portal",
        )])
        .expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(
            config.database_url.to_string(),
            "postgres://portal:[redacted]@db.internal/portal"
        );
        let err = Config::from_vars(&Vars::from_pairs([(
            "DATABASE_URL",
            "mysql://portal:hunter2@db.internal/portal",
        )]))
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
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
        let example = include_str!("../../../.env.example");
        let source = [include_str!("read.rs"), include_str!("mod.rs")].concat();
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
            output_name(include_str!("../../../Leptos.toml")),
            output_name(include_str!("../../../Cargo.toml"))
        );
    }

    fn config_err_is(variable: &str, raw: &str) -> bool {
        config(&[("MONDAY_STATUS_LABELS", raw)]).is_err_and(|e| e.variable == variable)
    }
}
