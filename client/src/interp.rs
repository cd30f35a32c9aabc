//! The snapshot history and interpolation of remote entities, for any game's schema.
//!
//! [`SnapshotHistory`] keeps the last few decoded snapshots, oldest first. The newest is the
//! delta baseline; the others let remote entities be drawn **in the past**, between two
//! snapshots, so that they move smoothly although snapshots arrive in bursts. The render time
//! is `arrival − delay` on the clock's timeline ([`crate::clock`]), with
//! `delay = base + 2 · jitter` ticks ([`render_delay`]): about two ticks behind the newest
//! snapshot, more on a jittery path.
//!
//! [`SnapshotHistory::bracket`] finds the two snapshots around a render time; a [`Bracket`]
//! gives one entity ([`Bracket::entity`], a binary search in each snapshot) or all of them
//! ([`Bracket::iter`], a merge walk over the two id-sorted lists) as an [`Interpolated`], whose
//! [`get`](Interpolated::get) reads any component at the render time. What the schema says
//! decides how each field is drawn:
//!
//! - **fixed-point** fields are interpolated linearly, **angles** along the shorter arc (the
//!   continuous codecs, [`FieldCodec::is_continuous`]); every other field takes the newer
//!   snapshot's value;
//! - a field **predicted linearly** from a velocity field (a position) that moved further than
//!   the velocity codec allows in the ticks between the two snapshots teleported (a respawn):
//!   its whole component snaps to the newer value;
//! - past the newest snapshot, such fields are **extrapolated** along their velocity for at
//!   most [`MAX_EXTRAPOLATION`] ticks.

use std::collections::VecDeque;
use std::f32::consts::TAU;
use std::sync::OnceLock;

use tickwire_protocol::message::ChunksMessage;
use tickwire_protocol::schema::{FieldCodec, FieldInfo, FieldReader, MAX_FIELDS_PER_COMPONENT};
use tickwire_protocol::snapshot::{ChunkSet, DecodeLimits, EntityRef, Replica, SnapshotDecoder};
use tickwire_protocol::{EntityId, Replicate, Schema, Snapshot, SnapshotError, Tick};

/// Most ticks a position is extrapolated past the newest snapshot.
pub const MAX_EXTRAPOLATION: f64 = 3.0;

/// The interpolation delay in ticks: `base + 2 · jitter`, at most `base + 8`.
pub fn render_delay(base: f64, jitter_ticks: f64) -> f64 {
    base + (2.0 * jitter_ticks).clamp(0.0, 8.0)
}

/// The last few decoded snapshots, oldest first.
///
/// A history of one ([`SnapshotHistory::new`]`(1)`) keeps the newest as a [`Replica`], which
/// a delta is decoded into without a pass over every entity
/// ([`tickwire_protocol::SnapshotDecoder::decode_replica`]), or, when the server sends views as
/// chunks (`PROTOCOL.md` §6.10), as the [`ChunkSet`] itself; either is written out as a
/// [`Snapshot`] only when one is asked for ([`newest`](SnapshotHistory::newest),
/// [`bracket`](SnapshotHistory::bracket), ...), once per snapshot received, and
/// [`newest_entity`](SnapshotHistory::newest_entity) reads one entity without that. A longer
/// history writes every view as chunks out as a snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotHistory {
    /// With a capacity above 1: the snapshots, oldest first.
    snaps: VecDeque<Snapshot>,
    capacity: usize,
    /// With a capacity of 1: the newest snapshot, when it is not in `snaps`.
    one: One,
    /// `one` written out, made when first asked for after each decode.
    written: OnceLock<Snapshot>,
    /// The chunks held, when the server sends views as chunks.
    chunks: ChunkSet,
}

/// How a history of one holds its newest snapshot.
#[derive(Debug, Clone)]
enum One {
    /// In `snaps` (or none yet).
    Plain,
    /// As a replica, that deltas are decoded into.
    Replica(Replica),
    /// As the history's chunks.
    Chunks,
}

