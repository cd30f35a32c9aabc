//! Arena configuration: the rules clients share ([`ArenaRules`]), the NPC load ([`NpcConfig`]),
//! the tick rate ([`ArenaConfig`]) and their validation ([`ConfigError`]).
//!
//! A host passes it as JSON (`tickwire-server --game-config 'arena={"npcs":{"count":200}}'`):
//! every field has a default, unknown fields are refused, and vectors are `[x, y]` arrays.
//!
//! Validation is where the replication grid (see the [`arena`](super) module docs) is enforced:
//! the world, the walls and the radii must sit on the 1/32-unit grid, the world must fit the
//! position codec and one tick of movement must fit the velocity codec. An [`Arena`](super::Arena)
//! is only ever built from a validated config, so the systems never re-check these.

use glam::Vec2;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tickwire_sim::interest::{GridError, InterestGrid};

/// Size of one replication grid step, in world units: every replicated position and per-tick
/// displacement is a multiple of this.
pub const GRID: f32 = 1.0 / 32.0;
/// Grid steps per world unit (the inverse of [`GRID`]).
pub const GRID_PER_UNIT: f32 = 32.0;
/// Largest coordinate the position codec can carry (`8191 + 31/32`, 18 bits on the 1/32 grid):
/// worlds may be at most this.
pub const MAX_COORD: f32 = 8191.0 + 31.0 / 32.0;
/// Largest per-tick displacement the velocity codec can carry.
pub const MAX_STEP: f32 = 63.0 + 31.0 / 32.0;
/// Largest per-tick speed a config may ask for, a grid step below [`MAX_STEP`] so that snapping an
/// NPC velocity to the nearest grid step still fits the codec.
pub const MAX_SPEED_PER_TICK: f32 = 63.0;
/// Highest supported tick rate, in ticks per second.
pub const MAX_TICK_RATE: u16 = 240;
/// Most NPCs an arena may hold (snapshots must stay under the decoder's entity limit).
pub const MAX_NPCS: u32 = 60_000;

/// Whether `v` is a multiple of [`GRID`].
pub fn on_grid(v: f32) -> bool {
    v.is_finite() && (v * GRID_PER_UNIT).fract() == 0.0
}

/// An axis-aligned rectangular wall, `min` to `max` inclusive, in world units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wall {
    /// Lower-left corner.
    pub min: Vec2,
    /// Upper-right corner.
    pub max: Vec2,
}

impl Wall {
    /// A wall from its corners (`min` must be below and left of `max`).
    pub const fn new(min: Vec2, max: Vec2) -> Self {
        Self { min, max }
    }
}

/// The game's rules: what clients need too, for prediction ([`crate::movement`]) and rendering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArenaRules {
    /// World size; the playable area is `0..=world.x` × `0..=world.y`.
    pub world: Vec2,
    /// Solid walls inside the world (the world bounds are walls too, implicitly).
    pub walls: Vec<Wall>,
    /// Player speed cap, units per second.
    pub player_speed: f32,
    /// Player collision and hit radius.
    pub player_radius: f32,
    /// NPC radius (they bounce off the world bounds at this distance).
    pub npc_radius: f32,
    /// Health of a fresh player.
    pub max_health: u8,
    /// Damage per hit.
    pub damage: u8,
    /// Least time between two shots of one player, in milliseconds (rounded up to whole ticks).
    pub fire_cooldown_ms: u32,
    /// Hitscan range, in units.
    pub weapon_range: f32,
    /// Time from death to respawn, in milliseconds (rounded up to whole ticks).
    pub respawn_ms: u32,
}

impl Default for ArenaRules {
    fn default() -> Self {
        let wall =
            |x0: f32, y0: f32, x1: f32, y1: f32| Wall::new(Vec2::new(x0, y0), Vec2::new(x1, y1));
        Self {
            world: Vec2::new(1000.0, 1000.0),
            walls: vec![
                wall(200.0, 200.0, 260.0, 400.0),
                wall(740.0, 600.0, 800.0, 800.0),
                wall(420.0, 470.0, 580.0, 530.0),
                wall(600.0, 150.0, 800.0, 190.0),
                wall(200.0, 810.0, 400.0, 850.0),
            ],
            player_speed: 200.0,
            player_radius: 12.0,
            npc_radius: 8.0,
            max_health: 100,
            damage: 25,
            fire_cooldown_ms: 250,
            weapon_range: 1500.0,
            respawn_ms: 2000,
        }
    }
}

