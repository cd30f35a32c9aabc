//! The snapshot encoder (`PROTOCOL.md` §6). One encoder is reused across ticks so that its
//! scratch buffers are allocated once.

use super::predict::{difference, predict};
use crate::bits::{BitWriter, best_exp_golomb_order, zigzag};
use crate::schema::{FieldCodec, Schema};

use super::{Snapshot, Subset};

/// How many rows ahead of its walk the encoder asks the cache for a subset's rows
/// ([`Subset::prefetch`]).
const PREFETCH_AHEAD: usize = 6;

/// A changed entity: its index among the survivors, and its rows in baseline and current.
#[derive(Debug, Clone, Copy)]
struct Change {
    survivor: u32,
    base: u32,
    cur: u32,
}

/// Encodes snapshots, full or as deltas. Reuse one per thread to avoid per-tick allocation.
#[derive(Debug, Default)]
pub struct SnapshotEncoder {
    despawns: Vec<u64>,
    changes: Vec<Change>,
    spawns: Vec<u32>,
    /// Per field: the zigzagged differences of this delta, to choose each field's code order.
    diffs: Vec<Vec<u64>>,
    gaps: Vec<u64>,
    pred: Vec<u32>,
    /// Per field: the code order of its differences in this delta.
    orders: Vec<u32>,
}

impl SnapshotEncoder {
    /// A new encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes `current` as a delta against `baseline`, or in full when `baseline` is `None`.
    ///
    /// # Panics
    /// If `baseline` is not strictly older than `current` (a caller bug: deltas go forward).
    pub fn encode(
        &mut self,
        schema: &Schema,
        baseline: Option<&Snapshot>,
        current: &Snapshot,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(schema, baseline, current, &mut out);
        out
    }

    /// Like [`encode`](Self::encode), writing into `out` (cleared first) to reuse its allocation.
    pub fn encode_into(
        &mut self,
        schema: &Schema,
        baseline: Option<&Snapshot>,
        current: &Snapshot,
        out: &mut Vec<u8>,
    ) {
        let baseline = baseline.map(Subset::all);
        self.encode_subset_into(schema, baseline, Subset::all(current), out);
    }

    /// Like [`encode_into`](Self::encode_into), for some rows of the snapshots ([`Subset`]):
    /// the bytes are those of the snapshots holding just those rows.
    ///
    /// # Panics
    /// As [`encode`](Self::encode).
    pub fn encode_subset_into(
        &mut self,
        schema: &Schema,
        baseline: Option<Subset<'_>>,
        current: Subset<'_>,
        out: &mut Vec<u8>,
    ) {
        let empty = Snapshot::empty(schema, current.tick());
        let (base, ticks) = match baseline {
            Some(b) => {
                let ticks = current.tick().diff(b.tick());
                assert!(ticks > 0, "delta baseline {} is not before {}", b.tick(), current.tick());
                (b, i64::from(ticks))
            }
            None => (Subset::all(&empty), 0),
        };
        self.classify(schema, base, current, ticks);

        let mut w = BitWriter::with_buffer(std::mem::take(out));
        // Despawns: index gaps into the baseline.
        write_gaps(&mut w, &mut self.gaps, self.despawns.iter().copied());
        // Changes: per-field code orders, then survivor-index gaps and bodies.
        w.exp_golomb(self.changes.len() as u64, 0);
        if !self.changes.is_empty() {
            self.orders.clear();
            self.orders.extend(self.diffs.iter().map(|d| best_exp_golomb_order(d.iter().copied())));
            for &k in &self.orders {
                w.write(k, 4);
            }
            self.gaps.clear();
            let mut prev = -1i64;
            for c in &self.changes {
                self.gaps.push((i64::from(c.survivor) - prev - 1) as u64);
                prev = i64::from(c.survivor);
            }
            let k = best_exp_golomb_order(self.gaps.iter().copied());
            w.write(k, 4);
            for (i, c) in self.changes.iter().enumerate() {
                w.exp_golomb(self.gaps[i], k);
                let rows = Rows { base, cur: current, c: *c, ticks };
                write_change(&mut w, schema, &rows, &self.orders, &mut self.pred);
            }
        }
        // Spawns: id gaps, each followed by the entity's raw values.
        self.gaps.clear();
        let mut prev = -1i64;
        for &row in &self.spawns {
            let id = i64::from(current.id(row as usize).0);
            self.gaps.push((id - prev - 1) as u64);
            prev = id;
        }
        w.exp_golomb(self.spawns.len() as u64, 0);
        if !self.spawns.is_empty() {
            let k = best_exp_golomb_order(self.gaps.iter().copied());
            w.write(k, 4);
            for (i, &row) in self.spawns.iter().enumerate() {
                w.exp_golomb(self.gaps[i], k);
                write_spawn(&mut w, schema, current, row as usize);
            }
        }
        *out = w.finish();
    }

    /// Splits entities into despawned, changed and spawned, and collects field differences.
    fn classify(&mut self, schema: &Schema, base: Subset<'_>, cur: Subset<'_>, ticks: i64) {
        self.despawns.clear();
        self.changes.clear();
        self.spawns.clear();
        self.diffs.resize_with(schema.field_count(), Vec::new);
        self.diffs.iter_mut().for_each(Vec::clear);
        self.pred.resize(schema.field_count(), 0);
        // Two copies of the walk: whole snapshots are read in order and need no prefetching
        // (a test in their loop costs them 3%).
        if base.is_scattered() || cur.is_scattered() {
            self.walk::<true>(schema, base, cur, ticks);
        } else {
            self.walk::<false>(schema, base, cur, ticks);
        }
    }

