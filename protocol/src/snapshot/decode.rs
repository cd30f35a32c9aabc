//! The snapshot decoder (`PROTOCOL.md` §6). Hostile input never panics and never allocates more
//! than the baseline's size plus what [`DecodeLimits`] and the payload's length allow.

use super::predict::{apply, linear};
use super::{Replica, Snapshot};
use crate::bits::{BitReader, OrderCosts, zigzag};
use crate::error::SnapshotError;
use crate::ids::{EntityId, Tick};
use crate::schema::{FieldCodec, FieldInfo, Schema};

/// Bounds on what a decoded snapshot may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most entities in a decoded snapshot.
    pub max_entities: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self { max_entities: 65_536 }
    }
}

/// Decodes `payload`, the snapshot for `tick`, against `baseline` (`None` for a full snapshot).
///
/// Allocates the result and the decoder's scratch space; a client decoding every tick keeps a
/// [`SnapshotDecoder`] and calls [`SnapshotDecoder::decode_into`] instead.
pub fn decode(
    schema: &Schema,
    baseline: Option<&Snapshot>,
    tick: Tick,
    payload: &[u8],
    limits: &DecodeLimits,
) -> Result<Snapshot, SnapshotError> {
    let mut out = Snapshot::default();
    SnapshotDecoder::new().decode_into(schema, baseline, tick, payload, limits, &mut out)?;
    Ok(out)
}

/// A snapshot decoder that keeps its scratch space between calls, so that decoding a
/// snapshot into a recycled [`Snapshot`] allocates nothing once the buffers have grown to
/// the room's size (the counterpart of [`super::SnapshotEncoder`]).
#[derive(Debug, Clone, Default)]
pub struct SnapshotDecoder {
    /// Per baseline entity: not despawned by the payload being decoded (sized and filled only
    /// when `despawns` is not 0).
    alive: Vec<bool>,
    /// Entities the payload being decoded despawns.
    despawns: usize,
    /// The schema's linearly predicted fields (rebuilt per call: a few entries).
    linear: Vec<Linear>,
    /// The field-difference code orders of the change list, one per field.
    orders: Vec<Order>,
    /// The change list, read and not yet applied (see `read_changes`).
    edits: Vec<Edit>,
    /// What each field's differences would cost in each order, to check `orders`.
    diff_costs: Vec<OrderCosts>,
    /// The spawned entities, before they are merged into the output.
    spawned: Snapshot,
    /// Decoding into a [`Replica`]: the ids of the baseline's despawned entities, ascending (a
    /// spawn may not reuse one, and they are gone from the replica by the time spawns are
    /// read).
    despawned: Vec<EntityId>,
    /// Decoding into a [`Replica`] of a schema whose velocity fields are themselves predicted:
    /// a copy of the row being predicted (otherwise rows are read and written in place).
    row: Vec<u32>,
}

/// A linearly predicted field, with what its prediction needs (so that the per-entity loop
/// reads nothing but the entity's row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Linear {
    /// The presence bit of its component.
    bit: u32,
    field: usize,
    velocity: usize,
    /// The velocity's quantized value that stands for no motion.
    zero: i64,
    max_q: u32,
}

