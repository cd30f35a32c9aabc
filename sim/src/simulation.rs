//! [`Simulation`]: one room's world and game, driven tick by tick, with no I/O.
//!
//! It owns the `hecs::World` and the [`Game`] value, the room's id allocator, its seeded random
//! generator and its lag-compensation service, and calls the game's hooks with a [`Ctx`]. The
//! server's room task wraps one (adding sessions, input buffers and fan-out); tests, benches
//! and tools drive it directly.
//!
//! One [`step`](Simulation::step), from `tick()` to `now = tick() + 1`:
//! 1. the players' honoured view times go to the lag service;
//! 2. the game's [`step`](Game::step) runs with the inputs stamped `now` (its events and
//!    raycasts are collected);
//! 3. the hittable shapes of `now` are recorded for lag compensation;
//! 4. `tick = now`.

use std::collections::BTreeMap;

use hecs::World;
use rand::SeedableRng;
use rand_pcg::Pcg32;
use tickwire_protocol::game::{GameProtocol, GameSchema, Protocol};
use tickwire_protocol::{ClientId, EntityId, Snapshot, SnapshotBuilder, SnapshotError, Tick};

use crate::ctx::{Ctx, Emitted};
use crate::game::{CommandOf, Game, InputOf, JoinRefusal, JoinRequest, LeaveReason, PlayerRef};
use crate::input::PlayerInput;
use crate::interest::{Interest, Place};
use crate::lagcomp::{LagCompensation, Rewind};
use crate::replicate::{NetId, NetIds};

mod views;

/// The event type of a game.
pub type EventOf<G> = <<G as Game>::Protocol as Protocol>::Event;

/// Longest lag-compensation rewind a room may be configured with, in milliseconds.
pub const MAX_REWIND_MS: u32 = 1000;

/// Settings the server decides for every game's rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostSettings {
    /// Furthest back a lag-compensated query may reach, in milliseconds (at most
    /// [`MAX_REWIND_MS`]).
    pub max_rewind_ms: u32,
}

impl Default for HostSettings {
    fn default() -> Self {
        Self { max_rewind_ms: 250 }
    }
}

/// A joined player: the entity it controls, and that entity's network id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    /// The hecs entity.
    pub entity: hecs::Entity,
    /// Its network id.
    pub id: EntityId,
}

/// Code of the refusal a join gets when the game returned an entity without a [`NetId`] (a
/// bug in the game: a controlled entity must be replicated). The game hears the player leave
/// at once, and the entity is despawned.
pub const NO_NET_ID: u16 = u16::MAX;

/// A room's simulation (see the module docs).
pub struct Simulation<G: Game> {
    game: G,
    world: World,
    tick: Tick,
    tick_rate: u16,
    ids: NetIds,
    rng: Pcg32,
    lag: LagCompensation,
    events: Vec<Emitted<EventOf<G>>>,
    /// Joined players and what they control (the hooks after `join` get it).
    players: BTreeMap<ClientId, hecs::Entity>,
    /// The game's schema (looked up once: `GameProtocol::schema` takes a global lock).
    schema: &'static GameSchema,
    /// Interest management, when the game turned it on ([`Game::interest`]).
    interest: Option<Interest>,
    /// Scratch for the game's places, each published tick.
    places: Vec<(EntityId, Place)>,
}

impl<G: Game> std::fmt::Debug for Simulation<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("game", &<G::Protocol as GameProtocol>::NAME)
            .field("tick", &self.tick)
            .field("entities", &self.world.len())
            .finish_non_exhaustive()
    }
}

/// Splits a simulation into its game, its world and a context at `tick`.
macro_rules! parts {
    ($sim:expr, $tick:expr) => {{
        let tick = $tick;
        let s = &mut *$sim;
        let ctx = Ctx {
            tick,
            tick_rate: s.tick_rate,
            rng: &mut s.rng,
            ids: &mut s.ids,
            events: &mut s.events,
            lag: &mut s.lag,
        };
        (&mut s.game, &mut s.world, ctx)
    }};
}

impl<G: Game> Simulation<G> {
    /// Creates a room's game from its config and the server's seed, and records its first
    /// lag-compensation frame.
    pub fn new(config: &G::Config, seed: u64, host: HostSettings) -> Result<Self, G::Error> {
        let tick_rate = G::tick_rate(config).clamp(1, 240);
        let max_rewind_ms = host.max_rewind_ms.min(MAX_REWIND_MS);
        let rewind_ticks = max_rewind_ms as f32 * f32::from(tick_rate) / 1000.0;
        // One frame more than the window, so that a view exactly at the window's edge still has
        // both frames to interpolate between; one more for the present.
        let history = rewind_ticks.ceil() as usize + 2;
        let mut world = World::new();
        let mut ids = NetIds::default();
        let mut rng = Pcg32::seed_from_u64(seed);
        let mut lag = LagCompensation::new(history, rewind_ticks, G::hit_shapes);
        let mut events = Vec::new();
        let mut ctx = Ctx {
            tick: Tick(0),
            tick_rate,
            rng: &mut rng,
            ids: &mut ids,
            events: &mut events,
            lag: &mut lag,
        };
        let game = G::create(config, seed, &mut world, &mut ctx)?;
        lag.record(&world, Tick(0));
        Ok(Self {
            game,
            world,
            tick: Tick(0),
            tick_rate,
            ids,
            rng,
            lag,
            events,
            players: BTreeMap::new(),
            schema: <G::Protocol as GameProtocol>::schema(),
            // An invalid grid is the game's bug; the server refuses such a game at start-up.
            interest: G::interest(config).filter(|g| g.validate().is_ok()).map(Interest::new),
            places: Vec::new(),
        })
    }

