//! `monday-local`: the local board as a program of its own, for tests and set-ups that run
//! several portal instances against one board (the way SDK test suites start stripe-mock).
//!
//! It prints `key=value` lines on standard output once it listens, then serves until Ctrl-C or
//! SIGTERM:
//! ```text
//! url=http://127.0.0.1:40123/v2
//! token=local-…
//! board=4200000001
//! control=http://127.0.0.1:40124
//! ```

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use monday_local::{LOCAL_BOARD_ID, LocalBoard, LocalBoardOptions, Seed};

#[derive(Parser)]
#[command(
    name = "monday-local",
    version,
    about = "A local monday.com board: monday's GraphQL API, limits, errors and webhooks"
)]
struct Args {
    /// Where the GraphQL API listens; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where the control API (faults, counters) listens; it stays up while the board is "down".
    #[arg(long, default_value = "127.0.0.1:0")]
    control: SocketAddr,
    /// The directory holding the board's database (`board.db`); created when missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// What a new board starts with: nothing, empty, demo, bench:N or bench:NxM (N portals of M
    /// tickets). A board that has run before keeps its data.
    #[arg(long, default_value = "demo")]
    seed: Seed,
    /// Seconds between webhook delivery attempts (monday: 60).
    #[arg(long, default_value_t = 60)]
    webhook_retry_seconds: u64,
    /// The monday plan whose limits the board enforces: free, standard, pro or enterprise.
    #[arg(long, default_value = "standard")]
    plan: monday_local::Plan,
    /// Complexity points a minute instead of the plan's (monday: 10,000,000 for a personal
    /// token, 1,000,000 on free and trial accounts).
    #[arg(long)]
    complexity_per_minute: Option<i64>,
    /// Seconds an `Idempotency-Key`'s answer is replayed (monday: 1800).
    #[arg(long, default_value_t = 1800)]
    idempotency_window_seconds: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    if let Err(error) = std::fs::create_dir_all(&args.data) {
        eprintln!("error: could not create {}: {error}", args.data.display());
        return ExitCode::FAILURE;
    }
    let database = args.data.join("board.db");
    let mut options = LocalBoardOptions::new(format!("sqlite://{}?mode=rwc", database.display()));
    options.listen = args.listen;
    options.control_listen = Some(args.control);
    options.seed = args.seed;
    options.webhook_retry_interval = Duration::from_secs(args.webhook_retry_seconds.max(1));
    options.limits = args.plan.limits();
    if let Some(complexity) = args.complexity_per_minute {
        options.limits.complexity_per_minute = complexity;
    }
    options.limits.idempotency_window_seconds = args.idempotency_window_seconds;
    let board = match LocalBoard::start(options).await {
        Ok(board) => board,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let printed = writeln!(out, "url={}", board.url().await)
        .and_then(|()| writeln!(out, "token={}", board.token().expose()))
        .and_then(|()| writeln!(out, "board={LOCAL_BOARD_ID}"))
        .and_then(|()| writeln!(out, "control={}", board.control_url().unwrap_or_default()))
        .and_then(|()| out.flush());
    drop(out);
    if printed.is_err() {
        return ExitCode::FAILURE;
    }
    tracing::info!(seed = %args.seed, plan = %args.plan, data = %args.data.display(), "local board ready");
    shutdown_signal().await;
    board.shutdown().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
