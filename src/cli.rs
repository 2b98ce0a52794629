//! The `client-portal` command. With no subcommand it serves, which is how `cargo leptos watch`
//! starts it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use monday_local::LocalBoard;

use crate::model::Role;
use crate::server::auth::Auth;
use crate::server::auth::access::parse_domains;
use crate::server::board::{TicketBoard, setup};
use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::telemetry;
use crate::startup::{self, Application};

#[derive(Parser)]
#[command(
    name = "client-portal",
    version,
    about = "A support portal for your clients, backed by a monday.com board"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal (the default).
    Serve,
    /// Create the columns and labels the portal needs on MONDAY_BOARD_ID (or a new board) and
    /// register its webhooks. Safe to run again.
    SetupBoard {
        /// Create a new board with this name instead of using MONDAY_BOARD_ID.
        #[arg(long, value_name = "NAME")]
        create_board: Option<String>,
    },
    /// Check the token, board, columns, labels and webhooks, and print how to fix each problem.
    Doctor,
    /// Add a client (creating the portal when missing) and email them a sign-in link. The link
    /// is the last line printed.
    Invite {
        /// The portal id, as written in the board's portal column (e.g. client_abc123).
        #[arg(long)]
        portal: String,
        #[arg(long)]
        email: String,
        /// The member's display name.
        #[arg(long)]
        name: Option<String>,
        /// The portal's display name (for a new portal; default: its id).
        #[arg(long)]
        portal_name: Option<String>,
        /// The portal's brand colour, like #1d4ed8.
        #[arg(long)]
        colour: Option<String>,
        /// The portal's logo (https:// URL).
        #[arg(long)]
        logo_url: Option<String>,
        /// The member's role: admin (manages colleagues from the portal's Colleagues page),
        /// member (sees every ticket of the portal) or requester (sees only the tickets they
        /// raised or follow). Default: member for someone new; an existing member keeps theirs.
        #[arg(long, value_parser = ["admin", "member", "requester"])]
        role: Option<String>,
        /// The email domains the portal's admins may invite colleagues from, space-separated
        /// (e.g. "example.com example.org"); "" lets them invite any address.
        #[arg(long, value_name = "DOMAINS")]
        allowed_domains: Option<String>,
        /// The portal's language: what its members read until they choose their own, and what
        /// their mails are in (en, de, fr, es, ar; "" for each browser's own).
        #[arg(long, value_parser = ["", "en", "de", "fr", "es", "ar"])]
        language: Option<String>,
    },
    /// List portals and their members.
    Portals,
    /// Remove a member from a portal: their sessions end at once, and any page or live socket
    /// they have open is signed out within a second (on every instance).
    Remove {
        #[arg(long)]
        portal: String,
        #[arg(long)]
        email: String,
    },
    /// Set which notification mails a portal's members get until they choose on the portal's
    /// notification settings page.
    NotifyDefault {
        #[arg(long)]
        portal: String,
        /// all, replies, digest, none, or unset (back to NOTIFY_DEFAULT).
        mode: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("error: could not read .env: {error}");
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::SetupBoard { create_board } => setup_board(config, create_board).await,
            Command::Doctor => doctor(config).await,
            Command::Invite {
                portal,
                email,
                name,
                portal_name,
                colour,
                logo_url,
                role,
                allowed_domains,
                language,
            } => {
                let invite = Invite {
                    language,
                    portal,
                    email,
                    name,
                    portal_name,
                    colour,
                    logo_url,
                    role: role.as_deref().and_then(Role::parse),
                    allowed_domains,
                };
                run_invite(config, invite).await
            }
            Command::Portals => portals(config).await,
            Command::Remove { portal, email } => remove(config, portal, email).await,
            Command::NotifyDefault { portal, mode } => notify_default(config, portal, mode).await,
        }
    })
}

async fn serve(config: Config) -> ExitCode {
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("start-up failed: {error}");
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => failed(error),
    }
}

/// What `setup-board` and `doctor` work with: the database (which records registered
/// webhooks), the board (the local board behind it when no token is set) and the webhook URL.
struct Tooling {
    db: Db,
    board: TicketBoard,
    local: Option<LocalBoard>,
    webhook_url: Option<String>,
}

impl Tooling {
    async fn open(mut config: Config) -> Result<(Config, Self), String> {
        let db = startup::open_database(&config)
            .await
            .map_err(|e| e.to_string())?;
        startup::resolve_secrets(&mut config).map_err(|e| e.to_string())?;
        let (board, local) = startup::connect_monday(&config)
            .await
            .map_err(|e| e.to_string())?;
        let webhook_url = startup::webhook_url(&config, config.listen_addr);
        Ok((
            config,
            Self {
                db,
                board,
                local,
                webhook_url,
            },
        ))
    }

    async fn close(&self) {
        if let Some(local) = &self.local {
            local.shutdown().await;
        }
    }
}

