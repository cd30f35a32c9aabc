//! The session's writer: the only code that writes to the client's socket.
//!
//! It waits on five things: the reader (a future this loop polls, so that a session is one
//! task; it is kept across iterations, never dropped mid-frame) ending, control requests from
//! the reader (pongs, WebSocket pongs, RTT reports: a plain bounded queue, [`Control`], since
//! the reader only ever queues while this loop polls it), the room's outbox notification, the
//! ping timer and the idle timer; all but the reader are cancel-safe. Everything pending is
//! written into a buffered writer and flushed once, so a client costs about one `send()` per
//! tick. Every flush has a deadline: a client that does not drain its socket is disconnected
//! (`TooSlow`) instead of holding memory.
//!
//! **The room writes most ticks itself.** On plain TCP the session lends its socket to the
//! room ([`super::direct`]): the room writes a tick's messages when this loop is not writing,
//! and the loop is woken only for what the room could not write. The loop marks each of its
//! writing steps ([`DirectSocket::begin`] .. [`DirectSocket::end`]) so the two never
//! interleave; what both render from lives in the link ([`crate::room::link::Sender`]).
//!
//! **Timers are armed once, not per tick.** The ping timer is reset only when a ping is sent.
//! The idle timeout is watched here rather than by a deadline on every frame the reader reads
//! (a timer armed and cancelled per client per tick): the reader notes when it last read a
//! frame ([`Activity`]), and the idle timer, when it fires, either ends the session
//! (`Timeout`) or is re-armed from that note.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use fastwebsockets::{Frame, Payload, WebSocketError, WebSocketWrite};
use parking_lot::Mutex;
use tickwire_protocol::codec::encode_server;
use tickwire_protocol::message::{DisconnectReason, Pong, RttReport, ServerMessage};
use tickwire_protocol::rtt::PingTracker;
use tokio::io::{AsyncWrite, BufWriter};
use tokio::time::{Instant, sleep_until, timeout};

use super::direct::DirectSocket;
use super::end::SessionEnd;
use super::ws;
use crate::ServerCtx;
use crate::room::link::{ClientLink, Outgoing};

/// Capacity of the reader → writer control queue ([`Control`]). A full queue means the client
/// floods pings and ends the session (`RateLimited`).
pub(crate) const CONTROL_CAPACITY: usize = 32;

/// The reader's requests to the writer, at most [`CONTROL_CAPACITY`].
///
/// Not a channel: the reader is a future the writer's `select!` polls, so it only ever queues
/// during that poll, and the writer looks at the queue right after it in the same round
/// ([`Control::ready`]). Nothing needs waking, and the writer's wake-ups (one per tick at
/// least) do not each pay for a channel's receive.
#[derive(Debug, Clone, Default)]
pub(crate) struct Control(Arc<Mutex<VecDeque<WriterCmd>>>);

impl Control {
    /// Queues `cmd`, or gives it back when the queue is full.
    pub(crate) fn push(&self, cmd: WriterCmd) -> Result<(), WriterCmd> {
        let mut queue = self.0.lock();
        if queue.len() >= CONTROL_CAPACITY {
            return Err(cmd);
        }
        queue.push_back(cmd);
        Ok(())
    }

    fn pop(&self) -> Option<WriterCmd> {
        self.0.lock().pop_front()
    }

    /// Ready while a request waits. It registers no waker, which is correct only when polled
    /// after the reader in the same `select!` round (see the type's docs).
    fn ready(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|_| if self.0.lock().is_empty() { Poll::Pending } else { Poll::Ready(()) })
    }
}

/// A request from the reader to the writer.
#[derive(Debug)]
pub(crate) enum WriterCmd {
    /// Answer a WebSocket ping: a pong with its payload (at most 125 bytes).
    WsPong(Vec<u8>),
    /// Answer a client's ping; `held_us` is filled in when written.
    Pong {
        /// The answer, `held_us` still 0.
        pong: Pong,
        /// When the ping was read.
        received: Instant,
    },
    /// Tell the client its measured RTT.
    Rtt(RttReport),
}

/// The session's pings: when the next one is due and which are awaiting their pong. The writer
/// sends them, the reader matches pongs; time is measured from the session's `origin`.
pub(crate) type Pings = Arc<Mutex<PingTracker>>;

/// When the reader last read a frame, in milliseconds since the session's `origin` (see the
/// module docs).
pub(crate) type Activity = Arc<AtomicU64>;

