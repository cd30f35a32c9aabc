//! [`ClientLink`]: what a room and one session share.
//!
//! Inputs flow session → room through the client's [`InputBuffer`] (a `parking_lot` mutex held
//! for a push or a take, never across an await), and game commands through a bounded queue
//! ([`MAX_QUEUED_COMMANDS`]) the room drains at the start of each tick. Everything flows room → session through the
//! `Outbox`: a one-slot **latest snapshot** (a newer frame replaces one the writer has not
//! taken yet, so a slow client never queues snapshots and never slows the tick) and a bounded
//! queue of message batches (each tick's events, encoded once and shared), plus a close request. The room wakes the writer with
//! `Notify::notify_one`, which stores a permit, so no wake-up is ever lost.
//!
//! **Room-driven writes.** A plain TCP session lends its socket to the link
//! (`session::direct`): when the session is not writing, the room writes what it published
//! straight to the socket with a non-blocking `send`, and the session is not woken at all (one
//! wake-up less per client per tick, issue 16). What the room could not write, the session
//! writes next, first. What both sides render from, the snapshot last sent (the next delta's
//! baseline), lives here in a `Sender`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tickwire_protocol::message::{CommandMessage, DisconnectReason, InputFrame};
use tickwire_protocol::{ClientId, Tick};
use tickwire_sim::{InputBuffer, PushOutcome, TakenInput};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::chunks::Shown;
use super::stats::LinkStats;
use crate::metrics::Metrics;
use crate::session::direct::DirectSocket;

/// Most message batches (a tick's events, a join's player list, ...) queued for one client. A
/// client that lets this many pile up (over 8 s of events at 30 Hz) is not reading its socket
/// and is disconnected (`TooSlow`).
pub const MAX_QUEUED_BATCHES: usize = 256;

/// Encoded messages queued together: one per tick for the tick's events, built once by the room
/// and shared by every client, so a tick costs one queue push per client however many events
/// it had.
pub type Batch = Arc<[Arc<[u8]>]>;
/// Input frames buffered per client (about two seconds at 30 Hz).
pub const INPUT_BUFFER_FRAMES: usize = 64;
/// Game commands queued per client between two ticks. The session refuses more (the client is
/// over the command rate, `RateLimited`): a tick drains the queue, so at the default 10
/// commands per second it never holds more than one or two.
pub const MAX_QUEUED_COMMANDS: usize = 16;

/// A snapshot handed to a client's writer.
#[derive(Debug, Clone)]
pub struct Published {
    /// The shared frame, or the client's view as chunks.
    pub shown: Shown,
    /// The newest input tick of this client consumed by the simulation.
    pub last_input: Option<Tick>,
    /// The client's counters: rendering adds the snapshot's bytes.
    pub stats: Arc<LinkStats>,
}

impl Published {
    /// Writes this snapshot's message (`ServerMessage::Snapshot`, or `ServerMessage::Chunks`
    /// for a view as chunks) into `out` (cleared first) as a delta against `last_sent`, what
    /// was previously sent on the same connection (or in full). Returns how many payloads
    /// this call had to encode (the others were shared).
    pub fn render(&self, last_sent: Option<&Shown>, out: &mut Vec<u8>) -> usize {
        out.clear();
        let encodes = match &self.shown {
            Shown::Frame(frame) => {
                let (payload, baseline, encoded) = frame.payload(last_sent.and_then(Shown::frame));
                tickwire_protocol::codec::encode_snapshot_into(
                    out,
                    frame.tick(),
                    baseline,
                    self.last_input,
                    &payload,
                );
                usize::from(encoded)
            }
            Shown::Chunks(view) => {
                view.render(last_sent.and_then(Shown::chunked), self.last_input, out)
            }
        };
        self.stats.sent(out.len());
        encodes
    }
}

#[derive(Debug, Default)]
struct Outbox {
    snapshot: Option<Published>,
    /// When the writer last failed to take a snapshot before the next one replaced it.
    behind_since: Option<Instant>,
    batches: VecDeque<Batch>,
    close: Option<DisconnectReason>,
}

