//! [`TickwireSystems::Sync`](crate::TickwireSystems::Sync): the Bevy entities follow the
//! client library's state, once per frame.
//!
//! With the state locked once (for the time it takes to copy each entity's components):
//!
//! - **Remote entities** come from [`ClientState::bracket`] at the client's `now`: the two
//!   snapshots around the render time (`arrival − delay`, see `tickwire_client::interp`),
//!   interpolated per field as the schema says. An entity of the newer snapshot that has no
//!   Bevy entity yet is spawned; a Bevy entity whose id is no longer in it is despawned.
//! - **The local player**, when the game predicts it, comes from the newest snapshot with the
//!   predictor's state applied ([`TickwirePlugin::predict`](crate::TickwirePlugin::predict));
//!   the predictor replays every input the server has not simulated yet on top of each
//!   snapshot (reconciliation, in the client library). The prediction moves once per tick; the
//!   drawn position glides from where it was drawn to the new prediction over one tick
//!   ([`LocalSmoothing`]), so corrections never pop, and jumps longer than
//!   [`LocalSmoothing::snap_distance`] (a respawn) snap. A game that predicts nothing draws its
//!   own entity interpolated, like the others.
//! - Each component is copied by its mirror (one per component type), player names are
//!   refreshed after `Joined` and `Left` events, and [`NetStatus`] is refreshed.
//!
//! [`ClientState::bracket`]: tickwire_client::ClientState::bracket

use std::collections::HashMap;
use std::time::Duration;

use bevy::prelude::*;
use tickwire_client::ClientState;
use tickwire_protocol::EntityId;

use crate::NetProtocol;
use crate::components::{Interpolated, LocalPlayer, NetEntity, PlayerName};
use crate::mirror::{Capture, Mirror, Positions};
use crate::session::TickwireConnection;
use crate::status::NetStatus;

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
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct LocalSmoothing {
    /// A prediction further than this from the drawn position snaps instead of gliding (a
    /// respawn), world units.
    pub snap_distance: f32,
    /// Drawn position when the newest prediction arrived.
    from: Vec2,
    /// The newest prediction.
    to: Vec2,
    /// When it arrived, on the client's clock.
    since: Duration,
    /// Whether `to` holds a prediction yet.
    started: bool,
}

impl Default for LocalSmoothing {
    fn default() -> Self {
        Self::new(64.0)
    }
}

impl LocalSmoothing {
    /// Smoothing that snaps past `snap_distance` world units.
    pub fn new(snap_distance: f32) -> Self {
        Self {
            snap_distance,
            from: Vec2::ZERO,
            to: Vec2::ZERO,
            since: Duration::ZERO,
            started: false,
        }
    }

    /// The drawn position at `now`, given the newest prediction and the tick length.
    pub fn update(&mut self, predicted: Vec2, now: Duration, tick: Duration) -> Vec2 {
        if !self.started {
            (self.from, self.to, self.since, self.started) = (predicted, predicted, now, true);
        } else if predicted != self.to {
            let drawn = self.at(now, tick);
            self.from =
                if drawn.distance(predicted) > self.snap_distance { predicted } else { drawn };
            (self.to, self.since) = (predicted, now);
        }
        self.at(now, tick)
    }

    /// Forgets the last prediction (a new session).
    pub(crate) fn restart(&mut self) {
        *self = Self::new(self.snap_distance);
    }

    fn at(&self, now: Duration, tick: Duration) -> Vec2 {
        let t = now.saturating_sub(self.since).as_secs_f32() / tick.as_secs_f32().max(1e-3);
        self.from.lerp(self.to, t.clamp(0.0, 1.0))
    }
}

/// The sync system's own state: the mirrors and what it reuses from frame to frame.
#[derive(Resource)]
pub(crate) struct SyncState<P: NetProtocol> {
    pub(crate) mirrors: Vec<Box<dyn Mirror<P>>>,
    positions: Positions,
    /// This frame's entity ids, in order.
    ids: Vec<EntityId>,
    /// The entity this client controls, as of this frame.
    own: Option<EntityId>,
    /// Whether it is predicted this frame.
    predicted: bool,
    /// Player names by entity (refreshed after `Joined`/`Left` events).
    names: HashMap<EntityId, String>,
}

impl<P: NetProtocol> SyncState<P> {
    pub(crate) fn new(mirrors: Vec<Box<dyn Mirror<P>>>) -> Self {
        Self {
            mirrors,
            positions: Positions::default(),
            ids: Vec::new(),
            own: None,
            predicted: false,
            names: HashMap::new(),
        }
    }

    /// Forgets the old session's entities.
    pub(crate) fn reset(&mut self) {
        for m in &mut self.mirrors {
            m.reset();
        }
        self.names.clear();
        self.own = None;
    }