/// The writing half of a session.
pub(crate) struct Writer<W: AsyncWrite + Unpin> {
    ws: WebSocketWrite<BufWriter<W>>,
    ctx: Arc<ServerCtx>,
    /// The snapshot message to write (swapped with the link's [`Sender`](crate::room::link::Sender)).
    buf: Vec<u8>,
    /// The batches to write (swapped likewise).
    outgoing: Outgoing,
    /// The socket, when the room may write to it too (plain TCP).
    direct: Option<Arc<DirectSocket>>,
    /// The session's time origin (pings carry microseconds since it).
    pub(crate) origin: Instant,
    pub(crate) pings: Pings,
    pub(crate) activity: Activity,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    /// A writer on `ws`, whose socket is `direct` when the room may write to it too.
    pub(crate) fn new(
        ws: WebSocketWrite<BufWriter<W>>,
        ctx: Arc<ServerCtx>,
        direct: Option<Arc<DirectSocket>>,
    ) -> Self {
        let interval = Duration::from_millis(ctx.config.ping_interval_ms);
        Self {
            ws,
            ctx,
            buf: Vec::with_capacity(1024),
            outgoing: Outgoing::default(),
            direct,
            origin: Instant::now(),
            pings: Arc::new(Mutex::new(PingTracker::new(interval, Duration::ZERO))),
            activity: Arc::new(AtomicU64::new(0)),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), WebSocketError> {
        self.ctx.metrics.sent(bytes.len());
        self.ws.write_frame(Frame::binary(Payload::Borrowed(bytes))).await
    }

    /// Writes one message and flushes, within the slow-client deadline.
    pub(crate) async fn send_now(&mut self, msg: &ServerMessage) -> Result<(), SessionEnd> {
        let bytes = encode_server(msg);
        let deadline = self.ctx.config.slow_client();
        match timeout(deadline, async {
            self.write(&bytes).await?;
            self.ws.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SessionEnd::CONNECTION_LOST),
            Err(_) => Err(SessionEnd::TOO_SLOW),
        }
    }

    /// Answers a WebSocket ping at once, within the slow-client deadline (before the hello,
    /// when the writer loop is not running yet).
    pub(crate) async fn pong_now(&mut self, payload: Vec<u8>) -> Result<(), SessionEnd> {
        let deadline = self.ctx.config.slow_client();
        match timeout(deadline, async {
            self.ws.write_frame(ws::pong(payload)).await?;
            self.ws.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SessionEnd::CONNECTION_LOST),
            Err(_) => Err(SessionEnd::TOO_SLOW),
        }
    }

    /// Sends what the room publishes until the session ends.
    pub(crate) async fn run(
        &mut self,
        link: &ClientLink,
        ctrl: Control,
        mut reader: Pin<&mut impl Future<Output = SessionEnd>>,
    ) -> SessionEnd {
        let deadline = self.ctx.config.slow_client();
        let idle = self.ctx.config.idle_timeout();
        let ping_timer = sleep_until(self.origin + self.pings.lock().next_due());
        let idle_timer = sleep_until(self.last_read() + idle);
        tokio::pin!(ping_timer, idle_timer);
        loop {
            let step = tokio::select! {
                biased;
                end = reader.as_mut() => {
                    self.begin();
                    if end != SessionEnd::CONNECTION_LOST {
                        // Pings read before the end are owed their pongs (RFC 6455 §5.5.2).
                        let _ = timeout(deadline, self.owed_pongs(&ctrl)).await;
                    }
                    return end;
                }
                // Right after the reader, which is what makes `ready` correct.
                () = ctrl.ready() => {
                    self.begin();
                    timeout(deadline, self.control(&ctrl)).await
                }
                () = link.notified() => {
                    self.begin();
                    timeout(deadline, self.drain(link)).await
                }
                () = &mut ping_timer => {
                    self.begin();
                    let sent = timeout(deadline, self.ping()).await;
                    ping_timer.as_mut().reset(self.origin + self.pings.lock().next_due());
                    sent
                }
                () = &mut idle_timer => {
                    let due = self.last_read() + idle;
                    if Instant::now() >= due {
                        return SessionEnd::TIMEOUT;
                    }
                    idle_timer.as_mut().reset(due);
                    Ok(Ok(None))
                }
            };
            match step {
                Ok(Ok(None)) => self.end(),
                Ok(Ok(Some(end))) => return end,
                Ok(Err(_)) => return SessionEnd::CONNECTION_LOST,
                Err(_) => return SessionEnd::TOO_SLOW,
            }
        }
    }

    /// The socket the room may write to too (plain TCP).
    pub(crate) fn direct(&self) -> Option<Arc<DirectSocket>> {
        self.direct.clone()
    }

    /// The loop is about to write: the room leaves the socket alone until [`end`](Self::end).
    fn begin(&self) {
        if let Some(direct) = &self.direct {
            direct.begin();
        }
    }

    /// The loop's writes are flushed: the room may write again.
    fn end(&self) {
        if let Some(direct) = &self.direct {
            direct.end();
        }
    }

    /// When the reader last read a frame.
    fn last_read(&self) -> Instant {
        self.origin + Duration::from_millis(self.activity.load(Ordering::Relaxed))
    }

    /// Writes the queued control requests, then flushes.
    async fn control(&mut self, ctrl: &Control) -> Result<Option<SessionEnd>, WebSocketError> {
        while let Some(cmd) = ctrl.pop() {
            match cmd {
                WriterCmd::WsPong(payload) => self.ws.write_frame(ws::pong(payload)).await?,
                WriterCmd::Pong { mut pong, received } => {
                    pong.held_us =
                        u32::try_from(received.elapsed().as_micros()).unwrap_or(u32::MAX);
                    let bytes = encode_server(&ServerMessage::Pong(pong));
                    self.write(&bytes).await?;
                }
                WriterCmd::Rtt(report) => {
                    let bytes = encode_server(&ServerMessage::Rtt(report));
                    self.write(&bytes).await?;
                }
            }
        }
        self.ws.flush().await?;
        Ok(None)
    }

    /// Writes the pongs still queued for WebSocket pings (the rest of the queue is moot once
    /// the session ends), without flushing: the close that follows flushes.
    async fn owed_pongs(&mut self, ctrl: &Control) -> Result<(), WebSocketError> {
        while let Some(cmd) = ctrl.pop() {
            if let WriterCmd::WsPong(payload) = cmd {
                self.ws.write_frame(ws::pong(payload)).await?;
            }
        }
        Ok(())
    }

    /// Writes everything the room published (and what the room left pending), then flushes.
    async fn drain(&mut self, link: &ClientLink) -> Result<Option<SessionEnd>, WebSocketError> {
        let collected = {
            let mut sender = link.sender().lock();
            let collected = link.collect(&mut sender, &self.ctx.metrics);
            std::mem::swap(&mut self.outgoing.batches, &mut sender.outgoing.batches);
            std::mem::swap(&mut self.buf, &mut sender.snapshot);
            collected
        };
        let mut batches = std::mem::take(&mut self.outgoing.batches);
        for batch in batches.drain(..) {
            for m in batch.iter() {
                self.write(m).await?;
            }
        }
        self.outgoing.batches = batches;
        if collected.snapshot {
            let buf = std::mem::take(&mut self.buf);
            let result = self.write(&buf).await;
            self.buf = buf;
            result?;
        }
        self.ws.flush().await?;
        Ok(collected.close.map(SessionEnd::from_reason))
    }

    async fn ping(&mut self) -> Result<Option<SessionEnd>, WebSocketError> {
        let Some(ping) = self.pings.lock().poll(self.origin.elapsed()) else {
            return Ok(None);
        };
        let bytes = encode_server(&ServerMessage::Ping(ping));
        self.write(&bytes).await?;
        self.ws.flush().await?;
        Ok(None)
    }

    /// Says goodbye: a `Disconnect` message and a close frame, within one second. A lost
    /// connection gets neither: nobody is listening, and its 1006 is never sent
    /// ([`SessionEnd::close_frame`]).
    pub(crate) async fn close(&mut self, end: SessionEnd) {
        // The room no longer writes (the link no longer lends it the socket; a write it began
        // just before is finished, or pending and written first).
        self.begin();
        let reason: DisconnectReason = end.reason;
        let Some(close) = end.close_frame() else {
            return;
        };
        let _ = timeout(std::time::Duration::from_secs(1), async {
            let bytes = encode_server(&ServerMessage::Disconnect(reason));
            let _ = self.write(&bytes).await;
            let _ = self.ws.write_frame(close).await;
            let _ = self.ws.flush().await;
        })
        .await;
    }
}
