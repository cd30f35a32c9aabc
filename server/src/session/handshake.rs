//! The first message: a [`Hello`], read within the handshake timeout and checked before the
//! client may join a room.

use fastwebsockets::{OpCode, WebSocketRead};
use tickwire_protocol::PROTOCOL_VERSION;
use tickwire_protocol::codec::{decode_client, hello_version};
use tickwire_protocol::message::{ClientMessage, Hello, RejectReason};
use tokio::io::AsyncRead;
use tokio::time::timeout;
use tracing::debug;

use super::end::SessionEnd;
use crate::config::ServerConfig;

/// Why no valid hello arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoHello {
    /// The session must end without a reject message (timeout, bad frame).
    End(SessionEnd),
    /// A decodable first message that was not a hello, or a refused hello.
    Reject(RejectReason),
}

/// Reads the first frame and decodes it as a hello.
pub(crate) async fn read_hello<R: AsyncRead + Unpin>(
    ws: &mut WebSocketRead<R>,
    config: &ServerConfig,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<Hello, NoHello> {
    // Control frames owed during the handshake (a ping's pong) are dropped: the client has not
    // been welcomed yet and must speak first.
    let mut ignore = |_| std::future::ready(Ok::<(), std::convert::Infallible>(()));
    let read = tokio::select! {
        read = timeout(config.handshake_timeout(), ws.read_frame(&mut ignore)) => read,
        () = shutdown.cancelled() => return Err(NoHello::Reject(RejectReason::ShuttingDown)),
    };
    let frame = match read {
        Err(_) => return Err(NoHello::End(SessionEnd::TIMEOUT)),
        Ok(Err(e)) => {
            debug!("no hello: {e}");
            return Err(NoHello::End(super::reader::classify(&e)));
        }
        Ok(Ok(frame)) => frame,
    };
    match frame.opcode {
        OpCode::Binary if frame.fin => {}
        OpCode::Text => return Err(NoHello::End(SessionEnd::TEXT_FRAME)),
        OpCode::Close => return Err(NoHello::End(SessionEnd::CLIENT_LEFT)),
        _ => return Err(NoHello::End(SessionEnd::FRAGMENTED)),
    }
    match decode_client(&frame.payload) {
        Ok(ClientMessage::Hello(hello)) => Ok(hello),
        Ok(_) => Err(NoHello::Reject(RejectReason::HelloExpected)),
        Err(e) => match hello_version(&frame.payload) {
            // A peer of another version: say so (PROTOCOL.md §7), not "malformed".
            Some(v) if v != PROTOCOL_VERSION => {
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
    if hello.protocol_version != PROTOCOL_VERSION {
        return Err(RejectReason::VersionMismatch { server: PROTOCOL_VERSION });
    }
    Ok(())
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
    }
}
