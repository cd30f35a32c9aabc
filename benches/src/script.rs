//! Scripted players: deterministic inputs that keep every player moving and shooting, for the
//! simulation and server-tick benches.
//!
//! Player `i` runs in a direction that turns slowly (each player's differs), so players cross the
//! arena, hit walls and slide along them. It aims at player `i + 1` **where its screen shows it**:
//! the position at the view time `now − 3.5 ticks` (about 117 ms at 30 Hz, a typical
//! interpolation delay), read from the arena's lag-compensation history, exactly as a client
//! aims at what it draws. It presses fire once per weapon cooldown, the players staggered so that
//! an eighth of them (at the default 250 ms cooldown and 30 Hz) shoot on every tick, instead of
//! all of them on one tick in eight.

use tickwire_protocol::message::{InputFrame, ViewTime, buttons};
use tickwire_protocol::{EntityId, Tick};
use tickwire_sim::{Arena, PlayerCommand};

/// How far behind the tick being simulated a scripted player's view is, in whole ticks; the view
/// time is `next − VIEW_LAG_TICKS + 1/2`.
pub const VIEW_LAG_TICKS: i32 = 4;

/// The view time a scripted player claims for tick `next`: `next − 3.5` ticks.
pub fn view_for(next: Tick) -> ViewTime {
    ViewTime { tick: next.offset(-VIEW_LAG_TICKS), fraction: 128 }
}

/// The input of player `index` of `players` for tick `next` (the tick the arena's next step
/// produces, `arena.tick().next()`).
pub fn player_input(arena: &Arena, players: &[EntityId], index: usize, next: Tick) -> InputFrame {
    let view = view_for(next);
    let period = arena.config().ticks_for_ms(arena.rules().fire_cooldown_ms).max(1);
    let fire = (u64::from(next.0) + index as u64).is_multiple_of(u64::from(period));
    let heading = index as f32 * 2.399 + next.0 as f32 * 0.02;
    let (sin, cos) = heading.sin_cos();
    let me = players.get(index).copied();
    let target = players.get((index + 1) % players.len().max(1)).copied();
    let aim = match (me.and_then(|id| arena.player(id)), target) {
        (Some(me), Some(target)) => match arena.history().position_at(target, view) {
            Some(seen) => {
                let d = seen - me.pos;
                d.y.atan2(d.x)
            }
            None => heading,
        },
        _ => heading,
    };
    InputFrame {
        tick: next,
        last_snapshot: Some(next.offset(-1)),
        view,
        move_x: (cos * 127.0) as i8,
        move_y: (sin * 127.0) as i8,
        aim: InputFrame::aim_from_radians(aim),
        buttons: if fire { buttons::FIRE } else { 0 },
    }
}

/// Every player's command for the arena's next step, into `out` (cleared first), with the view
/// time each claims (what the server honours when the claim is plausible).
pub fn commands(arena: &Arena, players: &[EntityId], out: &mut Vec<PlayerCommand>) {
    out.clear();
    let next = arena.tick().next();
    out.extend(players.iter().enumerate().map(|(i, &entity)| {
        let input = player_input(arena, players, i, next);
        PlayerCommand { entity, input, view: Some(input.view) }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn players_move_and_an_eighth_fire_each_tick() {
        let mut config = tickwire_sim::ArenaConfig::default();
        config.npcs.count = 0;
        let mut arena = Arena::new(config).expect("valid config");
        let players: Vec<EntityId> = (0..16).map(|i| arena.add_player(&format!("p{i}"))).collect();
        let mut cmds = Vec::new();
        let mut shots = 0;
        for _ in 0..16 {
            commands(&arena, &players, &mut cmds);
            assert_eq!(cmds.iter().filter(|c| c.input.fire()).count(), 2);
            shots += arena.step(&cmds).rewinds.len();
        }
        assert!(shots >= 16, "living players shoot: {shots}");
        assert!(players.iter().any(|&p| arena.player(p).is_some_and(|v| v.velocity.x != 0.0)));
    }
}
