//! What `bench rebuild` prints: each phase as it ends, then the summary against the target.

use std::time::Duration;

use projectors::ProjectionName;

use crate::cli::RebuildArgs;
use crate::isolation::Names;
use crate::produce::Produced;
use crate::progress::Targets;
use crate::rebuild::{Build, Outcome};

/// COPY time ÷ rebuild time (= rebuild rows/s ÷ COPY rows/s) must reach this.
pub const COPY_RATIO_TARGET: f64 = 0.5;

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn per_second(count: f64, duration: Duration) -> f64 {
    count / duration.as_secs_f64()
}

pub fn header(args: &RebuildArgs, names: &Names) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    println!(
        "bench rebuild — {}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!(
        "{} events; {cores} cores; brokers {}; database {}, topics {}.*",
        args.events, args.servers.brokers, names.database, names.topic_prefix
    );
}

pub fn produced(produced: &Produced) {
    println!();
    println!("== history (setup, not timed against the target) ==");
    let mut topics: Vec<_> = produced.per_topic.iter().collect();
    topics.sort_by_key(|(topic, _)| topic.suffix());
    let split: Vec<String> = topics
        .iter()
        .map(|(topic, count)| format!("{} {count}", topic.suffix()))
        .collect();
    println!(
        "events: {} ({}) encoded and produced in {:.2} s ({:.0} events/s), all acknowledged",
        produced.total,
        split.join(", "),
        seconds(produced.elapsed),
        per_second(produced.total as f64, produced.elapsed)
    );
}

pub fn targets(targets: &Targets) {
    let split: Vec<String> = ProjectionName::ALL
        .iter()
        .map(|p| format!("{p} {}", targets[p]))
        .collect();
    println!(
        "records each projection reads: {}; total {}",
        split.join(", "),
        targets.values().sum::<i64>()
    );
}

fn phase(build: &Build, targets: &Targets) {
    for projection in ProjectionName::ALL {
        let records = targets[&projection];
        let caught_up = build.caught_up[&projection];
        let mut line = format!(
            "{projection}: {records} records applied in {:.2} s ({:.0} records/s)",
            seconds(caught_up),
            per_second(records as f64, caught_up)
        );
        if let Some(finished) = build.finished.get(&projection) {
            line.push_str(&format!(
                "; checked, swapped and old generation dropped at {:.2} s",
                seconds(*finished)
            ));
        }
        println!("{line}");
    }
    let total: i64 = targets.values().sum();
    println!(
        "all six: {total} records in {:.2} s = {:.0} records/s",
        seconds(build.elapsed),
        per_second(total as f64, build.elapsed)
    );
}

pub fn initial(build: &Build, targets: &Targets) {
    println!();
    println!("== initial build: generation 1 of all six projections from offset 0 by the live projectors (projectors::service::Service), concurrently ==");
    phase(build, targets);
}

pub fn rebuild(build: &Build, targets: &Targets) {
    println!();
    println!("== rebuild: projectors::rebuild::rebuild_together for all six, one read of the topics (generation 2 from offset 0, checked against 1, swapped; live projectors stopped) ==");
    phase(build, targets);
}

pub fn summary(outcome: &Outcome) {
    let rows = outcome.total_rows() as f64;
    println!();
    println!("== COPY (binary) of the rebuilt rows into empty copies of the same tables (LIKE ... INCLUDING ALL), load timed ==");
    let tables: Vec<String> = outcome
        .rows
        .iter()
        .map(|(projection, table, rows)| format!("{projection}.{table} {rows}"))
        .collect();
    println!("rows per table: {}", tables.join(", "));
    println!(
        "rows: {} in {} tables, {:.1} MiB in COPY binary format",
        outcome.total_rows(),
        outcome.rows.len(),
        outcome.copy_bytes as f64 / f64::from(1 << 20)
    );
    for (how, loaded) in [
        ("one connection, table after table", &outcome.copy_one),
        (
            "six connections, one per projection, concurrently",
            &outcome.copy_six,
        ),
    ] {
        println!(
            "{how}: {} rows in {:.2} s = {:.0} rows/s",
            loaded.rows,
            seconds(loaded.elapsed),
            loaded.rows_per_second()
        );
    }
    if outcome.dead_letters > 0 {
        println!("DEAD LETTERS: {}", outcome.dead_letters);
    }

    println!();
    println!("== summary ==");
    let records = outcome.total_records() as f64;
    let copy = outcome.copy_one.elapsed.min(outcome.copy_six.elapsed);
    let last_caught_up = outcome
        .rebuild
        .caught_up
        .values()
        .copied()
        .max()
        .unwrap_or_default();
    println!(
        "records applied (summed over the six projections): {}; rows in the rebuilt tables: {}; dead letters: {}",
        outcome.total_records(),
        outcome.total_rows(),
        outcome.dead_letters
    );
    for (what, elapsed) in [
        (
            "initial build (live projectors, generation 1)",
            outcome.initial.elapsed,
        ),
        (
            "rebuild, until the last projection had applied everything",
            last_caught_up,
        ),
        (
            "rebuild (all six checked and swapped)",
            outcome.rebuild.elapsed,
        ),
    ] {
        println!(
            "{what}: {:.2} s = {:.0} records/s = {:.0} rows/s; COPY time / this = {:.3}",
            seconds(elapsed),
            per_second(records, elapsed),
            per_second(rows, elapsed),
            seconds(copy) / seconds(elapsed)
        );
    }
    println!(
        "COPY (the faster load): {:.2} s = {:.0} rows/s",
        seconds(copy),
        per_second(rows, copy)
    );
    let ratio = seconds(copy) / seconds(outcome.rebuild.elapsed);
    let pass = ratio >= COPY_RATIO_TARGET && outcome.dead_letters == 0;
    println!(
        "rebuild vs COPY: COPY time / rebuild time = {:.2} s / {:.2} s = {ratio:.3} (= rebuild rows/s / COPY rows/s) (target >= {COPY_RATIO_TARGET}): {}",
        seconds(copy),
        seconds(outcome.rebuild.elapsed),
        if pass { "PASS" } else { "FAIL" }
    );
}
