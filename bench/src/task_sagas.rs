//! `bench sagas`: task-execution sagas against the local providers. The command-api, the
//! projectors (the agents projection the saga reads to pick an agent, or all six) and the
//! sagas service run in this process on a fresh database and topics. A few agents are created
//! and deployed, then tasks are created — as fast as the REST API takes them, or at a stated
//! rate — and each task's saga assigns, starts, asks the (local) LLM and completes it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use futures::future::join_all;
use projectors::{Generation, ProjectionName};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::api::Api;
use crate::cli::SagasArgs;
use crate::isolation::{self, Names};
use crate::platform::Platform;
use crate::read_side::ReadSide;
use crate::saga_report::{self, Created, Finished, Stop};
use crate::stats::Recorder;

/// Statuses a saga ends in.
const TERMINAL: [&str; 4] = ["completed", "compensated", "cancelled", "parked"];
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
/// Nothing running and nothing changed for this long: the missing sagas will not come.
const STALLED: Duration = Duration::from_secs(30);

/// Runs everything; the database and topics are removed even when a phase fails.
///
/// # Errors
/// When setup fails.
pub async fn run(args: SagasArgs) -> anyhow::Result<()> {
    let names = Names::random();
    saga_report::header(&args, &names);
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
    let (created, finished) = measured?;
    saga_report::summary(&created, &finished);
    Ok(())
}

fn start_sagas(
    platform: &Platform,
    args: &SagasArgs,
) -> (sagas::settings::Settings, CancellationToken) {
    let mut settings = sagas::settings::Settings::for_database(&platform.url, &platform.secret);
    settings.kafka_brokers = platform.settings.kafka_brokers.clone();
    settings.schema_registry_url = platform.registry_url().to_owned();
    settings.topic_prefix = platform.settings.topic_prefix.clone();
    settings.command_api_url = platform.base_url.clone();
    settings.workers = args.workers;
    (settings, CancellationToken::new())
}

async fn measure(args: &SagasArgs, names: &Names) -> anyhow::Result<(Created, Finished)> {
    let platform = Platform::start(&args.servers.postgres, &args.servers.brokers, names).await?;
    messaging::ensure_topics(&platform.kafka_settings())
        .await
        .context("creating the topics")?;
    let projections = if args.all_projections {
        ProjectionName::ALL.to_vec()
    } else {
        vec![ProjectionName::Agents]
    };
    let read_side = ReadSide::start(&platform, projections, false).await?;
    let (settings, stop) = start_sagas(&platform, args);
    let service = sagas::service::Service::build(&settings)
        .await
        .context("building the sagas service")?;
    let sagas: JoinHandle<anyhow::Result<()>> = tokio::spawn(service.run(stop.clone()));
    println!(
        "command-api at {}, projectors: {}, sagas: {} workers, local LLM (latency {} ms)",
        platform.base_url,
        if args.all_projections {
            "all six"
        } else {
            "agents only"
        },
        settings.workers,
        settings.local_llm_latency_ms
    );
    let measured = phases(args, &platform).await;
    stop.cancel();
    let sagas_stopped = tokio::time::timeout(Duration::from_secs(30), sagas).await;
    let read_stopped = read_side.stop().await;
    let platform_stopped = platform.stop().await;
    let measured = measured?;
    sagas_stopped
        .context("the sagas service did not stop in time")?
        .context("the sagas service panicked")?
        .context("the sagas service failed")?;
    read_stopped?;
    platform_stopped?;
    Ok(measured)
}

async fn phases(args: &SagasArgs, platform: &Platform) -> anyhow::Result<(Created, Finished)> {
    let api = Api::new(&platform.token)?;
    for n in 0..args.agents {
        api.deployed_agent(&platform.base_url, &format!("Agent {n}"))
            .await?;
    }
    let started = Instant::now();
    wait_for_agents(&platform.pool, args.agents).await?;
    println!(
        "{} agents deployed and in the agents projection after {:.2} s",
        args.agents,
        started.elapsed().as_secs_f64()
    );
    let warm = api.create_task(&platform.base_url).await?;
    let started = Instant::now();
    let status = wait_for_warm_up(&platform.pool, &warm.id).await?;
    println!(
        "warm-up saga {status} after {:.2} s (not recorded)",
        started.elapsed().as_secs_f64()
    );

    let created = create_tasks(&api, &platform.base_url, args).await;
    saga_report::created(&created, args);
    let timeout = Duration::from_secs(args.timeout);
    let expected = created.ids.len();
    let (statuses, stop) =
        wait_for_sagas(&platform.pool, &warm.id, expected, created.started, timeout).await?;
    let waited = created.started.elapsed();
    let latencies = saga_report::completion_latencies(&platform.pool, &warm.id).await?;
    Ok((
        created,
        Finished {
            statuses,
            stop,
            waited,
            latencies,
        },
    ))
}

