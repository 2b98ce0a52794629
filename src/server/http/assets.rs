//! The compiled site's files under `/pkg`: the island bundle (JS and wasm) and the stylesheet.
//!
//! Release builds name them by content (`client_portal.<hash>.wasm`, cargo-leptos' `hash-files`,
//! switched on with `LEPTOS_HASH_FILES=true`), and compress each once at build time
//! (`--precompress`: `.br` and `.gz` beside it). So a name never changes its content: such a file
//! is cached by browsers for a year without asking again (`immutable`), and a new release is new
//! names. Files without a hash in their name (development builds, `cargo leptos watch`) are
//! asked again every time (`no-cache`), so an edit shows on the next load.
//!
//! cargo-leptos writes the hashes to `hash.txt` beside the server binary; Leptos' hydration
//! scripts read it there on every page. Start-up refuses to run with hashing on and no
//! `hash.txt`, rather than failing every page.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use leptos::prelude::LeptosOptions;

/// A year: the longest lifetime caches honour.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What pages link to, resolved once at start-up.
#[derive(Clone, Debug)]
pub struct SiteAssets {
    /// The stylesheet's address: `/pkg/client_portal.css`, or its hashed name.
    pub stylesheet: Arc<str>,
}

impl SiteAssets {
    /// Resolves the site's file names for `options`; with hashing on, from `hash.txt` beside
    /// the running binary (where Leptos' own scripts look for it).
    pub fn resolve(options: &LeptosOptions) -> Result<Self, String> {
        let plain = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
        if !options.hash_files {
            return Ok(Self {
                stylesheet: plain.into(),
            });
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.to_path_buf()))
            .unwrap_or_default()
            .join(options.hash_file.as_ref());
        let hashes = std::fs::read_to_string(&beside).map_err(|error| {
            format!(
                "LEPTOS_HASH_FILES is on but {} cannot be read ({error}): copy hash.txt from \
                 target/release/ beside the binary, or set LEPTOS_HASH_FILES=false",
                beside.display()
            )
        })?;
        let css = hashes
            .lines()
            .find_map(|line| line.strip_prefix("css:"))
            .map(str::trim)
            .filter(|hash| !hash.is_empty())
            .ok_or_else(|| format!("{} names no css hash", beside.display()))?;
        Ok(Self {
            stylesheet: format!(
                "/{}/{}.{css}.css",
                options.site_pkg_dir, options.output_name
            )
            .into(),
        })
    }
}

/// `client_portal.<22 characters of base64url>.<ext>`, with `.br`/`.gz` allowed after it: the
/// names cargo-leptos gives files by their content.
pub fn is_content_named(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let name = name
        .strip_suffix(".br")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(name);
    let mut parts = name.rsplitn(3, '.');
    let (_extension, hash, stem) = (parts.next(), parts.next(), parts.next());
    matches!((hash, stem), (Some(hash), Some(stem))
        if !stem.is_empty()
            && hash.len() == 22
            && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

async fn cache_headers(uri: Uri, mut response: Response) -> Response {
    let found = matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    );
    let lifetime = if found && is_content_named(uri.path()) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(lifetime));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// `GET /pkg/*`: the site's files, precompressed variants first, with their cache lifetime.
pub fn router<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    Router::new()
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(options),
            leptos_axum::site_pkg_dir_service(options),
        )
        .layer(axum::middleware::map_response(cache_headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_named_files_are_immutable() {
        assert!(is_content_named(
            "/pkg/client_portal.AbCdEfGhIjKlMnOpQrStUv.wasm"
        ));
        assert!(is_content_named(
            "/pkg/client_portal.AbCdEfGhIj-lMnOpQrS_Uv.css.br"
        ));
        assert!(!is_content_named("/pkg/client_portal.wasm"));
        assert!(!is_content_named("/pkg/client_portal.css.gz"));
        assert!(!is_content_named("/pkg/snippets/x/inline0.js"));
        assert!(!is_content_named("/pkg/.AbCdEfGhIjKlMnOpQrStUv.js"));
    }
}
