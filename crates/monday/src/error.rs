//! What can go wrong talking to monday, typed so callers can tell "try again later" from
//! "this will never work", and "monday may have done it" from "monday never saw it".

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum MondayError {
    /// A per-minute, concurrency, complexity, IP or field limit, or the subgraph throttle.
    #[error("monday is rate-limiting the portal ({code})")]
    RateLimited {
        code: String,
        retry_in: Option<Duration>,
    },
    /// The day's calls are spent: monday said `DAILY_LIMIT_EXCEEDED`, or the portal's own count
    /// reached the configured cap. Nothing is sent until `retry_in` has passed.
    #[error("monday's daily call limit is spent")]
    DailyLimit { retry_in: Option<Duration> },
    #[error("monday rejected the API token")]
    Unauthorized,
    /// The token is fine but its user may not do this (`UserUnauthorizedException`, a
    /// restricted IP, a view-only user): a permission problem, never a reason to retry.
    #[error("monday refused the token's user ({code}): {message}")]
    Forbidden { code: String, message: String },
    #[error("monday answered with HTTP {status}")]
    Server { status: u16 },
    #[error("monday did not answer in time")]
    Timeout,
    /// The connection could not be made: the request never reached monday.
    #[error("monday could not be reached: {0}")]
    Unreachable(String),
    /// The connection broke after the request was sent: monday may have done it.
    #[error("the connection to monday broke: {0}")]
    Interrupted(String),
    #[error("monday's answer could not be read: {0}")]
    Malformed(String),
    #[error("the pagination cursor expired")]
    CursorExpired,
    #[error("the same request is already being processed by monday")]
    IdempotencyConflict { retry_in: Option<Duration> },
    /// A write returned errors without its result: whether monday did it is unknown until the
    /// caller looks (it never guesses).
    #[error("monday answered a write with errors and no result ({code})")]
    Uncertain { code: String },
    #[error("monday refused the request ({code}): {message}")]
    Api { code: String, message: String },
}

impl MondayError {
    /// Errors that may go away by themselves: worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MondayError::RateLimited { .. }
                | MondayError::DailyLimit { .. }
                | MondayError::Server { .. }
                | MondayError::Timeout
                | MondayError::Unreachable(_)
                | MondayError::Interrupted(_)
                | MondayError::Malformed(_)
                | MondayError::IdempotencyConflict { .. }
                | MondayError::Uncertain { .. }
        )
    }

    /// Whether a write that failed this way may nevertheless have been carried out, so that
    /// sending it again could do it twice (unless the caller looks first).
    pub fn may_have_been_done(&self) -> bool {
        matches!(
            self,
            MondayError::Server { .. }
                | MondayError::Timeout
                | MondayError::Interrupted(_)
                | MondayError::Malformed(_)
                | MondayError::IdempotencyConflict { .. }
                | MondayError::Uncertain { .. }
        )
    }

    /// The wait monday asked for, if it said.
    pub fn retry_in(&self) -> Option<Duration> {
        match self {
            MondayError::RateLimited { retry_in, .. }
            | MondayError::DailyLimit { retry_in }
            | MondayError::IdempotencyConflict { retry_in } => *retry_in,
            _ => None,
        }
    }

    /// A short name for logs, metrics and the README's table.
    pub fn kind(&self) -> &'static str {
        match self {
            MondayError::RateLimited { .. } => "rate_limited",
            MondayError::DailyLimit { .. } => "daily_limit",
            MondayError::Unauthorized => "unauthorized",
            MondayError::Forbidden { .. } => "forbidden",
            MondayError::Server { .. } => "server",
            MondayError::Timeout => "timeout",
            MondayError::Unreachable(_) => "unreachable",
            MondayError::Interrupted(_) => "interrupted",
            MondayError::Malformed(_) => "malformed",
            MondayError::CursorExpired => "cursor_expired",
            MondayError::IdempotencyConflict { .. } => "idempotency_conflict",
            MondayError::Uncertain { .. } => "uncertain",
            MondayError::Api { .. } => "api",
        }
    }
}
