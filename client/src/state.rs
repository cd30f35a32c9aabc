//! [`ClientState`]: the sans-IO core of a Tickwire client. No sockets, no clock, no runtime:
//! bytes come in through [`handle_bytes`](ClientState::handle_bytes), messages to send come out
//! of [`poll_transmit`](ClientState::poll_transmit), and time is the `now` argument (any fixed
//! epoch), so tests drive it with injected time and the async driver with a real clock.
//!
//! # Life of a session
//!
//! 1. [`new`](ClientState::new) queues the `Hello`.
//! 2. The `Welcome` starts the clock ([`crate::clock`]), the predictor ([`crate::predict`]) and
//!    the pings; a `Reject` ends the state with [`EndReason::Rejected`].
//! 3. Each `Snapshot` is decoded against the held snapshot its `baseline` names (normally the
//!    newest), into the buffers of the snapshot the history forgot last (no allocation once
//!    warm), and appended to the history ([`crate::interp`]); it feeds the clock, a
//!    snapshot-interval sample, and the reconciliation of the local player.
//! 4. Once per tick the driver calls [`send_input`](ClientState::send_input) with the game's
//!    input: it encodes it with the game's schema and stamps the frame with the tick the server
//!    will be at when the frame arrives (plus a jitter margin), the view time being drawn, and
//!    the newest snapshot held, and predicts it (with the input as the server will decode it).
//! 5. Server pings are answered (with the time they were held), our own pings measure the RTT,
//!    events (Tickwire's and the game's, decoded with the game's schema) are queued for
//!    [`poll_event`](ClientState::poll_event); game commands go out with
//!    [`send_command`](ClientState::send_command).
//! 6. `Disconnect`, a protocol error, silence for [`Tuning::silence_timeout`], or
//!    [`leave`](ClientState::leave) end it: [`end_reason`](ClientState::end_reason) says why.
//! 7. After a drop ([`EndReason::is_resumable`]) the driver may [`restart`](ClientState::restart)
//!    the state on a new connection: it queues a hello carrying the resume ticket of the last
//!    welcome (PROTOCOL.md §1.3) and keeps the snapshot history (interpolation carries on
//!    across the outage; the server's first snapshot on the new connection is full), the
//!    counters and the RTT estimate. A welcome with `resumed` continues the same player; a
//!    fresh join (after `ResumeFailed`) starts over with a new one.
//!
//! # Choosing the input tick
//!
//! The server simulates an input stamped `T` when it steps to `T`, and drops it if it arrives
//! later. With `server_now` the clock's estimate of the server's tick, the frame must be stamped
//! `floor(server_now + rtt/2 + margin) + 1`, with
//! `margin = Tuning::input_margin_ticks + 2·jitter + rttvar + late` (arrival jitter and RTT
//! variation in ticks, together at most 6; `late`, at most 4, grows with each input the
//! snapshots show arrived late and decays while none does: [`crate::late`]).
//! Consecutive frames get consecutive ticks, so the server does not have to fill a hole. More
//! than two ticks early a call sends nothing (the stream pauses, leaving no hole). A tick or more
//! late (the game loop stalled, or the client's runtime woke it late), a call stamps the target
//! and leaves the ticks it missed to the server, which repeats the last input over them with its
//! buttons released, as the predictor does: a frame for a missed tick would have part of its
//! margin spent before it left, reach the server after it simulated that tick, and be corrected.
//! (Measured: at 2,000 bots in rooms of 100 on 2 cores, they were most of the late inputs.)

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tickwire_protocol::codec::{decode_server, encode_client_into};
use tickwire_protocol::game::Payload;
use tickwire_protocol::message::{
    Chat, ChunksMessage, ClientMessage, CommandMessage, DisconnectReason, EventMessage, Hello,
    InputFrame, Ping, Pong, ResumeTicket, RoomEvent, RttReport, ServerMessage, SnapshotMessage,
    ViewTime, Welcome,
};
use tickwire_protocol::snapshot::{DecodeLimits, SnapshotDecoder};
use tickwire_protocol::{ClientId, EntityId, GameSchema, Schema, Snapshot, SnapshotError, Tick};
use tickwire_sim::Predict;

use crate::clock::{ClockSync, RESYNC_TICKS};
use crate::error::{ClientError, EndReason, ProtocolError};
use crate::forensics::{self, LineQueue};
use crate::interp::{Bracket, Interpolated, SnapshotHistory, render_delay};
use crate::late::LateMargin;
use crate::predict::Predictor;
use crate::rtt::{PingTracker, RttEstimator, micros};
use crate::stats::{ClientStats, Samples};

