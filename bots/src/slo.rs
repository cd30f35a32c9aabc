//! Service-level objectives: [`Thresholds`] from the command line, checked against a run's
//! numbers by [`evaluate`]. Any [`Breach`] makes the binary exit with [`BREACH_EXIT_CODE`].

use std::time::Duration;

use serde::Serialize;

/// Exit status of a run that breached an SLO.
pub const BREACH_EXIT_CODE: i32 = 3;

/// The objectives (unset ones are not checked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// Largest acceptable RTT p99.
    pub max_rtt_p99: Option<Duration>,
    /// Largest acceptable p99 interval between two snapshots at one bot.
    pub max_snapshot_gap: Option<Duration>,
    /// Most errors accepted (failed connections, decode errors, sessions that ended early).
    pub max_errors: Option<u64>,
    /// Most sessions lost to drops (`--max-lost-sessions`).
    pub max_lost_sessions: Option<u64>,
}

/// What a run measured, as far as the objectives are concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// RTT p99, if any sample was taken.
    pub rtt_p99: Option<Duration>,
    /// Snapshot-interval p99, if any sample was taken.
    pub snapshot_gap_p99: Option<Duration>,
    /// Errors.
    pub errors: u64,
    /// Sessions lost to drops.
    pub lost_sessions: u64,
}

/// One objective that was not met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    /// Which objective (`max_rtt_p99`, `max_snapshot_gap`, `max_errors`).
    pub slo: &'static str,
    /// The limit (milliseconds, or a count).
    pub limit: f64,
    /// What was measured (`None`: nothing was measured, which fails a latency objective).
    pub actual: Option<f64>,
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.actual {
            Some(a) => write!(f, "{}: {a} > {}", self.slo, self.limit),
            None => write!(f, "{}: no samples (limit {})", self.slo, self.limit),
        }
    }
}

/// The objectives `measured` breaches.
pub fn evaluate(t: &Thresholds, measured: &Measured) -> Vec<Breach> {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut out = Vec::new();
    let mut latency = |slo, limit: Option<Duration>, actual: Option<Duration>| {
        if let Some(limit) = limit
            && actual.is_none_or(|a| a > limit)
        {
            out.push(Breach { slo, limit: ms(limit), actual: actual.map(ms) });
        }
    };
    latency("max_rtt_p99", t.max_rtt_p99, measured.rtt_p99);
    latency("max_snapshot_gap", t.max_snapshot_gap, measured.snapshot_gap_p99);
    if let Some(limit) = t.max_errors
        && measured.errors > limit
    {
        out.push(Breach {
            slo: "max_errors",
            limit: limit as f64,
            actual: Some(measured.errors as f64),
        });
    }
    if let Some(limit) = t.max_lost_sessions
        && measured.lost_sessions > limit
    {
        out.push(Breach {
            slo: "max_lost_sessions",
            limit: limit as f64,
            actual: Some(measured.lost_sessions as f64),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn each_objective_is_checked_only_when_set() {
        let m = Measured {
            rtt_p99: Some(MS * 20),
            snapshot_gap_p99: Some(MS * 40),
            errors: 2,
            lost_sessions: 1,
        };
        assert!(evaluate(&Thresholds::default(), &m).is_empty());
        let t = Thresholds {
            max_rtt_p99: Some(MS * 25),
            max_snapshot_gap: Some(MS * 50),
            max_errors: Some(2),
            max_lost_sessions: Some(1),
        };
        assert!(evaluate(&t, &m).is_empty(), "at the limit is fine");
        let t = Thresholds {
            max_rtt_p99: Some(MS * 10),
            max_snapshot_gap: Some(MS * 35),
            max_errors: Some(0),
            max_lost_sessions: Some(0),
        };
        let b = evaluate(&t, &m);
        let names: Vec<_> = b.iter().map(|b| b.slo).collect();
        assert_eq!(names, ["max_rtt_p99", "max_snapshot_gap", "max_errors", "max_lost_sessions"]);
        assert_eq!(b[0].actual, Some(20.0));
        assert_eq!(b[2].to_string(), "max_errors: 2 > 0");
    }

    #[test]
    fn no_samples_fail_a_latency_objective() {
        let m = Measured { rtt_p99: None, snapshot_gap_p99: None, errors: 0, lost_sessions: 0 };
        let t = Thresholds { max_rtt_p99: Some(MS), ..Thresholds::default() };
        assert_eq!(evaluate(&t, &m)[0].actual, None);
    }
}
