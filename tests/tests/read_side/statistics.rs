//! A live generation keeps its tables' planner statistics current itself (autovacuum may be
//! off or behind): plans made on an empty table's figures would read it by sequential scans
//! for as long as the runner's connection keeps them.

use std::time::{Duration, Instant};

use projectors::runtime::analyze_stale;
use projectors::{Generation, ProjectionName};
use tests::{Platform, PlatformOptions};

async fn analyzed(platform: &Platform, generation: Generation) -> bool {
    sqlx::query_scalar(
        "SELECT coalesce(last_analyze, last_autoanalyze) IS NOT NULL FROM pg_stat_user_tables
         WHERE schemaname = $1 AND relname = 'stream_versions'",
    )
    .bind(generation.schema())
    .fetch_one(&platform.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tables_a_generation_changed_enough_are_analyzed_and_only_those() {
    let platform = Platform::start("projstats", PlatformOptions::default()).await;
    projectors::generations::migrate(&platform.pool)
        .await
        .unwrap();
    let generation = Generation::live(&platform.pool, ProjectionName::Tasks)
        .await
        .unwrap();
    assert!(
        !analyzed(&platform, generation).await,
        "a new table is not analyzed"
    );
    assert_eq!(analyze_stale(&platform.pool, generation).await.unwrap(), 0);

    let mut conn = platform.pool.acquire().await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO {}.stream_versions (aggregate_id, tenant_id, version)
         SELECT gen_random_uuid(), 'acme', 1 FROM generate_series(1, 200)",
        generation.schema()
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    // The inserting session reports its changes to the statistics when it goes idle.
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut analyzed_tables = 0;
    while analyzed_tables == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        analyzed_tables = analyze_stale(&platform.pool, generation).await.unwrap();
    }
    assert_eq!(analyzed_tables, 1, "only stream_versions changed");
    assert!(analyzed(&platform, generation).await);
    // Analyzed: nothing is due until it changes again.
    assert_eq!(analyze_stale(&platform.pool, generation).await.unwrap(), 0);
}
