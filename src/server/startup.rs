//! Builds the application from a [`Config`]: database, monday client (or local board), routes.
//! Tests call [`Application::build`] with port 0 and read the bound address back.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Response};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use super::auth::jwt::JwtKeys;
use super::auth::{Auth, AuthError, LinkLimits};
use super::config::{Config, ConfigError, RunMode, Secret};
use super::guard::{self, WriteLimits};
use super::live::LiveHub;
use super::local_board::{LocalBoard, LocalBoardError, LocalBoardOptions};
use super::mail::{MailError, Mailer};
use super::monday::{MondayClient, MondayError};
use super::state::{AppState, Services};
use super::tickets::{TicketService, TicketSettings};
use super::{db, health};
use crate::app::{App, shell};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database ({url}): {source}")]
    Database { url: String, source: sqlx::Error },
    #[error("database migrations failed: {0}")]
    Migrations(#[from] sqlx::migrate::MigrateError),
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    LocalBoard(#[from] LocalBoardError),
    #[error("monday client: {0}")]
    Monday(#[from] MondayError),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("could not create the demo portals: {0}")]
    Seed(#[from] AuthError),
    #[error("Leptos site settings (Leptos.toml or LEPTOS_* variables): {0}")]
    Leptos(String),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// The largest request body the portal accepts (a ticket is at most ~40 KB of text).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Where the runtime site settings live unless `LEPTOS_CONFIG` says otherwise.
const LEPTOS_TOML: &str = "Leptos.toml";

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let db = db::open(&config.database_url)
            .await
            .map_err(|source| StartupError::Database {
                url: config.database_url.clone(),
                source,
            })?;
        db::MIGRATOR.run(&db).await?;

        let listener = TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| StartupError::Listen {
                addr: config.listen_addr,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                addr: config.listen_addr,
                source,
            })?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));

        let (monday, local_board) = connect_monday(&config).await?;
        let leptos_options = leptos_options(addr)?;
        let team_console = local_board.is_some() && console_enabled(&config, addr);

        let jwt_secret = match &config.auth.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&config.data_dir.join("jwt_secret"), 48).map_err(
                |source| StartupError::DataDir {
                    path: config.data_dir.join("jwt_secret").display().to_string(),
                    source,
                },
            )?,
        };
        let auth = Arc::new(build_auth(&config, db.clone(), public_url.clone())?);
        if local_board.is_some() {
            seed_demo_portals(&auth).await?;
        }
        let live = Arc::new(LiveHub::default());
        let tickets = Arc::new(TicketService::new(
            db.clone(),
            monday.clone(),
            live.clone(),
            TicketSettings {
                cache_ttl: config.limits.cache_ttl,
                cache_max_portals: config.limits.cache_max_portals,
                public_marker: config.monday.public_marker.clone(),
            },
        ));
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        tickets.spawn_outbox(shutdown_rx.clone());

        let sessions = SqliteStore::new(db.clone());
        tokio::spawn(
            sessions
                .clone()
                .continuously_delete_expired(Duration::from_secs(3600)),
        );
        let session_layer = SessionManagerLayer::new(sessions.clone())
            .with_name("portal_session")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(public_url.starts_with("https://"))
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
                config.auth.session_idle.as_secs() as i64,
            )));

        let webhook_secret = webhook_secret(&config)?;
        let write_limits = WriteLimits::new(
            config.limits.tickets_per_hour_per_session,
            config.limits.replies_per_hour_per_session,
            config.limits.writes_per_hour_per_address,
        );
        let state = AppState {
            leptos_options: leptos_options.clone(),
            services: Arc::new(Services {
                jwt: JwtKeys::new(&jwt_secret, config.auth.jwt_ttl.as_secs() as i64),
                config,
                public_url,
                db,
                monday,
                local_board,
                team_console,
                auth,
                tickets,
                live,
                write_limits,
                sessions,
                webhook_secret,
                shutdown: shutdown_rx,
            }),
        };

        let routes = generate_route_list(App);
        let mut router = Router::new()
            .route("/healthz", get(health::healthz))
            .route("/readyz", get(health::readyz))
            .route("/metrics", get(health::metrics))
            .route("/", get(guard::home))
            .merge(super::rest::router())
            .route("/live", get(super::live::socket))
            .route(
                "/webhooks/monday/{secret}",
                post(super::webhooks::with_secret)
                    .layer(DefaultBodyLimit::max(super::webhooks::MAX_WEBHOOK_BYTES)),
            )
            .route(
                "/webhooks/monday",
                post(super::webhooks::signed)
                    .layer(DefaultBodyLimit::max(super::webhooks::MAX_WEBHOOK_BYTES)),
            )
            .leptos_routes(&state, routes, {
                let options = leptos_options.clone();
                move || shell(options.clone())
            })
            .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
        if team_console {
            router = router.merge(super::local_board::console::router());
        }

        // One log line per request. Paths are logged without their query string (magic-link
        // tokens travel there) and webhook secrets are masked.
        let request_log = TraceLayer::new_for_http()
            .make_span_with(|request: &Request<Body>| {
                tracing::info_span!(
                    target: "client_portal::request",
                    "request",
                    method = %request.method(),
                    path = %loggable_path(request.uri().path()),
                )
            })
            .on_response(
                |response: &Response<Body>, latency: Duration, _: &tracing::Span| {
                    tracing::info!(
                        target: "client_portal::request",
                        status = response.status().as_u16(),
                        latency_ms = latency.as_millis() as u64,
                        "request"
                    );
                },
            );
        let router = router
            .layer(axum::middleware::from_fn(guard::require_member_for_pages))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                guard::same_origin,
            ))
            .layer(session_layer)
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            .layer(axum::middleware::from_fn(guard::security_headers))
            .layer(request_log)
            .with_state(state.clone());

        Ok(Self {
            listener,
            router,
            state,
            shutdown: shutdown_tx,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets open requests finish.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            state,
            shutdown: stop_background,
        } = self;
        let addr = listener.local_addr()?;
        tracing::info!("listening on http://{addr}");
        if state.local_board.is_some() {
            // The local board checks the URL with a challenge, which this server answers once
            // it serves: register in the background.
            let state = state.clone();
            tokio::spawn(async move { register_local_webhooks(&state, addr).await });
        }
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Sockets and the outbox stop too, so open connections let the server finish.
            let _ = stop_background.send(true);
        })
        .await;
        if let Some(board) = &state.local_board {
            board.shutdown().await;
        }
        served
    }
}

