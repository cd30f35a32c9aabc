//! The network side: a dedicated thread running a single-threaded tokio runtime, which connects
//! with the client library ([`tickwire_client::connect`]) and forwards what the session says to
//! the Bevy world through one bounded channel.
//!
//! ```text
//!  tickwire-net thread (tokio, current-thread)          Bevy main thread
//!  ┌──────────────────────────────────────────┐        ┌────────────────────────────────┐
//!  │ connect → Client                         │        │ TickwireSystems::Receive       │
//!  │   driver task: socket ⇄ ClientState,     │ FromNet│   drains the channel into      │
//!  │   one input per tick from the intent     │ ──────▶│   resources and messages       │
//!  │ forwarder: Client events → channel       │ (256)  │ TickwireSystems::Sync          │
//!  └──────────────────────────────────────────┘        │   reads ClientState (short lock)│
//!            ▲ ClientHandle: set_input, with_state,    │ TickwireSystems::Send          │
//!            └──────────── leave, chat (sync calls) ────│   hands the intent over        │
//!                                                       └────────────────────────────────┘
//! ```
//!
//! **The channel** ([`FROM_NET_CAPACITY`] messages, net → Bevy) carries the connection result,
//! the game events, the reconnection progress (the client library reconnects by itself after a
//! drop and resumes the session) and the end of the session. The sender waits when it is full (the game is
//! not running its schedule: minimized, stalled); the client library's own event channel then
//! fills, and past that its core drops the *oldest* events and counts them
//! (`ClientStats::events_dropped`). Snapshots never travel through it: the driver keeps decoding
//! them into the shared [`ClientState`](tickwire_client::ClientState), which the Bevy systems
//! read each frame through [`ClientHandle::with_state`](tickwire_client::ClientHandle::with_state), a lock held for microseconds. Nothing
//! on this path blocks the socket, so a stalled game never makes the server see a slow reader.
//!
//! **Bevy → network** needs no channel of its own: the intent, chat lines and the leave request
//! go through the handle's own short locks and its cancellation token.
//!
//! **Shutdown.** Dropping the link (a new [`Connect`](crate::Connect), or the app ending) closes
//! the channel; the forwarder notices, leaves the session (`Disconnect(ClientLeft)` and a close
//! frame), waits up to [`LEAVE_GRACE`] for the driver to finish, and the thread ends.

use std::thread;
use std::time::Duration;

use tickwire_client::{ClientError, ClientEvent, EndReason, Outage, TimedEvent};
use tickwire_protocol::message::Welcome;

use tickwire_client::{ClientConfig, ClientHandle};

use crate::NetProtocol;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Capacity of the network → Bevy channel, in messages (see the module docs for when it fills).
pub const FROM_NET_CAPACITY: usize = 256;
/// Time the network thread gives the session to say goodbye once the game dropped it.
pub const LEAVE_GRACE: Duration = Duration::from_secs(2);

/// What the network thread tells the Bevy world.
#[derive(Debug)]
pub(crate) enum FromNet<P: NetProtocol> {
    /// The welcome arrived; the session is open.
    Connected(ClientHandle<P>),
    /// Connecting failed (or the server refused the hello).
    Failed(ClientError),
    /// An event of the room or the game, in order.
    Event(TimedEvent<P::Event>),
    /// The connection dropped; attempt `attempt` of `max_attempts` to get the session back.
    Reconnecting(Outage),
    /// The session is back after a drop: the same player (`resumed`) or, when the server no
    /// longer held it, a new one.
    Reconnected { welcome: Welcome, resumed: bool },
    /// The session ended; nothing follows.
    Ended(EndReason),
}

/// The Bevy side of one connection attempt: the channel's receiver. Dropping it ends the
/// session (see the module docs).
#[derive(Debug)]
pub(crate) struct NetLink<P: NetProtocol> {
    pub(crate) rx: mpsc::Receiver<FromNet<P>>,
}

impl<P: NetProtocol> NetLink<P> {
    /// Starts the network thread, which connects with `config`.
    pub(crate) fn spawn(config: ClientConfig<P>) -> std::io::Result<NetLink<P>> {
        let (tx, rx) = mpsc::channel(FROM_NET_CAPACITY);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        thread::Builder::new().name("tickwire-net".into()).spawn(move || {
            runtime.block_on(run(config, tx));
        })?;
        Ok(NetLink { rx })
    }
}

/// The network thread's work: connect, then forward events until the session ends or the game
/// drops the link.
async fn run<P: NetProtocol>(config: ClientConfig<P>, tx: mpsc::Sender<FromNet<P>>) {
    let mut client = match tickwire_client::connect(config).await {
        Ok(client) => client,
        Err(e) => {
            debug!("connect failed: {e}");
            let _ = tx.send(FromNet::Failed(e)).await;
            return;
        }
    };
    if tx.send(FromNet::Connected(client.handle())).await.is_err() {
        let _ = tokio::time::timeout(LEAVE_GRACE, client.close()).await;
        return;
    }
    loop {
        tokio::select! {
            event = client.next_event() => {
                let msg = match event {
                    Some(ClientEvent::Event(e)) => FromNet::Event(e),
                    Some(ClientEvent::Reconnecting { outage, .. }) => {
                        FromNet::Reconnecting(outage)
                    }
                    Some(ClientEvent::Resumed(welcome)) => {
                        FromNet::Reconnected { welcome, resumed: true }
                    }
                    Some(ClientEvent::Rejoined(welcome)) => {
                        FromNet::Reconnected { welcome, resumed: false }
                    }
                    Some(ClientEvent::Ended(reason)) => FromNet::Ended(reason),
                    None => FromNet::Ended(client.closed().await),
                };
                let last = matches!(msg, FromNet::Ended(_));
                if tx.send(msg).await.is_err() {
                    break;
                }
                if last {
                    return;
                }
            }
            () = tx.closed() => break,
        }
    }
    // The game dropped the link: leave politely, within bounds.
    if tokio::time::timeout(LEAVE_GRACE, client.close()).await.is_err() {
        warn!("the session did not end within {LEAVE_GRACE:?} of leaving");
    }
}
