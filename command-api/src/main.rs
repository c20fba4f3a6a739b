//! command-api: load settings, start the app, run until SIGINT/SIGTERM.

/// mimalloc instead of the system allocator: the hot paths allocate per record and per
/// request, and glibc malloc cost a quarter of a rebuild's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use command_api::{App, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = platform::telemetry::init("command-api");
    let settings = Settings::parse();
    let shutdown = platform::shutdown::on_signal();
    let app = App::build(settings).await?;
    tracing::info!(address = %app.address(), "command-api listening");
    app.run(shutdown).await
}
