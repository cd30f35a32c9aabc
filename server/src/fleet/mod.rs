//! Running as one server of a fleet: an [`Orchestrator`] (Agones, or none) starts, watches
//! and stops the process, and a [`Registration`] in the directory's Redis lets players be
//! routed to the server that holds their room (`tickwire-directory`).
//!
//! Two tasks, both ended by the server's shutdown:
//! - `run` drives the orchestrator: **Ready** once the default room ticks; a **Health** ping
//!   every [`HEALTH_PERIOD`] while every room's tick loop advances ([`health::Liveness`]); the
//!   server's [`Load`] (open rooms, authenticated players) every [`REPORT_PERIOD`]; and the
//!   **drain**, started by [`crate::ServerHandle::drain`] (SIGTERM) or by the orchestrator: new
//!   rooms are refused (`ShuttingDown`), the orchestrator is told (Agones: label
//!   `draining=true`), the rooms play on until none has a player or `--drain-grace-secs` is
//!   over, then the server shuts down and, last of all, tells the orchestrator (**Shutdown**).
//! - the heartbeat (`heartbeat.rs`) rewrites this server's registration every `--heartbeat-ms`
//!   ([`registry`]) and removes it when the server stops.
//!
//! Orchestrator and Redis failures never stop the server: they are logged (at most once per
//! 10 s per kind) and counted in `tickwire_fleet_errors_total{call}`, and the next
//! period tries again (the Agones sidecar may start after the server).

pub mod health;
mod heartbeat;
pub mod orchestrator;
pub mod registry;
pub mod sdk;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use orchestrator::{Agones, Load, NoOrchestrator, Orchestrator};
pub use registry::{Registration, ServerRecord, ServerRoom};

use crate::ServerCtx;

/// Between two health pings (Agones' default health period is 5 s, failure threshold 3).
pub const HEALTH_PERIOD: Duration = Duration::from_secs(2);
/// Between two load reports and drain checks.
pub const REPORT_PERIOD: Duration = Duration::from_secs(1);
/// Between two questions to the orchestrator whether to drain.
pub const WATCH_PERIOD: Duration = Duration::from_secs(2);
/// Longest wait for the orchestrator at start-up (its address, Ready) before going on
/// without it; Ready is retried after that.
pub const STARTUP_WAIT: Duration = Duration::from_secs(10);

/// The server's place in its fleet.
pub struct Fleet {
    /// This server's fleet id (`--server-id`).
    pub id: String,
    public_url: Mutex<String>,
    drain: CancellationToken,
    registration: Option<Registration>,
    orchestrator: Mutex<Option<Box<dyn Orchestrator>>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("id", &self.id)
            .field("public_url", &*self.public_url.lock())
            .field("registration", &self.registration)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// The fleet state for server `id` reachable at `public_url`.
    pub(crate) fn new(
        id: String,
        public_url: String,
        registration: Option<Registration>,
        orchestrator: Box<dyn Orchestrator>,
    ) -> Self {
        Self {
            id,
            public_url: Mutex::new(public_url),
            drain: CancellationToken::new(),
            registration,
            orchestrator: Mutex::new(Some(orchestrator)),
        }
    }

    /// The WebSocket URL players reach this server at.
    pub fn public_url(&self) -> String {
        self.public_url.lock().clone()
    }

    /// Asks for a drain (idempotent).
    pub fn request_drain(&self) {
        self.drain.cancel();
    }

    /// The registration, when the server is in a directory.
    pub fn registration(&self) -> Option<&Registration> {
        self.registration.as_ref()
    }
}

