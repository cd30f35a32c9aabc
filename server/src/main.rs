//! `tickwire-server`: run `tickwire-server --help` for the flags.

use anyhow::Context as _;
use clap::Parser;
use tickwire_server::{Server, ServerConfig};
use tracing::info;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = ServerConfig::parse();
    let tick_rate = config.tick_rate;
    let default_room = config.default_room.clone();
    let server = Server::bind(config).await.context("starting the server")?;
    let addr = server.local_addr();
    info!("tickwire-server listening on http://{addr}");
    info!("  WebSocket: ws://{addr}/ws   (room \"{default_room}\" is open, {tick_rate} Hz)");
    info!(
        "  browser:   http://{addr}/   metrics: http://{addr}/metrics   rooms: http://{addr}/rooms"
    );
    let handle = server.handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("signal received, shutting down");
        handle.shutdown();
    });
    server.run().await
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
