//! # tickwire-kart
//!
//! A top-down kart race hosted by Tickwire, next to the arena: analog throttle and steering,
//! boost, drift and horn buttons, laps counted through four sectors, barrels to knock about,
//! and two commands (`Paint`, `Reset`). It is written only against the public crates
//! (`tickwire-protocol`, `tickwire-sim`), like any game a host brings: `tickwire-server`
//! registers it with one line, and nothing in the server, the client or the bots knows it.
//!
//! Files: `protocol.rs` (the wire protocol: [`KartProtocol`], input, events, commands,
//! prediction), `config.rs`, `track.rs` (the ring, sectors, start grid), `components.rs`,
//! `physics.rs` (the integer kart step shared with clients), `race.rs` (racers: join, commands,
//! the racer phases), `collide.rs` (kart against kart), `barrels.rs`, `autopilot.rs` (a
//! lap-racing driver for bots and tests).
//!
//! # Units
//!
//! The simulation computes in integers on the replication grid: positions in grid steps of
//! 1/16 unit, velocities in grid steps per tick, headings in 1/65536 of a turn, fractions in
//! 1/256 (see [`physics`]). The replicated components hold the same values as `f32` units and
//! radians, exactly (every grid value is an `f32`), so a snapshot is a straight copy and a
//! client reads back exactly the state the server has.
//!
//! # One step
//!
//! [`Game::step`] advances one tick, in this order:
//!
//! 1. **Driving** (`race.rs`): every kart, in player order, drives one tick of its input
//!    ([`physics::drive`]: throttle, steering, slip, wall bounces, boost meter); a kart without
//!    an input this tick coasts. A horn press honks ([`KartEvent::Honk`], everyone, with a
//!    cooldown); a hard wall hit is a [`KartEvent::Bump`] for its driver.
//! 2. **Kart collisions** (`collide.rs`): overlapping karts are pushed apart and swap their
//!    closing velocity; both drivers get a `Bump`.
//! 3. **Barrels** (`barrels.rs`): barrels roll and bounce; karts kick the barrels they touch
//!    (the kart is not slowed, so its driver's prediction holds).
//! 4. **Laps**: a kart entering the next sector in order (bottom, right, top, left) moves its
//!    checkpoint on; back at the bottom it completes a lap ([`KartEvent::Lap`], everyone). The
//!    first kart to reach [`KartRules::laps`] wins ([`KartEvent::Won`]) and every lap count goes
//!    back to 0.
//!
//! Commands apply before the step: `Paint { color }` repaints the kart, `Reset {}` puts it back
//! on the start grid, standing, with its current lap started over.
//!
//! # Prediction
//!
//! [`KartProtocol`] implements [`Predict`](tickwire_sim::Predict) with the same
//! [`physics::drive`] the server runs: a driver on a clean link sees no misprediction, except
//! when another kart bumps it or a `Reset` teleports it.
//!
//! # Determinism
//!
//! Barrel placement comes from a PCG stream of the server's seed, and the world is touched only
//! in the fixed order above, in integers: the same config, seed and inputs give the same race.

pub mod autopilot;
mod barrels;
pub mod collide;
mod components;
mod config;
pub mod physics;
mod protocol;
mod race;
mod track;

pub use autopilot::Autopilot;
pub use components::{Barrel, Driver, Kart, Racer, Roll};
pub use config::{
    BarrelConfig, ConfigError, GRID, GRID_PER_UNIT, KartConfig, KartRules, MAX_BARRELS, MAX_COORD,
    MAX_SPEED, MAX_TICK_RATE, MAX_VELOCITY, MAX_WORLD,
};
pub use protocol::{BOOST, DRIFT, HORN, KartCommand, KartEvent, KartInput, KartProtocol};
pub use race::{RacerView, WALL_BUMP};
pub use track::Track;

use hecs::World;
use tickwire_sim::{Ctx, Game, Inputs, JoinRefusal, JoinRequest, LeaveReason, PlayerRef};

use barrels::Barrels;
use race::Slot;

/// Schema index of [`Kart`].
pub const KART: usize = 0;
/// Schema index of [`Racer`].
pub const RACER: usize = 1;
/// Schema index of [`Barrel`].
pub const BARREL: usize = 2;

/// The kart race: one per room (see the crate docs). The world is the room's.
#[derive(Debug)]
pub struct Race {
    config: KartConfig,
    honk_ticks: u32,
    bump_ticks: u32,
    /// Live racers, sorted by session.
    racers: Vec<Slot>,
    barrels: Barrels,
    grid: Vec<(i32, i32)>,
    /// Joins so far (picks the next start slot and colour).
    joined: u32,
}

impl Race {
    /// The config the race was built with.
    pub fn config(&self) -> &KartConfig {
        &self.config
    }

    /// The start grid, grid steps.
    pub fn start_grid(&self) -> &[(i32, i32)] {
        &self.grid
    }
}

impl Game for Race {
    type Protocol = KartProtocol;
    type Config = KartConfig;
    type Error = ConfigError;

    fn tick_rate(config: &KartConfig) -> u16 {
        config.tick_rate
    }

    fn create(
        config: &KartConfig,
        seed: u64,
        world: &mut World,
        ctx: &mut Ctx<'_, KartProtocol>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let radius = i32::from(config.rules.kart_radius) * GRID_PER_UNIT;
        let grid = config.rules.track.start_grid(radius);
        if grid.is_empty() {
            let t = config.rules.track;
            let why = "no room for a start grid on the bottom straight";
            return Err(ConfigError::Track { width: t.width, height: t.height, lane: t.lane, why });
        }
        let barrels = Barrels::spawn(world, config, seed, &mut || ctx.new_id());
        Ok(Race {
            config: config.clone(),
            honk_ticks: config.ticks_for_ms(config.rules.honk_cooldown_ms),
            bump_ticks: config.ticks_for_ms(config.rules.bump_cooldown_ms),
            racers: Vec::new(),
            barrels,
            grid,
            joined: 0,
        })
    }

    fn join(
        &mut self,
        world: &mut World,
        who: &JoinRequest<'_>,
        ctx: &mut Ctx<'_, KartProtocol>,
    ) -> Result<hecs::Entity, JoinRefusal> {
        self.add(world, who.player, ctx)
    }

    fn leave(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        _: LeaveReason,
        _: &mut Ctx<'_, KartProtocol>,
    ) {
        self.remove(world, player.client);
    }

    fn command(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        command: KartCommand,
        _: &mut Ctx<'_, KartProtocol>,
    ) {
        self.apply(world, player.client, command);
    }

    fn step(
        &mut self,
        world: &mut World,
        inputs: &Inputs<'_, KartInput>,
        ctx: &mut Ctx<'_, KartProtocol>,
    ) {
        self.drive(world, inputs, ctx);
        let karts = self.collide(world, ctx);
        self.kick(world, &karts, ctx);
        self.count_laps(world, ctx);
    }
}
