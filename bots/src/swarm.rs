//! The swarm: starts the bots over the ramp-up, collects their samples while they play, stops
//! them at the end and sums up what happened ([`Outcome`]).
//!
//! One task per bot connects it (at `start + ramp_up · i / clients`, in room
//! `rooms[i % rooms.len()]`), registers its [`ClientHandle`] and waits for the session to end
//! or for the stop signal, then closes it. A collector task wakes every [`COLLECT_EVERY`],
//! drains every client's latency samples into the histograms and sums their counters for the
//! live view ([`Live`]). Bots are real clients of the game `P` ([`Players`]): each fully decodes
//! its snapshots, predicts (when the game can be predicted) and interpolates.
//!
//! With a directory ([`SwarmConfig::directory`], [`crate::directory`]), a bot first asks the
//! directory where its room is and connects there with the token it got; when its session
//! ends because its server is gone, it asks again and rejoins (with backoff, until the
//! target's deadline): the outcome counts the rejoins, their times and the bots that could not
//! get back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rand::{Rng as _, SeedableRng as _};
use rand_pcg::Pcg32;
use tickwire_client::{
    Client, ClientConfig, ClientHandle, ClientStats, Connection, EndReason, LinkConfig,
    ReconnectPolicy, Samples, TlsOptions, connect_boxed,
};
use tickwire_sim::Predict;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::collect::{
    Counters, Incident, Incidents, LAG_PROBE_EVERY, Latencies, LatencyHistogram, Steady, Tally,
    count,
};
use crate::directory::{self, DirectoryTarget, Route};
use crate::players::Players;

/// How often the collector drains the clients' samples.
pub const COLLECT_EVERY: Duration = Duration::from_millis(250);
/// The steady window ([`Outcome::steady`]) starts this long after the ramp-up (as the load
/// script's window of the server's CPU does).
pub const STEADY_SETTLE: Duration = Duration::from_secs(2);
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
    /// Route every bot through a fleet's directory instead of `url` (off by default).
    pub directory: Option<DirectoryTarget>,
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
            .field("directory", &self.directory)
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
            directory: None,
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
        c.tuning.history_len = players.history;
        // The bots read no events (they are counted): none is kept or sent down a channel.
        c.tuning.max_events = 0;
        c.event_capacity = 1;
        c
    }

    /// Bot `i`'s configuration for the server and token `route` names. Its own reconnection
    /// is short (a few attempts within about a second), and a refused resume is not turned
    /// into a fresh join (the token is single use): past that the directory routes it again.
    fn routed_config<P: Predict>(
        &self,
        i: usize,
        players: &Players<P>,
        route: Route,
    ) -> ClientConfig<P> {
        let mut c = self.client_config(i, players);
        c.url = route.ws_url;
        c.token = Some(route.token);
        c.reconnect = ReconnectPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            rejoin_when_expired: false,
            seed: Some(self.seed ^ i as u64),
        };
        c
    }

    /// Bot `i`'s room.
    fn room(&self, i: usize) -> &str {
        self.rooms.get(i % self.rooms.len().max(1)).map_or("lobby", String::as_str)
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
    /// The same, and the counters' growth, in the steady window (`None`: the run ended before
    /// it began): from [`STEADY_SETTLE`] after the ramp-up to the stop.
    pub steady: Option<Steady>,
    /// Sums of the bots' counters.
    pub counters: Counters,
    /// The seconds with late inputs or mispredictions, in order (at most
    /// [`crate::collect::MAX_INCIDENTS`]).
    pub incidents: Vec<Incident>,
    /// How late the bots' runtime woke a task sleeping [`LAG_PROBE_EVERY`], over the run: near
    /// zero while the bots keep up, tens of milliseconds when their cores are saturated (then
    /// the bots measure themselves as much as the server).
    pub runtime_lag: LatencyHistogram,
    /// Sum over bots of the time each was connected, seconds.
    pub bot_seconds: f64,
    /// Connections dropped on purpose by chaos.
    pub chaos_drops: u64,
    /// Directory mode: sessions that ended with the server gone and were joined again through
    /// the directory.
    pub rejoins: u64,
    /// Directory mode: from a session's end to the next session's welcome, per rejoin.
    pub rejoin_times: LatencyHistogram,
}

impl Outcome {
    /// Failed connections + decode errors + sessions that ended early.
    pub fn errors(&self) -> u64 {
        self.failed as u64 + self.counters.decode_errors + self.disconnects.values().sum::<u64>()
    }

    /// Sessions lost to a drop: the server no longer held the player (a fresh join made a new
    /// one), the bot gave up reconnecting, or (directory mode) it could not rejoin through the
    /// directory before its deadline.
    pub fn lost_sessions(&self) -> u64 {
        let tally = |label| self.disconnects.get(label).copied().unwrap_or(0);
        self.counters.sessions_lost + tally("reconnect_failed") + tally(REJOIN_FAILED)
    }
}

/// The disconnect label of a bot that could not rejoin through the directory in time.
pub const REJOIN_FAILED: &str = "rejoin_failed";

