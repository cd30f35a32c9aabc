//! Aggregation of what the bots measured: latency histograms ([`Latencies`], hdrhistogram, in
//! microseconds) filled from every client's drained samples, and sums of their counters.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tickwire_client::{ClientStats, Samples};

/// Largest latency recorded (larger samples are clamped): a minute.
const MAX_US: u64 = 60_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        // invariant: constant, valid bounds (1 µs .. 60 s, 3 significant digits).
        let hist = Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds");
        Self { hist }
    }
}

impl LatencyHistogram {
    /// Records one sample in microseconds.
    pub fn record(&mut self, us: u32) {
        let _ = self.hist.record(u64::from(us).clamp(1, MAX_US));
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        let _ = self.hist.add(&other.hist);
    }

    /// Number of samples.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.hist.reset();
    }

    /// The value at quantile `q` (0..=1).
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.hist.value_at_quantile(q))
    }

    /// The largest sample.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.hist.max())
    }

    /// The usual percentiles, in milliseconds.
    pub fn summary(&self) -> Percentiles {
        let ms = |d: Duration| (d.as_secs_f64() * 1e3 * 1e3).round() / 1e3;
        Percentiles {
            samples: self.len(),
            p50: ms(self.quantile(0.50)),
            p95: ms(self.quantile(0.95)),
            p99: ms(self.quantile(0.99)),
            max: ms(self.max()),
        }
    }
}

/// Percentiles of a latency, in milliseconds (all 0 without samples).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Number of samples.
    pub samples: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

/// RTT and snapshot-interval histograms.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Round trips of the bots' own pings.
    pub rtt: LatencyHistogram,
    /// Intervals between consecutive snapshots at one bot.
    pub snapshot_gap: LatencyHistogram,
    /// From a dropped connection to the welcome of the next one.
    pub outage: LatencyHistogram,
}

impl Latencies {
    /// Records drained samples (and empties `samples`).
    pub fn record(&mut self, samples: &mut Samples) {
        self.add(samples);
        samples.clear();
    }

    /// Records drained samples, leaving them in `samples`.
    pub fn add(&mut self, samples: &Samples) {
        for &us in &samples.rtt_us {
            self.rtt.record(us);
        }
        for &us in &samples.snapshot_gap_us {
            self.snapshot_gap.record(us);
        }
        for &us in &samples.outage_us {
            self.outage.record(us);
        }
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        self.rtt.merge(&other.rtt);
        self.snapshot_gap.merge(&other.snapshot_gap);
        self.outage.merge(&other.outage);
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.rtt.clear();
        self.snapshot_gap.clear();
        self.outage.clear();
    }
}

/// Sums of the bots' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Snapshots decoded.
    pub snapshots: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Input frames sent.
    pub inputs_sent: u64,
    /// Inputs that reached the server after their tick (the server simulated without them).
    pub inputs_late: u64,
    /// Messages or snapshots that failed to decode.
    pub decode_errors: u64,
    /// Game events received.
    pub events: u64,
    /// Local-player predictions checked against a snapshot.
    pub prediction_checks: u64,
    /// Of which wrong.
    pub mispredictions: u64,
    /// New connections opened after a drop.
    pub reconnect_attempts: u64,
    /// Drops after which the same player came back.
    pub resumes: u64,
    /// Drops after which the server no longer held the player (a fresh join made a new one).
    pub sessions_lost: u64,
}

impl Counters {
    /// Adds one client's counters.
    pub fn add(&mut self, s: &ClientStats) {
        self.snapshots += s.snapshots;
        self.bytes_received += s.bytes_received;
        self.bytes_sent += s.bytes_sent;
        self.inputs_sent += s.inputs_sent;
        self.inputs_late += s.inputs_late;
        self.decode_errors += s.decode_errors;
        self.events += s.events;
        self.prediction_checks += s.prediction_checks;
        self.mispredictions += s.mispredictions;
        self.reconnect_attempts += s.reconnect_attempts;
        self.resumes += s.resumes;
        self.sessions_lost += s.sessions_lost;
    }

