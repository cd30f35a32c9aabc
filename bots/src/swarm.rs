//! The swarm: starts the bots over the ramp-up, collects their samples while they play, stops
//! them at the end and sums up what happened ([`Outcome`]).
//!
//! One task per bot connects it (at `start + ramp_up · i / clients`, in room
//! `rooms[i % rooms.len()]`), registers its [`ClientHandle`] and waits for the session to end
//! or for the stop signal, then closes it. A collector task wakes every [`COLLECT_EVERY`],
//! drains every client's latency samples into the histograms and sums their counters for the
//! live view ([`Live`]). Bots are real clients of the game `P` ([`Players`]): each fully decodes
//! its snapshots, predicts (when the game can be predicted) and interpolates.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rand::{Rng as _, SeedableRng as _};
use rand_pcg::Pcg32;
use tickwire_client::{
    ClientConfig, ClientHandle, ClientStats, Connection, EndReason, LinkConfig, Samples,
    TlsOptions, connect_boxed,
};
use tickwire_sim::Predict;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::collect::{Counters, Latencies, Tally, count};
use crate::players::Players;

/// How often the collector drains the clients' samples.
pub const COLLECT_EVERY: Duration = Duration::from_millis(250);
/// Snapshots each bot keeps (interpolation needs a few ticks behind the newest).
const BOT_HISTORY: usize = 5;
/// Time allowed for every bot to say goodbye at the end.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What to run. Its `Debug` output hides the tokens.
#[derive(Clone, PartialEq)]
pub struct SwarmConfig {
    /// The server's WebSocket URL.
    pub url: String,
    /// Number of bots.
    pub clients: usize,
    /// Total run time, ramp-up included.
    pub duration: Duration,
    /// Time over which the bots connect.
    pub ramp_up: Duration,
    /// Rooms, assigned round-robin.
    pub rooms: Vec<String>,
    /// Link conditioner of every bot (each gets its own seed).
    pub link: LinkConfig,
    /// Join tokens: none, one for every bot, or one per bot (bot `i` uses `tokens[i]`).
    pub tokens: Vec<String>,
    /// Seed of the behaviours.
    pub seed: u64,
    /// Time allowed for one bot's connection.
    pub connect_timeout: Duration,
    /// Which servers `wss://` trusts (unused for `ws://`).
    pub tls: TlsOptions,
    /// Dropping connections on purpose to exercise reconnection (off by default).
    pub chaos: Option<Chaos>,
}

/// Chaos: every `every`, each connected bot's connection is dropped (no goodbye, as a network
/// failure would) with probability `fraction`; the bot then reconnects and resumes its session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    /// Fraction of the connected bots dropped each round, 0..=1.
    pub fraction: f64,
    /// Time between rounds.
    pub every: Duration,
}

impl std::fmt::Debug for SwarmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwarmConfig")
            .field("url", &self.url)
            .field("clients", &self.clients)
            .field("duration", &self.duration)
            .field("ramp_up", &self.ramp_up)
            .field("rooms", &self.rooms)
            .field("link", &self.link)
            .field("tokens", &self.tokens.len())
            .field("tls", &self.tls)
            .field("chaos", &self.chaos)
            .finish_non_exhaustive()
    }
}

impl SwarmConfig {
    /// `clients` bots in `lobby` for `duration`, connecting over a tenth of it.
    pub fn new(url: impl Into<String>, clients: usize, duration: Duration) -> Self {
        Self {
            url: url.into(),
            clients,
            duration,
            ramp_up: duration / 10,
            rooms: vec!["lobby".to_owned()],
            link: LinkConfig::default(),
            tokens: Vec::new(),
            seed: 1,
            connect_timeout: Duration::from_secs(10),
            tls: TlsOptions::default(),
            chaos: None,
        }
    }

    fn client_config<P: Predict>(&self, i: usize, players: &Players<P>) -> ClientConfig<P> {
        let room = &self.rooms[i % self.rooms.len().max(1)];
        let mut c = ClientConfig::for_schema(
            players.schema,
            self.url.clone(),
            room.clone(),
            format!("bot-{i}"),
        );
        c.rules = players.rules.clone();
        c.token = match self.tokens.len() {
            0 => None,
            1 => self.tokens.first().cloned(),
            n => self.tokens.get(i % n).cloned(),
        };
        c.link = LinkConfig { seed: self.link.seed ^ (i as u64).wrapping_mul(0x9e37), ..self.link };
        c.connect_timeout = self.connect_timeout;
        c.tls = self.tls.clone();
        c.tuning.history_len = BOT_HISTORY;
        c.tuning.max_events = 16;
        c.event_capacity = 16;
        c
    }
}

/// The live view, refreshed by the collector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    /// Time since the start.
    pub elapsed: Duration,
    /// Bots whose connection succeeded.
    pub connected: usize,
    /// Bots whose connection failed.
    pub failed: usize,
    /// Sessions that ended before the stop.
    pub ended_early: usize,
    /// RTT median over the last second.
    pub rtt_p50: Duration,
    /// RTT 99th percentile over the last second.
    pub rtt_p99: Duration,
    /// Snapshots per second received by all bots.
    pub snapshots_per_s: f64,
    /// Bytes per second received by all bots.
    pub bytes_per_s: f64,
    /// Failed connections, decode errors and early ends so far.
    pub errors: u64,
    /// Connections dropped by chaos so far.
    pub chaos_drops: u64,
    /// Drops after which the same player came back, so far.
    pub resumes: u64,
}

