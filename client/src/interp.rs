//! The snapshot history and interpolation of remote entities.
//!
//! [`SnapshotHistory`] keeps the last few decoded snapshots, oldest first. The newest is the
//! delta baseline; the others let remote entities be drawn **in the past**, between two
//! snapshots, so that they move smoothly although snapshots arrive in bursts. The render time
//! is `arrival − delay` on the clock's timeline ([`crate::clock`]), with
//! `delay = base + 2 · jitter` ticks ([`render_delay`]): about two ticks behind the newest
//! snapshot, more on a jittery path.
//!
//! [`SnapshotHistory::bracket`] finds the two snapshots around a render time; a [`Bracket`]
//! interpolates one entity ([`Bracket::entity`], a binary search in each snapshot) or all of
//! them ([`Bracket::iter`], a merge walk over the two id-sorted lists). Positions are
//! interpolated linearly, headings along the shorter arc; everything else comes from the newer
//! snapshot. An entity that moved further than [`TELEPORT_STEP`] per tick between the two
//! (a respawn) snaps to the newer position. Past the newest snapshot, positions are
//! extrapolated along the replicated velocity for at most [`MAX_EXTRAPOLATION`] ticks.

use std::collections::VecDeque;
use std::f32::consts::TAU;

use glam::Vec2;
use tickwire_protocol::snapshot::EntityRef;
use tickwire_protocol::{EntityId, Schema, Snapshot, Tick};
use tickwire_sim::arena::{BODY, Body, HEADING, Heading, NPC, Npc, PLAYER, Player};

/// Largest plausible displacement per tick; more between two snapshots is a teleport.
pub const TELEPORT_STEP: f32 = 64.0;
/// Most ticks a position is extrapolated past the newest snapshot.
pub const MAX_EXTRAPOLATION: f64 = 3.0;

/// The interpolation delay in ticks: `base + 2 · jitter`, at most `base + 8`.
pub fn render_delay(base: f64, jitter_ticks: f64) -> f64 {
    base + (2.0 * jitter_ticks).clamp(0.0, 8.0)
}

/// The last few decoded snapshots, oldest first.
#[derive(Debug, Clone)]
pub struct SnapshotHistory {
    snaps: VecDeque<Snapshot>,
    capacity: usize,
}

impl SnapshotHistory {
    /// A history of at most `capacity` snapshots (at least 2).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        Self { snaps: VecDeque::with_capacity(capacity), capacity }
    }

    /// Appends the newest snapshot, forgetting the oldest when full.
    pub fn push(&mut self, snap: Snapshot) {
        if self.snaps.len() == self.capacity {
            self.snaps.pop_front();
        }
        self.snaps.push_back(snap);
    }

    /// The newest snapshot (the delta baseline).
    pub fn newest(&self) -> Option<&Snapshot> {
        self.snaps.back()
    }

    /// The snapshot of `tick`, if still held.
    pub fn get(&self, tick: Tick) -> Option<&Snapshot> {
        self.snaps.iter().rev().find(|s| s.tick() == tick)
    }

    /// Snapshots held, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Snapshot> + '_ {
        self.snaps.iter()
    }

    /// Number of snapshots held.
    pub fn len(&self) -> usize {
        self.snaps.len()
    }

    /// Whether no snapshot is held.
    pub fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }

    /// The snapshots around `render`, a time in ticks relative to `origin` (see
    /// [`crate::clock::ClockSync::relative`]). Before the oldest snapshot it holds the oldest;
    /// after the newest it extrapolates from the newest.
    pub fn bracket<'a>(
        &'a self,
        schema: &'a Schema,
        origin: Tick,
        render: f64,
    ) -> Option<Bracket<'a>> {
        let rel = |s: &Snapshot| f64::from(s.tick().diff(origin));
        let newest = self.snaps.back()?;
        if render >= rel(newest) {
            let ahead = (render - rel(newest)).min(MAX_EXTRAPOLATION);
            return Some(Bracket { schema, from: newest, to: newest, t: 0.0, ahead: ahead as f32 });
        }
        // invariant: the history is not empty (it has a newest).
        let oldest = self.snaps.front()?;
        if render <= rel(oldest) {
            return Some(Bracket { schema, from: oldest, to: oldest, t: 0.0, ahead: 0.0 });
        }
        let i = self.snaps.iter().rposition(|s| rel(s) <= render)?;
        let (from, to) = (self.snaps.get(i)?, self.snaps.get(i + 1)?);
        let t = (render - rel(from)) / (rel(to) - rel(from));
        Some(Bracket { schema, from, to, t: t as f32, ahead: 0.0 })
    }
}