impl SnapshotDecoder {
    /// A decoder with empty scratch space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `payload`, the snapshot for `tick`, against `baseline` (`None` for a full
    /// snapshot) into `out`, reusing `out`'s allocations: the result equals what [`decode`]
    /// returns. On error `out` holds an unspecified (but well-formed) snapshot.
    pub fn decode_into(
        &mut self,
        schema: &Schema,
        baseline: Option<&Snapshot>,
        tick: Tick,
        payload: &[u8],
        limits: &DecodeLimits,
        out: &mut Snapshot,
    ) -> Result<(), SnapshotError> {
        let empty = Snapshot::empty(schema, tick);
        let (base, ticks) = match baseline {
            Some(b) => {
                let ticks = tick.diff(b.tick);
                if ticks <= 0 {
                    return Err(SnapshotError::NotAfterBaseline { tick, baseline: b.tick });
                }
                (b, i64::from(ticks))
            }
            None => (&empty, 0),
        };
        let mut r = BitReader::new(payload);
        let survivors = self.read_despawns(&mut r, base.len())?;
        self.start_survivors(schema, base, ticks, out, tick);
        self.read_changes(&mut r, schema, out, survivors)?;
        let room = limits.max_entities.saturating_sub(out.len());
        if self.read_spawns(&mut r, schema, Held::Snapshot(base), room, out.stride, tick)? {
            merge_into(out, &self.spawned, r.position())?;
        }
        r.finish()
    }

    /// The ids the last successful decode spawned, ascending.
    pub(super) fn spawned_ids(&self) -> &[EntityId] {
        &self.spawned.ids
    }

    /// Decodes `payload`, the snapshot for `tick`, as a delta against `replica`, which becomes
    /// that snapshot (see [`Replica`]), without copying it: the rows that neither change nor
    /// despawn are not even read, so a snapshot costs what its changes cost, not what the
    /// world holds. For a client that keeps no snapshot but the newest. On error `replica`
    /// holds an unspecified (but well-formed) state: it is no baseline for anything any more.
    pub fn decode_replica(
        &mut self,
        schema: &Schema,
        tick: Tick,
        payload: &[u8],
        limits: &DecodeLimits,
        replica: &mut Replica,
    ) -> Result<(), SnapshotError> {
        let ticks = tick.diff(replica.tick());
        if ticks <= 0 {
            return Err(SnapshotError::NotAfterBaseline { tick, baseline: replica.tick() });
        }
        debug_assert_eq!(replica.fields(), schema.field_count(), "a replica of another schema");
        let mut r = BitReader::new(payload);
        let survivors = self.read_despawns(&mut r, replica.len())?;
        self.prepare_linear(schema, 1);
        replica.linear.clone_from(&self.linear);
        self.despawned.clear();
        if self.despawns > 0 {
            replica.remove_dead(&self.alive, &mut self.despawned);
        }
        if self.chained() {
            // Moving a row later by the sum of the ticks is exact only for constant
            // velocities: bring every row forward now (then every anchor is `tick`).
            replica.bring_all_forward(tick, &mut self.row);
        } else {
            replica.set_tick(tick);
        }
        self.read_changes(&mut r, schema, replica, survivors)?;
        let room = limits.max_entities.saturating_sub(replica.len());
        if self.read_spawns(&mut r, schema, Held::Replica(replica), room, replica.fields(), tick)? {
            replica.merge(&self.spawned);
        }
        r.finish()
    }

    /// Whether a linearly predicted field's velocity is itself predicted.
    fn chained(&self) -> bool {
        self.linear.iter().any(|l| self.linear.iter().any(|m| m.field == l.velocity))
    }

    /// Despawns: ascending indices into the baseline, marked in `alive`. Returns the number
    /// of survivors.
    fn read_despawns(&mut self, r: &mut BitReader<'_>, len: usize) -> Result<usize, SnapshotError> {
        self.despawns = 0;
        let count = read_count(r, "despawn", len)?;
        if count == 0 {
            return Ok(len);
        }
        self.alive.clear();
        self.alive.resize(len, true);
        let order = Order::read(r, "despawn gap")?;
        let mut costs = OrderCosts::default();
        let mut next = 0u64;
        for _ in 0..count {
            let at = r.position();
            let gap = r.exp_golomb(order.k)?;
            costs.add(gap);
            let index = next.saturating_add(gap);
            let slot = usize::try_from(index).ok().and_then(|i| self.alive.get_mut(i));
            let Some(slot) = slot else {
                return Err(SnapshotError::IndexOutOfRange {
                    what: "despawn",
                    index,
                    len,
                    bit: at,
                });
            };
            *slot = false;
            next = index + 1;
        }
        order.check(&costs)?;
        // Despawn indices are strictly ascending, so each one cleared a different slot.
        self.despawns = count;
        Ok(len - count)
    }

