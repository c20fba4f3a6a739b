//! Sharing a database with other components' sqlx migrations.

use schema_registry::migrate;

use crate::helpers::{create_database, drop_database};

const OTHER_COMPONENT: &str = "CREATE TABLE public._sqlx_migrations ( \
        version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
        installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
        checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)";

const OTHER_ROWS: &str = "INSERT INTO public._sqlx_migrations \
     (version, description, success, checksum, execution_time) \
     VALUES (1, 'store', TRUE, '\\x00', 1), (20260101000000, 'clash', TRUE, '\\x01', 1)";

#[tokio::test]
async fn migrations_keep_their_own_history_and_run_concurrently() {
    let (admin, database, pool) = create_database().await;
    sqlx::query(OTHER_COMPONENT).execute(&pool).await.unwrap();
    sqlx::query(OTHER_ROWS).execute(&pool).await.unwrap();

    let (a, b) = tokio::join!(migrate(&pool), migrate(&pool));
    a.unwrap();
    b.unwrap();
    migrate(&pool).await.unwrap();

    let ours: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_registry._sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ours, 1);
    let theirs: i64 = sqlx::query_scalar("SELECT count(*) FROM public._sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(theirs, 2);
    // The pool's connections kept the default search_path.
    for _ in 0..3 {
        let path: String = sqlx::query_scalar("SHOW search_path")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(!path.contains("schema_registry"), "{path}");
    }
    pool.close().await;
    drop_database(&admin, &database).await;
}
