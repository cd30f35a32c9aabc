//! A faithful mock of the Agones SDK sidecar's REST gateway, for tests without Kubernetes.
//!
//! A game server under Agones talks to a sidecar on `127.0.0.1:$AGONES_SDK_HTTP_PORT` (9358):
//! grpc-gateway in front of the SDK's gRPC service. [`MockSidecar`] serves the same paths,
//! bodies, status codes and error texts (read from agones-dev/agones `proto/sdk/*.proto`,
//! `pkg/sdkserver/sdkserver.go` and `cmd/sdk-server/main.go`; see [`GatewayError`]), keeps
//! the GameServer record those calls change, and records every call for assertions.
//!
//! Layout: [`config`](MockConfig) is what it starts with; `state` the GameServer lifecycle
//! and metadata; `counts` the Counters and Lists; `wire` protojson's reading rules (int64 as
//! a string or a number); `routes` the gateway's routing; `server` the hyper accept loop.
//! The logic files do no I/O and read no clock: time enters as "time since start".
//!
//! Differences from the real sidecar, on purpose: mutations apply at once (the real one
//! batches Counter and List writes to Kubernetes about once a second, but already answers
//! with the batched result); the GameServer starts `Scheduled` and goes straight to `Ready`
//! (no `RequestReady` step, no controller); `GET /watch/gameserver` answers 501.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use tickwire_fleet_testkit::agones::{GameServerState, MockConfig, MockSidecar};
//! let sidecar = MockSidecar::start(MockConfig::default()).await?;
//! // run the server with AGONES_SDK_HTTP_PORT = sidecar.port() ...
//! sidecar.set_state(GameServerState::Shutdown); // Agones says: drain and stop
//! assert_eq!(sidecar.calls()[0].path, "/ready");
//! # Ok(()) }
//! ```

mod config;
mod counts;
mod error;
mod routes;
mod server;
mod state;
mod wire;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

pub use config::{Counter, GameServerState, HealthSpec, ListState, MockConfig, UnknownState};
pub use error::{GatewayError, GrpcCode};
pub use state::{HealthPings, METADATA_PREFIX};

use server::{EVENT_BACKLOG, Serve, Shared};
use state::GameServer;

/// One request the mock answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The request body: `null` when empty, a string when not JSON.
    pub body: Value,
    /// When it was answered, since the mock started.
    pub at: Duration,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered (`null` when none).
    pub response: Value,
}

impl Call {
    /// The call as one JSON object (what `tickwire-agones-mock` prints, one per line).
    pub fn to_json(&self) -> Value {
        json!({
            "at_ms": u64::try_from(self.at.as_millis()).unwrap_or(u64::MAX),
            "method": self.method, "path": self.path, "body": self.body,
            "status": self.status, "response": self.response,
        })
    }
}

/// The running mock. Dropping it stops the gateway and closes its connections.
#[derive(Debug)]
pub struct MockSidecar {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// `true` while the gateway should accept connections.
    up: watch::Sender<bool>,
    /// `true` while a listener is bound (the accept loop reports it).
    bound: watch::Receiver<bool>,
    stop: CancellationToken,
}

impl MockSidecar {
    /// Binds `config.bind` now and serves.
    pub async fn start(config: MockConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        Ok(Self::spawn(config, addr, Some(listener)))
    }

