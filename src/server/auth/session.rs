//! The browser session: an HttpOnly cookie naming a server-side record that holds the
//! member. Every page, server function and socket takes the portal from here; whether that
//! member may still act is decided by `server::http::request`, the one signed-in rule.

use std::collections::HashMap;
use std::time::Duration;

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
    /// When the link was spent: the session's absolute lifetime counts from here. Sessions from
    /// before it was recorded count from their last touch.
    #[serde(default)]
    signed_in_at: i64,
}

impl Stored {
    fn expired(&self, max_age: Duration, now: i64) -> bool {
        let since = if self.signed_in_at > 0 {
            self.signed_in_at
        } else {
            self.touched_at
        };
        now - since > max_age.as_secs() as i64
    }
}

/// Starts a signed-in session with a fresh id (no fixation).
pub async fn sign_in(
    session: &Session,
    member: &Member,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    let now = now_unix();
    session
        .insert(
            MEMBER_KEY,
            Stored {
                member: member.clone(),
                touched_at: now,
                signed_in_at: now,
            },
        )
        .await
}

/// The signed-in member, sliding the idle expiry now and then. A session older than
/// `max_age` is ended, however often it was used.
pub async fn current(session: &Session, max_age: Duration) -> Option<Member> {
    let stored: Stored = session.get(MEMBER_KEY).await.ok()??;
    let now = now_unix();
    if stored.expired(max_age, now) {
        let _ = session.flush().await;
        return None;
    }
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

/// The member a stored session record names, unless it is past `max_age` (what the live socket
/// re-reads by session id).
pub fn member_of_record(record: &Record, max_age: Duration) -> Option<Member> {
    stored_in(&record.data)
        .filter(|s| !s.expired(max_age, now_unix()))
        .map(|s| s.member)
}

/// The member a session's data signs in, if any (what the store indexes sessions by).
pub fn member_in(data: &HashMap<String, serde_json::Value>) -> Option<Member> {
    stored_in(data).map(|s| s.member)
}

fn stored_in(data: &HashMap<String, serde_json::Value>) -> Option<Stored> {
    serde_json::from_value::<Stored>(data.get(MEMBER_KEY)?.clone()).ok()
}

/// Where a plain form post leaves a message for the next page it leads to.
const FLASH_KEY: &str = "flash";

/// Leaves `message` for the member's next page (a no-JavaScript form's answer that names what
/// they sent, which a code in the URL cannot).
pub async fn set_flash(session: &Session, message: &str) {
    if let Err(error) = session.insert(FLASH_KEY, message).await {
        tracing::warn!(%error, "could not keep a form's message in the session");
    }
}

/// The message left for this page, once. Most pages have none: the session is only written
/// when there was one.
pub async fn take_flash(session: &Session) -> Option<String> {
    let message: Option<String> = session.get(FLASH_KEY).await.ok().flatten();
    if message.is_some() {
        let _ = session.remove::<String>(FLASH_KEY).await;
    }
    message
}
