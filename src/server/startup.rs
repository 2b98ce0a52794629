//! Builds the application from a [`Config`]: database, monday client (or local board), routes.
//! Tests call [`Application::build`] with port 0 and read the bound address back.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use super::config::{Config, ConfigError, RunMode, Secret};
use super::local_board::{LocalBoard, LocalBoardError, LocalBoardOptions};
use super::monday::{MondayClient, MondayError};
use super::state::{AppState, Services};
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
    #[error("Leptos site settings (Leptos.toml or LEPTOS_* variables): {0}")]
    Leptos(String),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

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
        let console_enabled = local_board.is_some() && console_enabled(&config, addr);

        let state = AppState {
            leptos_options: leptos_options.clone(),
            services: Arc::new(Services {
                config,
                public_url,
                db,
                monday,
                local_board,
            }),
        };

        let routes = generate_route_list(App);
        let mut router = Router::new()
            .route("/healthz", get(health::healthz))
            .route("/readyz", get(health::readyz))
            .leptos_routes(&state, routes, {
                let options = leptos_options.clone();
                move || shell(options.clone())
            })
            .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
        if console_enabled {
            router = router.merge(super::local_board::console::router());
        }
        // One log line per request. Paths are logged without their query string (magic-link
        // tokens travel there) and webhook secrets are masked.
        let request_log = TraceLayer::new_for_http()
            .make_span_with(|request: &Request<Body>| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %loggable_path(request.uri().path()),
                )
            })
            .on_response(
                |response: &Response<Body>, latency: Duration, _: &tracing::Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_millis() as u64,
                        "request"
                    );
                },
            );
        let router = router.layer(request_log).with_state(state.clone());

        Ok(Self {
            listener,
            router,
            state,
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
        } = self;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
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
    let base = match &config.public_url {
        Some(url) => url.clone(),
        // The local board runs beside the portal and reaches it on its bound address.
        None if config.uses_local_board() => format!("http://{bound}"),
        None => return Ok(None),
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
