//! Firing, cooldown, damage, kills, score and respawn.

use glam::Vec2;
use tickwire_protocol::message::{GameEvent, InputFrame, buttons};
use tickwire_protocol::{EntityId, Snapshot};
use tickwire_sim::arena::{PLAYER, Player};
use tickwire_sim::{Arena, ArenaConfig, ArenaRules, PlayerCommand, schema};

fn open_arena() -> Arena {
    let mut config = ArenaConfig::default();
    config.npcs.count = 0;
    config.rules = ArenaRules { walls: vec![], ..ArenaRules::default() };
    Arena::new(config).expect("valid config")
}

fn cmd(arena: &Arena, entity: EntityId, move_x: i8, aim: f32, fire: bool) -> PlayerCommand {
    let input = InputFrame {
        tick: arena.tick().next(),
        move_x,
        aim: InputFrame::aim_from_radians(aim),
        buttons: if fire { buttons::FIRE } else { 0 },
        ..InputFrame::default()
    };
    PlayerCommand { entity, input, view: None }
}

#[test]
fn four_hits_kill_score_and_respawn_after_the_delay() {
    let mut arena = open_arena();
    let shooter = arena.add_player("shooter");
    let target = arena.add_player("target");
    assert!(arena.place_player(shooter, Vec2::new(100.0, 500.0)));
    assert!(arena.place_player(target, Vec2::new(400.0, 500.0)));
    let cooldown = arena.config().ticks_for_ms(arena.rules().fire_cooldown_ms);
    let respawn = arena.config().ticks_for_ms(arena.rules().respawn_ms);
    assert_eq!((cooldown, respawn), (8, 60));

    // Hold fire: a shot every `cooldown` ticks, whatever the input says.
    let mut shot_ticks = Vec::new();
    let mut kill_tick = None;
    while kill_tick.is_none() {
        let out = arena.step(&[cmd(&arena, shooter, 0, 0.0, true)]);
        for e in &out.events {
            match e {
                GameEvent::Shot { shooter: s, from, to, hit } => {
                    assert_eq!((*s, *hit), (shooter, Some(target)));
                    assert_eq!(*from, [100.0, 500.0]);
                    assert!((to[0] - 388.0).abs() < 1e-3, "tracer ends on the target's edge");
                    shot_ticks.push(arena.tick().0);
                }
                GameEvent::Hit { damage, rewind_ms, .. } => {
                    assert_eq!((*damage, *rewind_ms), (25, 0))
                }
                GameEvent::Kill { killer, victim } => {
                    assert_eq!((*killer, *victim), (shooter, target));
                    kill_tick = Some(arena.tick());
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert!(arena.tick().0 < 100, "no kill");
    }
    assert_eq!(shot_ticks, [1, 9, 17, 25]);
    let dead = arena.player(target).expect("target");
    assert_eq!((dead.alive, dead.health), (false, 0));
    assert_eq!(arena.player(shooter).map(|p| p.score), Some(1));
    let snap = arena.snapshot(Snapshot::default());
    let replicated: Player =
        snap.get(target).and_then(|e| e.get(schema(), PLAYER)).expect("player");
    assert_eq!((replicated.alive, replicated.health), (false, 0));
    let replicated: Player =
        snap.get(shooter).and_then(|e| e.get(schema(), PLAYER)).expect("player");
    assert_eq!(replicated.score, 1);

    // Dead: cannot move or fire, and is not hit by the shooter's next shots.
    let kill_tick = kill_tick.expect("killed");
    for _ in 1..respawn {
        let out = arena.step(&[
            cmd(&arena, target, 127, std::f32::consts::PI, true),
            cmd(&arena, shooter, 0, 0.0, true),
        ]);
        assert!(out.rewinds.iter().all(|r| r.shooter == shooter && r.hit.is_none()));
        let t = arena.player(target).expect("target");
        assert!(!t.alive, "still dead at {}", arena.tick());
        assert_eq!(t.pos, Vec2::new(400.0, 500.0));
    }
    arena.step(&[]);
    assert_eq!(arena.tick().diff(kill_tick), respawn as i32);
    let back = arena.player(target).expect("target");
    assert_eq!((back.alive, back.health), (true, 100));
    assert!(arena.spawn_points().contains(&back.pos));
}

#[test]
fn trading_shots_in_one_tick_kills_both() {
    let mut arena = open_arena();
    let a = arena.add_player("a");
    let b = arena.add_player("b");
    assert!(arena.place_player(a, Vec2::new(100.0, 500.0)));
    assert!(arena.place_player(b, Vec2::new(400.0, 500.0)));
    let mut kills = 0;
    for _ in 0..40 {
        let out = arena
            .step(&[cmd(&arena, b, 0, std::f32::consts::PI, true), cmd(&arena, a, 0, 0.0, true)]);
        kills += out.events.iter().filter(|e| matches!(e, GameEvent::Kill { .. })).count();
    }
    assert_eq!(kills, 2, "the lower id does not win the trade");
    assert_eq!(arena.player(a).map(|p| (p.score, p.alive)), Some((1, false)));
    assert_eq!(arena.player(b).map(|p| (p.score, p.alive)), Some((1, false)));
}

#[test]
fn players_without_commands_stand_still_and_hold_fire() {
    let mut arena = open_arena();
    let p = arena.add_player("p");
    let start = arena.player(p).expect("player").pos;
    arena.step(&[cmd(&arena, p, 127, 0.0, false)]);
    let moved = arena.player(p).expect("player");
    assert!(moved.pos.x > start.x && moved.velocity.x > 0.0);
    let out = arena.step(&[]);
    let idle = arena.player(p).expect("player");
    assert_eq!((idle.pos, idle.velocity), (moved.pos, Vec2::ZERO));
    assert!(out.events.is_empty() && out.rewinds.is_empty());
    // Commands for unknown players are ignored.
    arena.step(&[cmd(&arena, EntityId(999), 127, 0.0, true)]);
}
