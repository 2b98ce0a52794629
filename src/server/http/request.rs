//! Who is asking: the client's address and the one signed-in rule. A request acts for a member
//! when its session (or, for the REST API, its token) names a member who is still a member of
//! that portal; pages, server functions, REST and the live socket all ask [`current_access`],
//! which also says what the member may see (their role and the tickets they follow).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tower_sessions::Session;

use super::state::AppState;
use crate::error::AppError;
use crate::server::auth::session;
use crate::server::auth::{Access, Member};

/// The TCP peer: the client itself, or the proxy in front of the portal.
pub fn peer_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The client's address. The socket peer, unless the peer is one of the trusted proxies: then
/// `X-Forwarded-For` is read from the right (each proxy appends the address it saw), skipping
/// the trusted proxies' own entries, and the first address that is not one of them is the
/// client. Entries to the left of it were written by the client and are never believed.
pub fn client_address(parts: &Parts, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = peer_address(parts)?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect();
    Some(
        hops.iter()
            .rev()
            .find(|hop| !is_trusted(hop))
            .copied()
            .unwrap_or(peer),
    )
}

/// `member`'s access if they are still a member of their portal. Removing a member ends their
/// access on their next request, whatever credential they hold; a role change or a follow
/// counts from the next request on.
pub async fn current_access(state: &AppState, member: Member) -> Result<Access, AppError> {
    state
        .auth
        .access(member)
        .await?
        .ok_or(AppError::NotSignedIn)
}

/// The access of the member the session names, under the one rule. A session whose member was
/// removed is ended on the server.
pub async fn session_access(state: &AppState, session: &Session) -> Result<Access, AppError> {
    let member = session::current(session, state.config.auth.session_max_age)
        .await
        .ok_or(AppError::NotSignedIn)?;
    let result = current_access(state, member).await;
    if matches!(result, Err(AppError::NotSignedIn)) {
        let _ = session::sign_out(session).await;
    }
    result
}

/// An axum extractor for handlers that act for a signed-in member (the live socket).
pub struct SignedIn(pub Access, pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotSignedIn)?;
        let access = session_access(state, &session).await?;
        Ok(SignedIn(access, session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = axum::http::Request::builder().uri("/");
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let (mut parts, ()) = request.body(()).expect("request").into_parts();
        let peer: SocketAddr = peer.parse().expect("peer");
        parts.extensions.insert(ConnectInfo(peer));
        parts
    }

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().expect("net")).collect()
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        // nginx (127.0.0.1) appended the address it saw; the client wrote 1.2.3.4 itself.
        let via_proxy = parts("127.0.0.1:5000", Some("1.2.3.4, 203.0.113.9"));
        assert_eq!(
            client_address(&via_proxy, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        // Two trusted proxies in a row are both skipped.
        let two = parts("127.0.0.1:5000", Some("203.0.113.9, 10.1.2.3"));
        assert_eq!(
            client_address(&two, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        // Anyone else's header is ignored.
        let direct = parts("198.51.100.7:5000", Some("1.2.3.4"));
        assert_eq!(
            client_address(&direct, &trusted),
            Some("198.51.100.7".parse().unwrap())
        );
        // Garbage stops the walk at the last readable hop; with none, the peer counts.
        let garbage = parts("127.0.0.1:5000", Some("nonsense"));
        assert_eq!(
            client_address(&garbage, &trusted),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            client_address(&via_proxy, &[]),
            Some("127.0.0.1".parse().unwrap()),
            "no trusted proxies: the header is never read"
        );
    }
}
