//! Prometheus metrics, rendered at `/metrics` in the text exposition format.
//!
//! One [`Metrics`] per server, shared by `Arc`; every metric is lock-free to update (atomics),
//! so the tick loop and the sessions record without contention.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A label set with one label.
pub type Label = [(&'static str, &'static str); 1];
/// A label set with two labels (`game` first).
pub type Labels2 = [(&'static str, &'static str); 2];
/// A histogram family whose histograms all have the same buckets.
pub type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric the server exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Open TCP connections (HTTP or WebSocket).
    pub connections: Gauge,
    /// Open rooms, by game.
    pub rooms: Family<Label, Gauge>,
    /// Players in rooms, by game.
    pub players: Family<Label, Gauge>,
    /// Duration of one room tick (inputs, step, history, snapshot, publish), seconds, by game.
    pub tick_duration: HistogramFamily<Label>,
    /// Ticks that took longer than the tick interval, by game.
    pub tick_overruns: Family<Label, Counter>,
    /// Ticks skipped because a room fell too far behind (catch-up cap), by game.
    pub ticks_dropped: Family<Label, Counter>,
    /// Ticks run late, back to back after the previous one, because the room's task woke a
    /// tick or more late (the process was descheduled, or a tick overran), by game.
    pub ticks_caught_up: Family<Label, Counter>,
    /// WebSocket payload bytes, by direction (`in`/`out`).
    pub bytes: Family<Label, Counter>,
    /// WebSocket messages, by direction (`in`/`out`).
    pub messages: Family<Label, Counter>,
    /// Snapshots replaced before a slow client's writer could send them.
    pub snapshots_dropped: Counter,
    /// Writes a room made to a client's socket itself (a tick's messages, or a batch), without
    /// waking the client's session (plain TCP; `crate::session::direct`).
    pub direct_writes: Counter,
    /// Snapshot payloads encoded (shared by all clients with the same baseline), chunk payloads
    /// included (each shared by all clients that hold the chunk, with the same baseline).
    pub snapshot_encodes: Counter,
    /// Size of each snapshot message sent to a client, bytes.
    pub snapshot_bytes: Histogram,
    /// Interest management: distinct views per published tick, by game.
    pub interest_views: HistogramFamily<Label>,
    /// Interest management: clients whose view changed, by game.
    pub interest_transitions: Family<Label, Counter>,
    /// Interest management: entities in each view, by game.
    pub interest_entities: HistogramFamily<Label>,
    /// Interest management: chunks per published tick sent to clients that read views as
    /// chunks, by game.
    pub interest_chunks: HistogramFamily<Label>,
    /// Round-trip times measured by server pings, seconds.
    pub rtt: Histogram,
    /// How late the async runtime woke a ready task, seconds ([`crate::lag`]).
    pub runtime_lag: Histogram,
    /// Lag-compensated raycasts, by game and outcome (`hit`/`miss`).
    pub rewinds: Family<Labels2, Counter>,
    /// How far raycasts were rewound, seconds, by game.
    pub rewind_seconds: HistogramFamily<Label>,
    /// Raycasts whose claimed view time was replaced by the RTT-based estimate, by game.
    pub rewind_claims_corrected: Family<Label, Counter>,
    /// Input frames by game and outcome (`accepted`, `late`, `duplicate`, `too_far_ahead`).
    pub inputs: Family<Labels2, Counter>,
    /// How long before its tick was due each accepted input reached the server, seconds, by
    /// game.
    pub input_lead: HistogramFamily<Label>,
    /// Game commands by game and outcome (`accepted`, `queue_full`).
    pub commands: Family<Labels2, Counter>,
    /// Sessions closed, by reason.
    pub sessions_closed: Family<Label, Counter>,
    /// Hellos refused, by reason.
    pub sessions_rejected: Family<Label, Counter>,
    /// HTTP requests refused before any session existed, by reason.
    pub http_rejected: Family<Label, Counter>,
    /// Forwarding headers (`x-forwarded-for`, `forwarded`) and PROXY headers
    /// (`proxy-protocol`) from peers not in `--trusted-proxies`: ignored, and counted here by
    /// `header` (spoofing attempts, or a proxy missing from the list).
    pub forwarding_ignored: Family<Label, Counter>,
    /// Errors from `accept` (e.g. out of file descriptors).
    pub accept_errors: Counter,
    /// Players kept in their room for a resume after their connection dropped, by game.
    pub players_detached: Family<Label, Gauge>,
    /// Detached players by outcome: `resumed` (a new connection took them back) or `expired`
    /// (the grace period ended and they were removed).
    pub resumes: Family<Label, Counter>,
    /// Resident memory of the server process, bytes (Linux; read when `/metrics` is rendered).
    pub resident_memory: Gauge,
    /// Rooms being recorded (`--record`): writer threads with an open file.
    pub recordings: Gauge,
    /// Bytes written to recordings.
    pub recording_bytes: Counter,
    /// Recordings stopped while their room went on, by reason (`backlog`, `unwritable`,
    /// `disk_full`, `too_many_files`, `io`, `thread`; see `crate::recording`).
    pub recording_failures: Family<Label, Counter>,
    /// Health pings sent to the orchestrator (`crate::fleet`).
    pub fleet_health_pings: Counter,
    /// Health pings withheld because a room's tick loop stood still.
    pub fleet_health_withheld: Counter,
    /// 1 while the server drains (refusing new rooms before it stops).
    pub fleet_draining: Gauge,
    /// Registrations written to the fleet directory's Redis.
    pub fleet_heartbeats: Counter,
    /// Failed orchestrator and directory calls, by call (`ready`, `health`, `report`, `watch`,
    /// `draining`, `heartbeat`, `claim`).
    pub fleet_errors: Family<Label, Counter>,
    /// Last time (ms since start) a rate-limited warning was logged.
    last_warn_ms: AtomicU64,
    /// The per-direction counters above, resolved once: they are bumped for every message, and
    /// a family lookup (lock + hash) per message would be wasted work on the hot path.
    hot: HotCounters,
}

