//! The composition root: builds the application from a [`Config`]: storage, the monday board
//! (or the local board), the services, and the routes (the pages' included, which is why it sits
//! above `app` and `server` rather than inside `server`). Tests call [`Application::build`] with port 0 and read the
//! bound address back; the CLI's commands use the same pieces ([`open_database`],
//! [`connect_monday`], [`build_auth`]), so there is one way to wire each.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use monday_local::{LocalBoard, LocalBoardError, LocalBoardOptions};
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::app::{App, shell};
use crate::server::auth::jwt::JwtKeys;
use crate::server::auth::store::DbSessionStore;
use crate::server::auth::{Auth, AuthError, LinkLimits};
use crate::server::board::TicketBoard;
use crate::server::board_events::BoardEvents;
use crate::server::cluster::{Cluster, ClusterMessage};
use crate::server::config::{Config, ConfigError, RunMode, Secret};
use crate::server::db::Db;
use crate::server::http::assets::SiteAssets;
use crate::server::http::limits::WriteLimits;
use crate::server::http::probe::MondayProbe;
use crate::server::http::state::{AppState, Services};
use crate::server::live_hub::LiveHub;
use crate::server::mail::{MailError, Mailer};
use crate::server::notify::Notifier;
use crate::server::tickets::{AttachmentSettings, TicketService, TicketSettings};
use crate::server::{board, demo, devtools, http};

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
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    LocalBoard(#[from] LocalBoardError),
    #[error("monday client: {0}")]
    Monday(#[from] monday::MondayError),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    #[error("could not create the demo portals: {0}")]
    Seed(#[from] AuthError),
    #[error("Leptos site settings (Leptos.toml or LEPTOS_* variables): {0}")]
    Leptos(String),
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// Where the runtime site settings live unless `LEPTOS_CONFIG` says otherwise.
const LEPTOS_TOML: &str = "Leptos.toml";

impl Application {
    pub async fn build(mut config: Config) -> Result<Self, StartupError> {
        let db = open_database(&config).await?;
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
        config.bound_to(addr);
        let jwt_secret = resolve_secrets(&mut config)?;

        let (board, local_board) = connect_monday(&config).await?;
        let leptos_options = leptos_options(addr)?;
        let assets = SiteAssets::resolve(&leptos_options).map_err(StartupError::Leptos)?;
        let team_console = local_board.is_some() && console_enabled(&config, addr);
        let auth = Arc::new(build_auth(&config, db.clone())?);
        if local_board.is_some() {
            demo::seed_portals(&auth).await?;
        }
        let live = Arc::new(LiveHub::default());
        // Names this process wherever instances share the database: outbox leases, the
        // shared call count, the cluster's event stream.
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let cluster = Cluster::new(db.clone(), instance.clone());
        {
            let cluster = cluster.clone();
            live.relay_to(Box::new(move |portal_id, event| {
                cluster.send(ClusterMessage::Live {
                    portal_id: portal_id.to_owned(),
                    event: event.clone(),
                });
            }));
        }
        let notifier = Arc::new(Notifier::new(
            db.clone(),
            auth.clone(),
            config.notify.clone(),
            config.public_url().to_owned(),
            instance.clone(),
            // Longer than a claimed batch can take to send: four rounds of eight, each SMTP
            // conversation capped at 30 s, with room to spare.
            config
                .limits
                .outbox_lease
                .max(crate::server::mail::SMTP_TIMEOUT * 6),
        ));
        let tickets = Arc::new(TicketService::new(
            db.clone(),
            board.clone(),
            live.clone(),
            cluster.clone(),
            TicketSettings {
                cache_ttl: config.limits.cache_ttl,
                cache_max_portals: config.limits.cache_max_portals,
                public_marker: config.monday.public_marker.clone(),
                misses_per_hour: config.limits.ticket_misses_per_hour_per_member,
                memory: auth.memory().clone(),
                outbox_lease: config.limits.outbox_lease,
                internal_marker: config.monday.internal_marker.clone(),
                reply_image_hosts: config.monday.reply_image_hosts.clone(),
                notifier: notifier.clone(),
                resolution: config.resolution.clone(),
                attachments: AttachmentSettings {
                    spool_dir: config.data_dir.join("uploads"),
                    limits: config.attachments.limits,
                    keep_after_delivery: config.attachments.keep_after_delivery,
                },
            },
        ));
        let board_events = Arc::new(BoardEvents::new(
            db.clone(),
            tickets.clone(),
            live.clone(),
            cluster.clone(),
        ));
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        // Today's monday calls across every instance and earlier runs, shared from now on.
        if let Err(error) = board::usage::share(&db, &instance, board.client().budget()).await {
            tracing::warn!(%error, "could not read monday's call count for today");
        }
        board::usage::spawn_keeper(
            db.clone(),
            instance.clone(),
            board.client().budget().clone(),
            shutdown_rx.clone(),
        );
        tickets.spawn_outbox(shutdown_rx.clone());
        cluster.listen(board_events.clone(), shutdown_rx.clone());
        notifier.spawn_queue(shutdown_rx.clone());
        spawn_housekeeping(
            auth.clone(),
            notifier.clone(),
            board_events.clone(),
            cluster,
            db.clone(),
            config.auth.audit_retention,
            shutdown_rx.clone(),
        );

        let sessions = DbSessionStore::new(db.clone(), auth.memory().clone());
        auth.memory().spawn_watch(shutdown_rx.clone());
        let https = config.public_url().starts_with("https://");
        // On https the cookie takes the `__Host-` prefix: browsers then refuse it unless it is
        // Secure, for this host only (no Domain) and for every path, so a sibling subdomain
        // cannot plant or shadow it.
        let cookie_name = if https {
            "__Host-portal_session"
        } else {
            "portal_session"
        };
        let session_layer = SessionManagerLayer::new(sessions.clone())
            .with_name(cookie_name)
            .with_path("/")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(https)
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
                config.auth.session_idle.as_secs() as i64,
            )));

        let write_limits = WriteLimits::new(
            &db,
            config.limits.tickets_per_hour_per_member,
            config.limits.replies_per_hour_per_member,
            config.limits.writes_per_hour_per_address,
        );
        let state = AppState {
            leptos_options: Arc::new(leptos_options.clone()),
            services: Arc::new(Services {
                assets: assets.clone(),
                jwt: JwtKeys::new(&jwt_secret, config.auth.jwt_ttl.as_secs() as i64),
                monday_probe: MondayProbe::new(config.readyz_cache),
                config,
                db,
                board,
                local_board,
                team_console,
                auth,
                tickets,
                live,
                board_events,
                notifier,
                write_limits,
                live_sockets: Arc::default(),
                sessions,
                shutdown: shutdown_rx,
            }),
        };

        let stylesheet = assets.stylesheet.clone();
        let mut router = http::routes()
            .merge(http::assets::router(&leptos_options))
            .leptos_routes(&state, generate_route_list(App), {
                let (options, stylesheet) = (leptos_options.clone(), stylesheet.clone());
                move || shell(options.clone(), stylesheet.clone())
            })
            .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
                move |options| shell(options, stylesheet.clone()),
            ));
        if team_console {
            router = router.merge(devtools::router(state.clone()));
        }
        let router = http::layered(router, state.clone(), session_layer);

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
        let served = crate::server::http::serve::serve(listener, router, async move {
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

/// How often kept-for-a-while rows (audit log, spent links, webhook receipts, expired
/// sessions) are pruned.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// How long sent notifications are kept (their unsubscribe links work that long).
const NOTIFICATIONS_KEPT: Duration = Duration::from_secs(90 * 24 * 3600);

/// Prunes what is kept only for a while, at start-up and every [`HOUSEKEEPING_EVERY`], so a
/// flood of failed sign-ins or webhooks cannot grow the database without bound.
fn spawn_housekeeping(
    auth: Arc<Auth>,
    notifier: Arc<Notifier>,
    board_events: Arc<BoardEvents>,
    cluster: Cluster,
    db: Db,
    audit_retention: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let sessions = DbSessionStore::new(db.clone(), auth.memory().clone());
    tokio::spawn(async move {
        loop {
            match auth.prune(audit_retention).await {
                Ok(0) => {}
                Ok(rows) => tracing::info!(rows, "pruned old audit rows and links"),
                Err(error) => tracing::warn!(%error, "could not prune the audit log"),
            }
            if let Err(error) = notifier.prune(NOTIFICATIONS_KEPT).await {
                tracing::warn!(%error, "could not prune sent notifications");
            }
            if let Err(error) = board_events.prune_receipts().await {
                tracing::warn!(%error, "could not prune webhook receipts");
            }
            if let Err(error) = sessions.delete_expired().await {
                tracing::warn!(%error, "could not delete expired sessions");
            }
            if let Err(error) = crate::server::auth::rate_limit::prune_shared(&db).await {
                tracing::warn!(%error, "could not prune shared rate limits");
            }
            if let Err(error) = crate::server::board::usage::prune(&db).await {
                tracing::warn!(%error, "could not prune monday's call counts");
            }
            if let Err(error) = cluster.prune().await {
                tracing::warn!(%error, "could not prune the cluster's messages");
            }
            tokio::select! {
                () = tokio::time::sleep(HOUSEKEEPING_EVERY) => {}
                _ = shutdown.changed() => return,
            }
        }
    });
}

/// Creates the data directory and opens the portal's database with its migrations applied.
pub async fn open_database(config: &Config) -> Result<Db, StartupError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    Db::connect(config.database_url.expose())
        .await
        .map_err(|source| StartupError::Database {
            url: config.database_url.to_string(),
            source,
        })
}

/// The ticket board: monday's when a token is configured, otherwise a local board started on
/// its own port (returned too, so the caller can stop it).
pub async fn connect_monday(
    config: &Config,
) -> Result<(TicketBoard, Option<LocalBoard>), StartupError> {
    if let Some(token) = &config.monday.token {
        let board = TicketBoard::new(
            &config.monday,
            config.monday.api_url.clone(),
            monday::Token::new(token.expose()),
        )?;
        return Ok((board, None));
    }
    let database = config.data_dir.join("local-board.db");
    let mut options = LocalBoardOptions::new(format!("sqlite://{}?mode=rwc", database.display()));
    options.listen = config.local_board.listen_addr;
    options.webhook_retry_interval = config.local_board.webhook_retry_interval;
    options.limits = config.local_board.plan.limits();
    let local = LocalBoard::start(options).await?;
    let url = local.url().await;
    tracing::info!(%url, "no MONDAY_API_TOKEN: using the local board");
    let board = TicketBoard::new(
        &config.monday,
        url,
        monday::Token::new(local.token().expose()),
    )?;
    Ok((board, Some(local)))
}

/// Fills in the secrets development may leave unset, so everything after start-up reads them
/// from the configuration: the JWT secret always, the webhook secret with the local board.
/// Each is generated once and kept under the data directory. Returns the JWT secret.
pub fn resolve_secrets(config: &mut Config) -> Result<Secret, StartupError> {
    let jwt_secret = match &config.auth.jwt_secret {
        Some(secret) => secret.clone(),
        None => kept_secret(config, "jwt_secret", 48)?,
    };
    config.auth.jwt_secret = Some(jwt_secret.clone());
    config.monday.webhook_secret = webhook_secret(config)?;
    Ok(jwt_secret)
}

/// The secret in the webhook URL: `MONDAY_WEBHOOK_SECRET`, or (except for a real board in
/// production) one generated once and kept under the data directory.
fn webhook_secret(config: &Config) -> Result<Option<Secret>, StartupError> {
    if let Some(secret) = &config.monday.webhook_secret {
        return Ok(Some(secret.clone()));
    }
    if config.mode == RunMode::Production && !config.uses_local_board() {
        return Ok(None);
    }
    kept_secret(config, "webhook_secret", 24).map(Some)
}

fn kept_secret(config: &Config, name: &str, length: usize) -> Result<Secret, StartupError> {
    let path = config.data_dir.join(name);
    load_or_create_secret(&path, length).map_err(|source| StartupError::DataDir {
        path: path.display().to_string(),
        source,
    })
}

/// Where monday should send webhooks, when the portal knows its public address and secret
/// (call [`resolve_secrets`] first).
pub fn webhook_url(config: &Config, bound: SocketAddr) -> Option<String> {
    let secret = config.monday.webhook_secret.as_ref()?;
    let base = if config.uses_local_board() {
        // The local board runs beside the portal and reaches it on loopback.
        let ip = if bound.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            bound.ip()
        };
        format!("http://{}", SocketAddr::new(ip, bound.port()))
    } else {
        config.public_url.clone()?
    };
    Some(board::setup::webhook_url(&base, secret.expose()))
}