/// State shared by a room and one session.
#[derive(Debug)]
pub struct ClientLink {
    /// The session's client id.
    pub id: ClientId,
    inputs: Mutex<InputBuffer>,
    commands: Mutex<VecDeque<CommandMessage>>,
    outbox: Mutex<Outbox>,
    notify: Notify,
    /// Smoothed RTT in microseconds (`u32::MAX` until measured); written by the session.
    rtt_us: AtomicU32,
    /// Whether the client reads its view as chunks (protocol version 5, [`super::chunks`]).
    chunks: bool,
    /// What the operator console shows of this client (bytes, drops, input lateness, jitter);
    /// shared with every [`Published`] snapshot so that rendering one counts its bytes.
    pub stats: Arc<LinkStats>,
    /// What the writer renders from, whoever writes (the session or the room).
    sender: Mutex<Sender>,
    /// The session's socket, while the room may write to it itself (plain TCP).
    direct: Mutex<Option<Arc<DirectSocket>>>,
}

/// What a client's writer keeps between ticks, whoever writes (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Sender {
    /// What the client was sent last: the baseline of its next snapshot.
    last_sent: Option<Shown>,
    /// What [`ClientLink::collect`] took from the outbox; the writer sends its batches.
    pub(crate) outgoing: Outgoing,
    /// The snapshot message [`ClientLink::collect`] rendered, when it had one.
    pub(crate) snapshot: Vec<u8>,
}

/// What [`ClientLink::collect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Collected {
    /// A snapshot message was rendered ([`Sender::snapshot`]).
    pub(crate) snapshot: bool,
    /// The session must end.
    pub(crate) close: Option<DisconnectReason>,
}

/// What a writer takes from the outbox in one go.
#[derive(Debug, Default)]
pub struct Outgoing {
    /// Queued message batches, oldest first.
    pub batches: VecDeque<Batch>,
    /// The latest snapshot, if a new one was published.
    pub snapshot: Option<Published>,
    /// Set when the session must end.
    pub close: Option<DisconnectReason>,
}

impl ClientLink {
    /// A new link for client `id`; a repeated input releases the payload bits set in
    /// `release` (the game's buttons).
    pub fn new(id: ClientId, release: Vec<u8>) -> Self {
        Self {
            id,
            inputs: Mutex::new(InputBuffer::new(INPUT_BUFFER_FRAMES, release)),
            commands: Mutex::new(VecDeque::new()),
            outbox: Mutex::new(Outbox::default()),
            notify: Notify::new(),
            rtt_us: AtomicU32::new(u32::MAX),
            chunks: false,
            stats: Arc::default(),
            sender: Mutex::default(),
            direct: Mutex::new(None),
        }
    }

    /// The same link, for a client that reads its view as chunks (protocol version 5) when the
    /// game has interest management, or not.
    #[must_use]
    pub fn with_chunks(mut self, chunks: bool) -> Self {
        self.chunks = chunks;
        self
    }

    /// Whether the client reads its view as chunks.
    pub fn chunks(&self) -> bool {
        self.chunks
    }

    /// Session side: buffers an input frame for the room; `next_tick` is the room's next tick.
    pub fn push_input(&self, frame: &InputFrame, next_tick: Tick) -> PushOutcome {
        let outcome = self.inputs.lock().push(frame, next_tick);
        let lead = frame.tick.0.wrapping_sub(next_tick.0) as i32;
        self.stats.input(lead, outcome == PushOutcome::Late, outcome == PushOutcome::Accepted);
        outcome
    }

    /// Room side: the input to simulate at `tick`, and the newest real input consumed so far.
    pub fn take_input(&self, tick: Tick) -> (Option<TakenInput>, Option<Tick>) {
        let mut inputs = self.inputs.lock();
        let frame = inputs.take(tick);
        (frame, inputs.last_consumed())
    }

    /// Session side: queues a game command (its payload already checked); `false` when
    /// [`MAX_QUEUED_COMMANDS`] are already waiting.
    pub fn push_command(&self, command: CommandMessage) -> bool {
        let mut queue = self.commands.lock();
        if queue.len() >= MAX_QUEUED_COMMANDS {
            return false;
        }
        queue.push_back(command);
        true
    }

    /// Room side: moves the queued commands, oldest first, to `out`.
    pub fn take_commands(&self, out: &mut Vec<CommandMessage>) {
        let mut queue = self.commands.lock();
        if !queue.is_empty() {
            out.extend(queue.drain(..));
        }
    }

