//! `bench visible`: command → visible in the query API. The command-api (with its relay), the
//! six projections and the query API run in this process on a fresh database and topics. An
//! open loop sends create-task commands at a fixed rate; for each answer, GET /v1/tasks/{id}
//! with the answer's `X-Consistency-Token` (the query API waits until the tasks projection
//! applied it) is repeated until it answers 200 fresh. Latency counts from each command's
//! scheduled send time to that answer.

use std::time::Duration;

use anyhow::Context;
use futures::future::join_all;
use hdrhistogram::Histogram;
use projectors::ProjectionName;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::acks::AckProbe;
use crate::api::{Api, Read};
use crate::cli::VisibleArgs;
use crate::isolation::{self, Names};
use crate::platform::Platform;
use crate::read_side::ReadSide;
use crate::stats::{histogram, Percentiles, Recorder};

/// Visible p99 at the offered rate, in milliseconds.
pub const VISIBLE_P99_TARGET_MS: f64 = 100.0;
/// The achieved rate must be at least this share of the offered one for the figure to count.
const RATE_HELD: f64 = 0.95;
/// A task not visible after this long counts as failed.
const GIVE_UP: Duration = Duration::from_secs(60);
/// The warm-up's paced seconds (not recorded).
const WARM_UP: Duration = Duration::from_secs(2);

/// One paced phase.
pub struct Paced {
    pub offered: u32,
    pub elapsed: Duration,
    /// Scheduled send → 201.
    pub commands: Recorder,
    /// Scheduled send → 200 fresh from the query API.
    pub visible: Recorder,
    /// Reads that came back not (yet) visible and were repeated.
    pub repeated: u64,
    /// Commit → acknowledged by the broker (the relay's own measure), every event.
    pub published: Histogram<u64>,
    /// Event occurred → applied by the tasks projection (its live runner's own measure).
    pub projected: Histogram<u64>,
}

