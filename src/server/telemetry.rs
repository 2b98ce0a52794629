//! Logging: human-readable lines in development, one JSON object per line with `LOG_FORMAT=json`.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use super::config::LogFormat;

/// `RUST_LOG` overrides the default filter, as usual for tracing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // Logs go to standard error, so commands like `invite` keep standard output for results.
    // Colours only for a person at a terminal, never into files or test harnesses.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A second call (tests start many apps in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Human => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(ansi)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false),
            )
            .try_init(),
    };
}
