//! The team console at `/local-board`: the board as a table where a person plays the support
//! team. Every action goes through the local board's own store operations (the ones its GraphQL
//! API uses), so webhooks fire exactly as they would from monday. Plain HTML forms: it works
//! without JavaScript.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use monday_local::store::{API_USER_ID, BoardError, BoardState, Item, ItemState, Update};
use monday_local::{Failure, Faults};
use serde::Deserialize;
use serde_json::json;

use super::{board, page};
use crate::server::html::{escape, query_value as urlencode};
use crate::server::http::state::AppState;
use crate::server::tickets::conversation;

fn status_labels(snap: &BoardState, board_id: u64, column: &str) -> Vec<String> {
    snap.board(board_id)
        .and_then(|b| {
            b.column(column)
                .map(|c| c.labels.values().cloned().collect())
        })
        .unwrap_or_default()
}

fn text_of(snap: &BoardState, item: &Item, column: &str) -> String {
    snap.board(item.board_id)
        .and_then(|b| b.column(column))
        .and_then(|c| BoardState::column_text(c, item.values.get(&c.id)))
        .unwrap_or_default()
}

fn options(labels: &[String], selected: &str) -> String {
    labels
        .iter()
        .map(|l| {
            format!(
                r#"<option{}>{}</option>"#,
                if l == selected { " selected" } else { "" },
                escape(l)
            )
        })
        .collect()
}

fn team_select(snap: &BoardState, id: &str) -> String {
    let mut html = format!(
        r#"<label class="text-sm" for="{id}">Acting as</label>
<select id="{id}" name="user_id" class="rounded border-slate-300 border px-2 py-1 text-sm">"#
    );
    for user in snap.users.values().filter(|u| u.id != API_USER_ID) {
        let _ = write!(
            html,
            r#"<option value="{}">{}</option>"#,
            user.id,
            escape(&user.name)
        );
    }
    html.push_str("</select>");
    html
}

const BUTTON: &str = "rounded bg-slate-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 focus-visible:ring-slate-900";
const INPUT: &str = "rounded border border-slate-300 px-2 py-1 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-slate-900";

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

fn notice_html(notice: &Notice) -> String {
    match (&notice.error, &notice.done) {
        (Some(error), _) => format!(
            r#"<p role="alert" class="rounded border border-red-300 bg-red-50 px-3 py-2 text-red-800">{}</p>"#,
            escape(error)
        ),
        (None, Some(done)) => format!(
            r#"<p role="status" class="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-emerald-800">{}</p>"#,
            escape(done)
        ),
        _ => String::new(),
    }
}

