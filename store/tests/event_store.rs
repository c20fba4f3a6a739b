//! The event store against a real PostgreSQL: outbox rows and idempotency keys commit with
//! the events, versions and conflicts behave.

use chrono::Utc;
use domain::task::{Task, TaskCommand};
use domain::{DomainError, TenantId};
use sqlx::PgPool;
use store::{CommandMetadata, OutboxBatch, Repository, StoreError, Target, WarmConnections};
use uuid::Uuid;

async fn fresh_database() -> PgPool {
    let server = std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let url = format!("{server}/test_store_{}", Uuid::new_v4().simple());
    store::create_database_if_missing(&url).await.unwrap();
    let pool = store::connect(&url, 5).await.unwrap();
    store::migrate(&pool).await.unwrap();
    pool
}

fn metadata(key: Option<&str>) -> CommandMetadata {
    CommandMetadata {
        tenant: TenantId::parse("acme").unwrap(),
        occurred_at: Utc::now(),
        correlation_id: "c".into(),
        causation_id: None,
        traceparent: None,
        actor: "tester".into(),
        idempotency: key.map(|k| (k.to_owned(), "hash-1".to_owned())),
    }
}

fn create(title: &str) -> TaskCommand {
    TaskCommand::CreateTask {
        title: title.into(),
        description: None,
        priority: None,
    }
}

#[tokio::test]
async fn events_and_outbox_rows_commit_together_in_order() {
    let pool = fresh_database().await;
    let tasks = Repository::<Task>::new(&WarmConnections::new(pool.clone(), 2));
    let id = Uuid::now_v7().to_string();
    let first = tasks
        .execute(&id, Target::Existing, create("a"), None, metadata(None))
        .await
        .unwrap();
    let second = tasks
        .execute(
            &id,
            Target::Existing,
            TaskCommand::CancelTask { reason: None },
            Some(1),
            metadata(None),
        )
        .await;
    assert_eq!(first.version, 1);
    assert_eq!(second.unwrap().version, 2);

    let rows = OutboxBatch::new(pool.clone())
        .oldest(10, &[])
        .await
        .unwrap();
    let seen: Vec<(String, i64, String)> = rows
        .iter()
        .map(|r| (r.aggregate_id.clone(), r.sequence, r.event_type.clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (id.clone(), 1, "TaskCreated".into()),
            (id.clone(), 2, "TaskCancelled".into())
        ]
    );
    let metadata: serde_json::Value = serde_json::from_str(&rows[0].metadata).unwrap();
    assert_eq!(metadata["tenant_id"], "acme");
    let payload: serde_json::Value = serde_json::from_str(&rows[0].payload).unwrap();
    assert_eq!(payload["TaskCreated"]["title"], "a");
    // Rows the relay has in flight are left out of its next read.
    let rest = OutboxBatch::new(pool.clone())
        .oldest(10, &[rows[0].id])
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![rows[1].id]
    );

    OutboxBatch::new(pool.clone())
        .acknowledge(&[rows[0].id])
        .await
        .unwrap();
    assert_eq!(OutboxBatch::new(pool).backlog().await.unwrap(), 1);
}

