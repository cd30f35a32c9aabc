//! The reference game: a top-down 2D arena shooter on a `hecs::World`, with a load of NPCs.
//!
//! Players move at a capped speed ([`crate::movement`]), aim, and fire a hitscan weapon with a
//! cooldown; hits are judged with lag compensation ([`crate::lagcomp`]). A player at zero health
//! is dead: it cannot move or fire, and respawns at a seeded spawn point after
//! [`ArenaRules::respawn_ms`]; the killer scores one point. NPCs wander in straight lines and are
//! pure replication load: they are not shootable and do not block anyone.
//!
//! Files: `config.rs` (config and validation), `components.rs`, `players.rs` (join, spawn
//! points, commands, respawn), `npc.rs`, `weapon.rs` (shots), `replicate.rs` (schema and
//! snapshots).
//!
//! # One step
//!
//! [`Arena::step`] advances exactly one tick, from `tick()` to `now = tick() + 1`, applying the
//! inputs stamped `now` (the server takes them with `InputBuffer::take(now)`), in this order:
//!
//! 1. **Commands** (`players.rs`): each [`PlayerCommand`] moves its (living) player, sets its aim
//!    and, if it fires and its cooldown is over, queues a shot. A player without a command stands
//!    still and does not fire; a second command for the same player in one step is ignored.
//! 2. **NPC motion** (`npc.rs`, see [NPCs](#npcs)).
//! 3. **Shots** (`weapon.rs`), in player id order, each judged against the targets rewound to the
//!    view time its command carries. Damage, deaths (and [`GameEvent::Kill`]) apply at once, so a
//!    target killed by one shot cannot absorb a later one in the same tick; shooters whose shot
//!    was accepted in phase 1 fire even if killed earlier in this phase (simultaneous shots trade,
//!    whatever the id order).
//! 4. **Respawns** of players whose timer ran out.
//! 5. **History**: the new tick's hit-relevant state is recorded for lag compensation.
//! 6. `tick += 1`.
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
//! Positions are `f32` multiples of 1/32 below 2048 (17 significant bits, well within `f32`'s
//! 24), so sums are exact and quantizing them is lossless. An NPC moving in a straight line thus
//! costs **zero bytes** in a delta: the codec's prediction is exactly right.
//!
//! # Determinism
//!
//! All randomness comes from PCG streams seeded by [`NpcConfig::seed`] (one for the NPCs, one
//! for spawn points), and the world is only touched in the fixed order above, so the same config
//! and the same commands give the same world, tick for tick.
//!
//! [`GameEvent::Kill`]: tickwire_protocol::message::GameEvent::Kill

mod components;
mod config;
mod npc;
mod players;
mod replicate;
mod weapon;

pub use components::{Body, Heading, NetId, Npc, Player};
pub use config::{
    ArenaConfig, ArenaRules, ConfigError, GRID, GRID_PER_UNIT, MAX_COORD, MAX_HISTORY_MS, MAX_NPCS,
    MAX_SPEED_PER_TICK, MAX_STEP, MAX_TICK_RATE, NpcConfig, Wall, on_grid,
};
pub use players::PlayerView;
pub use replicate::{BODY, HEADING, NPC, PLAYER, POS_CODEC, VEL_CODEC, schema};

use glam::Vec2;
use tickwire_protocol::message::{GameEvent, InputFrame, ViewTime};
use tickwire_protocol::{EntityId, Tick};

use crate::history::{HitRecord, LagHistory};
use npc::Npcs;
use players::{PlayerSlot, SpawnPoints};

/// Players' history frames are preallocated for this many players.
const PLAYERS_HINT: usize = 64;

/// One player's input for one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayerCommand {
    /// The player's entity.
    pub entity: EntityId,
    /// What the player did this tick.
    pub input: InputFrame,
    /// The view time the **server** chose for lag-compensating this tick's shot (`None`: judge
    /// against the present). The arena clamps it to `max_rewind_ms` and reports what it did in
    /// [`Rewind`].
    pub view: Option<ViewTime>,
}

/// How far one shot was rewound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rewind {
    /// Who fired.
    pub shooter: EntityId,
    /// Ticks between the present and the claimed view time (0 without a claim).
    pub requested_ticks: f32,
    /// Ticks actually rewound.
    pub applied_ticks: f32,
    /// Whether the claim was clamped (too old, in the future, or beyond the history).
    pub clamped: bool,
    /// The target hit.
    pub hit: Option<EntityId>,
}

/// What happened during one step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepOutput {
    /// Shots, hits and kills, in the order they happened.
    pub events: Vec<GameEvent>,
    /// One entry per shot fired.
    pub rewinds: Vec<Rewind>,
}

/// Numbers derived once from the config.
#[derive(Debug, Clone, Copy)]
struct Derived {
    tick_seconds: f32,
    cooldown_ticks: u32,
    respawn_ticks: u32,
    max_rewind_ticks: f32,
}

