//! Driving clients through the mix: a warm-up, a closed loop (as fast as answers come back)
//! and an open loop paced at a fixed offered rate.

use std::time::Duration;

use anyhow::Context;
use futures::future::join_all;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::mix::{Cycle, Executor, STEPS_PER_CYCLE};
use crate::stats::Recorder;

/// What one phase measured, merged over its clients.
#[derive(Debug)]
pub struct PhaseResult {
    pub recorder: Recorder,
    pub elapsed: Duration,
}

impl PhaseResult {
    /// Successful commands per second of wall time.
    pub fn rate(&self) -> f64 {
        self.recorder.ok() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Every client runs the mix once; any failure is fatal (the setup is wrong).
///
/// # Errors
/// The first failing command.
pub async fn warm_up<E: Executor>(clients: &[E]) -> anyhow::Result<()> {
    let runs = clients.iter().cloned().map(|executor| {
        tokio::spawn(async move {
            let mut cycle = Cycle::default();
            for _ in 0..STEPS_PER_CYCLE {
                let created = executor
                    .execute(cycle.step())
                    .await
                    .with_context(|| format!("warm-up command {:?}", cycle.step()))?;
                cycle.advance(created);
            }
            anyhow::Ok(())
        })
    });
    for outcome in join_all(runs).await {
        outcome.context("warm-up client panicked")??;
    }
    Ok(())
}

/// Each client sends its next command as soon as the previous one is answered, for `duration`.
pub async fn closed_loop<E: Executor>(clients: &[E], duration: Duration) -> PhaseResult {
    let started = Instant::now();
    let deadline = started + duration;
    let runs = clients.iter().cloned().map(|executor| {
        tokio::spawn(async move {
            let mut recorder = Recorder::default();
            let mut cycle = Cycle::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                run_step(&executor, &mut cycle, &mut recorder, sent).await;
            }
            recorder
        })
    });
    collect(join_all(runs).await, started)
}

/// Open loop: `rate` commands per second in total, spread evenly over the clients (client i
/// sends at start + i/rate + k·clients/rate). A late client catches up with the ticks it missed,
/// so the offered rate holds as long as the clients can; latency counts from the scheduled
/// send time, so a backlog shows in the figures instead of being hidden.
pub async fn paced<E: Executor>(clients: &[E], duration: Duration, rate: u32) -> PhaseResult {
    let started = Instant::now();
    let deadline = started + duration;
    let spacing = Duration::from_secs_f64(1.0 / f64::from(rate));
    let period = spacing * u32::try_from(clients.len()).unwrap_or(u32::MAX);
    let runs = clients
        .iter()
        .cloned()
        .enumerate()
        .map(|(index, executor)| {
            let first = started + spacing * u32::try_from(index).unwrap_or(u32::MAX);
            tokio::spawn(async move {
                let mut recorder = Recorder::default();
                let mut cycle = Cycle::default();
                let mut ticks = interval_at(first, period);
                ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
                loop {
                    let scheduled = ticks.tick().await;
                    if scheduled >= deadline {
                        break;
                    }
                    run_step(&executor, &mut cycle, &mut recorder, scheduled).await;
                }
                recorder
            })
        });
    collect(join_all(runs).await, started)
}

async fn run_step<E: Executor>(
    executor: &E,
    cycle: &mut Cycle,
    recorder: &mut Recorder,
    since: Instant,
) {
    match executor.execute(cycle.step()).await {
        Ok(created) => {
            recorder.record(since.elapsed());
            cycle.advance(created);
        }
        Err(error) => {
            recorder.fail(&error);
            cycle.skip();
        }
    }
}

fn collect(
    outcomes: Vec<Result<Recorder, tokio::task::JoinError>>,
    started: Instant,
) -> PhaseResult {
    let elapsed = started.elapsed();
    let mut recorder = Recorder::default();
    for outcome in outcomes {
        match outcome {
            Ok(client) => recorder.merge(client),
            Err(error) => recorder.fail(&anyhow::anyhow!("client task failed: {error}")),
        }
    }
    PhaseResult { recorder, elapsed }
}