#[derive(Debug, Default)]
struct HotCounters {
    messages_in: Counter,
    messages_out: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tickwire");
        let m = Self {
            connections: Gauge::default(),
            rooms: Family::default(),
            players: Family::default(),
            tick_duration: Family::new_with_constructor(tick_buckets),
            tick_overruns: Family::default(),
            ticks_dropped: Family::default(),
            ticks_caught_up: Family::default(),
            bytes: Family::default(),
            messages: Family::default(),
            snapshots_dropped: Counter::default(),
            direct_writes: Counter::default(),
            snapshot_encodes: Counter::default(),
            snapshot_bytes: Histogram::new(exponential_buckets(16.0, 2.0, 14)),
            interest_views: Family::new_with_constructor(count_buckets),
            interest_transitions: Family::default(),
            interest_entities: Family::new_with_constructor(count_buckets),
            interest_chunks: Family::new_with_constructor(count_buckets),
            rtt: Histogram::new(exponential_buckets(0.5e-3, 2.0, 14)),
            runtime_lag: Histogram::new(r10_buckets(-4, 0).filter(|&b| b <= 2.0)),
            rewinds: Family::default(),
            rewind_seconds: Family::new_with_constructor(rewind_buckets),
            rewind_claims_corrected: Family::default(),
            inputs: Family::default(),
            input_lead: Family::new_with_constructor(lead_buckets),
            commands: Family::default(),
            sessions_closed: Family::default(),
            sessions_rejected: Family::default(),
            http_rejected: Family::default(),
            forwarding_ignored: Family::default(),
            accept_errors: Counter::default(),
            players_detached: Family::default(),
            resumes: Family::default(),
            resident_memory: Gauge::default(),
            recordings: Gauge::default(),
            recording_bytes: Counter::default(),
            recording_failures: Family::default(),
            fleet_health_pings: Counter::default(),
            fleet_health_withheld: Counter::default(),
            fleet_draining: Gauge::default(),
            fleet_heartbeats: Counter::default(),
            fleet_errors: Family::default(),
            last_warn_ms: AtomicU64::new(0),
            registry: Registry::default(),
            hot: HotCounters::default(),
        };
        let r = &mut registry;
        r.register("connections", "Open TCP connections", m.connections.clone());
        r.register("rooms", "Open rooms by game", m.rooms.clone());
        r.register("players", "Players in rooms by game", m.players.clone());
        r.register("tick_duration_seconds", "Duration of one room tick", m.tick_duration.clone());
        r.register("tick_overruns", "Ticks longer than the tick interval", m.tick_overruns.clone());
        r.register("ticks_dropped", "Ticks skipped by the catch-up cap", m.ticks_dropped.clone());
        r.register(
            "ticks_caught_up",
            "Ticks run back to back after a late wake-up (only the last one sends snapshots)",
            m.ticks_caught_up.clone(),
        );
        r.register("bytes", "WebSocket payload bytes by direction", m.bytes.clone());
        r.register("messages", "WebSocket messages by direction", m.messages.clone());
        r.register(
            "snapshots_dropped",
            "Snapshots superseded before a slow client took them",
            m.snapshots_dropped.clone(),
        );
        r.register(
            "direct_writes",
            "Writes a room made to a client's socket itself, without waking its session",
            m.direct_writes.clone(),
        );
        r.register(
            "snapshot_encodes",
            "Snapshot payloads encoded (shared fan-out)",
            m.snapshot_encodes.clone(),
        );
        r.register(
            "snapshot_bytes",
            "Size of each snapshot message sent to a client",
            m.snapshot_bytes.clone(),
        );
        r.register(
            "interest_views",
            "Distinct views per published tick (interest management)",
            m.interest_views.clone(),
        );
        r.register(
            "interest_transitions",
            "Clients whose view changed (interest management)",
            m.interest_transitions.clone(),
        );
        r.register(
            "interest_entities",
            "Entities in each view per published tick (interest management)",
            m.interest_entities.clone(),
        );
        r.register(
            "interest_chunks",
            "Chunks per published tick, for clients that read views as chunks (interest management)",
            m.interest_chunks.clone(),
        );
        r.register(
            "fleet_health_pings",
            "Health pings sent to the orchestrator",
            m.fleet_health_pings.clone(),
        );
        r.register(
            "fleet_health_withheld",
            "Health pings withheld: a room's tick loop stood still",
            m.fleet_health_withheld.clone(),
        );
        r.register("fleet_draining", "1 while the server drains", m.fleet_draining.clone());
        r.register(
            "fleet_heartbeats",
            "Registrations written to the fleet directory",
            m.fleet_heartbeats.clone(),
        );
        r.register(
            "fleet_errors",
            "Failed orchestrator and directory calls",
            m.fleet_errors.clone(),
        );
        r.register("rtt_seconds", "Client round-trip times measured by ping/pong", m.rtt.clone());
        r.register(
            "runtime_lag_seconds",
            "How late the async runtime woke a ready task (a 10 ms probe)",
            m.runtime_lag.clone(),
        );
        r.register("rewinds", "Lag-compensated raycasts by outcome", m.rewinds.clone());
        r.register(
            "rewind_seconds",
            "How far lag-compensated raycasts rewound",
            m.rewind_seconds.clone(),
        );
        r.register(
            "rewind_claims_corrected",
            "View-time claims replaced by the RTT estimate",
            m.rewind_claims_corrected.clone(),
        );
        r.register("inputs", "Input frames by outcome", m.inputs.clone());
        r.register(
            "input_lead_seconds",
            "How long before its tick was due each accepted input arrived",
            m.input_lead.clone(),
        );
        r.register("commands", "Game commands by outcome", m.commands.clone());
        r.register("sessions_closed", "Sessions closed by reason", m.sessions_closed.clone());
        r.register("sessions_rejected", "Hellos refused by reason", m.sessions_rejected.clone());
        r.register("http_rejected", "HTTP requests refused by reason", m.http_rejected.clone());
        r.register(
            "forwarding_ignored",
            "Forwarding or PROXY headers ignored from untrusted peers",
            m.forwarding_ignored.clone(),
        );
        r.register("accept_errors", "Errors from accept()", m.accept_errors.clone());
        r.register(
            "players_detached",
            "Players kept for a resume after their connection dropped",
            m.players_detached.clone(),
        );
        r.register("resumes", "Detached players by outcome", m.resumes.clone());
        r.register(
            "process_resident_memory_bytes",
            "Resident memory of the server process",
            m.resident_memory.clone(),
        );
        r.register("recordings", "Rooms being recorded", m.recordings.clone());
        r.register("recording_bytes", "Bytes written to recordings", m.recording_bytes.clone());
        r.register(
            "recording_failures",
            "Recordings stopped (the room goes on) by reason",
            m.recording_failures.clone(),
        );
        // One statement per lookup: `get_or_create` returns a lock guard, and a second lookup
        // (which may insert) while the first guard lives would deadlock.
        let resolve = |family: &Family<Label, Counter>, direction: &'static str| {
            family.get_or_create(&[("direction", direction)]).clone()
        };
        let messages_in = resolve(&m.messages, "in");
        let messages_out = resolve(&m.messages, "out");
        let bytes_in = resolve(&m.bytes, "in");
        let bytes_out = resolve(&m.bytes, "out");
        let hot = HotCounters { messages_in, messages_out, bytes_in, bytes_out };
        Self { registry, hot, ..m }
    }

    /// The per-game metrics of `game`, resolved once (a family lookup locks and hashes).
    pub fn game(&self, game: &'static str) -> GameMetrics {
        let label = [("game", game)];
        // One statement per lookup: `get_or_create` returns a guard (see `new`).
        let rooms = self.rooms.get_or_create(&label).clone();
        let players = self.players.get_or_create(&label).clone();
        let players_detached = self.players_detached.get_or_create(&label).clone();
        let tick_duration = self.tick_duration.get_or_create(&label).clone();
        let tick_overruns = self.tick_overruns.get_or_create(&label).clone();
        let ticks_dropped = self.ticks_dropped.get_or_create(&label).clone();
        let ticks_caught_up = self.ticks_caught_up.get_or_create(&label).clone();
        let hits = self.rewinds.get_or_create(&[("game", game), ("outcome", "hit")]).clone();
        let misses = self.rewinds.get_or_create(&[("game", game), ("outcome", "miss")]).clone();
        let rewind_seconds = self.rewind_seconds.get_or_create(&label).clone();
        let corrected = self.rewind_claims_corrected.get_or_create(&label).clone();
        let input_lead = self.input_lead.get_or_create(&label).clone();
        let inputs = INPUT_OUTCOMES.map(|outcome| {
            self.inputs.get_or_create(&[("game", game), ("outcome", outcome)]).clone()
        });
        let commands = COMMAND_OUTCOMES.map(|outcome| {
            self.commands.get_or_create(&[("game", game), ("outcome", outcome)]).clone()
        });
        let interest_views = self.interest_views.get_or_create(&label).clone();
        let interest_transitions = self.interest_transitions.get_or_create(&label).clone();
        let interest_entities = self.interest_entities.get_or_create(&label).clone();
        let interest_chunks = self.interest_chunks.get_or_create(&label).clone();
        GameMetrics {
            interest_views,
            interest_transitions,
            interest_entities,
            interest_chunks,
            game,
            rooms,
            players,
            players_detached,
            tick_duration,
            tick_overruns,
            ticks_dropped,
            ticks_caught_up,
            rewind_hits: hits,
            rewind_misses: misses,
            rewind_seconds,
            rewind_claims_corrected: corrected,
            inputs,
            input_lead,
            commands,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        if let Some(rss) = resident_memory_bytes() {
            self.resident_memory.set(i64::try_from(rss).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // invariant: writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Counts one outgoing message of `len` bytes.
    pub fn sent(&self, len: usize) {
        self.hot.messages_out.inc();
        self.hot.bytes_out.inc_by(len as u64);
    }

    /// Counts one incoming message of `len` bytes.
    pub fn received(&self, len: usize) {
        self.hot.messages_in.inc();
        self.hot.bytes_in.inc_by(len as u64);
    }

    /// Observes a duration in seconds.
    pub fn observe(h: &Histogram, d: Duration) {
        h.observe(d.as_secs_f64());
    }

    /// Whether a warning may be logged now: at most one per second across the server, so that
    /// a flood of bad clients cannot flood the log (everything is still logged at debug).
    pub fn warn_allowed(&self, now_ms: u64) -> bool {
        let last = self.last_warn_ms.load(Ordering::Relaxed);
        now_ms >= last + 1000
            && self
                .last_warn_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Room tick durations from 20 µs to 0.5 s, ten buckets a decade (the R10 series 1, 1.25,
/// 1.6, 2, 2.5, 3.2, 4, 5, 6.4, 8), so that a tick p99 is read within a quarter of its value:
/// with buckets doubling, a p99 near a 10 ms budget could only be told to be between 6.4 and
/// 12.8 ms.
fn tick_buckets() -> Histogram {
    Histogram::new(r10_buckets(-5, -1).filter(|&b| (2e-5..=0.5).contains(&b)))
}

/// The R10 series (ten values a decade, each about 1.26 times the last) from `10^from` to
/// `10^to`, each the `f64` nearest its decimal (so the `le` labels read `0.0016`, not
/// `0.0016000000000000003`).
fn r10_buckets(from: i32, to: i32) -> impl Iterator<Item = f64> {
    const R10: [&str; 10] = ["1", "1.25", "1.6", "2", "2.5", "3.2", "4", "5", "6.4", "8"];
    (from..=to).flat_map(|e| R10.iter().filter_map(move |m| format!("{m}e{e}").parse().ok()))
}

/// Input leads from 1 ms (an input that arrived later than that before its tick, or after
/// its due time while the room ran late, is in the first bucket) to 2 s.
fn lead_buckets() -> Histogram {
    Histogram::new(r10_buckets(-3, 0).filter(|&b| b <= 2.0))
}

fn count_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 16))
}

fn rewind_buckets() -> Histogram {
    Histogram::new(exponential_buckets(8e-3, 2.0, 7))
}

/// One game's labelled metrics (handles sharing the registered series), for its rooms' hot
/// paths.
#[derive(Debug, Clone)]
pub struct GameMetrics {
    /// The game's name (the label).
    pub game: &'static str,
    /// Open rooms of the game.
    pub rooms: Gauge,
    /// Players in the game's rooms.
    pub players: Gauge,
    /// Players of the game detached, awaiting a resume.
    pub players_detached: Gauge,
    /// Duration of one room tick.
    pub tick_duration: Histogram,
    /// Ticks longer than the tick interval.
    pub tick_overruns: Counter,
    /// Ticks skipped by the catch-up cap.
    pub ticks_dropped: Counter,
    /// Ticks run back to back after a late wake-up.
    pub ticks_caught_up: Counter,
    /// Raycasts that hit.
    pub rewind_hits: Counter,
    /// Raycasts that missed.
    pub rewind_misses: Counter,
    /// How far raycasts rewound, seconds.
    pub rewind_seconds: Histogram,
    /// Claims replaced by the RTT estimate.
    pub rewind_claims_corrected: Counter,
    /// Input frames by outcome, in the order of [`INPUT_OUTCOMES`].
    pub inputs: [Counter; 5],
    /// How long before its tick was due each accepted input arrived, seconds.
    pub input_lead: Histogram,
    /// Game commands by outcome, in the order of [`COMMAND_OUTCOMES`].
    pub commands: [Counter; 2],
    /// Distinct views per published tick (interest management).
    pub interest_views: Histogram,
    /// Clients whose view changed (interest management).
    pub interest_transitions: Counter,
    /// Entities per view (interest management).
    pub interest_entities: Histogram,
    /// Chunks per published tick, for clients that read views as chunks.
    pub interest_chunks: Histogram,
}

/// The `outcome` labels of `tickwire_inputs_total`.
pub const INPUT_OUTCOMES: [&str; 5] =
    ["accepted", "duplicate", "late", "too_far_ahead", "too_large"];
/// The `outcome` labels of `tickwire_commands_total`.
pub const COMMAND_OUTCOMES: [&str; 2] = ["accepted", "queue_full"];

/// The process's resident set size, from `VmRSS` in `/proc/self/status` (Linux only).
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.sent(10);
        m.sessions_closed.get_or_create(&[("reason", "timeout")]).inc();
        let game = m.game("chess");
        game.tick_duration.observe(0.001);
        game.rooms.inc();
        let text = m.render();
        assert!(text.contains("tickwire_bytes_total{direction=\"out\"} 10"), "{text}");
        assert!(text.contains("tickwire_sessions_closed_total{reason=\"timeout\"} 1"), "{text}");
        assert!(text.contains("tickwire_tick_duration_seconds_count{game=\"chess\"} 1"), "{text}");
        assert!(text.contains("tickwire_rooms{game=\"chess\"} 1"), "{text}");
        if cfg!(target_os = "linux") {
            assert!(!text.contains("tickwire_process_resident_memory_bytes 0\n"), "{text}");
            assert!(text.contains("tickwire_process_resident_memory_bytes "), "{text}");
        }
        assert!(m.warn_allowed(5000));
        assert!(!m.warn_allowed(5500));
        assert!(m.warn_allowed(6000));
    }

    #[test]
    fn tick_buckets_are_a_quarter_apart_with_short_labels() {
        let m = Metrics::new();
        m.game("chess").tick_duration.observe(0.0095);
        let text = m.render();
        let bounds: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("tickwire_tick_duration_seconds_bucket"))
            .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
            .collect();
        let want = ["0.00002", "0.000025", "0.000032", "0.00004", "0.00005", "0.000064"];
        assert_eq!(bounds[..6], want, "{bounds:?}");
        assert!(
            bounds.contains(&"0.0064") && bounds.contains(&"0.008") && bounds.contains(&"0.01")
        );
        assert_eq!(bounds[bounds.len() - 2..], ["0.5", "+Inf"]);
        // The observation falls in (8 ms, 10 ms], not in a bucket twice as wide.
        let count = |le: &str| text.lines().find(|l| l.contains(&format!("le=\"{le}\"")));
        assert!(count("0.008").is_some_and(|l| l.ends_with(" 0")), "{text}");
        assert!(count("0.01").is_some_and(|l| l.ends_with(" 1")), "{text}");
    }
}
