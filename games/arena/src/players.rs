//! Players: joining and leaving, spawn points, applying commands (phase 1 of a step) and
//! respawning (phase 4).
//!
//! Spawn points are generated once per arena from the seed (a separate PCG stream from the
//! NPCs', so joining players never changes NPC behaviour): up to [`spawn_point_count`] grid
//! positions where a player fits without touching a wall, [`SPAWN_POINTS`] per 1000×1000 units
//! of world so that players of a big world start spread over all of it. Each spawn or respawn picks one of
//! them from that stream.

use glam::Vec2;
use hecs::World;
use rand::Rng;
use rand_pcg::Pcg32;
use tickwire_protocol::{ClientId, EntityId, Tick};
use tickwire_sim::{NetId, PlayerInput};

use crate::components::{Body, Heading, Player, PlayerState};
use crate::config::{ArenaConfig, ConfigError, GRID_PER_UNIT};
use crate::movement::{is_free, move_player};
use crate::{Arena, ArenaInput};

/// How many spawn points an arena generates per 1000×1000 units of world (the default world has
/// exactly this many).
pub(crate) const SPAWN_POINTS: usize = 16;
/// Most spawn points an arena generates, whatever its size.
const MAX_SPAWN_POINTS: usize = 4096;
/// Attempts to place each spawn point before giving up on it.
const SPAWN_ATTEMPTS: usize = 256;
/// PCG stream of the spawn points (the NPCs use another).
const SPAWN_STREAM: u64 = 0x5eed_5a17;

/// A live player: its session, network id and hecs entity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlayerSlot {
    pub(crate) client: ClientId,
    pub(crate) id: EntityId,
    pub(crate) entity: hecs::Entity,
}

/// A player's state, copied out of the world (for the server and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerView {
    /// The player's entity.
    pub id: EntityId,
    /// Its session.
    pub client: ClientId,
    /// Name given at join.
    pub name: String,
    /// Position.
    pub pos: Vec2,
    /// Displacement of the last tick.
    pub velocity: Vec2,
    /// Aim, radians (full input precision).
    pub aim: f32,
    /// Health.
    pub health: u8,
    /// Kills.
    pub score: u16,
    /// Whether alive.
    pub alive: bool,
}

/// The arena's spawn points and the random stream that picks among them.
#[derive(Debug, Clone)]
pub(crate) struct SpawnPoints {
    points: Vec<Vec2>,
    rng: Pcg32,
}

impl SpawnPoints {
    pub(crate) fn generate(config: &ArenaConfig, seed: u64) -> Result<Self, ConfigError> {
        let mut rng = Pcg32::new(seed, SPAWN_STREAM);
        let rules = &config.rules;
        // In grid steps; validation guarantees a grid-aligned world wider than a player.
        let lo = (rules.player_radius * GRID_PER_UNIT) as u32;
        let hi = (rules.world - Vec2::splat(rules.player_radius)) * GRID_PER_UNIT;
        let (hi_x, hi_y) = (hi.x as u32, hi.y as u32);
        let count = spawn_point_count(rules.world);
        let mut points = Vec::with_capacity(count);
        for _ in 0..count {
            for _ in 0..SPAWN_ATTEMPTS {
                let x = rng.random_range(lo..=hi_x.max(lo)) as f32 / GRID_PER_UNIT;
                let y = rng.random_range(lo..=hi_y.max(lo)) as f32 / GRID_PER_UNIT;
                let p = Vec2::new(x, y);
                if is_free(p, rules) {
                    points.push(p);
                    break;
                }
            }
        }
        if points.is_empty() {
            return Err(ConfigError::NoSpawnPoint);
        }
        Ok(Self { points, rng })
    }

    pub(crate) fn pick(&mut self) -> Vec2 {
        // invariant: `generate` refuses to build an empty list.
        self.points[self.rng.random_range(0..self.points.len())]
    }

    pub(crate) fn points(&self) -> &[Vec2] {
        &self.points
    }
}

/// How many spawn points a world of `size` gets: [`SPAWN_POINTS`] per million square units,
/// at least [`SPAWN_POINTS`] and at most [`MAX_SPAWN_POINTS`] (an 8,000×8,000 world: 1,024).
pub(crate) fn spawn_point_count(size: Vec2) -> usize {
    let per_area = (f64::from(size.x) * f64::from(size.y) / 1e6 * SPAWN_POINTS as f64).round();
    (per_area as usize).clamp(SPAWN_POINTS, MAX_SPAWN_POINTS)
}

impl Arena {
    /// Adds a player at a seeded spawn point, with full health, as entity `id`.
    pub(crate) fn add_player(
        &mut self,
        world: &mut World,
        client: ClientId,
        name: &str,
        id: NetId,
        now: Tick,
    ) -> hecs::Entity {
        let rules = &self.config.rules;
        let pos = self.spawns.pick();
        let player = Player { health: rules.max_health, score: 0, alive: true };
        let state = PlayerState::new(client, name, rules.player_radius, now);
        let entity = world.spawn((id, Body::at(pos), Heading::default(), player, state));
        // Ids only grow, so pushing keeps the list sorted by id.
        self.players.push(PlayerSlot { client, id: id.0, entity });
        entity
    }

