//! A rebuild while writes and queries go on: queries never see an empty or half-built view,
//! and afterwards the new generation serves everything.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use projectors::{Generation, ProjectionName};
use tests::{projector_settings, Platform, PlatformOptions};

use crate::support::{all_projections_caught_up, caught_up, count, edit_one_task_title, history};

/// Reads the tasks view the way the query API does: live generation, then its tables.
async fn visible_tasks(pool: &sqlx::PgPool) -> i64 {
    let mut tx = pool.begin().await.unwrap();
    let live: i32 = sqlx::query_scalar(
        "SELECT live_generation FROM projection_generations WHERE projection = 'tasks'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    Generation {
        projection: ProjectionName::Tasks,
        number: live,
    }
    .enter(&mut tx)
    .await
    .unwrap();
    let count = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_under_load_never_serves_an_empty_or_partial_view() {
    let platform = Arc::new(Platform::start("projrebuild", PlatformOptions::default()).await);
    history(&platform, 300, 50).await;
    let (stop, running) = all_projections_caught_up(&platform).await;
    let floor = visible_tasks(&platform.pool).await;
    assert_eq!(floor, 300);

    // Readers watch the view; writers keep adding tasks during the rebuild.
    let done = Arc::new(AtomicBool::new(false));
    let lowest = Arc::new(AtomicI64::new(i64::MAX));
    let reader = {
        let (pool, done, lowest) = (platform.pool.clone(), done.clone(), lowest.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                lowest.fetch_min(visible_tasks(&pool).await, Ordering::Relaxed);
                reads += 1;
            }
            reads
        })
    };
    let writer = {
        let platform = platform.clone();
        tokio::spawn(async move { history(&platform, 100, 0).await })
    };
    let runtime = projectors::service::runtime(&projector_settings(&platform))
        .await
        .unwrap();
    let rebuilt = projectors::rebuild::rebuild(&runtime, ProjectionName::Tasks, false)
        .await
        .unwrap();
    writer.await.unwrap();
    done.store(true, Ordering::Relaxed);
    let reads = reader.await.unwrap();

    assert!(reads > 10, "queries ran during the rebuild ({reads})");
    assert!(
        lowest.load(Ordering::Relaxed) >= floor,
        "a query saw {} tasks, fewer than {floor}",
        lowest.load(Ordering::Relaxed)
    );
    assert_eq!(rebuilt.to, rebuilt.from + 1);
    // The rebuild loads without the indexes no write needs and builds them before the swap.
    let schema = Generation {
        projection: ProjectionName::Tasks,
        number: rebuilt.to,
    }
    .schema();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname",
    )
    .bind(&schema)
    .fetch_all(&platform.pool)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "stream_versions_pkey",
            "task_history_pkey",
            "tasks_by_agent",
            "tasks_by_status",
            "tasks_by_tenant",
            "tasks_pkey"
        ]
    );
    let unanalyzed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = $1 AND last_analyze IS NULL",
    )
    .bind(&schema)
    .fetch_one(&platform.pool)
    .await
    .unwrap();
    assert_eq!(unanalyzed, 0, "every rebuilt table has planner statistics");
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    caught_up(&platform, Duration::from_secs(60)).await;
    assert_eq!(
        count(&platform, ProjectionName::Tasks, "tasks").await,
        400,
        "the new generation keeps up after the swap"
    );
    stop.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_that_differs_from_the_live_view_is_not_swapped_in() {
    let platform = Platform::start("projcheck", PlatformOptions::default()).await;
    history(&platform, 20, 0).await;
    let (stop, running) = all_projections_caught_up(&platform).await;
    // The live view drifts from what its events say (one title changed by hand).
    edit_one_task_title(&platform).await;

    let runtime = projectors::service::runtime(&projector_settings(&platform))
        .await
        .unwrap();
    let refused = projectors::rebuild::rebuild(&runtime, ProjectionName::Tasks, false).await;
    let error = refused
        .expect_err("the rebuilt rows differ from the live ones")
        .to_string();
    assert!(
        error.contains("tasks: live has 20 rows, rebuilt has 20; 2 rows differ"),
        "{error}"
    );
    let live: i32 = sqlx::query_scalar(
        "SELECT live_generation FROM projection_generations WHERE projection = 'tasks'",
    )
    .fetch_one(&platform.pool)
    .await
    .unwrap();
    assert_eq!(live, 1, "the live generation stays");

    // The operator wants the rebuilt view (it is the one the events say): accepted, reported.
    let swapped = projectors::rebuild::rebuild_checked(
        &runtime,
        ProjectionName::Tasks,
        false,
        projectors::rebuild::Check::AcceptDifferences,
    )
    .await
    .unwrap();
    assert_eq!(
        swapped.differences,
        vec!["tasks: live has 20 rows, rebuilt has 20; 2 rows differ".to_owned()]
    );
    let edited: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM rm_tasks_g{}.tasks WHERE title LIKE '%(edited)'",
        swapped.to
    ))
    .fetch_one(&platform.pool)
    .await
    .unwrap();
    assert_eq!(edited, 0, "the live view is the rebuilt one now");
    stop.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn values_swapped_between_rows_are_a_difference() {
    let platform = Platform::start("projswap", PlatformOptions::default()).await;
    history(&platform, 6, 0).await;
    let (stop, running) = all_projections_caught_up(&platform).await;
    // Every value is still there, on the wrong rows: the two first tasks' titles swapped.
    // (Summed row hashes that mix columns linearly can miss it, depending on the values.)
    sqlx::query(
        "WITH pair AS (SELECT task_id, title FROM rm_tasks_g1.tasks ORDER BY task_id LIMIT 2),
              swapped AS (SELECT a.task_id, b.title FROM pair a JOIN pair b ON a.task_id <> b.task_id)
         UPDATE rm_tasks_g1.tasks t SET title = s.title FROM swapped s WHERE t.task_id = s.task_id",
    )
    .execute(&platform.pool)
    .await
    .unwrap();

    let runtime = projectors::service::runtime(&projector_settings(&platform))
        .await
        .unwrap();
    let error = projectors::rebuild::rebuild(&runtime, ProjectionName::Tasks, false)
        .await
        .expect_err("the rebuilt rows differ from the live ones")
        .to_string();
    assert!(
        error.contains("tasks: live has 6 rows, rebuilt has 6; 4 rows differ"),
        "{error}"
    );
    stop.cancel();
    running.await.unwrap().unwrap();
}
