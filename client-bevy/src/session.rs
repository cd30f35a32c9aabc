//! The Bevy side of the connection: the [`TickwireConnection`] resource, the [`Connect`]
//! message, and the systems of [`TickwireSystems::Receive`](crate::TickwireSystems::Receive)
//! and [`TickwireSystems::Send`](crate::TickwireSystems::Send).

use bevy::prelude::*;
use tickwire_client::{ClientError, EndReason, Event};
use tickwire_protocol::Tick;
use tickwire_protocol::message::Welcome;
use tracing::{info, warn};

use crate::components::NetEntity;
use crate::intent::PlayerIntent;
use crate::net::{FromNet, NetLink};
use crate::replicate::{LocalSmoothing, NetEntities};
use crate::status::{
    Connected, ConnectionState, Disconnected, NetGameEvent, NetStatus, SessionEnd,
};
use crate::{Config, Handle};

/// Most network messages handled per frame; the rest wait for the next frame (the channel is
/// bounded, so a burst never makes one frame arbitrarily long).
pub const MAX_MESSAGES_PER_FRAME: usize = 1024;

/// Asks the plugin to connect (closing the current session first, if any), and to replace the
/// replicated entities with the new session's.
#[derive(Message, Debug, Clone)]
pub struct Connect(pub Config);

/// The current connection, if any: the channel from the network thread and, once the session
/// is open, the client library's handle.
#[derive(Resource, Debug, Default)]
pub struct TickwireConnection {
    link: Option<NetLink>,
    handle: Option<Handle>,
    /// A `Joined` or `Left` event arrived: names need refreshing.
    pub(crate) names_dirty: bool,
}

impl TickwireConnection {
    /// The client library's handle to the open session (its state, clock, chat...), once the
    /// welcome has arrived; kept after the session ends, so its final state stays readable.
    pub fn handle(&self) -> Option<&Handle> {
        self.handle.as_ref()
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
pub(crate) fn handle_connect_requests(
    mut commands: Commands,
    mut requests: MessageReader<Connect>,
    mut conn: ResMut<TickwireConnection>,
    mut entities: ResMut<NetEntities>,
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
    *status = NetStatus { room: config.room.clone(), ..NetStatus::default() };
    *smoothing = LocalSmoothing::default();
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
pub(crate) fn receive(
    mut conn: ResMut<TickwireConnection>,
    mut state: ResMut<ConnectionState>,
    mut status: ResMut<NetStatus>,
    mut connected: MessageWriter<Connected>,
    mut disconnected: MessageWriter<Disconnected>,
    mut events: MessageWriter<NetGameEvent>,
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
                events.write(NetGameEvent(e));
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

/// A fire press, kept until an input frame has carried it.
#[derive(Debug, Default)]
pub(crate) struct FireLatch {
    fire: bool,
    /// The newest input the driver had sent when the latch was last looked at.
    seen: Option<Tick>,
}

/// Hands the game's intent to the driver, which samples it at the next tick.
///
/// A press shorter than a tick would fall between two samples, so `fire` is latched until an
/// input has gone out after it. The check and the hand-over happen with the state locked: the
/// driver samples the intent with that lock held, so no sample can slip in between.
pub(crate) fn send_intent(
    conn: Res<TickwireConnection>,
    intent: Res<PlayerIntent>,
    mut latch: Local<FireLatch>,
) {
    let Some(h) = &conn.handle else {
        return;
    };
    let input = intent.to_input();
    h.with_state(|s| {
        let sent = s.last_input_sent();
        if sent != latch.seen {
            *latch = FireLatch { fire: false, seen: sent };
        }
        latch.fire |= input.fire();
        h.set_input(input.firing(latch.fire));
    });
}

/// Leaves the session when the app exits, so the server hears `Disconnect(ClientLeft)` rather
/// than a dropped connection (the driver sends it at once, on its own thread).
pub(crate) fn leave_on_exit(conn: Res<TickwireConnection>, mut exit: MessageReader<AppExit>) {
    if exit.read().next().is_some() {
        conn.leave();
    }
}
