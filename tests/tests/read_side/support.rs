//! Generating history through the write side and observing the read models.

use std::time::{Duration, Instant};

use projectors::service::Service;
use projectors::{Generation, ProjectionName};
use serde_json::json;
use tests::{projector_settings, Platform};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Creates `tasks` tasks (half of them cancelled) and a conversation with `messages` messages
/// through the REST API; returns the number of events stored.
pub async fn history(platform: &Platform, tasks: usize, messages: usize) -> usize {
    let (status, agent) = platform
        .post(
            "acme",
            "/v1/agents",
            json!({ "name": "Ada", "industry": "retail", "provider": "openai", "model": "gpt-4o" }),
        )
        .await;
    assert_eq!(status, 201);
    let agent = agent["id"].as_str().unwrap().to_owned();
    assert_eq!(
        platform
            .post("acme", &format!("/v1/agents/{agent}/deploy"), json!({}))
            .await
            .0,
        200
    );
    let creates = (0..tasks).map(|n| async move {
        let (status, task) = platform
            .post("acme", "/v1/tasks", json!({ "title": format!("task {n}") }))
            .await;
        assert_eq!(status, 201);
        if n % 2 == 0 {
            let id = task["id"].as_str().unwrap();
            assert_eq!(
                platform
                    .post("acme", &format!("/v1/tasks/{id}/cancel"), json!({}))
                    .await
                    .0,
                200
            );
        }
    });
    futures::future::join_all(creates).await;
    let (status, conversation) = platform
        .post(
            "acme",
            "/v1/conversations",
            json!({ "agent_id": agent, "channel": "web", "customer_ref": "c-1" }),
        )
        .await;
    assert_eq!(status, 201, "starting the conversation: {conversation}");
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    for n in 0..messages {
        let path = if n % 2 == 0 { "messages" } else { "replies" };
        let (status, _) = platform
            .post(
                "acme",
                &format!("/v1/conversations/{conversation}/{path}"),
                json!({ "text": format!("m{n}") }),
            )
            .await;
        assert_eq!(status, 200);
    }
    platform.stored_events().await.len()
}

/// Waits until every live projection has applied everything on its topics.
pub async fn caught_up(platform: &Platform, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let lag = projectors::lag::lag(&platform.pool, &platform.brokers, &platform.topic_prefix)
            .await
            .unwrap();
        let behind: i64 = lag.iter().map(projectors::lag::PartitionLag::lag).sum();
        if behind == 0 && !lag.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let lagging: Vec<String> = lag
                .iter()
                .filter(|l| l.lag() > 0)
                .map(|l| {
                    format!(
                        "{} {}[{}] applied until {} of {}",
                        l.projection, l.topic, l.partition, l.applied_until, l.high_watermark
                    )
                })
                .collect();
            panic!("projections still {behind} records behind after {timeout:?}: {lagging:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Row count and an order-independent checksum of every table of a projection's live generation.
pub async fn fingerprint(
    platform: &Platform,
    projection: ProjectionName,
) -> Vec<(String, i64, String)> {
    let generation = Generation::live(&platform.pool, projection).await.unwrap();
    let mut out = Vec::new();
    for table in projection.tables() {
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '') FROM {}.{table} x",
            generation.schema()
        );
        let (count, sum): (i64, String) = sqlx::query_as(&sql)
            .fetch_one(&platform.pool)
            .await
            .unwrap();
        out.push(((*table).to_owned(), count, sum));
    }
    out
}

pub async fn count(platform: &Platform, projection: ProjectionName, table: &str) -> i64 {
    let generation = Generation::live(&platform.pool, projection).await.unwrap();
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {}.{table}",
        generation.schema()
    ))
    .fetch_one(&platform.pool)
    .await
    .unwrap()
}

/// Runs the six live projections until they have applied everything published so far.
pub async fn all_projections_caught_up(
    platform: &Platform,
) -> (CancellationToken, JoinHandle<anyhow::Result<()>>) {
    let service = Service::build(&projector_settings(platform), ProjectionName::ALL.to_vec())
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(service.run(stop.clone()));
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    caught_up(platform, Duration::from_secs(60)).await;
    (stop, running)
}

/// The live tasks view drifts from what its events say: the first task's title changed by hand.
pub async fn edit_one_task_title(platform: &Platform) {
    sqlx::query(
        "UPDATE rm_tasks_g1.tasks SET title = title || ' (edited)'
         WHERE task_id = (SELECT task_id FROM rm_tasks_g1.tasks ORDER BY task_id LIMIT 1)",
    )
    .execute(&platform.pool)
    .await
    .unwrap();
}
