//! # tickwire-server
//!
//! Hosts rooms of any number of games over WebSocket. A game implements
//! [`tickwire_sim::Game`] in its own crate; a host registers it with
//! [`Server::builder`]`(config).`[`game`](ServerBuilder::game)`::<MyGame>(my_config)`, and rooms
//! of it are created on demand from `Hello { game, room }`. One port serves HTTP and WebSocket:
//! `/ws` (the game protocol, see `protocol/PROTOCOL.md`), `/healthz`, `/metrics`, `/rooms`,
//! `/games`, `/schema.json?game=NAME` and `/rules.json?game=NAME`; with an admin token, the
//! operator console at `/console` and its API under `/admin/api/` ([`admin`]).
//!
//! ## Architecture
//! - [`listener`](crate::Server::run): the accept loop with global and per-IP connection caps;
//!   each connection is served by hyper (HTTP/1, header timeout) and upgraded by fastwebsockets.
//! - [`proxy`]: behind a proxy or load balancer, the client a trusted proxy names
//!   (`--trusted-proxies`: `X-Forwarded-For`, `Forwarded` or the PROXY protocol v2) is the one
//!   the per-IP cap and the logs use; from any other peer those headers are ignored and counted.
//! - [`session`]: one task per WebSocket: handshake (hello → welcome or reject), then a reader
//!   task that decodes client messages and a writer loop that sends what the room publishes.
//! - [`games`]: the registered games, their type erased behind a factory; sessions and HTTP see
//!   a game as its [`GameInfo`] (name, schema, tick rate, metrics).
//! - [`room`]: one task per room, generic over its game, owns the room's `hecs` world and game
//!   (a [`tickwire_sim::Simulation`]) by value. Order of work in one tick: **commands → drain
//!   inputs → step (records lag-compensation history) → encode events → build the snapshot →
//!   publish to every outbox**. Writers encode deltas against the last snapshot they actually
//!   sent, and clients with the same baseline share one encoding ([`room::TickFrame`]).
//! - [`registry`]: rooms created on demand up to a limit, each hosting one game, closed after an
//!   empty grace period.
//! - [`resume`]: session resume tickets; a dropped player is kept detached in its room for a
//!   grace period and a new connection with the ticket takes it back (PROTOCOL.md §1.3).
//! - [`recording`]: `--record DIR`: each selected room writes a `.twr` session recording
//!   (`tickwire_recording::format`) from a writer thread fed by a bounded channel; a recording
//!   that cannot keep up or be written stops, counted, and the room goes on.
//! - [`fleet`]: one server of many: an orchestrator (Agones' SDK sidecar, or none) told Ready,
//!   Health (driven by the rooms' tick loops), the open rooms and the players, and the drain on
//!   SIGTERM; and the rooms registered in the fleet directory's Redis (`--redis`), where
//!   `tickwire-directory` finds them to route players.
//! - [`metrics`]: Prometheus metrics. RTT comes from ping/pong with the protocol crate's
//!   [`tickwire_protocol::rtt`] tracker and estimator, the same code the clients use.
//!
//! What the server decides is the same for every game: input buffering (late, missing,
//! duplicate, too far ahead), the view time honoured for lag compensation, rate limits, slow
//! clients, session resume, limits and metrics (labelled by game).
//!
//! Every queue is bounded: a room's command channel ([`room::COMMAND_CAPACITY`]), a client's
//! outbox (one snapshot slot, [`room::link::MAX_QUEUED_BATCHES`] batches of events), its input
//! buffer, its game-command queue ([`room::link::MAX_QUEUED_COMMANDS`]), the reader → writer
//! control queue (`CONTROL_CAPACITY`, 32 requests), and a recorded room's channel to its
//! writer thread ([`recording::CHANNEL_CAPACITY`]). A slow client loses superseded snapshots
//! and is disconnected when it stays behind; it never slows the tick.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! # struct MyGame;
//! # fn register(b: tickwire_server::ServerBuilder) -> tickwire_server::ServerBuilder { b }
//! let builder = tickwire_server::Server::builder(tickwire_server::ServerConfig::for_tests());
//! // .game::<MyGame>(my_config) for each game; the first is the default.
//! let server = register(builder).bind().await?;
//! println!("ws://{}/ws", server.local_addr());
//! let handle = server.handle();
//! tokio::spawn(server.run());
//! handle.shutdown();
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
pub mod config;
pub mod fleet;
pub mod games;
pub mod http;
pub mod lag;
mod listener;
pub mod metrics;
pub mod proxy;
pub mod recording;
pub mod registry;
pub mod resume;
pub mod room;
pub mod route;
mod serve;
pub mod session;
pub mod tls;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tickwire_protocol::Snapshot;
use tickwire_sim::Game;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

pub use config::ServerConfig;
pub use games::GameInfo;
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
    /// The host's own HTTP endpoints ([`ServerBuilder::route`]), by path.
    pub routes: Vec<(String, Arc<dyn route::Route>)>,
    /// The server's place in its fleet: orchestrator, directory registration, drain.
    pub fleet: fleet::Fleet,
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

