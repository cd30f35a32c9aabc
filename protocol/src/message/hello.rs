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
    /// The game to play: 1..=32 characters of `[A-Za-z0-9_]` (a room hosts one game).
    pub game: String,
    /// [`GameSchema::hash`](crate::game::GameSchema::hash) of the client's game: its components,
    /// input, events and commands.
    pub schema_hash: u64,
    /// Room to join: 1..=32 bytes of `[A-Za-z0-9_-]`.
    pub room: String,
    /// Display name: 1..=24 bytes of UTF-8 with no control characters.
    pub name: String,
    /// Optional auth token (at most 512 bytes).
    pub token: Option<String>,
    /// Set when coming back after a dropped connection: the session to take over.
    pub resume: Option<ResumeTicket>,
}

/// Length of a resume secret, in bytes.
pub const RESUME_SECRET_LEN: usize = 16;

/// What a client presents to take its session back after a dropped connection.
///
/// The server hands one out in every [`Welcome`] and replaces it with a fresh one on each
/// resume, so a ticket works once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ResumeTicket {
    /// The session's id, from the last welcome.
    pub client_id: ClientId,
    /// The secret from the last welcome.
    pub secret: [u8; RESUME_SECRET_LEN],
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
    /// Whether this welcome resumed an earlier session (same client id, same entity, same
    /// score and health) rather than starting a new one.
    pub resumed: bool,
    /// Secret for a later [`ResumeTicket`] (random, single use).
    pub resume_secret: [u8; RESUME_SECRET_LEN],
    /// How long the server keeps the player after the connection drops, in milliseconds
    /// (0: sessions cannot be resumed).
    pub resume_grace_ms: u32,
}

impl ResumeTicket {
    /// The ticket as the `resume` query parameter of the upgrade request (PROTOCOL.md §1):
    /// `<client_id>.<secret as 32 lowercase hex digits>`.
    pub fn to_query(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("{}.", self.client_id.0);
        for b in self.secret {
            let _ = write!(out, "{b:02x}");
        }
        out
    }

    /// Parses [`to_query`](Self::to_query)'s form; `None` for anything else.
    pub fn from_query(value: &str) -> Option<Self> {
        let (id, hex) = value.split_once('.')?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let client_id = ClientId(id.parse().ok()?);
        if hex.len() != 2 * RESUME_SECRET_LEN
            || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let mut secret = [0u8; RESUME_SECRET_LEN];
        for (i, byte) in secret.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self { client_id, secret })
    }
}

/// Why a hello was refused. The server closes the connection after sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum RejectReason {
    /// The client speaks another protocol version; `server` is the server's.
    VersionMismatch {
        /// The server's protocol version.
        server: u16,
    },
    /// The client's game schema differs from the server's game of that name; `server` is the
    /// server's hash.
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
    /// The session named in `Hello.resume` is unknown, expired, in another room, or the secret
    /// is wrong. The client may join afresh.
    ResumeFailed,
    /// The server does not host the game the hello names.
    UnknownGame,
    /// The room exists and hosts another game.
    GameMismatch,
    /// The game refused the player; `code` is the game's own reason (its documentation says
    /// what each code means).
    JoinRefused {
        /// The game's reason.
        code: u16,
    },
    /// The room is open on another server of the fleet: ask the fleet's directory where
    /// (a client that was sent here by the directory may ask again).
    RoomElsewhere,
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
            Self::ResumeFailed => f.write_str("the session to resume is unknown or expired"),
            Self::UnknownGame => f.write_str("the server does not host this game"),
            Self::GameMismatch => f.write_str("the room hosts another game"),
            Self::JoinRefused { code } => write!(f, "the game refused the player (code {code})"),
            Self::RoomElsewhere => f.write_str("the room is open on another server of the fleet"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_query_round_trips_and_refuses_junk() {
        let secret = std::array::from_fn(|i| i as u8 * 17);
        let ticket = ResumeTicket { client_id: ClientId(42), secret };
        let q = ticket.to_query();
        assert_eq!(q, "42.00112233445566778899aabbccddeeff");
        assert_eq!(ResumeTicket::from_query(&q), Some(ticket));
        for bad in [
            "",
            "42",
            "42.",
            ".00112233445566778899aabbccddeeff",
            "+42.00112233445566778899aabbccddeeff",
            "x.00112233445566778899aabbccddeeff",
            "42.0011",
            "42.zz112233445566778899aabbccddeeff",
            "42.00112233445566778899AABBCCDDEEFF",
            "42.00112233445566778899aabbccddeeff00",
            "99999999999.00112233445566778899aabbccddeeff",
        ] {
            assert_eq!(ResumeTicket::from_query(bad), None, "{bad:?}");
        }
    }
}
