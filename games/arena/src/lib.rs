//! # tickwire-arena
//!
//! Tickwire's built-in game, and the embedded default of `tickwire-server`: a top-down 2D arena
//! shooter on a `hecs::World`, with a load of NPCs. It is written only against the public
//! crates (`tickwire-protocol`, `tickwire-sim`), like any game a host brings.
//!
//! Players move at a capped speed ([`crate::movement`]), aim, and fire a hitscan weapon with a
//! cooldown; hits are judged with lag compensation ([`Ctx::raycast`](tickwire_sim::Ctx::raycast), see [`weapon`]). A player at zero health
//! is dead: it cannot move or fire, and respawns at a seeded spawn point after
//! [`ArenaRules::respawn_ms`]; the killer scores one point. NPCs wander in straight lines and are
//! pure replication load: they are not shootable and do not block anyone.
//!
//! Files: `protocol.rs` (the wire protocol: [`ArenaProtocol`], input, events, prediction),
//! `config.rs` (config and validation), `components.rs`, `players.rs` (join, spawn points,
//! inputs, respawn), `npc.rs`, `weapon.rs` (shots), `movement.rs` (the movement function shared
//! with the clients).
//!
//! # One step
//!
//! [`Game::step`] advances exactly one tick, to `now = ctx.tick()`, applying the inputs stamped
//! `now`, in this order:
//!
//! 1. **Inputs** (`players.rs`): each input moves its (living) player, sets its aim and, if it
//!    fires and its cooldown is over, queues a shot. A player without an input stands still and
//!    does not fire.
//! 2. **NPC motion** (`npc.rs`, see [NPCs](#npcs)).
//! 3. **Shots** (`weapon.rs`), in player id order, each a lag-compensated raycast at the view
//!    time the server honoured for the shooter. Damage, deaths (and [`ArenaEvent::Kill`]) apply
//!    at once, so a target killed by one shot cannot absorb a later one in the same tick;
//!    shooters whose shot was accepted in phase 1 fire even if killed earlier in this phase
//!    (simultaneous shots trade, whatever the id order).
//! 4. **Respawns** of players whose timer ran out.
//!
//! The room then records the players' hit circles ([`Game::hit_shapes`]) for lag compensation.
//!
//! # NPCs
//!
//! At spawn, `round(count × moving_fraction)` NPCs move and the rest stand still, at seeded grid
//! positions with a seeded kind. A moving NPC goes in a straight line at a constant per-tick
//! velocity (random direction, length `speed / tick_rate` snapped to the grid) for a seeded
//! 1–3 s; then it stops and a random still NPC starts in a random direction, so the number
//! moving is the same after every tick. NPCs **bounce off the world bounds** (inset by their
//! radius): position reflected about the bound, that velocity component negated. They **ignore
//! the inner walls** and each other: they are load for the replication path, not gameplay.
//!
//! # The replication grid
//!
//! The snapshot codec predicts a position as `x + vx · ticks` exactly, in integers on the
//! 1/32-unit quantization grid, so everything the arena replicates lives on that grid:
//!
//! - Player displacement per tick is rounded **toward zero** to the grid, component-wise, so it
//!   never exceeds the speed cap; collision then only shortens it, one axis at a time.
//! - NPC per-tick velocity is snapped to the grid when chosen, and bounces reflect around
//!   grid-aligned bounds.
//! - The world size, the walls and the radii must be on the grid ([`ArenaConfig::validate`]), so
//!   every position a collision produces is on it too.
//!
//! Positions are `f32` multiples of 1/32 below 8192 (18 significant bits, well within `f32`'s
//! 24), so sums are exact and quantizing them is lossless. An NPC moving in a straight line thus
//! costs **zero bytes** in a delta: the codec's prediction is exactly right.
//!
//! # Determinism
//!
//! All randomness comes from PCG streams seeded by the server's seed (one for the NPCs, one for
//! spawn points), and the world is only touched in the fixed order above, so the same config,
//! seed and inputs give the same world, tick for tick.

mod components;
mod config;
pub mod movement;
mod npc;
mod players;
mod protocol;
pub mod weapon;

pub use components::{Body, Heading, Npc, NpcMotion, Player, PlayerState};
pub use config::{
    ArenaConfig, ArenaRules, ConfigError, GRID, GRID_PER_UNIT, MAX_COORD, MAX_NPCS,
    MAX_SPEED_PER_TICK, MAX_STEP, MAX_TICK_RATE, NpcConfig, Wall, on_grid,
};
pub use players::PlayerView;
pub use protocol::{
    ArenaCommand, ArenaEvent, ArenaInput, ArenaProtocol, ArenaState, FIRE, quantize_direction,
};

use glam::Vec2;
use hecs::World;
use tickwire_protocol::EntityId;
use tickwire_protocol::game::GameProtocol;
use tickwire_sim::{
    Ctx, Game, HitShape, Inputs, InterestGrid, JoinRefusal, JoinRequest, LeaveReason, NetId, Place,
    PlayerRef, Shape,
};

use npc::Npcs;
use players::{PlayerSlot, SpawnPoints};

/// Schema index of [`Body`].
pub const BODY: usize = 0;
/// Schema index of [`Heading`].
pub const HEADING: usize = 1;
/// Schema index of [`Npc`].
pub const NPC: usize = 2;
/// Schema index of [`Player`].
pub const PLAYER: usize = 3;

/// The arena's replicated schema (its components).
pub fn schema() -> &'static tickwire_protocol::Schema {
    ArenaProtocol::schema().components()
}