    /// Fills `out` with the survivors at their predicted values: the linearly predicted
    /// fields of present components move on their velocity, every other field holds.
    fn start_survivors(
        &mut self,
        schema: &Schema,
        base: &Snapshot,
        ticks: i64,
        out: &mut Snapshot,
        tick: Tick,
    ) {
        let stride = schema.field_count();
        self.prepare_linear(schema, ticks);
        out.tick = tick;
        out.stride = stride;
        out.ids.clear();
        out.masks.clear();
        out.values.clear();
        if stride == 0 && self.despawns == 0 {
            out.ids.extend_from_slice(&base.ids);
            out.masks.extend_from_slice(&base.masks);
            return;
        }
        if stride == 0 {
            // No fields: rows are ids and masks only (and nothing is predicted).
            let alive = base.ids.iter().zip(&base.masks).zip(&self.alive).filter(|(_, a)| **a);
            for ((&id, &mask), _) in alive {
                out.ids.push(id);
                out.masks.push(mask);
            }
            return;
        }
        let rows = base.ids.iter().zip(&base.masks).zip(base.values.chunks_exact(stride));
        if self.despawns == 0 {
            // No despawns (the common case): copy the baseline wholesale, then predict.
            out.ids.extend_from_slice(&base.ids);
            out.masks.extend_from_slice(&base.masks);
            out.values.extend_from_slice(&base.values);
            if self.linear.is_empty() {
                return;
            }
            let rows = rows.zip(out.values.chunks_exact_mut(stride));
            for (((_, &mask), bv), ov) in rows {
                predict_row(&self.linear, mask, bv, ov, ticks);
            }
            return;
        }
        for (((&id, &mask), bv), _) in rows.zip(&self.alive).filter(|(_, a)| **a) {
            out.ids.push(id);
            out.masks.push(mask);
            let start = out.values.len();
            out.values.extend_from_slice(bv);
            predict_row(&self.linear, mask, bv, &mut out.values[start..], ticks);
        }
    }

    /// Lists the schema's linearly predicted fields in `linear` (none when `ticks` is 0).
    fn prepare_linear(&mut self, schema: &Schema, ticks: i64) {
        let fields = schema.fields();
        self.linear.clear();
        if ticks <= 0 {
            return;
        }
        for (ci, comp) in schema.components().iter().enumerate() {
            for field in comp.field_range() {
                let info = &fields[field];
                if let Some((velocity, zero)) = info.linear {
                    let max_q = info.max_q;
                    self.linear.push(Linear { bit: 1 << ci, field, velocity, zero, max_q });
                }
            }
        }
    }

    /// Changed entities: ascending indices into the survivors, each with its changed
    /// components and the prediction errors of its changed fields.
    ///
    /// Read in two passes: every change is read into `edits` first (a change's bits depend on
    /// its row's mask, not on its values), asking the cache for each row as soon as its index
    /// is known, then the edits are applied. In a large replica each changed row is a cache
    /// miss; this way the misses overlap instead of following one another (see
    /// [`Replica`]'s docs). Errors are those a single pass would report: an edit that cannot be
    /// applied lies before wherever reading stopped, so it is reported first.
    fn read_changes(
        &mut self,
        r: &mut BitReader<'_>,
        schema: &Schema,
        out: &mut impl Changing,
        survivors: usize,
    ) -> Result<(), SnapshotError> {
        let count = read_count(r, "change", survivors)?;
        if count == 0 {
            return Ok(());
        }
        let stride = schema.field_count();
        self.orders.clear();
        for _ in 0..stride {
            self.orders.push(Order::read(r, "field difference")?);
        }
        self.diff_costs.clear();
        self.diff_costs.resize(stride, OrderCosts::default());
        let order = Order::read(r, "change gap")?;
        self.edits.clear();
        out.prefetch_masks();
        let read = self.read_edits(r, schema, out, (count, survivors), order.k);
        apply_edits(&self.edits, schema, out)?;
        order.check(&read?)?;
        for (order, costs) in self.orders.iter().zip(&self.diff_costs) {
            order.check(costs)?;
        }
        Ok(())
    }