    /// The tick of the current state (each [`step`](Self::step) adds one).
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// Ticks per second.
    pub fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    /// The game.
    pub fn game(&self) -> &G {
        &self.game
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The game and the world, mutably (test set-ups, admin tools: not for play, which must go
    /// through inputs and commands to stay deterministic).
    pub fn parts_mut(&mut self) -> (&mut G, &mut World) {
        (&mut self.game, &mut self.world)
    }

    /// The lag-compensation service (its history).
    pub fn lag(&self) -> &LagCompensation {
        &self.lag
    }

    /// Number of entities in the world.
    pub fn entity_count(&self) -> usize {
        self.world.len() as usize
    }

    /// A player joins (see [`Game::join`]).
    pub fn join(&mut self, who: &JoinRequest<'_>) -> Result<Joined, JoinRefusal> {
        let (game, world, mut ctx) = parts!(self, self.tick);
        let entity = game.join(world, who, &mut ctx)?;
        let id = world.get::<&NetId>(entity).map(|n| n.0);
        match id {
            Ok(id) => {
                self.players.insert(who.player, entity);
                Ok(Joined { entity, id })
            }
            Err(_) => {
                // Undo the join, so that the game does not keep a player the room refused.
                let player = PlayerRef { client: who.player, entity };
                game.leave(world, player, LeaveReason::Left, &mut ctx);
                let _ = world.despawn(entity);
                Err(JoinRefusal::Refused { code: NO_NET_ID })
            }
        }
    }

    /// What `client` controls, if it joined and has not left.
    pub fn player(&self, client: ClientId) -> Option<PlayerRef> {
        self.players.get(&client).map(|&entity| PlayerRef { client, entity })
    }

    /// A player's connection dropped (see [`Game::detach`]); ignored for an unknown player.
    pub fn detach(&mut self, player: ClientId) {
        let Some(player) = self.player(player) else { return };
        let (game, world, mut ctx) = parts!(self, self.tick);
        game.detach(world, player, &mut ctx);
    }

    /// A detached player is back (see [`Game::resume`]); ignored for an unknown player.
    pub fn resume(&mut self, player: ClientId) {
        let Some(player) = self.player(player) else { return };
        let (game, world, mut ctx) = parts!(self, self.tick);
        game.resume(world, player, &mut ctx);
    }

    /// A player is gone (see [`Game::leave`]); ignored for an unknown player.
    pub fn leave(&mut self, player: ClientId, reason: LeaveReason) {
        let Some(player) =
            self.players.remove(&player).map(|entity| PlayerRef { client: player, entity })
        else {
            return;
        };
        if let Some(interest) = &mut self.interest {
            interest.forget(player.client);
        }
        let (game, world, mut ctx) = parts!(self, self.tick);
        game.leave(world, player, reason, &mut ctx);
    }

    /// A player's command (see [`Game::command`]); ignored for an unknown player.
    pub fn command(&mut self, player: ClientId, command: CommandOf<G>) {
        let Some(player) = self.player(player) else { return };
        let (game, world, mut ctx) = parts!(self, self.tick);
        game.command(world, player, command, &mut ctx);
    }

    /// Advances one tick with the inputs stamped `tick() + 1`, sorted by player (see the
    /// module docs).
    pub fn step(&mut self, inputs: &[PlayerInput<InputOf<G>>]) {
        let now = self.tick.next();
        self.lag.begin(now, inputs.iter().map(|i| (i.player, i.view, i.view_corrected)));
        let (game, world, mut ctx) = parts!(self, now);
        game.step(world, inputs, &mut ctx);
        self.lag.record(&self.world, now);
        self.tick = now;
    }

    /// The replicated state of the current tick. `reuse` (an old snapshot, or
    /// `Snapshot::default()`) lends its allocations. Fails only if the game wrote an id twice.
    pub fn snapshot(&self, reuse: Snapshot) -> Result<Snapshot, SnapshotError> {
        let schema = self.schema.components();
        let mut out = SnapshotBuilder::new(schema, self.tick, reuse);
        // Sized once for every entity (the replicated ones are some of them), not grown and
        // copied entity by entity: a world of 22,000 entities regrew it a dozen times a tick.
        out.reserve(self.world.len() as usize);
        self.game.snapshot(&self.world, &mut out);
        out.finish()
    }

    /// The events emitted since the last call, oldest first.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Emitted<EventOf<G>>> {
        self.events.drain(..)
    }

    /// The raycasts since the last call, oldest first.
    pub fn drain_rewinds(&mut self) -> std::vec::Drain<'_, Rewind> {
        self.lag.take_rewinds()
    }
}
