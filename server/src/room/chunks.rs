//! Views as chunks (`PROTOCOL.md` §6.10): what a room hands a client of protocol version 5
//! when its game has interest management.
//!
//! **Why.** With a view per client (§6.8) every entity is encoded once per view that sees it:
//! in a world where every cell is occupied, nine times for a 3×3 block, whatever the number of
//! clients. A room instead cuts the tick's world into chunks (its global entities, each team's,
//! each cell's): the tick's [`ChunkTable`]. A client's view is the chunks it covers
//! ([`ChunkedView`]), and a writer sends each as a delta against the same chunk in the view it
//! sent last. A chunk's payload is cached per baseline table, so each chunk is encoded once per
//! tick and baseline, shared by every client and view that holds it: the encodes per tick grow
//! with the occupied cells, not with the views.
//!
//! **One table per tick.** The chunks of a tick live in one table, their rows of the tick's
//! whole frame in one list (a big world has a thousand chunks: a frame, a list and a lock each
//! were a tenth of the tick in allocations). A chunk keeps its first payload where writers read
//! it without a lock or a reference count; clients that lag, and so have another baseline, share
//! the others under a lock.
//!
//! A chunk whose delta is empty (its entities moved on their predictions) is left out of the
//! message, and the client moves it on itself; chunks that left the view are dropped.
//!
//! Clients with the same view and the same view sent last get the same message but for its
//! `last_input`: the rest of it (the dropped keys and the listed chunks) is written once per
//! (view, view sent last) and shared, as a frame's payload is per baseline.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tickwire_protocol::codec::{encode_chunks_head_into, encode_chunks_tail_into};
use tickwire_protocol::message::ChunkKey;
use tickwire_protocol::snapshot::{EMPTY_DELTA, Subset};
use tickwire_protocol::{Schema, Tick};

use super::frame::{TickFrame, encode};

/// Ids of chunk tables and of chunked views, unique in the process (the cache keys of what is
/// encoded against one).
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A message's tail (see the module docs), keyed by the id of the view sent last (`None`: from
/// nothing).
type Tail = (Option<u64>, Box<[u8]>);

/// A payload keyed by the id of its baseline table (`None`: in full).
type Encoded<T> = (Option<u64>, T);

/// One tick's chunks: every non-empty part of the world, by strictly ascending key, each with
/// its rows of the tick's whole frame and the payloads encoded from it so far.
#[derive(Debug)]
pub struct ChunkTable {
    /// Unique per table (the cache key of the payloads encoded against its chunks).
    id: u64,
    /// The tick's whole frame.
    full: Arc<TickFrame>,
    /// Every chunk's rows of `full`, one chunk after the other, each run ascending.
    rows: Vec<usize>,
    chunks: Vec<Chunk>,
}

/// One chunk of a [`ChunkTable`].
#[derive(Debug)]
struct Chunk {
    key: ChunkKey,
    /// Its rows: `ChunkTable::rows[start..end]`.
    start: usize,
    end: usize,
    /// The first payload encoded (most often the only one: every client that is keeping up has
    /// the same baseline), read without a lock.
    first: OnceLock<Encoded<Box<[u8]>>>,
    /// The payloads against other baselines.
    others: Mutex<Vec<Encoded<Arc<[u8]>>>>,
}

/// A chunk's payload: borrowed from its table, or shared.
enum Payload<'a> {
    First(&'a [u8]),
    Other(Arc<[u8]>),
}

impl Deref for Payload<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::First(bytes) => bytes,
            Self::Other(bytes) => bytes,
        }
    }
}

impl ChunkTable {
    /// The chunks of `full` (a whole world's frame): `parts`, by strictly ascending key, each
    /// with its rows of `full`, ascending (`tickwire_sim::interest::Interest::chunks`).
    pub fn new(full: Arc<TickFrame>, parts: &[(ChunkKey, &[usize])]) -> Self {
        let len = parts.iter().map(|(_, rows)| rows.len()).sum();
        let (mut rows, mut chunks) = (Vec::with_capacity(len), Vec::with_capacity(parts.len()));
        for &(key, part) in parts {
            let start = rows.len();
            rows.extend_from_slice(part);
            let (first, others) = (OnceLock::new(), Mutex::new(Vec::new()));
            chunks.push(Chunk { key, start, end: rows.len(), first, others });
        }
        Self { id: next_id(), full, rows, chunks }
    }

    /// The tick.
    pub fn tick(&self) -> Tick {
        self.full.tick()
    }

    /// The number of chunks.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Whether the world was empty.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The key of chunk `i`.
    pub fn key(&self, i: usize) -> Option<ChunkKey> {
        self.chunks.get(i).map(|c| c.key)
    }