/// Most players remembered from `Joined` events.
const MAX_PLAYERS: usize = 4096;
/// Most messages waiting in [`ClientState::poll_transmit`]; beyond, the oldest non-input
/// message is kept and new pings/chat are refused (the driver drains every tick).
const MAX_TRANSMIT: usize = 64;
/// Most game commands sent in any one second (the server's default `--max-command-rate`).
pub const COMMANDS_PER_SECOND: usize = 10;

/// Knobs of the core, with defaults that suit a 30 Hz server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// Snapshots kept for interpolation (and as delta baselines); at least 1. With 1 there is
    /// no interpolation ([`ClientState::bracket`] gives the newest snapshot as it is) and each
    /// delta is decoded in place into the newest snapshot, without copying it: for a headless
    /// client (a bot) that never draws remote entities.
    pub history_len: usize,
    /// Base interpolation delay behind the newest snapshot, ticks (jitter adds to it).
    pub interp_delay_ticks: f64,
    /// Safety margin added to the input tick, ticks (jitter adds to it).
    pub input_margin_ticks: f64,
    /// The most that late inputs add to the input margin, ticks ([`crate::late`]); 0 keeps
    /// inputs on the clock's margin alone, however late they come.
    pub max_late_margin_ticks: f64,
    /// Interval between our own pings (at least 100 ms).
    pub ping_interval: Duration,
    /// The session ends with [`EndReason::Timeout`] after this long without any message.
    pub silence_timeout: Duration,
    /// Game events kept until [`ClientState::poll_event`] takes them; the oldest are dropped.
    /// 0 keeps none, for a client that never reads them (a headless bot): each is counted, as
    /// received and as dropped, and nothing is queued for the event channel.
    pub max_events: usize,
    /// Bounds on decoded snapshots.
    pub decode_limits: DecodeLimits,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            history_len: 8,
            interp_delay_ticks: 2.0,
            input_margin_ticks: 1.0,
            max_late_margin_ticks: crate::late::MAX_TICKS,
            ping_interval: Duration::from_secs(1),
            silence_timeout: Duration::from_secs(10),
            max_events: 256,
            decode_limits: DecodeLimits::default(),
        }
    }
}

/// A player announced by a `Joined` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerInfo {
    /// Its client id.
    pub client: ClientId,
    /// Its entity.
    pub entity: EntityId,
    /// Its display name.
    pub name: String,
}

/// Something that happened in the room: Tickwire's own events (who joined, left, said what)
/// and the game's, decoded with its schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<E> {
    /// A player joined (also sent for every player present after a welcome: a player may be
    /// announced twice; [`ClientState::players`] keys them by client id).
    Joined {
        /// The player's client id.
        client: ClientId,
        /// The player's entity.
        entity: EntityId,
        /// The player's name.
        name: String,
    },
    /// A player left.
    Left {
        /// The player's client id.
        client: ClientId,
        /// The player's name.
        name: String,
    },
    /// A chat line.
    Chat {
        /// Sender.
        from: ClientId,
        /// Sender's name.
        name: String,
        /// The text.
        text: String,
    },
    /// An event of the game.
    Game(E),
}

/// An [`Event`] and the tick it happened on.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent<E> {
    /// Tick of the event.
    pub tick: Tick,
    /// What happened.
    pub event: Event<E>,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Handshake,
    Playing,
    Ended(EndReason),
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Handshake => "waiting for the welcome",
            Phase::Playing => "playing",
            Phase::Ended(_) => "ended",
        }
    }
}

/// A message waiting to be sent.
#[derive(Debug, Clone)]
enum Transmit {
    Message(ClientMessage),
    /// An answer to a server ping; `held_us` is measured when it leaves.
    Pong {
        ping: Ping,
        received: Duration,
    },
}

/// What exists once the welcome arrived.
#[derive(Debug, Clone)]
struct Session<P: Predict> {
    welcome: Welcome,
    clock: ClockSync,
    predictor: Predictor<P>,
    /// Margin earned by late inputs.
    late: LateMargin,
}

