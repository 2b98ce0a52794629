//! Developer tools served beside the local board (never with a real monday board): the team
//! console, where a person plays the support team, and the demo inbox. They have no sign-in of
//! their own, so start-up decides whether they are served at all.

mod console;
mod inbox;

use axum::Router;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use monday_local::LocalBoard;

use crate::server::html::escape;
use crate::server::http::guard::local_only;
use crate::server::http::state::AppState;

/// The console's and the inbox's routes, merged by start-up only with the local board, and
/// answered only to the developer's own machine (`guard::devtools_allowed`).
pub fn router(state: AppState) -> Router<AppState> {
    console::routes()
        .route("/local-board/mail", get(inbox::demo_inbox))
        .route_layer(axum::middleware::from_fn_with_state(state, local_only))
}

fn board(state: &AppState) -> Result<&LocalBoard, NotInUse> {
    state.local_board.as_ref().ok_or(NotInUse)
}

/// The console is only routed with a local board; this answers if that ever changes.
struct NotInUse;

impl IntoResponse for NotInUse {
    fn into_response(self) -> Response {
        crate::error::AppError::NotFound.into_response()
    }
}

/// The console's page frame around `body` (already HTML).
fn page(state: &AppState, title: &str, body: &str) -> Html<String> {
    let stylesheet = &state.assets.stylesheet;
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Local board</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body class="min-h-screen bg-slate-100 text-slate-900">
<header class="bg-slate-900 text-white">
  <div class="mx-auto max-w-7xl px-4 py-3 flex flex-wrap items-center gap-x-6 gap-y-2">
    <a href="/local-board" class="font-semibold focus:outline-none focus-visible:ring-2 focus-visible:ring-white rounded">Local board · team console</a>
    <nav aria-label="Console" class="flex gap-4 text-sm text-slate-300">
      <a class="hover:text-white underline-offset-4 hover:underline" href="/local-board">Board</a>
      <a class="hover:text-white underline-offset-4 hover:underline" href="/local-board/mail">Demo inbox</a>
      <a class="hover:text-white underline-offset-4 hover:underline" href="/">Client portal</a>
    </nav>
    <p class="text-xs text-slate-400 ml-auto">Stands in for monday.com: what you do here fires the same webhooks.</p>
  </div>
</header>
<main class="mx-auto max-w-7xl px-4 py-6 space-y-6">
<h1 class="text-2xl font-semibold">{title}</h1>
{body}
</main>
</body>
</html>"#,
        title = escape(title),
    ))
}