/// The NPC load: wandering entities that are replicated but not shootable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NpcConfig {
    /// How many NPCs the arena spawns.
    pub count: u32,
    /// Fraction of them moving at any time, `0..=1` (kept constant: see the [`arena`](super) docs).
    pub moving_fraction: f32,
    /// Speed of a moving NPC, units per second (its per-tick velocity is snapped to the grid).
    pub speed: f32,
}

impl Default for NpcConfig {
    fn default() -> Self {
        Self { count: 1000, moving_fraction: 0.25, speed: 100.0 }
    }
}

/// Everything needed to build an [`Arena`](crate::Arena) (with the server's seed, which drives
/// its random streams: NPCs and spawn points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArenaConfig {
    /// The game rules.
    pub rules: ArenaRules,
    /// The NPC load.
    pub npcs: NpcConfig,
    /// Ticks per second (1..=240).
    pub tick_rate: u16,
    /// Interest management (`null`, the default: every client sees the whole arena). With a
    /// grid, `{"cell": 250, "radius": 1, "hysteresis": 16}`, a client receives the players,
    /// NPCs, shots and hits in the block of cells around its own player only.
    pub interest: Option<InterestGrid>,
}

impl Default for ArenaConfig {
    fn default() -> Self {
        Self {
            rules: ArenaRules::default(),
            npcs: NpcConfig::default(),
            tick_rate: 30,
            interest: None,
        }
    }
}