    /// The number of entities in chunk `i`.
    pub fn entities(&self, i: usize) -> usize {
        self.chunks.get(i).map_or(0, |c| c.end - c.start)
    }

    /// The index of the chunk with `key`, searched from index `from` on.
    pub fn find(&self, key: ChunkKey, from: usize) -> Option<usize> {
        let rest = self.chunks.get(from..)?;
        rest.binary_search_by_key(&key, |c| c.key).ok().map(|i| from + i)
    }

    fn schema(&self) -> &'static Schema {
        self.full.schema()
    }

    /// Chunk `i`'s entities, as the encoder reads them.
    fn subset(&self, i: usize) -> Subset<'_> {
        let full = self.full.snapshot();
        let c = &self.chunks[i];
        // invariant: each chunk's rows ascend and are rows of `full` (`new`'s contract). Were
        // they not, the chunk would show nothing rather than the whole world.
        Subset::new(full, &self.rows[c.start..c.end]).unwrap_or(Subset::none(full))
    }

    /// Chunk `i`'s payload as a delta against chunk `j` of table `base` (the same key, at an
    /// older tick), or in full; encoded only if no writer asked for it before. Returns the
    /// payload and whether this call encoded it.
    fn payload(&self, i: usize, base: Option<(&ChunkTable, usize)>) -> (Payload<'_>, bool) {
        let base = base.filter(|(t, _)| self.tick().is_newer_than(t.tick()));
        let key = base.map(|(t, _)| t.id);
        let chunk = &self.chunks[i];
        let schema = self.schema();
        // Only for an encode: most calls find the payload encoded already.
        let (cur, base_rows) = (|| self.subset(i), || base.map(|(t, j)| t.subset(j)));
        let mut fresh = false;
        let (first, bytes) = chunk.first.get_or_init(|| {
            fresh = true;
            (key, encode(schema, base_rows(), cur(), |b: &[u8]| Box::from(b)))
        });
        if *first == key {
            return (Payload::First(bytes), fresh);
        }
        let mut others = chunk.others.lock();
        if let Some((_, bytes)) = others.iter().find(|(k, _)| *k == key) {
            return (Payload::Other(bytes.clone()), false);
        }
        let bytes: Arc<[u8]> = encode(schema, base_rows(), cur(), |b: &[u8]| Arc::from(b));
        others.push((key, bytes.clone()));
        (Payload::Other(bytes), true)
    }
}

/// A view as chunks: some of a tick's chunks, by ascending key.
#[derive(Debug)]
pub struct ChunkedView {
    /// The tick.
    pub tick: Tick,
    table: Arc<ChunkTable>,
    /// The chunks held: indices into `table`, ascending.
    chunks: Vec<usize>,
    /// Unique per view.
    id: u64,
    /// The first tail rendered (most often the only one: the clients of a view had the same
    /// view the tick before), read without a lock.
    first: OnceLock<Tail>,
    /// The tails against other views sent last; locked only to look up or to render once.
    others: Mutex<Vec<Tail>>,
}

/// What a client is sent for a tick, and so the baseline of what it is sent next.
#[derive(Debug, Clone)]
pub enum Shown {
    /// A snapshot of a frame: the whole world, or a view of it.
    Frame(Arc<TickFrame>),
    /// A view as chunks.
    Chunks(Arc<ChunkedView>),
}

impl Shown {
    /// The frame shown, if it is one.
    pub fn frame(&self) -> Option<&TickFrame> {
        match self {
            Self::Frame(f) => Some(f),
            Self::Chunks(_) => None,
        }
    }

    /// The view as chunks shown, if it is one.
    pub fn chunked(&self) -> Option<&ChunkedView> {
        match self {
            Self::Chunks(c) => Some(c),
            Self::Frame(_) => None,
        }
    }

    /// A number unique to what is shown while it lives (counting distinct views).
    pub fn addr(&self) -> usize {
        match self {
            Self::Frame(f) => Arc::as_ptr(f) as usize,
            Self::Chunks(c) => Arc::as_ptr(c) as usize,
        }
    }
}

impl ChunkedView {
    /// The view made of the chunks `chunks` of `table` (indices, strictly ascending; those
    /// past the table's end are left out).
    pub fn new(table: Arc<ChunkTable>, mut chunks: Vec<usize>) -> Self {
        chunks.retain(|&i| i < table.len());
        debug_assert!(chunks.windows(2).all(|w| w[0] < w[1]), "chunk indices must ascend");
        let (tick, id, first, others) =
            (table.tick(), next_id(), OnceLock::new(), Mutex::default());
        Self { tick, table, chunks, id, first, others }
    }

