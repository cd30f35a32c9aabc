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

use super::decode::{Linear, predict_row_in_place};
use super::{EntityRef, Snapshot};
use crate::ids::{EntityId, Tick};

/// The newest state of a room, decoded with [`super::SnapshotDecoder::decode_replica`] (see
/// the module docs). Reads give what the eagerly decoded [`Snapshot`] holds.
#[derive(Debug, Clone, Default)]
pub struct Replica {
    /// The rows, each exact at its anchor; `rows.tick` is the replica's tick.
    pub(super) rows: Snapshot,
    /// Per row: the tick its linearly predicted fields were last brought to.
    pub(super) anchors: Vec<Tick>,
    /// The schema's linearly predicted fields (set by the decoder).
    pub(super) linear: Vec<Linear>,
}

impl Replica {
    /// A replica holding `snap` (every row exact at its tick).
    pub fn new(snap: Snapshot) -> Self {
        let anchors = vec![snap.tick; snap.len()];
        Self { rows: snap, anchors, linear: Vec::new() }
    }

    /// The tick of the state it holds.
    pub fn tick(&self) -> Tick {
        self.rows.tick
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no entities.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Entity ids, ascending.
    pub fn ids(&self) -> &[EntityId] {
        self.rows.ids()
    }

    /// The entity with id `id` at the replica's tick, its values written to `buf`.
    pub fn get<'b>(&self, id: EntityId, buf: &'b mut Vec<u32>) -> Option<EntityRef<'b>> {
        let i = self.rows.ids.binary_search(&id).ok()?;
        let row = self.rows.entity(i)?;
        buf.clear();
        buf.extend_from_slice(row.values);
        self.bring_forward(i, row.mask, buf);
        Some(EntityRef { id, mask: row.mask, values: buf })
    }

    /// Writes the whole state into `out` (reusing its buffers): the snapshot an eager decode
    /// gives.
    pub fn to_snapshot(&self, out: &mut Snapshot) {
        out.clone_from(&self.rows);
        let stride = out.stride;
        if stride == 0 {
            return;
        }
        let rows = out.masks.iter().zip(out.values.chunks_exact_mut(stride));
        for (i, (&mask, values)) in rows.enumerate() {
            self.bring_forward(i, mask, values);
        }
    }

    /// The state as a snapshot.
    pub fn into_snapshot(self) -> Snapshot {
        let mut out = Snapshot::default();
        self.to_snapshot(&mut out);
        out
    }

    /// Moves `values`, row `i`'s values as stored, from the row's anchor to the tick.
    fn bring_forward(&self, i: usize, mask: u32, values: &mut [u32]) {
        let anchor = self.anchors.get(i).copied().unwrap_or(self.rows.tick);
        let behind = i64::from(self.rows.tick.diff(anchor));
        if behind > 0 {
            predict_row_in_place(&self.linear, mask, values, behind);
        }
    }
}

impl From<Snapshot> for Replica {
    fn from(snap: Snapshot) -> Self {
        Self::new(snap)
    }
}
