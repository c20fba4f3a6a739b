//! The physical limit of writing the read model: every table of the built generations dumped
//! with `COPY … TO STDOUT` and loaded with `COPY … FROM STDIN` (binary format both ways) into
//! empty copies of the same tables (`LIKE … INCLUDING ALL`: same columns, keys, indexes,
//! defaults) in a scratch schema. Only the load is timed: once over one connection, table
//! after table, and once over six connections, one per projection, concurrently.

use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use projectors::{Generation, ProjectionName};
use sqlx::PgPool;
use tokio::time::Instant;

/// Bytes per CopyData message sent.
const CHUNK: usize = 4 << 20;

/// One table's rows as COPY wrote them.
pub struct Dump {
    /// `<schema>.<table>` it was read from.
    pub source: String,
    /// The table's name in a scratch schema: `<projection>__<table>`.
    pub name: String,
    pub projection: ProjectionName,
    pub table: &'static str,
    pub rows: u64,
    pub data: Vec<u8>,
}

/// A timed load.
#[derive(Debug, Clone, Copy)]
pub struct Loaded {
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Loaded {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
}

/// Dumps every table of `generations`, in the order of `ProjectionName::tables`.
///
/// # Errors
/// On database failure.
pub async fn dump(pool: &PgPool, generations: &[Generation]) -> anyhow::Result<Vec<Dump>> {
    let mut dumps = Vec::new();
    let mut conn = pool.acquire().await?;
    for generation in generations {
        for table in generation.projection.tables() {
            let source = format!("{}.{table}", generation.schema());
            let mut data = Vec::new();
            let mut stream = conn
                .copy_out_raw(&format!("COPY {source} TO STDOUT (FORMAT binary)"))
                .await
                .with_context(|| format!("COPY {source} TO STDOUT"))?;
            while let Some(chunk) = stream.next().await {
                data.extend_from_slice(&chunk?);
            }
            drop(stream);
            let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {source}"))
                .fetch_one(&mut *conn)
                .await?;
            dumps.push(Dump {
                name: format!("{}__{table}", generation.projection),
                source,
                projection: generation.projection,
                table,
                rows: u64::try_from(rows).unwrap_or_default(),
                data,
            });
        }
    }
    Ok(dumps)
}

/// Creates `schema` with an empty copy of every dumped table.
///
/// # Errors
/// On database failure.
pub async fn prepare(pool: &PgPool, schema: &str, dumps: &[Dump]) -> anyhow::Result<()> {
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .execute(pool)
    .await?;
    for dump in dumps {
        sqlx::raw_sql(&format!(
            "CREATE TABLE {schema}.{} (LIKE {} INCLUDING ALL)",
            dump.name, dump.source
        ))
        .execute(pool)
        .await
        .with_context(|| format!("copying the definition of {}", dump.source))?;
    }
    Ok(())
}

async fn load_one(conn: &mut sqlx::PgConnection, schema: &str, dump: &Dump) -> anyhow::Result<u64> {
    let target = format!("{schema}.{}", dump.name);
    let mut copy = conn
        .copy_in_raw(&format!("COPY {target} FROM STDIN (FORMAT binary)"))
        .await
        .with_context(|| format!("COPY {target} FROM STDIN"))?;
    for chunk in dump.data.chunks(CHUNK) {
        copy.send(chunk).await?;
    }
    let rows = copy.finish().await?;
    anyhow::ensure!(
        rows == dump.rows,
        "{target}: loaded {rows} rows of {}",
        dump.rows
    );
    Ok(rows)
}

fn bytes(dumps: &[Dump]) -> u64 {
    dumps.iter().map(|d| d.data.len() as u64).sum()
}

/// Loads every dump over one connection, table after table, into `schema` (prepared).
///
/// # Errors
/// On database failure or a row count that differs from the dump's.
pub async fn load_sequential(
    pool: &PgPool,
    schema: &str,
    dumps: &[Dump],
) -> anyhow::Result<Loaded> {
    let mut conn = pool.acquire().await?;
    let started = Instant::now();
    let mut rows = 0;
    for dump in dumps {
        rows += load_one(&mut conn, schema, dump).await?;
    }
    Ok(Loaded {
        rows,
        bytes: bytes(dumps),
        elapsed: started.elapsed(),
    })
}

/// Loads every projection's dumps over a connection of its own, all projections at once.
///
/// # Errors
/// On database failure or a row count that differs from the dump's.
pub async fn load_concurrent(
    pool: &PgPool,
    schema: &str,
    dumps: &[Dump],
) -> anyhow::Result<Loaded> {
    let mut conns = Vec::with_capacity(ProjectionName::ALL.len());
    for projection in ProjectionName::ALL {
        conns.push((projection, pool.acquire().await?));
    }
    let started = Instant::now();
    let loads = conns.into_iter().map(|(projection, mut conn)| async move {
        let mut rows = 0;
        for dump in dumps.iter().filter(|d| d.projection == projection) {
            rows += load_one(&mut conn, schema, dump).await?;
        }
        anyhow::Ok(rows)
    });
    let mut rows = 0;
    for loaded in futures::future::join_all(loads).await {
        rows += loaded?;
    }
    Ok(Loaded {
        rows,
        bytes: bytes(dumps),
        elapsed: started.elapsed(),
    })
}
