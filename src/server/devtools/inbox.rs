//! The demo inbox at `/local-board/mail`: mail the portal kept on disk because no SMTP server
//! is configured. It exists only beside the local board, so sign-in links never reach a page in
//! production.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{NotInUse, board, page};
use crate::server::html::escape;
use crate::server::http::state::AppState;

/// A line of a mail's text, escaped, with its web links clickable.
fn linked(line: &str) -> String {
    let mut out = String::new();
    for (n, word) in line.split(' ').enumerate() {
        if n > 0 {
            out.push(' ');
        }
        if word.starts_with("http://") || word.starts_with("https://") {
            let _ = write!(
                out,
                r#"<a class="break-all font-medium text-indigo-800 underline" href="{0}">{0}</a>"#,
                escape(word)
            );
        } else {
            out.push_str(&escape(word));
        }
    }
    out
}

/// The kept mails, newest first, with their links clickable.
pub(super) async fn demo_inbox(State(state): State<AppState>) -> Response {
    if board(&state).is_err() {
        return NotInUse.into_response();
    }
    let mails = state.auth.mailer().kept(50).await;
    let mut body = String::from(
        r#"<p class="text-sm text-slate-600">Mail the portal would have sent (no SMTP_URL is set), newest first.</p><ol class="space-y-4">"#,
    );
    if mails.is_empty() {
        body.push_str(r#"<li class="rounded-lg bg-white p-4 shadow-sm">No mail yet. Ask for a sign-in link on the <a class="underline" href="/login">login page</a>.</li>"#);
    }
    for (name, mail) in mails {
        let mut text = String::new();
        for line in mail.text.lines() {
            text.push_str(&linked(line));
            text.push('\n');
        }
        let _ = write!(
            body,
            r#"<li class="rounded-lg bg-white p-4 shadow-sm" data-mail="{name}">
<p class="text-sm text-slate-600">To <strong class="text-slate-900">{to}</strong></p>
<h2 class="font-semibold">{subject}</h2>
<div class="mt-2 whitespace-pre-wrap text-sm">{text}</div></li>"#,
            name = escape(&name),
            to = escape(&mail.to),
            subject = escape(&mail.subject),
        );
    }
    body.push_str("</ol>");
    page(&state, "Demo inbox", &body).into_response()
}
