//! monday's daily call count, kept in the portal's database: restored at start-up (a restart
//! must not forget what the day has spent), saved every few seconds while the portal runs, and
//! read by `doctor`, which runs as a process of its own.

use std::sync::Arc;
use std::time::Duration;

use monday::CallBudget;
use sqlx::SqlitePool;

/// How often a changed count is written.
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// Today's count as last saved: `(day, calls)`.
pub async fn saved(db: &SqlitePool) -> Option<(String, f64)> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT day, tenths FROM monday_usage ORDER BY day DESC LIMIT 1")
            .fetch_optional(db)
            .await
            .ok()
            .flatten();
    row.map(|(day, tenths)| (day, tenths as f64 / 10.0))
}

/// Puts the saved count for today back into `budget`.
pub async fn restore(db: &SqlitePool, budget: &CallBudget) {
    let (today, _) = budget.usage();
    let row: Option<(i64,)> = sqlx::query_as("SELECT tenths FROM monday_usage WHERE day = ?")
        .bind(&today)
        .fetch_optional(db)
        .await
        .ok()
        .flatten();
    if let Some((tenths,)) = row {
        budget.restore(&today, tenths.max(0) as u64);
    }
}

pub async fn save(db: &SqlitePool, budget: &CallBudget) -> Result<(), sqlx::Error> {
    let (day, tenths) = budget.usage();
    sqlx::query(
        "INSERT INTO monday_usage (day, tenths) VALUES (?, ?)
         ON CONFLICT (day) DO UPDATE SET tenths = MAX(tenths, excluded.tenths)",
    )
    .bind(&day)
    .bind(tenths as i64)
    .execute(db)
    .await?;
    // A week of history is plenty for `doctor`.
    sqlx::query("DELETE FROM monday_usage WHERE day < date(?, '-7 days')")
        .bind(&day)
        .execute(db)
        .await?;
    Ok(())
}

/// Saves the count whenever it changed, until shut down (and once more then).
pub fn spawn_keeper(
    db: SqlitePool,
    budget: Arc<CallBudget>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let usage = budget.usage();
            if last.as_ref() != Some(&usage) {
                match save(&db, &budget).await {
                    Ok(()) => last = Some(usage),
                    Err(error) => tracing::warn!(%error, "could not save monday's call count"),
                }
            }
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(SAVE_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    });
}