/// One entity as it should be drawn at the render time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterpolatedEntity {
    /// Its id.
    pub id: EntityId,
    /// Interpolated position.
    pub pos: Vec2,
    /// Displacement per tick (from the newer snapshot).
    pub velocity: Vec2,
    /// Interpolated heading in radians `[0, 2π)`, if it has one.
    pub heading: Option<f32>,
    /// Its NPC component, if it is an NPC.
    pub npc: Option<Npc>,
    /// Its player component, if it is a player.
    pub player: Option<Player>,
}

/// Two snapshots around a render time (they are the same one at the history's ends).
#[derive(Debug, Clone, Copy)]
pub struct Bracket<'a> {
    schema: &'a Schema,
    /// The older snapshot.
    pub from: &'a Snapshot,
    /// The newer snapshot.
    pub to: &'a Snapshot,
    /// Progress from `from` to `to`, `0.0..1.0`.
    pub t: f32,
    /// Ticks past `to` to extrapolate (only when `from == to`, at the newest snapshot).
    pub ahead: f32,
}

impl<'a> Bracket<'a> {
    /// The entity `id` at the render time, if the newer snapshot has it with a body.
    pub fn entity(&self, id: EntityId) -> Option<InterpolatedEntity> {
        let to = self.to.get(id)?;
        self.blend(self.from.get(id), to)
    }

    /// Every entity of the newer snapshot that has a body, in id order.
    pub fn iter(&self) -> impl Iterator<Item = InterpolatedEntity> + 'a {
        let this = *self;
        let mut from = this.from.iter().peekable();
        this.to.iter().filter_map(move |to| {
            while from.next_if(|f| f.id < to.id).is_some() {}
            let old = from.next_if(|f| f.id == to.id);
            this.blend(old, to)
        })
    }

    fn blend(&self, from: Option<EntityRef<'_>>, to: EntityRef<'_>) -> Option<InterpolatedEntity> {
        let body: Body = to.get(self.schema, BODY)?;
        let (new_pos, velocity) = (body.pos(), body.velocity());
        let new_heading = to.get::<Heading>(self.schema, HEADING).map(|h| h.angle);
        let (mut pos, mut heading) = (new_pos, new_heading);
        if self.from.tick() == self.to.tick() {
            // The bracket sits on one snapshot: hold it, or extrapolate past the newest.
            pos = new_pos + velocity * self.ahead;
        } else if let Some(old) = from.and_then(|f| f.get::<Body>(self.schema, BODY)) {
            let gap = self.to.tick().diff(self.from.tick()).max(1) as f32;
            if old.pos().distance(new_pos) <= TELEPORT_STEP * gap {
                pos = old.pos().lerp(new_pos, self.t);
                let old_heading = from.and_then(|f| f.get::<Heading>(self.schema, HEADING));
                if let (Some(a), Some(b)) = (old_heading, new_heading) {
                    heading = Some(lerp_angle(a.angle, b, self.t));
                }
            }
        }
        Some(InterpolatedEntity {
            id: to.id,
            pos,
            velocity,
            heading,
            npc: to.get(self.schema, NPC),
            player: to.get(self.schema, PLAYER),
        })
    }
}

