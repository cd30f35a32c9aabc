//! [`TickwireSystems::Sync`](crate::TickwireSystems::Sync): the Bevy entities follow the
//! client library's state, once per frame.
//!
//! With the state locked once (for the time it takes to copy a few numbers per entity):
//!
//! - **Remote entities** come from [`ClientState::bracket`] at the client's `now`: the two
//!   snapshots around the render time (`arrival − delay`, see `tickwire_client::interp`),
//!   interpolated per entity. An entity of the newer snapshot that has no Bevy entity yet is
//!   spawned; a Bevy entity whose id is no longer in it is despawned.
//! - **The local player** comes from the predictor: [`ClientState::predicted`] is the
//!   position after every input sent, replayed on top of the newest snapshot (reconciled by the
//!   library on each snapshot). It moves once per tick; the drawn position glides from where it
//!   was drawn to the new prediction over one tick ([`LocalSmoothing`]), so corrections never
//!   pop, and respawns (jumps over [`SNAP_DISTANCE`]) snap.
//! - [`NetStatus`] is refreshed.
//!
//! [`ClientState::bracket`]: tickwire_client::ClientState::bracket
//! [`ClientState::predicted`]: tickwire_client::ClientState::predicted

use std::collections::HashMap;
use std::time::Duration;

use bevy::prelude::*;
use tickwire_arena::{ArenaProtocol, BODY, Body, HEADING, Heading, NPC, Npc, PLAYER, Player};
use tickwire_client::{ClientState, Interpolated as Drawn, PlayerInfo};
use tickwire_protocol::EntityId;

use crate::components::{
    Interpolated, LocalPlayer, NetBody, NetEntity, NetHeading, NetNpc, NetPlayer, PlayerName,
};
use crate::intent::PlayerIntent;
use crate::session::TickwireConnection;
use crate::status::NetStatus;

/// A prediction further than this from the drawn position snaps instead of gliding (respawn).
pub const SNAP_DISTANCE: f32 = 64.0;

/// The Bevy entity of each replicated network id.
#[derive(Resource, Debug, Default)]
pub struct NetEntities {
    map: HashMap<EntityId, Entity>,
}

impl NetEntities {
    /// The Bevy entity of network entity `id`, if it is replicated.
    pub fn get(&self, id: EntityId) -> Option<Entity> {
        self.map.get(&id).copied()
    }

    /// Number of replicated entities.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is replicated.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every `(network id, Bevy entity)`.
    pub fn iter(&self) -> impl Iterator<Item = (EntityId, Entity)> + '_ {
        self.map.iter().map(|(&id, &e)| (id, e))
    }

    pub(crate) fn clear(&mut self) -> impl Iterator<Item = Entity> + '_ {
        self.map.drain().map(|(_, e)| e)
    }
}

/// How the local player's drawn position follows the prediction (see the module docs).
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub struct LocalSmoothing {
    /// Drawn position when the newest prediction arrived.
    from: Vec2,
    /// The newest prediction.
    to: Vec2,
    /// When it arrived, on the client's clock.
    since: Duration,
    /// Whether `to` holds a prediction yet.
    started: bool,
}

impl LocalSmoothing {
    /// The drawn position at `now`, given the newest prediction and the tick length.
    pub fn update(&mut self, predicted: Vec2, now: Duration, tick: Duration) -> Vec2 {
        if !self.started {
            *self = LocalSmoothing { from: predicted, to: predicted, since: now, started: true };
        } else if predicted != self.to {
            let drawn = self.at(now, tick);
            let from = if drawn.distance(predicted) > SNAP_DISTANCE { predicted } else { drawn };
            *self = LocalSmoothing { from, to: predicted, since: now, started: true };
        }
        self.at(now, tick)
    }

    fn at(&self, now: Duration, tick: Duration) -> Vec2 {
        let t = now.saturating_sub(self.since).as_secs_f32() / tick.as_secs_f32().max(1e-3);
        self.from.lerp(self.to, t.clamp(0.0, 1.0))
    }
}

/// A remote entity as drawn this frame (its body interpolated), copied out under the lock.
struct Remote {
    id: EntityId,
    pos: Vec2,
    velocity: Vec2,
    heading: Option<f32>,
    npc: Option<Npc>,
    player: Option<Player>,
}

