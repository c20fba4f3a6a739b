//! `bench rebuild`: the read side. A generated history goes straight onto fresh topics; then
//! all six projections are built from offset 0 twice — first by the live projectors
//! (generation 1, as a new deployment does), then by `projectors::rebuild::rebuild_together` for
//! all six at once, one read of the topics for all (generation 2, checked against 1 and swapped, as an operator does) — and the rows
//! they built are loaded again with a raw COPY into empty copies of the same tables.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use projectors::settings::Settings as ProjectorSettings;
use projectors::{Generation, ProjectionName};
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cli::RebuildArgs;
use crate::copy::{self, Loaded};
use crate::history::History;
use crate::isolation::{self, Names};
use crate::platform::start_registry;
use crate::produce;
use crate::progress::{self, Targets};
use crate::rebuild_report as report;

/// Partitions per topic, as the command-api creates them.
const PARTITIONS: i32 = 3;

/// One build of all six projections from offset 0.
#[derive(Debug)]
pub struct Build {
    /// When each projection had applied its whole backlog.
    pub caught_up: HashMap<ProjectionName, Duration>,
    /// When each rebuild returned (checked, swapped, old generation dropped); rebuilds only.
    pub finished: HashMap<ProjectionName, Duration>,
    /// Until the last projection was done.
    pub elapsed: Duration,
}

/// Everything the run measured.
pub struct Outcome {
    pub targets: Targets,
    pub initial: Build,
    pub rebuild: Build,
    /// Rows per table of the rebuilt generations, as (projection, table, rows).
    pub rows: Vec<(ProjectionName, &'static str, u64)>,
    pub dead_letters: i64,
    pub copy_bytes: u64,
    pub copy_one: Loaded,
    pub copy_six: Loaded,
}

impl Outcome {
    pub fn total_rows(&self) -> u64 {
        self.rows.iter().map(|(_, _, rows)| rows).sum()
    }