/// Why an [`ArenaConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// The interest grid is refused.
    #[error(transparent)]
    Interest(#[from] GridError),
    /// Tick rate 0 or above [`MAX_TICK_RATE`].
    #[error("tick rate {rate} is outside 1..={MAX_TICK_RATE}")]
    TickRate {
        /// The rate asked for.
        rate: u16,
    },
    /// The world does not fit the position codec.
    #[error("world {x}x{y} is larger than the position codec's {MAX_COORD}")]
    WorldTooLarge {
        /// Width.
        x: f32,
        /// Height.
        y: f32,
    },
    /// The world cannot hold a player or an NPC.
    #[error("world {x}x{y} is too small for a radius-{radius} entity")]
    WorldTooSmall {
        /// Width.
        x: f32,
        /// Height.
        y: f32,
        /// The largest radius.
        radius: f32,
    },
    /// A value that must lie on the 1/32 replication grid does not.
    #[error("{what} = {value} is not a multiple of 1/32")]
    OffGrid {
        /// Which value.
        what: &'static str,
        /// The value.
        value: f32,
    },
    /// A number that is non-finite, negative or zero where that makes no sense.
    #[error("{what} = {value}: {why}")]
    BadValue {
        /// Which value.
        what: &'static str,
        /// The value.
        value: f64,
        /// What is wrong.
        why: &'static str,
    },
    /// A wall that is empty, inverted or outside the world.
    #[error("wall {index}: {why}")]
    BadWall {
        /// Index in [`ArenaRules::walls`].
        index: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A speed whose per-tick step does not fit the velocity codec.
    #[error("{what} moves {per_tick} units per tick, more than {MAX_SPEED_PER_TICK}")]
    TooFast {
        /// Which speed.
        what: &'static str,
        /// Units per tick at the configured tick rate.
        per_tick: f32,
    },
    /// [`NpcConfig::moving_fraction`] outside `0..=1`.
    #[error("moving fraction {fraction} is outside 0..=1")]
    MovingFraction {
        /// The fraction.
        fraction: f32,
    },
    /// More NPCs than [`MAX_NPCS`].
    #[error("{count} NPCs, at most {MAX_NPCS} are supported")]
    TooManyNpcs {
        /// The count.
        count: u32,
    },
    /// No spot in the world where a player fits without touching a wall.
    #[error("no spawn point: the walls leave no room for a player")]
    NoSpawnPoint,
}

impl ArenaConfig {
    /// Checks every constraint the arena relies on; creating a room calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tick_rate == 0 || self.tick_rate > MAX_TICK_RATE {
            return Err(ConfigError::TickRate { rate: self.tick_rate });
        }
        if let Some(grid) = &self.interest {
            grid.validate()?;
        }
        let r = &self.rules;
        positive("player_radius", r.player_radius)?;
        positive("npc_radius", r.npc_radius)?;
        positive("weapon_range", r.weapon_range)?;
        non_negative("player_speed", r.player_speed)?;
        non_negative("npc speed", self.npcs.speed)?;
        if r.max_health == 0 {
            return Err(bad("max_health", 0.0, "must be at least 1"));
        }
        grid("player_radius", r.player_radius)?;
        grid("npc_radius", r.npc_radius)?;
        positive("world.x", r.world.x)?;
        positive("world.y", r.world.y)?;
        grid("world.x", r.world.x)?;
        grid("world.y", r.world.y)?;
        if r.world.x > MAX_COORD || r.world.y > MAX_COORD {
            return Err(ConfigError::WorldTooLarge { x: r.world.x, y: r.world.y });
        }
        let radius = r.player_radius.max(r.npc_radius);
        if r.world.min_element() <= 2.0 * radius {
            return Err(ConfigError::WorldTooSmall { x: r.world.x, y: r.world.y, radius });
        }
        for (index, w) in r.walls.iter().enumerate() {
            let corners = [w.min.x, w.min.y, w.max.x, w.max.y];
            if !corners.iter().all(|v| on_grid(*v)) {
                return Err(ConfigError::BadWall {
                    index,
                    why: "corners must be on the 1/32 grid",
                });
            }
            if !(w.min.x < w.max.x && w.min.y < w.max.y) {
                return Err(ConfigError::BadWall {
                    index,
                    why: "min must be below and left of max",
                });
            }
            if w.min.min_element() < 0.0 || w.max.x > r.world.x || w.max.y > r.world.y {
                return Err(ConfigError::BadWall { index, why: "outside the world" });
            }
        }
        let dt = self.tick_seconds();
        for (what, speed) in [("player_speed", r.player_speed), ("npc speed", self.npcs.speed)] {
            let per_tick = speed * dt;
            if per_tick > MAX_SPEED_PER_TICK {
                return Err(ConfigError::TooFast { what, per_tick });
            }
        }
        let f = self.npcs.moving_fraction;
        if !(0.0..=1.0).contains(&f) {
            return Err(ConfigError::MovingFraction { fraction: f });
        }
        if self.npcs.count > MAX_NPCS {
            return Err(ConfigError::TooManyNpcs { count: self.npcs.count });
        }
        Ok(())
    }

    /// Length of one tick in seconds.
    pub fn tick_seconds(&self) -> f32 {
        1.0 / f32::from(self.tick_rate.max(1))
    }

    /// Whole ticks covering `ms` milliseconds, rounded up (so cooldowns are never shorter than
    /// configured).
    pub fn ticks_for_ms(&self, ms: u32) -> u32 {
        let ticks = (u64::from(ms) * u64::from(self.tick_rate)).div_ceil(1000);
        u32::try_from(ticks).unwrap_or(u32::MAX)
    }
}

fn bad(what: &'static str, value: f64, why: &'static str) -> ConfigError {
    ConfigError::BadValue { what, value, why }
}

fn positive(what: &'static str, v: f32) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(bad(what, v.into(), "must be finite and > 0"))
    }
}

fn non_negative(what: &'static str, v: f32) -> Result<(), ConfigError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(bad(what, v.into(), "must be finite and >= 0"))
    }
}

