//! The Bevy side of the connection: the [`TickwireConnection`] resource, the [`Connect`]
//! message, and the systems of [`TickwireSystems::Receive`](crate::TickwireSystems::Receive)
//! and [`TickwireSystems::Send`](crate::TickwireSystems::Send).

use bevy::prelude::*;
use tickwire_client::{ClientConfig, ClientError, ClientHandle, EndReason, Event};
use tickwire_protocol::Tick;
use tickwire_protocol::message::Welcome;
use tracing::{info, warn};

use crate::NetProtocol;
use crate::components::NetEntity;
use crate::intent::{ButtonLatch, NextInput};
use crate::net::{FromNet, NetLink};
use crate::replicate::{LocalSmoothing, NetEntities, SyncState};
use crate::status::{Connected, ConnectionState, Disconnected, NetStatus, ServerEvent, SessionEnd};

/// Most network messages handled per frame; the rest wait for the next frame (the channel is
/// bounded, so a burst never makes one frame arbitrarily long).
pub const MAX_MESSAGES_PER_FRAME: usize = 1024;

/// Asks the plugin to connect (closing the current session first, if any), and to replace the
/// replicated entities with the new session's.
#[derive(Message, Debug, Clone)]
pub struct Connect<P: NetProtocol>(pub ClientConfig<P>);

/// The current connection to game `P`'s server, if any: the channel from the network thread
/// and, once the session is open, the client library's handle.
#[derive(Resource)]
pub struct TickwireConnection<P: NetProtocol> {
    link: Option<NetLink<P>>,
    handle: Option<ClientHandle<P>>,
    /// A `Joined` or `Left` event arrived: names need refreshing.
    pub(crate) names_dirty: bool,
}

impl<P: NetProtocol> Default for TickwireConnection<P> {
    fn default() -> Self {
        Self { link: None, handle: None, names_dirty: false }
    }
}

impl<P: NetProtocol> std::fmt::Debug for TickwireConnection<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickwireConnection")
            .field("game", &P::NAME)
            .field("linked", &self.link.is_some())
            .field("open", &self.handle.is_some())
            .finish()
    }
}

impl<P: NetProtocol> TickwireConnection<P> {
    /// The client library's handle to the open session (its state, clock, chat...), once the
    /// welcome has arrived; kept after the session ends, so its final state stays readable.
    pub fn handle(&self) -> Option<&ClientHandle<P>> {
        self.handle.as_ref()
    }

    /// Sends one of the game's commands (reliable, applied by the game at the start of a tick;
    /// at most [`COMMANDS_PER_SECOND`](tickwire_client::state::COMMANDS_PER_SECOND) a second,
    /// more are refused with [`ClientError::Command`]).
    pub fn command(&self, command: &P::Command) -> Result<(), ClientError> {
        match &self.handle {
            Some(h) => h.command(command),
            None => Err(ClientError::Command("the session is not open")),
        }
    }

    /// Leaves the session (`Disconnect(ClientLeft)` then a close frame); the plugin then
    /// reports [`Disconnected`] with [`EndReason::Left`].
    pub fn leave(&self) {
        if let Some(h) = &self.handle {
            h.leave();
        }
    }

    /// Sends a chat line (1..=200 bytes, at most one per second).
    pub fn chat(&self, text: &str) -> Result<(), ClientError> {
        match &self.handle {
            Some(h) => h.chat(text),
            None => Err(ClientError::Chat("the session is not open")),
        }
    }
}

/// Handles [`Connect`] requests: drops the old session and entities, starts the network thread.
#[allow(clippy::too_many_arguments)]
pub(crate) fn handle_connect_requests<P: NetProtocol>(
    mut commands: Commands,
    mut requests: MessageReader<Connect<P>>,
    mut conn: ResMut<TickwireConnection<P>>,
    mut entities: ResMut<NetEntities>,
    mut sync: ResMut<SyncState<P>>,
    mut state: ResMut<ConnectionState>,
    mut status: ResMut<NetStatus>,
    mut smoothing: ResMut<LocalSmoothing>,
    mut disconnected: MessageWriter<Disconnected>,
    stray: Query<Entity, With<NetEntity>>,
) {
    let Some(Connect(config)) = requests.read().last() else {
        return;
    };
    if let Some(h) = &conn.handle {
        h.leave(); // dropping the link below also leaves; this says it at once
    }
    *conn = TickwireConnection::default();
    for e in entities.clear() {
        commands.entity(e).despawn();
    }
    for e in &stray {
        commands.entity(e).despawn();
    }
    sync.reset();
    *status = NetStatus { room: config.room.clone(), ..NetStatus::default() };
    smoothing.restart();
    info!(url = %config.url, room = %config.room, name = %config.name, "connecting");
    match NetLink::spawn(config.clone()) {
        Ok(link) => {
            conn.link = Some(link);
            *state = ConnectionState::Connecting;
        }
        Err(e) => {
            warn!("cannot start the network thread: {e}");
            let end = SessionEnd::from_error(&ClientError::Io(e));
            *state = ConnectionState::Disconnected(end.clone());
            disconnected.write(Disconnected(end));
        }
    }
}