    /// Room side: publishes a tick's frame and its events (one lock), without waking the writer:
    /// the room [`wake`](Self::wake)s it once the tick is over. Says whether
    /// a snapshot was superseded, or the client has been unable to take snapshots for longer
    /// than `slow_after` (or let its batches pile up) and has been told to close (`TooSlow`).
    pub fn publish(
        &self,
        published: Published,
        events: Option<&Batch>,
        now: Instant,
        slow_after: Duration,
    ) -> PublishOutcome {
        let mut out = self.outbox.lock();
        if let Some(events) = events {
            if out.batches.len() >= MAX_QUEUED_BATCHES {
                out.close.get_or_insert(DisconnectReason::TooSlow);
                drop(out);
                self.notify.notify_one();
                return PublishOutcome::TooSlow;
            }
            out.batches.push_back(events.clone());
        }
        let superseded = out.snapshot.replace(published).is_some();
        if superseded {
            self.stats.snapshot_dropped();
            let since = *out.behind_since.get_or_insert(now);
            if now.duration_since(since) > slow_after && out.close.is_none() {
                out.close = Some(DisconnectReason::TooSlow);
                drop(out);
                self.notify.notify_one();
                return PublishOutcome::TooSlow;
            }
        } else {
            out.behind_since = None;
        }
        drop(out);
        if superseded { PublishOutcome::Superseded } else { PublishOutcome::Queued }
    }

    /// Room side: queues a batch of messages outside the tick (e.g. the player list for a
    /// newcomer); if the queue is full the client is told to close.
    pub fn send(&self, batch: Batch) -> bool {
        let mut out = self.outbox.lock();
        if out.batches.len() >= MAX_QUEUED_BATCHES {
            out.close.get_or_insert(DisconnectReason::TooSlow);
            drop(out);
            self.notify.notify_one();
            return false;
        }
        out.batches.push_back(batch);
        drop(out);
        self.wake();
        true
    }

    /// Asks the session to end with `reason` (the first reason wins).
    pub fn close(&self, reason: DisconnectReason) {
        self.outbox.lock().close.get_or_insert(reason);
        self.notify.notify_one();
    }

    /// Writer side: waits until something was published (cancel-safe).
    pub async fn notified(&self) {
        self.notify.notified().await;
    }

    /// Room side: tells the writer that something was published. The room writes it to the
    /// socket itself when the session lent it one and is not writing, else the session is
    /// woken.
    pub fn wake(&self) {
        let direct = self.direct.lock().clone();
        if direct.is_some_and(|d| d.try_send(self)) {
            return;
        }
        self.notify.notify_one();
    }

    /// Session side: lends the room the session's socket (`Some`), or takes it back (`None`,
    /// before the session says goodbye: the room never writes after that).
    pub(crate) fn set_direct(&self, direct: Option<Arc<DirectSocket>>) {
        *self.direct.lock() = direct;
    }

    /// The writer's state; the session locks it only to [`collect`](Self::collect), and the
    /// room only tries to.
    pub(crate) fn sender(&self) -> &Mutex<Sender> {
        &self.sender
    }

    /// Writer side (the session's or the room's): takes everything pending into `s` and renders
    /// the snapshot, if there is one, against the one sent last, which it becomes.
    pub(crate) fn collect(&self, s: &mut Sender, metrics: &Metrics) -> Collected {
        self.take(&mut s.outgoing);
        let close = s.outgoing.close;
        let Some(published) = s.outgoing.snapshot.take() else {
            return Collected { snapshot: false, close };
        };
        let encodes = published.render(s.last_sent.as_ref(), &mut s.snapshot);
        metrics.snapshot_encodes.inc_by(encodes as u64);
        metrics.snapshot_bytes.observe(s.snapshot.len() as f64);
        s.last_sent = Some(published.shown);
        Collected { snapshot: true, close }
    }

    /// Writer side: takes everything pending. `into` is reused to avoid allocation.
    pub fn take(&self, into: &mut Outgoing) {
        let mut out = self.outbox.lock();
        std::mem::swap(&mut into.batches, &mut out.batches);
        into.snapshot = out.snapshot.take();
        into.close = out.close;
        drop(out);
        let bytes: usize = into.batches.iter().flat_map(|b| b.iter()).map(|m| m.len()).sum();
        self.stats.sent(bytes);
    }

    /// Session side: records the smoothed RTT and its variation (the jitter the client is told).
    pub fn set_rtt(&self, rtt: Duration, jitter: Duration) {
        self.rtt_us
            .store(u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX - 1), Ordering::Relaxed);
        self.stats.set_jitter(jitter);
    }

    /// Room side: the smoothed RTT, if measured.
    pub fn rtt(&self) -> Option<Duration> {
        match self.rtt_us.load(Ordering::Relaxed) {
            u32::MAX => None,
            us => Some(Duration::from_micros(u64::from(us))),
        }
    }
}

/// What [`ClientLink::publish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// The writer had taken the previous snapshot.
    Queued,
    /// The previous snapshot was still waiting and was dropped.
    Superseded,
    /// The client stayed behind too long and was told to close.
    TooSlow,
}