/// Numbers derived once from the config.
#[derive(Debug, Clone, Copy)]
struct Derived {
    tick_seconds: f32,
    cooldown_ticks: u32,
    respawn_ticks: u32,
}

/// The arena game: one per room (see the crate docs). The world is the room's.
#[derive(Debug)]
pub struct Arena {
    config: ArenaConfig,
    derived: Derived,
    /// Live players, sorted by id (ids only grow, so pushing keeps the order).
    players: Vec<PlayerSlot>,
    npcs: Npcs,
    spawns: SpawnPoints,
}

impl Arena {
    /// The config the arena was built with.
    pub fn config(&self) -> &ArenaConfig {
        &self.config
    }

    /// The rules (shortcut for `config().rules`).
    pub fn rules(&self) -> &ArenaRules {
        &self.config.rules
    }

    /// Every spawn point players may appear at.
    pub fn spawn_points(&self) -> &[Vec2] {
        self.spawns.points()
    }
}

impl Game for Arena {
    type Protocol = ArenaProtocol;
    type Config = ArenaConfig;
    type Error = ConfigError;

    fn tick_rate(config: &ArenaConfig) -> u16 {
        config.tick_rate
    }

    fn create(
        config: &ArenaConfig,
        seed: u64,
        world: &mut World,
        ctx: &mut Ctx<'_, ArenaProtocol>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let derived = Derived {
            tick_seconds: config.tick_seconds(),
            cooldown_ticks: config.ticks_for_ms(config.rules.fire_cooldown_ms),
            respawn_ticks: config.ticks_for_ms(config.rules.respawn_ms),
        };
        let spawns = SpawnPoints::generate(config, seed)?;
        let npcs = Npcs::spawn(world, config, seed, &mut || ctx.new_id());
        Ok(Arena { config: config.clone(), derived, players: Vec::new(), npcs, spawns })
    }

    fn join(
        &mut self,
        world: &mut World,
        who: &JoinRequest<'_>,
        ctx: &mut Ctx<'_, ArenaProtocol>,
    ) -> Result<hecs::Entity, JoinRefusal> {
        let id = ctx.new_id();
        Ok(self.add_player(world, who.player, who.name, id, ctx.tick().next()))
    }

    fn leave(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        _reason: LeaveReason,
        _ctx: &mut Ctx<'_, ArenaProtocol>,
    ) {
        self.remove_player(world, player.client);
    }

    fn step(
        &mut self,
        world: &mut World,
        inputs: &Inputs<'_, ArenaInput>,
        ctx: &mut Ctx<'_, ArenaProtocol>,
    ) {
        let now = ctx.tick();
        self.apply_inputs(world, inputs, now);
        self.npcs.step(world);
        self.fire(world, now, ctx);
        self.respawn(world, now);
    }

    fn interest(config: &ArenaConfig) -> Option<InterestGrid> {
        config.interest
    }

    /// Every replicated entity of the arena has a body: it is where its body is.
    fn places(&self, world: &World, out: &mut Vec<(EntityId, Place)>) {
        for (id, body) in world.query::<(&NetId, &Body)>().iter() {
            out.push((id.0, Place::At(body.pos())));
        }
    }

    fn hit_shapes(world: &World, out: &mut Vec<HitShape>) {
        for (id, body, player, state) in
            world.query::<(&NetId, &Body, &Player, &PlayerState)>().iter()
        {
            out.push(HitShape {
                id: id.0,
                shape: Shape::Circle { center: body.pos(), radius: state.radius },
                active: player.alive,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::{ClientId, EntityId};
    use tickwire_sim::{HostSettings, Simulation};

    #[test]
    fn a_barely_big_enough_world_works() {
        let config = ArenaConfig {
            rules: ArenaRules {
                world: Vec2::splat(25.031_25),
                walls: vec![],
                player_radius: 12.5,
                ..ArenaRules::default()
            },
            npcs: NpcConfig { count: 3, ..NpcConfig::default() },
            ..ArenaConfig::default()
        };
        let mut sim = Simulation::<Arena>::new(&config, 1, HostSettings::default()).expect("valid");
        let who = JoinRequest { player: ClientId(1), name: "p", account: None };
        let joined = sim.join(&who).expect("joins");
        assert_eq!(joined.id, EntityId(3), "after the 3 NPCs");
        sim.step(&[]);
        let p = sim.game().player(sim.world(), joined.id).expect("player");
        assert!(p.pos.x >= 12.5 && p.pos.x <= 12.531_25);
    }

    #[test]
    fn a_world_full_of_wall_has_no_spawn_point() {
        let mut config = ArenaConfig::default();
        config.rules.walls = vec![Wall::new(Vec2::ZERO, config.rules.world)];
        let err = Simulation::<Arena>::new(&config, 1, HostSettings::default()).err();
        assert_eq!(err, Some(ConfigError::NoSpawnPoint));
    }

    #[test]
    fn the_protocol_is_the_same_shape_as_before() {
        let s = ArenaProtocol::schema();
        assert_eq!(s.components().name(), "arena");
        let bits: Vec<u32> = s.components().fields().iter().map(|f| f.bits).collect();
        assert_eq!(bits, [18, 18, 12, 12, 10, 2, 8, 16, 1]);
        assert_eq!(s.components().fields()[0].linear, Some((2, 2048)));
        assert_eq!(s.input().max_bytes(), 5);
        assert_eq!(s.event_kind("Kill"), Some(2));
        assert!(s.commands().is_empty());
    }
}
