//! Projections as operators see them: the live generation, a rebuild in progress and how far
//! it got, dead letters waiting, and lag per partition against the broker's high watermarks.
//!
//! A rebuild records the generation it builds (`projection_generations.building_generation`)
//! and that generation's offsets as it applies (`projection_offsets`), so its progress is
//! those offsets against the high watermarks (or, with the broker down, against the live
//! generation's offsets, which the rebuild converges on before it swaps).

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use projectors::ProjectionName;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::auth::AdminCaller;
use super::broker::{BrokerStatus, PartitionId, Watermarks};
use super::error::AdminError;
use crate::AppState;

/// A rebuild whose generation applied nothing for this long is shown as stalled.
const STALLED_AFTER_SECONDS: i64 = 120;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Projections {
    pub broker: BrokerStatus,
    pub items: Vec<ProjectionState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProjectionState {
    pub projection: String,
    /// The generation serving queries; `null` before its projector first started.
    pub live_generation: Option<i32>,
    /// When the live generation became live (creation, or the last rebuild's swap).
    pub live_since: Option<DateTime<Utc>>,
    /// Records the live generation has applied (sum of its next offsets).
    pub applied: i64,
    /// When the live generation last stored offsets.
    pub last_applied_at: Option<DateTime<Utc>>,
    /// Records on the topics not yet applied; `null` when the broker could not be asked.
    pub lag: Option<i64>,
    /// Dead letters not yet retried successfully.
    pub dead_letters: i64,
    pub topics: Vec<String>,
    pub rebuild: Option<RebuildProgress>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RebuildProgress {
    /// The generation being built (it becomes live at the swap).
    pub generation: i32,
    /// Records the new generation has applied.
    pub applied: i64,
    /// Records it has to apply to catch up.
    pub target: i64,
    /// `high-watermarks`, or `live-offsets` when the broker could not be asked.
    pub target_source: String,
    /// 0–1; `null` while there is nothing to apply.
    pub progress: Option<f64>,
    /// When the new generation last stored offsets; `null` before its first batch.
    pub last_progress_at: Option<DateTime<Utc>>,
    /// Nothing applied for two minutes: the rebuild was probably stopped or failed.
    pub stalled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Lag {
    pub broker: BrokerStatus,
    pub items: Vec<PartitionLag>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PartitionLag {
    pub projection: String,
    pub generation: i32,
    pub topic: String,
    pub partition: i32,
    /// The next offset the live generation will apply.
    pub applied_until: i64,
    /// The next offset the broker will write; `null` when the broker could not be asked.
    pub high_watermark: Option<i64>,
    pub lag: Option<i64>,
}

/// Stored offsets of one generation: partition → (next offset, when stored).
type Offsets = HashMap<PartitionId, (i64, DateTime<Utc>)>;

/// What the bookkeeping tables say, read in one go.
pub(crate) struct Bookkeeping {
    generations: HashMap<String, (i32, Option<i32>, DateTime<Utc>)>,
    /// `(projection, generation)` → partition → (next offset, updated at).
    offsets: HashMap<(String, i32), Offsets>,
    dead_letters: HashMap<String, i64>,
}

impl Bookkeeping {
    pub(crate) async fn read(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let generations: Vec<(String, i32, Option<i32>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT projection, live_generation, building_generation, swapped_at
             FROM public.projection_generations",
        )
        .fetch_all(&mut *tx)
        .await?;
        let offsets: Vec<(String, i32, String, i32, i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT projection, generation, topic, partition, next_offset, updated_at
             FROM public.projection_offsets",
        )
        .fetch_all(&mut *tx)
        .await?;
        let dead_letters: Vec<(String, i64)> = sqlx::query_as(
            "SELECT projection, count(*) FROM public.projection_dead_letters
             WHERE retried_at IS NULL GROUP BY projection",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut by_generation: HashMap<_, HashMap<_, _>> = HashMap::new();
        for (projection, generation, topic, partition, next, at) in offsets {
            by_generation
                .entry((projection, generation))
                .or_default()
                .insert((topic, partition), (next, at));
        }
        Ok(Self {
            generations: generations
                .into_iter()
                .map(|(p, live, building, since)| (p, (live, building, since)))
                .collect(),
            offsets: by_generation,
            dead_letters: dead_letters.into_iter().collect(),
        })
    }

    fn live(&self, projection: ProjectionName) -> Option<i32> {
        self.generations.get(projection.as_str()).map(|g| g.0)
    }

    fn offsets(&self, projection: ProjectionName, generation: i32) -> Option<&Offsets> {
        self.offsets
            .get(&(projection.as_str().to_owned(), generation))
    }

    fn applied(&self, projection: ProjectionName, generation: i32) -> (i64, Option<DateTime<Utc>>) {
        self.offsets(projection, generation)
            .map(|o| {
                (
                    o.values().map(|(next, _)| next).sum(),
                    o.values().map(|(_, at)| *at).max(),
                )
            })
            .unwrap_or((0, None))
    }

    /// Lag of the live generation of `projection`; `None` without a broker reading.
    pub(crate) fn lag(
        &self,
        projection: ProjectionName,
        marks: &Watermarks,
        prefix: &str,
    ) -> Option<i64> {
        if !marks.status.reachable {
            return None;
        }
        let stored = self
            .live(projection)
            .and_then(|live| self.offsets(projection, live));
        let mut lag = 0;
        for topic in topic_names(projection, prefix) {
            for (partition, high) in marks.of_topic(&topic) {
                let next = stored
                    .and_then(|s| s.get(&(topic.clone(), partition)))
                    .map_or(0, |(next, _)| *next);
                lag += (high - next).max(0);
            }
        }
        Some(lag)
    }

    fn rebuild(
        &self,
        projection: ProjectionName,
        marks: &Watermarks,
        prefix: &str,
    ) -> Option<RebuildProgress> {
        let (live, building, _) = self.generations.get(projection.as_str())?;
        let generation = (*building)?;
        let (applied, last_progress_at) = self.applied(projection, generation);
        let (target, target_source) = if marks.status.reachable {
            let target = topic_names(projection, prefix)
                .iter()
                .flat_map(|topic| marks.of_topic(topic))
                .map(|(_, high)| high)
                .sum();
            (target, "high-watermarks")
        } else {
            (self.applied(projection, *live).0, "live-offsets")
        };
        let progress = (target > 0).then(|| (applied as f64 / target as f64).min(1.0));
        let stalled = last_progress_at
            .is_some_and(|at| (Utc::now() - at).num_seconds() > STALLED_AFTER_SECONDS);
        Some(RebuildProgress {
            generation,
            applied,
            target,
            target_source: target_source.to_owned(),
            progress,
            last_progress_at,
            stalled,
        })
    }
}

pub(crate) fn topic_names(projection: ProjectionName, prefix: &str) -> Vec<String> {
    projectors::projections::topics(projection)
        .iter()
        .map(|topic| topic.name(prefix))
        .collect()
}

/// Every projection: live generation, rebuild progress, lag and dead letters.
#[utoipa::path(get, path = "/v1/admin/projections", operation_id = "admin_projections", tag = "admin",
    responses((status = 200, body = Projections),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
) -> Result<Json<Projections>, AdminError> {
    let marks = state.admin.broker.watermarks().await;
    let books = Bookkeeping::read(&state.pool).await?;
    let prefix = &state.admin.topic_prefix;
    let items = ProjectionName::ALL
        .into_iter()
        .map(|projection| {
            let live = books.live(projection);
            let (applied, last_applied_at) =
                live.map_or((0, None), |live| books.applied(projection, live));
            ProjectionState {
                projection: projection.as_str().to_owned(),
                live_generation: live,
                live_since: books.generations.get(projection.as_str()).map(|g| g.2),
                applied,
                last_applied_at,
                lag: books.lag(projection, &marks, prefix),
                dead_letters: books
                    .dead_letters
                    .get(projection.as_str())
                    .copied()
                    .unwrap_or(0),
                topics: topic_names(projection, prefix),
                rebuild: books.rebuild(projection, &marks, prefix),
            }
        })
        .collect();
    Ok(Json(Projections {
        broker: marks.status.clone(),
        items,
    }))
}

/// Lag per partition of every live projection.
#[utoipa::path(get, path = "/v1/admin/lag", operation_id = "admin_lag", tag = "admin",
    responses((status = 200, body = Lag),
        (status = 401, description = "missing or invalid bearer token"),
        (status = 403, description = "the token has no admin role")))]
pub(crate) async fn lag(
    State(state): State<AppState>,
    _caller: AdminCaller,
) -> Result<Json<Lag>, AdminError> {
    let marks = state.admin.broker.watermarks().await;
    let books = Bookkeeping::read(&state.pool).await?;
    let mut items = Vec::new();
    for projection in ProjectionName::ALL {
        let Some(live) = books.live(projection) else {
            continue;
        };
        let empty = HashMap::new();
        let stored = books.offsets(projection, live).unwrap_or(&empty);
        for topic in topic_names(projection, &state.admin.topic_prefix) {
            // Partitions the broker has, plus any stored ones it did not report.
            let mut partitions: HashMap<i32, Option<i64>> = marks
                .of_topic(&topic)
                .into_iter()
                .map(|(p, high)| (p, Some(high)))
                .collect();
            for (t, p) in stored.keys() {
                if *t == topic {
                    partitions.entry(*p).or_insert(None);
                }
            }
            let mut partitions: Vec<_> = partitions.into_iter().collect();
            partitions.sort_unstable();
            for (partition, high_watermark) in partitions {
                let applied_until = stored
                    .get(&(topic.clone(), partition))
                    .map_or(0, |(next, _)| *next);
                items.push(PartitionLag {
                    projection: projection.as_str().to_owned(),
                    generation: live,
                    topic: topic.clone(),
                    partition,
                    applied_until,
                    high_watermark,
                    lag: high_watermark.map(|high| (high - applied_until).max(0)),
                });
            }
        }
    }
    Ok(Json(Lag {
        broker: marks.status.clone(),
        items,
    }))
}
