//! The final report: one [`Report`] built from a run's [`Outcome`], the server's tick duration
//! and the SLO verdict, printed as a table ([`Report::table`]) and written as JSON (every field
//! always present; unknown values are `null`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::collect::{Incident, Percentiles, Steady, Tally};
use crate::slo::{Breach, Measured, Thresholds, evaluate};
use crate::swarm::Outcome;

/// The server's tick duration over the run, from `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerTicks {
    /// Ticks observed (all rooms).
    pub ticks: u64,
    /// Tick duration p99, milliseconds.
    pub p99_ms: f64,
}

/// One sample of the server's resident memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RssSample {
    /// Seconds since the run started.
    pub t_s: f64,
    /// Resident memory, MiB.
    pub mib: f64,
}

/// The SLO verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloVerdict {
    /// Whether every objective held.
    pub passed: bool,
    /// The objectives breached.
    pub breaches: Vec<Breach>,
}

/// Everything a run measured (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The server's WebSocket URL.
    pub url: String,
    /// Bots requested.
    pub clients: usize,
    /// The game they played.
    pub game: String,
    /// What they did.
    pub behaviour: String,
    /// Rooms used.
    pub rooms: Vec<String>,
    /// Configured duration, seconds.
    pub duration_s: f64,
    /// Configured ramp-up, seconds.
    pub ramp_up_s: f64,
    /// Link-conditioner latency each way, milliseconds.
    pub latency_ms: f64,
    /// Link-conditioner jitter, milliseconds.
    pub jitter_ms: f64,
    /// Actual run time, seconds.
    pub elapsed_s: f64,
    /// Bots that connected.
    pub bots_connected: usize,
    /// Bots whose connection failed.
    pub bots_failed: usize,
    /// Failed connections by reason.
    pub connect_errors: Tally,
    /// RTT of the bots' own pings, milliseconds.
    pub rtt_ms: Percentiles,
    /// Interval between consecutive snapshots at a bot, milliseconds.
    pub snapshot_interval_ms: Percentiles,
    /// The same figures in the steady window, joins and goodbyes left out (`null`: the run
    /// ended before it began; see [`crate::swarm::STEADY_SETTLE`]).
    pub steady: Option<SteadyReport>,
    /// Snapshots decoded, all bots.
    pub snapshots_received: u64,
    /// WebSocket payload bytes received, all bots.
    pub bytes_received: u64,
    /// Snapshots per connected bot per second.
    pub snapshots_per_bot_per_s: f64,
    /// Bytes received per connected bot per second.
    pub bytes_per_bot_per_s: f64,
    /// Input frames sent, all bots.
    pub inputs_sent: u64,
    /// Inputs the server simulated a tick without (arrived late).
    pub inputs_late: u64,
    /// Local-player predictions checked against a snapshot.
    pub prediction_checks: u64,
    /// Of which wrong.
    pub mispredictions: u64,
    /// The seconds with late inputs or mispredictions, in order, with their longest snapshot
    /// gap (at most [`crate::collect::MAX_INCIDENTS`]).
    pub incidents: Vec<Incident>,
    /// How late the bots' runtime woke a task sleeping 10 ms, milliseconds: tens of
    /// milliseconds mean the bots' cores were saturated.
    pub bots_runtime_lag_ms: Percentiles,
    /// Game events received, all bots.
    pub events: u64,
    /// Messages or snapshots that failed to decode.
    pub decode_errors: u64,
    /// Sessions that ended before the run did, by reason.
    pub disconnects: Tally,
    /// Failed connections + decode errors + early ends.
    pub errors: u64,
    /// Chaos: fraction of connected bots dropped per round (`null`: no chaos).
    pub chaos_fraction: Option<f64>,
    /// Chaos: seconds between rounds (`null`: no chaos).
    pub chaos_every_s: Option<f64>,
    /// Connections dropped on purpose by chaos.
    pub chaos_drops: u64,
    /// New connections opened after drops.
    pub reconnect_attempts: u64,
    /// Drops after which the same player came back.
    pub resumes: u64,
    /// Time from a dropped connection to the welcome of the next one, milliseconds.
    pub outage_ms: Percentiles,
    /// Sessions lost to drops (server no longer held the player, gave up reconnecting, or
    /// could not rejoin through the directory in time).
    pub lost_sessions: u64,
    /// The directory the bots were routed by (`null`: connected straight to `url`).
    pub directory: Option<String>,
    /// Directory mode: sessions whose server was gone, joined again through the directory.
    pub rejoins: u64,
    /// Directory mode: from a session's end to the next one's welcome, milliseconds.
    pub rejoin_ms: Percentiles,
    /// The server's resident memory over the run (empty when `/metrics` was not reachable).
    pub server_rss: Vec<RssSample>,
    /// The server's tick duration p99 over the run, milliseconds (`null` when `/metrics` was
    /// not reachable).
    pub server_tick_p99_ms: Option<f64>,
    /// Server ticks observed over the run (`null` likewise).
    pub server_ticks: Option<u64>,
    /// The SLO verdict.
    pub slo: SloVerdict,
}

