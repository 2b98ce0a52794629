//! `/healthz` says the process answers; `/readyz` says whether it can do its job; `/metrics`
//! gives counters for monitoring.

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

/// `/metrics` in Prometheus' text format, when `METRICS=on`.
pub async fn metrics(
    State(state): State<AppState>,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    if !state.config.metrics {
        return (
            StatusCode::NOT_FOUND,
            [("content-type", "text/plain")],
            String::new(),
        );
    }
    let waiting = state.tickets.waiting_in_outbox().await.unwrap_or(-1);
    let budget = state.board.client().budget().snapshot();
    let notifications = state.notifier.counts().await.unwrap_or_default();
    let body = format!(
        "# TYPE portal_monday_requests_total counter\nportal_monday_requests_total {}\n\
         # TYPE portal_monday_loads_total counter\nportal_monday_loads_total {}\n\
         # TYPE portal_live_sockets gauge\nportal_live_sockets {}\n\
         # TYPE portal_outbox_waiting gauge\nportal_outbox_waiting {}\n\
         # HELP portal_monday_calls_today monday calls today (UTC) as monday counts them\n\
         # TYPE portal_monday_calls_today gauge\nportal_monday_calls_today {}\n\
         # TYPE portal_monday_daily_limit gauge\nportal_monday_daily_limit {}\n\
         # TYPE portal_monday_calls_remaining gauge\nportal_monday_calls_remaining {}\n\
         # HELP portal_monday_day_spent 1 while monday says the day's calls are spent\n\
         # TYPE portal_monday_day_spent gauge\nportal_monday_day_spent {}\n\
         # HELP portal_notifications mails to members by state (collecting, waiting, sent, failed, dropped)\n\
         # TYPE portal_notifications gauge\n\
         portal_notifications{{state=\"collecting\"}} {}\n\
         portal_notifications{{state=\"waiting\"}} {}\n\
         portal_notifications{{state=\"sent\"}} {}\n\
         portal_notifications{{state=\"failed\"}} {}\n\
         portal_notifications{{state=\"dropped\"}} {}\n",
        state.board.requests_sent(),
        state.tickets.cache_loads(),
        state.live.connected(),
        waiting,
        budget.calls,
        budget.limit,
        budget.remaining,
        u8::from(budget.spent_until.is_some()),
        notifications.collecting,
        notifications.waiting,
        notifications.sent,
        notifications.failed,
        notifications.dropped,
    );
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        body,
    )
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (database, monday) = tokio::join!(state.db.ping(), state.monday_probe.check(&state.board));
    let database = Check::from_result(database);
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
