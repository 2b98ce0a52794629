//! The portal's own database: SQLite on one machine (the default), PostgreSQL when several
//! instances share one store (`DATABASE_URL=postgres://…`). monday stays the source of truth
//! for tickets; this holds what monday cannot (members, sessions, the outbox, receipts).
//!
//! Both databases run the same SQL: every query is written once with `$1`, `$2`… placeholders,
//! which both sqlx drivers accept, and [`crate::on_db!`] runs it on whichever pool is in use. The
//! few things only PostgreSQL has (row locks for the outbox's leases, LISTEN/NOTIFY) branch on
//! [`Db::backend`]. sqlx's `Any` driver would hide the branching but locks an unused MySQL
//! driver (with a security advisory) into `Cargo.lock`; an enum costs a macro.

pub mod migrate;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool on either database. Clones share the pool.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs one piece of sqlx code on whichever pool `db` holds: the body is compiled once per
/// database, so the SQL and the Rust types must suit both (`$N` placeholders, `i64` for every
/// integer, `String` for text).
///
/// ```ignore
/// crate::on_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE id = $1")
///     .bind(id)
///     .execute(pool)
///     .await)
/// ```
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite($pool) => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`, created when missing for
    /// SQLite) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let db = Self::open(url).await?;
        migrate::run(&db).await?;
        Ok(db)
    }

    /// Opens without migrating.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        // WAL mode, so the CLI (`invite`) and the running server can use the same file at once.
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Answers when the database does (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        crate::on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|done| done.rows_affected())).map(|_| ())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        crate::on_db!(self, pool => pool.close().await)
    }
}

/// Seconds since the Unix epoch, the unit every timestamp column uses.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether `url` names a database the portal can use.
pub fn is_database_url(url: &str) -> bool {
    ["sqlite:", "postgres:", "postgresql:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}
