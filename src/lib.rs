//! client-portal: a support portal for an agency's clients, on top of a monday.com board.
//!
//! The crate builds twice: with `ssr` as the server (axum + Leptos rendering + everything in
//! [`server`]) and with `hydrate` as the browser bundle. Pages are rendered on the server and
//! work without JavaScript; only the interactive islands (`#[island]`: live updates, the
//! new-ticket dialog, the sign-in help) ship to the browser, which keeps the bundle small.

// Release builds keep Leptos' full view types (debug builds erase them), which nest deeply.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod i18n;
pub mod live;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod startup;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Lets tests (and curious people) see that the page is live.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