impl Report {
    /// Records the server's ticks in the steady window (between scrapes at its start and its
    /// end), if the run had one.
    pub fn set_steady_server_ticks(&mut self, server: Option<ServerTicks>) {
        if let (Some(st), Some(server)) = (&mut self.steady, server) {
            st.server_tick_p99_ms = Some(round3(server.p99_ms));
            st.server_ticks = Some(server.ticks);
        }
    }

    /// Builds the report and checks the objectives.
    pub fn new(outcome: &Outcome, server: Option<ServerTicks>, thresholds: &Thresholds) -> Report {
        let c = &outcome.config;
        let l = &outcome.latencies;
        let k = &outcome.counters;
        let per_bot_s =
            |v: u64| if outcome.bot_seconds > 0.0 { v as f64 / outcome.bot_seconds } else { 0.0 };
        let measured = Measured {
            rtt_p99: (!l.rtt.is_empty()).then(|| l.rtt.quantile(0.99)),
            snapshot_gap_p99: (!l.snapshot_gap.is_empty()).then(|| l.snapshot_gap.quantile(0.99)),
            errors: outcome.errors(),
            lost_sessions: outcome.lost_sessions(),
        };
        let breaches = evaluate(thresholds, &measured);
        Report {
            url: c.url.clone(),
            clients: c.clients,
            game: outcome.game.clone(),
            behaviour: outcome.behaviour.clone(),
            rooms: c.rooms.clone(),
            duration_s: c.duration.as_secs_f64(),
            ramp_up_s: c.ramp_up.as_secs_f64(),
            latency_ms: c.link.latency.as_secs_f64() * 1e3,
            jitter_ms: c.link.jitter.as_secs_f64() * 1e3,
            elapsed_s: round3(outcome.elapsed.as_secs_f64()),
            bots_connected: outcome.connected,
            bots_failed: outcome.failed,
            connect_errors: outcome.connect_errors.clone(),
            rtt_ms: l.rtt.summary(),
            snapshot_interval_ms: l.snapshot_gap.summary(),
            steady: outcome.steady.as_ref().map(SteadyReport::new),
            snapshots_received: k.snapshots,
            bytes_received: k.bytes_received,
            snapshots_per_bot_per_s: round3(per_bot_s(k.snapshots)),
            bytes_per_bot_per_s: round3(per_bot_s(k.bytes_received)),
            inputs_sent: k.inputs_sent,
            inputs_late: k.inputs_late,
            prediction_checks: k.prediction_checks,
            mispredictions: k.mispredictions,
            incidents: outcome.incidents.clone(),
            bots_runtime_lag_ms: outcome.runtime_lag.summary(),
            events: k.events,
            decode_errors: k.decode_errors,
            disconnects: outcome.disconnects.clone(),
            errors: measured.errors,
            chaos_fraction: c.chaos.map(|c| c.fraction),
            chaos_every_s: c.chaos.map(|c| c.every.as_secs_f64()),
            chaos_drops: outcome.chaos_drops,
            reconnect_attempts: k.reconnect_attempts,
            resumes: k.resumes,
            outage_ms: l.outage.summary(),
            lost_sessions: measured.lost_sessions,
            directory: c.directory.as_ref().map(|d| d.url.clone()),
            rejoins: outcome.rejoins,
            rejoin_ms: outcome.rejoin_times.summary(),
            server_rss: Vec::new(),
            server_tick_p99_ms: server.map(|s| round3(s.p99_ms)),
            server_ticks: server.map(|s| s.ticks),
            slo: SloVerdict { passed: breaches.is_empty(), breaches },
        }
    }

