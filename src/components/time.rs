//! Times as people read them ("3 hours ago"), with the exact time on hover; the same text on
//! the server and in the browser so hydration matches.

use leptos::prelude::*;

use crate::model::{exact_time, parse_utc_seconds, relative_time};

/// Seconds since the Unix epoch, from the browser's clock or the server's.
pub fn now_seconds() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }
}

/// "3 hours ago", with the exact time on hover and in the markup.
#[component]
pub fn When(#[prop(into)] at: String) -> impl IntoView {
    let exact = exact_time(&at);
    let relative = parse_utc_seconds(&at)
        .map(|then| relative_time(now_seconds(), then))
        .unwrap_or_else(|| exact.clone());
    view! {
        <time datetime=at title=exact>
            {relative}
        </time>
    }
}
