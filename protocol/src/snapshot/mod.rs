//! Snapshots: the quantized replicated state of a room at one tick, and their binary codec.
//!
//! A [`Snapshot`] is a list of entities sorted by [`EntityId`]; each has a component presence
//! mask and one quantized `u32` per schema field (fields of absent components are 0). It holds
//! exactly what the wire carries, so a client's reconstructed snapshot compares equal to the
//! server's.
//!
//! [`SnapshotEncoder::encode`] writes either a **full** snapshot or a **delta** against a
//! baseline the client already has (a full snapshot is a delta against the empty snapshot), and
//! [`decode`] applies one to a baseline ([`SnapshotDecoder::decode_into`] does it into a
//! recycled snapshot, allocating nothing; [`SnapshotDecoder::decode_replica`] into a
//! [`Replica`], the baseline itself, whose rows are
//! brought forward only when they change or are read). The bit layout is specified in `PROTOCOL.md` §6:
//! despawns (as index gaps into the baseline), changed entities (index gaps into the survivors,
//! then per component a changed bit and per field the prediction error), spawns (id gaps, then
//! raw quantized values), all with adaptive Exp-Golomb codes.

mod chunks;
mod decode;
mod encode;
mod predict;
mod replica;
mod subset;

pub use chunks::{ChunkSet, EMPTY_DELTA, chunk_delta};
pub use decode::{DecodeLimits, SnapshotDecoder, decode};
pub use encode::SnapshotEncoder;
pub use replica::Replica;
pub use subset::Subset;

use crate::error::SnapshotError;
use crate::ids::{EntityId, Tick};
use crate::schema::{FieldReader, Replicate, Schema};

/// The replicated state of a room at one tick (quantized).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    tick: Tick,
    stride: usize,
    ids: Vec<EntityId>,
    masks: Vec<u32>,
    values: Vec<u32>,
}

/// One entity of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityRef<'a> {
    /// Its id.
    pub id: EntityId,
    /// Bit `c` set when component `c` of the schema is present.
    pub mask: u32,
    /// One quantized value per schema field.
    pub values: &'a [u32],
}

impl EntityRef<'_> {
    /// Whether component `index` is present.
    pub fn has(&self, index: usize) -> bool {
        self.mask & (1 << index) != 0
    }

    /// Reads component `T`, stored at `index` of `schema`, if present.
    pub fn get<T: Replicate>(&self, schema: &Schema, index: usize) -> Option<T> {
        if !self.has(index) {
            return None;
        }
        let info = schema.components().get(index)?;
        let range = info.field_range();
        let fields = schema.fields().get(range.clone())?;
        let values = self.values.get(range)?;
        Some(T::read(&mut FieldReader::new(fields, values)))
    }
}

impl Snapshot {
    /// An empty snapshot for `schema` at `tick`.
    pub fn empty(schema: &Schema, tick: Tick) -> Self {
        Self { tick, stride: schema.field_count(), ..Self::default() }
    }

    /// The tick this state belongs to.
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

    /// The entity at position `i` (ascending id order).
    pub fn entity(&self, i: usize) -> Option<EntityRef<'_>> {
        Some(EntityRef {
            id: *self.ids.get(i)?,
            mask: *self.masks.get(i)?,
            values: self.values.get(i * self.stride..(i + 1) * self.stride)?,
        })
    }

    /// The entity with id `id`.
    pub fn get(&self, id: EntityId) -> Option<EntityRef<'_>> {
        self.entity(self.ids.binary_search(&id).ok()?)
    }

    /// All entities in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = EntityRef<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.entity(i))
    }

    fn push_raw(&mut self, id: EntityId, mask: u32, values: &[u32]) {
        self.ids.push(id);
        self.masks.push(mask);
        self.values.extend_from_slice(values);
    }
}

/// Builds a [`Snapshot`] from entities given in any order.
#[derive(Debug)]
pub struct SnapshotBuilder<'s> {
    schema: &'s Schema,
    snap: Snapshot,
    sorted: bool,
}

impl<'s> SnapshotBuilder<'s> {
    /// A builder for `schema` at `tick`, reusing `buffer`'s allocations (pass
    /// `Snapshot::default()` when there is none to reuse).
    pub fn new(schema: &'s Schema, tick: Tick, mut buffer: Snapshot) -> Self {
        buffer.tick = tick;
        buffer.stride = schema.field_count();
        buffer.ids.clear();
        buffer.masks.clear();
        buffer.values.clear();
        Self { schema, snap: buffer, sorted: true }
    }

    /// Adds an entity with no components yet and returns a handle to set them.
    pub fn entity(&mut self, id: EntityId) -> EntityBuilder<'_, 's> {
        if self.snap.ids.last().is_some_and(|last| *last >= id) {
            self.sorted = false;
        }
        let stride = self.snap.stride;
        self.snap.ids.push(id);
        self.snap.masks.push(0);
        self.snap.values.resize(self.snap.values.len() + stride, 0);
        EntityBuilder { builder: self }
    }

