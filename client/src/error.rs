//! Typed errors: [`ClientError`] (what went wrong while connecting or playing),
//! [`ProtocolError`] (the server sent something this client cannot accept) and [`EndReason`]
//! (why a session ended, with a stable label for logs and bot reports).

use thiserror::Error;
use tickwire_protocol::message::{DisconnectReason, RejectReason};
use tickwire_protocol::{DecodeError, PayloadError, SnapshotError};

/// The server sent something this client cannot accept. Every protocol error ends the session:
/// a snapshot that cannot be decoded leaves no baseline for the next delta.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// A message envelope that does not decode or validate.
    #[error("undecodable message: {0}")]
    Message(#[from] DecodeError),
    /// A snapshot payload that does not decode (including a delta against a baseline this
    /// client does not hold).
    #[error("undecodable snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
    /// A game event whose payload the game's schema refuses (an unknown kind, a value out of
    /// range...): the server plays another version of the game.
    #[error("undecodable game event: {0}")]
    Event(#[from] PayloadError),
    /// A message that is not allowed at this point of the session (a snapshot before the
    /// welcome, a second welcome, a text frame...).
    #[error("unexpected {message} while {phase}")]
    Unexpected {
        /// What arrived.
        message: &'static str,
        /// The session phase it arrived in.
        phase: &'static str,
    },
}

impl ProtocolError {
    /// A stable snake_case label: `message_<kind>`, `snapshot_<kind>` or `unexpected_message`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Message(e) => match e.kind() {
                "too_large" => "message_too_large",
                "malformed" => "message_malformed",
                "trailing_bytes" => "message_trailing_bytes",
                _ => "message_invalid",
            },
            Self::Snapshot(SnapshotError::BaselineMismatch { .. }) => "snapshot_baseline_mismatch",
            Self::Snapshot(_) => "snapshot_undecodable",
            Self::Event(_) => "event_undecodable",
            Self::Unexpected { .. } => "unexpected_message",
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EndReason {
    /// The server said why (`ServerMessage::Disconnect`) and closed.
    #[error("disconnected by the server: {0}")]
    Server(DisconnectReason),
    /// The server refused the hello.
    #[error("rejected: {0}")]
    Rejected(RejectReason),
    /// This client received something it cannot accept and left.
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// The connection closed without a `Disconnect` message.
    #[error("connection closed by the server without a reason")]
    Closed,
    /// The connection failed (I/O error, reset, EOF in the middle of a frame).
    #[error("connection lost")]
    ConnectionLost,
    /// Nothing arrived from the server for too long.
    #[error("server silent for too long")]
    Timeout,
    /// This client chose to leave.
    #[error("left")]
    Left,
    /// The connection dropped and every reconnection attempt failed.
    #[error("gave up reconnecting after {attempts} attempts: {last_error}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// What the last attempt failed with.
        last_error: String,
    },
}

impl EndReason {
    /// A stable snake_case label (metrics, logs, bot reports). Server reasons keep the
    /// protocol's labels (`server_shutdown`, `too_slow`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Server(r) => r.label(),
            Self::Rejected(r) => reject_label(*r),
            Self::Protocol(e) => e.label(),
            Self::Closed => "closed",
            Self::ConnectionLost => "connection_lost",
            Self::Timeout => "client_timeout",
            Self::Left => "left",
            Self::GaveUp { .. } => "reconnect_failed",
        }
    }
}