/// Drains the network channel into resources and messages.
pub(crate) fn receive<P: NetProtocol>(
    mut conn: ResMut<TickwireConnection<P>>,
    mut state: ResMut<ConnectionState>,
    mut status: ResMut<NetStatus>,
    mut connected: MessageWriter<Connected>,
    mut disconnected: MessageWriter<Disconnected>,
    mut events: MessageWriter<ServerEvent<P::Event>>,
) {
    let mut end = None;
    for _ in 0..MAX_MESSAGES_PER_FRAME {
        let Some(link) = &mut conn.link else {
            break;
        };
        let msg = match link.rx.try_recv() {
            Ok(msg) => msg,
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
            // The thread ended without saying why (it panicked).
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                FromNet::Ended(EndReason::ConnectionLost)
            }
        };
        match msg {
            FromNet::Connected(handle) => {
                let w = handle.welcome();
                info!(client = %w.client_id, entity = %w.entity, room = %w.room, "connected");
                welcomed(&w, &mut status, &mut connected);
                conn.handle = Some(handle);
                conn.names_dirty = true;
                *state = ConnectionState::Connected;
            }
            FromNet::Reconnecting(outage) => {
                let (attempt, max_attempts, cause) =
                    (outage.attempt, outage.max_attempts, &outage.cause);
                info!(attempt, max_attempts, %cause, "connection lost, reconnecting");
                *state = ConnectionState::Reconnecting(outage);
            }
            FromNet::Reconnected { welcome, resumed } => {
                if resumed {
                    info!(client = %welcome.client_id, "session resumed");
                } else {
                    warn!(client = %welcome.client_id, entity = %welcome.entity, "the session had expired; joined again as a new player");
                }
                welcomed(&welcome, &mut status, &mut connected);
                conn.names_dirty = true;
                *state = ConnectionState::Connected;
            }
            FromNet::Event(e) => {
                if matches!(e.event, Event::Joined { .. } | Event::Left { .. }) {
                    conn.names_dirty = true;
                }
                events.write(ServerEvent(e));
            }
            FromNet::Failed(e) => end = Some(SessionEnd::from_error(&e)),
            FromNet::Ended(reason) => end = Some(SessionEnd::Ended(reason)),
        }
        if end.is_some() {
            break;
        }
    }
    if let Some(end) = end {
        info!(reason = %end, label = end.label(), "disconnected");
        conn.link = None; // the thread is done; keep the handle for the final state
        conn.names_dirty = true;
        *state = ConnectionState::Disconnected(end.clone());
        disconnected.write(Disconnected(end));
    }
}

/// Records a welcome (first, resumed or rejoined) and announces it.
fn welcomed(w: &Welcome, status: &mut NetStatus, connected: &mut MessageWriter<Connected>) {
    status.client_id = Some(w.client_id);
    status.entity = Some(w.entity);
    status.room.clone_from(&w.room);
    status.tick_rate = w.tick_rate;
    connected.write(Connected {
        client_id: w.client_id,
        entity: w.entity,
        tick_rate: w.tick_rate,
        room: w.room.clone(),
    });
}

/// Hands the game's input to the driver, which samples it at the next tick.
///
/// A button press shorter than a tick would fall between two samples, so buttons are latched
/// until an input has gone out after them ([`crate::intent`]). The check and the hand-over
/// happen with the state locked: the driver samples the input with that lock held, so no
/// sample can slip in between.
pub(crate) fn send_input<P: NetProtocol>(
    conn: Res<TickwireConnection<P>>,
    input: Res<NextInput<P::Input>>,
    mut latch: Local<ButtonLatch>,
    mut seen: Local<Option<Tick>>,
) {
    let Some(h) = &conn.handle else {
        return;
    };
    let schema = P::schema().input();
    let values = schema.values_of(&input.0);
    h.with_state(|s| {
        let sent = s.last_input_sent();
        if sent != *seen {
            latch.clear();
            *seen = sent;
        }
        let latched = latch.latch(schema, &values);
        // invariant: values read back from the input's own quantized values always decode.
        let input = schema.read::<P::Input>(0, &latched).unwrap_or_else(|| input.0.clone());
        h.set_input(input);
    });
}

/// Leaves the session when the app exits, so the server hears `Disconnect(ClientLeft)` rather
/// than a dropped connection (the driver sends it at once, on its own thread).
pub(crate) fn leave_on_exit<P: NetProtocol>(
    conn: Res<TickwireConnection<P>>,
    mut exit: MessageReader<AppExit>,
) {
    if exit.read().next().is_some() {
        conn.leave();
    }
}