    /// Adds entities `ids` with no components yet, in one step (an ECS archetype's worth), and
    /// returns the row of the first, for [`Self::set_column`].
    pub fn rows(&mut self, ids: impl ExactSizeIterator<Item = EntityId>) -> usize {
        let first = self.snap.ids.len();
        self.snap.ids.extend(ids);
        // In order after the last row there was, if any.
        if !self.snap.ids[first.saturating_sub(1)..].is_sorted_by(|a, b| a < b) {
            self.sorted = false;
        }
        let rows = self.snap.ids.len();
        self.snap.masks.resize(rows, 0);
        self.snap.values.resize(rows * self.snap.stride, 0);
        first
    }

    /// Sets component `T`, which must be the schema's component `index`, of the rows from
    /// `first` on to the values of `column`, in order: [`EntityBuilder::set`] for each, with the
    /// component's fields looked up once. Values past the last row added are ignored.
    pub fn set_column<T: Replicate>(&mut self, index: usize, first: usize, column: &[T]) {
        let schema = self.schema;
        let Some(info) = schema.components().get(index) else {
            debug_assert!(false, "component index {index} out of range");
            return;
        };
        debug_assert_eq!(info.def.name, T::DEF.name, "component index does not match type");
        let (range, fields) = (info.field_range(), &schema.fields()[info.field_range()]);
        let snap = &mut self.snap;
        let end = snap.ids.len().min(first.saturating_add(column.len()));
        if end <= first {
            return;
        }
        // From the component's first field in the first row to the end of the last row.
        let Some(rows) = snap.values.get_mut(first * snap.stride + range.start..end * snap.stride)
        else {
            return;
        };
        T::write_column(&column[..end - first], fields, rows, snap.stride);
        for mask in &mut snap.masks[first..end] {
            *mask |= 1 << index;
        }
    }

    /// Makes room for `entities` more entities, so that copying a known number of them (an
    /// interest view's rows) does not grow the buffers one entity at a time.
    pub fn reserve(&mut self, entities: usize) {
        self.snap.ids.reserve(entities);
        self.snap.masks.reserve(entities);
        self.snap.values.reserve(entities.saturating_mul(self.snap.stride));
    }

    /// Adds an entity of another snapshot of the same schema, as it is (a replay shows a
    /// recorded state this way). An entity whose row does not fit this schema is skipped.
    pub fn copy(&mut self, entity: EntityRef<'_>) {
        if entity.values.len() != self.snap.stride {
            debug_assert!(false, "an entity of another schema");
            return;
        }
        if self.snap.ids.last().is_some_and(|last| *last >= entity.id) {
            self.sorted = false;
        }
        self.snap.push_raw(entity.id, entity.mask, entity.values);
    }

    /// Sorts by id and returns the snapshot; fails if an id was added twice.
    pub fn finish(self) -> Result<Snapshot, SnapshotError> {
        let mut snap = self.snap;
        if !self.sorted {
            let mut order: Vec<usize> = (0..snap.ids.len()).collect();
            order.sort_unstable_by_key(|&i| snap.ids[i]);
            let mut sorted = Snapshot {
                tick: snap.tick,
                stride: snap.stride,
                ids: Vec::with_capacity(snap.ids.len()),
                masks: Vec::with_capacity(snap.ids.len()),
                values: Vec::with_capacity(snap.values.len()),
            };
            for i in order {
                let values = &snap.values[i * snap.stride..(i + 1) * snap.stride];
                sorted.push_raw(snap.ids[i], snap.masks[i], values);
            }
            snap = sorted;
        }
        if let Some(w) = snap.ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(SnapshotError::DuplicateEntity { entity: w[0] });
        }
        Ok(snap)
    }
}

/// Sets the components of the entity just added to a [`SnapshotBuilder`].
#[derive(Debug)]
pub struct EntityBuilder<'b, 's> {
    builder: &'b mut SnapshotBuilder<'s>,
}

impl EntityBuilder<'_, '_> {
    /// Sets component `T`, which must be the schema's component `index`.
    pub fn set<T: Replicate>(&mut self, index: usize, value: &T) -> &mut Self {
        // invariant: an EntityBuilder exists only after a push, so its row is the last.
        let row = self.builder.snap.ids.len() - 1;
        self.builder.set_column(index, row, std::slice::from_ref(value));
        self
    }
}

#[cfg(test)]
pub(crate) mod test_schema;

#[cfg(test)]
mod chunk_tests;
#[cfg(test)]
mod column_tests;
#[cfg(test)]
mod tests;
