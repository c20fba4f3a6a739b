//! Projection batches commit without waiting for their WAL flush, so a PostgreSQL crash can
//! take the last batches back — read model and stored offsets together — after the consumer
//! already committed its offset hint to the group. The projection must then apply those
//! records again from PostgreSQL's offsets, never resume from the group's hint.

use std::time::Duration;

use projectors::service::Service;
use projectors::{Generation, ProjectionName};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tests::{projector_settings, Platform, PlatformOptions};
use tokio_util::sync::CancellationToken;

use crate::support::{caught_up, fingerprint, history};

const PROJECTION: ProjectionName = ProjectionName::Tasks;

async fn run_until_caught_up(platform: &Platform) {
    let service = Service::build(&projector_settings(platform), ProjectionName::ALL.to_vec())
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(service.run(stop.clone()));
    caught_up(platform, Duration::from_secs(60)).await;
    stop.cancel();
    running.await.unwrap().unwrap();
}

/// The group's committed offsets at each partition's end, as the runner's hints leave them.
fn commit_hints_at_the_end(platform: &Platform, generation: Generation) {
    let group = projectors::runtime::group_id(&platform.topic_prefix, generation);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &platform.brokers)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut hints = TopicPartitionList::new();
    for topic in projectors::projections::topics(PROJECTION) {
        let name = topic.name(&platform.topic_prefix);
        let metadata = consumer
            .fetch_metadata(Some(&name), Duration::from_secs(10))
            .unwrap();
        for partition in metadata.topics()[0].partitions() {
            let (_, high) = consumer
                .fetch_watermarks(&name, partition.id(), Duration::from_secs(10))
                .unwrap();
            hints
                .add_partition_offset(&name, partition.id(), Offset::Offset(high))
                .unwrap();
        }
    }
    consumer.commit(&hints, CommitMode::Sync).unwrap();
    let committed = consumer
        .committed_offsets(hints.clone(), Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        committed.to_topic_map(),
        hints.to_topic_map(),
        "the group's hints are at the end"
    );
}

/// What a crash that lost every batch of the generation leaves: empty tables, no offsets.
async fn lose_every_batch(platform: &Platform, generation: Generation) {
    let schema = generation.schema();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(&schema)
    .fetch_all(&platform.pool)
    .await
    .unwrap();
    assert!(!tables.is_empty());
    let mut tx = platform.pool.begin().await.unwrap();
    for table in tables {
        sqlx::query(&format!("TRUNCATE {schema}.{table}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM projection_offsets WHERE projection = $1 AND generation = $2")
        .bind(generation.projection.as_str())
        .bind(generation.number)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_lost_with_the_server_are_applied_again_whatever_the_groups_hint_says() {
    let platform = Platform::start("projlost", PlatformOptions::default()).await;
    history(&platform, 12, 4).await;
    platform
        .wait_for_empty_outbox(Duration::from_secs(60))
        .await;
    run_until_caught_up(&platform).await;
    let before = fingerprint(&platform, PROJECTION).await;
    assert!(
        before.iter().any(|(_, rows, _)| *rows > 0),
        "the projection applied something: {before:?}"
    );
    let generation = Generation::live(&platform.pool, PROJECTION).await.unwrap();

    commit_hints_at_the_end(&platform, generation);
    lose_every_batch(&platform, generation).await;
    run_until_caught_up(&platform).await;

    assert_eq!(fingerprint(&platform, PROJECTION).await, before);
}