async fn board_page(State(state): State<AppState>, Query(notice): Query<Notice>) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let snap = board.store().snapshot();
    let board_id = board.board_id();
    let statuses = status_labels(&snap, board_id, "status");
    let priorities = status_labels(&snap, board_id, "priority");
    let faults = board.faults();
    let mut body = notice_html(&notice);

    let fault_name = match faults.failure {
        None if faults.latency_ms > 0 => format!("slow ({} ms per request)", faults.latency_ms),
        None => "answering normally".to_owned(),
        Some(Failure::Down) => "down (connections refused)".to_owned(),
        Some(Failure::RateLimited { .. }) => {
            "refusing requests: minute rate limit (429 MINUTE_RATE_LIMIT_EXCEEDED)".to_owned()
        }
        Some(Failure::ConcurrencyExceeded { .. }) => {
            "refusing requests: concurrency limit (429 MAX_CONCURRENCY_EXCEEDED)".to_owned()
        }
        Some(Failure::DailyLimitExceeded { .. }) => {
            "refusing requests: daily limit (429 DAILY_LIMIT_EXCEEDED)".to_owned()
        }
        Some(Failure::ComplexityExhausted { .. }) => "out of complexity budget".to_owned(),
        Some(Failure::SubgraphThrottle) => {
            "throttling every other request (200 with tooManyRequests)".to_owned()
        }
        Some(Failure::PartialSuccess) => {
            "answering writes with their result and an error (partial success)".to_owned()
        }
        Some(Failure::LostResponse) => "doing writes, then losing the answer (HTTP 500)".to_owned(),
        Some(Failure::ServerError) => "answering HTTP 500".to_owned(),
        Some(Failure::MalformedJson) => "answering broken JSON".to_owned(),
        Some(Failure::ExpiredCursor) => "expiring cursors".to_owned(),
    };
    let stats = board.stats();
    let limits = board.limits();
    let _ = write!(
        body,
        r#"<section aria-labelledby="sim" class="rounded-lg bg-white p-4 shadow-sm">
<h2 id="sim" class="font-semibold">Simulate monday</h2>
<p class="text-sm text-slate-600">The board's API at <code>{url}</code> is <strong data-testid="fault">{fault}</strong>.
Calls today: <strong data-testid="calls-today">{calls:.1}</strong> of {daily} (a refused call counts a tenth); {minute} a minute; {concurrency} at once.</p>
<form method="post" action="/local-board/faults" class="mt-2 flex flex-wrap gap-2">
<button class="{BUTTON}" name="mode" value="normal">Normal</button>
<button class="{BUTTON}" name="mode" value="slow">Slow (2 s)</button>
<button class="{BUTTON}" name="mode" value="rate_limited">Minute limit</button>
<button class="{BUTTON}" name="mode" value="concurrency">Concurrency limit</button>
<button class="{BUTTON}" name="mode" value="spend_day">Spend today's calls</button>
<button class="{BUTTON}" name="mode" value="new_day">New day</button>
<button class="{BUTTON}" name="mode" value="throttle">Subgraph throttle</button>
<button class="{BUTTON}" name="mode" value="partial">Partial success</button>
<button class="{BUTTON}" name="mode" value="lost">Lose answers</button>
<button class="{BUTTON}" name="mode" value="server_error">HTTP 500</button>
<button class="{BUTTON}" name="mode" value="down">Down</button>
</form>
<form method="post" action="/local-board/plan" class="mt-2 flex flex-wrap items-end gap-2">
<div class="flex flex-col gap-1"><label for="plan" class="text-sm">monday plan (its limits)</label>
<select id="plan" name="plan" class="{INPUT}"><option value="free">Free (200 calls a day)</option><option value="standard" selected>Standard (1,000 a day)</option><option value="pro">Pro (10,000 a day)</option><option value="enterprise">Enterprise (25,000 a day)</option></select></div>
<button class="{BUTTON}">Apply plan</button>
</form>
</section>"#,
        url = escape(&board.url().await),
        fault = escape(&fault_name),
        calls = stats.daily_call_tenths as f64 / 10.0,
        daily = limits.daily_calls,
        minute = limits.minute_calls,
        concurrency = limits.concurrency,
    );

    let _ = write!(
        body,
        r#"<section aria-labelledby="new" class="rounded-lg bg-white p-4 shadow-sm">
<h2 id="new" class="font-semibold">New item for a portal</h2>
<form method="post" action="/local-board/items" class="mt-2 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
<div class="flex flex-col gap-1"><label for="new-portal" class="text-sm">Portal ID</label><input id="new-portal" name="portal_id" required class="{INPUT}" value="demo"></div>
<div class="flex flex-col gap-1"><label for="new-title" class="text-sm">Title</label><input id="new-title" name="title" required maxlength="255" class="{INPUT}"></div>
<div class="flex flex-col gap-1"><label for="new-email" class="text-sm">Client email</label><input id="new-email" name="client_email" type="email" class="{INPUT}"></div>
<div class="flex flex-col gap-1 sm:col-span-2"><label for="new-description" class="text-sm">Description</label><textarea id="new-description" name="description" rows="2" class="{INPUT}"></textarea></div>
<div class="flex flex-col gap-1"><label for="new-priority" class="text-sm">Priority</label><select id="new-priority" name="priority" class="{INPUT}">{priority_options}</select></div>
<div class="flex items-end gap-2">{team}<button class="{BUTTON}">Create item</button></div>
</form>
</section>"#,
        priority_options = options(&priorities, "Medium"),
        team = team_select(&snap, "new-user"),
    );

    let mut items: Vec<_> = snap
        .items
        .values()
        .filter(|i| i.board_id == board_id && i.state == ItemState::Active)
        .collect();
    items.sort_by_key(|item| std::cmp::Reverse(item.id));
    let _ = write!(
        body,
        r#"<section aria-labelledby="items" class="rounded-lg bg-white shadow-sm">
<h2 id="items" class="px-4 pt-4 font-semibold">Items ({count})</h2>
<div class="overflow-x-auto">
<table class="mt-2 w-full text-left text-sm">
<thead class="bg-slate-50 text-slate-600"><tr>
<th scope="col" class="px-4 py-2">Item</th><th scope="col" class="px-4 py-2">Portal</th>
<th scope="col" class="px-4 py-2">Status</th><th scope="col" class="px-4 py-2">Priority</th>
<th scope="col" class="px-4 py-2">Updated</th></tr></thead><tbody>"#,
        count = items.len()
    );
    for item in items {
        let status = text_of(&snap, item, "status");
        let priority = text_of(&snap, item, "priority");
        let _ = write!(
            body,
            r#"<tr class="border-t border-slate-100" data-item-id="{id}">
<td class="px-4 py-2"><a class="font-medium text-slate-900 underline-offset-4 hover:underline" href="/local-board/items/{id}">{name}</a><div class="text-xs text-slate-500">#{id}</div></td>
<td class="px-4 py-2">{portal}</td>
<td class="px-4 py-2"><form method="post" action="/local-board/items/{id}/columns" class="flex gap-1">
<label class="sr-only" for="status-{id}">Status of {name}</label>
<select id="status-{id}" name="status" class="{INPUT}">{status_options}</select>
<input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}">Set<span class="sr-only"> status of {name}</span></button></form></td>
<td class="px-4 py-2"><form method="post" action="/local-board/items/{id}/columns" class="flex gap-1">
<label class="sr-only" for="priority-{id}">Priority of {name}</label>
<select id="priority-{id}" name="priority" class="{INPUT}">{priority_options}</select>
<input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}">Set<span class="sr-only"> priority of {name}</span></button></form></td>
<td class="px-4 py-2 text-slate-500">{updated}</td></tr>"#,
            id = item.id,
            name = escape(&item.name),
            portal = escape(&text_of(&snap, item, "portal_id")),
            status_options = options(&statuses, &status),
            priority_options = options(&priorities, &priority),
            user = default_team_member(&snap),
            updated = escape(&crate::model::exact_time(&item.updated_at)),
        );
    }
    body.push_str("</tbody></table></div></section>");

    // monday keeps archived and deleted items for 30 days; restoring one fires item_restored.
    let mut gone: Vec<_> = snap
        .items
        .values()
        .filter(|i| i.board_id == board_id && i.state != ItemState::Active)
        .collect();
    gone.sort_by_key(|item| std::cmp::Reverse(item.id));
    if !gone.is_empty() {
        let _ = write!(
            body,
            r#"<section aria-labelledby="gone" class="rounded-lg bg-white p-4 shadow-sm">
<h2 id="gone" class="font-semibold">Archived and deleted ({count})</h2><ul class="mt-2 space-y-2 text-sm">"#,
            count = gone.len()
        );
        for item in gone {
            let _ = write!(
                body,
                r#"<li class="flex items-center gap-3" data-gone-item-id="{id}"><span>{name} <span class="text-slate-500">#{id} · {state}</span></span>
<form method="post" action="/local-board/items/{id}/restore"><input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}">Restore<span class="sr-only"> {name}</span></button></form></li>"#,
                id = item.id,
                name = escape(&item.name),
                state = item.state.as_str(),
                user = default_team_member(&snap),
            );
        }
        body.push_str("</ul></section>");
    }
    page(&state, "Board", &body).into_response()
}

