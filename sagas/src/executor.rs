//! The executor: workers claim due sagas (`FOR UPDATE SKIP LOCKED`), run one step each and
//! persist the outcome with the step log, in the claim's transaction. A crash mid-step re-runs
//! the step with the same idempotency key, so the command is not doubled.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::instances::{self, SagaInstance};
use crate::workflows::{self, Deadline, Transition};
use crate::Context;

/// Runs one worker until shutdown.
pub async fn work(context: Context, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        match step_one(&context).await {
            Ok(true) => {}
            Ok(false) => {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                    () = shutdown.cancelled() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "saga executor failed a round");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Claims and advances one due saga; false when none was due.
///
/// # Errors
/// On database failure (the step's outcome is then not recorded and the step runs again).
pub async fn step_one(context: &Context) -> Result<bool, sqlx::Error> {
    let mut tx = context.pool.begin().await?;
    let Some(mut saga) = instances::claim_due(&mut tx, 1).await?.pop() else {
        tx.commit().await?;
        return Ok(false);
    };
    let span = tracing::info_span!(
        "saga_step",
        saga_id = %saga.saga_id,
        saga_type = %saga.saga_type,
        step = %saga.step,
        trace_id = tracing::field::Empty,
    );
    platform::trace::continue_trace_and_name_it(&span, saga.traceparent.as_deref());
    // Commands sent by the step carry this span as their traceparent (commands.rs).
    let (actions, transition) = workflows::run_step(context, &saga)
        .instrument(span.clone())
        .await;
    for action in &actions {
        instances::log(
            &mut tx,
            saga.saga_id,
            &saga.step,
            &action.action,
            action.idempotency_key.as_deref(),
            action.outcome,
            action.detail.as_deref(),
        )
        .await?;
    }
    let before = (saga.status.clone(), saga.step.clone());
    apply(context, &mut saga, transition);
    if saga.status == "parked" {
        instances::log(
            &mut tx,
            saga.saga_id,
            &saga.step,
            "park",
            None,
            "parked",
            saga.last_error.as_deref(),
        )
        .await?;
    }
    instances::save(&mut tx, &saga).await?;
    tx.commit().await?;
    if (saga.status.as_str(), saga.step.as_str()) != (before.0.as_str(), before.1.as_str()) {
        tracing::info!(parent: &span, saga_id = %saga.saga_id, saga_type = %saga.saga_type, status = %saga.status, step = %saga.step, "saga advanced");
    }
    Ok(true)
}

fn backoff(attempt: i32, max: Duration) -> Duration {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(max)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(usize::try_from(attempt.max(1) - 1).unwrap_or(0))
        .unwrap_or(max)
}

fn apply(context: &Context, saga: &mut SagaInstance, transition: Transition) {
    let now = Utc::now();
    match transition {
        Transition::Goto {
            step,
            data,
            deadline,
        } => {
            saga.step = step.to_owned();
            saga.data = data;
            saga.attempts = 0;
            saga.last_error = None;
            saga.next_attempt_at = now;
            saga.deadline_at = match deadline {
                Deadline::Keep => saga.deadline_at,
                Deadline::Clear => None,
                Deadline::In(after) => Some(now + after),
            };
        }
        Transition::Retry { error } => {
            saga.attempts += 1;
            saga.last_error = Some(error.clone());
            if saga.attempts < context.timing.max_attempts {
                let delay = backoff(saga.attempts, context.timing.max_backoff);
                saga.next_attempt_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
            } else if saga.status == "running" {
                let next = workflows::on_exhausted(saga, &error);
                apply(context, saga, next);
            } else {
                // A compensation that keeps failing waits for an operator, visibly.
                saga.status = "parked".into();
            }
        }
        Transition::Compensate { step, reason, data } => {
            saga.status = "compensating".into();
            saga.step = step.to_owned();
            saga.data = data;
            saga.attempts = 0;
            saga.last_error = Some(reason);
            saga.next_attempt_at = now;
            saga.deadline_at = None;
        }
        Transition::Finish { status, data } => {
            saga.status = status.to_owned();
            saga.data = data;
            saga.deadline_at = None;
        }
    }
}
