//! Limits on what one client may write in an hour: tickets and replies per session (or API
//! token) and writes per address, so one client cannot flood the team's board.

use std::net::IpAddr;
use std::time::Duration;

use crate::error::AppError;
use crate::server::auth::minutes;
use crate::server::auth::rate_limit::RateLimiter;

/// Per-session and per-address limits on creating tickets and replies.
pub struct WriteLimits {
    tickets: RateLimiter,
    replies: RateLimiter,
    per_address: RateLimiter,
}

impl WriteLimits {
    pub fn new(tickets_per_hour: u32, replies_per_hour: u32, per_address_per_hour: u32) -> Self {
        let hour = Duration::from_secs(3600);
        Self {
            tickets: RateLimiter::new(tickets_per_hour, hour),
            replies: RateLimiter::new(replies_per_hour, hour),
            per_address: RateLimiter::new(per_address_per_hour, hour),
        }
    }
}

#[derive(Clone, Copy)]
pub enum Write {
    Ticket,
    Reply,
}

impl WriteLimits {
    /// Counts one write for the session (or token) `key` and the client address.
    pub fn check(&self, key: &str, address: Option<IpAddr>, write: Write) -> Result<(), AppError> {
        let limiter = match write {
            Write::Ticket => &self.tickets,
            Write::Reply => &self.replies,
        };
        let address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        self.per_address
            .check(&address)
            .and_then(|()| limiter.check(key))
            .map_err(|wait| AppError::RateLimited {
                minutes: minutes(wait),
            })
    }
}