/// What a finished run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The game the bots played.
    pub game: String,
    /// What they did.
    pub behaviour: String,
    /// The configuration run.
    pub config: SwarmConfig,
    /// Wall time from start to the last bot closed.
    pub elapsed: Duration,
    /// Bots that connected.
    pub connected: usize,
    /// Bots that failed to connect.
    pub failed: usize,
    /// Why connections failed, by label.
    pub connect_errors: Tally,
    /// Why sessions ended before the stop, by label.
    pub disconnects: Tally,
    /// RTT and snapshot-interval histograms.
    pub latencies: Latencies,
    /// Sums of the bots' counters.
    pub counters: Counters,
    /// Sum over bots of the time each was connected, seconds.
    pub bot_seconds: f64,
    /// Connections dropped on purpose by chaos.
    pub chaos_drops: u64,
}

impl Outcome {
    /// Failed connections + decode errors + sessions that ended early.
    pub fn errors(&self) -> u64 {
        self.failed as u64 + self.counters.decode_errors + self.disconnects.values().sum::<u64>()
    }

    /// Sessions lost to a drop: the server no longer held the player (a fresh join made a new
    /// one), or the bot gave up reconnecting.
    pub fn lost_sessions(&self) -> u64 {
        self.counters.sessions_lost + self.disconnects.get("reconnect_failed").copied().unwrap_or(0)
    }
}

/// How one bot's run ended.
#[derive(Debug)]
enum BotEnd {
    /// Stopped before its turn to connect.
    NotStarted,
    /// The connection failed.
    Failed(&'static str),
    /// It played.
    Played { reason: EndReason, early: bool, connected_for: Duration, stats: Box<ClientStats> },
}

#[derive(Debug)]
struct Shared<P: Predict> {
    handles: Mutex<Vec<ClientHandle<P>>>,
    live: Mutex<Live>,
    failed: Mutex<usize>,
    ended_early: Mutex<usize>,
    chaos_drops: AtomicU64,
    stop: CancellationToken,
}

impl<P: Predict> Default for Shared<P> {
    fn default() -> Self {
        Self {
            handles: Mutex::default(),
            live: Mutex::default(),
            failed: Mutex::default(),
            ended_early: Mutex::default(),
            chaos_drops: AtomicU64::default(),
            stop: CancellationToken::default(),
        }
    }
}

/// A running swarm of bots playing game `P`.
#[derive(Debug)]
pub struct Swarm<P: Predict> {
    shared: Arc<Shared<P>>,
    task: JoinHandle<Outcome>,
}

impl<P: Predict> Swarm<P> {
    /// Starts the run (on the current tokio runtime): `config.clients` bots of `players`. It
    /// stops by itself after `config.duration`.
    pub fn start(config: SwarmConfig, players: Players<P>) -> Swarm<P> {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(orchestrate(config, players, shared.clone()));
        Swarm { shared, task }
    }

    /// Handles of every bot connected so far (for checks and inspection).
    pub fn handles(&self) -> Vec<ClientHandle<P>> {
        self.shared.handles.lock().clone()
    }

    /// The live view.
    pub fn live(&self) -> Live {
        self.shared.live.lock().clone()
    }

    /// Ends the run early.
    pub fn stop(&self) {
        self.shared.stop.cancel();
    }

