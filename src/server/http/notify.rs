//! One-click unsubscribe (RFC 8058). Every notification carries `List-Unsubscribe` with this
//! URL and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: mail programs POST to it, and
//! only a POST unsubscribes. A GET (a person clicking the link, or a mail scanner fetching it)
//! shows a page with the button that POSTs, and changes nothing. The token in the URL is the
//! authority, so the POST is exempt from the same-origin rule (`guard::same_origin`).

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::state::AppState;
use crate::i18n::{I18nLocaleTrait, Locale, Prefs, direction, td_string};
use crate::server::auth::Member;
use crate::server::html::{escape, query_value};

pub const UNSUBSCRIBE_PATH: &str = "/notifications/unsubscribe";

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn page(l: Locale, status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="{lang}" dir="{dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{title}</title></head>
<body><main id="main" style="max-width:36rem;margin:3rem auto;padding:0 1rem;font-family:system-ui,sans-serif;color:#0f172a;line-height:1.5">
<h1>{title}</h1>{body}<p><a href="/settings/notifications">{preferences}</a></p></main></body></html>"#,
        lang = l.as_str(),
        dir = direction(l),
        title = escape(title),
        preferences = escape(td_string!(l, settings.unsubscribe.preferences_link)),
    );
    (status, Html(html)).into_response()
}

const BUTTON: &str = "display:inline-block;background:#0f172a;color:#fff;border:0;padding:10px 18px;border-radius:6px;font-size:1rem;cursor:pointer";

/// The page's language: the member's (or their portal's) when the link names one, else the
/// browser's.
async fn language(
    state: &AppState,
    member: Option<&Member>,
    prefs: Option<Extension<Prefs>>,
) -> Locale {
    let request = prefs
        .map(|Extension(prefs)| prefs.locale)
        .unwrap_or_default();
    let Some(member) = member else {
        return request;
    };
    match state.auth.membership(member).await {
        Ok(Some(membership)) => membership
            .locale
            .or(membership.portal_language)
            .unwrap_or(request),
        _ => request,
    }
}

fn try_again(l: Locale) -> Response {
    page(
        l,
        StatusCode::SERVICE_UNAVAILABLE,
        td_string!(l, settings.unsubscribe.try_again_title),
        &format!(
            "<p>{}</p>",
            escape(td_string!(l, settings.unsubscribe.try_again_body))
        ),
    )
}

/// `GET`: who the link stands for, and a button that unsubscribes. Changes nothing.
pub async fn confirm(
    State(state): State<AppState>,
    prefs: Option<Extension<Prefs>>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let target = state.notifier.unsubscribe_target(&query.token).await;
    let l = language(&state, target.as_ref().ok().and_then(Option::as_ref), prefs).await;
    match target {
        Ok(Some(member)) => page(
            l,
            StatusCode::OK,
            td_string!(l, settings.unsubscribe.confirm_title),
            &format!(
                r#"<p>{text}</p>
<form method="post" action="{path}?token={token}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" style="{BUTTON}">{button}</button></form>"#,
                text = escape(&td_string!(
                    l,
                    settings.unsubscribe.confirm_body,
                    email = &member.email
                )),
                button = escape(td_string!(l, settings.unsubscribe.button)),
                path = UNSUBSCRIBE_PATH,
                token = escape(&query_value(&query.token)),
            ),
        ),
        Ok(None) => unusable(l),
        Err(error) => {
            tracing::error!(%error, "unsubscribe: database error");
            try_again(l)
        }
    }
}

/// `POST` (the mail program's one click, or the button above): unsubscribes.
pub async fn unsubscribe(
    State(state): State<AppState>,
    prefs: Option<Extension<Prefs>>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let done = state.notifier.unsubscribe(&query.token).await;
    let l = language(&state, done.as_ref().ok().and_then(Option::as_ref), prefs).await;
    match done {
        Ok(Some(member)) => {
            tracing::info!(portal = %member.portal_id, "a member unsubscribed from notification mails");
            page(
                l,
                StatusCode::OK,
                td_string!(l, settings.unsubscribe.done_title),
                &format!(
                    "<p>{}</p>",
                    escape(&td_string!(
                        l,
                        settings.unsubscribe.done_body,
                        email = &member.email
                    ))
                ),
            )
        }
        Ok(None) => unusable(l),
        Err(error) => {
            tracing::error!(%error, "unsubscribe: database error");
            try_again(l)
        }
    }
}

fn unusable(l: Locale) -> Response {
    page(
        l,
        StatusCode::NOT_FOUND,
        td_string!(l, settings.unsubscribe.unusable_title),
        &format!(
            "<p>{}</p>",
            escape(td_string!(l, settings.unsubscribe.unusable_body))
        ),
    )
}
