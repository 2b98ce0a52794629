//! One-click unsubscribe (RFC 8058). Every notification carries `List-Unsubscribe` with this
//! URL and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: mail programs POST to it, and
//! only a POST unsubscribes. A GET (a person clicking the link, or a mail scanner fetching it)
//! shows a page with the button that POSTs, and changes nothing. The token in the URL is the
//! authority, so the POST is exempt from the same-origin rule (`guard::same_origin`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::state::AppState;
use crate::server::html::{escape, query_value};

pub const UNSUBSCRIBE_PATH: &str = "/notifications/unsubscribe";

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{title}</title></head>
<body><main id="main" style="max-width:36rem;margin:3rem auto;padding:0 1rem;font-family:system-ui,sans-serif;color:#0f172a;line-height:1.5">
<h1>{title}</h1>{body}</main></body></html>"#,
        title = escape(title),
    );
    (status, Html(html)).into_response()
}

const BUTTON: &str = "display:inline-block;background:#0f172a;color:#fff;border:0;padding:10px 18px;border-radius:6px;font-size:1rem;cursor:pointer";

/// `GET`: who the link stands for, and a button that unsubscribes. Changes nothing.
pub async fn confirm(State(state): State<AppState>, Query(query): Query<TokenQuery>) -> Response {
    match state.notifier.unsubscribe_target(&query.token).await {
        Ok(Some(member)) => page(
            StatusCode::OK,
            "Stop notification mails?",
            &format!(
                r#"<p>{email} will get no more mails about tickets from this portal. You can turn them on again on the <a href="/settings/notifications">notification settings</a> page.</p>
<form method="post" action="{path}?token={token}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" style="{BUTTON}">Unsubscribe</button></form>"#,
                email = escape(&member.email),
                path = UNSUBSCRIBE_PATH,
                token = escape(&query_value(&query.token)),
            ),
        ),
        Ok(None) => unusable(),
        Err(error) => {
            tracing::error!(%error, "unsubscribe: database error");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "<p>Something went wrong on our side.</p>",
            )
        }
    }
}

/// `POST` (the mail program's one click, or the button above): unsubscribes.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Response {
    match state.notifier.unsubscribe(&query.token).await {
        Ok(Some(member)) => {
            tracing::info!(portal = %member.portal_id, "a member unsubscribed from notification mails");
            page(
                StatusCode::OK,
                "You are unsubscribed",
                &format!(
                    r#"<p>{} will get no more notification mails. To get them again, choose on the <a href="/settings/notifications">notification settings</a> page.</p>"#,
                    escape(&member.email)
                ),
            )
        }
        Ok(None) => unusable(),
        Err(error) => {
            tracing::error!(%error, "unsubscribe: database error");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "<p>Something went wrong on our side.</p>",
            )
        }
    }
}

fn unusable() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        r#"<p>The unsubscribe link is not valid. Sign in and choose which mails you get on the <a href="/settings/notifications">notification settings</a> page.</p>"#,
    )
}