/// Waits until the agents projection shows `count` deployed agents.
async fn wait_for_agents(pool: &PgPool, count: u32) -> anyhow::Result<()> {
    let deadline = Instant::now() + SETUP_TIMEOUT;
    loop {
        let generation = Generation::live(pool, ProjectionName::Agents).await?;
        let deployed: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}.agents WHERE status = 'deployed'",
            generation.schema()
        ))
        .fetch_one(pool)
        .await?;
        if deployed >= i64::from(count) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {deployed} of {count} agents deployed in the projection after {SETUP_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the warm-up task's saga to end; answers its status.
async fn wait_for_warm_up(pool: &PgPool, task: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + SETUP_TIMEOUT;
    loop {
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM saga_instances
             WHERE saga_type = 'task_execution' AND correlation_id = $1",
        )
        .bind(task)
        .fetch_optional(pool)
        .await
        .context("reading the warm-up saga")?;
        if let Some(status) = status.filter(|s| TERMINAL.contains(&s.as_str())) {
            return Ok(status);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the warm-up saga did not end in {SETUP_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the measured sagas (every task-execution saga but the warm-up's) until `expected`
/// ended, or none is running and nothing changed for [`STALLED`], or `timeout` (since
/// `since`) passed; answers the count per status and why it stopped. The query reads the
/// whole (small) table: no list of ids, which would cost PostgreSQL more than the sagas.
async fn wait_for_sagas(
    pool: &PgPool,
    warm_up: &str,
    expected: usize,
    since: Instant,
    timeout: Duration,
) -> anyhow::Result<(Vec<(String, i64)>, Stop)> {
    let mut last_change = (Vec::new(), Instant::now());
    loop {
        let statuses: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, count(*) FROM saga_instances
             WHERE saga_type = 'task_execution' AND correlation_id <> $1
             GROUP BY status ORDER BY status",
        )
        .bind(warm_up)
        .fetch_all(pool)
        .await
        .context("reading saga statuses")?;
        let ended: i64 = statuses
            .iter()
            .filter(|(status, _)| TERMINAL.contains(&status.as_str()))
            .map(|(_, count)| count)
            .sum();
        let present: i64 = statuses.iter().map(|(_, count)| count).sum();
        if usize::try_from(ended).unwrap_or_default() >= expected {
            return Ok((statuses, Stop::AllEnded));
        }
        if since.elapsed() >= timeout {
            return Ok((statuses, Stop::TimedOut));
        }
        if statuses != last_change.0 {
            last_change = (statuses, Instant::now());
        } else if present == ended && last_change.1.elapsed() >= STALLED {
            return Ok((statuses, Stop::Stalled));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Creates `args.sagas` tasks: closed loop of `args.clients` clients (rate 0) or open loop.
async fn create_tasks(api: &Api, command_url: &str, args: &SagasArgs) -> Created {
    let started = Instant::now();
    let ids = Arc::new(Mutex::new(Vec::new()));
    let record = |ids: &Arc<Mutex<Vec<String>>>, id: String| {
        ids.lock().unwrap_or_else(PoisonError::into_inner).push(id);
    };
    let mut recorder = Recorder::default();
    if args.rate == 0 {
        let remaining = Arc::new(AtomicU64::new(args.sagas));
        let clients = (0..args.clients).map(|_| {
            let (api, url, remaining, ids) = (
                api.clone(),
                command_url.to_owned(),
                remaining.clone(),
                ids.clone(),
            );
            tokio::spawn(async move {
                let mut recorder = Recorder::default();
                while remaining
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let sent = Instant::now();
                    match api.create_task(&url).await {
                        Ok(accepted) => {
                            recorder.record(sent.elapsed());
                            record(&ids, accepted.id);
                        }
                        Err(error) => recorder.fail(&error),
                    }
                }
                recorder
            })
        });
        for client in join_all(clients).await {
            match client {
                Ok(client) => recorder.merge(client),
                Err(panicked) => recorder.fail(&panicked.into()),
            }
        }
    } else {
        let mut ticks = interval_at(started, Duration::from_secs_f64(1.0 / f64::from(args.rate)));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut sent = Vec::new();
        for _ in 0..args.sagas {
            let scheduled = ticks.tick().await;
            let (api, url, ids) = (api.clone(), command_url.to_owned(), ids.clone());
            sent.push(tokio::spawn(async move {
                let accepted = api.create_task(&url).await?;
                record(&ids, accepted.id);
                anyhow::Ok(scheduled.elapsed())
            }));
        }
        for outcome in join_all(sent).await {
            match outcome {
                Ok(Ok(latency)) => recorder.record(latency),
                Ok(Err(error)) => recorder.fail(&error),
                Err(panicked) => recorder.fail(&panicked.into()),
            }
        }
    }
    let elapsed = started.elapsed();
    let ids = std::mem::take(&mut *ids.lock().unwrap_or_else(PoisonError::into_inner));
    Created {
        ids,
        recorder,
        started,
        elapsed,
    }
}
