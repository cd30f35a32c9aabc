//! [`LagHistory`]: a bounded ring of per-tick hit shapes, for lag compensation.
//!
//! Each frame holds, for one tick, every hittable entity's [`HitShape`] (id, circle or box,
//! active) sorted by id: what the game's [`hit_shapes`](crate::Game::hit_shapes) reported. The
//! ring keeps the newest `capacity` frames; recording a tick reuses the oldest frame's buffer, so
//! once every frame has seen the largest count, recording allocates nothing and memory stays at
//! `capacity × shapes × size_of::<HitShape>()` ([`memory_bytes`](LagHistory::memory_bytes)).
//! Only what can be hit is recorded (the arena's players, not its NPCs), so a 1,000-NPC arena's
//! history is as small as an empty one's.
//!
//! Frames must be recorded for consecutive ticks; recording a tick that does not follow the
//! newest one (a gap, or time going backwards) starts the history afresh, so a lookup never
//! returns a frame for the wrong tick.

use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{EntityId, Tick};

use crate::lagcomp::{HitShape, Shape};

#[derive(Debug, Clone, Default)]
struct Frame {
    tick: Tick,
    records: Vec<HitShape>,
}

/// A ring of the last `capacity` ticks of [`HitShape`]s.
#[derive(Debug, Clone)]
pub struct LagHistory {
    frames: Vec<Frame>,
    /// Index of the newest frame.
    head: usize,
    /// Number of valid frames, `0..=frames.len()`.
    len: usize,
}

impl LagHistory {
    /// A history of `capacity` ticks (at least 2), each frame preallocated for
    /// `entities_hint` records.
    pub fn new(capacity: usize, entities_hint: usize) -> Self {
        let capacity = capacity.max(2);
        let frames = (0..capacity)
            .map(|_| Frame { tick: Tick(0), records: Vec::with_capacity(entities_hint) })
            .collect();
        Self { frames, head: capacity - 1, len: 0 }
    }

    /// Records the state of `tick`, which should be the tick after [`newest`](Self::newest).
    /// `records` are sorted by id here if they are not already.
    pub fn record(&mut self, tick: Tick, records: impl IntoIterator<Item = HitShape>) {
        if self.newest().is_some_and(|n| tick != n.next()) {
            self.len = 0;
        }
        self.head = (self.head + 1) % self.frames.len();
        self.len = (self.len + 1).min(self.frames.len());
        let frame = &mut self.frames[self.head];
        frame.tick = tick;
        frame.records.clear();
        frame.records.extend(records);
        if !frame.records.is_sorted_by_key(|r| r.id) {
            frame.records.sort_unstable_by_key(|r| r.id);
        }
    }

    /// The newest recorded tick.
    pub fn newest(&self) -> Option<Tick> {
        (self.len > 0).then(|| self.frames[self.head].tick)
    }

    /// The oldest recorded tick.
    pub fn oldest(&self) -> Option<Tick> {
        self.newest().map(|n| n.offset(1 - self.len as i32))
    }

    /// The records of `tick`, sorted by id, if it is still in the ring.
    pub fn frame(&self, tick: Tick) -> Option<&[HitShape]> {
        let back = self.newest()?.diff(tick);
        if back < 0 || back as usize >= self.len {
            return None;
        }
        let n = self.frames.len();
        Some(&self.frames[(self.head + n - back as usize) % n].records)
    }

    /// Where `id`'s shape was at `view`, interpolated linearly between the two recorded ticks
    /// around it (what a client rendering that view time drew).
    pub fn shape_at(&self, id: EntityId, view: ViewTime) -> Option<Shape> {
        let find = |frame: &[HitShape]| {
            frame.binary_search_by_key(&id, |r| r.id).ok().map(|i| frame[i].shape)
        };
        let a = find(self.frame(view.tick)?)?;
        if view.fraction == 0 {
            return Some(a);
        }
        let b = find(self.frame(view.tick.next())?)?;
        Some(a.lerp(&b, f32::from(view.fraction) / 256.0))
    }

    /// Number of recorded frames.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most frames kept.
    pub fn capacity(&self) -> usize {
        self.frames.len()
    }

