//! The console's charts: events committed per time bucket over the last minutes (the command
//! rate, from the event store), and the lag of every projection now.
//!
//! `events` has no time column: the time is the `occurred_at` of each event's metadata (set by
//! the command API just before the commit), always written as RFC 3339 UTC with microseconds,
//! so a text range selects the window and only those rows are parsed as timestamps. Without
//! an index on `(metadata->>'occurred_at')` that range is a scan of the whole table (about 4 s
//! per million events here), so one answer serves every console for a few seconds.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use projectors::ProjectionName;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use utoipa::{IntoParams, ToSchema};

use super::auth::AdminCaller;
use super::broker::BrokerStatus;
use super::error::AdminError;
use super::events::event_store;
use super::projections::Bookkeeping;
use crate::extract::{Checks, Params};
use crate::AppState;

const MAX_MINUTES: i64 = 180;
const MAX_BUCKETS: i64 = 720;
/// How long one count of the window is served to every console asking for the same window.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// When counted, for which `(minutes, bucket_seconds)`, and the count.
type Counted = (Instant, (i64, i64), Arc<Rate>);

/// The last count; concurrent callers wait for one count.
#[derive(Default)]
pub(crate) struct RateCache(Mutex<Option<Counted>>);

struct Rate {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: Vec<RatePoint>,
    total: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeriesParams {
    /// How far back, 1–180 minutes (default 15).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 180)]
    minutes: Option<String>,
    /// Bucket width in seconds, 1–3600, at most 720 buckets (default: the window / 90, ≥ 5).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 3600)]
    bucket_seconds: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Series {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket_seconds: i64,
    /// Events committed per bucket, oldest first, every bucket present (zeros included).
    pub command_rate: Vec<RatePoint>,
    pub total_events: i64,
    pub lag: LagNow,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RatePoint {
    /// The bucket's start.
    pub at: DateTime<Utc>,
    pub events: i64,
    /// Events per second over the bucket (over its elapsed part for the current one).
    pub per_second: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LagNow {
    pub at: DateTime<Utc>,
    /// Sum over the projections; `null` when the broker could not be asked.
    pub total: Option<i64>,
    pub by_projection: BTreeMap<String, Option<i64>>,
    pub broker: BrokerStatus,
}

fn minutes(text: &str) -> Result<i64, String> {
    text.parse()
        .ok()
        .filter(|m| (1..=MAX_MINUTES).contains(m))
        .ok_or_else(|| format!("must be an integer from 1 to {MAX_MINUTES}"))
}

fn bucket_seconds(text: &str) -> Result<i64, String> {
    text.parse()
        .ok()
        .filter(|s| (1..=3600).contains(s))
        .ok_or_else(|| "must be an integer from 1 to 3600".to_owned())
}

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Command rate over the window and lag now.
#[utoipa::path(get, path = "/v1/admin/timeseries", operation_id = "admin_timeseries", tag = "admin",
    params(SeriesParams),
    responses((status = 200, body = Series),
        (status = 400, description = "invalid parameter"),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role"),
        (status = 503, description = "the event store is not in this database")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: AdminCaller,
    Params(params): Params<SeriesParams>,
) -> Result<Json<Series>, AdminError> {
    let mut checks = Checks::default();
    let minutes = checks
        .optional("minutes", params.minutes.as_deref(), minutes)
        .unwrap_or(15);
    let step = checks.optional(
        "bucket_seconds",
        params.bucket_seconds.as_deref(),
        bucket_seconds,
    );
    let step = step.unwrap_or_else(|| (minutes * 60 / 90).max(5));
    if minutes * 60 / step > MAX_BUCKETS {
        checks.fail(
            "bucket_seconds",
            format!("too small for {minutes} minutes: at most {MAX_BUCKETS} buckets"),
        );
    }
    checks.finish()?;
    let rate = {
        let mut cache = state.admin.rates.0.lock().await;
        match cache.as_ref() {
            Some((at, key, rate)) if *key == (minutes, step) && at.elapsed() < FRESH_FOR => {
                rate.clone()
            }
            _ => {
                let rate = Arc::new(count(&state, minutes, step).await?);
                *cache = Some((Instant::now(), (minutes, step), rate.clone()));
                rate
            }
        }
    };
    Ok(Json(Series {
        from: rate.from,
        to: rate.to,
        bucket_seconds: step,
        command_rate: rate.points.clone(),
        total_events: rate.total,
        lag: lag_now(&state).await?,
    }))
}

/// Events per bucket of the window that ends with the bucket holding now.
async fn count(state: &AppState, minutes: i64, step: i64) -> Result<Rate, AdminError> {
    let now = Utc::now();
    // Buckets aligned on multiples of the step; the last one holds `now`.
    let end = (now.timestamp().div_euclid(step) + 1) * step;
    let count = (minutes * 60 + step - 1) / step;
    let start = end - count * step;
    let (from, to) = (at(start), at(end));
    let counted: Vec<(i64, i64)> = sqlx::query_as(
        "WITH recent AS MATERIALIZED (
             SELECT metadata->>'occurred_at' AS occurred_at FROM events
             WHERE metadata->>'occurred_at' >= $1 AND metadata->>'occurred_at' < $2
         )
         SELECT floor(extract(epoch FROM occurred_at::timestamptz) / $3)::bigint * $3, count(*)
         FROM recent GROUP BY 1",
    )
    .bind(text(from))
    .bind(text(to))
    .bind(step)
    .fetch_all(&state.pool)
    .await
    .map_err(event_store)?;
    let counted: HashMap<i64, i64> = counted.into_iter().collect();
    let points: Vec<RatePoint> = (0..count)
        .map(|i| {
            let bucket = start + i * step;
            let events = counted.get(&bucket).copied().unwrap_or(0);
            let elapsed = (now.timestamp() - bucket + 1).clamp(1, step);
            RatePoint {
                at: at(bucket),
                events,
                per_second: events as f64 / elapsed as f64,
            }
        })
        .collect();
    let total = points.iter().map(|p| p.events).sum();
    Ok(Rate {
        from,
        to,
        points,
        total,
    })
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

async fn lag_now(state: &AppState) -> Result<LagNow, AdminError> {
    let marks = state.admin.broker.watermarks().await;
    let books = Bookkeeping::read(&state.pool).await?;
    let by_projection: BTreeMap<String, Option<i64>> = ProjectionName::ALL
        .into_iter()
        .map(|p| {
            let lag = books.lag(p, &marks, &state.admin.topic_prefix);
            (p.as_str().to_owned(), lag)
        })
        .collect();
    let total = by_projection
        .values()
        .try_fold(0, |sum, lag| lag.map(|lag| sum + lag));
    Ok(LagNow {
        at: Utc::now(),
        total,
        by_projection,
        broker: marks.status.clone(),
    })
}