    /// The first pass of [`read_changes`](Self::read_changes): `count` changes of `survivors`
    /// rows, their gaps coded in order `k`, read into `edits`, masks updated. Returns what the
    /// gaps cost in each order.
    fn read_edits(
        &mut self,
        r: &mut BitReader<'_>,
        schema: &Schema,
        out: &mut impl Changing,
        (count, survivors): (usize, usize),
        k: u32,
    ) -> Result<OrderCosts, SnapshotError> {
        let mut costs = OrderCosts::default();
        let mut next = 0u64;
        for _ in 0..count {
            let at = r.position();
            let gap = r.exp_golomb(k)?;
            costs.add(gap);
            let index = next.saturating_add(gap);
            let row = match usize::try_from(index) {
                Ok(row) if row < survivors => row,
                _ => {
                    return Err(SnapshotError::IndexOutOfRange {
                        what: "change",
                        index,
                        len: survivors,
                        bit: at,
                    });
                }
            };
            out.prefetch(row);
            let mut mask = *out.mask_mut(row);
            self.edits.push(Edit::Row { row, mask });
            let id = || out.id(row);
            let read = read_change(
                r,
                schema,
                (&mut mask, &id),
                &self.orders,
                &mut self.diff_costs,
                &mut self.edits,
            );
            *out.mask_mut(row) = mask;
            read?;
            next = index + 1;
        }
        Ok(costs)
    }

    /// Spawns: ascending ids with raw values, read into `spawned` (rows of `stride` fields at
    /// `tick`) for the caller to merge into the survivors; at most `room` of them. None may be
    /// an entity `held` names. Returns whether there were any.
    fn read_spawns(
        &mut self,
        r: &mut BitReader<'_>,
        schema: &Schema,
        held: Held<'_>,
        room: usize,
        stride: usize,
        tick: Tick,
    ) -> Result<bool, SnapshotError> {
        let spawned = &mut self.spawned;
        spawned.tick = tick;
        spawned.stride = stride;
        spawned.ids.clear();
        spawned.masks.clear();
        spawned.values.clear();
        let count = read_count(r, "spawn", room)?;
        if count == 0 {
            return Ok(false);
        }
        let order = Order::read(r, "spawn gap")?;
        let mut costs = OrderCosts::default();
        let spawned = &mut self.spawned;
        let mut next = 0u64;
        for _ in 0..count {
            let at = r.position();
            let gap = r.exp_golomb(order.k)?;
            costs.add(gap);
            let id = next.saturating_add(gap);
            // Ids are never reused, so a spawn may not name an entity of the baseline, not even
            // one despawned above (that pair would be a non-canonical way to write a change).
            let in_baseline = |e: EntityId| match held {
                Held::Snapshot(base) => base.get(e).is_some(),
                Held::Replica(replica) => {
                    replica.holds(e) || self.despawned.binary_search(&e).is_ok()
                }
            };
            let id32 = u32::try_from(id).ok().filter(|&id32| !in_baseline(EntityId(id32)));
            let Some(id32) = id32 else {
                return Err(SnapshotError::BadSpawnId { id, bit: at });
            };
            spawned.ids.push(EntityId(id32));
            spawned.masks.push(0);
            spawned.values.resize(spawned.values.len() + stride, 0);
            let row = spawned.ids.len() - 1;
            read_spawn(r, schema, spawned, row)?;
            next = id + 1;
        }
        order.check(&costs)?;
        Ok(true)
    }
}

