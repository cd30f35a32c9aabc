//! [`connect`]: opens a session and returns a [`Client`]; [`ClientHandle`], the cheap cloneable
//! view of it.
//!
//! Connecting is: parse the URL, TCP connect, TLS handshake (`wss://`), WebSocket upgrade, send
//! the hello, read the first message (a welcome, or a reject that becomes
//! [`ClientError::Rejected`]), all within
//! [`ClientConfig::connect_timeout`]; then the reader and driver tasks ([`crate::driver`]) are
//! spawned. The [`Client`] owns the session: dropping it leaves (like [`Client::close`], without
//! waiting). Everything else reads the state through [`ClientHandle::with_state`], a short lock
//! on the sans-IO [`ClientState`].

use std::sync::Arc;
use std::time::Duration;

use fastwebsockets::{Frame, OpCode, Payload};
use parking_lot::Mutex;
use tickwire_protocol::message::{EventMessage, Welcome};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout_at};

use crate::config::ClientConfig;
use crate::driver::{Delivery, Driver, INCOMING_CAPACITY, Shared, read_loop};
use crate::error::{ClientError, EndReason, ProtocolError};
use crate::input::{InputSource, Intent};
use crate::link::LinkConditioner;
use crate::state::ClientState;
use crate::stats::{ClientStats, Samples};
use crate::ws::{self, WsReader, WsWriter};

/// Something the session tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// A game event (shot, hit, kill, join, leave, chat).
    Game(EventMessage),
    /// The session ended; this is the last event.
    Ended(EndReason),
}

/// Connects with the intent set through [`ClientHandle::set_intent`] (idle until then).
pub async fn connect(config: ClientConfig) -> Result<Client, ClientError> {
    connect_inner(config, None).await
}

/// Connects with `source` producing the intent of every tick (a bot's behaviour).
pub async fn connect_with(
    config: ClientConfig,
    source: impl InputSource,
) -> Result<Client, ClientError> {
    connect_inner(config, Some(Box::new(source))).await
}

async fn connect_inner(
    config: ClientConfig,
    source: Option<Box<dyn InputSource>>,
) -> Result<Client, ClientError> {
    let epoch = Instant::now();
    let deadline = epoch + config.connect_timeout;
    let mut state =
        ClientState::new(config.hello(), config.rules.clone(), config.tuning, Duration::ZERO)?;
    let target = ws::parse_url(&config.url)?;
    let open = ws::open(&target, &config.tls, config.offer_subprotocol, config.token.as_deref());
    let (mut reader, mut writer) =
        timeout_at(deadline, open).await.map_err(|_| ClientError::Timeout("connecting"))??;
    let mut link = config.link.is_active().then(|| LinkConditioner::new(config.link));
    timeout_at(deadline, handshake(&mut state, &mut reader, &mut writer, link.as_mut(), epoch))
        .await
        .map_err(|_| ClientError::Timeout("waiting for the welcome"))??;
    let tick = state.clock().map_or(Duration::from_millis(33), |c| c.tick_duration());
    let welcome = state.welcome().cloned().ok_or(ClientError::Ended(EndReason::Closed))?;

    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        intent: Mutex::new(Intent::IDLE),
        epoch,
        wake: Notify::new(),
    });
    let (incoming_tx, incoming_rx) = mpsc::channel(INCOMING_CAPACITY);
    let (events_tx, events_rx) = mpsc::channel(config.event_capacity.max(1));
    let delivery = match link {
        Some(_) => Delivery::Queued,
        None => Delivery::Direct(shared.clone(), events_tx.clone()),
    };
    let reader_task = tokio::spawn(read_loop(reader, incoming_tx, epoch, delivery));
    let driver = Driver {
        shared: shared.clone(),
        ws: writer,
        incoming_rx,
        events: events_tx,
        source,
        link,
        tick,
    };
    let task = tokio::spawn(async move {
        let reason = driver.run().await;
        reader_task.abort();
        reason
    });
    Ok(Client {
        handle: ClientHandle { shared, welcome: Arc::new(welcome) },
        events: events_rx,
        task,
    })
}