    /// Serves only after `delay`, like a sidecar that starts after the game server: until
    /// then connections to [`port`](Self::port) are refused. With port 0 in `config.bind`, a
    /// free port is picked now (bound and released) so that the port is known at once.
    pub async fn start_later(mut config: MockConfig, delay: Duration) -> std::io::Result<Self> {
        if config.bind.port() == 0 {
            config.bind = StdListener::bind(config.bind)?.local_addr()?;
        }
        let addr = config.bind;
        let mock = Self::spawn(config, addr, None);
        let up = mock.up.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            up.send_replace(true);
        });
        Ok(mock)
    }

    fn spawn(config: MockConfig, addr: SocketAddr, listener: Option<TcpListener>) -> Self {
        let unix_start = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let shared = Arc::new(Shared {
            started: Instant::now(),
            gs: Mutex::new(GameServer::new(&config, i64::try_from(unix_start).unwrap_or(0))),
            calls: Mutex::new(Vec::new()),
            changed: watch::Sender::new(0),
            events: broadcast::Sender::new(EVENT_BACKLOG),
        });
        let (up, up_rx) = watch::channel(listener.is_some());
        let (bound_tx, bound) = watch::channel(false);
        let stop = CancellationToken::new();
        let serve = Serve {
            shared: Arc::clone(&shared),
            addr,
            up: up_rx,
            bound: bound_tx,
            stop: stop.clone(),
        };
        tokio::spawn(server::run(serve, listener));
        Self { shared, addr, up, bound, stop }
    }

    /// The gateway's port (what `AGONES_SDK_HTTP_PORT` should say).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The gateway's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every call answered so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().clone()
    }

    /// The calls as `"METHOD /path"`, handy for sequence assertions.
    pub fn call_names(&self) -> Vec<String> {
        self.shared.calls.lock().iter().map(|c| format!("{} {}", c.method, c.path)).collect()
    }

    /// Each call as it is answered (bounded: a receiver that falls behind by more than 1024
    /// calls gets `Lagged` and skips ahead).
    pub fn subscribe(&self) -> broadcast::Receiver<Call> {
        self.shared.events.subscribe()
    }

    /// Runs `f` on the GameServer after applying what time changed.
    fn read<T>(&self, f: impl FnOnce(&GameServer) -> T) -> T {
        let mut gs = self.shared.gs.lock();
        gs.settle(self.shared.now());
        f(&gs)
    }

    /// `status.state`.
    pub fn state(&self) -> GameServerState {
        self.read(|gs| gs.state)
    }

    /// A Counter, if the GameServer has it.
    pub fn counter(&self, name: &str) -> Option<Counter> {
        self.read(|gs| gs.counters.get(name).copied())
    }

    /// A List, if the GameServer has it.
    pub fn list(&self, name: &str) -> Option<ListState> {
        self.read(|gs| gs.lists.get(name).cloned())
    }

    /// `object_meta.labels` (SDK labels carry [`METADATA_PREFIX`]).
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.read(|gs| gs.labels.clone())
    }

    /// `object_meta.annotations`.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.read(|gs| gs.annotations.clone())
    }

    /// The health pings seen, and when the last came.
    pub fn health_pings(&self) -> HealthPings {
        self.read(|gs| gs.health)
    }

    /// What `GET /gameserver` would answer now.
    pub fn game_server(&self) -> Value {
        self.read(GameServer::to_json)
    }

    /// Time since the mock started (the clock of [`Call::at`]).
    pub fn elapsed(&self) -> Duration {
        self.shared.now()
    }

    /// Plays Agones: forces the state. `Shutdown` also sets `deletion_timestamp`, as when
    /// Agones deletes the GameServer (a Fleet scale-down): the server must drain and stop.
    pub fn set_state(&self, state: GameServerState) {
        let now = self.shared.now();
        {
            let mut gs = self.shared.gs.lock();
            gs.state = state;
            if state == GameServerState::Shutdown {
                gs.mark_deleted(now);
            }
        }
        self.shared.bump();
    }

    /// Plays an allocation or an operator: sets a Counter (adding it if new).
    pub fn set_counter(&self, name: &str, counter: Counter) {
        self.shared.gs.lock().counters.insert(name.to_owned(), counter);
        self.shared.bump();
    }

    /// Whether Agones is deleting the GameServer.
    pub fn is_deleted(&self) -> bool {
        self.read(GameServer::is_deleted)
    }

    /// Takes the gateway down (connections refused, open ones closed) or brings it back on the
    /// same port; returns once done. The real sidecar is simply not listening before it starts.
    pub async fn set_unavailable(&self, unavailable: bool) {
        self.up.send_replace(!unavailable);
        let mut bound = self.bound.clone();
        // The accept loop only ends when the mock is dropped, so the sender outlives `self`.
        let _ = bound.wait_for(|b| *b != unavailable).await;
    }

    /// Waits until `pred` holds, re-checking after every call and every change a test makes;
    /// `false` if it still does not hold after `timeout`.
    pub async fn wait_until(&self, timeout: Duration, pred: impl Fn(&Self) -> bool) -> bool {
        let mut changed = self.shared.changed.subscribe();
        let waited = tokio::time::timeout(timeout, async {
            while !pred(self) {
                if changed.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        waited.is_ok() && pred(self)
    }
}

impl Drop for MockSidecar {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A loopback address on port 0, for [`MockConfig::bind`].
pub fn any_loopback_port() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}
