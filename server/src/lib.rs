//! # tickwire-server
//!
//! Hosts rooms of the arena game over WebSocket. One port serves HTTP and WebSocket:
//! `/ws` (the game protocol, see `protocol/PROTOCOL.md`), `/healthz`, `/metrics`, `/rooms`.
//!
//! ## Architecture
//! - [`listener`](crate::Server::run): the accept loop with global and per-IP connection caps;
//!   each connection is served by hyper (HTTP/1, header timeout) and upgraded by fastwebsockets.
//! - [`session`]: one task per WebSocket: handshake (hello → welcome or reject), then a reader
//!   task that decodes client messages and a writer loop that sends what the room publishes.
//! - [`room`]: one task per room owns the room's `hecs` world (inside [`tickwire_sim::Arena`])
//!   by value. Order of work in one tick: **drain inputs → step (records lag-compensation
//!   history) → broadcast events → build the snapshot → publish to every outbox**. Writers encode
//!   deltas against the last snapshot they actually sent, and clients with the same baseline
//!   share one encoding ([`room::TickFrame`]).
//! - [`registry`]: rooms created on demand up to a limit, closed after an empty grace period.
//! - [`resume`]: session resume tickets; a dropped player is kept detached in its room for a
//!   grace period and a new connection with the ticket takes it back (PROTOCOL.md §1.3).
//! - [`metrics`]: Prometheus metrics. RTT comes from ping/pong with the protocol crate's
//!   [`tickwire_protocol::rtt`] tracker and estimator, the same code the clients use.
//!
//! Every queue is bounded: a room's command channel ([`room::COMMAND_CAPACITY`]), a client's
//! outbox (one snapshot slot, [`room::link::MAX_QUEUED_BATCHES`] batches of events), its input
//! buffer, and the reader → writer control channel. A slow client loses superseded snapshots and
//! is disconnected when it stays behind; it never slows the tick.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let server = tickwire_server::Server::bind(tickwire_server::ServerConfig::for_tests()).await?;
//! println!("ws://{}/ws", server.local_addr());
//! let handle = server.handle();
//! tokio::spawn(server.run());
//! handle.shutdown();
//! # Ok(()) }
//! ```

pub mod auth;
pub mod config;
pub mod http;
mod listener;
pub mod metrics;
pub mod registry;
pub mod resume;
pub mod room;
pub mod session;
pub mod tls;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tickwire_protocol::Snapshot;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

pub use config::ServerConfig;
pub use metrics::Metrics;
pub use registry::{RoomSummary, Rooms};

/// Server-wide state shared by every task.
#[derive(Debug)]
pub struct ServerCtx {
    /// The configuration.
    pub config: Arc<ServerConfig>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The open rooms.
    pub rooms: Arc<Rooms>,
    /// Cancelled to shut down.
    pub shutdown: CancellationToken,
    /// Every task the server spawned (rooms, connections, sessions).
    pub tracker: TaskTracker,
    /// TLS, when configured.
    pub tls: Option<tls::Tls>,
    /// Join-token verification; `None` in open dev mode.
    pub auth: Option<auth::Verifier>,
    /// The live session of each authenticated player (one socket per player: a new session
    /// replaces the old one, which ends with `Replaced`).
    pub players: parking_lot::Mutex<std::collections::HashMap<String, Arc<room::ClientLink>>>,
    /// Resume tickets of the sessions rooms still hold.
    pub tickets: Arc<resume::ResumeTable>,
    admission: listener::Admission,
    next_client: AtomicU32,
    started: std::time::Instant,
}

impl ServerCtx {
    fn next_client_id(&self) -> u32 {
        self.next_client.fetch_add(1, Ordering::Relaxed)
    }

    fn uptime_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A bound, not yet running, server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    ctx: Arc<ServerCtx>,
}

impl Server {
    /// Validates the configuration, binds the address and opens the default room.
    pub async fn bind(config: ServerConfig) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        config.validate()?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::new());
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let tickets = Arc::new(resume::ResumeTable::default());
        let rooms = Rooms::new(
            config.clone(),
            metrics.clone(),
            tickets.clone(),
            shutdown.clone(),
            tracker.clone(),
        );
        let auth = config.auth_secret.as_ref().map(|s| auth::Verifier::new(s.as_bytes().to_vec()));
        if auth.is_none() {
            warn!("no --auth-secret: OPEN DEV MODE, anyone may join any room without a token");
        }
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::Tls(tls::acceptor(cert, key)?)),
            _ => None,
        };
        let ctx = Arc::new(ServerCtx {
            tls,
            auth,
            players: parking_lot::Mutex::default(),
            tickets,
            admission: listener::Admission::new(
                config.max_connections,
                config.max_connections_per_ip,
            ),
            config,
            metrics,
            rooms,
            shutdown,
            tracker,
            next_client: AtomicU32::new(1),
            started: std::time::Instant::now(),
        });
        ctx.rooms.open_default()?;
        Ok(Self { listener, ctx })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        // invariant: a bound TcpListener has a local address.
        self.listener.local_addr().unwrap_or_else(|_| self.ctx.config.addr)
    }

    /// Whether the port serves TLS.
    pub fn is_tls(&self) -> bool {
        self.ctx.tls.is_some()
    }

    /// A handle to stop and inspect the server.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle { ctx: self.ctx.clone(), addr: self.local_addr() }
    }

    /// Serves until [`ServerHandle::shutdown`], then tells every client why, and waits up to
    /// the shutdown grace period for sessions to finish.
    pub async fn run(self) -> anyhow::Result<()> {
        let ctx = self.ctx;
        listener::serve(self.listener, ctx.clone()).await;
        info!("shutting down: no longer accepting, closing sessions");
        ctx.tracker.close();
        let grace = Duration::from_secs(ctx.config.shutdown_grace_secs);
        if tokio::time::timeout(grace, ctx.tracker.wait()).await.is_err() {
            warn!(tasks = ctx.tracker.len(), "shutdown grace period over; dropping the rest");
        }
        Ok(())
    }
}

/// A cloneable handle to a running server.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    ctx: Arc<ServerCtx>,
    addr: SocketAddr,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket URL of this server (`wss://` with TLS).
    pub fn ws_url(&self) -> String {
        let scheme = if self.ctx.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/ws", self.addr)
    }

    /// Starts a graceful shutdown.
    pub fn shutdown(&self) {
        self.ctx.shutdown.cancel();
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.ctx.metrics
    }

    /// Every open room.
    pub fn rooms(&self) -> Vec<RoomSummary> {
        self.ctx.rooms.summaries()
    }

    /// The latest snapshot published by room `room`.
    pub fn snapshot(&self, room: &str) -> Option<Snapshot> {
        Some(self.ctx.rooms.get(room)?.info().latest()?.snapshot().clone())
    }
}

/// A server running on its own task (tests, benches, the bots' self-test).
#[derive(Debug)]
pub struct RunningServer {
    /// The handle.
    pub handle: ServerHandle,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Shuts down and waits for the server task.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.handle.shutdown();
        self.task.await?
    }
}

/// Binds and runs a server on a new task.
pub async fn spawn(config: ServerConfig) -> anyhow::Result<RunningServer> {
    let server = Server::bind(config).await?;
    let handle = server.handle();
    let task = tokio::spawn(server.run());
    Ok(RunningServer { handle, task })
}
