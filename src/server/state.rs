//! The state every handler and server function reaches: `AppState` is provided to Leptos as
//! context and to axum as router state.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::SqlitePool;

use super::config::Config;
use super::local_board::LocalBoard;
use super::monday::MondayClient;

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
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