/// Whether the console's routes exist at all; which requests they answer is decided per
/// request (`http::guard::devtools_allowed`), because a proxy on this machine makes every
/// request look local to the listener.
fn console_enabled(config: &Config, addr: SocketAddr) -> bool {
    match config.local_board.console {
        Some(true) => {
            tracing::warn!(
                "LOCAL_BOARD_CONSOLE=on (listening on {addr}): anyone who can reach the portal \
                 can act as the support team and read the demo inbox"
            );
            true
        }
        Some(false) => false,
        None => true,
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
    let Some(url) = webhook_url(&state.config, addr) else {
        return;
    };
    match board::setup::setup_board(&state.config, &state.board, &state.db, None, Some(&url)).await
    {
        Ok(report) => tracing::info!(
            created = report.webhooks_created.len(),
            "local board webhooks registered"
        ),
        Err(error) => tracing::error!(%error, "could not register the local board's webhooks"),
    }
}

/// Portals, members and magic links, for the server and the CLI alike.
pub fn build_auth(config: &Config, db: Db) -> Result<Auth, StartupError> {
    let mailer = Mailer::new(&config.mail, &config.data_dir)?;
    Ok(Auth::new(
        db,
        config.public_url().to_owned(),
        config.auth.magic_link_ttl,
        mailer,
        LinkLimits {
            per_email_and_address_per_hour: config.limits.link_requests_per_hour_per_email,
            per_email_per_hour: config.limits.link_requests_per_hour_per_email_total,
            per_address_per_hour: config.limits.link_requests_per_hour_per_address,
            failures_per_address_per_hour: config.limits.sign_in_failures_per_hour_per_address,
        },
    ))
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