/// The sans-IO client core of game `P` (see the module docs).
#[derive(Debug)]
pub struct ClientState<P: Predict> {
    /// The first hello (a restart sends it again, with or without a resume ticket).
    hello: Hello,
    game: &'static GameSchema,
    rules: P::Rules,
    tuning: Tuning,
    phase: Phase,
    session: Option<Session<P>>,
    rtt: RttEstimator,
    pings: PingTracker,
    server_rtt: Option<RttReport>,
    history: SnapshotHistory,
    /// Decodes every snapshot, keeping its scratch space from one to the next.
    decoder: SnapshotDecoder,
    /// The controlled entity's row, read from a history of one (its replica).
    row: Vec<u32>,
    /// The snapshot the history forgot last, whose buffers the next decode fills (empty until
    /// the history is full; a failed decode hands its buffer back here).
    spare: Snapshot,
    last_input_ack: Option<Tick>,
    last_snapshot_at: Option<Duration>,
    last_received: Duration,
    last_input_sent: Option<Tick>,
    last_chat: Option<Duration>,
    /// When the commands of the last second left (at most [`COMMANDS_PER_SECOND`]).
    recent_commands: std::collections::VecDeque<Duration>,
    /// When the hello left: the hello → welcome exchange is the first RTT sample.
    hello_sent_at: Option<Duration>,
    transmit: VecDeque<Transmit>,
    events: VecDeque<TimedEvent<P::Event>>,
    players: BTreeMap<ClientId, PlayerInfo>,
    stats: ClientStats,
    samples: Samples,
    /// The forensics log's lines until the driver takes them; `None` when the log is off
    /// ([`crate::forensics`]).
    forensics: Option<LineQueue>,
}

impl<P: Predict> ClientState<P> {
    /// A state that will say `hello` (queued for [`poll_transmit`](Self::poll_transmit)) to
    /// play the game `game` describes, predicting with `rules`. Fails if the hello is invalid
    /// (bad room, name or token).
    pub fn new(
        hello: Hello,
        game: &'static GameSchema,
        rules: P::Rules,
        tuning: Tuning,
        now: Duration,
    ) -> Result<Self, ClientError> {
        let msg = ClientMessage::Hello(hello.clone());
        msg.validate().map_err(ClientError::InvalidHello)?;
        let mut transmit = VecDeque::with_capacity(8);
        transmit.push_back(Transmit::Message(msg));
        Ok(Self {
            hello,
            game,
            rules,
            tuning,
            phase: Phase::Handshake,
            session: None,
            rtt: RttEstimator::default(),
            pings: PingTracker::new(tuning.ping_interval, now),
            server_rtt: None,
            history: SnapshotHistory::new(tuning.history_len),
            decoder: SnapshotDecoder::new(),
            row: Vec::new(),
            spare: Snapshot::default(),
            last_input_ack: None,
            last_snapshot_at: None,
            last_received: now,
            last_input_sent: None,
            last_chat: None,
            recent_commands: std::collections::VecDeque::new(),
            hello_sent_at: None,
            transmit,
            events: VecDeque::new(),
            players: BTreeMap::new(),
            stats: ClientStats::default(),
            samples: Samples::default(),
            forensics: None,
        })
    }

    // ---- input: bytes and time ---------------------------------------------------------