    /// Removes `client`'s player; `false` if it has none.
    pub(crate) fn remove_player(&mut self, world: &mut World, client: ClientId) -> bool {
        let Some(i) = self.players.iter().position(|s| s.client == client) else {
            return false;
        };
        let slot = self.players.remove(i);
        world.despawn(slot.entity).is_ok()
    }

    /// Number of players.
    pub fn player_count(&self) -> usize {
        self.players.len()
    }

    /// Ids of all players, ascending.
    pub fn player_ids(&self) -> impl ExactSizeIterator<Item = EntityId> + '_ {
        self.players.iter().map(|s| s.id)
    }

    /// The entity of `client`'s player.
    pub fn player_of(&self, client: ClientId) -> Option<EntityId> {
        self.players.iter().find(|s| s.client == client).map(|s| s.id)
    }

    /// A copy of a player's state.
    pub fn player(&self, world: &World, id: EntityId) -> Option<PlayerView> {
        let slot = self.slot(id)?;
        let mut q = world.query_one::<(&Body, &Player, &PlayerState)>(slot.entity);
        let (body, player, state) = q.get().ok()?;
        Some(PlayerView {
            id,
            client: slot.client,
            name: state.name.clone(),
            pos: body.pos(),
            velocity: body.velocity(),
            aim: state.aim,
            health: player.health,
            score: player.score,
            alive: player.alive,
        })
    }

    /// Moves a player to `pos` (snapped to the grid), e.g. for an admin command or a test
    /// setup. Refused (`false`) for an unknown player or a spot outside the world or in a wall.
    pub fn place_player(&mut self, world: &mut World, id: EntityId, pos: Vec2) -> bool {
        let pos = (pos * GRID_PER_UNIT).round() / GRID_PER_UNIT;
        if !is_free(pos, &self.config.rules) {
            return false;
        }
        let Some(slot) = self.slot(id) else { return false };
        match world.query_one_mut::<&mut Body>(slot.entity) {
            Ok(body) => {
                *body = Body::at(pos);
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn slot(&self, id: EntityId) -> Option<PlayerSlot> {
        let i = self.players.binary_search_by_key(&id, |s| s.id).ok()?;
        Some(self.players[i])
    }

    /// Phase 1: movement, aim and shot requests.
    pub(crate) fn apply_inputs(
        &mut self,
        world: &mut World,
        inputs: &[PlayerInput<ArenaInput>],
        now: Tick,
    ) {
        for (body, state) in world.query_mut::<(&mut Body, &mut PlayerState)>() {
            body.vx = 0.0;
            body.vy = 0.0;
            state.commanded = false;
            state.pending_shot = false;
        }
        let rules = &self.config.rules;
        let dt = self.derived.tick_seconds;
        // One view for all the inputs: a query per input would look its components up again.
        let mut players = world.view_mut::<(&mut Body, &mut Heading, &Player, &mut PlayerState)>();
        for cmd in inputs {
            let Some((body, heading, player, state)) = players.get_mut(cmd.entity) else {
                continue;
            };
            if std::mem::replace(&mut state.commanded, true) || !player.alive {
                continue;
            }
            let input = &cmd.input;
            let (pos, moved) = move_player(body.pos(), input.move_x, input.move_y, rules, dt);
            *body = Body { x: pos.x, y: pos.y, vx: moved.x, vy: moved.y };
            state.aim = input.aim;
            heading.angle = state.aim;
            if input.fire() && now.diff(state.next_fire) >= 0 {
                state.pending_shot = true;
                state.next_fire = now.offset(self.derived.cooldown_ticks as i32);
            }
        }
    }

    /// Phase 4: players whose respawn time has come reappear at a spawn point, full health
    /// (in id order, so the spawn points they get do not depend on hecs' storage order).
    pub(crate) fn respawn(&mut self, world: &mut World, now: Tick) {
        let max_health = self.config.rules.max_health;
        let mut players = world.view_mut::<(&mut Body, &mut Player, &PlayerState)>();
        for slot in &self.players {
            let Some((body, player, state)) = players.get_mut(slot.entity) else {
                continue;
            };
            if player.alive || now.diff(state.respawn_at) < 0 {
                continue;
            }
            *body = Body::at(self.spawns.pick());
            player.health = max_health;
            player.alive = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_COORD;

    #[test]
    fn spawn_points_grow_with_the_world() {
        assert_eq!(spawn_point_count(Vec2::splat(1000.0)), SPAWN_POINTS);
        assert_eq!(spawn_point_count(Vec2::splat(100.0)), SPAWN_POINTS, "never fewer");
        assert_eq!(spawn_point_count(Vec2::splat(8000.0)), 1024);
        assert_eq!(spawn_point_count(Vec2::splat(MAX_COORD)), 1074);
        let mut config = ArenaConfig::default();
        config.rules.world = Vec2::splat(8000.0);
        config.rules.walls.clear();
        let spawns = SpawnPoints::generate(&config, 7).expect("room for players");
        assert_eq!(spawns.points().len(), 1024);
        let far = spawns.points().iter().filter(|p| p.x > 4000.0 && p.y > 4000.0).count();
        assert!((200..=320).contains(&far), "{far} of 1,024 in the far quarter");
    }
}
