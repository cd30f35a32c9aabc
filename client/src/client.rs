//! [`connect`]: opens a session and returns a [`Client`]; [`ClientHandle`], the cheap cloneable
//! view of it.
//!
//! Connecting is: parse the URL, TCP connect, TLS handshake (`wss://`), WebSocket upgrade, send
//! the hello, read the first message (a welcome, or a reject that becomes
//! [`ClientError::Rejected`]), all within
//! [`ClientConfig::connect_timeout`]; then the supervisor task ([`crate::supervisor`]) runs the
//! reader and driver tasks ([`crate::driver`]) of each connection, and reconnects after a drop
//! as [`ClientConfig::reconnect`] says. The [`Client`] owns the session: dropping it leaves (like [`Client::close`], without
//! waiting). Everything else reads the state through [`ClientHandle::with_state`], a short lock
//! on the sans-IO [`ClientState`].

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tickwire_protocol::message::Welcome;
use tickwire_sim::Predict;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::driver::Shared;
use crate::error::{ClientError, EndReason};
use crate::forensics::ForensicsWriter;
use crate::input::InputSource;
use crate::state::{ClientState, TimedEvent};
use crate::stats::{ClientStats, Samples};
use crate::supervisor::{self, Supervisor};
use crate::ws;

/// Something the session tells its owner; `E` is the game's event type.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent<E> {
    /// Something happened in the room: a join, a leave, a chat line, or one of the game's
    /// events.
    Event(TimedEvent<E>),
    /// The connection dropped; the next attempt to get the session back starts after `delay`.
    Reconnecting {
        /// Which attempt, of how many, and why the connection ended.
        outage: Outage,
        /// Wait before this attempt.
        delay: Duration,
    },
    /// The session is back: same player, same entity, score and health.
    Resumed(Welcome),
    /// The server no longer held the session; this is a new player (new entity).
    Rejoined(Welcome),
    /// The session ended; this is the last event.
    Ended(EndReason),
}

/// What a session's connection is doing ([`ClientHandle::connection`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Opening the first connection.
    Connecting,
    /// Welcomed and playing.
    Connected,
    /// The connection dropped; getting the session back.
    Reconnecting(Outage),
    /// The session is over.
    Ended(EndReason),
}

/// Where a client stands in getting its session back after a drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// The attempt under way, 1 for the first of this outage.
    pub attempt: u32,
    /// The policy's limit ([`ReconnectPolicy::max_attempts`](crate::ReconnectPolicy)).
    pub max_attempts: u32,
    /// Why the connection ended.
    pub cause: EndReason,
}

/// Connects with the input set through [`ClientHandle::set_input`] (the default input until
/// then).
pub async fn connect<P: Predict>(config: ClientConfig<P>) -> Result<Client<P>, ClientError> {
    connect_inner(config, None).await
}

/// Connects with `source` producing the input of every tick (a bot's behaviour).
pub async fn connect_with<P: Predict>(
    config: ClientConfig<P>,
    source: impl InputSource<P>,
) -> Result<Client<P>, ClientError> {
    connect_inner(config, Some(Box::new(source))).await
}

/// Connects with a boxed `source` (when the behaviour is chosen at run time).
pub async fn connect_boxed<P: Predict>(
    config: ClientConfig<P>,
    source: Box<dyn InputSource<P>>,
) -> Result<Client<P>, ClientError> {
    connect_inner(config, Some(source)).await
}

async fn connect_inner<P: Predict>(
    mut config: ClientConfig<P>,
    source: Option<Box<dyn InputSource<P>>>,
) -> Result<Client<P>, ClientError> {
    if config.fetch_rules {
        config.rules = crate::http::fetch_rules(&config).await?;
    }
    let epoch = Instant::now();
    let state = ClientState::new(
        config.hello(),
        config.schema,
        config.rules.clone(),
        config.tuning,
        Duration::ZERO,
    )?;
    let target = ws::parse_url(&config.url)?;
    let mut shared = Shared::new(state, epoch);
    if let Some(log) = &config.forensics {
        shared.forensics = Some(Mutex::new(ForensicsWriter::open(log)?));
        shared.state.get_mut().record_forensics();
    }
    let shared = Arc::new(shared);
    let conn = supervisor::open(&shared, &config, &target, None).await?;
    let (events_tx, events_rx) = mpsc::channel(config.event_capacity.max(1));
    let supervisor =
        Supervisor { shared: shared.clone(), config, target, source, events: events_tx };
    let task = tokio::spawn(supervisor.run(conn));
    Ok(Client { handle: ClientHandle { shared }, events: events_rx, task })
}