    /// The incident with the most mispredictions (then late inputs).
    fn worst_incident(&self) -> Option<&Incident> {
        self.incidents.iter().max_by_key(|i| (i.mispredictions, i.inputs_late))
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        // invariant: the report holds only strings, numbers, maps and finite floats.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as a readable table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let mut row = |k: &str, v: String| {
            let _ = writeln!(t, "  {k:<30} {v}");
        };
        let tally = |m: &Tally| {
            if m.is_empty() {
                "none".to_owned()
            } else {
                m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
            }
        };
        let pct = |p: &Percentiles| {
            format!(
                "p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2} ms  ({} samples)",
                p.p50, p.p95, p.p99, p.max, p.samples
            )
        };
        row("target", self.url.clone());
        row(
            "load",
            format!(
                "{} bots, {} {}, rooms {}, {:.0}s (ramp-up {:.0}s), link {:.0}±{:.0} ms",
                self.clients,
                self.game,
                self.behaviour,
                self.rooms.join(","),
                self.duration_s,
                self.ramp_up_s,
                self.latency_ms,
                self.jitter_ms
            ),
        );
        row("bots connected / failed", format!("{} / {}", self.bots_connected, self.bots_failed));
        row("connect errors", tally(&self.connect_errors));
        row("rtt", pct(&self.rtt_ms));
        row("snapshot interval", pct(&self.snapshot_interval_ms));
        if let Some(st) = &self.steady {
            let window = format!("{:.1}s from {:.1}s", st.seconds, st.from_s);
            row("steady window", window);
            row("  rtt", pct(&st.rtt_ms));
            row("  snapshot interval", pct(&st.snapshot_interval_ms));
            let checks = format!("{} / {}", st.mispredictions, st.prediction_checks);
            row("  mispredictions / checks", checks);
            if let (Some(p), Some(n)) = (st.server_tick_p99_ms, st.server_ticks) {
                row("  server tick p99", format!("{p:.3} ms over {n} ticks"));
            }
        }
        row("snapshots per bot per s", format!("{:.2}", self.snapshots_per_bot_per_s));
        row("bytes per bot per s", format!("{:.0}", self.bytes_per_bot_per_s));
        row(
            "snapshots / bytes received",
            format!("{} / {}", self.snapshots_received, self.bytes_received),
        );
        row("inputs sent (late)", format!("{} ({})", self.inputs_sent, self.inputs_late));
        row(
            "mispredictions / checks",
            format!("{} / {}", self.mispredictions, self.prediction_checks),
        );
        row("bots' runtime lag", pct(&self.bots_runtime_lag_ms));
        if let Some(worst) = self.worst_incident() {
            row(
                "late or mispredicted seconds",
                format!(
                    "{}; the most mispredicted ended at {:.1}s: {} late, {} mispredicted, gap \
                     max {:.1} ms, bots' runtime late {:.1} ms",
                    self.incidents.len(),
                    worst.t_s,
                    worst.inputs_late,
                    worst.mispredictions,
                    worst.max_gap_ms,
                    worst.bots_lag_ms
                ),
            );
        }
        row("decode errors", self.decode_errors.to_string());
        row("early disconnects", tally(&self.disconnects));
        if let (Some(f), Some(every)) = (self.chaos_fraction, self.chaos_every_s) {
            row("chaos", format!("{:.0}% of connections every {every:.0}s", f * 100.0));
        }
        row(
            "drops / resumes / lost sessions",
            format!(
                "{} / {} / {} ({} reconnect attempts)",
                self.chaos_drops, self.resumes, self.lost_sessions, self.reconnect_attempts
            ),
        );
        if self.outage_ms.samples > 0 {
            row("outage (drop to welcome)", pct(&self.outage_ms));
        }
        if let Some(directory) = &self.directory {
            row(
                "directory rejoins / lost",
                format!("{} / {} (via {directory})", self.rejoins, self.lost_sessions),
            );
            if self.rejoin_ms.samples > 0 {
                row("rejoin (end to welcome)", pct(&self.rejoin_ms));
            }
        }
        if let (Some(first), Some(last)) = (self.server_rss.first(), self.server_rss.last()) {
            let max = self.server_rss.iter().map(|s| s.mib).fold(0.0, f64::max);
            row(
                "server rss",
                format!(
                    "{:.1} MiB at {:.0}s, {:.1} MiB at {:.0}s, max {max:.1} MiB ({} samples)",
                    first.mib,
                    first.t_s,
                    last.mib,
                    last.t_s,
                    self.server_rss.len()
                ),
            );
        }
        row(
            "server tick p99",
            match (self.server_tick_p99_ms, self.server_ticks) {
                (Some(p), Some(n)) => format!("{p:.3} ms over {n} ticks"),
                _ => "unavailable (/metrics not reachable)".to_owned(),
            },
        );
        row("errors", self.errors.to_string());
        row(
            "slo",
            if self.slo.passed {
                "passed".to_owned()
            } else {
                let b: Vec<_> = self.slo.breaches.iter().map(ToString::to_string).collect();
                format!("BREACHED: {}", b.join("; "))
            },
        );
        t
    }
}