impl Remote {
    /// An entity with a body; others are not drawn.
    fn of(e: &Drawn<'_>) -> Option<Remote> {
        let body: Body = e.get(BODY)?;
        let newest: Option<Body> = e.newest(BODY);
        Some(Remote {
            id: e.id(),
            pos: glam_vec(body.pos()),
            velocity: glam_vec(newest.unwrap_or(body).velocity()),
            heading: e.get::<Heading>(HEADING).map(|h| h.angle),
            npc: e.newest(NPC),
            player: e.newest(PLAYER),
        })
    }
}

/// One frame's copy of what the entities need, taken under the lock.
#[derive(Default)]
pub(crate) struct Frame {
    remote: Vec<Remote>,
    own: Option<EntityId>,
    /// The local player in the newest snapshot: replicated status and displacement.
    own_player: Option<(Player, Vec2)>,
    predicted: Option<Vec2>,
    /// Player names by entity (kept across frames, refreshed after `Joined`/`Left` events).
    names: HashMap<EntityId, String>,
}

fn glam_vec(v: glam::Vec2) -> Vec2 {
    Vec2::new(v.x, v.y)
}

/// The local player in the newest snapshot: its body and player components.
fn own_in_newest(s: &ClientState<ArenaProtocol>) -> Option<(Body, Player)> {
    let e = s.latest_snapshot()?.get(s.own_entity()?)?;
    Some((e.get(s.schema(), BODY)?, e.get(s.schema(), PLAYER)?))
}

/// Copies what this frame needs from the state and refreshes `status`.
fn capture(
    s: &ClientState<ArenaProtocol>,
    now: Duration,
    names_dirty: bool,
    frame: &mut Frame,
    status: &mut NetStatus,
) {
    frame.remote.clear();
    frame.own = s.own_entity();
    if let Some(b) = s.bracket(now) {
        frame
            .remote
            .extend(b.iter().filter(|e| Some(e.id()) != frame.own).filter_map(|e| Remote::of(&e)));
    }
    let own = own_in_newest(s);
    frame.own_player = own.map(|(body, player)| (player, glam_vec(body.velocity())));
    frame.predicted = s.predicted().map(|p| glam_vec(p.pos));
    if names_dirty {
        frame.names.clear();
        frame.names.extend(s.players().values().map(|p: &PlayerInfo| (p.entity, p.name.clone())));
    }
    status.rtt = s.rtt();
    status.server_rtt = s.server_rtt().map(|r| Duration::from_micros(r.rtt_us.into()));
    status.server_tick = s.server_tick(now).map(|(t, _)| t);
    status.snapshot_tick = s.latest_snapshot().map(|snap| snap.tick());
    status.jitter_ticks = s.clock().map_or(0.0, |c| c.jitter_ticks());
    status.predicted = frame.predicted;
    status.server_position = own.map(|(body, _)| glam_vec(body.pos()));
    status.pending_inputs = s.pending_inputs();
    status.stats = s.stats();
}

type RemoteQuery<'w, 's> = Query<
    'w,
    's,
    (
        &'static mut NetBody,
        &'static mut Transform,
        Option<&'static mut NetHeading>,
        Option<&'static mut NetPlayer>,
    ),
    (With<Interpolated>, Without<LocalPlayer>),
>;

type LocalQuery<'w, 's> = Query<
    'w,
    's,
    (&'static mut NetBody, &'static mut Transform, &'static mut NetHeading, &'static mut NetPlayer),
    (With<LocalPlayer>, Without<Interpolated>),
>;

