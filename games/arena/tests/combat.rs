//! Firing, cooldown, damage, kills, score and respawn.

mod common;

use common::{Harness, cmd};
use glam::Vec2;
use tickwire_arena::{ArenaConfig, ArenaEvent, ArenaRules, PLAYER, Player, schema};
use tickwire_protocol::EntityId;

fn open_arena() -> Harness {
    let mut config = ArenaConfig::default();
    config.npcs.count = 0;
    config.rules = ArenaRules { walls: vec![], ..ArenaRules::default() };
    Harness::new(&config)
}

#[test]
fn four_hits_kill_score_and_respawn_after_the_delay() {
    let mut h = open_arena();
    let shooter = h.join("shooter");
    let target = h.join("target");
    assert!(h.place(shooter, Vec2::new(100.0, 500.0)));
    assert!(h.place(target, Vec2::new(400.0, 500.0)));
    let config = h.arena().config().clone();
    let cooldown = config.ticks_for_ms(config.rules.fire_cooldown_ms);
    let respawn = config.ticks_for_ms(config.rules.respawn_ms);
    assert_eq!((cooldown, respawn), (8, 60));

    // Hold fire: a shot every `cooldown` ticks, whatever the input says.
    let mut shot_ticks = Vec::new();
    let mut kill_tick = None;
    while kill_tick.is_none() {
        let out = h.step(&[cmd(shooter, 0, 0.0, true)]);
        for e in &out.events {
            match e {
                ArenaEvent::Shot { shooter: s, from_x, from_y, to_x, hit, .. } => {
                    assert_eq!((*s, *hit), (shooter, Some(target)));
                    assert_eq!((*from_x, *from_y), (100.0, 500.0));
                    assert!((to_x - 388.0).abs() < 1e-3, "tracer ends on the target's edge");
                    shot_ticks.push(h.tick().0);
                }
                ArenaEvent::Hit { damage, rewind_ms, .. } => {
                    assert_eq!((*damage, *rewind_ms), (25, 0))
                }
                ArenaEvent::Kill { killer, victim } => {
                    assert_eq!((*killer, *victim), (shooter, target));
                    kill_tick = Some(h.tick());
                }
            }
        }
        assert!(h.tick().0 < 100, "no kill");
    }
    assert_eq!(shot_ticks, [1, 9, 17, 25]);
    let dead = h.player(target);
    assert_eq!((dead.alive, dead.health), (false, 0));
    assert_eq!(h.player(shooter).score, 1);
    let snap = h.snapshot();
    let replicated: Player =
        snap.get(target).and_then(|e| e.get(schema(), PLAYER)).expect("player");
    assert_eq!((replicated.alive, replicated.health), (false, 0));
    let replicated: Player =
        snap.get(shooter).and_then(|e| e.get(schema(), PLAYER)).expect("player");
    assert_eq!(replicated.score, 1);

    // Dead: cannot move or fire, and is not hit by the shooter's next shots.
    let kill_tick = kill_tick.expect("killed");
    for _ in 1..respawn {
        let out =
            h.step(&[cmd(target, 127, std::f32::consts::PI, true), cmd(shooter, 0, 0.0, true)]);
        assert!(out.rewinds.iter().all(|r| r.shooter.0 == 1 && !r.hit));
        let t = h.player(target);
        assert!(!t.alive, "still dead at {}", h.tick());
        assert_eq!(t.pos, Vec2::new(400.0, 500.0));
    }
    h.step(&[]);
    assert_eq!(h.tick().diff(kill_tick), respawn as i32);
    let back = h.player(target);
    assert_eq!((back.alive, back.health), (true, 100));
    assert!(h.arena().spawn_points().contains(&back.pos));
}

#[test]
fn trading_shots_in_one_tick_kills_both() {
    let mut h = open_arena();
    let a = h.join("a");
    let b = h.join("b");
    assert!(h.place(a, Vec2::new(100.0, 500.0)));
    assert!(h.place(b, Vec2::new(400.0, 500.0)));
    let mut kills = 0;
    for _ in 0..40 {
        let out = h.step(&[cmd(b, 0, std::f32::consts::PI, true), cmd(a, 0, 0.0, true)]);
        kills += out.events.iter().filter(|e| matches!(e, ArenaEvent::Kill { .. })).count();
    }
    assert_eq!(kills, 2, "the lower id does not win the trade");
    assert_eq!((h.player(a).score, h.player(a).alive), (1, false));
    assert_eq!((h.player(b).score, h.player(b).alive), (1, false));
}

#[test]
fn players_without_inputs_stand_still_and_hold_fire() {
    let mut h = open_arena();
    let p = h.join("p");
    let start = h.player(p).pos;
    h.step(&[cmd(p, 127, 0.0, false)]);
    let moved = h.player(p);
    assert!(moved.pos.x > start.x && moved.velocity.x > 0.0);
    let out = h.step(&[]);
    let idle = h.player(p);
    assert_eq!((idle.pos, idle.velocity), (moved.pos, Vec2::ZERO));
    assert!(out.events.is_empty() && out.rewinds.is_empty());
    // Inputs for unknown players are ignored.
    h.step(&[cmd(EntityId(999), 127, 0.0, true)]);
}