/// A connected session of game `P`. Dropping it leaves the session (without waiting).
#[derive(Debug)]
pub struct Client<P: Predict> {
    handle: ClientHandle<P>,
    events: mpsc::Receiver<ClientEvent<P::Event>>,
    task: JoinHandle<EndReason>,
}

impl<P: Predict> Client<P> {
    /// A cheap, cloneable handle to the state (for other tasks, renderers, collectors).
    pub fn handle(&self) -> ClientHandle<P> {
        self.handle.clone()
    }

    /// The next event; `None` once the session has ended and every event was taken.
    pub async fn next_event(&mut self) -> Option<ClientEvent<P::Event>> {
        self.events.recv().await
    }

    /// The next event if one is waiting (for a game loop that polls once per frame).
    pub fn try_next_event(&mut self) -> Option<ClientEvent<P::Event>> {
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

impl<P: Predict> std::ops::Deref for Client<P> {
    type Target = ClientHandle<P>;

    fn deref(&self) -> &ClientHandle<P> {
        &self.handle
    }
}

impl<P: Predict> Drop for Client<P> {
    fn drop(&mut self) {
        self.handle.leave();
    }
}

/// A cheap, cloneable view of a session's state. It does not keep the session open.
#[derive(Debug)]
pub struct ClientHandle<P: Predict> {
    shared: Arc<Shared<P>>,
}

impl<P: Predict> Clone for ClientHandle<P> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<P: Predict> ClientHandle<P> {
    /// The client's clock: time since the connection started. Pass it as `now` to the
    /// state's queries.
    pub fn now(&self) -> Duration {
        self.shared.now()
    }

    /// The latest welcome the server sent (a resume or a rejoin brings a new one).
    pub fn welcome(&self) -> Welcome {
        // invariant: a handle exists only once `connect` got a welcome, and the state keeps
        // the latest one.
        self.shared.state.lock().welcome().cloned().expect("a connected client has a welcome")
    }

    /// What the connection is doing (connected, reconnecting, ended).
    pub fn connection(&self) -> Connection {
        self.shared.status.lock().clone()
    }

    /// **For tests and chaos testing**: drops the connection without a goodbye, as a network
    /// failure would; the client then reconnects as its [`ReconnectPolicy`] says.
    ///
    /// [`ReconnectPolicy`]: crate::ReconnectPolicy
    pub fn drop_connection(&self) {
        self.shared.kill.store(true, std::sync::atomic::Ordering::Relaxed);
        self.shared.wake.notify_one();
    }

    /// Runs `f` with the state locked. Keep `f` short: the driver waits for the lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&ClientState<P>) -> R) -> R {
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

    /// Sets the input sent every tick (when the client was connected without an
    /// [`InputSource`]).
    pub fn set_input(&self, input: P::Input) {
        *self.shared.input.lock() = input;
    }

    /// Sends a game command (applied by the game at the start of a tick); at most
    /// [`COMMANDS_PER_SECOND`](crate::state::COMMANDS_PER_SECOND) a second, more are refused.
    pub fn command(&self, command: &P::Command) -> Result<(), ClientError> {
        let now = self.now();
        self.shared.state.lock().send_command(now, command)?;
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Sends a chat line (1..=200 bytes, at most one per second).
    pub fn chat(&self, text: &str) -> Result<(), ClientError> {
        let now = self.now();
        self.shared.state.lock().queue_chat(now, text)?;
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Asks the session to leave (also stops reconnecting); [`Client::closed`] tells when it
    /// has.
    pub fn leave(&self) {
        self.shared.leaving.store(true, std::sync::atomic::Ordering::Relaxed);
        self.shared.state.lock().leave();
        self.shared.wake.notify_one();
    }
}
