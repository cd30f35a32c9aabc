//! The first message: a [`Hello`], read within the handshake timeout and checked before the
//! client may join a room.

use tickwire_protocol::codec::{decode_client, hello_version};
use tickwire_protocol::message::{ClientMessage, Hello, RejectReason};
use tickwire_protocol::{MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tracing::debug;

use super::end::SessionEnd;
use super::writer::Writer;
use super::ws::{Incoming, WsReader};
use crate::config::ServerConfig;

/// Why no valid hello arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoHello {
    /// The session must end without a reject message (timeout, bad frame).
    End(SessionEnd),
    /// A decodable first message that was not a hello, or a refused hello.
    Reject(RejectReason),
}

/// Reads the first message and decodes it as a hello, within the handshake timeout. WebSocket
/// pings before it are answered (RFC 6455 §5.5.2), at most `max_ping_rate` of them.
pub(crate) async fn read_hello<R, W>(
    ws: &mut WsReader<R>,
    writer: &mut Writer<W>,
    config: &ServerConfig,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<Hello, NoHello>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let read = tokio::select! {
        read = timeout(config.handshake_timeout(), first_message(ws, writer, config)) => read,
        () = shutdown.cancelled() => return Err(NoHello::Reject(RejectReason::ShuttingDown)),
    };
    read.unwrap_or(Err(NoHello::End(SessionEnd::TIMEOUT)))
}

async fn first_message<R, W>(
    ws: &mut WsReader<R>,
    writer: &mut Writer<W>,
    config: &ServerConfig,
) -> Result<Hello, NoHello>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut pings = 0;
    loop {
        match ws.next().await {
            Err(e) => {
                debug!("no hello: {e}");
                return Err(NoHello::End(e.end()));
            }
            Ok(Incoming::Binary(payload)) => return hello(&payload),
            Ok(Incoming::Text(_)) => return Err(NoHello::End(SessionEnd::TEXT_FRAME)),
            Ok(Incoming::Close { .. }) => return Err(NoHello::End(SessionEnd::CLIENT_LEFT)),
            Ok(Incoming::Pong(_)) => {}
            Ok(Incoming::Ping(payload)) => {
                pings += 1;
                if pings > config.max_ping_rate {
                    return Err(NoHello::End(SessionEnd::RATE_LIMITED));
                }
                writer.pong_now(payload.to_vec()).await.map_err(NoHello::End)?;
            }
        }
    }
}

/// Decodes the first message as a hello.
fn hello(payload: &[u8]) -> Result<Hello, NoHello> {
    match decode_client(payload) {
        Ok(ClientMessage::Hello(hello)) => Ok(hello),
        Ok(_) => Err(NoHello::Reject(RejectReason::HelloExpected)),
        Err(e) => match hello_version(payload) {
            // A peer of another version: say so (PROTOCOL.md §7), not "malformed".
            Some(v) if !speaks(v) => {
                Err(NoHello::Reject(RejectReason::VersionMismatch { server: PROTOCOL_VERSION }))
            }
            _ => {
                debug!("malformed hello: {e}");
                Err(NoHello::End(SessionEnd::MALFORMED))
            }
        },
    }
}

/// Checks a decoded hello's protocol version (the decoder already checked names and lengths;
/// admission checks the game and its schema hash).
pub(crate) fn check(hello: &Hello) -> Result<(), RejectReason> {
    if !speaks(hello.protocol_version) {
        return Err(RejectReason::VersionMismatch { server: PROTOCOL_VERSION });
    }
    Ok(())
}

/// Whether this server serves clients of protocol `version` (`PROTOCOL.md` §7): version 5, and
/// version 4, whose clients get their views as snapshots instead of chunks.
fn speaks(version: u16) -> bool {
    (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version)
}

/// Metrics label of a reject reason.
pub(crate) fn reject_label(r: RejectReason) -> &'static str {
    match r {
        RejectReason::VersionMismatch { .. } => "version_mismatch",
        RejectReason::SchemaMismatch { .. } => "schema_mismatch",
        RejectReason::RoomFull => "room_full",
        RejectReason::TooManyRooms => "too_many_rooms",
        RejectReason::BadRoomName => "bad_room_name",
        RejectReason::BadName => "bad_name",
        RejectReason::Unauthorized => "unauthorized",
        RejectReason::ShuttingDown => "shutting_down",
        RejectReason::HelloExpected => "hello_expected",
        RejectReason::ResumeFailed => "resume_failed",
        RejectReason::UnknownGame => "unknown_game",
        RejectReason::GameMismatch => "game_mismatch",
        RejectReason::JoinRefused { .. } => "join_refused",
        RejectReason::RoomElsewhere => "room_elsewhere",
    }
}