    /// Copies what this frame needs from the state (see the module docs).
    fn capture(
        &mut self,
        s: &ClientState<P>,
        now: Duration,
        names_dirty: bool,
        status: &mut NetStatus,
    ) {
        self.positions.clear();
        self.ids.clear();
        self.own = s.own_entity();
        let own_newest = s.predicted().and(self.own).and_then(|id| s.latest_snapshot()?.get(id));
        self.predicted = own_newest.is_some();
        let cap = Capture::<P> {
            schema: s.schema(),
            bracket: s.bracket(now),
            own: self.own,
            own_newest,
            predicted: s.predicted(),
        };
        if let Some(b) = &cap.bracket {
            self.ids.extend(b.iter().map(|e| e.id()));
        }
        if let (Some(id), true) = (self.own, self.predicted)
            && let Err(at) = self.ids.binary_search(&id)
        {
            self.ids.insert(at, id);
        }
        for m in &mut self.mirrors {
            m.capture(&cap, &mut self.positions);
        }
        if names_dirty {
            self.names.clear();
            self.names.extend(s.players().values().map(|p| (p.entity, p.name.clone())));
        }
        status.refresh(s, now);
        status.predicted = self.positions.own_predicted;
        status.server_position = self.positions.own_server;
    }
}

/// The system (see the module docs).
pub(crate) fn sync_entities<P: NetProtocol>(world: &mut World) {
    let Some(handle) = world.resource::<TickwireConnection<P>>().handle().cloned() else {
        return;
    };
    let names_dirty =
        std::mem::take(&mut world.resource_mut::<TickwireConnection<P>>().names_dirty);
    let now = handle.now();
    world.resource_scope(|world, mut sync: Mut<SyncState<P>>| {
        let mut status = world.resource_mut::<NetStatus>();
        handle.with_state(|s| sync.capture(s, now, names_dirty, &mut status));
        world.resource_scope(|world, mut entities: Mut<NetEntities>| {
            spawn_and_despawn(world, &mut entities, &sync);
            for m in &mut sync.mirrors {
                m.apply(world, &entities);
            }
            place(world, &entities, &sync, now);
            if names_dirty {
                name_all(world, &entities, &sync.names);
            }
        });
    });
}

/// Spawns the entities that appeared, despawns those that left, and keeps the local and
/// interpolated markers where they belong.
fn spawn_and_despawn<P: NetProtocol>(
    world: &mut World,
    entities: &mut NetEntities,
    sync: &SyncState<P>,
) {
    entities.map.retain(|id, entity| {
        let keep = sync.ids.binary_search(id).is_ok();
        if !keep {
            world.despawn(*entity);
        }
        keep
    });
    for &id in &sync.ids {
        let local = Some(id) == sync.own;
        match entities.map.get(&id) {
            Some(&e) => {
                let Ok(mut e) = world.get_entity_mut(e) else { continue };
                if local != e.contains::<LocalPlayer>() {
                    // The controlled entity changed (a rejoin as a new player).
                    if local {
                        e.remove::<Interpolated>().insert(LocalPlayer);
                    } else {
                        e.remove::<LocalPlayer>().insert(Interpolated);
                    }
                }
            }
            None => {
                let mut e = world.spawn(NetEntity(id));
                if local {
                    e.insert(LocalPlayer);
                } else {
                    e.insert(Interpolated);
                }
                if let Some(name) = sync.names.get(&id) {
                    e.insert(PlayerName(name.clone()));
                }
                entities.map.insert(id, e.id());
            }
        }
    }
}

/// Moves every positioned entity's `Transform` (the local player's smoothed when predicted).
fn place<P: NetProtocol>(
    world: &mut World,
    entities: &NetEntities,
    sync: &SyncState<P>,
    now: Duration,
) {
    let set = |world: &mut World, id: EntityId, pos: Vec2| {
        let Some(mut t) = entities.get(id).and_then(|e| world.get_mut::<Transform>(e)) else {
            return;
        };
        if t.translation.x != pos.x || t.translation.y != pos.y {
            t.translation.x = pos.x;
            t.translation.y = pos.y;
        }
    };
    for (&id, &pos) in &sync.positions.drawn {
        set(world, id, pos);
    }
    if let (true, Some(id), Some(predicted)) =
        (sync.predicted, sync.own, sync.positions.own_predicted)
    {
        let tick_rate = world.resource::<NetStatus>().tick_rate.max(1);
        let tick = Duration::from_secs_f64(1.0 / f64::from(tick_rate));
        let pos = world.resource_mut::<LocalSmoothing>().update(predicted, now, tick);
        set(world, id, pos);
    }
}

/// Gives every player's entity its current name.
fn name_all(world: &mut World, entities: &NetEntities, names: &HashMap<EntityId, String>) {
    for (id, entity) in entities.iter() {
        let Some(name) = names.get(&id) else { continue };
        let Ok(mut e) = world.get_entity_mut(entity) else { continue };
        match e.get_mut::<PlayerName>() {
            Some(mut n) if n.0 != *name => n.0.clone_from(name),
            Some(_) => {}
            None => {
                e.insert(PlayerName(name.clone()));
            }
        }
    }
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