/// `http(s)://authority` of a `ws(s)://authority/...` URL.
pub(crate) fn http_of(ws_url: &str) -> String {
    let (scheme, rest) = match ws_url.split_once("://") {
        Some(("wss", rest)) => ("https", rest),
        Some((_, rest)) => ("http", rest),
        None => ("http", ws_url),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// What the server holds now.
fn load(ctx: &ServerCtx) -> Load {
    Load { rooms: ctx.rooms.len(), players: ctx.tickets.players() }
}

/// Drives the orchestrator until shutdown; returns it for [`finish`].
pub(crate) async fn run(ctx: Arc<ServerCtx>) -> Option<Box<dyn Orchestrator>> {
    let mut orch = ctx.fleet.orchestrator.lock().take()?;
    wait_for_first_tick(&ctx).await;
    adopt_public_address(&ctx, orch.as_mut()).await;
    if let Some(registration) = ctx.fleet.registration.clone() {
        ctx.tracker.spawn(heartbeat::run(ctx.clone(), registration));
    }
    let mut ready = retry_ready(&ctx, orch.as_mut()).await;
    let mut report = interval(REPORT_PERIOD);
    let mut health = interval(HEALTH_PERIOD);
    let mut watch = interval(WATCH_PERIOD);
    let mut liveness = health::Liveness::default();
    let mut drain: Option<Instant> = None;
    let mut log = Throttle::default();
    loop {
        tokio::select! {
            () = ctx.shutdown.cancelled() => break,
            () = ctx.fleet.drain.cancelled(), if drain.is_none() => {
                drain = Some(start_drain(&ctx, orch.as_mut(), &mut log).await);
            }
            _ = report.tick() => {
                if !ready {
                    ready = orch.ready().await.map_err(|e| log.warn(&ctx, "ready", &e)).is_ok();
                }
                let now = load(&ctx);
                if let Err(e) = orch.report(&now).await {
                    log.warn(&ctx, "report", &e);
                }
                if let Some(deadline) = drain {
                    finish_drain_when_done(&ctx, deadline);
                }
            }
            _ = health.tick(), if ready => {
                let ticks = ctx.rooms.handles().into_iter().map(|r| (r.name.clone(), r.info().tick().0));
                match liveness.check(ticks, Instant::now()) {
                    Ok(()) => match orch.health().await {
                        Ok(()) => {
                            ctx.metrics.fleet_health_pings.inc();
                        }
                        Err(e) => log.warn(&ctx, "health", &e),
                    },
                    Err(room) => {
                        ctx.metrics.fleet_health_withheld.inc();
                        warn!(%room, "a room's tick loop is stuck: health pings withheld");
                    }
                }
            }
            _ = watch.tick(), if drain.is_none() => {
                match orch.drain_requested().await {
                    Ok(true) => {
                        info!(orchestrator = orch.name(), "the orchestrator asks for a drain");
                        ctx.fleet.request_drain();
                    }
                    Ok(false) => {}
                    Err(e) => log.warn(&ctx, "watch", &e),
                }
            }
        }
    }
    Some(orch)
}

/// After the server has stopped: the final report, then Shutdown.
pub(crate) async fn finish(ctx: &ServerCtx, orch: Option<Box<dyn Orchestrator>>) {
    let Some(mut orch) = orch else { return };
    let _ = orch.report(&load(ctx)).await;
    for attempt in 0..3 {
        match orch.shutdown().await {
            Ok(()) => return,
            Err(e) if attempt == 2 => {
                warn!(error = %e, "the orchestrator was not told of the shutdown")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval_at(Instant::now() + period, period);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

async fn wait_for_first_tick(ctx: &ServerCtx) {
    let default = ctx.rooms.get(&ctx.config.default_room);
    while default.as_ref().is_some_and(|r| r.info().tick().0 == 0) && !ctx.shutdown.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Takes the orchestrator's address for the public URL unless `--public-url` names one.
async fn adopt_public_address(ctx: &ServerCtx, orch: &mut dyn Orchestrator) {
    if ctx.config.public_url.is_some() {
        return;
    }
    let deadline = Instant::now() + STARTUP_WAIT;
    loop {
        match orch.public_address().await {
            Ok(Some((host, port))) => {
                let scheme = if ctx.tls.is_some() { "wss" } else { "ws" };
                let url = format!("{scheme}://{host}:{port}/ws");
                info!(%url, "public URL from the orchestrator");
                *ctx.fleet.public_url.lock() = url;
                return;
            }
            Ok(None) => return,
            Err(e) if Instant::now() >= deadline || ctx.shutdown.is_cancelled() => {
                warn!(error = %e, "no address from the orchestrator: keeping {}", ctx.fleet.public_url());
                return;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Ready, retried for [`STARTUP_WAIT`] (the sidecar may start after the server); `false` if
/// it still failed (the report loop keeps trying).
async fn retry_ready(ctx: &ServerCtx, orch: &mut dyn Orchestrator) -> bool {
    let deadline = Instant::now() + STARTUP_WAIT;
    loop {
        match orch.ready().await {
            Ok(()) => return true,
            Err(e) if Instant::now() >= deadline || ctx.shutdown.is_cancelled() => {
                warn!(error = %e, "not Ready yet: the orchestrator does not answer; retrying every second");
                return false;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn start_drain(ctx: &ServerCtx, orch: &mut dyn Orchestrator, log: &mut Throttle) -> Instant {
    let grace = ctx.config.drain_grace();
    info!(
        grace_secs = grace.as_secs(),
        rooms = ctx.rooms.len(),
        "draining: new rooms refused, waiting for the rooms to empty"
    );
    ctx.rooms.set_draining();
    ctx.metrics.fleet_draining.set(1);
    if let Err(e) = orch.draining().await {
        log.warn(ctx, "draining", &e);
    }
    Instant::now() + grace
}

fn finish_drain_when_done(ctx: &ServerCtx, deadline: Instant) {
    let players: usize = ctx.rooms.handles().iter().map(|r| r.info().players()).sum();
    if players == 0 {
        info!("drained: no room has a player left; shutting down");
        ctx.shutdown.cancel();
    } else if Instant::now() >= deadline {
        warn!(players, "drain grace over with players left; shutting down");
        ctx.shutdown.cancel();
    }
}

/// Logs a failing call at most once per 10 s per kind; counts every failure.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    last: std::collections::HashMap<&'static str, Instant>,
}

impl Throttle {
    pub(crate) fn warn(
        &mut self,
        ctx: &ServerCtx,
        call: &'static str,
        error: &dyn std::fmt::Display,
    ) {
        ctx.metrics.fleet_errors.get_or_create(&[("call", call)]).inc();
        let now = Instant::now();
        let due = self.last.get(call).is_none_or(|t| now.duration_since(*t) >= REPORT_PERIOD * 10);
        if due {
            self.last.insert(call, now);
            warn!(call, %error, "fleet call failed (retried; further failures this 10 s are counted only)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::http_of;

    #[test]
    fn the_http_url_is_the_websocket_urls_authority() {
        assert_eq!(http_of("ws://127.0.0.2:7777/ws"), "http://127.0.0.2:7777");
        assert_eq!(http_of("wss://gs.example.com/ws"), "https://gs.example.com");
    }
}