impl SnapshotHistory {
    /// A history of at most `capacity` snapshots (at least 1). A history of one holds only
    /// the newest, as a [`Replica`]: nothing to interpolate between ([`Self::bracket`] holds
    /// the newest, or extrapolates from it), for a client that never draws remote entities.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let snaps = VecDeque::with_capacity(if capacity == 1 { 0 } else { capacity });
        let (one, written, chunks) = (One::Plain, OnceLock::new(), ChunkSet::new());
        Self { snaps, capacity, one, written, chunks }
    }

    /// The most snapshots held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends the newest snapshot, forgetting the oldest when full; returns the one
    /// forgotten, whose buffers the next decode can reuse
    /// ([`tickwire_protocol::SnapshotDecoder::decode_into`]). A history of one makes it its
    /// replica (and returns nothing: its buffers stay with the new replica's decodes).
    pub fn push(&mut self, snap: Snapshot) -> Option<Snapshot> {
        if self.capacity == 1 {
            // A view written out by `forget_chunks` goes: a history of one holds one snapshot.
            self.snaps.clear();
            self.one = One::Replica(Replica::new(snap));
            self.written = OnceLock::new();
            return None;
        }
        let evicted = if self.snaps.len() == self.capacity { self.snaps.pop_front() } else { None };
        self.snaps.push_back(snap);
        evicted
    }

    /// Applies a view as chunks (see [`ChunkSet::update`]). A history of one holds the chunks
    /// as its newest; a longer one appends the view, written out into `spare` (whose buffers
    /// are reused, and which gets back the snapshot forgotten), unless it is not newer than
    /// the newest held (the first view of a resumed connection can be): then only the chunks
    /// change. Returns whether the view became the newest.
    pub(crate) fn apply_chunks(
        &mut self,
        decoder: &mut SnapshotDecoder,
        schema: &Schema,
        msg: &ChunksMessage,
        limits: &DecodeLimits,
        spare: &mut Snapshot,
    ) -> Result<bool, SnapshotError> {
        let stale = self.newest_tick().is_some_and(|n| !msg.tick.is_newer_than(n));
        if self.capacity == 1 {
            let result = self.chunks.update(decoder, schema, msg, limits);
            self.snaps.clear();
            self.one = if result.is_ok() { One::Chunks } else { One::Plain };
            self.written = OnceLock::new();
            return result.map(|()| !stale);
        }
        self.chunks.apply(decoder, schema, msg, limits, spare)?;
        if stale {
            return Ok(false);
        }
        let view = std::mem::take(spare);
        if let Some(old) = self.push(view) {
            *spare = old;
        }
        Ok(true)
    }

    /// Forgets the chunks held (a new connection's first view is sent in full); a history of
    /// one keeps their view, written out, as its newest.
    pub(crate) fn forget_chunks(&mut self) {
        if matches!(self.one, One::Chunks) {
            let mut view = Snapshot::default();
            self.chunks.view_into(&mut view);
            self.snaps.clear();
            self.snaps.push_back(view);
            self.one = One::Plain;
            self.written = OnceLock::new();
        }
        self.chunks.clear();
    }

    /// A history of one: the newest snapshot, to decode the next delta into
    /// ([`tickwire_protocol::SnapshotDecoder::decode_replica`]).
    pub(crate) fn replica_mut(&mut self) -> Option<&mut Replica> {
        self.written = OnceLock::new();
        match &mut self.one {
            One::Replica(r) => Some(r),
            _ => None,
        }
    }

    /// Forgets the newest snapshot of a history of one (a delta failed to decode into it:
    /// what remains is no baseline).
    pub(crate) fn forget_replica(&mut self) {
        self.snaps.clear();
        self.one = One::Plain;
        self.written = OnceLock::new();
    }

    /// Whether the newest snapshot is held apart from `snaps` (a history of one's replica or
    /// chunks).
    fn apart(&self) -> bool {
        !matches!(self.one, One::Plain)
    }

    /// The newest snapshot (the delta baseline).
    pub fn newest(&self) -> Option<&Snapshot> {
        match &self.one {
            One::Replica(r) => Some(self.written.get_or_init(|| r.snapshot())),
            One::Chunks => Some(self.written.get_or_init(|| {
                let mut out = Snapshot::default();
                self.chunks.view_into(&mut out);
                out
            })),
            One::Plain => self.snaps.back(),
        }
    }

    /// The newest snapshot's tick.
    pub fn newest_tick(&self) -> Option<Tick> {
        match &self.one {
            One::Replica(r) => Some(r.tick()),
            One::Chunks => self.chunks.tick(),
            One::Plain => self.snaps.back().map(Snapshot::tick),
        }
    }

    /// Entity `id` of the newest snapshot (a history of one writes its values into `buf`).
    pub fn newest_entity<'a>(
        &'a self,
        id: EntityId,
        buf: &'a mut Vec<u32>,
    ) -> Option<EntityRef<'a>> {
        match &self.one {
            One::Replica(r) => r.get(id, buf),
            One::Chunks => self.chunks.get(id, buf),
            One::Plain => self.snaps.back()?.get(id),
        }
    }

    /// Whether the snapshot of `tick` is held.
    pub fn holds(&self, tick: Tick) -> bool {
        if self.apart() {
            return self.newest_tick() == Some(tick);
        }
        self.snaps.iter().any(|s| s.tick() == tick)
    }

    /// The snapshot of `tick`, if still held.
    pub fn get(&self, tick: Tick) -> Option<&Snapshot> {
        if self.apart() {
            return self.newest().filter(|s| s.tick() == tick);
        }
        self.snaps.iter().rev().find(|s| s.tick() == tick)
    }

    /// Snapshots held, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Snapshot> + '_ {
        let apart = self.apart().then(|| self.newest()).flatten();
        self.snaps.iter().chain(apart)
    }

    /// Number of snapshots held.
    pub fn len(&self) -> usize {
        self.snaps.len() + usize::from(self.apart())
    }

    /// Whether no snapshot is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        let newest = self.newest()?;
        if render >= rel(newest) {
            let ahead = (render - rel(newest)).min(MAX_EXTRAPOLATION);
            return Some(Bracket { schema, from: newest, to: newest, t: 0.0, ahead: ahead as f32 });
        }
        // invariant: the history is not empty (it has a newest).
        let oldest = self.snaps.front().unwrap_or(newest);
        if render <= rel(oldest) {
            return Some(Bracket { schema, from: oldest, to: oldest, t: 0.0, ahead: 0.0 });
        }
        let i = self.snaps.iter().rposition(|s| rel(s) <= render)?;
        let (from, to) = (self.snaps.get(i)?, self.snaps.get(i + 1)?);
        let t = (render - rel(from)) / (rel(to) - rel(from));
        Some(Bracket { schema, from, to, t: t as f32, ahead: 0.0 })
    }
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
    /// The entity `id` at the render time, if the newer snapshot has it.
    pub fn entity(&self, id: EntityId) -> Option<Interpolated<'a>> {
        let to = self.to.get(id)?;
        Some(Interpolated { bracket: *self, from: self.from.get(id), to })
    }

    /// Every entity of the newer snapshot, in id order.
    pub fn iter(&self) -> impl Iterator<Item = Interpolated<'a>> + 'a {
        let this = *self;
        let mut from = this.from.iter().peekable();
        this.to.iter().map(move |to| {
            while from.next_if(|f| f.id < to.id).is_some() {}
            let old = from.next_if(|f| f.id == to.id);
            Interpolated { bracket: this, from: old, to }
        })
    }
}