    /// Adds other sums.
    pub fn merge(&mut self, o: &Counters) {
        *self = self.zip_with(o, u64::saturating_add);
    }

    /// What grew since `earlier` (sums of the same bots, taken before).
    pub fn since(&self, earlier: &Counters) -> Counters {
        self.zip_with(earlier, u64::saturating_sub)
    }

    /// `f` of each counter and its counterpart in `o`.
    fn zip_with(&self, o: &Counters, f: impl Fn(u64, u64) -> u64) -> Counters {
        Counters {
            snapshots: f(self.snapshots, o.snapshots),
            bytes_received: f(self.bytes_received, o.bytes_received),
            bytes_sent: f(self.bytes_sent, o.bytes_sent),
            inputs_sent: f(self.inputs_sent, o.inputs_sent),
            inputs_late: f(self.inputs_late, o.inputs_late),
            decode_errors: f(self.decode_errors, o.decode_errors),
            events: f(self.events, o.events),
            prediction_checks: f(self.prediction_checks, o.prediction_checks),
            mispredictions: f(self.mispredictions, o.mispredictions),
            reconnect_attempts: f(self.reconnect_attempts, o.reconnect_attempts),
            resumes: f(self.resumes, o.resumes),
            sessions_lost: f(self.sessions_lost, o.sessions_lost),
        }
    }
}

/// Most [`Incident`]s a run keeps (ten minutes of trouble every second); later ones are
/// counted in the totals only.
pub const MAX_INCIDENTS: usize = 600;

/// A second of the run in which inputs came late or predictions failed. When they happen, and
/// with what snapshot gaps, tells a stall of the bots' process, of the server or of the link
/// apart (the totals cannot): a stall freezes every bot at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Incident {
    /// The end of the second, in seconds since the run started.
    pub t_s: f64,
    /// Inputs the server simulated a tick without, in that second.
    pub inputs_late: u64,
    /// Predictions found wrong in that second.
    pub mispredictions: u64,
    /// The longest interval between two snapshots any bot saw in that second, milliseconds.
    pub max_gap_ms: f64,
    /// The longest the bots' own runtime was late to wake a task in that second, milliseconds
    /// (a probe sleeping [`LAG_PROBE_EVERY`] at a time): when it is near `max_gap_ms`, the
    /// bots' process stalled, not the server or the link.
    pub bots_lag_ms: f64,
}

/// How long the runtime-lag probe sleeps between looks at the clock ([`Incident::bots_lag_ms`]).
pub const LAG_PROBE_EVERY: Duration = Duration::from_millis(10);

/// Builds the run's [`Incident`]s from the sums collected every few hundred milliseconds.
#[derive(Debug, Default)]
pub struct Incidents {
    /// The counters when the current second began.
    second: Counters,
    /// The longest snapshot gap seen in the current second, microseconds.
    gap_us: u32,
    kept: Vec<Incident>,
}

impl Incidents {
    /// One collection's longest snapshot gap, microseconds.
    pub fn gap(&mut self, gap_us: u32) {
        self.gap_us = self.gap_us.max(gap_us);
    }

    /// Ends the current second at `t` since the start, with the counters' sums then and the
    /// runtime's longest lag during it: an incident if inputs came late or predictions failed.
    pub fn end_second(&mut self, t: Duration, counters: &Counters, lag_us: u32) {
        let grew = counters.since(&self.second);
        if (grew.inputs_late > 0 || grew.mispredictions > 0) && self.kept.len() < MAX_INCIDENTS {
            self.kept.push(Incident {
                t_s: (t.as_secs_f64() * 10.0).round() / 10.0,
                inputs_late: grew.inputs_late,
                mispredictions: grew.mispredictions,
                max_gap_ms: f64::from(self.gap_us) / 1e3,
                bots_lag_ms: f64::from(lag_us) / 1e3,
            });
        }
        self.second = *counters;
        self.gap_us = 0;
    }