    /// Heap bytes held by the ring (frame headers and record buffers).
    pub fn memory_bytes(&self) -> usize {
        self.frames.capacity() * size_of::<Frame>()
            + self
                .frames
                .iter()
                .map(|f| f.records.capacity() * size_of::<HitShape>())
                .sum::<usize>()
    }

    /// Forgets every frame, keeping the buffers.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use glam::Vec2;

    use super::*;

    fn circle(id: u32, x: f32, y: f32) -> HitShape {
        HitShape {
            id: EntityId(id),
            shape: Shape::Circle { center: Vec2::new(x, y), radius: 12.0 },
            active: true,
        }
    }

    fn records(n: u32, x: f32) -> impl Iterator<Item = HitShape> {
        (0..n).map(move |i| circle(i, x, i as f32))
    }

    fn center(s: Option<Shape>) -> Option<Vec2> {
        match s? {
            Shape::Circle { center, .. } => Some(center),
            Shape::Aabb { .. } => None,
        }
    }

    #[test]
    fn keeps_the_newest_frames() {
        let mut h = LagHistory::new(4, 2);
        assert_eq!((h.newest(), h.oldest(), h.len()), (None, None, 0));
        for t in 0..10u32 {
            h.record(Tick(t), records(2, t as f32));
        }
        assert_eq!((h.newest(), h.oldest(), h.len()), (Some(Tick(9)), Some(Tick(6)), 4));
        assert!(h.frame(Tick(5)).is_none());
        assert!(h.frame(Tick(10)).is_none());
        assert_eq!(h.frame(Tick(7)).map(|f| f[1]), Some(circle(1, 7.0, 1.0)));
    }

    #[test]
    fn memory_is_bounded() {
        let mut h = LagHistory::new(31, 64);
        let before = h.memory_bytes();
        for t in 0..10_000u32 {
            h.record(Tick(t), records(64, 1.0));
        }
        assert_eq!(h.memory_bytes(), before, "preallocated: recording never grows");
        assert_eq!(h.len(), 31);
        // More shapes than the hint: grows once per frame, then stays put.
        for t in 10_000..10_100u32 {
            h.record(Tick(t), records(100, 1.0));
        }
        let grown = h.memory_bytes();
        for t in 10_100..20_000u32 {
            h.record(Tick(t), records(100, 1.0));
        }
        assert_eq!(h.memory_bytes(), grown);
        assert!(grown <= 31 * (100 * size_of::<HitShape>() + size_of::<Frame>()) * 2);
    }

    #[test]
    fn a_gap_starts_afresh_and_wrapping_ticks_work() {
        let mut h = LagHistory::new(8, 1);
        for t in [u32::MAX - 1, u32::MAX, 0, 1] {
            h.record(Tick(t), records(1, t as f32));
        }
        assert_eq!((h.oldest(), h.newest(), h.len()), (Some(Tick(u32::MAX - 1)), Some(Tick(1)), 4));
        assert!(h.frame(Tick(u32::MAX)).is_some());
        h.record(Tick(5), records(1, 5.0));
        assert_eq!((h.oldest(), h.len()), (Some(Tick(5)), 1));
        assert!(h.frame(Tick(1)).is_none());
    }

    #[test]
    fn interpolates_and_sorts() {
        let mut h = LagHistory::new(8, 2);
        h.record(Tick(3), [circle(9, 10.0, 0.0), circle(2, 0.0, 0.0)]);
        h.record(Tick(4), [circle(2, 8.0, 0.0), circle(9, 20.0, 0.0)]);
        assert_eq!(h.frame(Tick(3)).map(|f| f[0].id), Some(EntityId(2)));
        let at = |fraction| center(h.shape_at(EntityId(9), ViewTime { tick: Tick(3), fraction }));
        assert_eq!(at(0), Some(Vec2::new(10.0, 0.0)));
        assert_eq!(at(64), Some(Vec2::new(12.5, 0.0)));
        let view = ViewTime { tick: Tick(4), fraction: 0 };
        assert_eq!(center(h.shape_at(EntityId(2), view)), Some(Vec2::new(8.0, 0.0)));
        assert_eq!(h.shape_at(EntityId(2), ViewTime { fraction: 1, ..view }), None);
        assert_eq!(h.shape_at(EntityId(5), view), None);
    }
}
