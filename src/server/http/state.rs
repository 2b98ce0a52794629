//! The state every handler and server function reaches: `AppState` is provided to Leptos as
//! context and to axum as router state. Only the HTTP layer sees it; services get what they
//! need when they are built.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use monday_local::LocalBoard;

use super::assets::SiteAssets;
use super::limits::{SocketCounts, WriteLimits};
use super::probe::MondayProbe;
use crate::server::auth::Auth;
use crate::server::auth::jwt::JwtKeys;
use crate::server::auth::store::DbSessionStore;
use crate::server::board::TicketBoard;
use crate::server::board_events::BoardEvents;
use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::live_hub::LiveHub;
use crate::server::notify::Notifier;
use crate::server::tickets::TicketService;

/// Cloned for every middleware and handler that takes it (several times a request), so
/// everything in it is behind an `Arc`: `LeptosOptions` is a dozen reference-counted strings.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: Arc<LeptosOptions>,
    pub services: Arc<Services>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
}

pub struct Services {
    /// Resolved at start-up: the public URL and every secret are known here, once.
    pub config: Config,
    /// The site's file names pages link to.
    pub assets: SiteAssets,
    pub db: Db,
    pub board: TicketBoard,
    /// Present when no monday token is configured: the embedded board the client talks to.
    pub local_board: Option<LocalBoard>,
    /// Whether the local board's team console and demo inbox are served. They have no sign-in,
    /// so the demo hints that point at them (member addresses on the login page) follow them.
    pub team_console: bool,
    pub auth: Arc<Auth>,
    pub jwt: JwtKeys,
    pub tickets: Arc<TicketService>,
    pub live: Arc<LiveHub>,
    pub board_events: Arc<BoardEvents>,
    pub notifier: Arc<Notifier>,
    pub write_limits: WriteLimits,
    /// `/readyz`'s cached check of monday.
    pub monday_probe: MondayProbe,
    /// Open live sockets per session and per address, for their caps.
    pub live_sockets: Arc<SocketCounts>,
    pub sessions: DbSessionStore,
    /// Flips to true when the server is stopping; background tasks and sockets watch it.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
