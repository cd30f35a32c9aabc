//! # tickwire-sim
//!
//! The generic machinery of a Tickwire room, sans IO: no sockets, no async runtime, no clock.
//! Time enters as ticks (and as a `now` argument to [`FixedClock`]), inputs as arguments, and
//! state leaves as protocol [`Snapshot`](tickwire_protocol::Snapshot)s and events. A game
//! implements [`Game`]; the server, the benches, the tests and the tools drive it through a
//! [`Simulation`].
//!
//! - [`game`]: the [`Game`] trait (create, join, detach, resume, leave, command, step,
//!   snapshot, hit shapes) and what its hooks receive.
//! - [`ctx`]: [`Ctx`], each hook's context: the tick, the room's seeded random generator,
//!   network ids, events with their [`Audience`], lag-compensated raycasts.
//! - [`simulation`]: [`Simulation`], one room's world and game, stepped tick by tick.
//! - [`replicate`]: [`NetId`] and the extraction of a snapshot from the world through the
//!   protocol's components.
//! - [`input`]: the server's per-client [`InputBuffer`] (early, late, duplicate and missing
//!   inputs) and [`PlayerInput`], what a step sees.
//! - [`interest`]: interest management: the grid, places and viewpoints a game declares, and
//!   one filtered snapshot per distinct view ([`Interest`]).
//! - [`lagcomp`] and [`history`]: lag compensation as a service: a bounded history of hit
//!   shapes and rewound raycasts.
//! - [`golden`]: [`check_vectors`], a game's golden payload vectors kept in a committed file.
//! - [`playtest`]: [`Playtest`], a game played headless with players, as the server would host
//!   it: for a game's tests and tools.
//! - [`predict`]: [`Predict`], what a client needs to predict its own entity with the game's
//!   step; [`parity`]: golden `(state, input) → state'` vectors of that step, for its ports to
//!   other languages.
//! - [`clock`]: [`FixedClock`], wall time (passed in) to a number of ticks, with a catch-up cap.
//!
//! Games live in their own crates and use only this crate's and the protocol crate's public
//! API: the built-in arena is `tickwire-arena` (`games/arena/`).

pub mod clock;
pub mod ctx;
pub mod game;
pub mod golden;
pub mod history;
pub mod input;
pub mod interest;
pub mod lagcomp;
pub mod parity;
pub mod playtest;
pub mod predict;
pub mod replicate;
pub mod simulation;

// The libraries whose types are in the API (`World` and `Entity` in every hook, the `Pcg32`
// behind `Ctx::rng`, `Vec2` in shapes and rays, the JSON of `Predict::state_json`): a game can
// use these to match the versions.
pub use {glam, hecs, rand, rand_pcg, serde_json};

pub use clock::FixedClock;
pub use ctx::{Audience, Ctx, Emitted};
pub use game::{CommandOf, Game, InputOf, JoinRefusal, JoinRequest, LeaveReason, PlayerRef};
pub use golden::{GoldenError, check_vectors};
pub use input::{InputBuffer, Inputs, PlayerInput, PushOutcome, TakenInput};
pub use interest::{
    EventPlace, Interest, InterestGrid, Place, View, ViewKey, Viewer, Viewpoint, Views,
};
pub use lagcomp::{HitShape, LagCompensation, Ray, RayHit, Rewind, Shape};
pub use playtest::Playtest;
pub use predict::Predict;
pub use replicate::{Extract, NetId, NetIds};
pub use simulation::{EventOf, HostSettings, Joined, MAX_REWIND_MS, Simulation};

/// What the crate's macros name (not part of the API).
#[doc(hidden)]
pub mod __private {
    pub use serde_json;
    pub use tickwire_protocol::Schema;
    pub use tickwire_protocol::game::Protocol;
    pub use tickwire_protocol::snapshot::EntityRef;
}