    /// Whether the run is over.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the end of the run.
    pub async fn finish(self) -> anyhow::Result<Outcome> {
        Ok(self.task.await?)
    }
}

async fn orchestrate<P: Predict>(
    config: SwarmConfig,
    players: Players<P>,
    shared: Arc<Shared<P>>,
) -> Outcome {
    let start = Instant::now();
    let config = Arc::new(config);
    let players = Arc::new(players);
    let mut bots = JoinSet::new();
    for i in 0..config.clients {
        bots.spawn(bot(i, config.clone(), players.clone(), start, shared.clone()));
    }
    let mut total = Latencies::default();
    let mut window = Latencies::default();
    let mut scratch = Samples::default();
    let mut ticker = interval(COLLECT_EVERY);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let deadline = start + config.duration;
    let mut last = (start, Counters::default());
    let mut ticks = 0u64;
    let mut chaos = config.chaos.map(|c| (c, Pcg32::seed_from_u64(config.seed ^ 0xc4a05), start));
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = sleep_until(deadline) => break,
            () = shared.stop.cancelled() => break,
        }
        if let Some((c, rng, last_round)) = &mut chaos
            && last_round.elapsed() >= c.every
        {
            *last_round = Instant::now();
            unleash(&shared, c.fraction, rng);
        }
        let counters = collect(&shared, &mut scratch, &mut total, &mut window);
        let now = Instant::now();
        let dt = now.duration_since(last.0).as_secs_f64().max(1e-3);
        let mut live = shared.live.lock();
        live.elapsed = now.duration_since(start);
        live.connected = shared.handles.lock().len();
        live.failed = *shared.failed.lock();
        live.ended_early = *shared.ended_early.lock();
        live.snapshots_per_s = (counters.snapshots - last.1.snapshots) as f64 / dt;
        live.bytes_per_s = (counters.bytes_received - last.1.bytes_received) as f64 / dt;
        live.errors = (live.failed + live.ended_early) as u64 + counters.decode_errors;
        live.chaos_drops = shared.chaos_drops.load(Ordering::Relaxed);
        live.resumes = counters.resumes;
        ticks += 1;
        if ticks.is_multiple_of(4) {
            live.rtt_p50 = window.rtt.quantile(0.5);
            live.rtt_p99 = window.rtt.quantile(0.99);
            window.clear();
        }
        drop(live);
        last = (now, counters);
    }
    shared.stop.cancel();

    let mut outcome = Outcome {
        game: players.schema.name().to_owned(),
        behaviour: players.behaviour.clone(),
        config: (*config).clone(),
        elapsed: Duration::ZERO,
        connected: 0,
        failed: 0,
        connect_errors: Tally::new(),
        disconnects: Tally::new(),
        latencies: Latencies::default(),
        counters: Counters::default(),
        bot_seconds: 0.0,
        chaos_drops: 0,
    };
    let finishing = async {
        while let Some(end) = bots.join_next().await {
            match end {
                Ok(BotEnd::NotStarted) => {}
                Ok(BotEnd::Failed(label)) => {
                    outcome.failed += 1;
                    count(&mut outcome.connect_errors, label);
                }
                Ok(BotEnd::Played { reason, early, connected_for, stats }) => {
                    outcome.connected += 1;
                    outcome.counters.add(&stats);
                    outcome.bot_seconds += connected_for.as_secs_f64();
                    if early {
                        count(&mut outcome.disconnects, reason.label());
                    }
                }
                Err(_) => count(&mut outcome.connect_errors, "bot_task_panicked"),
            }
        }
    };
    if tokio::time::timeout(STOP_GRACE, finishing).await.is_err() {
        bots.abort_all();
        count(&mut outcome.disconnects, "stop_timeout");
    }
    collect(&shared, &mut scratch, &mut total, &mut window);
    outcome.chaos_drops = shared.chaos_drops.load(Ordering::Relaxed);
    outcome.latencies = total;
    outcome.elapsed = start.elapsed();
    outcome
}

/// One round of chaos: drops each connected bot's connection with probability `fraction`.
fn unleash<P: Predict>(shared: &Shared<P>, fraction: f64, rng: &mut Pcg32) {
    let handles = shared.handles.lock().clone();
    for h in handles {
        if h.connection() == Connection::Connected && rng.random_bool(fraction.clamp(0.0, 1.0)) {
            h.drop_connection();
            shared.chaos_drops.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Drains every client's samples into `total` and `window`; returns the counters' sums.
fn collect<P: Predict>(
    shared: &Shared<P>,
    scratch: &mut Samples,
    total: &mut Latencies,
    window: &mut Latencies,
) -> Counters {
    let handles = shared.handles.lock().clone();
    let mut sums = Counters::default();
    for h in &handles {
        h.take_samples(scratch);
        sums.add(&h.stats());
    }
    for &us in &scratch.rtt_us {
        window.rtt.record(us);
    }
    total.record(scratch);
    sums
}

async fn bot<P: Predict>(
    i: usize,
    config: Arc<SwarmConfig>,
    players: Arc<Players<P>>,
    start: Instant,
    shared: Arc<Shared<P>>,
) -> BotEnd {
    let offset = config.ramp_up.mul_f64(i as f64 / config.clients.max(1) as f64);
    tokio::select! {
        () = sleep_until(start + offset) => {}
        () = shared.stop.cancelled() => return BotEnd::NotStarted,
    }
    let behaviour = (players.spawn)(config.seed.wrapping_mul(1_000_003) ^ i as u64);
    let connecting = connect_boxed(config.client_config(i, &players), behaviour);
    let mut client = tokio::select! {
        r = connecting => match r {
            Ok(client) => client,
            Err(e) => {
                tracing::debug!(bot = i, "connection failed: {e}");
                *shared.failed.lock() += 1;
                return BotEnd::Failed(e.label());
            }
        },
        () = shared.stop.cancelled() => return BotEnd::NotStarted,
    };
    let handle = client.handle();
    shared.handles.lock().push(handle.clone());
    let connected_at = Instant::now();
    let ended = tokio::select! {
        reason = client.closed() => Some(reason),
        () = shared.stop.cancelled() => None,
    };
    let (reason, early) = match ended {
        Some(reason) => {
            tracing::debug!(bot = i, "session ended early: {reason}");
            *shared.ended_early.lock() += 1;
            (reason, true)
        }
        None => (client.close().await, false),
    };
    BotEnd::Played {
        reason,
        early,
        connected_for: connected_at.elapsed(),
        stats: Box::new(handle.stats()),
    }
}
