//! The browser session: an HttpOnly cookie naming a server-side record that holds the
//! member. Every page, server function and socket takes the portal from here; whether that
//! member may still act is decided by `server::http::request`, the one signed-in rule.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use tower_sessions::session::Record;

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

/// The member a stored session record names (what the live socket re-reads by session id).
pub fn member_of_record(record: &Record) -> Option<Member> {
    let stored = record.data.get(MEMBER_KEY)?;
    serde_json::from_value::<Stored>(stored.clone())
        .ok()
        .map(|s| s.member)
}