    /// The chunks held, each named by its table's id and its key (unique in the process while
    /// the view lives), by ascending key.
    pub fn chunk_ids(&self) -> impl Iterator<Item = (u64, ChunkKey)> + '_ {
        self.keys().map(|k| (self.table.id, k))
    }

    /// The keys of the chunks held, ascending.
    pub fn keys(&self) -> impl Iterator<Item = ChunkKey> + '_ {
        self.chunks.iter().map(|&i| self.table.chunks[i].key)
    }

    /// Writes this view's `ServerMessage::Chunks` into `out` (appended) as a delta against
    /// `last`, the view last sent on the same connection (or from nothing). Returns how many
    /// chunk payloads this call encoded (the others were shared).
    pub fn render(
        &self,
        last: Option<&ChunkedView>,
        last_input: Option<Tick>,
        out: &mut Vec<u8>,
    ) -> usize {
        // A baseline must be strictly older (it always is: ticks increase).
        let last = last.filter(|l| self.tick.is_newer_than(l.tick));
        let key = last.map(|l| l.id);
        encode_chunks_head_into(out, (self.tick, last.map(|l| l.tick), last_input));
        let mut rendered = None;
        let (first, tail) = self.first.get_or_init(|| {
            let start = out.len();
            rendered = Some(self.render_tail(last, out));
            (key, Box::from(&out[start..]))
        });
        if let Some(encodes) = rendered {
            return encodes;
        }
        if *first == key {
            out.extend_from_slice(tail);
            return 0;
        }
        let mut others = self.others.lock();
        if let Some((_, tail)) = others.iter().find(|(k, _)| *k == key) {
            out.extend_from_slice(tail);
            return 0;
        }
        let start = out.len();
        let encodes = self.render_tail(last, out);
        others.push((key, Box::from(&out[start..])));
        encodes
    }

    /// Appends the message's tail against `last`: the chunks held there and not here are
    /// dropped, the others listed unless their delta is empty. Returns the payloads encoded.
    fn render_tail(&self, last: Option<&ChunkedView>, out: &mut Vec<u8>) -> usize {
        let table = &*self.table;
        let (held_table, held): (Option<&ChunkTable>, &[usize]) =
            last.map_or((None, &[]), |l| (Some(&*l.table), &l.chunks));
        // Both by ascending key: (index, key) pairs, merged.
        let mut h = held.iter().filter_map(|&i| Some((i, held_table?.key(i)?))).peekable();
        let mut c = self.chunks.iter().filter_map(|&i| Some((i, table.key(i)?))).peekable();
        let mut dropped = Vec::new();
        let mut listed: Vec<(ChunkKey, Payload<'_>)> = Vec::with_capacity(self.chunks.len());
        let mut encodes = 0;
        loop {
            let (base, (i, key)) = match (h.peek().copied(), c.peek().copied()) {
                (None, None) => break,
                (Some((_, hk)), ck) if ck.is_none_or(|(_, ck)| hk < ck) => {
                    dropped.push(hk);
                    h.next();
                    continue;
                }
                (Some((j, hk)), Some((i, ck))) if hk == ck => {
                    h.next();
                    (held_table.map(|t| (t, j)), (i, ck))
                }
                (_, Some(current)) => (None, current),
                // Unreachable: a held key with no current one is dropped above.
                (Some(_), None) => break,
            };
            c.next();
            let (payload, encoded) = table.payload(i, base);
            encodes += usize::from(encoded);
            // A held chunk whose delta is empty moved on its predictions: not listed.
            if base.is_none() || *payload != EMPTY_DELTA {
                listed.push((key, payload));
            }
        }
        encode_chunks_tail_into(out, &dropped, listed.iter().map(|(k, p)| (*k, &p[..])));
        encodes
    }
}

#[cfg(test)]
mod tests {
    use tickwire_protocol::codec::decode_server;
    use tickwire_protocol::message::ServerMessage;
    use tickwire_protocol::snapshot::{ChunkSet, DecodeLimits, SnapshotDecoder};
    use tickwire_protocol::{EntityId, Schema, Snapshot, SnapshotBuilder};

    use super::*;
    use crate::room::frame::tests::{Spot, schema};

