//! Same seed and same inputs give the same world, tick for tick.

mod common;

use common::{Cmd, Harness, SEED, Step};
use rand::Rng;
use rand_pcg::Pcg32;
use tickwire_arena::{ArenaConfig, ArenaEvent, ArenaInput};
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{EntityId, Snapshot, Tick};

/// Random but reproducible inputs for every player, including lag-compensated shots.
fn inputs(tick: Tick, players: &[EntityId], rng: &mut Pcg32) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    for &player in players {
        if !rng.random_bool(0.9) {
            continue;
        }
        let input = ArenaInput {
            move_x: rng.random_range(-127..=127),
            move_y: rng.random_range(-127..=127),
            aim: rng.random_range(0.0..std::f32::consts::TAU),
            ..ArenaInput::IDLE
        }
        .firing(rng.random_bool(0.3));
        let back = rng.random_range(0..12);
        let view = rng
            .random_bool(0.8)
            .then(|| ViewTime { tick: tick.offset(-back), fraction: rng.random() });
        cmds.push(Cmd { player, input, view });
    }
    cmds
}

fn run(config: &ArenaConfig, seed: u64, ticks: usize) -> Vec<(Snapshot, Step)> {
    let mut h = Harness::with(config, seed, tickwire_sim::HostSettings::default());
    let mut rng = Pcg32::new(42, 7);
    let mut ids: Vec<EntityId> = (0..12).map(|i| h.join(&format!("p{i}"))).collect();
    let mut out = Vec::with_capacity(ticks);
    for t in 0..ticks {
        if t == ticks / 3 {
            h.leave(ids.remove(4));
            ids.push(h.join("late"));
        }
        let cmds = inputs(h.tick(), &ids, &mut rng);
        let step = h.step(&cmds);
        out.push((h.snapshot(), step));
    }
    out
}

#[test]
fn same_seed_same_inputs_same_world() {
    let config = ArenaConfig::default();
    let a = run(&config, SEED, 300);
    let b = run(&config, SEED, 300);
    for (t, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x.0, y.0, "snapshots diverge at tick {}", t + 1);
        assert_eq!(x.1, y.1, "events diverge at tick {}", t + 1);
    }
    // The run did exercise the game, not an idle world.
    let shots = a.iter().flat_map(|(_, o)| &o.rewinds).count();
    let kills = a
        .iter()
        .flat_map(|(_, o)| &o.events)
        .filter(|e| matches!(e, ArenaEvent::Kill { .. }))
        .count();
    assert!(shots > 100, "{shots} shots");
    assert!(kills > 0, "no kills in 300 ticks of random fire");
}

#[test]
fn same_seed_at_60_hz() {
    let config = ArenaConfig { tick_rate: 60, ..ArenaConfig::default() };
    assert_eq!(run(&config, SEED, 120), run(&config, SEED, 120));
}

#[test]
fn another_seed_another_world() {
    let config = ArenaConfig::default();
    let a = run(&config, SEED, 1);
    let b = run(&config, SEED ^ 1, 1);
    assert_ne!(a[0].0, b[0].0);
}
