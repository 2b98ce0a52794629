//! What a page shows when loading it failed, and the HTTP status it answers with: the one place
//! pages turn an [`AppError`] into a status, as `server::http::error` does for everything else.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::not_found::NotFound;
use crate::error::AppError;
use crate::i18n::{locale, td_string};

/// What a page shows instead of its content when loading it failed.
#[component]
pub fn Problem(error: AppError) -> impl IntoView {
    // A sign-in redirect brings its own status; everything else answers with the error's.
    #[cfg(feature = "ssr")]
    if !matches!(error, AppError::NotSignedIn)
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }
    let l = locale();
    match error {
        AppError::NotSignedIn => view! { <Redirect path="/login" /> }.into_any(),
        AppError::NotFound => view! { <NotFound /> }.into_any(),
        other => {
            let next = match &other {
                AppError::Unavailable { .. } => td_string!(l, common.problem.unavailable_next),
                AppError::RateLimited { .. } => td_string!(l, common.problem.rate_limited_next),
                _ => td_string!(l, common.problem.other_next),
            };
            view! {
                <section
                    role="alert"
                    class="mx-auto max-w-xl rounded-lg border border-red-200 bg-white p-6 shadow-sm"
                >
                    <h1 class="text-lg font-semibold text-red-800">{td_string!(l, common.problem.heading)}</h1>
                    <p class="mt-2 text-slate-700">{other.words(l)}</p>
                    <p class="mt-2 text-sm text-slate-600">{next}</p>
                </section>
            }
            .into_any()
        }
    }
}