/// The arena game: owns its `hecs::World` by value (see the module docs).
pub struct Arena {
    config: ArenaConfig,
    derived: Derived,
    world: hecs::World,
    tick: Tick,
    next_id: u32,
    /// Live players, sorted by id (ids only grow, so pushing keeps the order).
    players: Vec<PlayerSlot>,
    npcs: Npcs,
    spawns: SpawnPoints,
    history: LagHistory,
    /// Scratch: the present targets during the shot phase.
    present: Vec<HitRecord>,
    /// Scratch: the rewound targets of one shot.
    rewound: Vec<HitRecord>,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("tick", &self.tick)
            .field("players", &self.players.len())
            .field("entities", &self.world.len())
            .finish_non_exhaustive()
    }
}

impl Arena {
    /// Validates `config`, spawns the NPCs and records the first history frame.
    pub fn new(config: ArenaConfig) -> Result<Arena, ConfigError> {
        config.validate()?;
        let derived = Derived {
            tick_seconds: config.tick_seconds(),
            cooldown_ticks: config.ticks_for_ms(config.rules.fire_cooldown_ms),
            respawn_ticks: config.ticks_for_ms(config.rules.respawn_ms),
            max_rewind_ticks: config.max_rewind_ticks(),
        };
        let spawns = SpawnPoints::generate(&config)?;
        let mut world = hecs::World::new();
        let mut next_id = 0;
        let npcs = Npcs::spawn(&mut world, &config, &mut next_id);
        let history = LagHistory::new(config.history_ticks(), PLAYERS_HINT);
        let mut arena = Arena {
            config,
            derived,
            world,
            tick: Tick(0),
            next_id,
            players: Vec::with_capacity(PLAYERS_HINT),
            npcs,
            spawns,
            history,
            present: Vec::with_capacity(PLAYERS_HINT),
            rewound: Vec::with_capacity(PLAYERS_HINT),
        };
        arena.record_history(Tick(0));
        Ok(arena)
    }

    /// The config the arena was built with.
    pub fn config(&self) -> &ArenaConfig {
        &self.config
    }

    /// The rules (shortcut for `config().rules`).
    pub fn rules(&self) -> &ArenaRules {
        &self.config.rules
    }

    /// The tick of the current state. Starts at `Tick(0)`; each [`step`](Self::step) adds one.
    /// The next `step` produces `tick() + 1` and applies the inputs stamped with that tick, so
    /// the snapshot of tick `n` already includes every player's input `n`.
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// Number of replicated entities (NPCs and players).
    pub fn entity_count(&self) -> usize {
        self.world.len() as usize
    }

    /// The lag-compensation history (the hit-relevant state of the last ticks).
    pub fn history(&self) -> &LagHistory {
        &self.history
    }

    /// Advances exactly one tick (see the module docs for the order of work).
    pub fn step(&mut self, commands: &[PlayerCommand]) -> StepOutput {
        let mut out = StepOutput::default();
        self.step_into(commands, &mut out);
        out
    }

    /// Like [`step`](Self::step), writing into `out` (cleared first) to reuse its buffers.
    pub fn step_into(&mut self, commands: &[PlayerCommand], out: &mut StepOutput) {
        out.events.clear();
        out.rewinds.clear();
        let now = self.tick.next();
        self.apply_commands(commands, now);
        self.npcs.step(&mut self.world);
        self.fire(now, out);
        self.respawn(now);
        self.record_history(now);
        self.tick = now;
    }

    /// Records the players' hit-relevant state as the state of `tick`.
    fn record_history(&mut self, tick: Tick) {
        let radius = self.config.rules.player_radius;
        let world = &self.world;
        let records = self.players.iter().filter_map(|slot| {
            let mut q = world.query_one::<(&Body, &Player)>(slot.entity);
            let (body, player) = q.get().ok()?;
            Some(HitRecord { id: slot.id, pos: body.pos(), radius, alive: player.alive })
        });
        self.history.record(tick, records);
    }

    fn alloc_id(&mut self) -> EntityId {
        let id = EntityId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Every spawn point players may appear at.
    pub fn spawn_points(&self) -> &[Vec2] {
        self.spawns.points()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut arena = Arena::new(config).expect("valid config");
        let p = arena.add_player("p");
        arena.step(&[]);
        assert!(arena.player(p).is_some_and(|v| v.pos.x >= 12.5 && v.pos.x <= 12.531_25));
    }

    #[test]
    fn a_world_full_of_wall_has_no_spawn_point() {
        let mut config = ArenaConfig::default();
        config.rules.walls = vec![Wall::new(Vec2::ZERO, config.rules.world)];
        assert_eq!(Arena::new(config).err(), Some(ConfigError::NoSpawnPoint));
    }
}
