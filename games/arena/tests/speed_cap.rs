//! No sequence of inputs moves a player faster than its speed cap, walls or not.

mod common;

use common::{Cmd, Harness};
use glam::Vec2;
use proptest::prelude::*;
use tickwire_arena::movement::{is_free, move_player};
use tickwire_arena::{ArenaConfig, ArenaInput, ArenaRules, GRID_PER_UNIT};

/// Starting points touching walls, in corners, and in the open (default rules).
fn starts(rules: &ArenaRules) -> Vec<Vec2> {
    let r = rules.player_radius;
    let mut v = vec![
        Vec2::new(r, r),
        Vec2::new(rules.world.x - r, rules.world.y - r),
        Vec2::new(500.0, 100.0),
    ];
    for w in &rules.walls {
        v.push(Vec2::new(w.min.x - r, (w.min.y + w.max.y) / 2.0));
        v.push(Vec2::new((w.min.x + w.max.x) / 2.0, w.max.y + r));
        v.push(Vec2::new(w.max.x + r, w.min.y - 5.0));
        v.push(Vec2::new(w.min.x - 9.0, w.max.y + 8.0));
    }
    v.retain(|p| is_free(*p, rules));
    v
}

fn on_grid(v: Vec2) -> bool {
    (v * GRID_PER_UNIT).fract() == Vec2::ZERO
}

/// Runs of one move vector (runs push players into walls and along them).
fn input_runs() -> impl Strategy<Value = Vec<(i8, i8, usize)>> {
    prop::collection::vec((any::<i8>(), any::<i8>(), 1usize..40), 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn movement_never_exceeds_the_cap(
        start in 0usize..64,
        runs in input_runs(),
        rate in prop_oneof![Just(20u16), Just(30), Just(60), Just(128)],
    ) {
        let rules = ArenaRules::default();
        let starts = starts(&rules);
        let mut pos = starts[start % starts.len()];
        let dt = 1.0 / f32::from(rate);
        let cap = f64::from(rules.player_speed * dt);
        for (move_x, move_y, n) in runs {
            for _ in 0..n {
                let (next, d) = move_player(pos, move_x, move_y, &rules, dt);
                let (dx, dy) = (f64::from(d.x), f64::from(d.y));
                prop_assert!(dx * dx + dy * dy <= cap * cap, "|{d}| > {cap} at {pos}");
                prop_assert_eq!(next - pos, d);
                prop_assert!(on_grid(next) && on_grid(d));
                prop_assert!(is_free(next, &rules), "{next} overlaps a wall or leaves the world");
                pos = next;
            }
        }
    }

    /// Through the arena's step, with inputs as they crossed the wire.
    #[test]
    fn arena_players_never_exceed_the_cap(runs in input_runs()) {
        let mut config = ArenaConfig::default();
        config.npcs.count = 0;
        let cap = f64::from(config.rules.player_speed * config.tick_seconds());
        let mut h = Harness::new(&config);
        let me = h.join("runner");
        let mut pos = h.player(me).pos;
        for (move_x, move_y, n) in runs {
            for _ in 0..n {
                let input = ArenaInput { move_x, move_y, ..ArenaInput::IDLE };
                h.step(&[Cmd { player: me, input, view: None }]);
                let next = h.player(me).pos;
                let (dx, dy) = (f64::from(next.x - pos.x), f64::from(next.y - pos.y));
                prop_assert!(dx * dx + dy * dy <= cap * cap);
                pos = next;
            }
        }
    }
}
