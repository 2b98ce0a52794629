//! Who is asking: the client's address and the one signed-in rule. A request acts for a member
//! when its session (or, for the REST API, its token) names a member who is still a member of
//! that portal; pages, server functions, REST and the live socket all ask [`current_member`].

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tower_sessions::Session;

use super::state::AppState;
use crate::error::AppError;
use crate::server::auth::Member;
use crate::server::auth::session;

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when the portal
/// is configured to sit behind a proxy.
pub fn client_address(parts: &Parts, trust_forwarded: bool) -> Option<IpAddr> {
    if trust_forwarded
        && let Some(forwarded) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(forwarded);
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// `member` if they are still a member of their portal. Removing a member ends their access on
/// their next request, whatever credential they hold.
pub async fn current_member(state: &AppState, member: Member) -> Result<Member, AppError> {
    if state.auth.is_member(&member).await? {
        Ok(member)
    } else {
        Err(AppError::NotSignedIn)
    }
}

/// The member the session names, under the one rule. A session whose member was removed is
/// ended on the server.
pub async fn session_member(state: &AppState, session: &Session) -> Result<Member, AppError> {
    let member = session::current(session)
        .await
        .ok_or(AppError::NotSignedIn)?;
    let result = current_member(state, member).await;
    if matches!(result, Err(AppError::NotSignedIn)) {
        let _ = session::sign_out(session).await;
    }
    result
}

/// An axum extractor for handlers that act for a signed-in member (the live socket).
pub struct SignedIn(pub Member, pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotSignedIn)?;
        let member = session_member(state, &session).await?;
        Ok(SignedIn(member, session))
    }
}
