//! monday's timestamps, normalised to one form: UTC, second precision, `Z`.

/// `2024-10-06T10:00:00.123Z` or `2024-10-06T12:00:00+02:00` → `2024-10-06T10:00:00Z`.
pub fn normalize_timestamp(value: Option<&str>) -> String {
    use time::format_description::well_known::Rfc3339;
    value
        .and_then(|v| time::OffsetDateTime::parse(v, &Rfc3339).ok())
        .map(format_utc)
        .or_else(|| value.map(str::to_owned))
        .unwrap_or_default()
}

/// `2024-10-06T10:00:00Z`.
pub fn format_utc(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
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

/// Now, in the same form.
pub fn now_utc_string() -> String {
    format_utc(time::OffsetDateTime::now_utc())
}
