//! [`Scenario`]: an NPC load for the arena, and [`record`], which runs it and keeps consecutive
//! snapshots.
//!
//! The states come from the real simulation, not from synthetic data: NPCs move in straight
//! lines at 100 units/s in a 1000×1000 world at 30 Hz, stop after 1–3 s while others start, and
//! bounce off the bounds, so deltas see exactly the mix of predicted motion, stops, starts and
//! bounces a server sends.
//!
//! **The big world** ([`Scenario::big_world`]) is the interest-management load: 8,000×8,000
//! units, 20,000 NPCs (25% moving), the default walls scaled by 8, with or without the interest
//! grid [`BIG_WORLD_GRID`]. `scripts/loadtest.sh` (`SCENARIO=bigworld`) serves the same config
//! ([`BIG_WORLD_JSON`]; a test checks that the two agree).

use glam::Vec2;
use tickwire_arena::{Arena, ArenaConfig, ConfigError, Wall};
use tickwire_protocol::Snapshot;
use tickwire_sim::interest::InterestGrid;
use tickwire_sim::{HostSettings, Simulation};

/// The seed every scenario runs with (the arena's states are seeded: same seed, same states).
pub const SEED: u64 = 0x7ac4_1e5e_ed00_0001;

/// Side of the arena's default world, units.
pub const DEFAULT_WORLD: f32 = 1000.0;

/// Side of the big world, units.
pub const BIG_WORLD: f32 = 8000.0;

/// The big world's interest grid: cells of 250 units, a client sees the 3×3 block around its
/// own (at least 250 units on every side of it, 750×750 in all: 0.88% of the world), and a
/// point changes cell 16 units past the border. Why these numbers:
/// - 32×32 cells, so at most 1,024 distinct views: a room encodes at most that many snapshots
///   per baseline, however many clients it holds;
/// - a view holds about 9 × 20,000 / 1,024 ≈ 176 NPCs, a hundredth of the world;
/// - a player (200 units/s) crosses a cell in 1.25 s, so a client changes view at most about
///   once a second; 16 units is 2.4 ticks of its motion, enough that one walking along a border
///   does not flap between two views, and small next to the cell.
pub const BIG_WORLD_GRID: InterestGrid = InterestGrid { cell: 250.0, radius: 1, hysteresis: 16.0 };

/// The big world with interest as the server's `--game-config 'arena=…'` JSON (what
/// `scripts/loadtest.sh` serves with `SCENARIO=bigworld INTEREST=on`; without `"interest"` for
/// `INTEREST=off`).
pub const BIG_WORLD_JSON: &str = concat!(
    r#"{"rules":{"world":[8000,8000],"walls":["#,
    r#"{"min":[1600,1600],"max":[2080,3200]},{"min":[5920,4800],"max":[6400,6400]},"#,
    r#"{"min":[3360,3760],"max":[4640,4240]},{"min":[4800,1200],"max":[6400,1520]},"#,
    r#"{"min":[1600,6480],"max":[3200,6800]}]},"#,
    r#""npcs":{"count":20000,"moving_fraction":0.25},"#,
    r#""interest":{"cell":250,"radius":1,"hysteresis":16}}"#
);

/// An arena with `npcs` NPCs of which `moving_fraction` move at any time, and no players; every
/// other setting is the arena default (1000×1000 world, 30 Hz, 100 units/s) unless it is a big
/// world ([`Scenario::big_world`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// Number of NPCs.
    pub npcs: u32,
    /// Fraction of them moving, `0..=1`.
    pub moving_fraction: f32,
    /// Side of the square world, units; the default walls are scaled by `world / 1000`.
    pub world: f32,
    /// The interest grid, if any.
    pub interest: Option<InterestGrid>,
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
    /// A scenario in the default world, without interest.
    pub const fn new(npcs: u32, moving_fraction: f32) -> Self {
        Self { npcs, moving_fraction, world: DEFAULT_WORLD, interest: None }
    }

    /// The big world (see the module docs), with [`BIG_WORLD_GRID`] if `interest`.
    pub const fn big_world(interest: bool) -> Self {
        Self {
            npcs: 20_000,
            moving_fraction: 0.25,
            world: BIG_WORLD,
            interest: if interest { Some(BIG_WORLD_GRID) } else { None },
        }
    }

    /// `arena-1k`, `arena-10k`, or `arena-<n>` for other sizes; `bigworld-20k` (and so on) in a
    /// world larger than the default.
    pub fn world_label(&self) -> String {
        let world = if self.world == DEFAULT_WORLD { "arena" } else { "bigworld" };
        if self.npcs >= 1_000 && self.npcs.is_multiple_of(1_000) {
            format!("{world}-{}k", self.npcs / 1_000)
        } else {
            format!("{world}-{}", self.npcs)
        }
    }

    /// The moving percentage, e.g. `25%`.
    pub fn moving_label(&self) -> String {
        format!("{}%", (self.moving_fraction * 100.0).round())
    }

    /// `arena-1k/25%moving`, `bigworld-20k/25%moving/interest`: the label used in benchmark
    /// ids and tables.
    pub fn label(&self) -> String {
        let interest = if self.interest.is_some() { "/interest" } else { "" };
        format!("{}/{}moving{interest}", self.world_label(), self.moving_label())
    }

    /// The arena configuration: the default with this NPC load, world and interest.
    pub fn config(&self) -> ArenaConfig {
        let mut config = ArenaConfig::default();
        config.npcs.count = self.npcs;
        config.npcs.moving_fraction = self.moving_fraction;
        config.interest = self.interest;
        if self.world != DEFAULT_WORLD {
            let scale = self.world / DEFAULT_WORLD;
            let rules = &mut config.rules;
            rules.world = Vec2::splat(self.world);
            for w in &mut rules.walls {
                *w = Wall::new(w.min * scale, w.max * scale);
            }
        }
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

    #[test]
    fn the_big_world_is_valid_and_the_load_script_serves_it() {
        let big = Scenario::big_world(true);
        assert_eq!(big.label(), "bigworld-20k/25%moving/interest");
        assert_eq!(Scenario::big_world(false).label(), "bigworld-20k/25%moving");
        assert_eq!(big.config().validate(), Ok(()));
        let served: ArenaConfig = serde_json::from_str(BIG_WORLD_JSON).expect("arena JSON");
        assert_eq!(served, big.config());
        let script = include_str!("../../scripts/loadtest.sh");
        assert!(script.contains(BIG_WORLD_JSON), "scripts/loadtest.sh serves BIG_WORLD_JSON");
    }
}
