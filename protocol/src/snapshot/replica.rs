//! [`Replica`]: the newest state of a room for a client that keeps no other snapshot (a
//! headless bot), decoded without walking the whole world every tick.
//!
//! Decoding a delta moves every surviving entity's linearly predicted fields on their velocity
//! (`PROTOCOL.md` §6.4), so a [`Snapshot`] decoded from a delta costs a pass over every row,
//! however few changed. A replica defers that: each row remembers the tick its values are
//! exact for (its **anchor**), and is brought forward only when a delta changes it or someone
//! reads it. Moving a row `a` ticks and then `b` more gives what moving it `a + b` at once
//! gives (the velocity is the row's own and does not change in between, and the clamp to the
//! field's range only ever stops the motion), so the values read equal those of the eagerly
//! decoded snapshot. A schema whose velocity fields are themselves predicted breaks that; its
//! rows are all brought forward at every decode.
//!
//! **A row is one run of words: its anchor, then its values; masks are a dense array apart.**
//! A delta touches few rows of a large world, each at a place of its own, so each touch is a
//! cache miss. The decoder needs a changed row's mask to read the change's bits, but its values
//! only to apply them. So it asks the cache for every mask at once (a few KB), reads every
//! change, asking the cache for each row as soon as it knows which ([`Replica::prefetch`]),
//! then applies the changes: the misses overlap instead of following one another. In the
//! `replicas` codec bench (2,000 replicas of 1,100 entities, decoded round-robin) this took a
//! delta from 2.55 to 1.44 µs. Ids are a separate array, searched by [`Replica::get`] and read
//! by the decoder only to name an entity in an error.

use std::sync::atomic::{AtomicUsize, Ordering};

use prefetch_index::prefetch_index;

use super::decode::{Linear, predict_row, predict_row_in_place};
use super::{EntityRef, Snapshot};
use crate::ids::{EntityId, Tick};

/// Words before a row's values: its anchor.
const HEAD: usize = 1;

/// The newest state of a room, decoded with [`super::SnapshotDecoder::decode_replica`] (see
/// the module docs). Reads give what the eagerly decoded [`Snapshot`] holds.
#[derive(Debug, Clone, Default)]
pub struct Replica {
    /// The tick of the state it holds.
    tick: Tick,
    /// Fields per row.
    fields: usize,
    /// Entity ids, ascending.
    ids: Vec<EntityId>,
    /// Per row, its component mask.
    pub(super) masks: Vec<u32>,
    /// Per row, `HEAD + fields` words: the anchor (the tick its linearly predicted fields were
    /// last brought to), then the values.
    pub(super) rows: Vec<u32>,
    /// The schema's linearly predicted fields (set by the decoder).
    pub(super) linear: Vec<Linear>,
    /// The row [`Replica::get`] found last: a client reads its own entity after every decode,
    /// and rows move only when entities before it come or go.
    hint: Hint,
}

/// A row number kept across reads through `&Replica` (see [`Replica::get`]).
#[derive(Debug, Default)]
struct Hint(AtomicUsize);

impl Clone for Hint {
    fn clone(&self) -> Self {
        Self(AtomicUsize::new(self.0.load(Ordering::Relaxed)))
    }
}

impl Replica {
    /// A replica holding `snap` (every row exact at its tick).
    pub fn new(snap: Snapshot) -> Self {
        let (fields, anchor) = (snap.stride, snap.tick.0);
        let mut rows = Vec::with_capacity(snap.len() * (HEAD + fields));
        for i in 0..snap.len() {
            rows.push(anchor);
            rows.extend_from_slice(&snap.values[i * fields..(i + 1) * fields]);
        }
        let (tick, ids, masks) = (snap.tick, snap.ids, snap.masks);
        Self { tick, fields, ids, masks, rows, ..Self::default() }
    }

    /// The tick of the state it holds.
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no entities.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Entity ids, ascending.
    pub fn ids(&self) -> &[EntityId] {
        &self.ids
    }

