//! The supervisor: the task behind a [`Client`](crate::Client) that owns one connection after
//! another.
//!
//! ```text
//!   connect() ──► open + handshake ──► supervise: run the connection (reader + driver tasks)
//!                                          │ ended
//!                                          ▼
//!             resumable drop and attempts left? ── no ──► Ended(reason) event, task returns
//!                                          │ yes
//!                                          ▼
//!             Reconnecting event, backoff sleep (leave() cuts it short)
//!             ClientState::restart (hello with the resume ticket), open + handshake
//!                 welcome (resumed) ──► Resumed event ──► run the connection again
//!                 welcome (fresh)   ──► Rejoined event (the old player was lost)
//!                 ResumeFailed      ──► next attempt joins afresh, at once
//!                 401 / a refusal that will not change ──► ends
//!                 anything else     ──► next attempt, after the next delay
//! ```
//!
//! The state stays in the shared mutex throughout, so handles keep reading the last snapshots
//! (frozen) during the outage, and counters accumulate across connections.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fastwebsockets::{Frame, OpCode, Payload};
use tickwire_protocol::message::{RejectReason, Welcome};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout_at};

use crate::client::{ClientEvent, Connection, Outage};
use crate::config::ClientConfig;
use crate::driver::{Delivery, Driver, INCOMING_CAPACITY, Shared, read_loop};
use crate::error::{ClientError, EndReason, ProtocolError};
use crate::input::InputSource;
use crate::link::LinkConditioner;
use crate::reconnect::Backoff;
use crate::ws::{self, Target, WsReader, WsWriter};
use tickwire_sim::Predict;

/// An open, welcomed connection.
pub(crate) struct Conn {
    reader: WsReader,
    writer: WsWriter,
    link: Option<LinkConditioner>,
}

/// Opens a connection and runs the hello → welcome exchange with the state's queued hello,
/// within the connect timeout. `resume` puts the hello's ticket in the URL instead of the
/// token (servers with join tokens check it before the upgrade).
pub(crate) async fn open<P: Predict>(
    shared: &Shared<P>,
    config: &ClientConfig<P>,
    target: &Target,
    resume: Option<String>,
) -> Result<Conn, ClientError> {
    let deadline = Instant::now() + config.connect_timeout;
    let (target, token) = match resume {
        Some(ticket) => {
            let sep = if target.path.contains('?') { '&' } else { '?' };
            let path = format!("{}{sep}resume={ticket}", target.path);
            (Target { path, ..target.clone() }, None)
        }
        None => (target.clone(), config.token.as_deref()),
    };
    let open = ws::open(&target, &config.tls, config.offer_subprotocol, token);
    let (mut reader, mut writer) =
        timeout_at(deadline, open).await.map_err(|_| ClientError::Timeout("connecting"))??;
    let mut link = config.link.is_active().then(|| LinkConditioner::new(config.link));
    timeout_at(deadline, handshake(shared, &mut reader, &mut writer, link.as_mut()))
        .await
        .map_err(|_| ClientError::Timeout("waiting for the welcome"))??;
    // Before anyone hears of the welcome, so that a handle never reads a stale status.
    *shared.status.lock() = Connection::Connected;
    Ok(Conn { reader, writer, link })
}

/// Sends the hello and reads until the welcome (or a reject), with the link conditioner's
/// delay on each.
async fn handshake<P: Predict>(
    shared: &Shared<P>,
    reader: &mut WsReader,
    writer: &mut WsWriter,
    mut link: Option<&mut LinkConditioner>,
) -> Result<(), ClientError> {
    if let Some(l) = link.as_deref_mut() {
        sleep(l.delay()).await;
    }
    loop {
        let Some(bytes) = shared.state.lock().poll_transmit(shared.now()) else { break };
        writer.write_frame(Frame::binary(Payload::Owned(bytes))).await?;
    }
    writer.flush().await?;
    let mut ignore = |_| std::future::ready(Ok::<(), std::convert::Infallible>(()));
    loop {
        let frame = reader.read_frame(&mut ignore).await?;
        match frame.opcode {
            OpCode::Binary if frame.fin => {
                if let Some(l) = link.as_deref_mut() {
                    sleep(l.delay()).await;
                }
                let mut state = shared.state.lock();
                let result = state.handle_bytes(shared.now(), &frame.payload);
                if let Some(reason) = state.end_reason() {
                    return Err(match reason {
                        EndReason::Rejected(r) => ClientError::Rejected(*r),
                        other => ClientError::Ended(other.clone()),
                    });
                }
                result?;
                if state.is_playing() {
                    return Ok(());
                }
            }
            OpCode::Close => return Err(ClientError::Ended(EndReason::Closed)),
            OpCode::Ping | OpCode::Pong => {}
            _ => {
                let e =
                    ProtocolError::Unexpected { message: "non-binary frame", phase: "handshake" };
                return Err(e.into());
            }
        }
    }
}

/// Everything the supervisor task owns.
pub(crate) struct Supervisor<P: Predict> {
    pub(crate) shared: Arc<Shared<P>>,
    pub(crate) config: ClientConfig<P>,
    pub(crate) target: Target,
    pub(crate) source: Option<Box<dyn InputSource<P>>>,
    pub(crate) events: mpsc::Sender<ClientEvent<P::Event>>,
}

impl<P: Predict> Supervisor<P> {
    /// Runs connections until the session ends for good, and says why.
    pub(crate) async fn run(mut self, mut conn: Conn) -> EndReason {
        let mut backoff = Backoff::new(self.config.reconnect);
        loop {
            let reason = self.run_connection(conn).await;
            let reconnect = self.config.reconnect.is_enabled()
                && reason.is_resumable()
                && !self.shared.leaving.load(Ordering::Relaxed);
            if !reconnect {
                return self.finish(reason);
            }
            conn = match self.reconnect(&mut backoff, reason).await {
                Ok(conn) => conn,
                Err(reason) => return self.finish(reason),
            };
        }
    }

