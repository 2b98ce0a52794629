//! `/healthz` says the process answers; `/readyz` says whether it can do its job.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub database: Check,
    pub monday: Check,
}

#[derive(Serialize)]
pub struct Check {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    fn from_result<E: std::fmt::Display>(result: Result<(), E>) -> Self {
        match result {
            Ok(()) => Check {
                ok: true,
                error: None,
            },
            Err(err) => Check {
                ok: false,
                error: Some(err.to_string()),
            },
        }
    }
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (database, monday) = tokio::join!(
        sqlx::query("SELECT 1").execute(&state.db),
        state.monday.ping()
    );
    let database = Check::from_result(database.map(|_| ()));
    let monday = Check::from_result(monday);
    let ready = database.ok && monday.ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready,
            database,
            monday,
        }),
    )
}
