//! # tickwire-sim
//!
//! Tickwire's authoritative simulation, sans IO: no sockets, no async runtime, no clock. Time
//! enters as ticks (and as a `now` argument to [`FixedClock`]), inputs as
//! [`InputFrame`](tickwire_protocol::message::InputFrame)s, and state leaves as protocol
//! [`Snapshot`](tickwire_protocol::Snapshot)s and
//! [`GameEvent`](tickwire_protocol::message::GameEvent)s. The same seed and the same inputs give
//! the same world, tick for tick, so the server, the bots, the benches and the tests all drive
//! it directly.
//!
//! - [`arena`]: the reference game, a 2D arena shooter with an NPC load, on a `hecs::World`:
//!   [`Arena`] (step, snapshot, players), its [`ArenaConfig`] and the replicated [`schema`]. Its
//!   module docs give the order of work inside one step and the replication-grid rules.
//! - [`movement`]: [`move_player`](movement::move_player), the exact movement function the
//!   server runs, for client-side prediction.
//! - [`input`]: [`InputBuffer`], per-client input frames keyed by tick (early, late, duplicate
//!   and missing-input policies).
//! - [`clock`]: [`FixedClock`], wall time (passed in) to a number of ticks, with a catch-up cap.
//! - [`history`]: [`LagHistory`](history::LagHistory), a bounded ring of per-tick hit state.
//! - [`lagcomp`]: rewinding to a view time and judging a hitscan shot.
//!
//! ## How a server drives it
//!
//! ```
//! use std::time::Duration;
//! use tickwire_protocol::message::InputFrame;
//! use tickwire_sim::{Arena, ArenaConfig, FixedClock, InputBuffer, PlayerCommand};
//!
//! let mut config = ArenaConfig::default();
//! config.npcs.count = 100;
//! let mut arena = Arena::new(config)?;
//! let me = arena.add_player("ada");
//! let mut inputs = InputBuffer::new(tickwire_sim::input::DEFAULT_CAPACITY);
//! let mut clock = FixedClock::new(arena.config().tick_rate, 4);
//!
//! // A session received an input for the next tick (the one the next step produces).
//! let frame = InputFrame { tick: arena.tick().next(), move_x: 127, ..InputFrame::default() };
//! inputs.push(frame, arena.tick().next());
//!
//! // The room's loop: drain inputs → step → (history is recorded inside) → snapshot → send.
//! let mut snapshot = Default::default();
//! for _ in 0..clock.advance(Duration::from_millis(0)) {
//!     let commands: Vec<PlayerCommand> = inputs
//!         .take(arena.tick().next())
//!         // The server decides which view time to honour; here, the client's claim.
//!         .map(|input| PlayerCommand { entity: me, input, view: Some(input.view) })
//!         .into_iter()
//!         .collect();
//!     let output = arena.step(&commands);
//!     assert!(output.events.is_empty());
//!     snapshot = arena.snapshot(snapshot);
//! }
//! assert_eq!(snapshot.tick(), arena.tick());
//! assert_eq!(snapshot.len(), 101);
//! assert_eq!(inputs.last_consumed(), Some(arena.tick()), "snapshot 1 includes input 1");
//! assert!(arena.player(me).is_some_and(|p| p.velocity.x > 0.0));
//! # Ok::<(), tickwire_sim::ConfigError>(())
//! ```

pub mod arena;
pub mod clock;
pub mod history;
pub mod input;
pub mod lagcomp;
pub mod movement;

pub use arena::{
    Arena, ArenaConfig, ArenaRules, ConfigError, NpcConfig, PlayerCommand, PlayerView, Rewind,
    StepOutput, Wall, schema,
};
pub use clock::FixedClock;
pub use input::{InputBuffer, PushOutcome};
