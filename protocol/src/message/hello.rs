//! The handshake: [`Hello`] from the client, then [`Welcome`] or a [`RejectReason`] from the server.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::{ClientId, EntityId, Tick};

/// Longest room name, in bytes.
pub const MAX_ROOM_LEN: usize = 32;
/// Longest player name, in bytes.
pub const MAX_NAME_LEN: usize = 24;
/// Longest auth token, in bytes.
pub const MAX_TOKEN_LEN: usize = 512;

/// First message of every session, client → server.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Hello {
    /// [`crate::PROTOCOL_VERSION`] of the client.
    pub protocol_version: u16,
    /// [`crate::Schema::hash`] of the client's replicated schema.
    pub schema_hash: u64,
    /// Room to join: 1..=32 bytes of `[A-Za-z0-9_-]`.
    pub room: String,
    /// Display name: 1..=24 bytes of UTF-8 with no control characters.
    pub name: String,
    /// Optional auth token (at most 512 bytes).
    pub token: Option<String>,
}

/// The server accepted the hello.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Welcome {
    /// This session's id.
    pub client_id: ClientId,
    /// The entity this client controls.
    pub entity: EntityId,
    /// Simulation ticks per second.
    pub tick_rate: u16,
    /// The server's tick when the welcome was sent.
    pub server_tick: Tick,
    /// The room joined.
    pub room: String,
    /// Longest rewind the server applies for lag compensation, in milliseconds.
    pub max_rewind_ms: u16,
}

/// Why a hello was refused. The server closes the connection after sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum RejectReason {
    /// The client speaks another protocol version; `server` is the server's.
    VersionMismatch {
        /// The server's protocol version.
        server: u16,
    },
    /// The client's replicated schema differs; `server` is the server's schema hash.
    SchemaMismatch {
        /// The server's schema hash.
        server: u64,
    },
    /// The room has reached its player limit.
    RoomFull,
    /// The room does not exist and no more rooms may be created.
    TooManyRooms,
    /// The room name is empty, too long or has characters outside `[A-Za-z0-9_-]`.
    BadRoomName,
    /// The player name is empty, too long or has control characters.
    BadName,
    /// The auth token is missing, invalid or expired.
    Unauthorized,
    /// The server is shutting down.
    ShuttingDown,
    /// The first message was not a hello.
    HelloExpected,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::VersionMismatch { server } => {
                write!(f, "protocol version mismatch (server speaks {server})")
            }
            Self::SchemaMismatch { server } => {
                write!(f, "schema mismatch (server schema {server:016x})")
            }
            Self::RoomFull => f.write_str("room is full"),
            Self::TooManyRooms => f.write_str("too many rooms"),
            Self::BadRoomName => f.write_str("invalid room name"),
            Self::BadName => f.write_str("invalid player name"),
            Self::Unauthorized => f.write_str("unauthorized"),
            Self::ShuttingDown => f.write_str("server is shutting down"),
            Self::HelloExpected => f.write_str("first message must be a hello"),
        }
    }
}

/// Whether `room` is a valid room name.
pub fn valid_room(room: &str) -> bool {
    (1..=MAX_ROOM_LEN).contains(&room.len())
        && room.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `name` is a valid player name.
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len()) && !name.chars().any(char::is_control)
}