fn round3(v: f64) -> f64 {
    (v * 1e3).round() / 1e3
}

/// What the bots measured in the steady window ([`Steady`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SteadyReport {
    /// When the window began, seconds from the start.
    pub from_s: f64,
    /// Its length, seconds.
    pub seconds: f64,
    /// RTT of the bots' own pings, milliseconds.
    pub rtt_ms: Percentiles,
    /// Interval between consecutive snapshots at a bot, milliseconds.
    pub snapshot_interval_ms: Percentiles,
    /// Snapshots decoded, all bots.
    pub snapshots_received: u64,
    /// Messages or snapshots that failed to decode.
    pub decode_errors: u64,
    /// Local-player predictions checked against a snapshot.
    pub prediction_checks: u64,
    /// Of which wrong.
    pub mispredictions: u64,
    /// The server's tick duration p99 over the window, milliseconds (`null` when `/metrics`
    /// was not reachable at its start and end): the ramp-up's joins left out.
    pub server_tick_p99_ms: Option<f64>,
    /// Server ticks in the window (`null` likewise).
    pub server_ticks: Option<u64>,
}

impl SteadyReport {
    fn new(s: &Steady) -> Self {
        Self {
            from_s: round3(s.from.as_secs_f64()),
            seconds: round3(s.length.as_secs_f64()),
            rtt_ms: s.latencies.rtt.summary(),
            snapshot_interval_ms: s.latencies.snapshot_gap.summary(),
            snapshots_received: s.counters.snapshots,
            decode_errors: s.counters.decode_errors,
            prediction_checks: s.counters.prediction_checks,
            mispredictions: s.counters.mispredictions,
            server_tick_p99_ms: None,
            server_ticks: None,
        }
    }
}
