//! The snapshot decoder (`PROTOCOL.md` §6). Hostile input never panics and never allocates more
//! than the baseline's size plus what [`DecodeLimits`] and the payload's length allow.

use super::Snapshot;
use super::predict::{apply, predict};
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
pub fn decode(
    schema: &Schema,
    baseline: Option<&Snapshot>,
    tick: Tick,
    payload: &[u8],
    limits: &DecodeLimits,
) -> Result<Snapshot, SnapshotError> {
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
    let stride = schema.field_count();
    let fields = schema.fields();
    let mut r = BitReader::new(payload);

    // Despawns: ascending indices into the baseline.
    let mut alive = vec![true; base.len()];
    let count = read_count(&mut r, "despawn", base.len())?;
    if count > 0 {
        let order = Order::read(&mut r, "despawn gap")?;
        let mut costs = OrderCosts::default();
        let mut next = 0u64;
        for _ in 0..count {
            let at = r.position();
            let gap = r.exp_golomb(order.k)?;
            costs.add(gap);
            let index = next.saturating_add(gap);
            let slot = usize::try_from(index).ok().and_then(|i| alive.get_mut(i));
            let Some(slot) = slot else {
                return Err(SnapshotError::IndexOutOfRange {
                    what: "despawn",
                    index,
                    len: base.len(),
                    bit: at,
                });
            };
            *slot = false;
            next = index + 1;
        }
        order.check(&costs)?;
    }

    // Survivors start from their predicted values. The linearly predicted fields are listed
    // once, with the presence bit of their component; predictions read the baseline's row.
    let linear: Vec<(u32, usize)> = if ticks > 0 {
        schema
            .components()
            .iter()
            .enumerate()
            .flat_map(|(ci, comp)| {
                comp.field_range()
                    .filter(|&f| fields[f].linear.is_some())
                    .map(move |f| (1 << ci, f))
            })
            .collect()
    } else {
        Vec::new()
    };
    let survivors = alive.iter().filter(|a| **a).count();
    let mut out = Snapshot {
        tick,
        stride,
        ids: Vec::with_capacity(survivors),
        masks: Vec::with_capacity(survivors),
        values: Vec::with_capacity(survivors * stride),
    };
    if survivors == base.len() {
        // No despawns (the common case): copy the baseline wholesale, then predict.
        out.ids.extend_from_slice(&base.ids);
        out.masks.extend_from_slice(&base.masks);
        out.values.extend_from_slice(&base.values);
        if !linear.is_empty() {
            // invariant: a schema with a linear field has stride > 0.
            let rows = base.masks.iter().zip(base.values.chunks_exact(stride));
            for (row, (&mask, bv)) in rows.enumerate() {
                for &(bit, f) in &linear {
                    if mask & bit != 0 {
                        out.values[row * stride + f] = predict(fields, bv, f, ticks);
                    }
                }
            }
        }
    } else {
        for (i, _) in alive.iter().enumerate().filter(|(_, a)| **a) {
            let bv = &base.values[i * stride..(i + 1) * stride];
            let mask = base.masks[i];
            out.ids.push(base.ids[i]);
            out.masks.push(mask);
            let start = out.values.len();
            out.values.extend_from_slice(bv);
            for &(bit, f) in &linear {
                if mask & bit != 0 {
                    out.values[start + f] = predict(fields, bv, f, ticks);
                }
            }
        }
    }

    // Changed entities: ascending indices into the survivors.
    let count = read_count(&mut r, "change", survivors)?;
    if count > 0 {
        let mut orders = Vec::with_capacity(stride);
        for _ in 0..stride {
            orders.push(Order::read(&mut r, "field difference")?);
        }
        let mut diff_costs = vec![OrderCosts::default(); stride];
        let order = Order::read(&mut r, "change gap")?;
        let mut costs = OrderCosts::default();
        let mut next = 0u64;
        for _ in 0..count {
            let at = r.position();
            let gap = r.exp_golomb(order.k)?;
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
            read_change(&mut r, schema, &mut out, row, &orders, &mut diff_costs)?;
            next = index + 1;
        }
        order.check(&costs)?;
        for (order, costs) in orders.iter().zip(&diff_costs) {
            order.check(costs)?;
        }
    }

    // Spawns: ascending ids with raw values, merged into the survivors.
    let room = limits.max_entities.saturating_sub(survivors);
    let count = read_count(&mut r, "spawn", room)?;
    if count > 0 {
        let order = Order::read(&mut r, "spawn gap")?;
        let mut costs = OrderCosts::default();
        let mut spawned = Snapshot {
            tick,
            stride,
            ids: Vec::with_capacity(count),
            masks: Vec::with_capacity(count),
            values: Vec::with_capacity(count * stride),
        };
        let mut next = 0u64;
        for _ in 0..count {
            let at = r.position();
            let gap = r.exp_golomb(order.k)?;
            costs.add(gap);
            let id = next.saturating_add(gap);
            // Ids are never reused, so a spawn may not name an entity of the baseline, not even
            // one despawned above (that pair would be a non-canonical way to write a change).
            let id32 = u32::try_from(id).ok().filter(|&id32| base.get(EntityId(id32)).is_none());
            let Some(id32) = id32 else {
                return Err(SnapshotError::BadSpawnId { id, bit: at });
            };
            spawned.ids.push(EntityId(id32));
            spawned.masks.push(0);
            spawned.values.resize(spawned.values.len() + stride, 0);
            let row = spawned.ids.len() - 1;
            read_spawn(&mut r, schema, &mut spawned, row)?;
            next = id + 1;
        }
        order.check(&costs)?;
        out = merge(out, spawned, r.position())?;
    }
    r.finish()?;
    Ok(out)
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

fn read_raw(
    r: &mut BitReader<'_>,
    info: &FieldInfo,
    component: &'static str,
    entity: EntityId,
) -> Result<u32, SnapshotError> {
    let bit = r.position();
    let v = r.read(info.bits)?;
    if v > info.max_q {
        return Err(SnapshotError::ValueOutOfRange {
            entity,
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
                    read_raw(r, &schema.fields()[f], comp.def.name, id)?;
            }
        }
    }
    Ok(())
}

fn read_change(
    r: &mut BitReader<'_>,
    schema: &Schema,
    out: &mut Snapshot,
    row: usize,
    orders: &[Order],
    diff_costs: &mut [OrderCosts],
) -> Result<(), SnapshotError> {
    let start_bit = r.position();
    let stride = out.stride;
    let id = out.ids[row];
    let fields = schema.fields();
    let mut any = false;
    for (ci, comp) in schema.components().iter().enumerate() {
        let bit = 1u32 << ci;
        let range = comp.field_range();
        if out.masks[row] & bit == 0 {
            if r.bit()? {
                any = true;
                out.masks[row] |= bit;
                for f in range {
                    out.values[row * stride + f] = read_raw(r, &fields[f], comp.def.name, id)?;
                }
            }
            continue;
        }
        if !r.bit()? {
            continue;
        }
        any = true;
        if !r.bit()? {
            out.masks[row] &= !bit;
            out.values[row * stride + range.start..row * stride + range.end].fill(0);
            continue;
        }
        let at = r.position();
        let field_mask = if range.len() > 1 { r.read(range.len() as u32)? } else { 1 };
        if field_mask == 0 {
            return Err(SnapshotError::EmptyChange { entity: id, bit: at });
        }
        for (n, f) in range.enumerate() {
            if field_mask & (1 << n) == 0 {
                continue;
            }
            let slot = &mut out.values[row * stride + f];
            if fields[f].def.codec == FieldCodec::Bool {
                *slot ^= 1;
                continue;
            }
            let at = r.position();
            let diff = r.signed_exp_golomb(orders[f].k)?;
            diff_costs[f].add(zigzag(diff));
            let value = (diff != 0).then(|| apply(&fields[f], *slot, diff)).flatten();
            let Some(value) = value else {
                return Err(SnapshotError::ValueOutOfRange {
                    entity: id,
                    component: comp.def.name,
                    field: fields[f].def.name,
                    value: i64::from(*slot).saturating_add(diff),
                    bit: at,
                });
            };
            *slot = value;
        }
    }
    if !any {
        return Err(SnapshotError::EmptyChange { entity: id, bit: start_bit });
    }
    Ok(())
}

/// Merges two id-sorted snapshots; an id in both is an error.
fn merge(a: Snapshot, b: Snapshot, bit: usize) -> Result<Snapshot, SnapshotError> {
    let stride = a.stride;
    let mut out = Snapshot {
        tick: a.tick,
        stride,
        ids: Vec::with_capacity(a.len() + b.len()),
        masks: Vec::with_capacity(a.len() + b.len()),
        values: Vec::with_capacity(a.values.len() + b.values.len()),
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = match (a.ids.get(i), b.ids.get(j)) {
            (Some(x), Some(y)) if x == y => {
                return Err(SnapshotError::BadSpawnId { id: u64::from(y.0), bit });
            }
            (Some(x), Some(y)) => x < y,
            (Some(_), None) => true,
            _ => false,
        };
        let (src, k) = if take_a { (&a, &mut i) } else { (&b, &mut j) };
        out.push_raw(src.ids[*k], src.masks[*k], &src.values[*k * stride..(*k + 1) * stride]);
        *k += 1;
    }
    Ok(out)
}