    /// Handles one WebSocket message received at `now`. An error has already ended the state
    /// (and queued `Disconnect(ProtocolViolation)`); messages after the end are ignored.
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.stats.messages_received += 1;
        self.stats.bytes_received += bytes.len() as u64;
        if self.is_ended() {
            return Ok(());
        }
        self.last_received = now;
        match decode_server(bytes) {
            Ok(msg) => self.handle_message(now, msg),
            Err(e) => {
                self.stats.decode_errors += 1;
                Err(self.fail(e.into()))
            }
        }
    }

    /// Handles one decoded message received at `now` (see [`handle_bytes`](Self::handle_bytes)).
    pub fn handle_message(
        &mut self,
        now: Duration,
        msg: ServerMessage,
    ) -> Result<(), ProtocolError> {
        if self.is_ended() {
            return Ok(());
        }
        let playing = self.phase == Phase::Playing;
        match msg {
            ServerMessage::Welcome(w) if !playing => self.start(now, w),
            ServerMessage::Reject(r) if !playing => {
                self.phase = Phase::Ended(EndReason::Rejected(r))
            }
            ServerMessage::Snapshot(s) if playing => return self.on_snapshot(now, s),
            ServerMessage::Chunks(c) if playing => return self.on_chunks(now, c),
            ServerMessage::Ping(ping) => {
                self.stats.server_pings += 1;
                self.queue(Transmit::Pong { ping, received: now });
            }
            ServerMessage::Pong(pong) => {
                if let Some(rtt) = self.pings.answer(now, &pong) {
                    self.stats.pongs_received += 1;
                    self.rtt.sample(rtt);
                    self.samples.push_rtt(rtt);
                }
            }
            ServerMessage::Rtt(report) => self.server_rtt = Some(report),
            ServerMessage::Event(e) if playing => return self.on_event(e),
            ServerMessage::Disconnect(reason) => {
                self.phase = Phase::Ended(EndReason::Server(reason))
            }
            other => {
                let phase = self.phase.name();
                return Err(self.fail(ProtocolError::Unexpected { message: other.name(), phase }));
            }
        }
        Ok(())
    }

    /// Does what is due at `now`: a ping, or ending a silent session. Call it at
    /// [`next_timeout`](Self::next_timeout) (calling it more often is harmless).
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.phase != Phase::Playing {
            return;
        }
        if now.saturating_sub(self.last_received) >= self.tuning.silence_timeout {
            self.phase = Phase::Ended(EndReason::Timeout);
            return;
        }
        if let Some(ping) = self.pings.poll(now) {
            self.stats.pings_sent += 1;
            self.queue(Transmit::Message(ClientMessage::Ping(ping)));
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has something to do.
    pub fn next_timeout(&self) -> Option<Duration> {
        (self.phase == Phase::Playing)
            .then(|| self.pings.next_due().min(self.last_received + self.tuning.silence_timeout))
    }

    /// Leaves: queues `Disconnect(ClientLeft)` and ends the state with [`EndReason::Left`].
    pub fn leave(&mut self) {
        if !self.is_ended() {
            self.transmit.clear();
            self.transmit.push_back(Transmit::Message(ClientMessage::Disconnect(
                DisconnectReason::ClientLeft,
            )));
            self.phase = Phase::Ended(EndReason::Left);
        }
    }

    /// Ends the state because the transport did (`Closed`, `ConnectionLost`); no effect if it
    /// already ended (a `Disconnect` received before the close keeps its reason).
    pub fn transport_ended(&mut self, reason: EndReason) {
        if !self.is_ended() {
            self.phase = Phase::Ended(reason);
        }
    }

    /// Starts over on a new connection after the last one ended (see the module docs): queues
    /// the hello, with the resume ticket of the last welcome when `resume` is set and there was
    /// one, or a plain hello for a fresh join (which forgets the snapshot history). Returns
    /// the resume ticket sent, if any.
    pub fn restart(&mut self, now: Duration, resume: bool) -> Option<ResumeTicket> {
        let ticket = self.session.as_ref().filter(|_| resume).map(|s| ResumeTicket {
            client_id: s.welcome.client_id,
            secret: s.welcome.resume_secret,
        });
        if ticket.is_none() {
            self.history = SnapshotHistory::new(self.tuning.history_len);
        }
        // The new connection's first view is sent in full.
        self.history.forget_chunks();
        let hello = Hello { resume: ticket, ..self.hello.clone() };
        self.transmit.clear();
        self.transmit.push_back(Transmit::Message(ClientMessage::Hello(hello)));
        self.phase = Phase::Handshake;
        self.pings = PingTracker::new(self.tuning.ping_interval, now);
        self.last_received = now;
        self.last_snapshot_at = None;
        self.last_input_sent = None;
        self.last_input_ack = None;
        self.hello_sent_at = None;
        self.stats.reconnect_attempts += 1;
        ticket
    }

    /// Records how long the last outage lasted (the driver measures it: from the drop to the
    /// next welcome).
    pub fn record_outage(&mut self, outage: Duration) {
        self.samples.push_outage(outage);
    }

    /// Ends the state with `reason`, replacing the reason of an earlier end (the supervisor's
    /// final word: given up reconnecting, or left while waiting to reconnect).
    pub fn end_with(&mut self, reason: EndReason) {
        self.phase = Phase::Ended(reason);
    }

    /// Queues a chat line (1..=200 bytes, no control characters, at most one per second).
    pub fn queue_chat(&mut self, now: Duration, text: &str) -> Result<(), ClientError> {
        if self.phase != Phase::Playing {
            return Err(ClientError::Chat("the session is not open"));
        }
        let msg = ClientMessage::Chat(Chat { text: text.to_owned() });
        if msg.validate().is_err() {
            return Err(ClientError::Chat("1..=200 bytes without control characters"));
        }
        if self.last_chat.is_some_and(|t| now < t + Duration::from_secs(1)) {
            return Err(ClientError::Chat("at most one line per second"));
        }
        self.last_chat = Some(now);
        self.queue(Transmit::Message(msg));
        Ok(())
    }

    /// Queues a game command (it reaches the game at the start of a tick). At most
    /// [`COMMANDS_PER_SECOND`] leave in any second: the server ends a session that sends more
    /// than its `--max-command-rate` (10 by default), so the client refuses them instead.
    pub fn send_command(&mut self, now: Duration, command: &P::Command) -> Result<(), ClientError> {
        if self.phase != Phase::Playing {
            return Err(ClientError::Command("the session is not open"));
        }
        if usize::from(command.kind()) >= self.game.commands().len() {
            return Err(ClientError::Command("the game declares no such command"));
        }
        while self.recent_commands.front().is_some_and(|&t| now >= t + Duration::from_secs(1)) {
            self.recent_commands.pop_front();
        }
        if self.recent_commands.len() >= COMMANDS_PER_SECOND {
            return Err(ClientError::Command("at most 10 commands per second"));
        }
        self.recent_commands.push_back(now);
        let (kind, payload) = self.game.encode_command(command);
        self.queue(Transmit::Message(ClientMessage::Command(CommandMessage { kind, payload })));
        Ok(())
    }

    /// Samples the tick's input: encodes it, stamps it with the input tick (see the module
    /// docs), predicts it and queues it. Returns how many frames were queued: 0 (the stream
    /// pauses, or there is no session) or 1.
    pub fn send_input(&mut self, now: Duration, input: &P::Input) -> usize {
        let Some(target) = self.input_target(now) else {
            return 0;
        };
        let view = self.view_time(now);
        let last_snapshot = self.history.newest_tick();
        let Some(session) = &mut self.session else {
            return 0;
        };
        let at_target = session.clock.split(target).0;
        let mut tick = match self.last_input_sent {
            None => at_target,
            Some(last) => {
                let next = last.next();
                let lag = target - session.clock.relative(next);
                let far = lag.abs() > RESYNC_TICKS;
                if lag < -2.0 && !far {
                    return 0;
                }
                // A tick or more behind, or far off: stamp the target, and leave the ticks in
                // between to the server's repeat (and the predictor's).
                if lag >= 1.0 || far { at_target } else { next }
            }
        };
        // Never a tick the newest snapshot already covers: the server has simulated it.
        if let Some(s) = last_snapshot
            && !tick.is_newer_than(s)
        {
            tick = s.next();
        }
        let payload = self.game.encode_input(input);
        // The input as the server will decode it (its fields quantized), for prediction.
        let decoded: P::Input = self.game.decode_input(&payload).unwrap_or_else(|_| input.clone());
        session.predictor.apply(tick, decoded);
        let frame = InputFrame { tick, last_snapshot, view, payload };
        self.transmit.push_back(Transmit::Message(ClientMessage::Input(frame)));
        self.last_input_sent = Some(tick);
        self.stats.inputs_sent += 1;
        1
    }

    // ---- output: bytes and events -------------------------------------------------------

    /// Turns the forensics log on ([`crate::forensics`]): from the next welcome on, a header
    /// line per welcome and a line per tick the predictor resolves.
    pub fn record_forensics(&mut self) {
        self.forensics.get_or_insert_with(LineQueue::default);
        if let Some(s) = &mut self.session {
            s.predictor.record_resolved();
        }
    }

    /// Moves the forensics log's pending lines, oldest first, to `out`.
    pub fn take_forensics(&mut self, out: &mut Vec<String>) {
        if let Some(q) = &mut self.forensics {
            q.take(out);
        }
    }

    /// Forensics lines dropped because nobody took them in time.
    pub fn forensics_dropped(&self) -> u64 {
        self.forensics.as_ref().map_or(0, LineQueue::dropped)
    }

    /// The next message to send, encoded, at `now`.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        self.poll_transmit_into(now, &mut bytes).then_some(bytes)
    }

    /// [`poll_transmit`](Self::poll_transmit) into `out` (cleared first), reusing its
    /// allocation; `false` when there is nothing to send.
    pub fn poll_transmit_into(&mut self, now: Duration, out: &mut Vec<u8>) -> bool {
        out.clear();
        let Some(next) = self.transmit.pop_front() else {
            return false;
        };
        let msg = match next {
            Transmit::Message(m @ ClientMessage::Hello(_)) => {
                self.hello_sent_at = Some(now);
                m
            }
            Transmit::Message(m) => m,
            Transmit::Pong { ping, received } => ClientMessage::Pong(Pong {
                id: ping.id,
                echo_us: ping.sent_us,
                held_us: u32::try_from(micros(now.saturating_sub(received))).unwrap_or(u32::MAX),
            }),
        };
        encode_client_into(&msg, out);
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += out.len() as u64;
        true
    }

    /// Whether messages are waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn has_transmit(&self) -> bool {
        !self.transmit.is_empty()
    }

    /// Game events waiting in [`poll_event`](Self::poll_event).
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// The oldest event not yet taken.
    pub fn poll_event(&mut self) -> Option<TimedEvent<P::Event>> {
        self.events.pop_front()
    }

    /// Moves the latency samples gathered since the last call into `out`.
    pub fn take_samples(&mut self, out: &mut Samples) {
        self.samples.drain_into(out);
    }

    // ---- queries -------------------------------------------------------------------------

    /// Why the session ended, once it has.
    pub fn end_reason(&self) -> Option<&EndReason> {
        match &self.phase {
            Phase::Ended(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the session has ended.
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended(_))
    }

    /// Whether the welcome arrived and the session has not ended.
    pub fn is_playing(&self) -> bool {
        self.phase == Phase::Playing
    }

    /// The welcome, once received.
    pub fn welcome(&self) -> Option<&Welcome> {
        self.session.as_ref().map(|s| &s.welcome)
    }

    /// The entity this client controls.
    pub fn own_entity(&self) -> Option<EntityId> {
        self.welcome().map(|w| w.entity)
    }

    /// The game's replicated components (what snapshots are decoded with).
    pub fn schema(&self) -> &'static Schema {
        self.game.components()
    }

    /// The game's whole schema.
    pub fn game(&self) -> &'static GameSchema {
        self.game
    }

    /// The rules used for prediction.
    pub fn rules(&self) -> &P::Rules {
        &self.rules
    }

    /// The tuning in force.
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        let mut s = self.stats;
        s.clock_resyncs = self.session.as_ref().map_or(0, |s| s.clock.resyncs());
        s
    }

    /// The clock, once welcomed.
    pub fn clock(&self) -> Option<&ClockSync> {
        self.session.as_ref().map(|s| &s.clock)
    }

    /// Smoothed RTT of our own pings.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt.srtt()
    }

    /// The RTT estimator (smoothed value, variation, last sample).
    pub fn rtt_estimator(&self) -> &RttEstimator {
        &self.rtt
    }

    /// The server's measurement of our RTT, as last reported.
    pub fn server_rtt(&self) -> Option<RttReport> {
        self.server_rtt
    }

    /// The snapshots held, oldest first; the newest is the world as last received.
    pub fn history(&self) -> &SnapshotHistory {
        &self.history
    }

    /// The newest snapshot.
    pub fn latest_snapshot(&self) -> Option<&Snapshot> {
        self.history.newest()
    }

    /// The snapshot of `tick`, if still held.
    pub fn snapshot(&self, tick: Tick) -> Option<&Snapshot> {
        self.history.get(tick)
    }

    /// The newest input tick the server had simulated, per the newest snapshot.
    pub fn last_input_ack(&self) -> Option<Tick> {
        self.last_input_ack
    }

    /// The tick of the newest input sent.
    pub fn last_input_sent(&self) -> Option<Tick> {
        self.last_input_sent
    }

    /// Players announced by `Joined` events (and not `Left`), by client id.
    pub fn players(&self) -> &BTreeMap<ClientId, PlayerInfo> {
        &self.players
    }

    /// The server's current tick at `now`, estimated: the tick and the fraction elapsed of the
    /// next one.
    pub fn server_tick(&self, now: Duration) -> Option<(Tick, f64)> {
        let s = self.session.as_ref()?;
        Some(s.clock.split(s.clock.server_now(now, self.rtt_or_zero())))
    }

    /// The render time of remote entities at `now`, in ticks relative to the clock's origin:
    /// `arrival − delay`, never past the newest snapshot. `None` before the first snapshot.
    pub fn render_time(&self, now: Duration) -> Option<f64> {
        let s = self.session.as_ref()?;
        let newest = s.clock.relative(self.history.newest_tick()?);
        let delay = render_delay(self.tuning.interp_delay_ticks, s.clock.jitter_ticks());
        Some((s.clock.arrival(now) - delay).min(newest))
    }

    /// The view time to report at `now` (what is being drawn): the render time as a tick and
    /// 1/256ths.
    pub fn view_time(&self, now: Duration) -> ViewTime {
        let (Some(s), Some(render)) = (&self.session, self.render_time(now)) else {
            return ViewTime::default();
        };
        let (tick, frac) = s.clock.split(render);
        ViewTime { tick, fraction: (frac * 256.0).floor().clamp(0.0, 255.0) as u8 }
    }

    /// The snapshots around the render time at `now`, to interpolate remote entities.
    pub fn bracket(&self, now: Duration) -> Option<Bracket<'_>> {
        let s = self.session.as_ref()?;
        self.history.bracket(self.game.components(), s.clock.origin(), self.render_time(now)?)
    }

    /// Entity `id` interpolated at the render time at `now`.
    pub fn entity(&self, now: Duration, id: EntityId) -> Option<Interpolated<'_>> {
        self.bracket(now)?.entity(id)
    }

    /// The controlled entity's predicted state (after every input sent).
    pub fn predicted(&self) -> Option<&P::State> {
        self.session.as_ref()?.predictor.predicted()
    }

    /// The state `input` would lead to from the prediction (to aim from where a shot will be
    /// fired).
    pub fn peek(&self, input: &P::Input) -> Option<P::State> {
        self.session.as_ref()?.predictor.peek(input)
    }

    /// The controlled entity's state as the newest snapshot has it.
    pub fn server_state(&self) -> Option<P::State> {
        let mut row = Vec::new();
        let e = self.history.newest_entity(self.own_entity()?, &mut row)?;
        P::read_state(self.game.components(), e)
    }

    /// Inputs sent and not yet covered by a snapshot.
    pub fn pending_inputs(&self) -> usize {
        self.session.as_ref().map_or(0, |s| s.predictor.pending())
    }

    // ---- internals -----------------------------------------------------------------------

    fn rtt_or_zero(&self) -> Duration {
        self.rtt
            .srtt()
            .or_else(|| self.server_rtt.map(|r| Duration::from_micros(r.rtt_us.into())))
            .unwrap_or_default()
    }

    /// The tick (relative, real-valued) an input sent at `now` should carry.
    fn input_target(&self, now: Duration) -> Option<f64> {
        let s = self.session.as_ref().filter(|_| self.phase == Phase::Playing)?;
        let rtt = self.rtt_or_zero();
        let at_arrival = s.clock.server_now(now, rtt) + s.clock.ticks(rtt) * 0.5;
        // Arrival jitter covers the server → client path; the RTT variation also covers the
        // way back, which is the one inputs take.
        let spread = 2.0 * s.clock.jitter_ticks() + s.clock.ticks(self.rtt.rttvar());
        let margin = self.tuning.input_margin_ticks + spread.min(6.0) + s.late.ticks(now);
        Some((at_arrival + margin).floor() + 1.0)
    }

    fn start(&mut self, now: Duration, welcome: Welcome) {
        if let Some(sent) = self.hello_sent_at {
            self.rtt.sample(now.saturating_sub(sent));
        }
        if welcome.resumed {
            self.stats.resumes += 1;
        } else if self.session.is_some() {
            // A fresh join after the old session expired: a new player.
            self.stats.sessions_lost += 1;
        }
        // The roster follows every welcome.
        self.players.clear();
        let clock = ClockSync::new(welcome.tick_rate, welcome.server_tick, now);
        let mut predictor =
            Predictor::new(self.rules.clone(), welcome.tick_rate, self.game.input());
        if let Some(q) = &mut self.forensics {
            q.push(forensics::header_line(self.game, &welcome));
            predictor.record_resolved();
        }
        self.session = Some(Session { welcome, clock, predictor, late: LateMargin::default() });
        self.phase = Phase::Playing;
    }

    fn on_snapshot(&mut self, now: Duration, msg: SnapshotMessage) -> Result<(), ProtocolError> {
        let newest = self.history.newest_tick();
        if newest.is_some_and(|n| !msg.tick.is_newer_than(n)) {
            self.stats.stale_snapshots += 1;
            return Ok(());
        }
        if let Some(b) = msg.baseline
            && !self.history.holds(b)
        {
            self.stats.decode_errors += 1;
            let e = SnapshotError::BaselineMismatch { tick: msg.tick, expected: b, actual: newest };
            return Err(self.fail(e.into()));
        }
        match self.decode(&msg) {
            Ok(Some(snap)) => {
                if let Some(old) = self.history.push(snap) {
                    self.spare = old;
                }
            }
            Ok(None) => {} // decoded in the history
            Err(e) => {
                self.stats.decode_errors += 1;
                return Err(self.fail(e.into()));
            }
        }
        self.received(now, msg.tick, msg.baseline.is_none(), msg.last_input)
    }

    /// A view as chunks (protocol version 5, `PROTOCOL.md` §6.10): applied to the chunks the
    /// history holds, and the newest snapshot of the history (see
    /// [`SnapshotHistory::apply_chunks`]).
    fn on_chunks(&mut self, now: Duration, msg: ChunksMessage) -> Result<(), ProtocolError> {
        let schema = self.game.components();
        let limits = &self.tuning.decode_limits;
        let (decoder, spare) = (&mut self.decoder, &mut self.spare);
        match self.history.apply_chunks(decoder, schema, &msg, limits, spare) {
            Ok(true) => self.received(now, msg.tick, msg.baseline.is_none(), msg.last_input),
            Ok(false) => {
                self.stats.stale_snapshots += 1;
                Ok(())
            }
            Err(e) => {
                self.stats.decode_errors += 1;
                Err(self.fail(e.into()))
            }
        }
    }

    /// What follows a snapshot (or a view as chunks) added to the history: the counters, a
    /// snapshot-gap sample, the clock and the reconciliation of the local player.
    fn received(
        &mut self,
        now: Duration,
        tick: Tick,
        full: bool,
        last_input: Option<Tick>,
    ) -> Result<(), ProtocolError> {
        let schema = self.game.components();
        self.stats.snapshots += 1;
        if full {
            self.stats.full_snapshots += 1;
        }
        if let Some(prev) = self.last_snapshot_at.replace(now) {
            self.samples.push_gap(now.saturating_sub(prev));
        }
        self.last_input_ack = last_input;
        if let Some(s) = &mut self.session {
            s.clock.observe(now, tick);
            let own = self.history.newest_entity(s.welcome.entity, &mut self.row);
            let own = own.and_then(|e| P::read_state(schema, e));
            let r = s.predictor.reconcile(tick, own);
            if r.had_input && last_input.is_none_or(|l| tick.is_newer_than(l)) {
                self.stats.inputs_late += 1;
                s.late.late(now, self.tuning.max_late_margin_ticks);
            }
            if r.checked {
                self.stats.prediction_checks += 1;
                if r.error > 0.0 {
                    self.stats.mispredictions += 1;
                }
            }
            if let Some(q) = &mut self.forensics {
                let mut resolved = Vec::new();
                s.predictor.take_resolved(&mut resolved);
                for r in &resolved {
                    q.push(forensics::tick_line(self.game, r));
                }
            }
        }
        Ok(())
    }

    /// Decodes a snapshot whose baseline (if any) is held: `None` when it was decoded into
    /// the history itself. A delta, when the history keeps only the newest, is decoded into
    /// that (its replica: no pass over every entity; a failure leaves the history empty, as
    /// what remains is no baseline). Otherwise the snapshot the history forgot last lends its
    /// buffers: once they have grown to the room's size, a decode allocates nothing (a failure
    /// hands them back).
    fn decode(&mut self, msg: &SnapshotMessage) -> Result<Option<Snapshot>, SnapshotError> {
        let schema = self.game.components();
        let limits = &self.tuning.decode_limits;
        if msg.baseline.is_some()
            && let Some(replica) = self.history.replica_mut()
        {
            // The baseline is held, and a history with a replica holds only the newest.
            let decoded =
                self.decoder.decode_replica(schema, msg.tick, &msg.payload, limits, replica);
            if decoded.is_err() {
                self.history.forget_replica();
            }
            return decoded.map(|()| None);
        }
        // A snapshot held, not being the newest of a history of one, is in its list.
        let baseline = msg.baseline.and_then(|b| self.history.get(b));
        let mut snap = std::mem::take(&mut self.spare);
        match self.decoder.decode_into(schema, baseline, msg.tick, &msg.payload, limits, &mut snap)
        {
            Ok(()) => Ok(Some(snap)),
            Err(e) => {
                self.spare = snap;
                Err(e)
            }
        }
    }

    fn on_event(&mut self, e: EventMessage) -> Result<(), ProtocolError> {
        self.stats.events += 1;
        let event = match e.event {
            RoomEvent::Joined { client, entity, name } => {
                if self.players.len() < MAX_PLAYERS {
                    let info = PlayerInfo { client, entity, name: name.clone() };
                    self.players.insert(client, info);
                }
                Event::Joined { client, entity, name }
            }
            RoomEvent::Left { client, name } => {
                self.players.remove(&client);
                Event::Left { client, name }
            }
            RoomEvent::Chat { from, name, text } => Event::Chat { from, name, text },
            RoomEvent::Game { kind, payload } => match self.game.decode_event(kind, &payload) {
                Ok(event) => Event::Game(event),
                Err(e) => {
                    self.stats.decode_errors += 1;
                    return Err(self.fail(e.into()));
                }
            },
        };
        if self.tuning.max_events == 0 {
            // Nobody takes events: count them (as received, and dropped) and keep none.
            self.stats.events_dropped += 1;
            return Ok(());
        }
        if self.events.len() >= self.tuning.max_events {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(TimedEvent { tick: e.tick, event });
        Ok(())
    }

    fn queue(&mut self, t: Transmit) {
        if self.transmit.len() < MAX_TRANSMIT {
            self.transmit.push_back(t);
        }
    }

    /// Ends the state with a protocol error and says so to the server.
    fn fail(&mut self, e: ProtocolError) -> ProtocolError {
        self.transmit.clear();
        self.transmit.push_back(Transmit::Message(ClientMessage::Disconnect(
            DisconnectReason::ProtocolViolation,
        )));
        self.phase = Phase::Ended(EndReason::Protocol(e.clone()));
        e
    }
}

#[cfg(test)]
mod tests;