async fn setup_board(config: Config, create_board: Option<String>) -> ExitCode {
    let (config, tools) = match Tooling::open(config).await {
        Ok(opened) => opened,
        Err(error) => return failed(error),
    };
    let result = setup::setup_board(
        &config,
        &tools.board,
        &tools.db,
        create_board.as_deref(),
        tools.webhook_url.as_deref(),
    )
    .await;
    tools.close().await;
    match result {
        Ok(report) => {
            print!("{report}");
            if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => failed(error),
    }
}

async fn doctor(config: Config) -> ExitCode {
    let (config, tools) = match Tooling::open(config).await {
        Ok(opened) => opened,
        Err(error) => return failed(error),
    };
    if tools.local.is_some() {
        println!("MONDAY_API_TOKEN is not set: checking the local board");
    }
    let findings = setup::doctor(
        &config,
        &tools.board,
        &tools.db,
        tools.webhook_url.as_deref(),
    )
    .await;
    tools.close().await;
    for finding in &findings {
        println!("{finding}");
    }
    let problems = findings.iter().filter(|f| !f.ok).count();
    if problems == 0 {
        println!("all checks passed");
        ExitCode::SUCCESS
    } else {
        println!("{problems} problem(s) found");
        ExitCode::FAILURE
    }
}

struct Invite {
    portal: String,
    email: String,
    name: Option<String>,
    portal_name: Option<String>,
    colour: Option<String>,
    logo_url: Option<String>,
    role: Option<Role>,
    allowed_domains: Option<String>,
    language: Option<String>,
}

async fn open_auth(config: &Config) -> Result<Auth, String> {
    let db = startup::open_database(config)
        .await
        .map_err(|e| e.to_string())?;
    startup::build_auth(config, db).map_err(|e| e.to_string())
}

async fn run_invite(config: Config, invite: Invite) -> ExitCode {
    let result = async {
        let auth = open_auth(&config).await?;
        let existing = auth
            .portal(&invite.portal)
            .await
            .map_err(|e| e.to_string())?;
        let portal = auth
            .upsert_portal(&invite.portal, invite.portal_name.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        if existing.is_none() {
            println!("created portal {} ({})", portal.id, portal.name);
        }
        if let Some(logo) = &invite.logo_url
            && !logo.starts_with("https://")
        {
            return Err("--logo-url must be an https:// URL".to_owned());
        }
        auth.set_brand(
            &portal.id,
            invite.colour.as_deref(),
            invite.logo_url.as_deref(),
        )
        .await
        .map_err(|e| e.to_string())?;
        if let Some(code) = &invite.language {
            auth.set_portal_language(&portal.id, crate::i18n::locale_named(code))
                .await
                .map_err(|e| e.to_string())?;
        }
        if let Some(raw) = &invite.allowed_domains {
            let domains = parse_domains(raw).map_err(|e| e.to_string())?;
            auth.set_allowed_domains(&portal.id, &domains)
                .await
                .map_err(|e| e.to_string())?;
        }
        let email = auth
            .upsert_member(
                &portal.id,
                &invite.email,
                invite.name.as_deref(),
                invite.role,
            )
            .await
            .map_err(|e| e.to_string())?;
        let portal = auth
            .portal(&portal.id)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or(portal);
        let link = auth
            .send_link(
                &portal,
                &email,
                invite.name.as_deref(),
                crate::i18n::Locale::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
        if config.mail.smtp_url.is_some() {
            println!("emailed a sign-in link to {email}");
        } else {
            println!(
                "no SMTP_URL: the mail to {email} is in {}",
                auth.mailer().mail_dir().display()
            );
        }
        Ok::<_, String>(link)
    }
    .await;
    match result {
        Ok(link) => {
            println!("{link}");
            ExitCode::SUCCESS
        }
        Err(error) => failed(error),
    }
}

async fn remove(config: Config, portal: String, email: String) -> ExitCode {
    let auth = match open_auth(&config).await {
        Ok(auth) => auth,
        Err(error) => return failed(error),
    };
    match auth.remove_member(&portal, &email).await {
        Ok(Some((email, sessions))) => {
            println!("removed {email} from {portal}; {sessions} session(s) ended");
            ExitCode::SUCCESS
        }
        Ok(None) => failed(format!("{email} is not a member of {portal}")),
        Err(error) => failed(error.to_string()),
    }
}

async fn notify_default(config: Config, portal: String, mode: String) -> ExitCode {
    let mode = match mode.as_str() {
        "unset" => None,
        other => match crate::model::NotifyMode::parse(other) {
            Some(mode) => Some(mode),
            None => return failed("the mode is all, replies, digest, none or unset".to_owned()),
        },
    };
    let auth = match open_auth(&config).await {
        Ok(auth) => auth,
        Err(error) => return failed(error),
    };
    match auth.set_notify_default(&portal, mode).await {
        Ok(true) => {
            println!(
                "{portal}: members who have not chosen get {}",
                mode.map_or("NOTIFY_DEFAULT", |m| m.label())
            );
            ExitCode::SUCCESS
        }
        Ok(false) => failed(format!("no portal {portal}")),
        Err(error) => failed(error.to_string()),
    }
}

async fn portals(config: Config) -> ExitCode {
    let auth = match open_auth(&config).await {
        Ok(auth) => auth,
        Err(error) => return failed(error),
    };
    match auth.directory().await {
        Ok(directory) if directory.is_empty() => {
            println!(
                "no portals yet: add one with `client-portal invite --portal <id> --email <address>`"
            );
            ExitCode::SUCCESS
        }
        Ok(directory) => {
            for (portal, members) in directory {
                println!("{}  {}  {}", portal.id, portal.name, portal.colour);
                for colleague in members {
                    let role = colleague.role.as_str();
                    match &colleague.display_name {
                        Some(name) => println!("    {}  {name}  {role}", colleague.email),
                        None => println!("    {}  {role}", colleague.email),
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => failed(error),
    }
}

/// Says what went wrong on standard error, for a command that stops there.
fn failed(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

/// Resolves on Ctrl-C or SIGTERM (what process managers send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
