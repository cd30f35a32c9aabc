//! # tickwire-protocol
//!
//! Everything that crosses the wire between a Tickwire server and its clients, with no I/O: no
//! sockets, no clock, no async runtime. Bytes come in as `&[u8]` and leave as `Vec<u8>`, so the
//! server, the clients, the benches and the fuzzers all call the same code.
//!
//! - [`message`]: the two message enums, [`ClientMessage`] (client → server) and
//!   [`ServerMessage`] (server → client), and their bincode envelope in [`codec`], the only
//!   module that touches bincode. Decoding is bounded, rejects trailing bytes and non-finite
//!   floats, and returns a typed [`DecodeError`].
//! - [`schema`]: how a game declares its replicated components and the quantization of each
//!   field ([`Replicate`], [`ComponentDef`], [`FieldCodec`]), as a [`Schema`] the snapshot
//!   codec works from.
//! - [`game`]: a game's whole protocol: its components, its input (sent every tick), its events
//!   and its commands, declared in Rust ([`GameProtocol`], with the [`component!`],
//!   [`input!`] and [`messages!`] macros) or learnt from a description ([`game::Dynamic`]). The
//!   [`GameSchema`] hash goes into the handshake, and [`GameSchema::describe`] is the JSON
//!   (`/schema.json`) from which clients in other languages build every codec.
//! - [`snapshot`]: [`Snapshot`], the quantized replicated state of a room at one tick, and its
//!   bit-packed codec: full, or a delta against a baseline the client holds, with linear
//!   prediction so that entities moving in a straight line cost nothing.
//! - [`ids`]: [`Tick`] (wrapping), [`EntityId`], [`ClientId`].
//! - [`rtt`]: ping scheduling, pong matching and RTT smoothing, used by both ends.
//!
//! Message types, ids and schema declarations implement `serde::Serialize` (for JSON tooling and
//! the golden vectors); the wire format itself is the bincode envelope, never serde.
//!
//! The byte-level specification is `PROTOCOL.md` next to this crate; the golden vectors in
//! `protocol/vectors/golden.json` are checked by this crate's tests (`tests/golden.rs`) and by the
//! browser client's.

pub mod bits;
pub mod codec;
pub mod error;
pub mod game;
pub mod ids;
mod macros;
pub mod message;
pub mod rtt;
pub mod schema;
pub mod snapshot;

pub use codec::{CLIENT_MESSAGE_LIMIT, SERVER_MESSAGE_LIMIT};
pub use error::{DecodeError, SchemaError, SnapshotError};
pub use game::{GameProtocol, GameSchema, PayloadError, Protocol};
pub use ids::{ClientId, EntityId, Tick};
pub use message::{ClientMessage, ServerMessage};
pub use schema::{ComponentDef, FieldCodec, FieldDef, Replicate, Schema};
pub use snapshot::{Snapshot, SnapshotBuilder, SnapshotDecoder, SnapshotEncoder};

/// The protocol version carried in the hello: the version this crate speaks.
pub const PROTOCOL_VERSION: u16 = 5;

/// The oldest version a server built on this crate still serves (`PROTOCOL.md` §7): version 4
/// is version 5 without `ServerMessage::Chunks`, so a server sends a version-4 client its view
/// as ordinary snapshots. A peer outside `MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION` is refused.
pub const MIN_PROTOCOL_VERSION: u16 = 4;

/// The first version whose clients read interest views as chunks (`ServerMessage::Chunks`).
pub const CHUNKS_VERSION: u16 = 5;
