//! `bench broker`: the broker alone, with the relay's producer settings and the publish
//! probe's consumer. Records are produced at a fixed rate straight from memory (no database,
//! no registry), so the figures bound what the relay can reach on this broker.

use std::time::Duration;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use futures::future::join_all;
use messaging::KafkaSettings;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use uuid::Uuid;

use crate::cli::BrokerArgs;
use crate::consumer::PublishProbe;
use crate::isolation::{self, Names};
use crate::stats::{Percentiles, Recorder};

/// About the size of an Avro event record of the mix.
const PAYLOAD_BYTES: usize = 320;

/// Runs the probe and removes its topics.
///
/// # Errors
/// When the broker cannot be reached.
pub async fn run(args: BrokerArgs) -> anyhow::Result<()> {
    let names = Names::random();
    let kafka = KafkaSettings {
        brokers: args.brokers.clone(),
        topic_prefix: names.topic_prefix.clone(),
        partitions: 3,
        replication: 1,
        message_timeout: Duration::from_secs(10),
    };
    println!(
        "bench broker — {}: {} records/s for {} s to {}.tasks on {}",
        Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        args.rate,
        args.seconds,
        names.topic_prefix,
        args.brokers
    );
    let measured = measure(&args, &names, &kafka).await;
    if !args.keep {
        if let Err(error) = isolation::delete_topics(&args.brokers, &names.topics()).await {
            eprintln!("clean-up: {error:#}");
        }
    }
    measured
}

async fn measure(args: &BrokerArgs, names: &Names, kafka: &KafkaSettings) -> anyhow::Result<()> {
    messaging::ensure_topics(kafka)
        .await
        .context("creating the probe topics")?;
    let topic = schemas::Topic::Tasks.name(&names.topic_prefix);
    let probe = PublishProbe::start(
        &args.brokers,
        &names.consumer_group,
        std::slice::from_ref(&topic),
        args.fetch_wait_ms,
    )?;
    let producer = messaging::idempotent_producer(kafka)?;
    let payload = vec![b'x'; PAYLOAD_BYTES];
    let send = |key: &str| {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let headers = OwnedHeaders::new().insert(Header {
            key: "occurred_at",
            value: Some(&now),
        });
        let record = FutureRecord::to(&topic)
            .key(key)
            .payload(&payload)
            .headers(headers);
        producer.send_result(record).map_err(|(error, _)| error)
    };

    // One record first: the consumer is assigned and the producer connected before measuring.
    send("warm-up")?
        .await
        .context("warm-up record")?
        .map_err(|(error, _)| error)?;
    anyhow::ensure!(
        probe.wait_for(1, Duration::from_secs(30)).await,
        "the warm-up record was not consumed"
    );
    probe.take_latencies();

    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut ticks = interval_at(started, Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut acks = Vec::new();
    loop {
        let scheduled = ticks.tick().await;
        if scheduled >= deadline {
            break;
        }
        let delivery = send(&Uuid::new_v4().to_string())?;
        acks.push(tokio::spawn(async move {
            (delivery.await, scheduled.elapsed())
        }));
    }
    let sent = acks.len() as u64;
    let mut recorder = Recorder::default();
    for outcome in join_all(acks).await {
        match outcome {
            Ok((Ok(Ok(_)), latency)) => recorder.record(latency),
            Ok((Ok(Err((error, _))), _)) => recorder.fail(&error.into()),
            Ok((Err(cancelled), _)) => recorder.fail(&cancelled.into()),
            Err(panicked) => recorder.fail(&panicked.into()),
        }
    }
    let complete = probe
        .wait_for(sent + 1, Duration::from_secs(args.seconds + 30))
        .await;
    let consumed = Percentiles::of(&probe.take_latencies());
    println!(
        "produced: {sent} records, {} acknowledged, {} failed",
        recorder.ok(),
        recorder.failed
    );
    println!(
        "ack latency (send → acknowledged, acks=all): {}",
        Percentiles::of(&recorder.latencies)
    );
    println!(
        "end to end (send → consumed): {consumed}; {} of {sent} consumed{}",
        probe.records().saturating_sub(1),
        if complete { "" } else { " (TIMED OUT)" }
    );
    for error in &recorder.first_errors {
        println!("  error: {error}");
    }
    probe.stop().await;
    Ok(())
}