/// What can go wrong with a [`Client`](crate::Client).
#[derive(Debug, Error)]
pub enum ClientError {
    /// The URL is not `ws://` or `wss://host[:port]/path`.
    #[error("invalid url `{url}`: {why}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The hello would be refused by any server (bad room or name, token too long).
    #[error("invalid hello: {0}")]
    InvalidHello(DecodeError),
    /// The token cannot be sent in an HTTP header (it must be visible ASCII).
    #[error("the token is not a valid HTTP header value")]
    InvalidToken,
    /// The TLS handshake of a `wss://` URL failed: most often
    /// `InvalidCertificate(UnknownIssuer)`, a server certificate signed by no trusted CA (see
    /// [`TlsOptions`](crate::TlsOptions)).
    #[error("tls: {0}")]
    Tls(rustls::Error),
    /// A CA certificate given to trust is not usable (malformed PEM, no certificate, bad DER).
    #[error("CA certificate: {0}")]
    CaCertificate(String),
    /// TCP connect or socket I/O failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket upgrade failed (HTTP status other than 101, bad headers) or a frame could
    /// not be read or written.
    #[error("websocket: {0}")]
    WebSocket(#[from] fastwebsockets::WebSocketError),
    /// A step of the connection did not finish in time.
    #[error("timed out while {0}")]
    Timeout(&'static str),
    /// The server refused the hello.
    #[error("rejected by the server: {0}")]
    Rejected(RejectReason),
    /// The server sent something this client cannot accept.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The session ended (before the welcome, or while an operation needed it open).
    #[error("session ended: {0}")]
    Ended(EndReason),
    /// Chat lines are limited to one per second, 1..=200 bytes without control characters.
    #[error("chat refused: {0}")]
    Chat(&'static str),
    /// A game command cannot be sent (the session is not open, or the game declares no such
    /// command).
    #[error("command refused: {0}")]
    Command(&'static str),
    /// An HTTP request to the server (its `/rules.json`...) was answered with another status
    /// than 2xx.
    #[error("`{url}` answered HTTP {status}")]
    Http {
        /// The URL requested.
        url: String,
        /// The status it answered.
        status: u16,
    },
    /// The server's `/rules.json` does not hold rules this client's game can read (another
    /// version of the game, or not a Tickwire server).
    #[error("the rules at `{url}` do not fit this game: {why}")]
    Rules {
        /// The URL read.
        url: String,
        /// What does not fit.
        why: String,
    },
    /// The forensics log ([`ClientConfig::forensics`](crate::ClientConfig::forensics)) cannot
    /// be created.
    #[error("cannot create the forensics log `{path}`: {source}")]
    Forensics {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl ClientError {
    /// A stable snake_case label (bot reports).
    pub fn label(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "invalid_url",
            Self::InvalidHello(_) => "invalid_hello",
            Self::InvalidToken => "invalid_token",
            Self::Tls(rustls::Error::InvalidCertificate(_)) => "tls_invalid_certificate",
            Self::Tls(_) => "tls",
            Self::CaCertificate(_) => "ca_certificate",
            Self::Io(_) => "io",
            Self::WebSocket(fastwebsockets::WebSocketError::InvalidStatusCode(status)) => {
                match status {
                    401 => "http_unauthorized",
                    403 => "http_forbidden",
                    429 => "http_too_many_connections",
                    503 => "http_unavailable",
                    _ => "http_status",
                }
            }
            Self::WebSocket(_) => "websocket",
            Self::Timeout(_) => "timeout",
            Self::Rejected(r) => reject_label(*r),
            Self::Protocol(e) => e.label(),
            Self::Ended(r) => r.label(),
            Self::Chat(_) => "chat",
            Self::Command(_) => "command",
            Self::Http { .. } => "http_status",
            Self::Rules { .. } => "rules",
            Self::Forensics { .. } => "forensics_log",
        }
    }
}

/// A stable snake_case label of a reject reason, prefixed `rejected_`.
pub fn reject_label(r: RejectReason) -> &'static str {
    match r {
        RejectReason::VersionMismatch { .. } => "rejected_version_mismatch",
        RejectReason::SchemaMismatch { .. } => "rejected_schema_mismatch",
        RejectReason::RoomFull => "rejected_room_full",
        RejectReason::TooManyRooms => "rejected_too_many_rooms",
        RejectReason::BadRoomName => "rejected_bad_room_name",
        RejectReason::BadName => "rejected_bad_name",
        RejectReason::Unauthorized => "rejected_unauthorized",
        RejectReason::ShuttingDown => "rejected_shutting_down",
        RejectReason::HelloExpected => "rejected_hello_expected",
        RejectReason::ResumeFailed => "rejected_resume_failed",
        RejectReason::UnknownGame => "rejected_unknown_game",
        RejectReason::GameMismatch => "rejected_game_mismatch",
        RejectReason::JoinRefused { .. } => "rejected_join_refused",
        RejectReason::RoomElsewhere => "rejected_room_elsewhere",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::Tick;

    #[test]
    fn labels_are_stable() {
        assert_eq!(EndReason::Server(DisconnectReason::ServerShutdown).label(), "server_shutdown");
        let e = ProtocolError::Snapshot(SnapshotError::BaselineMismatch {
            tick: Tick(5),
            expected: Tick(4),
            actual: None,
        });
        assert_eq!(EndReason::Protocol(e).label(), "snapshot_baseline_mismatch");
        let err = ClientError::Rejected(RejectReason::SchemaMismatch { server: 1 });
        assert_eq!(err.label(), "rejected_schema_mismatch");
    }
}
