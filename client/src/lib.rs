//! # tickwire-client
//!
//! A headless Tickwire client for any game: what the Bevy client, the load-testing bots and the
//! end-to-end tests connect with. It is generic over the game's protocol `P`
//! ([`Predict`](tickwire_sim::Predict)): a game crate's marker type (`ArenaProtocol`) gives typed
//! inputs, events, commands and prediction; [`Dynamic`](tickwire_protocol::game::Dynamic)
//! plays a game known only from its `/schema.json` (no prediction). It has two layers.
//!
//! **The sans-IO core**, [`ClientState`]: no sockets, no clock, no runtime. Bytes go in through
//! [`ClientState::handle_bytes`], messages to send come out of
//! [`ClientState::poll_transmit`], and time is a `now: Duration` argument. It holds:
//! - the snapshot history, newest first as delta baseline, and interpolation of remote
//!   entities between two snapshots at a render time behind the newest ([`interp`]);
//! - clock synchronisation, the server's tick as seen from this client's clock ([`clock`]);
//! - prediction and reconciliation of the controlled entity with the game's own step
//!   ([`predict`]);
//! - RTT from its own pings ([`rtt`]), counters and latency samples ([`stats`]), typed errors
//!   and end reasons ([`error`]);
//! - a link conditioner to simulate latency and jitter ([`link`]);
//! - and, opt-in, the client forensics log: per tick, the input sent, the predicted and the
//!   server's state, as JSON lines ([`forensics`], [`ClientConfig::forensics`]).
//!
//! **The async driver** on tokio: [`connect`] (or [`connect_with`] and an [`InputSource`])
//! performs the WebSocket handshake ([`ws`], fastwebsockets on hyper 1; over rustls for
//! `wss://` URLs, trusting what [`TlsOptions`] says, see [`tls`]) and the hello, then one task
//! reads frames and another ([`driver`]) feeds the core, sends one input per tick and answers
//! pings. The [`Client`] owns the session; a [`ClientHandle`] is a cheap cloneable view
//! of the state; game events arrive on a bounded channel ([`Client::next_event`]).
//!
//! **Reconnection** ([`reconnect`], [`supervisor`]): when the connection drops (lost, silent,
//! or too slow for the server), the client reconnects by itself with exponential backoff and
//! jitter and resumes the session with the ticket of its last welcome (same player, same
//! entity, PROTOCOL.md §1.3); the owner sees [`ClientEvent::Reconnecting`], then
//! [`ClientEvent::Resumed`] (or [`ClientEvent::Rejoined`] when the server no longer held the
//! player), and [`EndReason::GaveUp`] after [`ReconnectPolicy::max_attempts`] failures.
//! [`ClientHandle::connection`] tells the UI where it stands.
//! [`connect`] must be called inside a tokio runtime (it spawns the two tasks there); a game
//! loop that is not async keeps one runtime in the background and only ever locks the state
//! ([`ClientHandle::with_state`]) and sets the input ([`ClientHandle::set_input`]).
//!
//! ```no_run
//! use glam::Vec2;
//! use tickwire_arena::{ArenaInput, ArenaProtocol, BODY, Body};
//! use tickwire_client::{ClientConfig, connect};
//!
//! # async fn demo() -> Result<(), tickwire_client::ClientError> {
//! let config = ClientConfig::<ArenaProtocol>::new("ws://127.0.0.1:7777/ws", "lobby", "ada");
//! let client = connect(config).await?;
//! client.set_input(ArenaInput::toward(Vec2::X));
//! // Each frame: draw remote entities interpolated, the local player predicted.
//! let now = client.now();
//! client.with_state(|state| {
//!     if let Some(bracket) = state.bracket(now) {
//!         for entity in bracket.iter() {
//!             let _ = (entity.id(), entity.get::<Body>(BODY).map(|b| b.pos()));
//!         }
//!     }
//!     let _me = state.predicted().map(|s| s.pos);
//! });
//! let reason = client.close().await;
//! println!("session ended: {reason}");
//! # Ok(()) }
//! ```

pub mod client;
pub mod clock;
pub mod config;
pub mod driver;
pub mod error;
pub mod forensics;
pub mod http;
pub mod input;
pub mod interp;
pub mod late;
pub mod link;
pub mod predict;
pub mod reconnect;
pub mod rtt;
pub mod state;
pub mod stats;
pub mod supervisor;
pub mod tls;
pub mod ws;

pub use client::{
    Client, ClientEvent, ClientHandle, Connection, Outage, connect, connect_boxed, connect_with,
};
pub use config::ClientConfig;
pub use error::{ClientError, EndReason, ProtocolError};
pub use forensics::ForensicsTarget;
pub use input::{InputContext, InputSource};
pub use interp::{Bracket, Interpolated};
pub use link::LinkConfig;
pub use reconnect::{Backoff, ReconnectPolicy};
pub use state::{ClientState, Event, PlayerInfo, TimedEvent, Tuning};
pub use stats::{ClientStats, Samples};
pub use tls::TlsOptions;
