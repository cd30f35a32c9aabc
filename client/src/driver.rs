//! The async driver: the tokio tasks that move bytes between the socket and the sans-IO
//! [`ClientState`].
//!
//! Two tasks per connection:
//!
//! - the **reader** (`read_loop`) reads frames (fastwebsockets' `read_frame` is not
//!   cancel-safe, so it never sits in a `select!`). Without a link conditioner it hands each
//!   message to the state itself (`Delivery::Direct`); with one, it forwards each message,
//!   stamped with its arrival time, into a bounded channel of [`INCOMING_CAPACITY`] for the
//!   driver to hold back. When the channel is full the reader waits, the socket stops being
//!   drained, and the server sees a slow client — exactly what a real slow client does.
//! - the **driver** (`Driver::run`) owns the write half. Each turn of its loop, in order:
//!   1. hands every message due (now, or later under the link conditioner) to the state, then
//!      moves game events to the event channel (`try_send`: a full channel leaves them in the
//!      core's bounded queue);
//!   2. once per tick, samples the [`InputSource`] (or the shared input) with the state locked
//!      and calls [`ClientState::send_input`];
//!   3. runs the state's timers (pings, silence);
//!   4. takes everything the state wants to send and writes what is due, then flushes once, so a
//!      tick's messages cost one `send()`;
//!   5. ends when the state has ended and everything owed is written (a close frame last);
//!   6. otherwise waits, cancel-safely, for the next message (when the link conditioner holds
//!      them), a wake-up (a pong or chat line to send, the session ended or is leaving) or the
//!      next deadline (tick, ping, delayed message).
//!
//! The state lives in a `parking_lot` mutex shared with the [`ClientHandle`]s; the driver holds
//! it for one batch of work, never across an `.await`.
//!
//! [`ClientHandle`]: crate::ClientHandle

use std::convert::Infallible;
use std::future::ready;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use fastwebsockets::{Frame, OpCode, Payload};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, sleep_until};
use tracing::debug;

use crate::client::{ClientEvent, Connection};
use crate::error::{EndReason, ProtocolError};
use crate::forensics::ForensicsWriter;
use crate::input::{InputContext, InputSource};
use crate::link::{DelayQueue, LinkConditioner};
use crate::state::ClientState;
use crate::ws::{WsReader, WsWriter};
use tickwire_sim::Predict;

/// Capacity of the reader → driver channel, in messages.
pub const INCOMING_CAPACITY: usize = 64;
/// Most messages held by the link conditioner in each direction. When the incoming side is
/// full the driver stops taking messages from the reader, which applies backpressure.
const DELAYED_CAPACITY: usize = 4096;
/// Buffers the driver keeps for encoding messages into: a tick's input, and a pong or a
/// command beside it, without allocating.
const SPARE_BUFFERS: usize = 4;
/// Time allowed to write what is owed and the close frame once the session has ended.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What the reader forwards.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A binary message and when it arrived (on the client's clock).
    Message(Duration, Bytes),
    /// The transport ended.
    End(EndReason),
}

/// What the driver and the client handles share.
#[derive(Debug)]
pub(crate) struct Shared<P: Predict> {
    /// The sans-IO core. Locked for microseconds, never across an `.await`.
    pub(crate) state: Mutex<ClientState<P>>,
    /// The input sent when no [`InputSource`] was given ([`crate::ClientHandle::set_input`]).
    pub(crate) input: Mutex<P::Input>,
    /// Time zero of the client's clock.
    pub(crate) epoch: Instant,
    /// Wakes the driver when the reader or a handle changed the state (something to send, a
    /// chat line, the end of the session, leaving).
    pub(crate) wake: Notify,
    /// Set by [`crate::ClientHandle::leave`]: no more reconnecting.
    pub(crate) leaving: AtomicBool,
    /// Set by [`crate::ClientHandle::drop_connection`]: the driver drops the connection
    /// without a goodbye (a simulated network failure).
    pub(crate) kill: AtomicBool,
    /// Set (then `wake` notified) by a reader delivering straight to the state when it ends:
    /// its end is in the channel, which the driver then reads (it does not poll the channel
    /// every turn for the one message it will ever get). Cleared for each connection.
    pub(crate) reader_ended: AtomicBool,
    /// What the connection is doing, for [`crate::ClientHandle::connection`].
    pub(crate) status: Mutex<Connection>,
    /// The forensics log, when on: written by the driver after each turn's work (never under
    /// the state's lock), flushed by the supervisor when the session ends.
    pub(crate) forensics: Option<Mutex<ForensicsWriter>>,
}

