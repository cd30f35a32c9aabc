//! Random player-movement vectors for clients that port [`move_player`] to another language (the
//! browser client's `web/arena.js`): the client's prediction is only invisible if it computes
//! exactly what the server does.
//!
//! ```text
//! cargo run -q -p tickwire-arena --example movement_vectors -- COUNT SEED > movement.json
//! ```
//!
//! The file holds the default rules and `COUNT` walks: a tick rate, a start position (usually a
//! spawn point, sometimes against a wall or inside one) and a sequence of random move vectors,
//! each with the position and displacement `move_player` gives. Positions and displacements are
//! written as Rust prints an `f32` (the shortest decimal that reads back as the same `f32`).

use glam::Vec2;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use tickwire_arena::ArenaRules;
use tickwire_arena::movement::move_player;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut rng = Pcg32::seed_from_u64(seed);
    let rules = ArenaRules::default();

    let walls: Vec<String> = rules
        .walls
        .iter()
        .map(|w| format!("[{},{},{},{}]", w.min.x, w.min.y, w.max.x, w.max.y))
        .collect();
    let mut out = format!(
        "{{\"seed\":{seed},\"rules\":{{\"world\":[{},{}],\"walls\":[{}],\"player_speed\":{},\"player_radius\":{}}},\"walks\":[",
        rules.world.x,
        rules.world.y,
        walls.join(","),
        rules.player_speed,
        rules.player_radius
    );
    for n in 0..count {
        let tick_rate: u16 = match rng.random_range(0..4) {
            0 => 60,
            1 => rng.random_range(1..=240),
            _ => 30,
        };
        let dt = 1.0 / f32::from(tick_rate);
        let from = start(&mut rng, &rules);
        let mut pos = from;
        let steps = rng.random_range(1..=60);
        let mut frames = Vec::with_capacity(steps);
        let (mut mx, mut my) = (0i8, 0i8);
        for _ in 0..steps {
            if rng.random_bool(0.3) {
                (mx, my) = move_vector(&mut rng);
            }
            let (next, moved) = move_player(pos, mx, my, &rules, dt);
            frames.push(format!("[{mx},{my},{},{},{},{}]", next.x, next.y, moved.x, moved.y));
            pos = next;
        }
        if n > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"tick_rate\":{tick_rate},\"start\":[{},{}],\"steps\":[{}]}}",
            from.x,
            from.y,
            frames.join(",")
        ));
    }
    out.push_str("]}");
    println!("{out}");
}

/// A start position: a free spot, a spot touching a wall or the world's edge, or anywhere
/// (inside a wall too, which a player can walk out of).
fn start(rng: &mut Pcg32, rules: &ArenaRules) -> Vec2 {
    let grid = |v: f32| (v * 32.0).round() / 32.0;
    match rng.random_range(0..3) {
        0 => {
            let w = rules.walls[rng.random_range(0..rules.walls.len())];
            let r = rules.player_radius;
            let x = rng.random_range(w.min.x - r - 10.0..=w.max.x + r + 10.0);
            let y = rng.random_range(w.min.y - r - 10.0..=w.max.y + r + 10.0);
            Vec2::new(grid(x), grid(y))
        }
        1 => {
            let r = rules.player_radius;
            Vec2::new(grid(rng.random_range(r..=r + 8.0)), grid(rng.random_range(0.0..=1000.0)))
        }
        _ => Vec2::new(grid(rng.random_range(0.0..=1000.0)), grid(rng.random_range(0.0..=1000.0))),
    }
}

/// A move vector: keyboard directions mostly, analog sticks and extremes sometimes.
fn move_vector(rng: &mut Pcg32) -> (i8, i8) {
    const KEYS: [i8; 3] = [-127, 0, 127];
    match rng.random_range(0..4) {
        0 | 1 => (KEYS[rng.random_range(0..3)], KEYS[rng.random_range(0..3)]),
        2 => (rng.random::<i8>(), rng.random::<i8>()),
        _ => (rng.random_range(-128..=-120), rng.random_range(120..=127)),
    }
}
