//! `tickwire-directory`: the fleet's room directory (see the library docs and `--help`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tickwire_directory::{Directory, DirectoryConfig};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Flags; every one also reads an environment variable.
#[derive(Debug, Parser)]
#[command(
    name = "tickwire-directory",
    version,
    about = "Tickwire's fleet directory: routes players to the server holding their room, over Redis"
)]
struct Cli {
    /// Address to serve HTTP on.
    #[arg(long, env = "TICKWIRE_DIRECTORY_ADDR", default_value = "127.0.0.1:7800")]
    addr: SocketAddr,
    /// Redis URL, shared with the fleet's servers (`redis://127.0.0.1:6379`).
    #[arg(long, env = "TICKWIRE_REDIS")]
    redis: String,
    /// Prefix of every Redis key (the servers' `--redis-prefix`).
    #[arg(long, env = "TICKWIRE_REDIS_PREFIX", default_value = tickwire_directory::config::DEFAULT_PREFIX)]
    redis_prefix: String,
    /// HS256 secret of the join tokens (the servers' `--auth-secret`).
    #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
    auth_secret: String,
    /// The tokens' audience (one of the servers' `--auth-audience`).
    #[arg(long, env = "TICKWIRE_AUTH_AUDIENCE", default_value = tickwire_server::auth::DEFAULT_AUDIENCE)]
    auth_audience: String,
    /// `POST /join` needs `Authorization: Bearer KEY` (backends call the directory, not players).
    #[arg(long, env = "TICKWIRE_DIRECTORY_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Lifetime of a minted token, seconds.
    #[arg(long, default_value_t = 60)]
    token_ttl_secs: u64,
    /// Lifetime of a new room's claim until its server opens it, milliseconds.
    #[arg(long, default_value_t = 15_000)]
    pending_ttl_ms: u64,
    /// Reuse the live servers' records read for joins for this long, milliseconds (0: read
    /// them on every join). Saves two of a join's three Redis round trips; a new or newly
    /// draining server is seen up to this late.
    #[arg(long, default_value_t = 0)]
    servers_cache_ms: u64,
    /// Bound on each Redis call, milliseconds.
    #[arg(long, default_value_t = 1000)]
    redis_timeout_ms: u64,
    /// Most HTTP connections served at once.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
}

impl Cli {
    fn config(&self) -> anyhow::Result<DirectoryConfig> {
        anyhow::ensure!(!self.auth_secret.is_empty(), "--auth-secret must not be empty");
        anyhow::ensure!(self.token_ttl_secs > 0, "--token-ttl-secs must be positive");
        anyhow::ensure!(self.pending_ttl_ms > 0, "--pending-ttl-ms must be positive");
        anyhow::ensure!(self.redis_timeout_ms > 0, "--redis-timeout-ms must be positive");
        let mut c = DirectoryConfig::new(&self.redis, &self.auth_secret);
        c.prefix = self.redis_prefix.clone();
        c.audience = self.auth_audience.clone();
        c.api_key = self.api_key.clone().filter(|k| !k.is_empty());
        c.token_ttl = Duration::from_secs(self.token_ttl_secs);
        c.pending_ttl = Duration::from_millis(self.pending_ttl_ms);
        c.redis_timeout = Duration::from_millis(self.redis_timeout_ms);
        c.servers_cache = Duration::from_millis(self.servers_cache_ms);
        c.max_connections = self.max_connections;
        Ok(c)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let directory = Arc::new(Directory::new(cli.config()?)?);
    let listener = tokio::net::TcpListener::bind(cli.addr)
        .await
        .with_context(|| format!("binding {}", cli.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "directory listening");
    let shutdown = CancellationToken::new();
    let serving =
        tokio::spawn(tickwire_directory::http::serve(listener, directory, shutdown.clone()));
    stop_signal().await;
    shutdown.cancel();
    let _ = serving.await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