    pub fn total_records(&self) -> i64 {
        self.targets.values().sum()
    }
}

/// Runs everything; the database and topics are removed even when a phase fails.
///
/// # Errors
/// When setup fails or a phase cannot run at all.
pub async fn run(args: RebuildArgs) -> anyhow::Result<()> {
    let names = Names::random();
    report::header(&args, &names);
    let measured = measure(&args, &names).await;
    if !args.servers.keep {
        if let Err(error) = isolation::drop_database(&args.servers.postgres, &names.database).await
        {
            eprintln!("clean-up: {error:#}");
        }
        let topics = names.topics_with_dead_letters();
        if let Err(error) = isolation::delete_topics(&args.servers.brokers, &topics).await {
            eprintln!("clean-up: {error:#}");
        }
    }
    report::summary(&measured?);
    Ok(())
}

async fn measure(args: &RebuildArgs, names: &Names) -> anyhow::Result<Outcome> {
    let url = isolation::database_url(&args.servers.postgres, &names.database);
    let pool = isolation::empty_database(&url, 8).await?;
    store::migrate(&pool)
        .await
        .context("migrating the event store")?;
    projectors::generations::migrate(&pool)
        .await
        .context("migrating the projector tables")?;
    let registry = start_registry(&url).await?;
    let mut settings = ProjectorSettings::for_database(&url);
    settings.kafka_brokers = args.servers.brokers.clone();
    settings.schema_registry_url = registry.url().to_owned();
    settings.topic_prefix = names.topic_prefix.clone();
    let measured = phases(args, &settings, &pool).await;
    pool.close().await;
    registry.stop().await.context("stopping the registry")?;
    measured
}

async fn phases(
    args: &RebuildArgs,
    settings: &ProjectorSettings,
    pool: &PgPool,
) -> anyhow::Result<Outcome> {
    let timeout = Duration::from_secs(args.timeout);
    let kafka = messaging::KafkaSettings {
        brokers: settings.kafka_brokers.clone(),
        topic_prefix: settings.topic_prefix.clone(),
        partitions: PARTITIONS,
        replication: 1,
        message_timeout: Duration::from_secs(600),
    };
    messaging::ensure_topics(&kafka)
        .await
        .context("creating the topics")?;
    let produced = produce::produce(
        &kafka,
        &settings.schema_registry_url,
        History::new(args.events),
    )
    .await?;
    report::produced(&produced);
    let targets = progress::from_ends(&produced.ends);
    let marks = progress::targets(&settings.kafka_brokers, &settings.topic_prefix).await?;
    anyhow::ensure!(
        marks == targets,
        "the high watermarks ({marks:?}) are not where the records ended ({targets:?})"
    );
    anyhow::ensure!(
        u64::try_from(targets[&ProjectionName::Audit]).unwrap_or_default() == produced.total,
        "the topics hold {} records, {} were produced",
        targets[&ProjectionName::Audit],
        produced.total
    );
    report::targets(&targets);

    let initial = initial_build(settings, pool, &targets, timeout).await?;
    report::initial(&initial, &targets);
    let rebuild = rebuild_all(settings, pool, &targets, timeout).await?;
    report::rebuild(&rebuild, &targets);

    let mut live = Vec::new();
    for projection in ProjectionName::ALL {
        live.push(Generation::live(pool, projection).await?);
    }
    let dumps = copy::dump(pool, &live).await?;
    let rows = dumps
        .iter()
        .map(|dump| (dump.projection, dump.table, dump.rows))
        .collect();
    copy::prepare(pool, "bench_copy_one", &dumps).await?;
    let copy_one = copy::load_sequential(pool, "bench_copy_one", &dumps).await?;
    copy::prepare(pool, "bench_copy_six", &dumps).await?;
    let copy_six = copy::load_concurrent(pool, "bench_copy_six", &dumps).await?;
    let dead_letters: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_dead_letters")
        .fetch_one(pool)
        .await?;
    Ok(Outcome {
        targets,
        initial,
        rebuild,
        rows,
        dead_letters,
        copy_bytes: copy_one.bytes,
        copy_one,
        copy_six,
    })
}

/// Generation 1 of all six, by the live projectors (`projectors::service::Service`) from
/// offset 0, until each has stored offsets at the high watermarks.
async fn initial_build(
    settings: &ProjectorSettings,
    pool: &PgPool,
    targets: &Targets,
    timeout: Duration,
) -> anyhow::Result<Build> {
    let service = projectors::service::Service::build(settings, ProjectionName::ALL.to_vec())
        .await
        .context("building the projectors service")?;
    let stop = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(service.run(stop.clone()));
    let caught_up = progress::reached(pool, 1, targets, started, timeout).await;
    let lag = projectors::lag::lag(pool, &settings.kafka_brokers, &settings.topic_prefix).await;
    stop.cancel();
    running
        .await
        .context("the projectors service panicked")?
        .context("the projectors service failed")?;
    let caught_up = caught_up?;
    let behind: i64 = lag?.iter().map(projectors::lag::PartitionLag::lag).sum();
    anyhow::ensure!(behind == 0, "lag {behind} after the initial build");
    Ok(Build {
        elapsed: caught_up.values().copied().max().unwrap_or_default(),
        caught_up,
        finished: HashMap::new(),
    })
}

/// `projectors::rebuild::rebuild_together` for all six (one read of the topics for all):
/// generation 2 from offset 0, checked
/// against generation 1 and swapped. The live projectors are stopped (nothing is written).
async fn rebuild_all(
    settings: &ProjectorSettings,
    pool: &PgPool,
    targets: &Targets,
    timeout: Duration,
) -> anyhow::Result<Build> {
    let runtime = projectors::service::runtime(settings)
        .await
        .context("the rebuild's runtime")?;
    let started = Instant::now();
    let watch = {
        let (pool, targets) = (pool.clone(), targets.clone());
        tokio::spawn(async move { progress::reached(&pool, 2, &targets, started, timeout).await })
    };
    let rebuilt = projectors::rebuild::rebuild_together(
        &runtime,
        &ProjectionName::ALL,
        false,
        projectors::rebuild::Check::MustMatch,
    )
    .await;
    let returned = started.elapsed();
    let mut finished = HashMap::new();
    let mut failures = Vec::new();
    match rebuilt {
        Ok(results) => {
            for (projection, rebuilt) in results {
                match rebuilt {
                    Ok(rebuilt) if rebuilt.to == 2 => {
                        finished.insert(projection, rebuilt.elapsed);
                    }
                    Ok(rebuilt) => {
                        failures.push(format!("{projection}: built generation {}", rebuilt.to))
                    }
                    Err(error) => failures.push(format!("{projection}: {error}")),
                }
            }
        }
        Err(error) => failures.push(format!("the bulk load: {error}")),
    }
    if !failures.is_empty() {
        watch.abort();
        anyhow::bail!("rebuild failed: {}", failures.join("; "));
    }
    let caught_up = watch.await.context("the progress watch panicked")??;
    runtime.pool.close().await;
    Ok(Build {
        elapsed: returned,
        caught_up,
        finished,
    })
}
