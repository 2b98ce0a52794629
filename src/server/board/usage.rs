//! monday's daily call count, shared through the portal's database. monday counts calls per
//! account, so every instance saves its own count for the UTC day (one row per instance) and
//! reads what the others spent; a restarted instance finds its predecessor's row and counts it
//! too. A "day spent" answer one instance received stops the others as well. `doctor`, a
//! process of its own, reads the same rows.

use std::sync::Arc;
use std::time::Duration;

use monday::CallBudget;

use crate::server::db::{Db, now_unix};

/// How often the count is shared: at most this long for one instance to learn another's
/// spending. Reads stop at 95% of the cap, so two instances sharing every few seconds cannot
/// overshoot the cap between two shares at any realistic rate.
const SHARE_EVERY: Duration = Duration::from_secs(5);

/// The day's total as saved by every instance: `(day, calls)`, for `doctor`.
pub async fn saved(db: &Db) -> Option<(String, f64)> {
    let row: Option<(String, i64)> = crate::on_db!(db, pool => sqlx::query_as(
        "SELECT day, CAST(SUM(tenths) AS BIGINT) FROM monday_usage
         GROUP BY day ORDER BY day DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await)
    .ok()
    .flatten();
    row.map(|(day, tenths)| (day, tenths as f64 / 10.0))
}

/// Saves this instance's count and takes in what every other instance saved for today.
pub async fn share(db: &Db, instance: &str, budget: &CallBudget) -> Result<(), sqlx::Error> {
    let (day, tenths, spent_until) = budget.usage();
    let now = now_unix();
    crate::on_db!(db, pool => sqlx::query(
        "INSERT INTO monday_usage (day, instance, tenths, spent_until, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (day, instance) DO UPDATE
         SET tenths = excluded.tenths, spent_until = excluded.spent_until,
             updated_at = excluded.updated_at",
    )
    .bind(&day)
    .bind(instance)
    .bind(tenths as i64)
    .bind(spent_until)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    let others: (Option<i64>, Option<i64>) = crate::on_db!(db, pool => sqlx::query_as(
        "SELECT CAST(SUM(tenths) AS BIGINT), MAX(spent_until) FROM monday_usage
         WHERE day = $1 AND instance <> $2",
    )
    .bind(&day)
    .bind(instance)
    .fetch_one(pool)
    .await)?;
    budget.counted_elsewhere(&day, others.0.unwrap_or(0).max(0) as u64, others.1);
    Ok(())
}

/// Removes days older than a week (plenty for `doctor`).
pub async fn prune(db: &Db) -> Result<u64, sqlx::Error> {
    let cutoff = (time::OffsetDateTime::now_utc() - time::Duration::days(7))
        .date()
        .to_string();
    crate::on_db!(db, pool => sqlx::query("DELETE FROM monday_usage WHERE day < $1")
        .bind(cutoff)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
}

/// Shares the count every few seconds until shut down (and once more then).
pub fn spawn_keeper(
    db: Db,
    instance: String,
    budget: Arc<CallBudget>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = share(&db, &instance, &budget).await {
                tracing::warn!(%error, "could not share monday's call count");
            }
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(SHARE_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    });
}
