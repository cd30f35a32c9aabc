//! Scripted players: deterministic inputs that keep every player moving and shooting, for the
//! simulation and server-tick benches.
//!
//! Player `i` runs in a direction that turns slowly (each player's differs), so players cross the
//! arena, hit walls and slide along them. It aims at player `i + 1` **where its screen shows it**:
//! the position at the view time `now − 3.5 ticks` (about 117 ms at 30 Hz, a typical
//! interpolation delay), read from the room's lag-compensation history, exactly as a client
//! aims at what it draws. It presses fire once per weapon cooldown, the players staggered so that
//! an eighth of them (at the default 250 ms cooldown and 30 Hz) shoot on every tick, instead of
//! all of them on one tick in eight.

use tickwire_arena::{Arena, ArenaInput};
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, EntityId, Tick};
use tickwire_sim::{JoinRequest, PlayerInput, Shape, Simulation};

/// How far behind the tick being simulated a scripted player's view is, in whole ticks; the view
/// time is `next − VIEW_LAG_TICKS + 1/2`.
pub const VIEW_LAG_TICKS: i32 = 4;

/// The view time a scripted player claims for tick `next`: `next − 3.5` ticks.
pub fn view_for(next: Tick) -> ViewTime {
    ViewTime { tick: next.offset(-VIEW_LAG_TICKS), fraction: 128 }
}

/// A scripted player: its session, its entity's id and the hecs entity.
#[derive(Debug, Clone, Copy)]
pub struct Scripted {
    /// The player's session.
    pub client: ClientId,
    /// Its entity's network id.
    pub id: EntityId,
    /// Its hecs entity.
    pub entity: hecs::Entity,
}

/// Joins `count` scripted players (sessions 1, 2, ...).
pub fn join(sim: &mut Simulation<Arena>, count: usize) -> Vec<Scripted> {
    (0..count)
        .map(|i| {
            let client = ClientId(i as u32 + 1);
            let name = format!("bot{i}");
            // invariant: the arena takes every player.
            let joined = sim
                .join(&JoinRequest { player: client, name: &name, account: None })
                .expect("the arena takes every player");
            Scripted { client, id: joined.id, entity: joined.entity }
        })
        .collect()
}

/// The input of player `index` of `players` (their entities) for tick `next` (the tick the
/// simulation's next step produces).
pub fn player_input(
    sim: &Simulation<Arena>,
    players: &[EntityId],
    index: usize,
    next: Tick,
) -> ArenaInput {
    let view = view_for(next);
    let config = sim.game().config();
    let period = config.ticks_for_ms(config.rules.fire_cooldown_ms).max(1);
    let fire = (u64::from(next.0) + index as u64).is_multiple_of(u64::from(period));
    let heading = index as f32 * 2.399 + next.0 as f32 * 0.02;
    let (sin, cos) = heading.sin_cos();
    let me = players.get(index).and_then(|&id| sim.game().player(sim.world(), id));
    let target = players.get((index + 1) % players.len().max(1));
    let seen = target.and_then(|&t| sim.lag().history().shape_at(t, view));
    let aim = match (me, seen) {
        (Some(me), Some(Shape::Circle { center, .. })) => {
            let d = center - me.pos;
            d.y.atan2(d.x)
        }
        _ => heading,
    };
    ArenaInput { move_x: (cos * 127.0) as i8, move_y: (sin * 127.0) as i8, aim, buttons: 0 }
        .firing(fire)
}

/// Every player's input for the simulation's next step, into `out` (cleared first), with the
/// view time each claims (what the server honours when the claim is plausible).
pub fn inputs(
    sim: &Simulation<Arena>,
    players: &[Scripted],
    out: &mut Vec<PlayerInput<ArenaInput>>,
) {
    out.clear();
    let next = sim.tick().next();
    let ids: Vec<EntityId> = players.iter().map(|p| p.id).collect();
    out.extend(players.iter().enumerate().map(|(i, p)| PlayerInput {
        player: p.client,
        entity: p.entity,
        input: player_input(sim, &ids, i, next),
        repeated: false,
        view: view_for(next),
        view_corrected: false,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn players_move_and_an_eighth_fire_each_tick() {
        let mut sim = crate::Scenario::new(0, 0.0).arena().expect("valid config");
        let players = join(&mut sim, 16);
        let mut batch = Vec::new();
        let mut shots = 0;
        for _ in 0..16 {
            inputs(&sim, &players, &mut batch);
            assert_eq!(batch.iter().filter(|i| i.input.fire()).count(), 2);
            sim.step(&batch);
            shots += sim.drain_rewinds().count();
        }
        assert!(shots >= 16, "living players shoot: {shots}");
        let moving = players
            .iter()
            .any(|p| sim.game().player(sim.world(), p.id).is_some_and(|v| v.velocity.x != 0.0));
        assert!(moving);
    }
}