/// What a payload's spawns may not name: the baseline's entities. Decoding in place, the
/// baseline is the replica's survivors and the ids despawned above.
#[derive(Clone, Copy)]
enum Held<'a> {
    Snapshot(&'a Snapshot),
    Replica(&'a Replica),
}

/// Where changes are read into: an eagerly decoded [`Snapshot`] or a [`Replica`].
trait Changing {
    /// Row `row`'s mask, updated as its change is read.
    fn mask_mut(&mut self, row: usize) -> &mut u32;
    /// A hint that row `row`'s values are about to change (see [`Replica::prefetch`]).
    fn prefetch(&self, row: usize);
    /// A hint that the masks of changed rows are about to be read (see
    /// [`Replica::prefetch_masks`]).
    fn prefetch_masks(&self) {}
    /// Row `row`'s values, ready for a change (a replica's row brought forward with `mask`,
    /// the row's mask before the change).
    fn values_for_change(&mut self, row: usize, mask: u32) -> &mut [u32];
    /// Row `row`'s entity (read only to name it in an error).
    fn id(&self, row: usize) -> EntityId;
}

impl Changing for Snapshot {
    fn mask_mut(&mut self, row: usize) -> &mut u32 {
        &mut self.masks[row]
    }

    /// Nothing: an eager decode has just walked every row.
    fn prefetch(&self, _row: usize) {}

    fn values_for_change(&mut self, row: usize, _mask: u32) -> &mut [u32] {
        let s = self.stride;
        &mut self.values[row * s..(row + 1) * s]
    }

    fn id(&self, row: usize) -> EntityId {
        self.ids[row]
    }
}

impl Changing for Replica {
    fn mask_mut(&mut self, row: usize) -> &mut u32 {
        &mut self.masks[row]
    }

    fn prefetch(&self, row: usize) {
        Replica::prefetch(self, row);
    }

    fn prefetch_masks(&self) {
        Replica::prefetch_masks(self);
    }

    fn values_for_change(&mut self, row: usize, mask: u32) -> &mut [u32] {
        Replica::values_for_change(self, row, mask)
    }

    fn id(&self, row: usize) -> EntityId {
        self.ids()[row]
    }
}

/// Moves the linearly predicted fields of one entity `ticks` ticks on: `bv` is its baseline
/// row, `ov` its output row (a copy of `bv`).
#[inline]
pub(super) fn predict_row(predicted: &[Linear], mask: u32, bv: &[u32], ov: &mut [u32], ticks: i64) {
    for l in predicted {
        if mask & l.bit == 0 {
            continue;
        }
        // invariant: the schema's field indices are below its stride, the rows' length.
        if let (Some(&value), Some(&velocity), Some(slot)) =
            (bv.get(l.field), bv.get(l.velocity), ov.get_mut(l.field))
        {
            *slot = linear(value, velocity, l.zero, l.max_q, ticks);
        }
    }
}

/// [`predict_row`] on a row that is both the baseline and the output, for schemas where no
/// velocity field is itself predicted; a field that does not move is not written.
#[inline]
pub(super) fn predict_row_in_place(predicted: &[Linear], mask: u32, row: &mut [u32], ticks: i64) {
    for l in predicted {
        if mask & l.bit == 0 {
            continue;
        }
        // invariant: the schema's field indices are below its stride, the rows' length.
        if let (Some(&value), Some(&velocity)) = (row.get(l.field), row.get(l.velocity)) {
            let moved = linear(value, velocity, l.zero, l.max_q, ticks);
            if moved != value
                && let Some(slot) = row.get_mut(l.field)
            {
                *slot = moved;
            }
        }
    }
}

/// A code order read from the payload, remembered with its position so that it can be checked
/// once the list it codes has been read: it must be the cheapest order for that list, the one
/// the encoder chooses (`PROTOCOL.md` §6.5), or the encoding would not be canonical.
#[derive(Debug, Clone, Copy)]
struct Order {
    k: u32,
    what: &'static str,
    bit: usize,
}

impl Order {
    fn read(r: &mut BitReader<'_>, what: &'static str) -> Result<Self, SnapshotError> {
        let bit = r.position();
        Ok(Self { k: r.read(4)?, what, bit })
    }

    fn check(&self, costs: &OrderCosts) -> Result<(), SnapshotError> {
        let best = costs.best();
        if self.k == best {
            Ok(())
        } else {
            Err(SnapshotError::NonCanonicalOrder {
                what: self.what,
                found: self.k,
                expected: best,
                bit: self.bit,
            })
        }
    }
}

/// Reads a list length and checks it against `limit` and against the bits left (every item
/// takes at least one bit), before anything is allocated for it.
fn read_count(
    r: &mut BitReader<'_>,
    what: &'static str,
    limit: usize,
) -> Result<usize, SnapshotError> {
    let bit = r.position();
    let count = r.exp_golomb(0)?;
    let limit = limit.min(r.remaining()) as u64;
    if count > limit {
        return Err(SnapshotError::CountTooLarge { what, count, limit, bit });
    }
    Ok(count as usize) // invariant: count <= limit, which came from a usize
}

/// A raw field value; `entity` names the entity if it is out of range.
fn read_raw(
    r: &mut BitReader<'_>,
    info: &FieldInfo,
    component: &'static str,
    entity: &dyn Fn() -> EntityId,
) -> Result<u32, SnapshotError> {
    let bit = r.position();
    let v = r.read(info.bits)?;
    if v > info.max_q {
        return Err(SnapshotError::ValueOutOfRange {
            entity: entity(),
            component,
            field: info.def.name,
            value: i64::from(v),
            bit,
        });
    }
    Ok(v)
}

fn read_spawn(
    r: &mut BitReader<'_>,
    schema: &Schema,
    snap: &mut Snapshot,
    row: usize,
) -> Result<(), SnapshotError> {
    let stride = snap.stride;
    let id = snap.ids[row];
    for (ci, comp) in schema.components().iter().enumerate() {
        if r.bit()? {
            snap.masks[row] |= 1 << ci;
            for f in comp.field_range() {
                snap.values[row * stride + f] =
                    read_raw(r, &schema.fields()[f], comp.def.name, &|| id)?;
            }
        }
    }
    Ok(())
}

/// One step of applying a payload's changes, as the first pass of
/// [`SnapshotDecoder::read_changes`] reads it.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// The edits that follow are to row `row`, whose mask before them was `mask`.
    Row { row: usize, mask: u32 },
    /// A field of an added component, set to a raw value.
    Set { field: usize, value: u32 },
    /// A removed component's fields `from..to`, cleared.
    Clear { from: usize, to: usize },
    /// A boolean field, flipped.
    Flip { field: usize },
    /// A prediction error `diff`, read at `bit`, added to field `field` of component
    /// `component` (0 is an error: an unchanged field is not sent).
    Add { component: usize, field: usize, diff: i64, bit: usize },
}

