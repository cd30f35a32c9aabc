//! [`Ctx`]: what a game's hooks get besides the world: the tick, the room's random generator,
//! network ids for new entities, events to send, and lag compensation.

use hecs::World;
use rand_pcg::Pcg32;
use tickwire_protocol::game::Protocol;
use tickwire_protocol::{ClientId, Tick};

use crate::interest::EventPlace;
use crate::lagcomp::{LagCompensation, Ray, RayHit};
use crate::replicate::{NetId, NetIds};

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every player in the room.
    All,
    /// One player.
    Only(ClientId),
    /// Every player but one (the one who caused it and already predicted it, say).
    AllBut(ClientId),
}

impl Audience {
    /// Whether `player` receives an event with this audience.
    pub fn includes(self, player: ClientId) -> bool {
        match self {
            Audience::All => true,
            Audience::Only(p) => p == player,
            Audience::AllBut(p) => p != player,
        }
    }
}

/// An event a game emitted, with its audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted<E> {
    /// Who receives it.
    pub audience: Audience,
    /// Where it happened, when it is tied to a place or an entity: with interest management
    /// on, only the clients whose view covers it receive it ([`crate::interest`]).
    pub place: Option<EventPlace>,
    /// What happened.
    pub event: E,
}

/// The context of one hook call (see the module docs).
pub struct Ctx<'a, P: Protocol> {
    pub(crate) tick: Tick,
    pub(crate) tick_rate: u16,
    pub(crate) rng: &'a mut Pcg32,
    pub(crate) ids: &'a mut NetIds,
    pub(crate) events: &'a mut Vec<Emitted<P::Event>>,
    pub(crate) lag: &'a mut LagCompensation,
}

impl<P: Protocol> std::fmt::Debug for Ctx<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("tick", &self.tick).finish_non_exhaustive()
    }
}

impl<P: Protocol> Ctx<'_, P> {
    /// In [`step`](crate::Game::step): the tick being produced. In the other hooks: the
    /// current tick (the last one produced).
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// Ticks per second.
    pub fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    /// Length of a tick in seconds.
    pub fn tick_seconds(&self) -> f32 {
        1.0 / f32::from(self.tick_rate.max(1))
    }

    /// Whole ticks covering `ms` milliseconds, rounded up.
    pub fn ticks_for_ms(&self, ms: u32) -> u32 {
        let ticks = (u64::from(ms) * u64::from(self.tick_rate)).div_ceil(1000);
        u32::try_from(ticks).unwrap_or(u32::MAX)
    }

    /// The room's random generator, seeded from the server's seed: the only randomness a
    /// deterministic game may use (besides its own generators seeded from the seed).
    pub fn rng(&mut self) -> &mut Pcg32 {
        self.rng
    }

    /// A network id for a new replicated entity: spawn it with this component. Ids are never
    /// reused within a room.
    pub fn new_id(&mut self) -> NetId {
        self.ids.allocate()
    }

    /// Tells every player about `event`.
    pub fn emit(&mut self, event: P::Event) {
        self.emit_to(Audience::All, event);
    }

    /// Tells `audience` about `event`.
    pub fn emit_to(&mut self, audience: Audience, event: P::Event) {
        self.events.push(Emitted { audience, place: None, event });
    }

    /// Tells the players who can see `place` about `event` (everyone, when the game has no
    /// interest management): a shot, an explosion, a hit on an entity ([`crate::interest`]).
    pub fn emit_at(&mut self, place: EventPlace, event: P::Event) {
        self.events.push(Emitted { audience: Audience::All, place: Some(place), event });
    }

    /// Lag compensation: what a ray hits at the view time the server honoured for `shooter`'s
    /// input this tick (see [`LagCompensation::raycast`]).
    pub fn raycast(
        &mut self,
        world: &World,
        shooter: ClientId,
        ray: Ray,
        hittable: impl Fn(tickwire_protocol::EntityId) -> bool,
    ) -> RayHit {
        self.lag.raycast(world, shooter, ray, hittable)
    }

    /// The lag-compensation service itself (its history and settings).
    pub fn lag(&self) -> &LagCompensation {
        self.lag
    }
}