/// How one bot's run ended.
#[derive(Debug)]
enum BotEnd {
    /// Stopped before its turn to connect.
    NotStarted,
    /// The connection failed.
    Failed(&'static str),
    /// It played: one session, or (directory mode) several, joined by rejoins.
    Played {
        /// Why the last session ended.
        reason: EndReason,
        /// Whether it ended before the stop (counted under `label`).
        early: Option<&'static str>,
        connected_for: Duration,
        /// Each session's counters.
        stats: Vec<ClientStats>,
        /// From each session's end to the next one's welcome.
        rejoin_times: Vec<Duration>,
    },
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
    let steady_from = start + config.ramp_up + STEADY_SETTLE;
    // The steady window, once begun: its histograms and the counters when it began.
    let mut steady: Option<(Instant, Steady, Counters)> = None;
    let mut last = (start, Counters::default());
    let mut ticks = 0u64;
    let mut incidents = Incidents::default();
    let lag_us = Arc::new(AtomicU32::new(0));
    let probe = tokio::spawn(probe_lag(lag_us.clone(), shared.stop.clone()));
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
        let in_window = steady.as_mut().map(|(_, s, _)| &mut s.latencies);
        let (counters, gap_us) = collect(&shared, &mut scratch, &mut total, &mut window, in_window);
        incidents.gap(gap_us);
        let now = Instant::now();
        match &mut steady {
            Some((began, s, first)) => {
                s.length = now.duration_since(*began);
                s.counters = counters.since(first);
            }
            None if now >= steady_from => {
                let from = now.duration_since(start);
                steady = Some((now, Steady { from, ..Steady::default() }, counters));
            }
            None => {}
        }
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
            let lag = lag_us.swap(0, Ordering::Relaxed);
            incidents.end_second(now.duration_since(start), &counters, lag);
        }
        drop(live);
        last = (now, counters);
    }
    shared.stop.cancel();
    let runtime_lag = probe.await.unwrap_or_default();

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
        steady: None,
        counters: Counters::default(),
        incidents: incidents.into_vec(),
        runtime_lag,
        bot_seconds: 0.0,
        chaos_drops: 0,
        rejoins: 0,
        rejoin_times: LatencyHistogram::default(),
    };
    let finishing = async {
        while let Some(end) = bots.join_next().await {
            match end {
                Ok(BotEnd::NotStarted) => {}
                Ok(BotEnd::Failed(label)) => {
                    outcome.failed += 1;
                    count(&mut outcome.connect_errors, label);
                }
                Ok(BotEnd::Played { reason, early, connected_for, stats, rejoin_times }) => {
                    outcome.connected += 1;
                    for s in &stats {
                        outcome.counters.add(s);
                    }
                    outcome.bot_seconds += connected_for.as_secs_f64();
                    if let Some(label) = early {
                        tracing::debug!(label, "session ended early: {reason}");
                        count(&mut outcome.disconnects, label);
                    }
                    outcome.rejoins += rejoin_times.len() as u64;
                    for t in rejoin_times {
                        let us = u32::try_from(t.as_micros()).unwrap_or(u32::MAX);
                        outcome.rejoin_times.record(us);
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
    collect(&shared, &mut scratch, &mut total, &mut window, None);
    outcome.steady = steady.map(|(_, s, _)| s);
    outcome.chaos_drops = shared.chaos_drops.load(Ordering::Relaxed);
    outcome.latencies = total;
    outcome.elapsed = start.elapsed();
    outcome
}

/// Measures how late the runtime wakes a task until `stop`: sleeps [`LAG_PROBE_EVERY`] at a
/// time, keeps the longest overshoot in `lag_us` (taken and reset once a second for the
/// incidents) and returns them all.
async fn probe_lag(lag_us: Arc<AtomicU32>, stop: CancellationToken) -> LatencyHistogram {
    let mut lags = LatencyHistogram::default();
    loop {
        let asleep = Instant::now();
        tokio::select! {
            () = tokio::time::sleep(LAG_PROBE_EVERY) => {}
            () = stop.cancelled() => return lags,
        }
        let late = asleep.elapsed().saturating_sub(LAG_PROBE_EVERY);
        let us = u32::try_from(late.as_micros()).unwrap_or(u32::MAX);
        lags.record(us);
        lag_us.fetch_max(us, Ordering::Relaxed);
    }
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

/// Drains every client's samples into `total`, `window` and `steady` (if in the steady
/// window); returns the counters' sums and the longest snapshot gap drained, microseconds.
fn collect<P: Predict>(
    shared: &Shared<P>,
    scratch: &mut Samples,
    total: &mut Latencies,
    window: &mut Latencies,
    steady: Option<&mut Latencies>,
) -> (Counters, u32) {
    let handles = shared.handles.lock().clone();
    let mut sums = Counters::default();
    for h in &handles {
        h.take_samples(scratch);
        sums.add(&h.stats());
    }
    for &us in &scratch.rtt_us {
        window.rtt.record(us);
    }
    if let Some(steady) = steady {
        steady.add(scratch);
    }
    let longest_gap = scratch.snapshot_gap_us.iter().copied().max().unwrap_or(0);
    total.record(scratch);
    (sums, longest_gap)
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
    match config.directory.clone() {
        None => direct(i, &config, &players, &shared).await,
        Some(target) => routed(i, &config, &players, &shared, &target).await,
    }
}

/// A bot connected straight to `config.url`: one session.
async fn direct<P: Predict>(
    i: usize,
    config: &SwarmConfig,
    players: &Players<P>,
    shared: &Shared<P>,
) -> BotEnd {
    let behaviour = (players.spawn)(config.seed.wrapping_mul(1_000_003) ^ i as u64);
    let connecting = connect_boxed(config.client_config(i, players), behaviour);
    let client = tokio::select! {
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
    let session = play(client, shared).await;
    let early = session.ended.as_ref().map(|r| r.label());
    BotEnd::Played {
        reason: session.reason(),
        early,
        connected_for: session.connected_for,
        stats: vec![session.stats],
        rejoin_times: Vec::new(),
    }
}

/// A bot routed by the directory: sessions joined by rejoins until the stop, a final end, or
/// a rejoin that misses its deadline.
async fn routed<P: Predict>(
    i: usize,
    config: &SwarmConfig,
    players: &Players<P>,
    shared: &Shared<P>,
    target: &DirectoryTarget,
) -> BotEnd {
    let mut client = match route_and_connect(i, config, players, shared, target).await {
        Ok(client) => client,
        Err(None) => return BotEnd::NotStarted,
        Err(Some(label)) => {
            *shared.failed.lock() += 1;
            return BotEnd::Failed(label);
        }
    };
    let mut stats = Vec::new();
    let mut rejoin_times = Vec::new();
    let mut connected_for = Duration::ZERO;
    loop {
        let session = play(client, shared).await;
        connected_for += session.connected_for;
        stats.push(session.stats);
        let reason = match session.ended {
            Some(reason) if directory::rejoinable(&reason) => reason,
            ended => {
                let early = ended.as_ref().map(|r| r.label());
                let reason = ended.unwrap_or(EndReason::Left);
                return BotEnd::Played { reason, early, connected_for, stats, rejoin_times };
            }
        };
        tracing::debug!(bot = i, "session ended ({reason}): asking the directory again");
        let ended_at = Instant::now();
        client = match route_and_connect(i, config, players, shared, target).await {
            Ok(client) => client,
            Err(stopped_or_failed) => {
                let early = stopped_or_failed.map(|_| REJOIN_FAILED);
                return BotEnd::Played { reason, early, connected_for, stats, rejoin_times };
            }
        };
        rejoin_times.push(ended_at.elapsed());
    }
}

/// Asks the directory and connects where it says, again after each failure (backoff) until
/// the target's deadline. `Err(None)`: stopped; `Err(Some(label))`: the last failure.
async fn route_and_connect<P: Predict>(
    i: usize,
    config: &SwarmConfig,
    players: &Players<P>,
    shared: &Shared<P>,
    target: &DirectoryTarget,
) -> Result<Client<P>, Option<&'static str>> {
    let deadline = Instant::now() + target.rejoin_deadline;
    let player = format!("bot-{i}");
    let mut attempt = 0;
    loop {
        let tried = async {
            let route = directory::ask(target, config.room(i), &player).await.map_err(|e| {
                tracing::debug!(bot = i, "directory: {e}");
                e.label()
            })?;
            let behaviour = (players.spawn)(config.seed.wrapping_mul(1_000_003) ^ i as u64);
            connect_boxed(config.routed_config(i, players, route), behaviour).await.map_err(|e| {
                tracing::debug!(bot = i, "connection failed: {e}");
                e.label()
            })
        };
        let label = tokio::select! {
            r = tried => match r {
                Ok(client) => return Ok(client),
                Err(label) => label,
            },
            () = shared.stop.cancelled() => return Err(None),
        };
        let Some(pause) = directory::backoff(attempt, deadline) else {
            return Err(Some(label));
        };
        attempt += 1;
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = shared.stop.cancelled() => return Err(None),
        }
    }
}

/// One session, from a connected client to its end or the stop.
struct Session {
    /// Why it ended before the stop (`None`: the stop closed it).
    ended: Option<EndReason>,
    connected_for: Duration,
    stats: ClientStats,
}

impl Session {
    fn reason(&self) -> EndReason {
        self.ended.clone().unwrap_or(EndReason::Left)
    }
}

/// Plays a connected client until its session ends or the swarm stops.
async fn play<P: Predict>(mut client: Client<P>, shared: &Shared<P>) -> Session {
    let handle = client.handle();
    shared.handles.lock().push(handle.clone());
    let connected_at = Instant::now();
    let ended = tokio::select! {
        reason = client.closed() => Some(reason),
        () = shared.stop.cancelled() => None,
    };
    match &ended {
        Some(_) => *shared.ended_early.lock() += 1,
        None => {
            client.close().await;
        }
    }
    Session { ended, connected_for: connected_at.elapsed(), stats: handle.stats() }
}