/// One entity at the render time: read its components with [`get`](Self::get).
#[derive(Debug, Clone, Copy)]
pub struct Interpolated<'a> {
    bracket: Bracket<'a>,
    from: Option<EntityRef<'a>>,
    to: EntityRef<'a>,
}

impl Interpolated<'_> {
    /// The entity's id.
    pub fn id(&self) -> EntityId {
        self.to.id
    }

    /// Whether it has component `index` (in the newer snapshot).
    pub fn has(&self, index: usize) -> bool {
        self.to.has(index)
    }

    /// Component `T` (the schema's component `index`) as drawn at the render time (see the
    /// module docs).
    pub fn get<T: Replicate>(&self, index: usize) -> Option<T> {
        if !self.to.has(index) {
            return None;
        }
        let schema = self.bracket.schema;
        let range = schema.components().get(index)?.field_range();
        let fields = schema.fields().get(range.clone())?;
        let mut values = [0f32; MAX_FIELDS_PER_COMPONENT];
        let values = values.get_mut(..fields.len())?;
        self.blend(range.start, fields, values);
        Some(T::read(&mut FieldReader::from_floats(fields, values)))
    }

    /// Component `T` exactly as the newer snapshot has it (no interpolation).
    pub fn newest<T: Replicate>(&self, index: usize) -> Option<T> {
        self.to.get(self.bracket.schema, index)
    }

    /// Fills `out` with the component's fields (global indices from `first`) at the render
    /// time.
    fn blend(&self, first: usize, fields: &[FieldInfo], out: &mut [f32]) {
        let b = &self.bracket;
        let deq = |e: &EntityRef<'_>, g: usize| {
            let f = &b.schema.fields()[g];
            f.def.codec.dequantize(e.values.get(g).copied().unwrap_or(0))
        };
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = deq(&self.to, first + i);
        }
        if b.from.tick() == b.to.tick() {
            // The bracket sits on one snapshot: hold it, or extrapolate past the newest.
            for (i, f) in fields.iter().enumerate() {
                if let Some((vel, _)) = f.linear {
                    out[i] += deq(&self.to, vel) * b.ahead;
                }
            }
            return;
        }
        let Some(from) =
            self.from.filter(|f| f.mask & self.to.mask & component_bit(b.schema, first) != 0)
        else {
            return;
        };
        let gap = b.to.tick().diff(b.from.tick()).max(1) as f32;
        let teleported = fields.iter().enumerate().any(|(i, f)| {
            f.linear.is_some_and(|(vel, _)| {
                let reach = max_speed(&b.schema.fields()[vel]) * gap;
                (out[i] - deq(&from, first + i)).abs() > reach
            })
        });
        if teleported {
            return;
        }
        for (i, f) in fields.iter().enumerate() {
            let old = deq(&from, first + i);
            out[i] = match f.def.codec {
                FieldCodec::Fixed { .. } => old + (out[i] - old) * b.t,
                FieldCodec::Angle { .. } => lerp_angle(old, out[i], b.t),
                _ => out[i],
            };
        }
    }
}

