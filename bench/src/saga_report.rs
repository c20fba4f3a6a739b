//! What `bench sagas` measures from the database and prints.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::time::Instant;

use crate::cli::SagasArgs;
use crate::isolation::Names;
use crate::stats::{histogram, Percentiles};

/// The create phase.
pub struct Created {
    pub ids: Vec<String>,
    pub recorder: crate::stats::Recorder,
    pub started: Instant,
    pub elapsed: Duration,
}

/// TaskCreated → TaskCompleted of every completed task, by the events' `occurred_at` (set just
/// before each command's transaction commits; one clock, the command-api's).
pub struct Latencies {
    pub completed: Percentiles,
    pub first_created: Option<DateTime<Utc>>,
    pub last_completed: Option<DateTime<Utc>>,
}

/// Why the bench stopped waiting for the sagas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    AllEnded,
    /// Nothing was running and nothing changed for a while, yet not every task had a saga.
    Stalled,
    TimedOut,
}

/// How the sagas ended.
pub struct Finished {
    pub statuses: Vec<(String, i64)>,
    pub stop: Stop,
    /// From the first create until the last poll.
    pub waited: Duration,
    pub latencies: Latencies,
}

impl Finished {
    fn count(&self, status: &str) -> i64 {
        self.statuses
            .iter()
            .filter(|(s, _)| s == status)
            .map(|(_, n)| n)
            .sum()
    }

    /// Completed sagas per second, from the first TaskCreated to the last TaskCompleted.
    fn rate(&self) -> Option<(f64, f64)> {
        let first = self.latencies.first_created?;
        let last = self.latencies.last_completed?;
        let window = (last - first).to_std().ok()?.as_secs_f64();
        Some((self.count("completed") as f64 / window, window))
    }
}

/// # Errors
/// On database failure.
pub async fn completion_latencies(pool: &PgPool, warm_up: &str) -> anyhow::Result<Latencies> {
    let rows: Vec<(i64, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT (extract(epoch FROM d.at - c.at) * 1000000)::bigint, c.at, d.at
         FROM (SELECT aggregate_id, (metadata->>'occurred_at')::timestamptz AS at FROM events
               WHERE aggregate_type = 'task' AND event_type = 'TaskCreated' AND aggregate_id <> $1) c
         JOIN (SELECT aggregate_id, (metadata->>'occurred_at')::timestamptz AS at FROM events
               WHERE aggregate_type = 'task' AND event_type = 'TaskCompleted' AND aggregate_id <> $1) d
         USING (aggregate_id)",
    )
    .bind(warm_up)
    .fetch_all(pool)
    .await
    .context("reading TaskCreated and TaskCompleted times")?;
    let mut latencies = histogram();
    for (micros, _, _) in &rows {
        latencies.saturating_record(u64::try_from(*micros).unwrap_or(0).max(1));
    }
    Ok(Latencies {
        completed: Percentiles::of(&latencies),
        first_created: rows.iter().map(|(_, created, _)| *created).min(),
        last_completed: rows.iter().map(|(_, _, completed)| *completed).max(),
    })
}

pub fn header(args: &SagasArgs, names: &Names) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    println!(
        "bench sagas — {}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!(
        "{} task-execution sagas over {} agents; {cores} cores; brokers {}; database {}, topics {}.*",
        args.sagas, args.agents, args.servers.brokers, names.database, names.topic_prefix
    );
}

pub fn created(created: &Created, args: &SagasArgs) {
    println!();
    if args.rate == 0 {
        println!(
            "== creating {} tasks as fast as the REST API takes them ({} clients, closed loop) ==",
            args.sagas, args.clients
        );
    } else {
        println!(
            "== creating {} tasks at {}/s (open loop) ==",
            args.sagas, args.rate
        );
    }
    let recorder = &created.recorder;
    println!(
        "tasks: {} created, {} failed in {:.2} s ({:.1} tasks/s)",
        recorder.ok(),
        recorder.failed,
        created.elapsed.as_secs_f64(),
        recorder.ok() as f64 / created.elapsed.as_secs_f64()
    );
    println!("create latency: {}", Percentiles::of(&recorder.latencies));
    for error in &recorder.first_errors {
        println!("  error: {error}");
    }
}

pub fn summary(created: &Created, finished: &Finished) {
    println!();
    println!("== sagas ==");
    let statuses: Vec<String> = finished
        .statuses
        .iter()
        .map(|(status, count)| format!("{status} {count}"))
        .collect();
    let why = match finished.stop {
        Stop::AllEnded => "every saga ended",
        Stop::Stalled => "none running, nothing changed for 30 s",
        Stop::TimedOut => "TIMED OUT",
    };
    println!(
        "statuses {:.2} s after the first create ({why}): {}",
        finished.waited.as_secs_f64(),
        statuses.join(", ")
    );
    let started: i64 = finished.statuses.iter().map(|(_, n)| n).sum();
    let tasks = i64::try_from(created.ids.len()).unwrap_or(i64::MAX);
    if started < tasks {
        println!(
            "  {} of {tasks} created tasks have no saga instance",
            tasks - started
        );
    }
    println!(
        "TaskCreated → TaskCompleted (occurred_at of both events): {} over {} completed tasks",
        finished.latencies.completed, finished.latencies.completed.count
    );
    println!();
    println!("== summary ==");
    let completed = finished.count("completed");
    match finished.rate() {
        Some((rate, window)) => println!(
            "sagas: {completed} of {} completed in {window:.2} s (first TaskCreated → last TaskCompleted) = {rate:.1} sagas completed/s; p99 TaskCreated → TaskCompleted {:.2} ms",
            created.ids.len(),
            finished.latencies.completed.p99_ms
        ),
        None => println!("sagas: none of {} completed", created.ids.len()),
    }
    let unfinished = i64::try_from(created.ids.len()).unwrap_or(i64::MAX) - completed;
    if unfinished > 0 {
        println!("  {unfinished} sagas did not complete (see the statuses above)");
    }
}
