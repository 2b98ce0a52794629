//! Timestamps as monday writes them: UTC, second precision, RFC 3339 with a `Z`.

use time::{OffsetDateTime, UtcOffset};

/// `2024-10-06T10:00:00Z`, the form monday's `created_at` and `updated_at` take.
pub fn format_utc(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

pub fn now_utc_string() -> String {
    format_utc(OffsetDateTime::now_utc())
}

/// Seconds since the Unix epoch with a fraction, as webhook payloads carry `triggerTime`.
pub fn now_epoch_seconds() -> f64 {
    OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9
}
