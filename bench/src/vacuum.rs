//! Diagnostic (`--vacuum-every`): what autovacuum would do, for servers that have it off.
//! The relay deletes every outbox row it published; without VACUUM and fresh statistics the
//! planner's view of `outbox` and `events` drifts, which changes the relay's query plan.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const STATEMENTS: [&str; 2] = ["VACUUM (ANALYZE) outbox", "ANALYZE events"];

/// Vacuums and analyzes every `every` until `stop`.
pub fn spawn(pool: PgPool, every: Duration, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            // One statement at a time: VACUUM cannot run inside a multi-statement batch.
            for statement in STATEMENTS {
                if let Err(error) = sqlx::raw_sql(statement).execute(&pool).await {
                    eprintln!("vacuum: {statement}: {error}");
                }
            }
        }
    })
}
