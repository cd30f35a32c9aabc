//! `serve FILE`: the recording hosted as a spectator room on a real server
//! (`tickwire_replay::serve`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tickwire_replay::resim::Registry;
use tickwire_replay::serve;
use tickwire_server::ServerConfig;
use tracing::info;
use tracing_subscriber::EnvFilter;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (.twr).
    file: PathBuf,
    /// The server's options (address, TLS, origins, tokens...), as `tickwire-server` takes
    /// them. The server hosts one room, the recording's; it records nothing.
    #[command(flatten)]
    server: ServerConfig,
}

pub(crate) fn run(args: Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let source = serve::load(registry, &args.file)
        .with_context(|| format!("serving {}", args.file.display()))?;
    let header = source.header();
    info!(
        "replaying {}: {} room `{}`, {} ticks at {} Hz, {} keyframes",
        args.file.display(),
        header.game,
        header.room,
        source.steps().len(),
        header.tick_rate,
        source.keyframe_ticks().count()
    );
    info!("  playback: GET /replay, POST /replay/pause|play|speed?x=2|seek?tick=T");
    let builder = serve::server(registry, &source, args.server)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(builder.serve())?;
    Ok(ExitCode::SUCCESS)
}