/// The system (see the module docs).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sync_entities(
    mut commands: Commands,
    mut conn: ResMut<TickwireConnection>,
    mut entities: ResMut<NetEntities>,
    mut status: ResMut<NetStatus>,
    mut smoothing: ResMut<LocalSmoothing>,
    intent: Res<PlayerIntent>,
    mut frame: Local<Frame>,
    mut remote: RemoteQuery<'_, '_>,
    mut local: LocalQuery<'_, '_>,
    mut names: Query<&mut PlayerName>,
) {
    let Some(handle) = conn.handle().cloned() else {
        return;
    };
    let now = handle.now();
    let names_dirty = std::mem::take(&mut conn.names_dirty);
    handle.with_state(|s| capture(s, now, names_dirty, &mut frame, &mut status));
    let tick = Duration::from_secs_f64(1.0 / f64::from(status.tick_rate.max(1)));

    // Remote entities: update or spawn; `frame.remote` is sorted by id.
    for e in &frame.remote {
        let pos = e.pos;
        let body = NetBody { position: pos, velocity: e.velocity };
        if let Some(entity) = entities.get(e.id) {
            if let Ok((mut b, mut t, heading, player)) = remote.get_mut(entity) {
                *b = body;
                t.translation.x = pos.x;
                t.translation.y = pos.y;
                if let (Some(mut h), Some(angle)) = (heading, e.heading) {
                    h.0 = angle;
                }
                if let (Some(mut p), Some(new)) = (player, e.player) {
                    p.set_if_neq(net_player(new));
                }
            }
            continue;
        }
        let mut spawned = commands.spawn((
            NetEntity(e.id),
            Interpolated,
            body,
            Transform::from_xyz(pos.x, pos.y, 0.0),
        ));
        if let Some(angle) = e.heading {
            spawned.insert(NetHeading(angle));
        }
        if let Some(npc) = e.npc {
            spawned.insert(NetNpc { kind: npc.kind });
        }
        if let Some(p) = e.player {
            let name = frame.names.get(&e.id).cloned().unwrap_or_default();
            spawned.insert((net_player(p), PlayerName(name)));
        }
        entities.map.insert(e.id, spawned.id());
    }

    // The local player.
    let own = frame.own.zip(frame.own_player).zip(frame.predicted);
    if let Some(((id, (player, velocity)), predicted)) = own {
        let pos = smoothing.update(predicted, now, tick);
        let body = NetBody { position: pos, velocity };
        match entities.get(id).map(|e| local.get_mut(e)) {
            Some(Ok((mut b, mut t, mut h, mut p))) => {
                *b = body;
                t.translation.x = pos.x;
                t.translation.y = pos.y;
                h.0 = intent.aim;
                p.set_if_neq(net_player(player));
            }
            Some(Err(_)) => {}
            None => {
                let spawned = commands.spawn((
                    NetEntity(id),
                    LocalPlayer,
                    body,
                    NetHeading(intent.aim),
                    net_player(player),
                    PlayerName(frame.names.get(&id).cloned().unwrap_or_default()),
                    Transform::from_xyz(pos.x, pos.y, 0.0),
                ));
                entities.map.insert(id, spawned.id());
            }
        }
    }

    // Despawn what the server no longer has.
    let keep_own = frame.own.filter(|_| frame.own_player.is_some());
    let remote_ids = &frame.remote;
    entities.map.retain(|&id, &mut entity| {
        let keep = Some(id) == keep_own || remote_ids.binary_search_by_key(&id, |e| e.id).is_ok();
        if !keep {
            commands.entity(entity).despawn();
        }
        keep
    });

    // Names, when a Joined or Left event changed them (entities spawned above got theirs).
    if names_dirty {
        for (&id, &entity) in &entities.map {
            if let (Some(name), Ok(mut n)) = (frame.names.get(&id), names.get_mut(entity))
                && n.0 != *name
            {
                n.0.clone_from(name);
            }
        }
    }
}

fn net_player(p: Player) -> NetPlayer {
    NetPlayer { health: p.health, score: p.score, alive: p.alive }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(100);

    #[test]
    fn local_player_glides_over_one_tick_and_snaps_on_respawn() {
        let mut s = LocalSmoothing::default();
        let ms = Duration::from_millis;
        assert_eq!(s.update(Vec2::new(10.0, 0.0), ms(0), TICK), Vec2::new(10.0, 0.0));
        // A new prediction 10 units on: drawn halfway after half a tick, there after one.
        assert_eq!(s.update(Vec2::new(20.0, 0.0), ms(1000), TICK), Vec2::new(10.0, 0.0));
        assert_eq!(s.update(Vec2::new(20.0, 0.0), ms(1050), TICK), Vec2::new(15.0, 0.0));
        assert_eq!(s.update(Vec2::new(20.0, 0.0), ms(1200), TICK), Vec2::new(20.0, 0.0));
        // A respawn far away snaps.
        assert_eq!(s.update(Vec2::new(500.0, 0.0), ms(1300), TICK), Vec2::new(500.0, 0.0));
    }
}