    /// One connection: the reader task and the driver, until the connection ends.
    async fn run_connection(&mut self, conn: Conn) -> EndReason {
        let tick = self
            .shared
            .state
            .lock()
            .clock()
            .map_or(Duration::from_millis(33), |c| c.tick_duration());
        let (incoming_tx, incoming_rx) = mpsc::channel(INCOMING_CAPACITY);
        let delivery = match conn.link {
            Some(_) => Delivery::Queued,
            None => Delivery::Direct(self.shared.clone(), self.events.clone()),
        };
        self.shared.reader_ended.store(false, std::sync::atomic::Ordering::Release);
        let reader = tokio::spawn(read_loop(conn.reader, incoming_tx, self.shared.epoch, delivery));
        let mut driver = Driver {
            shared: self.shared.clone(),
            ws: conn.writer,
            incoming_rx,
            events: self.events.clone(),
            source: self.source.take(),
            link: conn.link,
            tick,
            spare: Vec::new(),
        };
        let reason = driver.run().await;
        // Wait until the reader is gone: a frame of this connection must never reach the state
        // once it restarts for the next one.
        reader.abort();
        let _ = reader.await;
        self.source = driver.source.take();
        reason
    }

    /// Reconnects after `cause` (see the module docs); `Err` is the session's final end.
    async fn reconnect(
        &mut self,
        backoff: &mut Backoff,
        cause: EndReason,
    ) -> Result<Conn, EndReason> {
        let policy = self.config.reconnect;
        let dropped_at = self.shared.now();
        let mut last_error = cause.to_string();
        let mut resume = true;
        let mut skip_delay = false;
        loop {
            let Some(delay) = backoff.next_delay() else {
                return Err(EndReason::GaveUp { attempts: backoff.attempts(), last_error });
            };
            let delay = if skip_delay { Duration::ZERO } else { delay };
            let attempt = backoff.attempts();
            let max_attempts = policy.max_attempts;
            let outage = Outage { attempt, max_attempts, cause: cause.clone() };
            *self.shared.status.lock() = Connection::Reconnecting(outage.clone());
            let _ = self.events.try_send(ClientEvent::Reconnecting { outage, delay });
            let wake_at = Instant::now() + delay;
            while Instant::now() < wake_at && !self.shared.leaving.load(Ordering::Relaxed) {
                tokio::select! {
                    () = tokio::time::sleep_until(wake_at) => {}
                    () = self.shared.wake.notified() => {}
                }
            }
            if self.shared.leaving.load(Ordering::Relaxed) {
                return Err(EndReason::Left);
            }
            let ticket = self.shared.state.lock().restart(self.shared.now(), resume);
            let ticket = ticket.map(|t| t.to_query());
            match open(&self.shared, &self.config, &self.target, ticket).await {
                Ok(conn) => {
                    backoff.reset();
                    let outage = self.shared.now().saturating_sub(dropped_at);
                    self.shared.state.lock().record_outage(outage);
                    let welcome = self.welcome();
                    let event = if welcome.resumed {
                        ClientEvent::Resumed(welcome)
                    } else {
                        ClientEvent::Rejoined(welcome)
                    };
                    let _ = self.events.try_send(event);
                    return Ok(conn);
                }
                Err(ClientError::Rejected(RejectReason::ResumeFailed))
                    if policy.rejoin_when_expired =>
                {
                    last_error = "the server no longer holds the session".to_owned();
                    resume = false;
                    skip_delay = true;
                }
                Err(e) if is_final(&e) => {
                    return Err(match e {
                        ClientError::Rejected(r) => EndReason::Rejected(r),
                        ClientError::Ended(r) => r,
                        other => EndReason::GaveUp {
                            attempts: backoff.attempts(),
                            last_error: other.to_string(),
                        },
                    });
                }
                Err(e) => {
                    last_error = e.to_string();
                    skip_delay = false;
                }
            }
        }
    }

    fn welcome(&self) -> Welcome {
        // invariant: `open` returns only once the state is playing, so it has a welcome.
        self.shared.state.lock().welcome().cloned().expect("welcomed")
    }

    /// Records the final end and tells the owner.
    fn finish(&self, reason: EndReason) -> EndReason {
        self.shared.state.lock().end_with(reason.clone());
        self.shared.write_forensics(true);
        *self.shared.status.lock() = Connection::Ended(reason.clone());
        let _ = self.events.try_send(ClientEvent::Ended(reason.clone()));
        reason
    }
}

/// Failures another attempt cannot fix: a refusal of who we are (401, 403, a version or schema
/// mismatch, a bad name), the server ending the session on purpose, or a TLS certificate that
/// is not trusted.
fn is_final(e: &ClientError) -> bool {
    match e {
        ClientError::Rejected(r) => !matches!(
            r,
            RejectReason::ShuttingDown | RejectReason::TooManyRooms | RejectReason::RoomFull
        ),
        ClientError::WebSocket(fastwebsockets::WebSocketError::InvalidStatusCode(s)) => {
            matches!(s, 401 | 403 | 404 | 426)
        }
        ClientError::Ended(r) => !r.is_resumable(),
        ClientError::Tls(_)
        | ClientError::InvalidUrl { .. }
        | ClientError::InvalidHello(_)
        | ClientError::InvalidToken
        | ClientError::CaCertificate(_) => true,
        _ => false,
    }
}