impl Paced {
    fn achieved(&self) -> f64 {
        self.commands.ok() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs everything; the database and topics are removed even when a phase fails.
///
/// # Errors
/// When setup fails.
pub async fn run(args: VisibleArgs) -> anyhow::Result<()> {
    let names = Names::random();
    println!(
        "bench visible — {}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    println!(
        "create-task commands at {}/s for {} s; {cores} cores; brokers {}; database {}, topics {}.*",
        args.rate, args.seconds, args.servers.brokers, names.database, names.topic_prefix
    );
    // Before the services start, so that every sample of theirs is ours.
    let probe = AckProbe::install()?;
    let measured = measure(&args, &names, &probe).await;
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
    summary(&measured?);
    Ok(())
}

async fn measure(args: &VisibleArgs, names: &Names, probe: &AckProbe) -> anyhow::Result<Paced> {
    let platform = Platform::start(&args.servers.postgres, &args.servers.brokers, names).await?;
    messaging::ensure_topics(&platform.kafka_settings())
        .await
        .context("creating the topics")?;
    let read_side = ReadSide::start(&platform, ProjectionName::ALL.to_vec(), true).await?;
    println!(
        "command-api at {}, query API at {}, projectors: all six",
        platform.base_url,
        read_side.query_url.as_deref().unwrap_or("?")
    );
    let measured = phases(args, &platform, &read_side, probe).await;
    let stopped = read_side.stop().await;
    let platform_stopped = platform.stop().await;
    let paced = measured?;
    stopped?;
    platform_stopped?;
    Ok(paced)
}

async fn phases(
    args: &VisibleArgs,
    platform: &Platform,
    read_side: &ReadSide,
    probe: &AckProbe,
) -> anyhow::Result<Paced> {
    let api = Api::new(&platform.token)?;
    let query_url = read_side.query_url.clone().context("no query API")?;
    let first = Instant::now();
    let (_, visible) = one(&api, &platform.base_url, &query_url, first).await?;
    println!(
        "first task visible after {:.2} s (projector consumer groups joining)",
        visible.0.as_secs_f64()
    );
    let warm = paced(&api, &platform.base_url, &query_url, args.rate, WARM_UP).await;
    println!(
        "warm-up: {} commands at {}/s, {} visible, {} failed (not recorded)",
        warm.commands.ok(),
        args.rate,
        warm.visible.ok(),
        warm.visible.failed
    );
    let duration = Duration::from_secs(args.seconds);
    probe.take_latencies();
    probe.take_projected();
    let mut measured = paced(&api, &platform.base_url, &query_url, args.rate, duration).await;
    measured.published = probe.take_latencies();
    measured.projected = probe.take_projected();
    Ok(measured)
}

/// Scheduled send → answered, and → visible (with how many reads were repeated).
type Timings = (Duration, (Duration, u64));

/// One command and its reads until visible.
async fn one(
    api: &Api,
    command_url: &str,
    query_url: &str,
    since: Instant,
) -> anyhow::Result<Timings> {
    let accepted = api.create_task(command_url).await?;
    let answered = since.elapsed();
    let mut repeated = 0;
    loop {
        if api.read_task(query_url, &accepted).await? == Read::Visible {
            return Ok((answered, (since.elapsed(), repeated)));
        }
        repeated += 1;
        anyhow::ensure!(
            since.elapsed() < GIVE_UP,
            "task {} not visible after {GIVE_UP:?}",
            accepted.id
        );
    }
}

/// Open loop: a command every 1/rate s, each in a task of its own, for `duration`.
async fn paced(
    api: &Api,
    command_url: &str,
    query_url: &str,
    rate: u32,
    duration: Duration,
) -> Paced {
    let started = Instant::now();
    let deadline = started + duration;
    let mut ticks = interval_at(started, Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sent = Vec::new();
    loop {
        let scheduled = ticks.tick().await;
        if scheduled >= deadline {
            break;
        }
        let (api, command_url, query_url) =
            (api.clone(), command_url.to_owned(), query_url.to_owned());
        sent.push(tokio::spawn(async move {
            one(&api, &command_url, &query_url, scheduled).await
        }));
    }
    let elapsed = started.elapsed();
    let mut result = Paced {
        offered: rate,
        elapsed,
        commands: Recorder::default(),
        visible: Recorder::default(),
        repeated: 0,
        published: histogram(),
        projected: histogram(),
    };
    for outcome in join_all(sent).await {
        match outcome {
            Ok(Ok((answered, (visible, repeated)))) => {
                result.commands.record(answered);
                result.visible.record(visible);
                result.repeated += repeated;
            }
            Ok(Err(error)) => result.visible.fail(&error),
            Err(panicked) => result.visible.fail(&panicked.into()),
        }
    }
    result
}

fn summary(paced: &Paced) {
    println!();
    println!(
        "== command → visible in the query API at {} commands/s offered (open loop) ==",
        paced.offered
    );
    println!(
        "commands: {} answered, {} failed (command or read) in {:.2} s; achieved {:.1} commands/s of {} offered",
        paced.commands.ok(),
        paced.visible.failed,
        paced.elapsed.as_secs_f64(),
        paced.achieved(),
        paced.offered
    );
    println!(
        "command (scheduled send → 201): {}",
        Percentiles::of(&paced.commands.latencies)
    );
    println!(
        "  of which the events' way, commit → acknowledged by the broker (the relay's measure): {}",
        Percentiles::of(&paced.published)
    );
    println!(
        "  and event → applied by the tasks projection, committed (its runner's measure): {}",
        Percentiles::of(&paced.projected)
    );
    let visible = Percentiles::of(&paced.visible.latencies);
    println!("visible (scheduled send → GET /v1/tasks/{{id}} with X-Consistency-Token answers 200 fresh): {visible}");
    println!(
        "reads answered not yet visible and repeated: {}",
        paced.repeated
    );
    for error in &paced.visible.first_errors {
        println!("  error: {error}");
    }
    println!();
    println!("== summary ==");
    let held = paced.achieved() >= RATE_HELD * f64::from(paced.offered);
    let pass = held
        && paced.visible.failed == 0
        && visible.count > 0
        && visible.p99_ms <= VISIBLE_P99_TARGET_MS;
    println!(
        "visible: p99 {:.2} ms at {:.1} commands/s ({} offered) (target <= {VISIBLE_P99_TARGET_MS} ms): {}",
        visible.p99_ms,
        paced.achieved(),
        paced.offered,
        if pass { "PASS" } else { "FAIL" }
    );
    if !held {
        println!(
            "  the offered rate was not held (below {:.0}% of it)",
            RATE_HELD * 100.0
        );
    }
}