    /// [`classify`](Self::classify)'s walk through both subsets in id order; `SCATTERED`: ask
    /// the cache for their rows ahead of it ([`Subset::prefetch`]).
    fn walk<const SCATTERED: bool>(
        &mut self,
        schema: &Schema,
        base: Subset<'_>,
        cur: Subset<'_>,
        ticks: i64,
    ) {
        let fields = schema.fields();
        let (mut i, mut j, mut survivor) = (0usize, 0usize, 0u32);
        while i < base.len() || j < cur.len() {
            if SCATTERED {
                base.prefetch(i + PREFETCH_AHEAD);
                cur.prefetch(j + PREFETCH_AHEAD);
            }
            let bid = base.get_id(i);
            let cid = cur.get_id(j);
            match (bid, cid) {
                (Some(b), Some(c)) if b == c => {
                    let (bv, cv) = (base.values(i), cur.values(j));
                    let (bm, cm) = (base.mask(i), cur.mask(j));
                    // Most of a big world stands still: the same values as in the baseline,
                    // and no velocity to predict a move from. Nothing to compare field by field.
                    if bm == cm && same(bv, cv) && schema.is_still(bv) {
                        survivor += 1;
                        i += 1;
                        j += 1;
                        continue;
                    }
                    let mut changed = bm != cm;
                    for comp in schema
                        .components()
                        .iter()
                        .enumerate()
                        .filter_map(|(ci, comp)| (bm & cm & (1 << ci) != 0).then_some(comp))
                    {
                        for f in comp.field_range() {
                            let p = predict(fields, bv, f, ticks);
                            if cv[f] != p {
                                changed = true;
                                if fields[f].def.codec != FieldCodec::Bool {
                                    self.diffs[f].push(zigzag(difference(&fields[f], cv[f], p)));
                                }
                            }
                        }
                    }
                    if changed {
                        self.changes.push(Change { survivor, base: i as u32, cur: j as u32 });
                    }
                    survivor += 1;
                    i += 1;
                    j += 1;
                }
                (Some(b), c) if c.is_none_or(|c| b < c) => {
                    self.despawns.push(i as u64);
                    i += 1;
                }
                _ => {
                    self.spawns.push(j as u32);
                    j += 1;
                }
            }
        }
    }
}

/// Whether two rows of values are equal: inlined, where `==` on slices calls `memcmp` (a call
/// that cost more than the comparison of a row of ten values).
#[inline]
fn same(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A changed entity with the snapshots it lives in.
struct Rows<'a> {
    base: Subset<'a>,
    cur: Subset<'a>,
    c: Change,
    ticks: i64,
}

/// Writes a changed entity's body (`PROTOCOL.md` §6.3).
fn write_change(
    w: &mut BitWriter,
    schema: &Schema,
    rows: &Rows<'_>,
    orders: &[u32],
    pred: &mut [u32],
) {
    let Rows { base, cur, c, ticks } = *rows;
    let (bi, ci) = (c.base as usize, c.cur as usize);
    let (bv, cv) = (base.values(bi), cur.values(ci));
    let (bm, cm) = (base.mask(bi), cur.mask(ci));
    let (fields, bits) = (schema.fields(), schema.bits());
    for (idx, comp) in schema.components().iter().enumerate() {
        let (had, has) = (bm & (1 << idx) != 0, cm & (1 << idx) != 0);
        let range = comp.field_range();
        if !had {
            w.bit(has);
            if has {
                for f in range {
                    w.write(cv[f], bits[f]);
                }
            }
            continue;
        }
        if !has {
            w.bit(true); // changed
            w.bit(false); // removed
            continue;
        }
        let mut field_mask = 0u32;
        for (n, f) in range.clone().enumerate() {
            pred[f] = predict(fields, bv, f, ticks);
            if cv[f] != pred[f] {
                field_mask |= 1 << n;
            }
        }
        w.bit(field_mask != 0);
        if field_mask == 0 {
            continue;
        }
        w.bit(true); // still present
        if range.len() > 1 {
            w.write(field_mask, range.len() as u32);
        }
        for (n, f) in range.enumerate() {
            if field_mask & (1 << n) != 0 && fields[f].def.codec != FieldCodec::Bool {
                let d = difference(&fields[f], cv[f], pred[f]);
                w.signed_exp_golomb(d, orders[f]);
            }
        }
    }
}

/// Writes a spawned entity's body: per component a presence bit, then raw quantized values.
fn write_spawn(w: &mut BitWriter, schema: &Schema, cur: Subset<'_>, row: usize) {
    let (cv, mask) = (cur.values(row), cur.mask(row));
    let bits = schema.bits();
    for (idx, comp) in schema.components().iter().enumerate() {
        let has = mask & (1 << idx) != 0;
        w.bit(has);
        if has {
            for f in comp.field_range() {
                w.write(cv[f], bits[f]);
            }
        }
    }
}

/// Writes a count, then (if non-zero) a code order and the gaps between ascending indices.
fn write_gaps(w: &mut BitWriter, gaps: &mut Vec<u64>, ascending: impl Iterator<Item = u64>) {
    gaps.clear();
    let mut prev: Option<u64> = None;
    for v in ascending {
        gaps.push(prev.map_or(v, |p| v - p - 1));
        prev = Some(v);
    }
    w.exp_golomb(gaps.len() as u64, 0);
    if gaps.is_empty() {
        return;
    }
    let k = best_exp_golomb_order(gaps.iter().copied());
    w.write(k, 4);
    for &g in gaps.iter() {
        w.exp_golomb(g, k);
    }
}
