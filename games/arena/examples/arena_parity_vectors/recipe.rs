//! The arena's parity recipe, shared by `examples/arena_parity_vectors` (random vectors for a seed)
//! and `tests/parity.rs` (the committed `parity.json`): what `ArenaProtocol::step` is checked
//! on. States from play (players walking and shooting each other, so some are dead) and edge
//! cases: walks from spots touching a wall, the world's edge or inside a wall, at tick rates
//! from 1 to 240 (a tick's length changes the speed cap).

use glam::Vec2;
use rand::Rng;
use tickwire_arena::{Arena, ArenaConfig, ArenaProtocol, ArenaRules, ArenaState};
use tickwire_sim::Predict as _;
use tickwire_sim::parity::{ParityError, ParityRecorder, ParityVectors};

/// Records the arena's vectors: `walks` edge walks and a play-test, from `seed`.
pub(crate) fn record(walks: usize, seed: u64) -> Result<ParityVectors, ParityError> {
    let mut config = ArenaConfig::default();
    config.npcs.count = 50;
    let mut rec = ParityRecorder::<ArenaProtocol>::new(
        config.rules.clone(),
        ArenaProtocol::state_json, // the shape the web page's port reads
        seed,
    )?;
    rec.play::<Arena>(&config, 4, 40)?;
    for _ in 0..walks {
        let tick_rate: u16 = match rec.rng().random_range(0..4) {
            0 => 60,
            1 => rec.rng().random_range(1..=240),
            _ => 30,
        };
        let rules = rec.rules().clone();
        let pos = start(rec.rng(), &rules);
        let alive = rec.rng().random_bool(0.95);
        let steps = rec.rng().random_range(1..=20);
        rec.walk(tick_rate, &ArenaState { pos, alive }, steps);
    }
    Ok(rec.finish())
}

/// A start position: a spot touching a wall or the world's edge, or anywhere (inside a wall
/// too, which a player can walk out of).
fn start(rng: &mut impl Rng, rules: &ArenaRules) -> Vec2 {
    let grid = |v: f32| (v * 32.0).round() / 32.0;
    let r = rules.player_radius;
    match rng.random_range(0..3) {
        0 => {
            let w = rules.walls[rng.random_range(0..rules.walls.len())];
            let x = rng.random_range(w.min.x - r - 10.0..=w.max.x + r + 10.0);
            let y = rng.random_range(w.min.y - r - 10.0..=w.max.y + r + 10.0);
            Vec2::new(grid(x), grid(y))
        }
        1 => Vec2::new(grid(rng.random_range(r..=r + 8.0)), grid(rng.random_range(0.0..=1000.0))),
        _ => Vec2::new(grid(rng.random_range(0.0..=1000.0)), grid(rng.random_range(0.0..=1000.0))),
    }
}
