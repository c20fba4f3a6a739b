//! A batch folded per row and written set-wise (a statement per table) leaves exactly the
//! rows that applying the same events one at a time leaves, in every projection.

use projectors::projections::{self, Changes};
use projectors::{Generation, ProjectionName};
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgPool;

/// The benchmark's history: agents reconfigured and deployed, tasks worked to every end,
/// conversations with dozens of messages, invoices paid and voided, interleaved across
/// aggregates as they are on the topics.
fn history(events: u64) -> Vec<(EventMetadata, AnyEvent)> {
    bench::history::History::new(events)
        .collect::<anyhow::Result<_>>()
        .expect("the history's commands are accepted")
}

#[tokio::test]
async fn batches_folded_per_row_write_what_one_event_at_a_time_writes() {
    let (_, pool) = tests::fresh_database("set_wise").await;
    projectors::generations::migrate(&pool).await.unwrap();
    // About two blocks of the history: every kind of event, many per aggregate in one batch.
    let events = history(400);
    for projection in ProjectionName::ALL {
        let batched = Generation {
            projection,
            number: 1,
        };
        let one_by_one = Generation {
            projection,
            number: 2,
        };
        batched.create(&pool).await.unwrap();
        one_by_one.create(&pool).await.unwrap();
        // Uneven batch sizes, so aggregates straddle batches too.
        for chunk in events.chunks(150) {
            let mut tx = pool.begin().await.unwrap();
            batched.enter(&mut tx).await.unwrap();
            let mut changes = Changes::new(projection);
            for (meta, event) in chunk {
                changes.add(&mut tx, meta, event).await.unwrap();
            }
            changes.write(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
        }
        let mut tx = pool.begin().await.unwrap();
        one_by_one.enter(&mut tx).await.unwrap();
        for (meta, event) in &events {
            projections::apply(projection, &mut tx, meta, event)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();

        for table in projection.tables() {
            if *table == "stream_versions" {
                continue; // the runtime writes it, not the projection
            }
            let rows = count(&pool, &format!("{}.{table}", batched.schema())).await;
            assert!(rows > 0, "{projection}.{table} got rows from the history");
            assert_eq!(
                rows,
                count(&pool, &format!("{}.{table}", one_by_one.schema())).await,
                "{projection}.{table}: as many rows both ways"
            );
            let differing: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM (SELECT * FROM {a}.{table} EXCEPT SELECT * FROM {b}.{table}) d",
                a = batched.schema(),
                b = one_by_one.schema(),
            ))
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(
                differing, 0,
                "{projection}.{table}: the same rows both ways"
            );
        }
    }
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}
