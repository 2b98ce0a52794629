//! What can go wrong talking to monday, typed so callers can tell "try again later" from
//! "this will never work".

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum MondayError {
    #[error("monday is rate-limiting the portal ({code})")]
    RateLimited {
        code: String,
        retry_in: Option<Duration>,
    },
    #[error("monday rejected the API token")]
    Unauthorized,
    #[error("monday answered with HTTP {status}")]
    Server { status: u16 },
    #[error("monday did not answer in time")]
    Timeout,
    #[error("monday could not be reached: {0}")]
    Unreachable(String),
    #[error("monday's answer could not be read: {0}")]
    Malformed(String),
    #[error("the pagination cursor expired")]
    CursorExpired,
    #[error("the same request is already being processed by monday")]
    IdempotencyConflict { retry_in: Option<Duration> },
    #[error("monday refused the request ({code}): {message}")]
    Api { code: String, message: String },
}

impl MondayError {
    /// Errors that may go away by themselves: worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MondayError::RateLimited { .. }
                | MondayError::Server { .. }
                | MondayError::Timeout
                | MondayError::Unreachable(_)
                | MondayError::Malformed(_)
                | MondayError::IdempotencyConflict { .. }
        )
    }

    /// The wait monday asked for, if it said.
    pub fn retry_in(&self) -> Option<Duration> {
        match self {
            MondayError::RateLimited { retry_in, .. }
            | MondayError::IdempotencyConflict { retry_in } => *retry_in,
            _ => None,
        }
    }
}
