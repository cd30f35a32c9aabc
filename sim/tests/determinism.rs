//! Same seed and same inputs give the same world, tick for tick.

use rand::Rng;
use rand_pcg::Pcg32;
use tickwire_protocol::message::{InputFrame, ViewTime, buttons};
use tickwire_protocol::{EntityId, Snapshot};
use tickwire_sim::{Arena, ArenaConfig, PlayerCommand, StepOutput};

/// Random but reproducible commands for every player, including lag-compensated shots.
fn commands(arena: &Arena, rng: &mut Pcg32) -> Vec<PlayerCommand> {
    let tick = arena.tick();
    let mut cmds = Vec::new();
    for entity in arena.player_ids() {
        if !rng.random_bool(0.9) {
            continue;
        }
        let input = InputFrame {
            tick: tick.next(),
            move_x: rng.random(),
            move_y: rng.random(),
            aim: rng.random(),
            buttons: if rng.random_bool(0.3) { buttons::FIRE } else { 0 },
            ..InputFrame::default()
        };
        let back = rng.random_range(0..12);
        let view = rng
            .random_bool(0.8)
            .then(|| ViewTime { tick: tick.offset(-back), fraction: rng.random() });
        cmds.push(PlayerCommand { entity, input, view });
    }
    cmds
}

fn run(config: &ArenaConfig, ticks: usize) -> Vec<(Snapshot, StepOutput)> {
    let mut arena = Arena::new(config.clone()).expect("valid config");
    let mut rng = Pcg32::new(42, 7);
    let mut ids: Vec<EntityId> = (0..12).map(|i| arena.add_player(&format!("p{i}"))).collect();
    let mut out = Vec::with_capacity(ticks);
    for t in 0..ticks {
        if t == ticks / 3 {
            assert!(arena.remove_player(ids.remove(4)));
            ids.push(arena.add_player("late"));
        }
        let cmds = commands(&arena, &mut rng);
        let step = arena.step(&cmds);
        out.push((arena.snapshot(Snapshot::default()), step));
    }
    out
}

#[test]
fn same_seed_same_inputs_same_world() {
    let config = ArenaConfig::default();
    let a = run(&config, 300);
    let b = run(&config, 300);
    for (t, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x.0, y.0, "snapshots diverge at tick {}", t + 1);
        assert_eq!(x.1, y.1, "events diverge at tick {}", t + 1);
    }
    // The run did exercise the game, not an idle world.
    let shots = a.iter().flat_map(|(_, o)| &o.rewinds).count();
    let kills = a
        .iter()
        .flat_map(|(_, o)| &o.events)
        .filter(|e| matches!(e, tickwire_protocol::message::GameEvent::Kill { .. }))
        .count();
    assert!(shots > 100, "{shots} shots");
    assert!(kills > 0, "no kills in 300 ticks of random fire");
}

#[test]
fn same_seed_at_60_hz() {
    let config = ArenaConfig { tick_rate: 60, ..ArenaConfig::default() };
    assert_eq!(run(&config, 120), run(&config, 120));
}

#[test]
fn another_seed_another_world() {
    let mut config = ArenaConfig::default();
    let a = run(&config, 1);
    config.npcs.seed ^= 1;
    let b = run(&config, 1);
    assert_ne!(a[0].0, b[0].0);
}