    /// 60 entities at `tick`, entity `i` at `i + tick` (so each moves right by one a tick),
    /// cut into cells 20 wide: the tick's chunk table.
    fn chunks(schema: &'static Schema, tick: u32) -> Arc<ChunkTable> {
        let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
        for id in 0..60u32 {
            b.entity(EntityId(id)).set(0, &Spot { x: (id + tick) as f32, y: 0.0 });
        }
        let full = Arc::new(TickFrame::new(b.finish().expect("unique ids"), schema));
        let mut cells: Vec<(ChunkKey, Vec<usize>)> = Vec::new();
        for row in 0..60usize {
            let key = ChunkKey::Cell { x: ((row as u32 + tick) / 20) as i32, y: 0 };
            match cells.last_mut() {
                Some((k, rows)) if *k == key => rows.push(row),
                _ => cells.push((key, vec![row])),
            }
        }
        let parts: Vec<(ChunkKey, &[usize])> = cells.iter().map(|(k, r)| (*k, &r[..])).collect();
        Arc::new(ChunkTable::new(full, &parts))
    }

    /// The view of the cells `0..=top` at `tick`.
    fn view(schema: &'static Schema, tick: u32, top: i32) -> ChunkedView {
        let table = chunks(schema, tick);
        let seen = (0..table.len())
            .filter(|&i| matches!(table.key(i), Some(ChunkKey::Cell { x, .. }) if x <= top));
        ChunkedView::new(table.clone(), seen.collect())
    }

    /// What the cells `0..=top` hold at `tick`.
    fn expected(schema: &'static Schema, tick: u32, top: u32) -> Snapshot {
        let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
        for id in (0..60u32).filter(|id| (id + tick) / 20 <= top) {
            b.entity(EntityId(id)).set(0, &Spot { x: (id + tick) as f32, y: 0.0 });
        }
        b.finish().expect("unique ids")
    }

    /// Renders `view` against `last` for a client holding `set`, which applies it: the bytes,
    /// the encodes, the view the client rebuilt.
    fn send(
        schema: &'static Schema,
        view: &ChunkedView,
        last: Option<&ChunkedView>,
        set: &mut ChunkSet,
    ) -> (Vec<u8>, usize, Snapshot) {
        let mut out = Vec::new();
        let encodes = view.render(last, Some(Tick(7)), &mut out);
        let Ok(ServerMessage::Chunks(msg)) = decode_server(&out) else { panic!("chunks") };
        let mut world = Snapshot::default();
        let limits = DecodeLimits::default();
        set.apply(&mut SnapshotDecoder::new(), schema, &msg, &limits, &mut world).expect("applies");
        (out, encodes, world)
    }

    #[test]
    fn clients_rebuild_their_views_and_share_what_is_rendered() {
        let schema = schema();
        let (v1, v2) = (view(schema, 1, 1), view(schema, 2, 2));
        let (mut a, mut b) = (ChunkSet::new(), ChunkSet::new());
        let (first, encodes, world) = send(schema, &v1, None, &mut a);
        assert_eq!((encodes, world), (2, expected(schema, 1, 1)), "two cells, in full");
        let (again, encodes, _) = send(schema, &v1, None, &mut b);
        assert_eq!((again, encodes), (first, 0), "the same bytes, shared");
        // Tick 2: every entity moved right by one (entities 19 and 39 changed cells), and the
        // view grew by a cell.
        let (next, encodes, world) = send(schema, &v2, Some(&v1), &mut a);
        assert_eq!(world, expected(schema, 2, 2));
        assert!(encodes >= 3, "two deltas and a new cell: {encodes}");
        let (again, encodes, world) = send(schema, &v2, Some(&v1), &mut b);
        assert_eq!((again, encodes, world), (next, 0, expected(schema, 2, 2)));
        // A view sent last that is not older is no baseline: the view goes in full.
        let mut c = ChunkSet::new();
        let (_, _, world) = send(schema, &v2, Some(&v2), &mut c);
        assert_eq!(world, expected(schema, 2, 2));
        // Tick 3: `a` is up to date; `d`, which lags, still holds tick 1. Its chunks are encoded
        // against tick 1's (the table's second baseline), once, and shared.
        let v3 = view(schema, 3, 2);
        let (_, encodes, world) = send(schema, &v3, Some(&v2), &mut a);
        assert_eq!((encodes, world), (3, expected(schema, 3, 2)));
        let (mut d, mut e) = (ChunkSet::new(), ChunkSet::new());
        send(schema, &v1, None, &mut d);
        send(schema, &v1, None, &mut e);
        let (lagging, encodes, world) = send(schema, &v3, Some(&v1), &mut d);
        assert_eq!(world, expected(schema, 3, 2));
        assert!(encodes >= 2, "the lagging client's deltas are its own: {encodes}");
        let (again, encodes, world) = send(schema, &v3, Some(&v1), &mut e);
        assert_eq!((again, encodes, world), (lagging, 0, expected(schema, 3, 2)));
    }
}