/// A changed entity's mask (updated as its change is read) and its id (asked for only to name
/// it in an error).
type ChangedRow<'a> = (&'a mut u32, &'a dyn Fn() -> EntityId);

/// Reads one changed entity's body into `edits`.
fn read_change(
    r: &mut BitReader<'_>,
    schema: &Schema,
    (mask, id): ChangedRow<'_>,
    orders: &[Order],
    diff_costs: &mut [OrderCosts],
    edits: &mut Vec<Edit>,
) -> Result<(), SnapshotError> {
    let start_bit = r.position();
    let fields = schema.fields();
    let mut any = false;
    for (ci, comp) in schema.components().iter().enumerate() {
        let bit = 1u32 << ci;
        let range = comp.field_range();
        if *mask & bit == 0 {
            if r.bit()? {
                any = true;
                *mask |= bit;
                for f in range {
                    let value = read_raw(r, &fields[f], comp.def.name, id)?;
                    edits.push(Edit::Set { field: f, value });
                }
            }
            continue;
        }
        if !r.bit()? {
            continue;
        }
        any = true;
        if !r.bit()? {
            *mask &= !bit;
            edits.push(Edit::Clear { from: range.start, to: range.end });
            continue;
        }
        let at = r.position();
        let field_mask = if range.len() > 1 { r.read(range.len() as u32)? } else { 1 };
        if field_mask == 0 {
            return Err(SnapshotError::EmptyChange { entity: id(), bit: at });
        }
        for (n, f) in range.enumerate() {
            if field_mask & (1 << n) == 0 {
                continue;
            }
            if fields[f].def.codec == FieldCodec::Bool {
                edits.push(Edit::Flip { field: f });
                continue;
            }
            let bit = r.position();
            let diff = r.signed_exp_golomb(orders[f].k)?;
            diff_costs[f].add(zigzag(diff));
            edits.push(Edit::Add { component: ci, field: f, diff, bit });
        }
    }
    if !any {
        return Err(SnapshotError::EmptyChange { entity: id(), bit: start_bit });
    }
    Ok(())
}

