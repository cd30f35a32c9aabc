//! [`Scenario`]: an NPC load for the arena, and [`record`], which runs it and keeps consecutive
//! snapshots.
//!
//! The states come from the real simulation, not from synthetic data: NPCs move in straight
//! lines at 100 units/s in a 1000×1000 world at 30 Hz, stop after 1–3 s while others start, and
//! bounce off the bounds, so deltas see exactly the mix of predicted motion, stops, starts and
//! bounces a server sends.

use tickwire_arena::{Arena, ArenaConfig, ConfigError};
use tickwire_protocol::Snapshot;
use tickwire_sim::{HostSettings, Simulation};

/// The seed every scenario runs with (the arena's states are seeded: same seed, same states).
pub const SEED: u64 = 0x7ac4_1e5e_ed00_0001;

/// An arena with `npcs` NPCs of which `moving_fraction` move at any time, and no players; every
/// other setting is the arena default (1000×1000 world, 30 Hz, 100 units/s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// Number of NPCs.
    pub npcs: u32,
    /// Fraction of them moving, `0..=1`.
    pub moving_fraction: f32,
}

/// The codec scenarios: 1,000 and 10,000 NPCs, each at 0%, 25% and 100% moving.
pub const CODEC_SCENARIOS: [Scenario; 6] = [
    Scenario::new(1_000, 0.0),
    Scenario::new(1_000, 0.25),
    Scenario::new(1_000, 1.0),
    Scenario::new(10_000, 0.0),
    Scenario::new(10_000, 0.25),
    Scenario::new(10_000, 1.0),
];

impl Scenario {
    /// A scenario.
    pub const fn new(npcs: u32, moving_fraction: f32) -> Self {
        Self { npcs, moving_fraction }
    }

    /// `arena-1k`, `arena-10k`, or `arena-<n>` for other sizes.
    pub fn world_label(&self) -> String {
        if self.npcs >= 1_000 && self.npcs.is_multiple_of(1_000) {
            format!("arena-{}k", self.npcs / 1_000)
        } else {
            format!("arena-{}", self.npcs)
        }
    }

    /// The moving percentage, e.g. `25%`.
    pub fn moving_label(&self) -> String {
        format!("{}%", (self.moving_fraction * 100.0).round())
    }

    /// `arena-1k/25%moving`: the label used in benchmark ids and tables.
    pub fn label(&self) -> String {
        format!("{}/{}moving", self.world_label(), self.moving_label())
    }

    /// The arena configuration: the default with this NPC load.
    pub fn config(&self) -> ArenaConfig {
        let mut config = ArenaConfig::default();
        config.npcs.count = self.npcs;
        config.npcs.moving_fraction = self.moving_fraction;
        config
    }

    /// A fresh arena at tick 0, as the server builds a room (the default rewind window).
    pub fn arena(&self) -> Result<Simulation<Arena>, ConfigError> {
        Simulation::new(&self.config(), SEED, HostSettings::default())
    }
}

/// Ticks to run before measuring, so that the NPCs' stop/start process is past its start-up (the
/// initial runs last 1–3 s = up to 90 ticks). Debug builds (benches under `cargo test`) only
/// check that the code runs, and use a few ticks.
pub fn warmup_ticks() -> u32 {
    if cfg!(debug_assertions) { 3 } else { 90 }
}

/// Steps `arena` (without player inputs) `warmup` times, then `count` more times, returning the
/// snapshot after each of those `count` steps: consecutive ticks, oldest first.
pub fn record(arena: &mut Simulation<Arena>, warmup: u32, count: usize) -> Vec<Snapshot> {
    for _ in 0..warmup {
        arena.step(&[]);
    }
    (0..count)
        .map(|_| {
            arena.step(&[]);
            // invariant: the arena writes each id once.
            arena.snapshot(Snapshot::default()).expect("unique ids")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_consecutive_ticks() {
        let s = Scenario::new(1_000, 0.25);
        assert_eq!(s.label(), "arena-1k/25%moving");
        assert_eq!(Scenario::new(250, 1.0).label(), "arena-250/100%moving");
        let mut arena = Scenario::new(50, 0.5).arena().expect("valid config");
        let snaps = record(&mut arena, 2, 3);
        let ticks: Vec<u32> = snaps.iter().map(|s| s.tick().0).collect();
        assert_eq!(ticks, [3, 4, 5]);
        assert!(snaps.iter().all(|s| s.len() == 50));
    }
}