pub async fn connect_monday(
    config: &Config,
) -> Result<(MondayClient, Option<LocalBoard>), StartupError> {
    if let Some(token) = &config.monday.token {
        let client =
            MondayClient::new(&config.monday, config.monday.api_url.clone(), token.clone())?;
        return Ok((client, None));
    }
    let database = config.data_dir.join("local-board.db");
    let mut options = LocalBoardOptions::new(format!("sqlite://{}?mode=rwc", database.display()));
    options.listen = config.local_board.listen_addr;
    options.webhook_retry_interval = config.local_board.webhook_retry_interval;
    let board = LocalBoard::start(options).await?;
    let url = board.url().await;
    tracing::info!(%url, "no MONDAY_API_TOKEN: using the local board");
    let client = MondayClient::new(&config.monday, url, board.token())?;
    Ok((client, Some(board)))
}

/// The secret in the webhook URL: `MONDAY_WEBHOOK_SECRET`, or in development one generated
/// once and kept under the data directory.
pub fn webhook_secret(config: &Config) -> Result<Option<Secret>, StartupError> {
    if let Some(secret) = &config.monday.webhook_secret {
        return Ok(Some(secret.clone()));
    }
    if config.mode == RunMode::Production && !config.uses_local_board() {
        return Ok(None);
    }
    let path = config.data_dir.join("webhook_secret");
    load_or_create_secret(&path, 24)
        .map(Some)
        .map_err(|source| StartupError::DataDir {
            path: path.display().to_string(),
            source,
        })
}

/// Where monday should send webhooks, when the portal knows its public address and secret.
pub fn webhook_url(config: &Config, bound: SocketAddr) -> Result<Option<String>, StartupError> {
    let Some(secret) = webhook_secret(config)? else {
        return Ok(None);
    };
    let base = if config.uses_local_board() {
        // The local board runs beside the portal and reaches it on loopback.
        let ip = if bound.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            bound.ip()
        };
        format!("http://{}", SocketAddr::new(ip, bound.port()))
    } else {
        match &config.public_url {
            Some(url) => url.clone(),
            None => return Ok(None),
        }
    };
    Ok(Some(super::board_setup::webhook_url(
        &base,
        secret.expose(),
    )))
}

