//! The session's reader: reads frames in its own loop and feeds the room and the writer. It is
//! a future the writer's loop polls beside its other work (one task per session, issue 16);
//! being polled, never re-created, it keeps its place in a frame across the writer's wake-ups
//! (fastwebsockets' frame parsing is not cancel-safe).
//!
//! Each frame read is noted in the session's [`Activity`], which the writer's idle timer reads
//! (no per-frame deadline: see `writer.rs`). Frames come through [`WsReader`], which
//! refuses what RFC 6455 or the size limit forbids, and fragmented messages (see `ws.rs`);
//! text messages end the session here (the protocol is binary). Inputs, commands, pings
//! (protocol and WebSocket) and chat are rate-limited per client. A game payload (input or
//! command) is checked against the game's schema here, before it reaches the room: a payload
//! the schema refuses ends the session (`bad_payload`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tickwire_protocol::codec::decode_client;
use tickwire_protocol::message::{ClientMessage, Pong, RttReport};
use tickwire_protocol::rtt::RttEstimator;
use tickwire_sim::PushOutcome;
use tokio::io::AsyncRead;
use tokio::time::Instant;
use tracing::debug;

use super::end::SessionEnd;
use super::rate::TokenBucket;
use super::writer::{Activity, Control, Pings, WriterCmd};
use super::ws::{Incoming, WsReader};
use crate::ServerCtx;
use crate::room::{ClientLink, RoomHandle};

/// Chat lines per second allowed per client (burst 5).
const CHAT_RATE: f64 = 1.0;

/// What the reader needs.
pub(crate) struct Reader {
    pub(crate) ctx: Arc<ServerCtx>,
    pub(crate) link: Arc<ClientLink>,
    pub(crate) room: RoomHandle,
    pub(crate) ctrl: Control,
    pub(crate) pings: Pings,
    /// When a frame was last read, for the writer's idle timer.
    pub(crate) activity: Activity,
    /// The session's time origin, shared with the writer's pings.
    pub(crate) origin: Instant,
}

impl Reader {
    /// Reads until the session must end, and says why.
    pub(crate) async fn run<R: AsyncRead + Unpin>(self, mut ws: WsReader<R>) -> SessionEnd {
        let cfg = &self.ctx.config;
        let now = Instant::now();
        let game = self.room.game.clone();
        let input_rate = f64::from(cfg.input_rate(game.tick_rate));
        let mut inputs = TokenBucket::new(input_rate, input_rate, now);
        let command_rate = f64::from(cfg.max_command_rate);
        let mut commands = TokenBucket::new(command_rate, command_rate, now);
        let ping_rate = f64::from(cfg.max_ping_rate);
        let mut pings = TokenBucket::new(ping_rate, ping_rate, now);
        let mut chat = TokenBucket::new(CHAT_RATE, 5.0, now);
        let mut rtt = RttEstimator::default();
        loop {
            let incoming = match ws.next().await {
                Err(e) => {
                    debug!(client = %self.link.id, "websocket: {e}");
                    return e.end();
                }
                Ok(incoming) => incoming,
            };
            let read_at = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.activity.store(read_at, Ordering::Relaxed);
            self.ctx.metrics.received(incoming.payload_len());
            let payload = match incoming {
                Incoming::Binary(payload) => payload,
                Incoming::Text(_) => return SessionEnd::TEXT_FRAME,
                Incoming::Close { .. } => return SessionEnd::CLIENT_LEFT,
                Incoming::Pong(_) => continue,
                // A WebSocket ping counts against the ping rate, like a protocol one.
                Incoming::Ping(payload) => {
                    if !pings.allow(Instant::now()) {
                        debug!(client = %self.link.id, "websocket ping flood");
                        return SessionEnd::RATE_LIMITED;
                    }
                    if self.ctrl.push(WriterCmd::WsPong(payload.to_vec())).is_err() {
                        return SessionEnd::RATE_LIMITED;
                    }
                    continue;
                }
            };
            let msg = match decode_client(&payload) {
                Ok(msg) => msg,
                Err(e) => {
                    debug!(client = %self.link.id, "undecodable message: {e}");
                    return SessionEnd::MALFORMED;
                }
            };
            let now = Instant::now();
            match msg {
                ClientMessage::Hello(_) => return SessionEnd::MALFORMED,
                ClientMessage::Disconnect(_) => return SessionEnd::CLIENT_LEFT,
                ClientMessage::Input(input) => {
                    if !inputs.allow(now) {
                        return SessionEnd::RATE_LIMITED;
                    }
                    if let Err(e) = game.schema.input().decode(&input.payload) {
                        debug!(client = %self.link.id, "bad input: {e}");
                        return SessionEnd::BAD_PAYLOAD;
                    }
                    let info = self.room.info();
                    let outcome = self.link.push_input(&input, info.tick().next());
                    if outcome == PushOutcome::Accepted
                        && let Some(lead) = info.lead(input.tick, now)
                    {
                        game.metrics.input_lead.observe(lead);
                    }
                    let i = match outcome {
                        PushOutcome::Accepted => 0,
                        PushOutcome::Duplicate => 1,
                        PushOutcome::Late => 2,
                        PushOutcome::TooFarAhead => 3,
                        PushOutcome::TooLarge => 4,
                    };
                    game.metrics.inputs[i].inc();
                }
                ClientMessage::Command(command) => {
                    if !commands.allow(now) {
                        return SessionEnd::RATE_LIMITED;
                    }
                    if let Err(e) = game.schema.check_command(command.kind, &command.payload) {
                        debug!(client = %self.link.id, "bad command: {e}");
                        return SessionEnd::BAD_PAYLOAD;
                    }
                    let queued = self.link.push_command(command);
                    game.metrics.commands[usize::from(!queued)].inc();
                    if !queued {
                        return SessionEnd::RATE_LIMITED;
                    }
                }
                ClientMessage::Ping(ping) => {
                    if !pings.allow(now) {
                        return SessionEnd::RATE_LIMITED;
                    }
                    let pong = Pong { id: ping.id, echo_us: ping.sent_us, held_us: 0 };
                    if self.ctrl.push(WriterCmd::Pong { pong, received: now }).is_err() {
                        return SessionEnd::RATE_LIMITED;
                    }
                }
                ClientMessage::Pong(pong) => {
                    let since = now.saturating_duration_since(self.origin);
                    let Some(sample) = self.pings.lock().answer(since, &pong) else {
                        debug!(client = %self.link.id, id = pong.id, "pong for no outstanding ping");
                        continue;
                    };
                    rtt.sample(sample);
                    self.ctx.metrics.rtt.observe(sample.as_secs_f64());
                    if let Some(srtt) = rtt.srtt() {
                        self.link.set_rtt(srtt, rtt.rttvar());
                        let report =
                            RttReport { rtt_us: micros(srtt), jitter_us: micros(rtt.rttvar()) };
                        // A full control queue only delays the next report.
                        let _ = self.ctrl.push(WriterCmd::Rtt(report));
                    }
                }
                ClientMessage::Chat(c) => {
                    if !chat.allow(now) {
                        return SessionEnd::RATE_LIMITED;
                    }
                    if self.room.chat(self.link.id, c.text).await.is_err() {
                        return SessionEnd::ROOM_CLOSED;
                    }
                }
            }
        }
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}
