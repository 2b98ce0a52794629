//! Server functions: thin wrappers that check the session and call into `server/`. The portal
//! always comes from the session, never from an argument. Their errors get their HTTP status in
//! one place (`server::http::error`), so a body never has to remember it.

pub mod auth;
pub mod colleagues;
pub mod notify;
pub mod preferences;
pub mod tickets;

#[cfg(feature = "ssr")]
pub(crate) mod support {
    use std::net::IpAddr;

    use leptos::prelude::*;
    use tower_sessions::Session;

    use crate::error::AppError;
    use crate::server::auth::{Access, AuditEvent, Member};
    use crate::server::html::query_value;
    use crate::server::http::limits::Write;
    use crate::server::http::limits::address_key;
    use crate::server::http::request::{client_address, session_access};
    use crate::server::http::state::AppState;

    pub struct Request {
        pub state: AppState,
        pub session: Session,
        pub address: Option<IpAddr>,
        /// The address as limits count it (an IPv6 /64 as one).
        pub address_key: String,
    }

    pub struct SignedIn {
        pub state: AppState,
        pub address: Option<IpAddr>,
        pub member: Member,
        /// What the member may see: their role and the tickets they follow.
        pub access: Access,
    }

    impl SignedIn {
        /// Counts a write against the member's and the address's limits.
        pub async fn check_write_limit(&self, write: Write) -> Result<(), AppError> {
            self.state
                .write_limits
                .check(&self.member, self.address, write)
                .await
        }

        /// The member's display name, for what they write.
        pub fn display_name(&self) -> Option<String> {
            self.access.display_name.clone()
        }

        /// Records what the member did in the audit log.
        pub async fn audit(&self, event: AuditEvent, detail: &str) {
            self.state
                .auth
                .audit_member(event, &self.member, self.address, detail)
                .await;
        }
    }

    pub async fn request() -> Result<Request, AppError> {
        let state = use_context::<AppState>().ok_or(AppError::Internal)?;
        let session = leptos_axum::extract::<Session>()
            .await
            .map_err(|_| AppError::Internal)?;
        let address = use_context::<http::request::Parts>()
            .and_then(|parts| client_address(&parts, &state.config.trusted_proxies));
        Ok(Request {
            address_key: address_key(address),
            state,
            session,
            address,
        })
    }

    /// The signed-in member under the one rule (a session naming a current member).
    pub async fn signed_in() -> Result<SignedIn, AppError> {
        let Request {
            state,
            session,
            address,
            ..
        } = request().await?;
        let access = session_access(&state, &session).await?;
        Ok(SignedIn {
            state,
            address,
            member: access.member.clone(),
            access,
        })
    }

    /// A form posted without JavaScript wants a page back, not JSON.
    pub fn plain_form_post() -> bool {
        use_context::<http::request::Parts>().is_some_and(|parts| {
            parts.method == http::Method::POST
                && parts
                    .headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Without JavaScript, sends the browser to `path` (with the error's code in the query when
    /// there is one, never its text) instead of back to the form with nothing to show. The status of an error
    /// answered as JSON is set by `server::http::error`, like every server function's.
    pub fn finish_plain_form<T>(
        result: Result<T, AppError>,
        ok_path: impl FnOnce(&T) -> String,
        error_path: &str,
    ) -> Result<T, AppError> {
        if plain_form_post() {
            match &result {
                Ok(value) => leptos_axum::redirect(&ok_path(value)),
                Err(error) => {
                    let separator = if error_path.contains('?') { '&' } else { '?' };
                    let (code, minutes) = error.form_code();
                    let minutes = minutes.map(|m| format!("&minutes={m}")).unwrap_or_default();
                    leptos_axum::redirect(&format!(
                        "{error_path}{separator}error={}{minutes}",
                        query_value(&code)
                    ));
                }
            }
        }
        result
    }
}