fn grid(what: &'static str, value: f32) -> Result<(), ConfigError> {
    if on_grid(value) { Ok(()) } else { Err(ConfigError::OffGrid { what, value }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_derives_ticks() {
        let c = ArenaConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.ticks_for_ms(250), 8, "7.5 ticks round up");
        assert_eq!(c.ticks_for_ms(2000), 60);
        let c60 = ArenaConfig { tick_rate: 60, ..ArenaConfig::default() };
        assert_eq!(c60.validate(), Ok(()));
        assert_eq!(c60.ticks_for_ms(250), 15);
    }

    #[test]
    fn reads_partial_json_and_refuses_unknown_fields() {
        let c: ArenaConfig =
            serde_json::from_str(r#"{"npcs": {"count": 7}, "tick_rate": 60}"#).expect("valid");
        assert_eq!((c.npcs.count, c.npcs.moving_fraction, c.tick_rate), (7, 0.25, 60));
        assert_eq!(c.rules, ArenaRules::default());
        let err = serde_json::from_str::<ArenaConfig>(r#"{"npc": {"count": 7}}"#);
        assert!(err.is_err_and(|e| e.to_string().contains("unknown field `npc`")));
        let walls: ArenaConfig =
            serde_json::from_str(r#"{"rules": {"walls": [{"min": [1, 2], "max": [3, 4]}]}}"#)
                .expect("valid");
        assert_eq!(walls.rules.walls, vec![Wall::new(Vec2::new(1.0, 2.0), Vec2::new(3.0, 4.0))]);
        let json = serde_json::to_value(ArenaConfig::default()).expect("serializable");
        assert_eq!(json["rules"]["world"], serde_json::json!([1000.0, 1000.0]));
    }

    #[test]
    fn rejects_each_bad_setting() {
        let with = |f: &dyn Fn(&mut ArenaConfig)| {
            let mut c = ArenaConfig::default();
            f(&mut c);
            c.validate()
        };
        assert_eq!(with(&|c| c.tick_rate = 0), Err(ConfigError::TickRate { rate: 0 }));
        assert_eq!(with(&|c| c.tick_rate = 241), Err(ConfigError::TickRate { rate: 241 }));
        assert!(matches!(
            with(&|c| c.rules.world = Vec2::new(8192.0, 100.0)),
            Err(ConfigError::WorldTooLarge { .. })
        ));
        assert_eq!(with(&|c| c.rules.world = Vec2::splat(MAX_COORD)), Ok(()));
        assert!(matches!(
            with(&|c| c.rules.world = Vec2::splat(20.0)),
            Err(ConfigError::WorldTooSmall { .. })
        ));
        assert!(matches!(
            with(&|c| c.rules.player_radius = 12.01),
            Err(ConfigError::OffGrid { what: "player_radius", .. })
        ));
        assert!(matches!(
            with(&|c| c.rules.player_speed = f32::NAN),
            Err(ConfigError::BadValue { what: "player_speed", .. })
        ));
        assert!(matches!(
            with(&|c| c.rules.walls.push(Wall::new(Vec2::new(5.0, 5.0), Vec2::new(1.0, 9.0)))),
            Err(ConfigError::BadWall { index: 5, .. })
        ));
        assert!(matches!(
            with(&|c| c.rules.walls[0].max.x = 1200.0),
            Err(ConfigError::BadWall { index: 0, why: "outside the world" })
        ));
        assert!(matches!(
            with(&|c| c.rules.walls[1].min.y = 600.1),
            Err(ConfigError::BadWall { index: 1, .. })
        ));
        assert!(matches!(
            with(&|c| {
                c.tick_rate = 1;
                c.npcs.speed = 100.0;
            }),
            Err(ConfigError::TooFast { what: "player_speed", .. })
        ));
        assert_eq!(
            with(&|c| c.npcs.moving_fraction = 1.5),
            Err(ConfigError::MovingFraction { fraction: 1.5 })
        );
        assert!(matches!(
            with(&|c| c.npcs.moving_fraction = f32::NAN),
            Err(ConfigError::MovingFraction { .. })
        ));
        assert_eq!(
            with(&|c| c.npcs.count = 70_000),
            Err(ConfigError::TooManyNpcs { count: 70_000 })
        );
    }
}