#[tokio::test]
async fn a_rejected_command_writes_nothing() {
    let pool = fresh_database().await;
    let tasks = Repository::<Task>::new(&WarmConnections::new(pool.clone(), 2));
    let id = Uuid::now_v7().to_string();
    let result = tasks
        .execute(
            &id,
            Target::Existing,
            TaskCommand::StartTask,
            None,
            metadata(Some("k0")),
        )
        .await;
    assert!(matches!(
        result,
        Err(StoreError::Rejected(DomainError::NotFound))
    ));
    assert_eq!(OutboxBatch::new(pool.clone()).backlog().await.unwrap(), 0);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(keys, 0);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_mismatch() {
    let pool = fresh_database().await;
    let tasks = Repository::<Task>::new(&WarmConnections::new(pool, 2));
    let id = Uuid::now_v7().to_string();
    tasks
        .execute(&id, Target::Existing, create("a"), None, metadata(None))
        .await
        .unwrap();
    let stale = tasks
        .execute(
            &id,
            Target::Existing,
            TaskCommand::CancelTask { reason: None },
            Some(0),
            metadata(None),
        )
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch {
            expected: 0,
            current: 1
        })
    ));
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_with_the_events() {
    let pool = fresh_database().await;
    let tasks = Repository::<Task>::new(&WarmConnections::new(pool.clone(), 2));
    let tenant = TenantId::parse("acme").unwrap();
    let first_id = Uuid::now_v7().to_string();
    tasks
        .execute(
            &first_id,
            Target::Existing,
            create("a"),
            None,
            metadata(Some("key-1")),
        )
        .await
        .unwrap();

    // The same key on another new aggregate: the whole append is refused.
    let second_id = Uuid::now_v7().to_string();
    let again = tasks
        .execute(
            &second_id,
            Target::Existing,
            create("a"),
            None,
            metadata(Some("key-1")),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert_eq!(
        tasks.load(&second_id).await.unwrap().1,
        0,
        "nothing of the retry was stored"
    );

    let answer = store::find_idempotent(&pool, &tenant, "key-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            answer.aggregate_id.as_str(),
            answer.version,
            answer.request_hash.as_str()
        ),
        (first_id.as_str(), 1, "hash-1")
    );
    let other_tenant = TenantId::parse("globex").unwrap();
    assert_eq!(
        store::find_idempotent(&pool, &other_tenant, "key-1")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn concurrent_writes_to_one_aggregate_conflict_instead_of_interleaving() {
    let pool = fresh_database().await;
    let tasks = std::sync::Arc::new(Repository::<Task>::new(&WarmConnections::new(
        pool.clone(),
        2,
    )));
    let id = Uuid::now_v7().to_string();
    tasks
        .execute(&id, Target::Existing, create("a"), None, metadata(None))
        .await
        .unwrap();
    let attempts = (0..8).map(|_| {
        let tasks = tasks.clone();
        let id = id.clone();
        tokio::spawn(async move {
            tasks
                .execute(
                    &id,
                    Target::Existing,
                    TaskCommand::CancelTask { reason: None },
                    None,
                    metadata(None),
                )
                .await
        })
    });
    let results = futures_join(attempts).await;
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(accepted, 1, "exactly one cancel wins: {results:?}");
    for result in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(
            result,
            Err(StoreError::Conflict | StoreError::Rejected(DomainError::InvalidState { .. }))
        ));
    }
    assert_eq!(OutboxBatch::new(pool).backlog().await.unwrap(), 2);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

#[tokio::test]
async fn long_conversations_load_from_snapshots_with_the_right_state() {
    use domain::agent::{AgentSnapshot, AgentStatus};
    use domain::conversation::{Conversation, ConversationCommand};
    use domain::AgentId;

    let pool = fresh_database().await;
    let conversations =
        Repository::<Conversation>::snapshotting(&WarmConnections::new(pool.clone(), 2), 10);
    let id = Uuid::now_v7().to_string();
    let agent = AgentSnapshot {
        agent_id: AgentId::from_uuid(Uuid::now_v7()).unwrap(),
        tenant: Some(TenantId::parse("acme").unwrap()),
        status: AgentStatus::Deployed,
    };
    let start = ConversationCommand::StartConversation {
        agent,
        channel: "web".into(),
        customer_ref: "c".into(),
    };
    conversations
        .execute(&id, Target::Existing, start, None, metadata(None))
        .await
        .unwrap();
    for n in 0..45 {
        let text = format!("message {n}");
        let command = if n % 2 == 0 {
            ConversationCommand::ReceiveMessage { text }
        } else {
            ConversationCommand::SendReply { text, usage: None }
        };
        conversations
            .execute(&id, Target::Existing, command, None, metadata(None))
            .await
            .unwrap();
    }
    let snapshots: i64 =
        sqlx::query_scalar("SELECT count(*) FROM snapshots WHERE aggregate_id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(snapshots >= 1, "snapshots were written");
    assert_eq!(conversations.load(&id).await.unwrap().1, 46);

    // The next message is numbered from the snapshotted state plus the events after it.
    let next = conversations
        .execute(
            &id,
            Target::Existing,
            ConversationCommand::ReceiveMessage {
                text: "again".into(),
            },
            None,
            metadata(None),
        )
        .await
        .unwrap();
    assert_eq!(next.version, 47);
    let numbered: serde_json::Value = sqlx::query_scalar(
        "SELECT payload::jsonb FROM events WHERE aggregate_id = $1 AND sequence = 47",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(numbered["MessageReceived"]["message_number"], 46);
}

#[tokio::test]
async fn a_minted_id_is_created_without_a_load_and_an_existing_one_conflicts() {
    let pool = fresh_database().await;
    let tasks = Repository::<Task>::new(&WarmConnections::new(pool.clone(), 2));
    let id = Uuid::now_v7().to_string();
    let created = tasks
        .execute(&id, Target::Minted, create("a"), None, metadata(None))
        .await
        .unwrap();
    assert_eq!(created.version, 1);
    let (_task, version) = tasks.load(&id).await.unwrap();
    assert_eq!(version, 1);

    // Were a "minted" id ever taken, the stored stream wins: the append conflicts and
    // nothing more is written.
    let again = tasks
        .execute(&id, Target::Minted, create("b"), None, metadata(None))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn connections_are_kept_only_after_work_that_went_through() {
    let pool = fresh_database().await;
    let connections = WarmConnections::new(pool.clone(), 2);
    let tasks = Repository::<Task>::new(&connections);
    let id = Uuid::now_v7().to_string();
    tasks
        .execute(&id, Target::Minted, create("a"), None, metadata(None))
        .await
        .unwrap();
    assert_eq!(
        connections.kept(),
        1,
        "an accepted command keeps its connection"
    );

    // A refused command (the domain says no after a clean load) keeps it too.
    let refused = tasks
        .execute(&id, Target::Existing, create("again"), None, metadata(None))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(connections.kept(), 1);

    // A failed append (the minted id was taken) hands it back to the pool instead.
    let conflict = tasks
        .execute(&id, Target::Minted, create("b"), None, metadata(None))
        .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict)),
        "{conflict:?}"
    );
    assert_eq!(connections.kept(), 0);

    // Never more than `keep` are held back from the pool.
    let held: Vec<_> = futures::future::join_all((0..3).map(|_| connections.acquire()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    held.into_iter().for_each(store::WarmConnection::finish);
    assert_eq!(connections.kept(), 2);
}

#[tokio::test]
async fn the_pool_closes_once_the_kept_connections_are_returned() {
    let pool = fresh_database().await;
    let connections = WarmConnections::new(pool.clone(), 2);
    connections.acquire().await.unwrap().finish();
    assert_eq!(connections.kept(), 1);
    connections.close();
    assert_eq!(connections.kept(), 0);
    // Closed: a connection finished afterwards goes straight back.
    connections.acquire().await.unwrap().finish();
    assert_eq!(connections.kept(), 0);
    tokio::time::timeout(std::time::Duration::from_secs(5), pool.close())
        .await
        .expect("the pool closes: no connection is held out of it");
}

#[tokio::test]
async fn a_connection_is_not_kept_when_the_pool_has_nothing_left_for_others() {
    let pool = fresh_database().await; // 5 connections
    let connections = WarmConnections::new(pool.clone(), 5);
    let mut lent = Vec::new();
    for _ in 0..5 {
        lent.push(connections.acquire().await.unwrap());
    }
    // All five are out: a pool user could be waiting, so the first one finished goes back.
    lent.pop().unwrap().finish();
    assert_eq!(connections.kept(), 0);
    let other_user = tokio::time::timeout(std::time::Duration::from_secs(2), pool.acquire())
        .await
        .expect("the pool's other users are served")
        .unwrap();
    drop(other_user);
    // With an idle connection in the pool again, the next one finished is kept.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    lent.pop().unwrap().finish();
    assert_eq!(connections.kept(), 1);
}

#[tokio::test]
async fn kept_connections_go_back_to_the_pool_when_its_other_users_took_the_rest() {
    let pool = fresh_database().await; // 5 connections
    let connections = WarmConnections::new(pool.clone(), 2);
    let first = connections.acquire().await.unwrap();
    let second = connections.acquire().await.unwrap();
    first.finish();
    second.finish();
    assert_eq!(connections.kept(), 2, "kept while the pool had room");
    // Long-lived users of the pool itself (a relay's lock session, its listener, its
    // acknowledger) then take every connection left.
    let mut long_lived = Vec::new();
    for _ in 0..3 {
        long_lived.push(pool.acquire().await.unwrap());
    }
    // One more user of the pool (a load outside a command) must not wait for a command to
    // finish: with no command running, the kept connections would otherwise never go back
    // and it would time out.
    let started = std::time::Instant::now();
    let served = tokio::time::timeout(std::time::Duration::from_secs(3), pool.acquire())
        .await
        .expect("the pool's other users are served from the kept connections")
        .unwrap();
    assert!(
        started.elapsed() < store::RETURN_AFTER_IDLE + std::time::Duration::from_millis(500),
        "served after {:?}",
        started.elapsed()
    );
    assert!(connections.kept() < 2);
    drop(served);
    drop(long_lived);
}

#[tokio::test]
async fn a_pool_planning_per_run_never_reuses_a_generic_plan() {
    let pool = fresh_database().await;
    let url = pool
        .connect_options()
        .get_database()
        .map(str::to_owned)
        .unwrap();
    let server = std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let per_run = store::connect_planning(&format!("{server}/{url}"), 2, store::Planning::PerRun)
        .await
        .unwrap();
    for (pool, expected) in [(&pool, "auto"), (&per_run, "force_custom_plan")] {
        let mode: String = sqlx::query_scalar("SHOW plan_cache_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, expected);
    }
}
