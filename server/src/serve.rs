//! [`ServerBuilder::serve`]: what a host's `main` calls: bind, say where the server listens,
//! run until Ctrl-C or SIGTERM, then shut down gracefully. With a drain grace
//! (`--drain-grace-secs`, 30 s by default in a fleet), SIGTERM drains first ([`crate::fleet`]).

use tracing::info;

use crate::ServerBuilder;

impl ServerBuilder {
    /// Binds, logs the addresses (`tracing`, target `tickwire_server`), and runs until the
    /// process gets Ctrl-C or SIGTERM; then stops accepting, closes every session with
    /// `ServerShutdown` and returns. A host's whole `main`:
    ///
    /// ```no_run
    /// # use clap::Parser as _;
    /// # use tickwire_server::{Server, ServerConfig};
    /// # async fn demo<G: tickwire_sim::Game>(config: G::Config) -> anyhow::Result<()> {
    /// Server::builder(ServerConfig::parse()).game::<G>(config).serve().await
    /// # }
    /// ```
    pub async fn serve(self) -> anyhow::Result<()> {
        let default_room = self.config.default_room.clone();
        let server = self.bind().await?;
        let addr = server.local_addr();
        let (http, ws) = if server.is_tls() { ("https", "wss") } else { ("http", "ws") };
        let handle = server.handle();
        let names: Vec<&str> = handle.games().iter().map(|g| g.name).collect();
        info!("tickwire-server listening on {http}://{addr}, hosting {}", names.join(", "));
        if let Some(g) = handle.games().into_iter().find(|g| g.default) {
            info!(
                "  WebSocket: {ws}://{addr}/ws   (room \"{default_room}\" is open: {}, {} Hz)",
                g.name, g.tick_rate
            );
        }
        info!(
            "  browser:   {http}://{addr}/   metrics: {http}://{addr}/metrics   rooms: {http}://{addr}/rooms"
        );
        let drain = !handle.ctx.config.drain_grace().is_zero();
        tokio::spawn(async move {
            if wait_for_signal().await == Signal::Terminate && drain {
                info!("SIGTERM: draining (a second signal shuts down at once)");
                handle.drain();
                wait_for_signal().await;
            }
            info!("signal received, shutting down");
            handle.shutdown();
        });
        server.run().await
    }
}

/// The signal that stops the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// Ctrl-C (SIGINT): shut down now.
    Interrupt,
    /// SIGTERM (what Kubernetes sends): drain first, when the server drains.
    Terminate,
}

async fn wait_for_signal() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => Signal::Interrupt,
                    _ = term.recv() => Signal::Terminate,
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                Signal::Interrupt
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }
}
