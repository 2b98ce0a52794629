//! Server functions for the notification settings page: what the member gets mailed.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::NotifyPrefs;

#[cfg(feature = "ssr")]
fn database(error: sqlx::Error) -> AppError {
    tracing::error!(%error, "notify: database error");
    AppError::Internal
}

/// The signed-in member's notification settings (their portal's default until they choose).
#[server]
pub async fn load_notify_prefs() -> Result<NotifyPrefs, AppError> {
    let signed = super::support::signed_in().await?;
    signed
        .state
        .notifier
        .prefs(&signed.member)
        .await
        .map_err(database)
}

/// Saves the member's choice. Works as a plain form post too.
#[server]
pub async fn save_notify_prefs(
    mode: String,
    #[server(default)] digest_hour: Option<String>,
    #[server(default)] utc_offset_minutes: Option<String>,
) -> Result<NotifyPrefs, AppError> {
    use super::support::{finish_plain_form, signed_in};
    use crate::model::NotifyMode;
    let result = async {
        let signed = signed_in().await?;
        let mode = NotifyMode::parse(&mode)
            .ok_or_else(|| AppError::invalid("mode", "Choose one of the options."))?;
        let hour = match digest_hour.as_deref().map(str::trim) {
            None | Some("") => 8,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|h| (0..24).contains(h))
                .ok_or_else(|| AppError::invalid("digest_hour", "Choose an hour of the day."))?,
        };
        let offset = match utc_offset_minutes.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|m| (-14 * 60..=14 * 60).contains(m))
                .ok_or_else(|| AppError::invalid("utc_offset_minutes", "Choose your time zone."))?,
        };
        let notifier = &signed.state.notifier;
        notifier
            .set_prefs(&signed.member, mode, hour, offset)
            .await
            .map_err(database)?;
        notifier.prefs(&signed.member).await.map_err(database)
    }
    .await;
    finish_plain_form(
        result,
        |_| "/settings/notifications?saved=1".to_owned(),
        "/settings/notifications",
    )
}
