//! One WebSocket session: handshake, then one task whose writer loop also polls the reader.
//!
//! ```text
//!   socket ──► reader ──► ClientLink.inputs ──► room task (tick)
//!                  │  pongs, control frames              │
//!                  ▼  (bounded queue)                    ▼ outbox: latest snapshot + events
//!   socket ◄── writer loop ◄──────────────────────────────┘ (Notify)
//!      ▲                                                 │
//!      └──────── plain TCP: the room writes itself ◄─────┘ (when the writer is idle)
//! ```
//!
//! The session ends when the reader ends (close, error, timeout, bad input, rate limit), when
//! the room asks (too slow, shutdown), or when a write misses its deadline. Then it tells the
//! room, says goodbye with a `Disconnect` message and a close frame, and counts the reason.
//!
//! Under both halves is [`ws`]: fastwebsockets with the RFC 6455 checks it leaves to its caller
//! (unmasked frames, oversized control frames, close codes) and the server's limits. Each
//! refusal is a [`SessionEnd`] with its own close code and metrics label.

mod admit;
pub(crate) mod direct;
mod end;
mod guard;
mod handshake;
mod rate;
mod reader;
mod writer;
pub mod ws;

use std::sync::Arc;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tickwire_protocol::ClientId;
use tickwire_protocol::message::{RejectReason, ServerMessage};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::{debug, warn};

pub use admit::Authorized;
use direct::{DirectSocket, SharedWrite};
pub use end::SessionEnd;
use handshake::NoHello;
use reader::Reader;
use writer::{Control, Writer};
use ws::WsReader;

use crate::ServerCtx;
use crate::proxy::ClientAddr;

/// Runs a session on an upgraded connection until it ends; `peer` is the client as the logs
/// name it (behind a trusted proxy, the one the proxy named).
///
/// A plain TCP connection is taken back from hyper and split into the stream's own halves, so
/// that the reader and the writer share no lock and reach the socket without hyper's
/// indirection (issue 16); the bytes hyper had already read past the handshake come first. A
/// TLS connection goes through `tokio::io::split` ([`ws::tcp_halves`]).
pub async fn run(io: TokioIo<Upgraded>, ctx: Arc<ServerCtx>, peer: ClientAddr, auth: Authorized) {
    let max = ctx.config.max_message_bytes;
    match ws::tcp_halves(io) {
        Ok((r, w)) => {
            let direct = DirectSocket::new(w, ctx.metrics.clone());
            let (rd, wr) = ws::from_halves(r, SharedWrite(direct.clone()), max);
            run_split(rd, Writer::new(wr, ctx.clone(), Some(direct)), ctx, peer, auth).await;
        }
        Err(io) => {
            let (rd, wr) = ws::split(io, max);
            run_split(rd, Writer::new(wr, ctx.clone(), None), ctx, peer, auth).await;
        }
    }
}

async fn run_split<R, W>(
    mut rd: WsReader<R>,
    mut writer: Writer<W>,
    ctx: Arc<ServerCtx>,
    peer: ClientAddr,
    auth: Authorized,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let hello = match handshake::read_hello(&mut rd, &mut writer, &ctx.config, &ctx.shutdown).await
    {
        Ok(hello) => hello,
        Err(NoHello::End(end)) => return finish(&ctx, &mut writer, end, peer, None).await,
        Err(NoHello::Reject(reason)) => return reject(&ctx, &mut writer, reason).await,
    };
    if ctx.shutdown.is_cancelled() {
        return reject(&ctx, &mut writer, RejectReason::ShuttingDown).await;
    }
    if let Err(reason) = handshake::check(&hello) {
        return reject(&ctx, &mut writer, reason).await;
    }
    let admitted = match admit::admit(&ctx, &hello, auth).await {
        Ok(admitted) => admitted,
        Err(reason) => return reject(&ctx, &mut writer, reason).await,
    };
    let admit::Admitted { room, link, welcome, player } = admitted;
    let client = link.id;
    let resumed = welcome.resumed;
    debug!(%client, %peer, game = room.game.name, room = %room.name, name = %hello.name, resumed, "session admitted");
    // One live socket per authenticated player: the newest session wins.
    if let Some(player) = &player
        && let Some(old) = ctx.players.lock().insert(player.clone(), link.clone())
        && !Arc::ptr_eq(&old, &link)
    {
        old.close(tickwire_protocol::message::DisconnectReason::Replaced);
    }
    if let Err(end) = writer.send_now(&ServerMessage::Welcome(welcome)).await {
        room.leave(link.clone(), end.reason, end.is_resumable()).await;
        return finish(&ctx, &mut writer, end, peer, Some(client)).await;
    }

    let ctrl = Control::default();
    let reader = Reader {
        ctx: ctx.clone(),
        link: link.clone(),
        room: room.clone(),
        ctrl: ctrl.clone(),
        pings: writer.pings.clone(),
        activity: writer.activity.clone(),
        origin: writer.origin,
    };
    // The reader is a future the writer's loop polls, not a task of its own: one task per
    // session, and the reader's frame parsing (not cancel-safe) is never dropped mid-frame.
    let reading = reader.run(rd);
    tokio::pin!(reading);
    // From the Welcome on, the room may write to a plain TCP socket itself, until the end.
    link.set_direct(writer.direct());
    let end = writer.run(&link, ctrl, reading).await;
    link.set_direct(None);
    if let Some(player) = &player {
        let mut players = ctx.players.lock();
        if players.get(player).is_some_and(|l| Arc::ptr_eq(l, &link)) {
            players.remove(player);
        }
    }
    room.leave(link, end.reason, end.is_resumable()).await;
    finish(&ctx, &mut writer, end, peer, Some(client)).await;
}

async fn reject<W: AsyncWrite + Unpin>(
    ctx: &ServerCtx,
    writer: &mut Writer<W>,
    reason: RejectReason,
) {
    ctx.metrics
        .sessions_rejected
        .get_or_create(&[("reason", handshake::reject_label(reason))])
        .inc();
    debug!(%reason, "hello refused");
    let _ = writer.send_now(&ServerMessage::Reject(reason)).await;
    writer
        .close(SessionEnd {
            reason: tickwire_protocol::message::DisconnectReason::ProtocolViolation,
            code: 1008,
            label: "rejected",
        })
        .await;
}

async fn finish<W: AsyncWrite + Unpin>(
    ctx: &ServerCtx,
    writer: &mut Writer<W>,
    end: SessionEnd,
    peer: ClientAddr,
    client: Option<ClientId>,
) {
    ctx.metrics.sessions_closed.get_or_create(&[("reason", end.label)]).inc();
    if end.is_violation() && ctx.metrics.warn_allowed(ctx.uptime_ms()) {
        warn!(%peer, ?client, reason = end.label, "session closed for misbehaviour (further ones this second at debug)");
    } else {
        debug!(%peer, ?client, reason = end.label, "session closed");
    }
    writer.close(end).await;
}
