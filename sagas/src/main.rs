//! sagas: run the process managers until SIGINT/SIGTERM.

/// mimalloc instead of the system allocator: the hot paths allocate per record and per
/// request, and glibc malloc cost a quarter of a rebuild's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use sagas::service::Service;
use sagas::settings::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = platform::telemetry::init("sagas");
    let settings = Settings::parse();
    let shutdown = platform::shutdown::on_signal();
    let service = Service::build(&settings).await?;
    tracing::info!(address = %service.address(), "sagas serving health, metrics and the operator API");
    service.run(shutdown).await
}
