//! The browser session: an HttpOnly cookie naming a server-side record that holds the
//! member. Every page, server function and socket takes the portal from here.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::Member;
use crate::server::db::now_unix;

const MEMBER_KEY: &str = "member";
/// A session is written back at most this often just to slide its idle expiry.
const TOUCH_EVERY_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    member: Member,
    touched_at: i64,
}

/// Starts a signed-in session with a fresh id (no fixation).
pub async fn sign_in(
    session: &Session,
    member: &Member,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session
        .insert(
            MEMBER_KEY,
            Stored {
                member: member.clone(),
                touched_at: now_unix(),
            },
        )
        .await
}

/// The signed-in member, sliding the idle expiry now and then.
pub async fn current(session: &Session) -> Option<Member> {
    let stored: Stored = session.get(MEMBER_KEY).await.ok()??;
    let now = now_unix();
    if now - stored.touched_at > TOUCH_EVERY_SECONDS {
        let touched = Stored {
            touched_at: now,
            ..stored.clone()
        };
        let _ = session.insert(MEMBER_KEY, touched).await;
    }
    Some(stored.member)
}

/// Deletes the session on the server and clears the cookie.
pub async fn sign_out(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

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

/// An axum extractor for handlers that need a signed-in member (the WebSocket).
pub struct SignedIn(pub Member, pub Session);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = axum::http::StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| axum::http::StatusCode::UNAUTHORIZED)?;
        let member = current(&session)
            .await
            .ok_or(axum::http::StatusCode::UNAUTHORIZED)?;
        Ok(SignedIn(member, session))
    }
}
