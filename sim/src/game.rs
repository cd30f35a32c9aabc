//! [`Game`]: what a game implements to be hosted by Tickwire.
//!
//! A room owns a `hecs::World` and one value of the game type, and calls the game's hooks in a
//! fixed order, passing the world and a [`Ctx`] every time. Time (the tick), randomness (the
//! room's seeded generator) and inputs enter as arguments, so a game is deterministic and
//! sans-IO: the same config, seed and inputs give the same world, tick for tick.
//!
//! What the game decides: what a room's world holds ([`create`](Game::create)), what a joining
//! player controls ([`join`](Game::join)), what one tick does with the players' inputs
//! ([`step`](Game::step)), what its commands do, what happens when a player leaves, and which
//! entities can be hit ([`hit_shapes`](Game::hit_shapes)), and, optionally, what each client
//! sees ([`interest`](Game::interest), [`places`](Game::places),
//! [`viewpoint`](Game::viewpoint)). What the server decides, the same
//! for every game: input buffering (late, missing, duplicate, too far ahead), which view time a
//! player's action is judged at (RTT-clamped), rate limits, slow clients, session resume,
//! limits and metrics. A game never sees a raw client claim.

use std::fmt::Debug;

use hecs::World;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tickwire_protocol::game::{GameProtocol, Protocol};
use tickwire_protocol::message::DisconnectReason;
use tickwire_protocol::{ClientId, EntityId, SnapshotBuilder};

use crate::ctx::Ctx;
use crate::input::Inputs;
use crate::interest::{InterestGrid, Place, Viewpoint};
use crate::lagcomp::HitShape;
use crate::replicate::Extract;

/// The input type of a game.
pub type InputOf<G> = <<G as Game>::Protocol as Protocol>::Input;
/// The command type of a game.
pub type CommandOf<G> = <<G as Game>::Protocol as Protocol>::Command;

/// A player asking to join a room.
#[derive(Debug, Clone, Copy)]
pub struct JoinRequest<'a> {
    /// The player's session id (kept across a session resume).
    pub player: ClientId,
    /// The display name from the hello (validated: 1..=24 bytes, no control characters).
    pub name: &'a str,
    /// The player id a join token vouched for (`None` on a server without tokens).
    pub account: Option<&'a str>,
}

/// A joined player, as the hooks after [`Game::join`] see it: its session and the entity it
/// controls (the one `join` returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayerRef {
    /// The player's session id.
    pub client: ClientId,
    /// The entity [`Game::join`] returned for it.
    pub entity: hecs::Entity,
}

/// Why a game refuses a player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    /// The game has no room for another player (the client sees `RoomFull`).
    Full,
    /// Any other reason, as the game's own code (the client sees `JoinRefused { code }`).
    Refused {
        /// The game's reason.
        code: u16,
    },
}

/// Why a player leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The player said goodbye.
    Left,
    /// The session was ended by the server (a violation, a rate limit, too slow, replaced,
    /// shut down...).
    Ended(DisconnectReason),
    /// The connection dropped and the player did not come back within the resume grace period.
    Expired,
}

/// A game hosted by Tickwire (see the module docs). One value per room.
pub trait Game: Sized + Send + 'static {
    /// The game's wire protocol, shared with its clients.
    type Protocol: GameProtocol<Components: Extract>;
    /// The game's configuration: one per server, the same for every room of the game. A host
    /// passes it as JSON (`tickwire-server --game-config NAME=...`), and `/rules.json?game=NAME`
    /// serves it to clients.
    type Config: Clone + Debug + Default + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Why a configuration is refused.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Ticks per second of this game's rooms (1..=240).
    fn tick_rate(config: &Self::Config) -> u16;

    /// Builds a room: validates `config`, spawns the world's initial entities. `seed` is the
    /// room's (the server's seed with the room's name mixed in); randomness comes from it (or
    /// from `ctx.rng()`, which is seeded with it). The server also calls it once when the game
    /// is registered, to refuse a bad config at start-up: keep it free of side effects outside
    /// the world.
    fn create(
        config: &Self::Config,
        seed: u64,
        world: &mut World,
        ctx: &mut Ctx<'_, Self::Protocol>,
    ) -> Result<Self, Self::Error>;

    /// A player joins: spawn what it controls (with a [`NetId`](crate::NetId) from
    /// [`Ctx::new_id`]) and return that entity, or refuse.
    fn join(
        &mut self,
        world: &mut World,
        who: &JoinRequest<'_>,
        ctx: &mut Ctx<'_, Self::Protocol>,
    ) -> Result<hecs::Entity, JoinRefusal>;

    /// The player's connection dropped; the server keeps it for a resume. It sends no input
    /// meanwhile. Default: nothing.
    fn detach(
        &mut self,
        _world: &mut World,
        _player: PlayerRef,
        _ctx: &mut Ctx<'_, Self::Protocol>,
    ) {
    }

    /// A detached player is back (same player, same entity). Default: nothing.
    fn resume(
        &mut self,
        _world: &mut World,
        _player: PlayerRef,
        _ctx: &mut Ctx<'_, Self::Protocol>,
    ) {
    }

    /// The player is gone: despawn or hand over what it controlled.
    fn leave(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        reason: LeaveReason,
        ctx: &mut Ctx<'_, Self::Protocol>,
    );

    /// A player's command, applied before the next step (in player order). Default: ignored.
    fn command(
        &mut self,
        _world: &mut World,
        _player: PlayerRef,
        _command: CommandOf<Self>,
        _ctx: &mut Ctx<'_, Self::Protocol>,
    ) {
    }

    /// Advances the world by one tick, to `ctx.tick()`, from the players' inputs for that tick
    /// (a player without one is absent; see [`Inputs`]).
    fn step(
        &mut self,
        world: &mut World,
        inputs: &Inputs<'_, InputOf<Self>>,
        ctx: &mut Ctx<'_, Self::Protocol>,
    );

    /// Writes the replicated state: by default every entity with a [`NetId`](crate::NetId) and
    /// any of the protocol's components.
    fn snapshot(&self, world: &World, out: &mut SnapshotBuilder<'_>) {
        <<Self::Protocol as GameProtocol>::Components as Extract>::extract(world, out);
    }

    /// The entities that lag-compensated queries can hit, as they are now. The room records
    /// them every tick for [`Ctx::lag`]. Default: none (no lag compensation).
    fn hit_shapes(_world: &World, _out: &mut Vec<HitShape>) {}

    /// Interest management ([`crate::interest`]): the grid through which each client sees the
    /// world, or `None` (the default): every client receives every entity.
    fn interest(_config: &Self::Config) -> Option<InterestGrid> {
        None
    }

    /// With interest on: where each replicated entity is, by network id (called once per
    /// published tick). An entity left out is [`Place::Global`]. Default: none (all global).
    fn places(&self, _world: &World, _out: &mut Vec<(EntityId, Place)>) {}

    /// With interest on: where `player` looks from. `own` is the place of the entity it
    /// controls, if [`places`](Self::places) gave one. Default: around that entity's point
    /// (a player without a point sees only the global entities).
    fn viewpoint(&self, _world: &World, _player: PlayerRef, own: Option<Place>) -> Viewpoint {
        match own {
            Some(Place::At(point)) => Viewpoint::At { point, team: None },
            Some(Place::Team(team)) => Viewpoint::Nowhere { team: Some(team) },
            Some(Place::Global) | None => Viewpoint::Nowhere { team: None },
        }
    }
}
