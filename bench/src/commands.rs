//! `bench commands`: setup, the three measured phases, the summary, clean-up.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::acks::AckProbe;
use crate::baseline::InProcess;
use crate::cli::CommandsArgs;
use crate::consumer::PublishProbe;
use crate::isolation::{self, Names};
use crate::load::{self, PhaseResult};
use crate::platform::Platform;
use crate::report::{self, Drain, Publish};
use crate::rest::RestClient;
use crate::stats::Percentiles;
use crate::vacuum;

/// Runs everything; the databases and topics are removed even when a phase fails.
///
/// # Errors
/// When setup fails or a phase cannot run at all.
pub async fn run(args: CommandsArgs) -> anyhow::Result<()> {
    let names = Names::random();
    // Before the command-api starts, so that the relay's first sample is ours.
    let acks = AckProbe::install()?;
    report::header(&args, &names);
    let measured = measure(&args, &names, &acks).await;
    if !args.keep {
        clean_up(&args, &names).await;
    }
    let (rest, publish, baseline) = measured?;
    report::summary(&rest, &baseline, &publish);
    Ok(())
}

async fn measure(
    args: &CommandsArgs,
    names: &Names,
    acks: &AckProbe,
) -> anyhow::Result<(PhaseResult, Publish, PhaseResult)> {
    let platform = Platform::start(&args.postgres, &args.brokers, names).await?;
    let max_connections = platform.settings.database_max_connections;
    println!(
        "command-api at {} (pool of {max_connections} connections)",
        platform.base_url
    );
    let measured = over_http(args, names, &platform, acks).await;
    let stopped = platform.stop().await;
    let (rest, publish) = measured?;
    stopped?;
    let baseline = in_process(args, names, max_connections).await?;
    Ok((rest, publish, baseline))
}

async fn over_http(
    args: &CommandsArgs,
    names: &Names,
    platform: &Platform,
    acks: &AckProbe,
) -> anyhow::Result<(PhaseResult, Publish)> {
    messaging::ensure_topics(&platform.kafka_settings())
        .await
        .context("creating the bench topics")?;
    let probe = PublishProbe::start(
        &args.brokers,
        &names.consumer_group,
        &names.topics(),
        args.fetch_wait_ms,
    )?;
    let stop_vacuum = CancellationToken::new();
    let vacuum = (args.vacuum_every > 0).then(|| {
        println!(
            "diagnostic: VACUUM (ANALYZE) outbox and ANALYZE events every {} s",
            args.vacuum_every
        );
        let every = Duration::from_secs(args.vacuum_every);
        vacuum::spawn(platform.pool.clone(), every, stop_vacuum.clone())
    });
    let probes = Probes {
        consumed: &probe,
        acks,
    };
    let measured = http_phases(args, platform, &probes).await;
    stop_vacuum.cancel();
    if let Some(vacuum) = vacuum {
        let _ = vacuum.await;
    }
    if probe.unmeasured() > 0 {
        println!(
            "warning: {} records had no readable occurred_at header",
            probe.unmeasured()
        );
    }
    probe.stop().await;
    measured
}

/// The two ends a record's publish latency is read at.
struct Probes<'a> {
    /// Commit → consumed from the topic by the bench's own consumer.
    consumed: &'a PublishProbe,
    /// Commit → acknowledged by the broker, as the relay measures it.
    acks: &'a AckProbe,
}

impl Probes<'_> {
    fn take_latencies(&self) -> (Percentiles, Percentiles) {
        (
            Percentiles::of(&self.acks.take_latencies()),
            Percentiles::of(&self.consumed.take_latencies()),
        )
    }
}

async fn http_phases(
    args: &CommandsArgs,
    platform: &Platform,
    probe: &Probes<'_>,
) -> anyhow::Result<(PhaseResult, Publish)> {
    let duration = Duration::from_secs(args.seconds);
    let timeout = Duration::from_secs(args.drain_timeout);
    let clients = (0..args.clients)
        .map(|_| RestClient::new(&platform.base_url, &platform.token))
        .collect::<anyhow::Result<Vec<_>>>()?;

    load::warm_up(&clients).await?;
    let warm = drain(probe, &platform.pool, timeout).await?;
    report::drain("warm-up (one mix cycle per client)", &warm);
    anyhow::ensure!(
        warm.complete,
        "the warm-up's events did not reach Kafka; is the broker up?"
    );
    probe.take_latencies();

    // The probe catches up after the loop (see `PublishProbe::pause`).
    probe.consumed.pause()?;
    let rest = load::closed_loop(&clients, duration).await;
    probe.consumed.resume()?;
    report::load(
        &format!(
            "REST commands over HTTP, {} clients, closed loop",
            args.clients
        ),
        &rest,
    );
    let after_rest = drain(probe, &platform.pool, timeout).await?;
    report::drain("after the closed loop", &after_rest);
    let (acknowledged, _caught_up) = probe.take_latencies();
    report::saturated_publish(&acknowledged);

    let commands = load::paced(&clients, duration, args.rate).await;
    let after = drain(probe, &platform.pool, timeout).await?;
    let (acknowledged, consumed) = probe.take_latencies();
    let publish = Publish {
        offered: args.rate,
        commands,
        events: after.events - after_rest.events,
        records: after.records.saturating_sub(after_rest.records),
        complete: after.complete && after_rest.complete,
        acknowledged,
        consumed,
    };
    report::publish(&publish);
    report::drain("after the paced phase", &after);
    Ok((rest, publish))
}

/// Waits until the relay reported as many acknowledgements, and the consumer saw as many
/// records, as there are committed events.
async fn drain(probe: &Probes<'_>, pool: &PgPool, timeout: Duration) -> anyhow::Result<Drain> {
    let started = Instant::now();
    let events = isolation::committed_events(pool).await?;
    let acknowledged = probe.acks.wait_for(events, timeout).await;
    let left = timeout.saturating_sub(started.elapsed());
    let consumed = probe.consumed.wait_for(events, left).await;
    Ok(Drain {
        events,
        records: probe.consumed.records(),
        acknowledged: probe.acks.acknowledged(),
        complete: acknowledged && consumed,
        waited: started.elapsed(),
    })
}

async fn in_process(
    args: &CommandsArgs,
    names: &Names,
    max_connections: u32,
) -> anyhow::Result<PhaseResult> {
    let url = isolation::database_url(&args.postgres, &names.baseline_database);
    let pool = isolation::empty_database(&url, max_connections).await?;
    let executor = InProcess::prepare(&pool, args.baseline_with_outbox_trigger).await?;
    let workers = vec![executor; args.clients as usize];
    load::warm_up(&workers).await?;
    let baseline = load::closed_loop(&workers, Duration::from_secs(args.seconds)).await;
    let schema = if args.baseline_with_outbox_trigger {
        "WITH the outbox trigger (diagnostic)"
    } else {
        "events and snapshots tables only"
    };
    report::load(
        &format!(
            "baseline: cqrs-es + postgres-es in process ({schema}), {} workers, pool of {max_connections}, closed loop",
            args.clients
        ),
        &baseline,
    );
    drop(workers);
    pool.close().await;
    Ok(baseline)
}

async fn clean_up(args: &CommandsArgs, names: &Names) {
    for database in [&names.database, &names.baseline_database] {
        if let Err(error) = isolation::drop_database(&args.postgres, database).await {
            eprintln!("clean-up: {error:#}");
        }
    }
    if let Err(error) = isolation::delete_topics(&args.brokers, &names.topics()).await {
        eprintln!("clean-up: {error:#}");
    }
}
