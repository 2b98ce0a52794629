//! Times as people read them ("3 hours ago", in their language), with the exact time in their
//! zone on hover. Rendered on the server only: the pages that show times are not islands.

use leptos::prelude::*;

use crate::i18n::{exact_time, relative_time};
use crate::model::parse_utc_seconds;

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

/// "3 hours ago", with the exact time in the member's zone on hover and in the markup.
/// `sentence` puts the relative time into a sentence of the page's language ("Opened {when}").
#[component]
pub fn When(
    #[prop(into)] at: String,
    #[prop(optional, into)] sentence: Option<Callback<String, String>>,
) -> impl IntoView {
    let exact = exact_time(&at);
    let relative = parse_utc_seconds(&at)
        .map(|then| relative_time(now_seconds(), then))
        .unwrap_or_else(|| exact.clone());
    let text = match sentence {
        Some(sentence) => sentence.run(relative),
        None => relative,
    };
    view! {
        <time datetime=at title=exact>
            {text}
        </time>
    }
}