impl<P: Predict> Shared<P> {
    pub(crate) fn new(state: ClientState<P>, epoch: Instant) -> Self {
        Self {
            state: Mutex::new(state),
            input: Mutex::new(P::Input::default()),
            epoch,
            wake: Notify::new(),
            leaving: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            reader_ended: AtomicBool::new(false),
            status: Mutex::new(Connection::Connecting),
            forensics: None,
        }
    }

    /// Writes the forensics lines the state has made since the last call (the state's lock is
    /// taken only to move them out); `flush` pushes the write buffer out too.
    pub(crate) fn write_forensics(&self, flush: bool) {
        let Some(writer) = &self.forensics else { return };
        let mut lines = Vec::new();
        self.state.lock().take_forensics(&mut lines);
        let mut writer = writer.lock();
        writer.write(&mut lines);
        if flush {
            writer.flush();
        }
    }

    /// The client's clock.
    pub(crate) fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// Where the reader puts what it reads.
#[derive(Debug)]
pub(crate) enum Delivery<P: Predict> {
    /// Straight into the state, on the reader's task (no link conditioner): one task wake-up
    /// per message instead of two. Game events go to the event channel from there, and the
    /// driver is woken only when the state has something to send (a pong) or has ended.
    Direct(Arc<Shared<P>>, mpsc::Sender<ClientEvent<P::Event>>),
    /// Through the channel to the driver, which holds messages back for the link conditioner.
    Queued,
}

/// Reads frames until the socket ends or the driver is gone (see the module docs). The end of
/// the transport always goes through the channel, so the driver sees it in order.
pub(crate) async fn read_loop<P: Predict>(
    mut ws: WsReader,
    tx: mpsc::Sender<Incoming>,
    epoch: Instant,
    delivery: Delivery<P>,
) {
    // Delivering straight to the state, the reader tells the driver it ended (after its end is
    // in the channel, or when it is dropped: aborted, or unwinding).
    let _ended = match &delivery {
        Delivery::Direct(shared, _) => Some(ReaderEnded(shared.clone())),
        Delivery::Queued => None,
    };
    // Control frames owed by fastwebsockets are not needed: auto-close and auto-pong are off.
    let mut ignore = |_| ready(Ok::<(), Infallible>(()));
    let end = loop {
        let frame = match ws.read_frame(&mut ignore).await {
            Ok(frame) => frame,
            Err(e) => {
                debug!("websocket read ended: {e}");
                break EndReason::ConnectionLost;
            }
        };
        let unexpected = |message| {
            EndReason::Protocol(ProtocolError::Unexpected { message, phase: "reading frames" })
        };
        match frame.opcode {
            OpCode::Binary if frame.fin => match &delivery {
                Delivery::Direct(shared, events) => {
                    let mut state = shared.state.lock();
                    let _ = state.handle_bytes(epoch.elapsed(), &frame.payload);
                    forward_events(&mut state, events);
                    let wake = state.has_transmit() || state.is_ended();
                    drop(state);
                    if wake {
                        shared.wake.notify_one();
                    }
                }
                Delivery::Queued => {
                    let bytes = match frame.payload {
                        Payload::Bytes(b) => b.freeze(),
                        other => Bytes::copy_from_slice(&other),
                    };
                    if tx.send(Incoming::Message(epoch.elapsed(), bytes)).await.is_err() {
                        return; // the driver is gone
                    }
                }
            },
            OpCode::Close => break EndReason::Closed,
            OpCode::Ping | OpCode::Pong => {}
            OpCode::Text => break unexpected("text frame"),
            OpCode::Binary | OpCode::Continuation => break unexpected("fragmented message"),
        }
    };
    let _ = tx.send(Incoming::End(end)).await;
}

/// Tells the driver, when dropped, that a reader delivering straight to the state has ended
/// ([`Shared::reader_ended`]).
struct ReaderEnded<P: Predict>(Arc<Shared<P>>);

impl<P: Predict> Drop for ReaderEnded<P> {
    fn drop(&mut self) {
        self.0.reader_ended.store(true, Ordering::Release);
        self.0.wake.notify_one();
    }
}

/// Moves queued events into the event channel while it has room (the rest wait in the
/// state's bounded queue).
fn forward_events<P: Predict>(
    state: &mut ClientState<P>,
    events: &mpsc::Sender<ClientEvent<P::Event>>,
) {
    while state.pending_events() > 0 {
        let Ok(permit) = events.try_reserve() else { break };
        if let Some(e) = state.poll_event() {
            permit.send(ClientEvent::Event(e));
        }
    }
}

/// The driver task's state (see the module docs).
pub(crate) struct Driver<P: Predict> {
    pub(crate) shared: Arc<Shared<P>>,
    pub(crate) ws: WsWriter,
    pub(crate) incoming_rx: mpsc::Receiver<Incoming>,
    pub(crate) events: mpsc::Sender<ClientEvent<P::Event>>,
    pub(crate) source: Option<Box<dyn InputSource<P>>>,
    /// The link conditioner, when latency or jitter is configured.
    pub(crate) link: Option<LinkConditioner>,
    pub(crate) tick: Duration,
    /// Buffers of written messages, encoded into again (at most [`SPARE_BUFFERS`]).
    pub(crate) spare: Vec<Vec<u8>>,
}

impl<P: Predict> Driver<P> {
    /// Runs the connection to its end and says why it ended (the owner is told by the
    /// supervisor, which may reconnect).
    pub(crate) async fn run(&mut self) -> EndReason {
        let mut incoming: DelayQueue<Incoming> = DelayQueue::new(DELAYED_CAPACITY);
        let mut outgoing: DelayQueue<Vec<u8>> = DelayQueue::new(DELAYED_CAPACITY);
        let mut next_tick = self.shared.now() + self.tick;
        let mut rx_open = true;
        // Without a link conditioner the reader delivers straight to the state, and the
        // channel carries only its end (see `Shared::reader_ended`).
        let direct = self.link.is_none();
        let mut ended_at: Option<Duration> = None;
        let sleep = sleep_until(self.shared.epoch + next_tick);
        tokio::pin!(sleep);
        loop {
            let now = self.shared.now();
            if self.shared.kill.swap(false, Ordering::Relaxed) {
                // A simulated network failure: no goodbye, no close frame.
                self.shared.state.lock().transport_ended(EndReason::ConnectionLost);
                return EndReason::ConnectionLost;
            }
            if direct && rx_open && self.shared.reader_ended.load(Ordering::Acquire) {
                let end = match self.incoming_rx.try_recv() {
                    Ok(end) => end,
                    Err(_) => Incoming::End(EndReason::ConnectionLost),
                };
                rx_open = false;
                let _ = incoming.push(now, end);
            }
            let (reason, next_timeout) = {
                let mut state = self.shared.state.lock();
                // 1. Messages due.
                while let Some(item) = incoming.pop_due(now) {
                    match item {
                        Incoming::Message(_, bytes) => {
                            let _ = state.handle_bytes(now, &bytes);
                        }
                        Incoming::End(reason) => state.transport_ended(reason),
                    }
                }
                forward_events(&mut state, &self.events);
                // 2. The tick's input.
                if now >= next_tick {
                    next_tick += self.tick;
                    if next_tick <= now {
                        next_tick = now + self.tick; // we were descheduled: skip, don't burst
                    }
                    if state.is_playing() {
                        let (input, command) = match &mut self.source {
                            Some(source) => {
                                let ctx = InputContext { state: &state, now };
                                (source.sample(&ctx), source.command(&ctx))
                            }
                            None => (self.shared.input.lock().clone(), None),
                        };
                        state.send_input(now, &input);
                        if let Some(command) = command
                            && let Err(e) = state.send_command(now, &command)
                        {
                            debug!("command not sent: {e}");
                        }
                    }
                }
                // 3. Timers.
                state.handle_timeout(now);
                // 4. Everything to send, through the conditioner, encoded into spare buffers.
                loop {
                    let mut bytes = self.spare.pop().unwrap_or_default();
                    if !state.poll_transmit_into(now, &mut bytes) {
                        self.spare.push(bytes);
                        break;
                    }
                    let due = self.link.as_mut().map_or(now, |l| l.outgoing(now));
                    if outgoing.push(due, bytes).is_err() {
                        debug!("link conditioner queue full; message dropped");
                    }
                }
                (state.end_reason().cloned(), state.next_timeout())
            };
            self.shared.write_forensics(false);
            if let Err(e) = self.write_due(&mut outgoing, now).await {
                debug!("websocket write failed: {e}");
                let mut state = self.shared.state.lock();
                state.transport_ended(EndReason::ConnectionLost);
                return state.end_reason().cloned().unwrap_or(EndReason::ConnectionLost);
            }
            // 5. The end.
            if let Some(reason) = reason {
                let since = *ended_at.get_or_insert(now);
                let transport_gone = !rx_open || matches!(reason, EndReason::ConnectionLost);
                if outgoing.is_empty() || transport_gone || now >= since + CLOSE_GRACE {
                    if !transport_gone {
                        let _ = self.ws.write_frame(Frame::close(1000, b"")).await;
                        let _ = self.ws.flush().await;
                    }
                    return reason;
                }
            }
            // 6. Wait.
            let mut deadline = next_tick;
            for d in [incoming.next_due(), outgoing.next_due(), next_timeout].into_iter().flatten()
            {
                deadline = deadline.min(d);
            }
            if let Some(since) = ended_at {
                deadline = deadline.min(since + CLOSE_GRACE);
            }
            sleep.as_mut().reset(self.shared.epoch + deadline.max(now));
            tokio::select! {
                biased;
                msg = self.incoming_rx.recv(), if !direct && rx_open && incoming.len() < DELAYED_CAPACITY => {
                    let msg = msg.unwrap_or(Incoming::End(EndReason::ConnectionLost));
                    if matches!(msg, Incoming::End(_)) {
                        rx_open = false;
                    }
                    let arrived = match &msg {
                        Incoming::Message(at, _) => *at,
                        Incoming::End(_) => self.shared.now(),
                    };
                    let due = self.link.as_mut().map_or(arrived, |l| l.incoming(arrived));
                    // invariant: this branch only runs while the queue has room.
                    let _ = incoming.push(due, msg);
                }
                () = self.shared.wake.notified() => {}
                () = &mut sleep => {}
            }
        }
    }

    /// Writes every message due by `now`, then flushes once.
    async fn write_due(
        &mut self,
        outgoing: &mut DelayQueue<Vec<u8>>,
        now: Duration,
    ) -> Result<(), fastwebsockets::WebSocketError> {
        let mut wrote = false;
        while let Some(mut bytes) = outgoing.pop_due(now) {
            // Masked in place (a client masks its frames), then the buffer is kept for reuse.
            self.ws.write_frame(Frame::binary(Payload::BorrowedMut(&mut bytes))).await?;
            if self.spare.len() < SPARE_BUFFERS {
                self.spare.push(bytes);
            }
            wrote = true;
        }
        if wrote {
            self.ws.flush().await?;
        }
        Ok(())
    }
}
