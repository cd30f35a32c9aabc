//! NPC load: constant moving fraction, exact straight-line motion on the grid, and deltas that
//! cost (almost) nothing for NPCs moving in a straight line.

mod common;

use common::Harness;
use glam::Vec2;
use tickwire_arena::{ArenaConfig, BODY, Body, GRID_PER_UNIT, NPC, schema};
use tickwire_protocol::{Snapshot, SnapshotEncoder};

/// NPC bodies of a snapshot, decoded from the quantized values (what clients see).
fn npc_bodies(snap: &Snapshot) -> Vec<Body> {
    snap.iter()
        .filter(|e| e.has(NPC))
        .map(|e| e.get::<Body>(schema(), BODY).expect("NPCs have a body"))
        .collect()
}

fn moving(snap: &Snapshot) -> usize {
    npc_bodies(snap).iter().filter(|b| b.velocity() != Vec2::ZERO).count()
}

fn on_grid(v: f32) -> bool {
    (v * GRID_PER_UNIT).fract() == 0.0
}

#[test]
fn moving_fraction_stays_constant() {
    for tick_rate in [30, 60] {
        let mut arena = Harness::new(&ArenaConfig { tick_rate, ..ArenaConfig::default() });
        let mut snap = arena.snapshot();
        assert_eq!(moving(&snap), 250);
        // 10 s: every NPC that started moving has stopped several times over.
        for _ in 0..10 * u32::from(tick_rate) {
            arena.step(&[]);
            snap = arena.sim.snapshot(snap).expect("unique ids");
            assert_eq!(moving(&snap), 250, "at tick {}", arena.tick());
        }
    }
}

#[test]
fn npcs_stop_and_start_over_time() {
    let mut arena = Harness::new(&ArenaConfig::default());
    let first = npc_bodies(&arena.snapshot());
    for _ in 0..150 {
        arena.step(&[]);
    }
    let later = npc_bodies(&arena.snapshot());
    let was_still_now_moving = first
        .iter()
        .zip(&later)
        .filter(|(a, b)| a.velocity() == Vec2::ZERO && b.velocity() != Vec2::ZERO)
        .count();
    assert!(was_still_now_moving > 50, "only {was_still_now_moving} NPCs started in 5 s");
}

#[test]
fn straight_line_motion_is_exact_on_the_grid() {
    let config = ArenaConfig::default();
    let per_tick = config.npcs.speed * config.tick_seconds();
    let mut arena = Harness::new(&config);
    let mut prev = npc_bodies(&arena.snapshot());
    let mut exact = 0;
    for _ in 0..120 {
        arena.step(&[]);
        let cur = npc_bodies(&arena.snapshot());
        for (a, b) in prev.iter().zip(&cur) {
            assert!(on_grid(b.x) && on_grid(b.y) && on_grid(b.vx) && on_grid(b.vy), "{b:?}");
            if b.velocity() != Vec2::ZERO {
                let len = b.velocity().length();
                assert!((len - per_tick).abs() < 0.05, "speed {len} per tick");
            }
            if a.velocity() != Vec2::ZERO && b.velocity() == a.velocity() {
                // Exactly the codec's prediction, bit for bit.
                assert_eq!((b.x, b.y), (a.x + a.vx, a.y + a.vy));
                exact += 1;
            }
        }
        prev = cur;
    }
    assert!(exact > 120 * 240, "{exact} straight-line steps");
}

#[test]
fn straight_moving_npcs_cost_nothing_in_a_delta() {
    // A slow crowd in a big world: in the first ticks nobody stops (runs last ≥ 1 s), and
    // nobody is close enough to a bound to bounce.
    let mut config = ArenaConfig::default();
    config.rules.world = Vec2::new(2000.0, 2000.0);
    config.npcs.speed = 10.0;
    let mut arena = Harness::new(&config);
    let mut enc = SnapshotEncoder::new();
    for _ in 0..5 {
        arena.step(&[]);
    }
    let base = arena.snapshot();
    arena.step(&[]);
    let one = arena.snapshot();
    arena.step(&[]);
    let two = arena.snapshot();
    assert_eq!(moving(&base), 250);
    let velocities = |s: &Snapshot| npc_bodies(s).iter().map(Body::velocity).collect::<Vec<_>>();
    assert_eq!(velocities(&base), velocities(&two), "precondition: no stop, start or bounce");
    assert_ne!(npc_bodies(&base), npc_bodies(&one), "precondition: the NPCs did move");

    let full = enc.encode(schema(), None, &one);
    let delta = enc.encode(schema(), Some(&base), &one);
    let delta2 = enc.encode(schema(), Some(&base), &two);
    assert!(full.len() > 5000, "full snapshot of 1000 NPCs: {} bytes", full.len());
    assert!(delta.len() <= 4, "1-tick delta: {} bytes", delta.len());
    assert!(delta2.len() <= 4, "2-tick delta: {} bytes", delta2.len());
}

#[test]
fn default_world_deltas_pay_only_for_changes() {
    let mut arena = Harness::new(&ArenaConfig::default());
    let mut enc = SnapshotEncoder::new();
    for _ in 0..60 {
        arena.step(&[]);
    }
    let base = arena.snapshot();
    arena.step(&[]);
    let cur = arena.snapshot();
    let changed = npc_bodies(&base)
        .iter()
        .zip(npc_bodies(&cur))
        .filter(|(a, b)| a.velocity() != b.velocity())
        .count();
    let bytes = enc.encode(schema(), Some(&base), &cur).len();
    // Only the NPCs that stopped, started or bounced cost anything.
    assert!(bytes <= 8 + changed * 10, "{bytes} bytes for {changed} changed NPCs");
}