/// The console has no sign-in of its own: only on loopback unless explicitly enabled.
fn console_enabled(config: &Config, addr: SocketAddr) -> bool {
    match config.local_board.console {
        Some(true) => {
            if !addr.ip().is_loopback() {
                tracing::warn!(
                    "LOCAL_BOARD_CONSOLE=on while listening on {addr}: anyone who can reach \
                     this address can act as the support team"
                );
            }
            true
        }
        Some(false) => false,
        None => addr.ip().is_loopback(),
    }
}

fn leptos_options(addr: SocketAddr) -> Result<LeptosOptions, StartupError> {
    let path = std::env::var("LEPTOS_CONFIG").unwrap_or_else(|_| LEPTOS_TOML.to_owned());
    let conf = if Path::new(&path).exists() {
        get_configuration(Some(&path))
    } else {
        get_configuration(None)
    }
    .map_err(|e| StartupError::Leptos(e.to_string()))?;
    let mut options = conf.leptos_options;
    options.site_addr = addr;
    Ok(options)
}

/// Points the local board's webhooks at this server (replacing ones for an older address).
async fn register_local_webhooks(state: &AppState, addr: SocketAddr) {
    let url = match webhook_url(&state.config, addr) {
        Ok(Some(url)) => url,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(%error, "no webhook URL for the local board");
            return;
        }
    };
    match super::board_setup::setup_board(&state.config, &state.monday, &state.db, None, Some(&url))
        .await
    {
        Ok(report) => tracing::info!(
            created = report.webhooks_created.len(),
            "local board webhooks registered"
        ),
        Err(error) => tracing::error!(%error, "could not register the local board's webhooks"),
    }
}

/// Portals, members and magic links, for the server and the CLI alike.
pub fn build_auth(
    config: &Config,
    db: sqlx::SqlitePool,
    public_url: String,
) -> Result<Auth, StartupError> {
    let mailer = Mailer::new(&config.mail, &config.data_dir)?;
    Ok(Auth::new(
        db,
        public_url,
        config.auth.magic_link_ttl,
        mailer,
        LinkLimits {
            per_email_per_hour: config.limits.link_requests_per_hour_per_email,
            per_address_per_hour: config.limits.link_requests_per_hour_per_address,
        },
    ))
}

/// The local board's demo portals and their members, so a newcomer can sign in at once.
async fn seed_demo_portals(auth: &Auth) -> Result<(), AuthError> {
    /// (id, name, brand colour, members as (email, name))
    type DemoPortal = (
        &'static str,
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    const DEMO: [DemoPortal; 2] = [
        (
            "demo",
            "Demo Company",
            "#4338ca",
            &[
                ("jordan@demo.example", "Jordan Lee"),
                ("alex@demo.example", "Alex Kim"),
            ],
        ),
        (
            "acme",
            "Acme Corp",
            "#b91c1c",
            &[
                ("riley@acme.example", "Riley Chen"),
                ("morgan@acme.example", "Morgan Diaz"),
            ],
        ),
    ];
    for (id, name, colour, members) in DEMO {
        if auth.portal(id).await?.is_some() {
            continue;
        }
        auth.upsert_portal(id, Some(name)).await?;
        auth.set_brand(id, Some(colour), None).await?;
        for (email, member_name) in members {
            auth.upsert_member(id, email, Some(member_name)).await?;
        }
    }
    Ok(())
}

pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/webhooks/monday/") {
        Some(_) => "/webhooks/monday/[secret]".to_owned(),
        None => path.to_owned(),
    }
}

/// Reads a secret from `path`, or creates it with `length` random bytes (development only).
pub fn load_or_create_secret(path: &Path, length: usize) -> std::io::Result<Secret> {
    use base64::Engine;
    use rand::RngCore;
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(Secret::new(existing));
        }
    }
    let mut bytes = vec![0u8; length];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, &secret)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(Secret::new(secret))
}