    /// The entity with id `id` at the replica's tick, its values written to `buf`. Reading
    /// the same entity again finds it without a search while no entity before it came or went.
    pub fn get<'b>(&self, id: EntityId, buf: &'b mut Vec<u32>) -> Option<EntityRef<'b>> {
        let hint = self.hint.0.load(Ordering::Relaxed);
        let i = if self.ids.get(hint) == Some(&id) {
            hint
        } else {
            let i = self.ids.binary_search(&id).ok()?;
            self.hint.0.store(i, Ordering::Relaxed);
            i
        };
        let (row, mask) = (self.row(i), self.masks[i]);
        let anchor = Tick(row[0]);
        buf.clear();
        buf.extend_from_slice(&row[HEAD..]);
        self.bring_forward(anchor, mask, buf);
        Some(EntityRef { id, mask, values: buf })
    }

    /// Writes the whole state into `out` (reusing its buffers): the snapshot an eager decode
    /// gives.
    pub fn to_snapshot(&self, out: &mut Snapshot) {
        out.tick = self.tick;
        out.stride = self.fields;
        out.ids.clone_from(&self.ids);
        out.masks.clear();
        out.values.clear();
        for i in 0..self.len() {
            let (row, mask) = (self.row(i), self.masks[i]);
            let anchor = Tick(row[0]);
            out.masks.push(mask);
            let start = out.values.len();
            out.values.extend_from_slice(&row[HEAD..]);
            self.bring_forward(anchor, mask, &mut out.values[start..]);
        }
    }

    /// Appends row `i`, brought to the replica's tick, to `out` (of the same schema).
    pub(super) fn push_row(&self, i: usize, out: &mut Snapshot) {
        let (row, mask) = (self.row(i), self.masks[i]);
        out.ids.push(self.ids[i]);
        out.masks.push(mask);
        let start = out.values.len();
        out.values.extend_from_slice(&row[HEAD..]);
        self.bring_forward(Tick(row[0]), mask, &mut out.values[start..]);
    }

    /// The whole state written out as a new snapshot ([`to_snapshot`](Self::to_snapshot)).
    pub fn snapshot(&self) -> Snapshot {
        let mut out = Snapshot::default();
        self.to_snapshot(&mut out);
        out
    }

    /// The state as a snapshot.
    pub fn into_snapshot(self) -> Snapshot {
        let mut out = Snapshot::default();
        self.to_snapshot(&mut out);
        out
    }

    /// Words per row.
    fn width(&self) -> usize {
        HEAD + self.fields
    }

    fn row(&self, i: usize) -> &[u32] {
        let w = self.width();
        &self.rows[i * w..(i + 1) * w]
    }

    /// Moves `values`, a row's values as stored (exact at `anchor`), to the replica's tick.
    fn bring_forward(&self, anchor: Tick, mask: u32, values: &mut [u32]) {
        move_on(&self.linear, anchor, self.tick, mask, values);
    }

    /// The fields per row (the schema's field count).
    pub(super) fn fields(&self) -> usize {
        self.fields
    }

    /// Moves the replica to `tick`, leaving its rows where they are.
    pub(super) fn set_tick(&mut self, tick: Tick) {
        self.tick = tick;
    }

    /// Whether an entity of this id is held.
    pub(super) fn holds(&self, id: EntityId) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    /// Asks the cache for every mask: a delta's changes are read one after the other, each
    /// needing its row's mask, so the masks are asked for all at once (a few KB, one request
    /// per cache line) rather than missed one change at a time. A hint: it changes nothing.
    pub(super) fn prefetch_masks(&self) {
        const PER_LINE: usize = 64 / size_of::<u32>();
        for i in (0..self.masks.len()).step_by(PER_LINE) {
            prefetch_index(&self.masks, i);
        }
    }

    /// Asks the cache for row `row` (both ends: a row may straddle two lines), which a
    /// change will soon be applied to. A hint: it changes nothing.
    pub(super) fn prefetch(&self, row: usize) {
        let w = self.width();
        prefetch_index(&self.rows, row * w);
        prefetch_index(&self.rows, row * w + w - 1);
    }

    /// Row `row`'s values, brought to the replica's tick first with `mask`, the row's mask
    /// before the change about to be applied to them (which needs their predicted values).
    pub(super) fn values_for_change(&mut self, row: usize, mask: u32) -> &mut [u32] {
        let (w, tick) = (self.width(), self.tick);
        let cells = &mut self.rows[row * w..(row + 1) * w];
        let (head, values) = cells.split_at_mut(HEAD);
        move_on(&self.linear, Tick(head[0]), tick, mask, values);
        head[0] = tick.0;
        values
    }

    /// Brings every row to `tick` now, predicting from a copy of each (`scratch`): for schemas
    /// whose velocity fields are themselves predicted (see the module docs).
    pub(super) fn bring_all_forward(&mut self, tick: Tick, scratch: &mut Vec<u32>) {
        let w = self.width();
        for (cells, &mask) in self.rows.chunks_exact_mut(w).zip(&self.masks) {
            let (head, values) = cells.split_at_mut(HEAD);
            let behind = i64::from(tick.diff(Tick(head[0])));
            if behind > 0 {
                scratch.clear();
                scratch.extend_from_slice(values);
                predict_row(&self.linear, mask, scratch, values, behind);
            }
            head[0] = tick.0;
        }
        self.tick = tick;
    }

    /// Removes the rows `alive` marks despawned, pushing their ids to `despawned`.
    pub(super) fn remove_dead(&mut self, alive: &[bool], despawned: &mut Vec<EntityId>) {
        let w = self.width();
        let mut kept = 0;
        for (i, &alive) in alive.iter().enumerate().take(self.ids.len()) {
            if !alive {
                despawned.push(self.ids[i]);
                continue;
            }
            if kept != i {
                self.ids[kept] = self.ids[i];
                self.masks[kept] = self.masks[i];
                self.rows.copy_within(i * w..(i + 1) * w, kept * w);
            }
            kept += 1;
        }
        self.ids.truncate(kept);
        self.masks.truncate(kept);
        self.rows.truncate(kept * w);
    }

    /// Merges the id-sorted `spawned` (exact at the replica's tick, no id held already) in
    /// place, from the back so that every row moves once.
    pub(super) fn merge(&mut self, spawned: &Snapshot) {
        let (w, f) = (self.width(), self.fields);
        let (n, m) = (self.len(), spawned.len());
        self.ids.resize(n + m, EntityId::default());
        self.masks.resize(n + m, 0);
        self.rows.resize((n + m) * w, 0);
        let (mut i, mut j) = (n, m);
        while j > 0 {
            let k = i + j - 1;
            let spawn = spawned.ids[j - 1];
            if i > 0 && self.ids[i - 1] > spawn {
                i -= 1;
                self.ids[k] = self.ids[i];
                self.masks[k] = self.masks[i];
                self.rows.copy_within(i * w..(i + 1) * w, k * w);
            } else {
                j -= 1;
                self.ids[k] = spawn;
                self.masks[k] = spawned.masks[j];
                let row = &mut self.rows[k * w..(k + 1) * w];
                row[0] = self.tick.0;
                row[HEAD..].copy_from_slice(&spawned.values[j * f..(j + 1) * f]);
            }
        }
    }
}

/// Moves `values` (a row with component mask `mask`, exact at `anchor`) on to `tick`, in place
/// (see the module docs for why moving later is exact).
fn move_on(linear: &[Linear], anchor: Tick, tick: Tick, mask: u32, values: &mut [u32]) {
    let behind = i64::from(tick.diff(anchor));
    if behind > 0 {
        predict_row_in_place(linear, mask, values, behind);
    }
}

impl From<Snapshot> for Replica {
    fn from(snap: Snapshot) -> Self {
        Self::new(snap)
    }
}
