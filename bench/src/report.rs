//! What the run prints: each phase as it ends, then the summary against the targets.

use std::time::Duration;

use crate::cli::CommandsArgs;
use crate::isolation::Names;
use crate::load::PhaseResult;
use crate::stats::Percentiles;

/// REST commands/s must reach this share of the in-process baseline.
pub const THROUGHPUT_RATIO_TARGET: f64 = 0.7;
/// Publish p99 (commit → acknowledged by the broker) at the offered rate, in milliseconds.
pub const PUBLISH_P99_TARGET_MS: f64 = 25.0;
/// The achieved rate must be at least this share of the offered one for the figure to count.
pub const RATE_HELD: f64 = 0.95;

/// The consumer caught up (or not) with the events committed so far.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    pub events: u64,
    pub records: u64,
    /// Records the relay reported acknowledged (a re-published record counts again).
    pub acknowledged: u64,
    pub complete: bool,
    pub waited: Duration,
}

/// The paced phase: commands sent at a fixed rate and what the consumer saw of them.
#[derive(Debug)]
pub struct Publish {
    pub offered: u32,
    pub commands: PhaseResult,
    /// Events committed during the phase.
    pub events: u64,
    /// Records the consumer saw for the phase.
    pub records: u64,
    pub complete: bool,
    /// Commit → acknowledged by the broker (`acks=all`): the publish latency.
    pub acknowledged: Percentiles,
    /// Commit → consumed by the bench's consumer: adds the consumer's fetch.
    pub consumed: Percentiles,
}

pub fn header(args: &CommandsArgs, names: &Names) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    println!(
        "bench commands — {}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!(
        "clients {}, {} s per phase, publish phase at {} commands/s; {cores} cores; brokers {}",
        args.clients, args.seconds, args.rate, args.brokers
    );
    println!(
        "databases {} and {}, topics {}.*",
        names.database, names.baseline_database, names.topic_prefix
    );
    println!(
        "mix per client: create task, cancel it, create agent, update its temperature (repeat)"
    );
}

pub fn load(title: &str, result: &PhaseResult) {
    let recorder = &result.recorder;
    println!();
    println!("== {title} ==");
    println!(
        "commands: {} ok, {} failed in {:.2} s",
        recorder.ok(),
        recorder.failed,
        result.elapsed.as_secs_f64()
    );
    println!("throughput: {:.1} commands/s", result.rate());
    println!("latency: {}", Percentiles::of(&recorder.latencies));
    for error in &recorder.first_errors {
        println!("  error: {error}");
    }
}

pub fn drain(what: &str, drain: &Drain) {
    let state = if drain.complete {
        "all seen"
    } else {
        "TIMED OUT"
    };
    println!(
        "{what}: {} events committed, {} acknowledged to the relay, {} records seen on Kafka ({state}, waited {:.2} s)",
        drain.events,
        drain.acknowledged,
        drain.records,
        drain.waited.as_secs_f64()
    );
}

pub fn saturated_publish(acknowledged: &Percentiles) {
    println!("during the closed loop (informational, relay under a backlog):");
    println!("  publish latency (commit → acknowledged): {acknowledged}");
    println!("  (the bench's consumer was paused during the loop and caught up after it)");
}

pub fn publish(publish: &Publish) {
    load(
        &format!(
            "publish latency at {} commands/s offered (open loop)",
            publish.offered
        ),
        &publish.commands,
    );
    println!("  (command latency above counts from each command's scheduled send time)");
    println!(
        "achieved: {:.1} commands/s of {} offered",
        publish.commands.rate(),
        publish.offered
    );
    let state = if publish.complete {
        "all counted"
    } else {
        "INCOMPLETE"
    };
    println!(
        "records: {} seen on Kafka for {} events committed in the phase ({state})",
        publish.records, publish.events
    );
    println!(
        "publish latency (commit → acknowledged by the broker, acks=all; the relay's {}): {}",
        messaging::PUBLISH_LATENCY_SECONDS,
        publish.acknowledged
    );
    println!(
        "commit → consumed (the bench's consumer: now − occurred_at header; adds the fetch): {}",
        publish.consumed
    );
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "FAIL"
    }
}

pub fn summary(rest: &PhaseResult, baseline: &PhaseResult, publish: &Publish) {
    println!();
    println!("== summary ==");
    let ratio = rest.rate() / baseline.rate();
    println!(
        "throughput: REST {:.1} / baseline {:.1} commands/s = {ratio:.3} (target >= {THROUGHPUT_RATIO_TARGET}): {}",
        rest.rate(),
        baseline.rate(),
        verdict(ratio >= THROUGHPUT_RATIO_TARGET)
    );
    let achieved = publish.commands.rate();
    let held = achieved >= RATE_HELD * f64::from(publish.offered);
    let p99 = publish.acknowledged.p99_ms;
    let pass =
        publish.complete && held && publish.acknowledged.count > 0 && p99 <= PUBLISH_P99_TARGET_MS;
    println!(
        "publish: p99 {p99:.2} ms at {achieved:.1} commands/s ({} offered) (target <= {PUBLISH_P99_TARGET_MS} ms): {}",
        publish.offered,
        verdict(pass)
    );
    if !held {
        println!(
            "  the offered rate was not held (below {:.0}% of it)",
            RATE_HELD * 100.0
        );
    }
    if !publish.complete {
        println!("  not every committed event was acknowledged and seen on Kafka in time");
    }
    println!(
        "  (informational) commit → consumed: p99 {:.2} ms",
        publish.consumed.p99_ms
    );
}