    /// The incidents, in order.
    pub fn into_vec(self) -> Vec<Incident> {
        self.kept
    }
}

/// Counts by label.
pub type Tally = BTreeMap<String, u64>;

/// Adds one to `label` in `tally`.
pub fn count(tally: &mut Tally, label: &str) {
    *tally.entry(label.to_owned()).or_default() += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_with_late_inputs_or_mispredictions_is_an_incident_with_its_longest_gap() {
        let s = Duration::from_secs(1);
        let mut log = Incidents::default();
        let sums = |late, wrong| Counters {
            inputs_late: late,
            mispredictions: wrong,
            ..Counters::default()
        };
        log.gap(40_000);
        log.end_second(s, &sums(0, 0), 500); // a quiet second: nothing kept
        log.gap(90_000);
        log.gap(120_500);
        log.end_second(s * 2, &sums(5, 2), 101_000);
        log.gap(30_000);
        log.end_second(s * 3, &sums(5, 2), 0); // nothing grew
        log.end_second(s * 4, &sums(5, 3), 700); // one misprediction, no late input
        let kept = log.into_vec();
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert_eq!(
            kept[0],
            Incident {
                t_s: 2.0,
                inputs_late: 5,
                mispredictions: 2,
                max_gap_ms: 120.5,
                bots_lag_ms: 101.0
            }
        );
        assert_eq!(
            kept[1],
            Incident {
                t_s: 4.0,
                inputs_late: 0,
                mispredictions: 1,
                max_gap_ms: 0.0,
                bots_lag_ms: 0.7
            }
        );
    }

    #[test]
    fn incidents_stop_being_kept_at_the_bound() {
        let mut log = Incidents::default();
        for n in 1..=MAX_INCIDENTS as u64 + 10 {
            let sums = Counters { inputs_late: n, ..Counters::default() };
            log.end_second(Duration::from_secs(n), &sums, 0);
        }
        assert_eq!(log.into_vec().len(), MAX_INCIDENTS);
    }

    #[test]
    fn percentiles_in_milliseconds() {
        let mut h = LatencyHistogram::default();
        for us in 1..=1000u32 {
            h.record(us * 100); // 0.1 ms .. 100 ms
        }
        let p = h.summary();
        assert_eq!(p.samples, 1000);
        assert!((p.p50 - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p99 - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max - 100.0).abs() < 0.1, "{p:?}");
        assert_eq!(LatencyHistogram::default().summary().p99, 0.0);
    }

    #[test]
    fn samples_are_recorded_and_drained() {
        let mut l = Latencies::default();
        let mut s = Samples {
            rtt_us: vec![1000, 2000],
            snapshot_gap_us: vec![33_000],
            outage_us: vec![400_000],
        };
        l.record(&mut s);
        assert!(s.is_empty());
        assert_eq!((l.rtt.len(), l.snapshot_gap.len(), l.outage.len()), (2, 1, 1));
        let mut t = Tally::new();
        count(&mut t, "too_slow");
        count(&mut t, "too_slow");
        assert_eq!(t["too_slow"], 2);
    }
}

/// What the bots measured in the steady window: from [`STEADY_SETTLE`] after the ramp-up to the
/// last collection before the stop (joins and goodbyes left out, as the load script leaves them
/// out of the server's CPU).
///
/// [`STEADY_SETTLE`]: crate::swarm::STEADY_SETTLE
#[derive(Debug, Clone, Default)]
pub struct Steady {
    /// When it began, from the start of the run.
    pub from: Duration,
    /// How long it lasted.
    pub length: Duration,
    /// RTT and snapshot-interval histograms of the window.
    pub latencies: Latencies,
    /// The counters' growth over the window.
    pub counters: Counters,
}