/// Registers the games of a server, then binds it ([`Server::builder`]).
#[must_use = "a builder does nothing until `bind` or `spawn`"]
pub struct ServerBuilder {
    config: ServerConfig,
    metrics: Arc<Metrics>,
    games: Vec<Arc<dyn games::GameFactory>>,
    routes: Vec<(String, Arc<dyn route::Route>)>,
    orchestrator: Option<Box<dyn fleet::Orchestrator>>,
    errors: Vec<anyhow::Error>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.games.iter().map(|g| g.info().name).collect();
        f.debug_struct("ServerBuilder").field("games", &names).finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Hosts game `G` with `config`. A `--game-config` for the game (in the server's
    /// configuration) is merged over `config`. The first game registered is the default one
    /// unless [`ServerConfig::default_game`] names another. An invalid game or configuration is
    /// reported by [`bind`](Self::bind).
    pub fn game<G: Game>(mut self, config: G::Config) -> Self {
        match self.merged::<G>(config) {
            Ok(config) => {
                let host = self.config.host();
                match games::Registered::<G>::new(config, self.config.seed, host, &self.metrics) {
                    Ok(game) => self.games.push(Arc::new(game)),
                    Err(e) => self.errors.push(e),
                }
            }
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Serves `route` at `path` (and under it) on the game port, next to the game: a host's own
    /// status or control endpoint (see [`route`]). A path the server already serves, a
    /// malformed one or one given twice is reported by [`bind`](Self::bind).
    pub fn route(mut self, path: &str, route: Arc<dyn route::Route>) -> Self {
        let taken =
            self.routes.iter().any(|(p, _)| route::matches(p, path) || route::matches(path, p));
        match route::check_path(path) {
            Ok(()) if taken => self.errors.push(anyhow::anyhow!("route `{path}` given twice")),
            Ok(()) => self.routes.push((path.to_owned(), route)),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Reports to `orchestrator` (Ready, Health, load, drain, Shutdown; see [`fleet`]) instead
    /// of the one the configuration names (`--agones`, else none).
    pub fn orchestrator(mut self, orchestrator: Box<dyn fleet::Orchestrator>) -> Self {
        self.orchestrator = Some(orchestrator);
        self
    }

    /// `config` with the game's `--game-config` JSON merged over it.
    fn merged<G: Game>(&self, config: G::Config) -> anyhow::Result<G::Config> {
        use anyhow::Context as _;
        let name = <G::Protocol as tickwire_protocol::GameProtocol>::NAME;
        let Some(patch) = self.config.game_config_json(name)? else {
            return Ok(config);
        };
        let mut value = serde_json::to_value(&config)?;
        merge_json(&mut value, patch);
        serde_json::from_value(value).with_context(|| format!("--game-config {name}"))
    }

    /// Validates everything, binds the address and opens the default room.
    pub async fn bind(self) -> anyhow::Result<Server> {
        Server::bind(self).await
    }

    /// Binds and runs the server on a new task (tests, benches, tools).
    pub async fn spawn(self) -> anyhow::Result<RunningServer> {
        let server = self.bind().await?;
        let handle = server.handle();
        let task = tokio::spawn(server.run());
        Ok(RunningServer { handle, task })
    }
}

/// RFC 7396 JSON merge patch: objects merge key by key, anything else replaces.
fn merge_json(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge_json(t.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

impl Server {
    /// A server with `config`, to which games are added ([`ServerBuilder::game`]).
    pub fn builder(config: ServerConfig) -> ServerBuilder {
        ServerBuilder {
            config,
            metrics: Arc::new(Metrics::new()),
            games: Vec::new(),
            routes: Vec::new(),
            orchestrator: None,
            errors: Vec::new(),
        }
    }

    async fn bind(builder: ServerBuilder) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let ServerBuilder { config, metrics, games, routes, orchestrator, mut errors } = builder;
        if !errors.is_empty() {
            return Err(errors.remove(0));
        }
        config.validate()?;
        if let Some(dir) = &config.record {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("--record {}: creating the directory", dir.display()))?;
        }
        let games = games::Games::new(games, config.default_game.as_deref())?;
        for name in config.game_config_names() {
            anyhow::ensure!(
                games.get(name).is_some(),
                "--game-config names `{name}`, which this server does not host"
            );
        }
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let config = Arc::new(config);
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let tickets = Arc::new(resume::ResumeTable::default());
        let rooms = Rooms::new(
            games,
            config.clone(),
            metrics.clone(),
            tickets.clone(),
            shutdown.clone(),
            tracker.clone(),
        );
        let auth = auth::Verifier::from_config(&config).context("join token keys")?;
        match &auth {
            None => warn!(
                "no --auth-secret, --auth-public-key or --auth-jwks: OPEN DEV MODE, anyone may join any room without a token"
            ),
            Some(v) => {
                info!(algorithms = ?v.algorithms(), audiences = ?config.auth_audience, "join tokens required")
            }
        }
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::Tls(tls::acceptor(cert, key)?)),
            _ => None,
        };
        let local = listener.local_addr().unwrap_or(config.addr);
        let fleet = fleet_of(&config, local, tls.is_some(), orchestrator)?;
        let ctx = Arc::new(ServerCtx {
            fleet,
            tls,
            auth,
            players: parking_lot::Mutex::default(),
            tickets,
            routes,
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
        let fleet = tokio::spawn(fleet::run(ctx.clone()));
        tokio::spawn(lag::probe(ctx.clone()));
        listener::serve(self.listener, ctx.clone()).await;
        info!("shutting down: no longer accepting, closing sessions");
        ctx.tracker.close();
        let grace = Duration::from_secs(ctx.config.shutdown_grace_secs);
        if tokio::time::timeout(grace, ctx.tracker.wait()).await.is_err() {
            warn!(tasks = ctx.tracker.len(), "shutdown grace period over; dropping the rest");
        }
        // The rooms have ended their recordings; give the writer threads the same grace to
        // write their last blocks and end records (a cut file still reads, up to its last
        // whole frame).
        let deadline = tokio::time::Instant::now() + grace;
        while ctx.metrics.recordings.get() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Last: the orchestrator may remove the process once told.
        fleet::finish(&ctx, fleet.await.ok().flatten()).await;
        Ok(())
    }
}

/// The fleet state the configuration asks for: the orchestrator (the builder's, `--agones`, or
/// none) and the directory registration (`--redis`).
fn fleet_of(
    config: &ServerConfig,
    local: SocketAddr,
    tls: bool,
    orchestrator: Option<Box<dyn fleet::Orchestrator>>,
) -> anyhow::Result<fleet::Fleet> {
    use anyhow::Context as _;
    let id = config.server_id();
    let public_url = config.public_url.clone().unwrap_or_else(|| {
        let scheme = if tls { "wss" } else { "ws" };
        format!("{scheme}://{local}/ws")
    });
    let ttl = Duration::from_millis(config.registration_ttl_ms);
    let registration = config
        .redis
        .as_deref()
        .map(|url| fleet::Registration::new(url, &config.redis_prefix, &id, ttl))
        .transpose()
        .context("--redis")?;
    let orchestrator = orchestrator.unwrap_or_else(|| {
        if config.agones {
            Box::new(fleet::Agones::new(fleet::sdk::AgonesSdk::from_env()))
        } else {
            Box::new(fleet::NoOrchestrator)
        }
    });
    Ok(fleet::Fleet::new(id, public_url, registration, orchestrator))
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

    /// Starts a drain ([`fleet`]): new rooms are refused, the open ones play on until they
    /// have no player left or `--drain-grace-secs` is over, then the server shuts down.
    pub fn drain(&self) {
        self.ctx.fleet.request_drain();
    }

    /// The WebSocket URL players reach this server at, as the fleet directory hands it out
    /// (`--public-url`, the orchestrator's address, or the bound address).
    pub fn public_url(&self) -> String {
        self.ctx.fleet.public_url()
    }

    /// Whether the server drains (refuses new rooms).
    pub fn is_draining(&self) -> bool {
        self.ctx.rooms.is_draining()
    }

    /// Whether the server has begun shutting down.
    pub fn is_shutting_down(&self) -> bool {
        self.ctx.shutdown.is_cancelled()
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.ctx.metrics
    }

    /// Every open room.
    pub fn rooms(&self) -> Vec<RoomSummary> {
        self.ctx.rooms.summaries()
    }

    /// Every game the server hosts.
    pub fn games(&self) -> Vec<games::GameSummary> {
        self.ctx.rooms.games()
    }

    /// The game called `name`, if hosted.
    pub fn game(&self, name: &str) -> Option<Arc<GameInfo>> {
        self.ctx.rooms.game(name).cloned()
    }

    /// Every game with its rules (tick rate, rewind window, configuration), as JSON.
    pub fn games_json(&self) -> serde_json::Value {
        let games: Vec<serde_json::Value> = self
            .games()
            .into_iter()
            .map(|g| {
                let rules = self
                    .game(g.name)
                    .and_then(|info| {
                        serde_json::from_str::<serde_json::Value>(&info.rules_json).ok()
                    })
                    .unwrap_or_default();
                serde_json::json!({ "summary": g, "rules": rules })
            })
            .collect();
        serde_json::json!({ "games": games })
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

    /// Waits for the server task to end by itself (a drain, or a shutdown asked elsewhere).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::merge_json;
    use serde_json::json;

    #[test]
    fn merge_patch_changes_only_what_it_names() {
        let mut config = json!({"npcs": {"count": 1000, "speed": 100.0}, "tick_rate": 30});
        merge_json(&mut config, json!({"npcs": {"count": 5}, "tick_rate": 60}));
        assert_eq!(config, json!({"npcs": {"count": 5, "speed": 100.0}, "tick_rate": 60}));
        merge_json(&mut config, json!({"npcs": null}));
        assert_eq!(config, json!({"tick_rate": 60}));
    }
}
