//! Server functions for the member's language and time zone (the preferences page).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::LanguagePrefs;

/// The member's language and zone, what the defaults are, and the zones to choose from.
#[server]
pub async fn load_language_prefs() -> Result<LanguagePrefs, AppError> {
    use crate::i18n::I18nLocaleTrait;
    let signed = super::support::signed_in().await?;
    let browser_zone = crate::i18n::prefs().browser_zone;
    Ok(LanguagePrefs {
        language: signed.access.locale.map(|l| l.as_str().to_owned()),
        zone: signed.access.time_zone.clone(),
        portal_language: signed.access.portal_language.map(|l| l.as_str().to_owned()),
        browser_zone,
        zones: crate::i18n::time::zone_names(),
    })
}

/// Saves the member's language and zone (empty: the default). A plain form post: the page is
/// loaded again, in the new language.
#[server]
pub async fn save_language_prefs(
    #[server(default)] language: Option<String>,
    #[server(default)] zone: Option<String>,
) -> Result<(), AppError> {
    use super::support::{finish_plain_form, signed_in};
    let result = async {
        let signed = signed_in().await?;
        let locale = match language.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(code) => Some(crate::i18n::locale_named(code).ok_or_else(|| {
                AppError::invalid("language", "Choose one of the listed languages.")
            })?),
        };
        let zone = match zone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) if crate::i18n::time::zone(name).is_some() => Some(name.to_owned()),
            Some(_) => {
                return Err(AppError::invalid(
                    "zone",
                    "Choose a time zone from the list, such as Europe/Berlin.",
                ));
            }
        };
        signed
            .state
            .auth
            .set_preferences(&signed.member, locale, zone.as_deref())
            .await?;
        Ok(())
    }
    .await;
    finish_plain_form(
        result,
        |_| "/settings/notifications?saved=language".to_owned(),
        "/settings/notifications",
    )
}
