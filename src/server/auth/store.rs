//! Where browser sessions live: tower-sessions' store interface over the portal's own database,
//! on SQLite and PostgreSQL alike. Besides the record it keeps the member the session signs in
//! (read from the record as it is saved), so removing a member can end all of their sessions at
//! once, on every instance. Records are served from memory while the [`Memory`]'s
//! generation they were read in is current: ending a session anywhere moves it.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use super::Member;
use super::session::member_in;
use crate::server::db::Db;
use crate::server::memory::Memory;

/// tower-sessions' store over [`Db`].
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
    memory: Arc<Memory>,
}

fn backend_error(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

impl DbSessionStore {
    pub fn new(db: Db, memory: Arc<Memory>) -> Self {
        Self { db, memory }
    }

    /// Ends every session `member` has, wherever it was opened. Returns how many.
    pub async fn delete_member(&self, member: &Member) -> Result<u64, sqlx::Error> {
        let deleted = crate::on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM sessions WHERE portal_id = $1 AND email = $2",
        )
        .bind(&member.portal_id)
        .bind(&member.email)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        self.memory.changed_here();
        Ok(deleted)
    }

    /// Inserts `record` unless its id is taken; false when it is.
    async fn insert(&self, record: &Record) -> Result<bool, session_store::Error> {
        let generation = self.memory.generation();
        let (data, member) = encode(record)?;
        let inserted = crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO sessions (id, data, expiry_date, portal_id, email)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(record.expiry_date.unix_timestamp())
        .bind(member.as_ref().map(|m| m.portal_id.clone()))
        .bind(member.map(|m| m.email))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(backend_error)?;
        if inserted == 1 {
            self.memory
                .sessions
                .put(record.id, record.clone(), generation);
        }
        Ok(inserted == 1)
    }
}

/// The record's data as JSON, and the member it signs in (if any).
fn encode(record: &Record) -> Result<(String, Option<Member>), session_store::Error> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok((data, member_in(&record.data)))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; a collision is a new id, never an overwrite.
        while !self.insert(record).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let generation = self.memory.generation();
        let (data, member) = encode(record)?;
        crate::on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO sessions (id, data, expiry_date, portal_id, email)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data,
                 expiry_date = excluded.expiry_date, portal_id = excluded.portal_id,
                 email = excluded.email",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(record.expiry_date.unix_timestamp())
        .bind(member.as_ref().map(|m| m.portal_id.clone()))
        .bind(member.map(|m| m.email))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(backend_error)?;
        self.memory
            .sessions
            .put(record.id, record.clone(), generation);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let generation = self.memory.generation();
        if let Some(record) = self.memory.sessions.get(id, generation)
            && record.expiry_date > OffsetDateTime::now_utc()
        {
            return Ok(Some(record));
        }
        let row: Option<(String, i64)> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "SELECT data, expiry_date FROM sessions WHERE id = $1 AND expiry_date > $2",
        )
        .bind(id.to_string())
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .fetch_optional(pool)
        .await)
        .map_err(backend_error)?;
        let Some((data, expiry)) = row else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(expiry)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let record = Record {
            id: *id,
            data,
            expiry_date,
        };
        self.memory.sessions.put(*id, record.clone(), generation);
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        crate::on_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend_error)?;
        // A load racing this one may have read the record before it went: a new generation
        // makes sure nothing read before now is served.
        self.memory.changed_here();
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        crate::on_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE expiry_date < $1")
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend_error)?;
        Ok(())
    }
}