/// The presence bit of the component whose first field is `first`.
fn component_bit(schema: &Schema, first: usize) -> u32 {
    schema.components().iter().position(|c| c.first_field == first).map_or(0, |i| 1 << i)
}

/// The largest speed a velocity field can carry, per tick.
fn max_speed(velocity: &FieldInfo) -> f32 {
    match velocity.def.codec {
        FieldCodec::Fixed { min, max, .. } => min.abs().max(max.abs()),
        _ => f32::INFINITY,
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
    use glam::Vec2;
    use tickwire_arena::{BODY, Body, HEADING, Heading, NPC, Npc, PLAYER, Player, schema};
    use tickwire_protocol::SnapshotBuilder;

    fn pos(e: Option<Interpolated<'_>>) -> Option<Vec2> {
        e?.get::<Body>(BODY).map(|b| b.pos())
    }

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
        let body: Body = e.get(BODY).expect("body");
        assert_eq!(body.pos(), Vec2::new(115.0, 10.0));
        assert_eq!(body.vx, 7.75, "velocity interpolated too: 1 → 10 at 0.75");
        assert_eq!(e.newest::<Body>(BODY).map(|b| b.velocity()), Some(Vec2::new(10.0, 0.0)));
        assert_eq!(e.get::<Npc>(NPC), Some(Npc { kind: 1 }));
        assert_eq!(e.get::<Player>(PLAYER), None);
        // Heading 6.0 → 0.5 goes forward through 2π, not back through π.
        let h2 = b.entity(EntityId(2)).and_then(|e| e.get::<Heading>(HEADING)).expect("heading");
        let h2 = h2.angle;
        let expected = (6.0 + 0.75 * (0.5 + TAU - 6.0)).rem_euclid(TAU);
        // Headings are quantized to 10 bits on the wire.
        assert!((h2 - expected).abs() < 0.01, "{h2} vs {expected}");
        let all: Vec<_> = b.iter().map(|e| e.id()).collect();
        assert_eq!(all, [EntityId(1), EntityId(2)]);
    }

    #[test]
    fn teleports_snap_and_new_entities_appear_at_their_place() {
        let h = history();
        let b = h.bracket(schema(), Tick(0), 9.0).expect("bracket");
        assert_eq!((b.from.tick(), b.to.tick()), (Tick(8), Tick(10)));
        // Entity 1 went 0 → 100 in 2 ticks: under 128, interpolated.
        assert_eq!(pos(b.entity(EntityId(1))).map(|p| p.x), Some(50.0));
        // Entity 2 is new in tick 10: drawn where it is.
        assert_eq!(pos(b.entity(EntityId(2))).map(|p| p.x), Some(500.0));
        let mut h = SnapshotHistory::new(4);
        h.push(snap(1, &[(1, 0.0, 0.0, 0.0)]));
        h.push(snap(2, &[(1, 900.0, 0.0, 0.0)]));
        let b = h.bracket(schema(), Tick(0), 1.5).expect("bracket");
        assert_eq!(pos(b.entity(EntityId(1))).map(|p| p.x), Some(900.0), "respawn snaps");
    }

    #[test]
    fn holds_before_the_oldest_and_extrapolates_a_little_past_the_newest() {
        let h = history();
        let b = h.bracket(schema(), Tick(0), 2.0).expect("bracket");
        assert_eq!(b.to.tick(), Tick(8));
        assert_eq!(pos(b.entity(EntityId(1))).map(|p| p.x), Some(0.0));
        let b = h.bracket(schema(), Tick(0), 14.0).expect("bracket");
        assert_eq!(pos(b.entity(EntityId(1))).map(|p| p.x), Some(140.0));
        let b = h.bracket(schema(), Tick(0), 100.0).expect("bracket");
        assert_eq!(pos(b.entity(EntityId(1))).map(|p| p.x), Some(150.0), "at most 3 ticks");
        assert!(SnapshotHistory::new(2).bracket(schema(), Tick(0), 0.0).is_none());
    }

    #[test]
    fn delay_grows_with_jitter_within_bounds() {
        assert_eq!(render_delay(2.0, 0.0), 2.0);
        assert_eq!(render_delay(2.0, 0.5), 3.0);
        assert_eq!(render_delay(2.0, 100.0), 10.0);
    }
}