/// Sends the hello and reads until the welcome (or a reject), with the link conditioner's
/// delay on each.
async fn handshake(
    state: &mut ClientState,
    reader: &mut WsReader,
    writer: &mut WsWriter,
    mut link: Option<&mut LinkConditioner>,
    epoch: Instant,
) -> Result<(), ClientError> {
    if let Some(l) = link.as_deref_mut() {
        sleep(l.delay()).await;
    }
    while let Some(bytes) = state.poll_transmit(epoch.elapsed()) {
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
                let result = state.handle_bytes(epoch.elapsed(), &frame.payload);
                if let Some(reason) = state.end_reason() {
                    return Err(match reason {
                        EndReason::Rejected(r) => ClientError::Rejected(*r),
                        other => ClientError::Ended(other.clone()),
                    });
                }
                result?;
                if state.welcome().is_some() {
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

/// A connected session. Dropping it leaves the session (without waiting).
#[derive(Debug)]
pub struct Client {
    handle: ClientHandle,
    events: mpsc::Receiver<ClientEvent>,
    task: JoinHandle<EndReason>,
}

impl Client {
    /// A cheap, cloneable handle to the state (for other tasks, renderers, collectors).
    pub fn handle(&self) -> ClientHandle {
        self.handle.clone()
    }

    /// The next event; `None` once the session has ended and every event was taken.
    pub async fn next_event(&mut self) -> Option<ClientEvent> {
        self.events.recv().await
    }

    /// The next event if one is waiting (for a game loop that polls once per frame).
    pub fn try_next_event(&mut self) -> Option<ClientEvent> {
        self.events.try_recv().ok()
    }

    /// Waits until the session ends by itself and says why. Cancel-safe.
    pub async fn closed(&mut self) -> EndReason {
        match (&mut self.task).await {
            Ok(reason) => reason,
            Err(_) => EndReason::ConnectionLost,
        }
    }

    /// Leaves (`Disconnect(ClientLeft)`, then a close frame) and waits for the session to end.
    /// Returns the reason it ended: [`EndReason::Left`], or an earlier reason if it had
    /// already ended.
    pub async fn close(mut self) -> EndReason {
        self.handle.leave();
        self.closed().await
    }

    /// Whether the session has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl std::ops::Deref for Client {
    type Target = ClientHandle;

    fn deref(&self) -> &ClientHandle {
        &self.handle
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.handle.leave();
    }
}

/// A cheap, cloneable view of a session's state. It does not keep the session open.
#[derive(Debug, Clone)]
pub struct ClientHandle {
    shared: Arc<Shared>,
    welcome: Arc<Welcome>,
}

impl ClientHandle {
    /// The client's clock: time since the connection started. Pass it as `now` to the
    /// state's queries.
    pub fn now(&self) -> Duration {
        self.shared.now()
    }

    /// The welcome the server sent.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// Runs `f` with the state locked. Keep `f` short: the driver waits for the lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&ClientState) -> R) -> R {
        f(&self.shared.state.lock())
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        self.shared.state.lock().stats()
    }

    /// Moves the latency samples gathered since the last call into `out`.
    pub fn take_samples(&self, out: &mut Samples) {
        self.shared.state.lock().take_samples(out);
    }

    /// Why the session ended, once it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.shared.state.lock().end_reason().cloned()
    }

    /// Sets the intent sent every tick (when the client was connected without an
    /// [`InputSource`]).
    pub fn set_intent(&self, intent: Intent) {
        *self.shared.intent.lock() = intent;
    }

    /// Sends a chat line (1..=200 bytes, at most one per second).
    pub fn chat(&self, text: &str) -> Result<(), ClientError> {
        let now = self.now();
        self.shared.state.lock().queue_chat(now, text)?;
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Asks the session to leave; [`Client::closed`] tells when it has.
    pub fn leave(&self) {
        self.shared.state.lock().leave();
        self.shared.wake.notify_one();
    }
}