/// The second pass of [`SnapshotDecoder::read_changes`]: applies `edits` to `out`.
fn apply_edits(
    edits: &[Edit],
    schema: &Schema,
    out: &mut impl Changing,
) -> Result<(), SnapshotError> {
    let fields = schema.fields();
    let mut row = 0;
    let mut values: &mut [u32] = &mut [];
    for &edit in edits {
        match edit {
            Edit::Row { row: r, mask } => {
                row = r;
                values = out.values_for_change(r, mask);
            }
            Edit::Set { field, value } => values[field] = value,
            Edit::Clear { from, to } => values[from..to].fill(0),
            Edit::Flip { field } => values[field] ^= 1,
            Edit::Add { component, field, diff, bit } => {
                let slot = &mut values[field];
                let info = &fields[field];
                let Some(value) = (diff != 0).then(|| apply(info, *slot, diff)).flatten() else {
                    let value = i64::from(*slot).saturating_add(diff);
                    return Err(SnapshotError::ValueOutOfRange {
                        entity: out.id(row),
                        component: schema.components()[component].def.name,
                        field: info.def.name,
                        value,
                        bit,
                    });
                };
                *slot = value;
            }
        }
    }
    Ok(())
}

/// Merges the id-sorted `spawned` into the id-sorted `out`, in place (from the back, so that
/// every row moves once); an id in both is an error.
fn merge_into(out: &mut Snapshot, spawned: &Snapshot, bit: usize) -> Result<(), SnapshotError> {
    let stride = out.stride;
    let (n, m) = (out.len(), spawned.len());
    out.ids.resize(n + m, EntityId::default());
    out.masks.resize(n + m, 0);
    out.values.resize((n + m) * stride, 0);
    let (mut i, mut j) = (n, m);
    while j > 0 {
        let k = i + j - 1;
        let spawn = spawned.ids[j - 1];
        if i > 0 && out.ids[i - 1] == spawn {
            return Err(SnapshotError::BadSpawnId { id: u64::from(spawn.0), bit });
        }
        if i > 0 && out.ids[i - 1] > spawn {
            i -= 1;
            out.ids[k] = out.ids[i];
            out.masks[k] = out.masks[i];
            out.values.copy_within(i * stride..(i + 1) * stride, k * stride);
        } else {
            j -= 1;
            out.ids[k] = spawn;
            out.masks[k] = spawned.masks[j];
            out.values[k * stride..(k + 1) * stride]
                .copy_from_slice(&spawned.values[j * stride..(j + 1) * stride]);
        }
    }
    Ok(())
}
