//! Projections with rebuild progress, and lag per partition: with the broker down (said so,
//! nothing fails) and against the real broker with records on the topics.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use super::Console;

async fn generation(pool: &PgPool, projection: &str, live: i32, building: Option<i32>) {
    sqlx::query(
        "INSERT INTO projection_generations (projection, live_generation, building_generation)
         VALUES ($1, $2, $3)",
    )
    .bind(projection)
    .bind(live)
    .bind(building)
    .execute(pool)
    .await
    .unwrap();
}

async fn offset(
    pool: &PgPool,
    projection: &str,
    generation: i32,
    topic: &str,
    partition: i32,
    next: i64,
) {
    sqlx::query(
        "INSERT INTO projection_offsets (projection, generation, topic, partition, next_offset)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(projection)
    .bind(generation)
    .bind(topic)
    .bind(partition)
    .bind(next)
    .execute(pool)
    .await
    .unwrap();
}

fn item<'a>(items: &'a Value, projection: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["projection"] == projection)
        .unwrap_or_else(|| panic!("{projection} listed"))
}

#[tokio::test]
async fn projections_show_generations_rebuild_progress_and_dead_letters_with_the_broker_down() {
    let console = Console::start().await;
    let pool = &console.app.pool;
    generation(pool, "tasks", 2, Some(3)).await;
    generation(pool, "agents", 1, None).await;
    for (partition, next) in [(0, 100), (1, 60), (2, 40)] {
        offset(pool, "tasks", 2, "agenthub.tasks", partition, next).await;
    }
    offset(pool, "tasks", 3, "agenthub.tasks", 0, 50).await;
    sqlx::query(
        "INSERT INTO projection_dead_letters (projection, topic, partition, \"offset\", error)
         VALUES ('tasks', 'agenthub.tasks', 0, 7, 'boom'), ('tasks', 'agenthub.tasks', 0, 8, 'boom')",
    )
    .execute(pool)
    .await
    .unwrap();

    let answer = console.get("/v1/admin/projections").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let broker = &answer.body["broker"];
    assert_eq!(broker["reachable"], false);
    assert_eq!(broker["brokers"], super::CLOSED_BROKER);
    assert!(broker["error"].as_str().unwrap().contains("127.0.0.1:1"));
    let items = &answer.body["items"];
    assert_eq!(
        items.as_array().unwrap().len(),
        6,
        "every projection, built or not"
    );

    let tasks = item(items, "tasks");
    assert_eq!(tasks["live_generation"], 2);
    assert_eq!(tasks["applied"], 200);
    assert_eq!(tasks["lag"], Value::Null, "unknown without the broker");
    assert_eq!(tasks["dead_letters"], 2);
    assert_eq!(tasks["topics"], serde_json::json!(["agenthub.tasks"]));
    let rebuild = &tasks["rebuild"];
    assert_eq!(rebuild["generation"], 3);
    assert_eq!(rebuild["applied"], 50);
    // Without high watermarks the target is what the live generation applied.
    assert_eq!(rebuild["target"], 200);
    assert_eq!(rebuild["target_source"], "live-offsets");
    assert_eq!(rebuild["progress"], 0.25);
    assert_eq!(rebuild["stalled"], false);
    assert!(rebuild["last_progress_at"].is_string());

    let agents = item(items, "agents");
    assert_eq!(agents["rebuild"], Value::Null);
    assert_eq!(agents["applied"], 0);
    assert_eq!(
        item(items, "audit")["live_generation"],
        Value::Null,
        "not started"
    );

    // A rebuild that stopped applying two minutes ago is called stalled.
    sqlx::query("UPDATE projection_offsets SET updated_at = now() - interval '5 minutes' WHERE generation = 3")
        .execute(pool)
        .await
        .unwrap();
    // The broker reading is reused for two seconds; the bookkeeping is read every time.
    let answer = console.get("/v1/admin/projections").await;
    assert_eq!(
        item(&answer.body["items"], "tasks")["rebuild"]["stalled"],
        true
    );

    let lag = console.get("/v1/admin/lag").await;
    assert_eq!(lag.status, StatusCode::OK);
    assert_eq!(lag.body["broker"]["reachable"], false);
    let rows = lag.body["items"].as_array().unwrap();
    // Only what is stored is known: the live generations' partitions, without watermarks.
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["projection"] == "tasks" && r["generation"] == 2));
    assert!(rows
        .iter()
        .all(|r| r["high_watermark"].is_null() && r["lag"].is_null()));
    assert_eq!(rows[0]["applied_until"], 100);
    console.stop().await;
}

fn brokers() -> String {
    std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

/// Creates `<prefix>.tasks` with two partitions and writes `counts[p]` records to partition p.
async fn fill_tasks_topic(prefix: &str, counts: [usize; 2]) {
    let topic = format!("{prefix}.tasks");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 2, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("the broker that .ci/run starts answers");
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    for (partition, count) in counts.into_iter().enumerate() {
        for n in 0..count {
            let payload = format!("record {n}");
            let record = FutureRecord::to(&topic)
                .partition(partition as i32)
                .key("k")
                .payload(payload.as_bytes());
            producer
                .send(record, Duration::from_secs(10))
                .await
                .expect("produced");
        }
    }
}

#[tokio::test]
async fn lag_is_the_high_watermarks_minus_the_stored_offsets() {
    let prefix = format!("__admin_lag_{}", uuid::Uuid::new_v4().simple());
    fill_tasks_topic(&prefix, [5, 3]).await;
    let console = Console::start_with(&brokers(), &prefix, |_| {}).await;
    let pool = &console.app.pool;
    let topic = format!("{prefix}.tasks");
    generation(pool, "tasks", 1, Some(2)).await;
    offset(pool, "tasks", 1, &topic, 0, 2).await;
    offset(pool, "tasks", 2, &topic, 0, 4).await;

    let lag = console.get("/v1/admin/lag").await;
    assert_eq!(lag.status, StatusCode::OK, "{:?}", lag.body);
    assert_eq!(lag.body["broker"]["reachable"], true, "{:?}", lag.body);
    let missing = lag.body["broker"]["missing_topics"].as_array().unwrap();
    assert!(missing.contains(&Value::from(format!("{prefix}.agents"))));
    let rows: Vec<(i64, i64, i64)> = lag.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["projection"] == "tasks")
        .map(|r| {
            (
                r["applied_until"].as_i64().unwrap(),
                r["high_watermark"].as_i64().unwrap(),
                r["lag"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, vec![(2, 5, 3), (0, 3, 3)]);

    let projections = console.get("/v1/admin/projections").await;
    let tasks = item(&projections.body["items"], "tasks");
    assert_eq!(tasks["lag"], 6);
    assert_eq!(tasks["rebuild"]["target"], 8, "the topic's records");
    assert_eq!(tasks["rebuild"]["target_source"], "high-watermarks");
    assert_eq!(tasks["rebuild"]["progress"], 0.5);

    let series = console.get("/v1/admin/timeseries?minutes=1").await;
    assert_eq!(series.status, StatusCode::OK, "{:?}", series.body);
    assert_eq!(series.body["lag"]["by_projection"]["tasks"], 6);
    // Audit reads the tasks topic too; it has no live generation, so all 8 are its lag.
    assert_eq!(series.body["lag"]["by_projection"]["audit"], 8);
    // agents, tasks, usage and audit read the tasks topic; conversations and billing have none.
    assert_eq!(series.body["lag"]["total"], 8 + 6 + 8 + 8);
    console.stop().await;
}
