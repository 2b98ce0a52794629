//! Limits on what one client may do: tickets and replies per member in an hour (whatever
//! session or API token they use, so signing in again does not reset them), writes per address,
//! so one client cannot flood the team's board, and open live sockets per session and address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::AppError;
use crate::server::auth::Member;
use crate::server::auth::minutes;
use crate::server::auth::rate_limit::Limiter;
use crate::server::db::Db;

/// Per-member and per-address limits on creating tickets and replies.
pub struct WriteLimits {
    tickets: Limiter,
    replies: Limiter,
    per_address: Limiter,
}

impl WriteLimits {
    pub fn new(
        db: &Db,
        tickets_per_hour: u32,
        replies_per_hour: u32,
        per_address_per_hour: u32,
    ) -> Self {
        let hour = Duration::from_secs(3600);
        Self {
            tickets: Limiter::new("tickets per member", tickets_per_hour, hour, db),
            replies: Limiter::new("replies per member", replies_per_hour, hour, db),
            per_address: Limiter::new("writes per address", per_address_per_hour, hour, db),
        }
    }
}

#[derive(Clone, Copy)]
pub enum Write {
    Ticket,
    Reply,
}

impl WriteLimits {
    /// Counts one write for `member` and the client address.
    pub async fn check(
        &self,
        member: &Member,
        address: Option<IpAddr>,
        write: Write,
    ) -> Result<(), AppError> {
        let limiter = match write {
            Write::Ticket => &self.tickets,
            Write::Reply => &self.replies,
        };
        let key = format!("{}\n{}", member.portal_id, member.email);
        let limited = |wait| AppError::RateLimited {
            minutes: minutes(wait),
        };
        self.per_address
            .check(&address_key(address))
            .await
            .map_err(limited)?;
        limiter.check(&key).await.map_err(limited)
    }
}

/// Open sockets counted by key (a session, an address), so neither can hold more than its cap.
#[derive(Default)]
pub struct SocketCounts {
    open: Mutex<HashMap<String, u32>>,
}

/// One open socket's place in the counts, given back when the socket ends.
pub struct SocketSlot {
    counts: Arc<SocketCounts>,
    keys: Vec<String>,
}

impl SocketCounts {
    /// Takes a place under every `(key, cap)`, or none if any of them is full.
    pub fn open(self: &Arc<Self>, limits: &[(String, u32)]) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if limits
            .iter()
            .any(|(key, cap)| open.get(key).copied().unwrap_or(0) >= *cap)
        {
            return None;
        }
        for (key, _) in limits {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Some(SocketSlot {
            counts: self.clone(),
            keys: limits.iter().map(|(key, _)| key.clone()).collect(),
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|p| p.into_inner());
        for key in &self.keys {
            if let Some(count) = open.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

/// The key limits count an address under. IPv6 hands a whole /64 to one customer, so all of it
/// counts as one address; otherwise one client could rotate through 2^64 keys.
pub fn address_key(address: Option<IpAddr>) -> String {
    match address {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let segments = v6.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        Some(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or_else(String::new, |v4| v4.to_string()),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_per_64() {
        let a = address_key(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = address_key(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        let c = address_key(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(address_key(Some("192.0.2.1".parse().unwrap())), "192.0.2.1");
        assert_eq!(
            address_key(Some("::ffff:192.0.2.1".parse().unwrap())),
            "192.0.2.1"
        );
    }
}
