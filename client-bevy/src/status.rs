//! What the plugin tells the game about the connection: the [`ConnectionState`] and
//! [`NetStatus`] resources, updated every frame, and the [`Connected`], [`Disconnected`] and
//! [`ServerEvent`] messages.

use std::fmt;
use std::time::Duration;

use bevy::prelude::*;
use tickwire_client::{ClientError, ClientState, ClientStats, EndReason, Outage, TimedEvent};
use tickwire_protocol::message::RejectReason;

use tickwire_protocol::{ClientId, EntityId, Tick};
use tickwire_sim::Predict;

/// Where the connection is.
#[derive(Resource, Debug, Clone, PartialEq, Default)]
pub enum ConnectionState {
    /// Not asked to connect yet.
    #[default]
    Idle,
    /// TCP connect, WebSocket upgrade and hello, until the welcome.
    Connecting,
    /// The session is open.
    Connected,
    /// The connection dropped; the client is getting the session back (which attempt, of how
    /// many, and why). The world keeps showing the last snapshots meanwhile.
    Reconnecting(Outage),
    /// The attempt failed or the session ended; the reason says why.
    Disconnected(SessionEnd),
}

impl ConnectionState {
    /// Whether the session is open.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected)
    }

    /// Why the session ended, once it has.
    pub fn end(&self) -> Option<&SessionEnd> {
        match self {
            Self::Disconnected(end) => Some(end),
            _ => None,
        }
    }
}

/// Why there is no session (any more).
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEnd {
    /// The server refused the hello.
    Rejected(RejectReason),
    /// Connecting failed before any welcome (bad URL, refused, timed out, upgrade refused...).
    ConnectFailed {
        /// A stable snake_case label ([`ClientError::label`]).
        label: &'static str,
        /// The error, for people.
        message: String,
    },
    /// An open session ended: the server said why, the connection was lost, the server went
    /// silent, a protocol error, or this client left.
    Ended(EndReason),
}

impl SessionEnd {
    /// A stable snake_case label (`rejected_room_full`, `server_shutdown`, `io`...).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Rejected(r) => tickwire_client::error::reject_label(*r),
            Self::ConnectFailed { label, .. } => label,
            Self::Ended(reason) => reason.label(),
        }
    }

    pub(crate) fn from_error(e: &ClientError) -> Self {
        match e {
            ClientError::Rejected(r) => Self::Rejected(*r),
            ClientError::Ended(EndReason::Rejected(r)) => Self::Rejected(*r),
            other => Self::ConnectFailed { label: other.label(), message: other.to_string() },
        }
    }
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(r) => write!(f, "rejected by the server: {r}"),
            Self::ConnectFailed { message, .. } => write!(f, "could not connect: {message}"),
            Self::Ended(reason) => write!(f, "{reason}"),
        }
    }
}

/// Numbers about the session, refreshed every frame while there is one (kept as they were
/// after it ends).
#[derive(Resource, Debug, Clone, PartialEq, Default)]
pub struct NetStatus {
    /// This session's client id (from the welcome).
    pub client_id: Option<ClientId>,
    /// The entity this client controls.
    pub entity: Option<EntityId>,
    /// The room joined.
    pub room: String,
    /// Server ticks per second.
    pub tick_rate: u16,
    /// Smoothed round-trip time of our own pings.
    pub rtt: Option<Duration>,
    /// The server's measurement of our round-trip time, as last reported.
    pub server_rtt: Option<Duration>,
    /// The server's current tick, estimated from the clock sync.
    pub server_tick: Option<Tick>,
    /// The newest snapshot received.
    pub snapshot_tick: Option<Tick>,
    /// Snapshot arrival jitter, in ticks.
    pub jitter_ticks: f64,
    /// The local player's predicted position (after every input sent), unsmoothed, from its
    /// [positioned](crate::TickwirePlugin::position) component; `None` when the game does not
    /// predict it.
    pub predicted: Option<Vec2>,
    /// The local player's position in the newest snapshot (when predicted).
    pub server_position: Option<Vec2>,
    /// Inputs sent and not yet covered by a snapshot.
    pub pending_inputs: usize,
    /// The client library's counters.
    pub stats: ClientStats,
}

impl NetStatus {
    /// Copies the session's numbers from the client library's state.
    pub(crate) fn refresh<P: Predict>(&mut self, s: &ClientState<P>, now: Duration) {
        self.rtt = s.rtt();
        self.server_rtt = s.server_rtt().map(|r| Duration::from_micros(r.rtt_us.into()));
        self.server_tick = s.server_tick(now).map(|(t, _)| t);
        self.snapshot_tick = s.latest_snapshot().map(|snap| snap.tick());
        self.jitter_ticks = s.clock().map_or(0.0, |c| c.jitter_ticks());
        self.pending_inputs = s.pending_inputs();
        self.stats = s.stats();
    }
}

/// The session opened (the welcome arrived).
#[derive(Message, Debug, Clone, PartialEq)]
pub struct Connected {
    /// This session's client id.
    pub client_id: ClientId,
    /// The entity this client controls.
    pub entity: EntityId,
    /// Server ticks per second.
    pub tick_rate: u16,
    /// The room joined.
    pub room: String,
}

/// The connection attempt failed, or the session ended.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct Disconnected(pub SessionEnd);

/// An event from the server, in order: a join, a leave, a chat line, or one of the game's own
/// events (`E` is the game's event type), with the tick it happened on.
#[derive(Message, Debug, Clone, PartialEq, Deref)]
pub struct ServerEvent<E: Send + Sync + 'static>(pub TimedEvent<E>);

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::message::DisconnectReason;

    #[test]
    fn labels_and_messages_say_why() {
        let e = SessionEnd::from_error(&ClientError::Rejected(RejectReason::RoomFull));
        assert_eq!(e, SessionEnd::Rejected(RejectReason::RoomFull));
        assert_eq!(e.label(), "rejected_room_full");
        let e = SessionEnd::from_error(&ClientError::Timeout("connecting"));
        assert_eq!(e.label(), "timeout");
        assert!(e.to_string().contains("connecting"), "{e}");
        let e = SessionEnd::Ended(EndReason::Server(DisconnectReason::ServerShutdown));
        assert_eq!(e.label(), "server_shutdown");
        assert!(ConnectionState::Disconnected(e.clone()).end() == Some(&e));
    }
}