fn default_team_member(snap: &BoardState) -> u64 {
    snap.users
        .keys()
        .copied()
        .find(|id| *id != API_USER_ID)
        .unwrap_or(API_USER_ID)
}

async fn item_page(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Query(notice): Query<Notice>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let snap = board.store().snapshot();
    let Some(item) = snap.items.get(&id).filter(|i| i.state == ItemState::Active) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            page(
                &state,
                "Item not found",
                "<p>This item does not exist or was removed.</p>",
            ),
        )
            .into_response();
    };
    let statuses = status_labels(&snap, item.board_id, "status");
    let priorities = status_labels(&snap, item.board_id, "priority");
    let mut body = notice_html(&notice);
    let _ = write!(
        body,
        r#"<p><a class="underline" href="/local-board">← Back to the board</a></p>
<section class="rounded-lg bg-white p-4 shadow-sm space-y-2" aria-labelledby="fields">
<h2 id="fields" class="font-semibold">{name}</h2>
<dl class="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
<dt class="text-slate-500">Item id</dt><dd>{id}</dd>
<dt class="text-slate-500">Portal</dt><dd>{portal}</dd>
<dt class="text-slate-500">Client email</dt><dd>{email}</dd>
<dt class="text-slate-500">Status</dt><dd data-testid="item-status">{status}</dd>
<dt class="text-slate-500">Priority</dt><dd>{priority}</dd>
<dt class="text-slate-500">Client rating</dt><dd data-testid="item-rating">{rating}</dd>
<dt class="text-slate-500">Description</dt><dd class="whitespace-pre-wrap">{description}</dd>
</dl>
<form method="post" action="/local-board/items/{id}/columns" class="flex flex-wrap items-end gap-2 pt-2">
<div class="flex flex-col gap-1"><label for="rename" class="text-sm">Name</label><input id="rename" name="name" value="{name}" class="{INPUT}"></div>
<div class="flex flex-col gap-1"><label for="status" class="text-sm">Status</label><select id="status" name="status" class="{INPUT}">{status_options}</select></div>
<div class="flex flex-col gap-1"><label for="priority" class="text-sm">Priority</label><select id="priority" name="priority" class="{INPUT}">{priority_options}</select></div>
{team}<button class="{BUTTON}">Save changes</button>
</form>
</section>"#,
        id = item.id,
        name = escape(&item.name),
        portal = escape(&text_of(&snap, item, "portal_id")),
        email = escape(&text_of(&snap, item, "client_email")),
        status = escape(&text_of(&snap, item, "status")),
        priority = escape(&text_of(&snap, item, "priority")),
        rating = escape(&text_of(&snap, item, "rating")),
        description = escape(&text_of(&snap, item, "description")),
        status_options = options(&statuses, &text_of(&snap, item, "status")),
        priority_options = options(&priorities, &text_of(&snap, item, "priority")),
        team = team_select(&snap, "columns-user"),
    );

    body.push_str(&notifications_html(&state, item.id).await);
    let markers = state.tickets.markers();
    let _ = write!(
        body,
        r#"<section class="rounded-lg bg-white p-4 shadow-sm space-y-3" aria-labelledby="updates">
<h2 id="updates" class="font-semibold">Updates</h2>
<p class="text-sm text-slate-600">Clients see messages written through the portal, team updates that start with <code>{marker}</code>, and replies in the thread of a client's message (or of a public update) unless they start with <code>{internal}</code>. Everything else is an internal note.</p>
<form method="post" action="/local-board/items/{id}/updates" enctype="multipart/form-data" class="space-y-2">
<label for="update-body" class="text-sm">Message</label>
<textarea id="update-body" name="body" rows="3" required class="{INPUT} w-full"></textarea>
<label for="update-file" class="block text-sm">Attach a file (optional; added to the update after it is posted, as through monday's API)</label>
<input id="update-file" name="file" type="file" class="block text-sm">
<div class="flex flex-wrap items-center gap-2">{team}
<button class="{BUTTON}" name="visibility" value="public">Reply to client</button>
<button class="{BUTTON}" name="visibility" value="internal">Add internal note</button></div>
</form><ol class="space-y-3" data-testid="updates">"#,
        id = item.id,
        marker = escape(&markers.public),
        internal = escape(&markers.internal),
        team = team_select(&snap, "update-user"),
    );
    let user = default_team_member(&snap);
    for update in snap.item_updates(item.id) {
        let text = monday_local::graphql::html_to_text(&update.body);
        let from_portal = update.creator_id == API_USER_ID;
        let public = !from_portal && conversation::reply_is_public(&text, false, markers);
        let kind = if from_portal {
            "from the portal"
        } else if public {
            "public reply"
        } else {
            "internal note"
        };
        // The client takes part in the thread of its own messages and of public updates.
        let thread_open = from_portal || public;
        body.push_str(&message_html(&snap, board, &update, kind, user));
        body.push_str(r#"<ol class="ml-6 mt-2 space-y-2 border-l-2 border-slate-200 pl-3">"#);
        for reply in snap.replies(update.id) {
            let text = monday_local::graphql::html_to_text(&reply.body);
            let kind = if reply.creator_id == API_USER_ID {
                "from the portal"
            } else if conversation::reply_is_public(&text, thread_open, markers) {
                "public reply"
            } else {
                "internal note"
            };
            body.push_str(&message_html(&snap, board, &reply, kind, user));
            body.push_str("</li>");
        }
        let _ = write!(
            body,
            r#"</ol>
<form method="post" action="/local-board/items/{item}/updates/{parent}/replies" class="mt-2 flex flex-wrap items-end gap-2">
<label class="sr-only" for="reply-{parent}">Reply in the thread of {parent}</label>
<textarea id="reply-{parent}" name="body" rows="1" required class="{INPUT} min-w-64 flex-1" placeholder="Reply in this thread"></textarea>
<input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}" name="visibility" value="thread">Reply</button>
<button class="{BUTTON}" name="visibility" value="internal">Reply internally</button>
</form></li>"#,
            item = item.id,
            parent = update.id,
        );
    }
    let _ = write!(
        body,
        r#"</ol></section>
<section class="rounded-lg bg-white p-4 shadow-sm" aria-labelledby="danger">
<h2 id="danger" class="font-semibold">Archive or delete</h2>
<form method="post" action="/local-board/items/{id}/state" class="mt-2 flex gap-2">
<input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}" name="state" value="archived">Archive item</button>
<button class="{BUTTON}" name="state" value="deleted">Delete item</button>
</form></section>"#,
        id = item.id,
        user = default_team_member(&snap),
    );
    page(&state, &item.name, &body).into_response()
}

