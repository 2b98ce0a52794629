//! The state every handler and server function reaches: `AppState` is provided to Leptos as
//! context and to axum as router state.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::SqlitePool;
use tower_sessions_sqlx_store::SqliteStore;

use super::auth::Auth;
use super::auth::jwt::JwtKeys;
use super::config::Config;
use super::guard::WriteLimits;
use super::live::LiveHub;
use super::local_board::LocalBoard;
use super::monday::MondayClient;
use super::tickets::TicketService;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Arc<Services>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Services {
    pub config: Config,
    /// The base URL clients reach the portal on, without a trailing slash.
    pub public_url: String,
    pub db: SqlitePool,
    pub monday: MondayClient,
    /// Present when no monday token is configured: the embedded board the client talks to.
    pub local_board: Option<LocalBoard>,
    /// Whether the local board's team console and demo inbox are served. They have no sign-in,
    /// so the demo hints that point at them (member addresses on the login page) follow them.
    pub team_console: bool,
    pub auth: Arc<Auth>,
    pub jwt: JwtKeys,
    pub tickets: Arc<TicketService>,
    pub live: Arc<LiveHub>,
    pub write_limits: WriteLimits,
    pub sessions: SqliteStore,
    /// The secret in the webhook URL (`/webhooks/monday/<secret>`), when one is configured.
    pub webhook_secret: Option<super::config::Secret>,
    /// Flips to true when the server is stopping; background tasks and sockets watch it.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
