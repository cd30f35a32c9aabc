//! Live progress on the terminal (indicatif): bots connected, RTT p50/p99 over the last
//! second, snapshots and bytes per second, errors. Hidden when stdout is not a terminal.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::swarm::Live;

/// The progress line.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A progress bar over `clients` bots; drawn only if `enabled` and stdout is a terminal.
    pub fn new(clients: usize, enabled: bool) -> Self {
        let visible = enabled && std::io::stdout().is_terminal();
        let target =
            if visible { ProgressDrawTarget::stdout() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(Some(clients as u64), target);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:24} {pos}/{len} bots  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        if visible {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Self { bar }
    }

    /// Shows `live`.
    pub fn update(&self, live: &Live) {
        self.bar.set_position(live.connected as u64);
        self.bar.set_message(line(live));
    }

    /// Removes the line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The message part of the progress line.
pub fn line(live: &Live) -> String {
    format!(
        "rtt p50 {:.1} ms p99 {:.1} ms | {:.0} snapshots/s | {:.2} MB/s | errors {}",
        live.rtt_p50.as_secs_f64() * 1e3,
        live.rtt_p99.as_secs_f64() * 1e3,
        live.snapshots_per_s,
        live.bytes_per_s / 1e6,
        live.errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_numbers() {
        let live = Live {
            rtt_p50: Duration::from_micros(1500),
            rtt_p99: Duration::from_millis(12),
            snapshots_per_s: 15_000.0,
            bytes_per_s: 2_500_000.0,
            errors: 3,
            ..Live::default()
        };
        assert_eq!(
            line(&live),
            "rtt p50 1.5 ms p99 12.0 ms | 15000 snapshots/s | 2.50 MB/s | errors 3"
        );
        let p = Progress::new(10, false);
        p.update(&live);
        p.finish();
    }
}
