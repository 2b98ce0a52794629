//! Migrations, applied at start-up: `migrations/sqlite/` or `migrations/postgres/`, each file
//! once, in version order, each in a transaction, recorded in `schema_migrations`. Instances
//! starting together on PostgreSQL take turns (an advisory lock). A database migrated by an
//! earlier version of the portal (sqlx's `_sqlx_migrations`) keeps what it applied.

use super::{Backend, Db, now_unix};

/// One migration file, embedded in the binary.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($backend:literal, $version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(
                "../../../migrations/",
                $backend,
                "/",
                stringify!($version),
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

/// Every SQLite migration; a test checks that each file in the folder is listed.
pub const SQLITE: &[Migration] = &[
    migration!("sqlite", 20261123000001, "sessions"),
    migration!("sqlite", 20261123000002, "monday_webhooks"),
    migration!("sqlite", 20261123000003, "auth"),
    migration!("sqlite", 20261123000004, "outbox"),
    migration!("sqlite", 20261124000005, "sessions_and_leases"),
    migration!("sqlite", 20261124000006, "threads_and_calls"),
    migration!("sqlite", 20261124000007, "notifications"),
    migration!("sqlite", 20261124000008, "change_counters"),
    migration!("sqlite", 20261124000009, "tickets_counter"),
    migration!("sqlite", 20261125000010, "roles_and_followers"),
    migration!("sqlite", 20261125000011, "resolution"),
    migration!("sqlite", 20261125000012, "attachments"),
    migration!("sqlite", 20261125000013, "languages"),
];

/// Every PostgreSQL migration.
pub const POSTGRES: &[Migration] = &[
    migration!("postgres", 20261124000001, "schema"),
    migration!("postgres", 20261124000002, "threads_and_calls"),
    migration!("postgres", 20261124000003, "board_event_queue"),
    migration!("postgres", 20261124000004, "notifications"),
    migration!("postgres", 20261124000005, "change_counters"),
    migration!("postgres", 20261125000006, "roles_and_followers"),
    migration!("postgres", 20261125000007, "resolution"),
    migration!("postgres", 20261125000008, "attachments"),
    migration!("postgres", 20261125000009, "languages"),
];

/// An arbitrary, fixed key for PostgreSQL's advisory lock around migrations.
const MIGRATION_LOCK: i64 = 0x706f_7274_616c;

pub async fn run(db: &Db) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .execute(&mut *conn)
            .await?;
            // Versions an earlier portal applied with sqlx's migrator count as applied.
            let legacy: Option<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            )
            .fetch_optional(&mut *conn)
            .await?;
            if legacy.is_some() {
                sqlx::raw_sql(
                    "INSERT INTO schema_migrations (version, name, applied_at)
                     SELECT version, description, 0 FROM _sqlx_migrations WHERE success
                     ON CONFLICT (version) DO NOTHING",
                )
                .execute(&mut *conn)
                .await?;
            }
            for migration in SQLITE {
                let applied: Option<(i64,)> =
                    sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(migration.version)
                        .fetch_optional(&mut *conn)
                        .await?;
                if applied.is_some() {
                    continue;
                }
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(migration.version)
                .bind(migration.name)
                .bind(now_unix())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Ok(())
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *conn)
                .await?;
            let result = async {
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (
                         version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                )
                .execute(&mut *conn)
                .await?;
                for migration in POSTGRES {
                    let applied: Option<(i64,)> =
                        sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                            .bind(migration.version)
                            .fetch_optional(&mut *conn)
                            .await?;
                    if applied.is_some() {
                        continue;
                    }
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
                    sqlx::query(
                        "INSERT INTO schema_migrations (version, name, applied_at) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(migration.version)
                    .bind(migration.name)
                    .bind(now_unix())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                }
                Ok::<(), sqlx::Error>(())
            }
            .await;
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *conn)
                .await?;
            result
        }
    }
}

/// The migrations for `backend`, in order.
pub fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        for (backend, folder) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(folder);
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .expect("the migrations folder")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".sql"))
                .collect();
            files.sort();
            let listed: Vec<String> = migrations(backend)
                .iter()
                .map(|m| format!("{}_{}.sql", m.version, m.name))
                .collect();
            assert_eq!(files, listed, "{folder}: every file listed, in order");
        }
    }
}
