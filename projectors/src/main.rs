//! projectors: run the read-model projections, or operate them (status, rebuild, dlq).

/// mimalloc instead of the system allocator: the hot paths allocate per record and per
/// request, and glibc malloc cost a quarter of a rebuild's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::Parser;
use projectors::settings::{Cli, Command, DlqAction};
use projectors::{dlq, lag, rebuild, service, ProjectionName};

fn projection_list(names: &[String]) -> anyhow::Result<Vec<ProjectionName>> {
    if names.is_empty() {
        return Ok(ProjectionName::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| ProjectionName::parse(n).map_err(Into::into))
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run {
        projections: Vec::new(),
    });
    // Only the service logs JSON; the operator commands print for people.
    let _telemetry =
        matches!(command, Command::Run { .. }).then(|| platform::telemetry::init("projectors"));
    let settings = cli.settings;
    match command {
        Command::Run { projections } => {
            let shutdown = platform::shutdown::on_signal();
            let service =
                service::Service::build(&settings, projection_list(&projections)?).await?;
            tracing::info!(address = %service.address(), "projectors serving health and metrics");
            service.run(shutdown).await
        }
        Command::Status => {
            let runtime = service::runtime(&settings).await?;
            println!(
                "{:<14} {:>4} {:<32} {:>9} {:>12} {:>12} {:>8}",
                "projection", "gen", "topic", "partition", "applied", "high", "lag"
            );
            for row in lag::lag(
                &runtime.pool,
                &settings.kafka_brokers,
                &settings.topic_prefix,
            )
            .await?
            {
                println!(
                    "{:<14} {:>4} {:<32} {:>9} {:>12} {:>12} {:>8}",
                    row.projection,
                    row.generation,
                    row.topic,
                    row.partition,
                    row.applied_until,
                    row.high_watermark,
                    row.lag()
                );
            }
            Ok(())
        }
        Command::Rebuild {
            projections,
            all,
            accept_differences,
        } => {
            // `--all` and an empty list both name all six (clap refuses neither given); a
            // wrong name is refused before anything is touched.
            let projections = if all {
                ProjectionName::ALL.to_vec()
            } else {
                projection_list(&projections)?
            };
            let runtime = service::runtime(&settings).await?;
            let check = if accept_differences {
                rebuild::Check::AcceptDifferences
            } else {
                rebuild::Check::MustMatch
            };
            let results = rebuild::rebuild_together(&runtime, &projections, true, check)
                .await
                .context("rebuild failed; the live generations still serve")?;
            let mut failed = 0;
            for (projection, result) in results {
                match result {
                    Ok(done) => {
                        for difference in &done.differences {
                            println!("{projection}: accepted difference: {difference}");
                        }
                        println!(
                            "{projection}: generation {} → {} ({} events in {:.1?}); checked and swapped",
                            done.from, done.to, done.events, done.elapsed
                        );
                    }
                    Err(error) => {
                        println!("{projection}: rebuild failed; its live generation still serves: {error}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} of the rebuilds failed");
            }
            Ok(())
        }
        Command::Dlq {
            action: DlqAction::List { projection },
        } => {
            let runtime = service::runtime(&settings).await?;
            let projection = projection
                .as_deref()
                .map(ProjectionName::parse)
                .transpose()?;
            for row in dlq::list(&runtime.pool, projection).await? {
                println!(
                    "{:>6} {:<14} {}[{}]@{} {}  {}",
                    row.id,
                    row.projection,
                    row.topic,
                    row.partition,
                    row.offset,
                    row.failed_at,
                    row.error
                );
            }
            Ok(())
        }
        Command::Dlq {
            action:
                DlqAction::Retry {
                    id,
                    all,
                    projection,
                },
        } => {
            let runtime = service::runtime(&settings).await?;
            let ids: Vec<i64> = match (id, all) {
                (Some(id), false) => vec![id],
                (None, true) => {
                    let projection = projection
                        .as_deref()
                        .map(ProjectionName::parse)
                        .transpose()?;
                    dlq::list(&runtime.pool, projection)
                        .await?
                        .into_iter()
                        .map(|r| r.id)
                        .collect()
                }
                _ => anyhow::bail!("give a dead-letter id or --all"),
            };
            for id in ids {
                let applied = dlq::retry(&runtime, id).await?;
                println!(
                    "{id}: {}",
                    if applied { "applied" } else { "still failing" }
                );
            }
            Ok(())
        }
    }
}
