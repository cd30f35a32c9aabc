//! [`Subset`]: some rows of a snapshot, which the encoder reads in place.
//!
//! With interest management a server encodes, per view, the entities that view sees: a few
//! hundred rows of a world of thousands. Copying them out into a snapshot of their own, per
//! view per tick, costs more than encoding them; a subset names them instead (the snapshot and
//! its row numbers, ascending), and [`SnapshotEncoder::encode_subset_into`] writes exactly
//! the bytes the copied-out snapshot would give.
//!
//! [`SnapshotEncoder::encode_subset_into`]: super::SnapshotEncoder::encode_subset_into

use prefetch_index::prefetch_index;

use super::Snapshot;
use crate::ids::{EntityId, Tick};

/// Some rows of a [`Snapshot`] (or all of them), in ascending order (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Subset<'a> {
    snap: &'a Snapshot,
    /// Row numbers, strictly ascending and below `snap.len()`; `None`: every row.
    rows: Option<&'a [usize]>,
}

impl<'a> Subset<'a> {
    /// Every row of `snap`.
    pub fn all(snap: &'a Snapshot) -> Self {
        Self { snap, rows: None }
    }

    /// No row of `snap`: an empty state at its tick.
    pub fn none(snap: &'a Snapshot) -> Self {
        Self { snap, rows: Some(&[]) }
    }

    /// The rows `rows` of `snap`; `None` unless they are strictly ascending and each below
    /// `snap.len()`.
    pub fn new(snap: &'a Snapshot, rows: &'a [usize]) -> Option<Self> {
        let ascending = rows.windows(2).all(|w| w[0] < w[1]);
        let in_range = rows.last().is_none_or(|&last| last < snap.len());
        (ascending && in_range).then_some(Self { snap, rows: Some(rows) })
    }

    /// The tick of the snapshot.
    pub fn tick(&self) -> Tick {
        self.snap.tick
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.rows.map_or(self.snap.len(), <[usize]>::len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entities as a snapshot of their own.
    pub fn to_snapshot(&self) -> Snapshot {
        let snap = self.snap;
        let mut out = Snapshot { tick: snap.tick, stride: snap.stride, ..Snapshot::default() };
        for i in 0..self.len() {
            out.push_raw(self.id(i), self.mask(i), self.values(i));
        }
        out
    }

    /// The snapshot's row of entity `i` of the subset.
    #[inline]
    fn row(&self, i: usize) -> usize {
        match self.rows {
            Some(rows) => rows[i],
            None => i,
        }
    }

    /// The id of entity `i`.
    #[inline]
    pub(super) fn id(&self, i: usize) -> EntityId {
        self.snap.ids[self.row(i)]
    }

    /// The id of entity `i`, if there is one.
    #[inline]
    pub(super) fn get_id(&self, i: usize) -> Option<EntityId> {
        (i < self.len()).then(|| self.id(i))
    }

    /// The component mask of entity `i`.
    #[inline]
    pub(super) fn mask(&self, i: usize) -> u32 {
        self.snap.masks[self.row(i)]
    }

    /// The values of entity `i`.
    #[inline]
    pub(super) fn values(&self, i: usize) -> &'a [u32] {
        let (row, stride) = (self.row(i), self.snap.stride);
        &self.snap.values[row * stride..(row + 1) * stride]
    }

    /// Whether it names some rows of its snapshot (which may lie anywhere in it) rather than all.
    #[inline]
    pub(super) fn is_scattered(&self) -> bool {
        self.rows.is_some()
    }

    /// Asks the cache for entity `i`'s id, mask and values, if it is a subset's row (a whole
    /// snapshot is read in order, which the hardware foresees) and there is one. A hint: it
    /// changes nothing. A view's rows lie anywhere in a large world's snapshot, so the encoder
    /// asks for them a few rows ahead of its walk.
    #[inline]
    pub(super) fn prefetch(&self, i: usize) {
        let Some(&row) = self.rows.and_then(|rows| rows.get(i)) else {
            return;
        };
        let stride = self.snap.stride;
        prefetch_index(&self.snap.ids, row);
        prefetch_index(&self.snap.masks, row);
        prefetch_index(&self.snap.values, row * stride);
        prefetch_index(&self.snap.values, (row + 1) * stride - 1);
    }
}