/// Which changes of this item produced a notification mail, to whom, and how far it got.
async fn notifications_html(state: &AppState, item_id: u64) -> String {
    let log = state
        .notifier
        .ticket_log(&item_id.to_string())
        .await
        .unwrap_or_default();
    let mut html = String::from(
        r#"<section class="rounded-lg bg-white p-4 shadow-sm" aria-labelledby="mails"><h2 id="mails" class="font-semibold">Notification mails</h2>"#,
    );
    if log.is_empty() {
        html.push_str(r#"<p class="text-sm text-slate-600">No change of this item has produced a mail yet (reload after a change: webhooks take a moment).</p>"#);
    } else {
        html.push_str(r#"<ul class="mt-2 space-y-1 text-sm" data-testid="notifications">"#);
        for entry in log {
            let what = match entry.kind.as_str() {
                "team_reply" => "a team reply",
                "status" => "a status change",
                "received" => "the ticket reaching the team",
                "refused" => "a refusal",
                _ => "a change",
            };
            let state = match entry.state.as_str() {
                "collecting" => "waiting for more changes (one mail per window)".to_owned(),
                "waiting" => format!(
                    "waiting to be sent{}",
                    entry
                        .last_error
                        .map(|e| format!(" (last attempt: {e})"))
                        .unwrap_or_default()
                ),
                "sent" => "sent".to_owned(),
                "failed" => "refused by the mail server".to_owned(),
                _ => "not sent (unsubscribed or nothing left to tell)".to_owned(),
            };
            let _ = write!(
                html,
                "<li>Mail to <strong>{}</strong> about {what}: {}</li>",
                escape(&entry.email),
                escape(&state)
            );
        }
        html.push_str("</ul>");
    }
    html.push_str(r#"<p class="mt-2 text-sm"><a class="underline" href="/local-board/mail">Open the demo inbox</a></p></section>"#);
    html
}

/// One message in the console: who, when, whether the client sees it, the text, and the
/// team's edit and delete. Leaves the `<li>` open for its thread.
/// The files on a message, each linked through its public URL (as monday's own UI shows them).
fn files_html(snap: &BoardState, board: &monday_local::LocalBoard, update_id: u64) -> String {
    let files = snap.update_assets(update_id);
    if files.is_empty() {
        return String::new();
    }
    let items: String = files
        .iter()
        .map(|asset| {
            let href = board.public_file_url(asset.id);
            format!(
                r#"<li data-testid="console-file"><a class="underline" href="{href}">{name}</a> <span class="text-slate-500">({size})</span></li>"#,
                href = escape(&href),
                name = escape(&asset.name),
                size = crate::model::human_size(asset.file_size),
            )
        })
        .collect();
    format!(r#"<ul class="mt-1 space-y-1 text-sm" aria-label="Files">{items}</ul>"#)
}

fn message_html(
    snap: &BoardState,
    board: &monday_local::LocalBoard,
    update: &Update,
    kind: &str,
    user: u64,
) -> String {
    let author = snap
        .user(update.creator_id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "Unknown".into());
    let text = monday_local::graphql::html_to_text(&update.body);
    let edited = if update.edited_at.is_some() {
        " · edited"
    } else {
        ""
    };
    format!(
        r#"<li class="rounded border border-slate-200 p-3" data-update-id="{id}"><div class="text-xs text-slate-500">{author} · {at}{edited} · <strong>{kind}</strong></div><div class="mt-1 whitespace-pre-wrap text-sm" data-testid="update-text">{text}</div>{files}
<details class="mt-1 text-sm"><summary class="cursor-pointer text-slate-600">Edit or delete</summary>
<form method="post" action="/local-board/items/{item}/updates/{id}/edit" class="mt-1 flex flex-wrap items-end gap-2">
<label class="sr-only" for="edit-{id}">New text of {id}</label>
<textarea id="edit-{id}" name="body" rows="2" required class="{INPUT} min-w-64 flex-1" placeholder="The new text (replaces the message)"></textarea>
<input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}">Save edit</button>
</form>
<form method="post" action="/local-board/items/{item}/updates/{id}/delete" class="mt-1">
<input type="hidden" name="user_id" value="{user}">
<button class="{BUTTON}">Delete</button>
</form></details>"#,
        id = update.id,
        item = update.item_id,
        author = escape(&author),
        at = escape(&crate::model::exact_time(&update.created_at)),
        text = escape(&text),
        files = files_html(snap, board, update.id),
    )
}

/// Plain text typed in the console as monday's update HTML: one paragraph a line.
fn text_html(text: &str) -> String {
    text.lines()
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect()
}

fn back_to(path: &str, result: Result<String, BoardError>) -> Response {
    let query = match result {
        Ok(done) => format!("done={}", urlencode(&done)),
        Err(error) => format!("error={}", urlencode(&error.message)),
    };
    Redirect::to(&format!("{path}?{query}")).into_response()
}

/// The console's routes: the board, an item, and the team's actions on them.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/local-board", get(board_page))
        .route("/local-board/items", post(create_item))
        .route("/local-board/items/{id}", get(item_page))
        .route("/local-board/items/{id}/columns", post(change_columns))
        .route(
            "/local-board/items/{id}/updates",
            post(add_update).layer(axum::extract::DefaultBodyLimit::max(
                CONSOLE_MAX_FILE_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/local-board/items/{id}/updates/{update}/replies",
            post(add_reply),
        )
        .route(
            "/local-board/items/{id}/updates/{update}/edit",
            post(edit_update),
        )
        .route(
            "/local-board/items/{id}/updates/{update}/delete",
            post(delete_update),
        )
        .route("/local-board/items/{id}/restore", post(restore_item))
        .route("/local-board/items/{id}/state", post(change_state))
        .route("/local-board/faults", post(set_faults))
        .route("/local-board/plan", post(set_plan))
}

#[derive(Deserialize)]
struct NewItemForm {
    portal_id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    client_email: String,
    priority: String,
    user_id: u64,
}

async fn create_item(State(state): State<AppState>, Form(form): Form<NewItemForm>) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let board_id = board.board_id();
    let mut values = json!({
        "description": {"text": form.description},
        "portal_id": form.portal_id.trim(),
        "status": {"label": "Open"},
        "priority": {"label": form.priority},
    });
    if !form.client_email.trim().is_empty() {
        values["client_email"] =
            json!({"email": form.client_email.trim(), "text": form.client_email.trim()});
    }
    let result = board
        .store()
        .mutate(|txn| {
            txn.create_item(
                board_id,
                form.title.trim(),
                Some(&values),
                false,
                form.user_id,
                None,
            )
        })
        .await
        .map(|item| format!("Created item #{}", item.id));
    back_to("/local-board", result)
}

#[derive(Deserialize)]
struct ColumnsForm {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    user_id: u64,
}

async fn change_columns(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    headers: axum::http::HeaderMap,
    Form(form): Form<ColumnsForm>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let board_id = board.board_id();
    let mut values = serde_json::Map::new();
    if let Some(name) = form.name.filter(|n| !n.trim().is_empty()) {
        values.insert("name".into(), json!(name.trim()));
    }
    if let Some(status) = form.status {
        values.insert("status".into(), json!({ "label": status }));
    }
    if let Some(priority) = form.priority {
        values.insert("priority".into(), json!({ "label": priority }));
    }
    let values = serde_json::Value::Object(values);
    let result = board
        .store()
        .mutate(|txn| txn.change_column_values(board_id, id, &values, false, form.user_id))
        .await
        .map(|item| format!("Saved {}", item.name));
    back_to(&return_path(&headers, id), result)
}

/// Sends a form back where it came from: the table or the item page.
fn return_path(headers: &axum::http::HeaderMap, id: u64) -> String {
    let from_item_page = headers
        .get("referer")
        .and_then(|r| r.to_str().ok())
        .is_some_and(|r| r.contains(&format!("/local-board/items/{id}")));
    if from_item_page {
        format!("/local-board/items/{id}")
    } else {
        "/local-board".to_owned()
    }
}

/// The largest file the console attaches (the portal's own default limit).
const CONSOLE_MAX_FILE_BYTES: usize = 25 * 1024 * 1024;

/// "Reply to client" or "Add internal note", with an optional file. The file is added to the
/// update once it is posted, as a program using monday's API does it (`create_update`, then
/// `add_file_to_update`): the portal's webhook for the update comes before the file exists.
async fn add_update(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let (mut body, mut visibility, mut user_id, mut file) = (
        String::new(),
        String::new(),
        0u64,
        None::<(String, Vec<u8>)>,
    );
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return back_to(
                    &format!("/local-board/items/{id}"),
                    Err(BoardError::new("InvalidRequest", error.body_text())),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let Ok(bytes) = field.bytes().await else {
            return back_to(
                &format!("/local-board/items/{id}"),
                Err(BoardError::new(
                    "InvalidRequest",
                    "the form did not arrive whole",
                )),
            );
        };
        match (name.as_str(), file_name) {
            ("file", Some(file_name)) if !bytes.is_empty() => {
                file = Some((file_name, bytes.to_vec()));
            }
            ("body", _) => body = String::from_utf8_lossy(&bytes).into_owned(),
            ("visibility", _) => visibility = String::from_utf8_lossy(&bytes).into_owned(),
            ("user_id", _) => user_id = String::from_utf8_lossy(&bytes).parse().unwrap_or(0),
            _ => {}
        }
    }
    let text = body.trim();
    let marker = &state.config.monday.public_marker;
    let text = if visibility == "public" && !text.to_lowercase().starts_with(&marker.to_lowercase())
    {
        format!("{marker} {text}")
    } else {
        text.to_owned()
    };
    let html = text_html(&text);
    let posted = board
        .store()
        .mutate(|txn| txn.create_update(id, &html, user_id, None))
        .await;
    let result = match (posted, file) {
        (Ok(update), Some((name, bytes))) => board
            .store()
            .mutate(|txn| txn.add_file_to_update(update.id, &name, bytes, user_id))
            .await
            .map(|_| format!("Message posted with {name}")),
        (Ok(_), None) if visibility == "public" => Ok("Reply sent to the client".to_owned()),
        (Ok(_), None) => Ok("Internal note added".to_owned()),
        (Err(error), _) => Err(error),
    };
    back_to(&format!("/local-board/items/{id}"), result)
}

#[derive(Deserialize)]
struct ReplyForm {
    body: String,
    visibility: String,
    user_id: u64,
}

/// "Reply" under a message: a monday reply in its thread, as the team makes one on monday.
/// "Reply internally" starts it with the internal marker.
async fn add_reply(
    State(state): State<AppState>,
    Path((id, parent)): Path<(u64, u64)>,
    Form(form): Form<ReplyForm>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let text = form.body.trim();
    let internal = &state.tickets.markers().internal;
    let text = if form.visibility == "internal"
        && !text.to_lowercase().starts_with(&internal.to_lowercase())
    {
        format!("{internal} {text}")
    } else {
        text.to_owned()
    };
    let html = text_html(&text);
    let result = board
        .store()
        .mutate(|txn| txn.create_reply(parent, &html, form.user_id, None))
        .await
        .map(|_| "Reply posted in the thread".to_owned());
    back_to(&format!("/local-board/items/{id}"), result)
}

#[derive(Deserialize)]
struct EditForm {
    body: String,
    user_id: u64,
}

async fn edit_update(
    State(state): State<AppState>,
    Path((id, update)): Path<(u64, u64)>,
    Form(form): Form<EditForm>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let html = text_html(form.body.trim());
    let result = board
        .store()
        .mutate(|txn| txn.edit_update(update, &html, form.user_id))
        .await
        .map(|_| "Update edited".to_owned());
    back_to(&format!("/local-board/items/{id}"), result)
}

#[derive(Deserialize)]
struct UserForm {
    user_id: u64,
}

async fn delete_update(
    State(state): State<AppState>,
    Path((id, update)): Path<(u64, u64)>,
    Form(form): Form<UserForm>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let result = board
        .store()
        .mutate(|txn| txn.delete_update(update, form.user_id))
        .await
        .map(|_| "Update deleted".to_owned());
    back_to(&format!("/local-board/items/{id}"), result)
}

async fn restore_item(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Form(form): Form<UserForm>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let result = board
        .store()
        .mutate(|txn| txn.restore_item(id, form.user_id))
        .await
        .map(|item| format!("{} is back on the board", item.name));
    back_to("/local-board", result)
}

#[derive(Deserialize)]
struct StateForm {
    state: String,
    user_id: u64,
}

async fn change_state(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Form(form): Form<StateForm>,
) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let new_state = if form.state == "deleted" {
        ItemState::Deleted
    } else {
        ItemState::Archived
    };
    let result = board
        .store()
        .mutate(|txn| txn.set_item_state(id, new_state, form.user_id))
        .await
        .map(|item| format!("{} was {}", item.name, new_state.as_str()));
    back_to("/local-board", result)
}

#[derive(Deserialize)]
struct PlanForm {
    plan: String,
}

/// Switches the limits the board enforces to another monday plan's.
async fn set_plan(State(state): State<AppState>, Form(form): Form<PlanForm>) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let result = form
        .plan
        .parse::<monday_local::Plan>()
        .map(|plan| {
            board.set_limits(plan.limits());
            format!("The board now enforces monday's {plan} limits")
        })
        .map_err(|e| BoardError::new("InvalidArgumentException", e));
    back_to("/local-board", result)
}

#[derive(Deserialize)]
struct FaultForm {
    mode: String,
}

async fn set_faults(State(state): State<AppState>, Form(form): Form<FaultForm>) -> Response {
    let board = match board(&state) {
        Ok(board) => board,
        Err(not_in_use) => return not_in_use.into_response(),
    };
    let failing = |failure: Failure| Faults {
        failure: Some(failure),
        ..Faults::default()
    };
    let faults = match form.mode.as_str() {
        "slow" => Faults {
            latency_ms: 2000,
            ..Faults::default()
        },
        "rate_limited" => failing(Failure::RateLimited {
            retry_in_seconds: 30,
        }),
        "concurrency" => failing(Failure::ConcurrencyExceeded {
            retry_in_seconds: 15,
        }),
        // The real daily limit, not a fault: the board counts the day as spent until "New day".
        "spend_day" => {
            board.spend_day();
            Faults::default()
        }
        "new_day" => {
            board.new_day();
            Faults::default()
        }
        "throttle" => Faults {
            every: Some(2),
            ..failing(Failure::SubgraphThrottle)
        },
        "partial" => failing(Failure::PartialSuccess),
        "lost" => failing(Failure::LostResponse),
        "server_error" => failing(Failure::ServerError),
        "down" => failing(Failure::Down),
        _ => Faults::default(),
    };
    let result = board
        .set_faults(faults)
        .await
        .map(|()| "Simulation updated".to_owned())
        .map_err(|e| BoardError::new("InternalServerError", e.to_string()));
    back_to("/local-board", result)
}