/// Interpolates angles (radians) along the shorter arc; the result is in `[0, 2π)`.
pub fn lerp_angle(a: f32, b: f32, t: f32) -> f32 {
    let mut d = (b - a).rem_euclid(TAU);
    if d > TAU / 2.0 {
        d -= TAU;
    }
    (a + d * t).rem_euclid(TAU)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::SnapshotBuilder;
    use tickwire_sim::arena::schema;

    fn snap(tick: u32, entities: &[(u32, f32, f32, f32)]) -> Snapshot {
        let mut b = SnapshotBuilder::new(schema(), Tick(tick), Snapshot::default());
        for &(id, x, vx, angle) in entities {
            b.entity(EntityId(id))
                .set(BODY, &Body { x, y: 10.0, vx, vy: 0.0 })
                .set(HEADING, &Heading { angle })
                .set(NPC, &Npc { kind: 1 });
        }
        b.finish().expect("unique ids")
    }

    fn history() -> SnapshotHistory {
        let mut h = SnapshotHistory::new(3);
        h.push(snap(8, &[(1, 0.0, 0.0, 0.0)]));
        h.push(snap(10, &[(1, 100.0, 1.0, 0.0), (2, 500.0, 0.0, 6.0)]));
        h.push(snap(12, &[(1, 120.0, 10.0, 1.0), (2, 500.0, 0.0, 0.5)]));
        h
    }

    #[test]
    fn keeps_the_last_n_and_finds_by_tick() {
        let mut h = history();
        assert_eq!(h.len(), 3);
        h.push(snap(13, &[]));
        assert_eq!(h.len(), 3);
        assert!(h.get(Tick(8)).is_none());
        assert_eq!(h.get(Tick(10)).map(Snapshot::tick), Some(Tick(10)));
        assert_eq!(h.newest().map(Snapshot::tick), Some(Tick(13)));
    }

    #[test]
    fn interpolates_between_the_right_pair() {
        let h = history();
        let s = schema();
        // Relative to origin 10: render time 1.5 is tick 11.5, between 10 and 12.
        let b = h.bracket(s, Tick(10), 1.5).expect("bracket");
        assert_eq!((b.from.tick(), b.to.tick()), (Tick(10), Tick(12)));
        assert!((b.t - 0.75).abs() < 1e-6);
        let e = b.entity(EntityId(1)).expect("entity 1");
        assert_eq!(e.pos, Vec2::new(115.0, 10.0));
        assert_eq!(e.velocity, Vec2::new(10.0, 0.0));
        assert_eq!(e.npc, Some(Npc { kind: 1 }));
        assert_eq!(e.player, None);
        // Heading 6.0 → 0.5 goes forward through 2π, not back through π.
        let h2 = b.entity(EntityId(2)).and_then(|e| e.heading).expect("heading");
        let expected = (6.0 + 0.75 * (0.5 + TAU - 6.0)).rem_euclid(TAU);
        // Headings are quantized to 10 bits on the wire.
        assert!((h2 - expected).abs() < 0.01, "{h2} vs {expected}");
        let all: Vec<_> = b.iter().map(|e| e.id).collect();
        assert_eq!(all, [EntityId(1), EntityId(2)]);
    }

    #[test]
    fn teleports_snap_and_new_entities_appear_at_their_place() {
        let h = history();
        let b = h.bracket(schema(), Tick(0), 9.0).expect("bracket");
        assert_eq!((b.from.tick(), b.to.tick()), (Tick(8), Tick(10)));
        // Entity 1 went 0 → 100 in 2 ticks: under 128, interpolated.
        assert_eq!(b.entity(EntityId(1)).map(|e| e.pos.x), Some(50.0));
        // Entity 2 is new in tick 10: drawn where it is.
        assert_eq!(b.entity(EntityId(2)).map(|e| e.pos.x), Some(500.0));
        let mut h = SnapshotHistory::new(4);
        h.push(snap(1, &[(1, 0.0, 0.0, 0.0)]));
        h.push(snap(2, &[(1, 900.0, 0.0, 0.0)]));
        let b = h.bracket(schema(), Tick(0), 1.5).expect("bracket");
        assert_eq!(b.entity(EntityId(1)).map(|e| e.pos.x), Some(900.0), "respawn snaps");
    }

    #[test]
    fn holds_before_the_oldest_and_extrapolates_a_little_past_the_newest() {
        let h = history();
        let b = h.bracket(schema(), Tick(0), 2.0).expect("bracket");
        assert_eq!(b.to.tick(), Tick(8));
        assert_eq!(b.entity(EntityId(1)).map(|e| e.pos.x), Some(0.0));
        let b = h.bracket(schema(), Tick(0), 14.0).expect("bracket");
        assert_eq!(b.entity(EntityId(1)).map(|e| e.pos.x), Some(140.0));
        let b = h.bracket(schema(), Tick(0), 100.0).expect("bracket");
        assert_eq!(b.entity(EntityId(1)).map(|e| e.pos.x), Some(150.0), "at most 3 ticks");
        assert!(SnapshotHistory::new(2).bracket(schema(), Tick(0), 0.0).is_none());
    }

    #[test]
    fn delay_grows_with_jitter_within_bounds() {
        assert_eq!(render_delay(2.0, 0.0), 2.0);
        assert_eq!(render_delay(2.0, 0.5), 3.0);
        assert_eq!(render_delay(2.0, 100.0), 10.0);
    }
}
