//! Views as chunks (`PROTOCOL.md` §6.10): what a room hands a client of protocol version 5
//! when its game has interest management.
//!
//! **Why.** With a view per client (§6.8) every entity is encoded once per view that sees it:
//! in a world where every cell is occupied, nine times for a 3×3 block, whatever the number of
//! clients. A room instead cuts the tick's world into chunks (its global entities, each team's,
//! each cell's) and each chunk becomes a [`TickFrame`] of its own. A client's view is the
//! chunks it covers ([`ChunkedView`]), and a writer sends each as a delta against the same
//! chunk's frame in the view it sent last. A chunk's payload is cached per baseline frame like
//! any frame's, so each chunk is encoded once per tick and baseline, shared by every client and
//! view that holds it: the encodes per tick grow with the occupied cells, not with the views.
//!
//! A chunk whose delta is empty (its entities moved on their predictions) is left out of the
//! message, and the client moves it on itself; chunks that left the view are dropped.
//!
//! Clients with the same view and the same view sent last get the same message but for its
//! `last_input`: the rest of it (the dropped keys and the listed chunks) is written once per
//! (view, view sent last) and shared, as a frame's payload is per baseline.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tickwire_protocol::Tick;
use tickwire_protocol::codec::{encode_chunks_head_into, encode_chunks_tail_into};
use tickwire_protocol::message::ChunkKey;
use tickwire_protocol::snapshot::EMPTY_DELTA;

use super::frame::TickFrame;

/// Ids of chunked views, unique in the process (the cache key of what is rendered against
/// one).
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A message's tail (see the module docs), keyed by the id of the view sent last (`None`: from
/// nothing).
type Tail = (Option<u64>, Arc<[u8]>);

/// A view as chunks: the tick's frames of the chunks it holds, by ascending key.
#[derive(Debug)]
pub struct ChunkedView {
    /// The tick.
    pub tick: Tick,
    /// The chunks, by strictly ascending key, each a frame of the tick.
    pub chunks: Vec<(ChunkKey, Arc<TickFrame>)>,
    /// Unique per view.
    id: u64,
    /// The tails rendered so far. Locked only to look up or to render once; a handful of
    /// entries per tick.
    tails: Mutex<Vec<Tail>>,
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

/// A render's dropped keys and listed payloads.
type Scratch = (Vec<ChunkKey>, Vec<(ChunkKey, Arc<[u8]>)>);

thread_local! {
    /// A render's scratch, one per worker thread.
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

impl ChunkedView {
    /// The view of `tick` made of `chunks` (by strictly ascending key, frames of `tick`).
    pub fn new(tick: Tick, chunks: Vec<(ChunkKey, Arc<TickFrame>)>) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Self { tick, chunks, id, tails: Mutex::new(Vec::new()) }
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
        let mut tails = self.tails.lock();
        if let Some((_, tail)) = tails.iter().find(|(k, _)| *k == key) {
            out.extend_from_slice(tail);
            return 0;
        }
        let start = out.len();
        let encodes = self.render_tail(last, out);
        tails.push((key, Arc::from(&out[start..])));
        encodes
    }

    /// Appends the message's tail against `last`: the chunks held there and not here are
    /// dropped, the others listed unless their delta is empty. Returns the payloads encoded.
    fn render_tail(&self, last: Option<&ChunkedView>, out: &mut Vec<u8>) -> usize {
        let held: &[(ChunkKey, Arc<TickFrame>)] = last.map_or(&[], |l| &l.chunks);
        SCRATCH.with(|s| {
            let (dropped, listed) = &mut *s.borrow_mut();
            dropped.clear();
            listed.clear();
            let mut encodes = 0;
            let (mut h, mut c) = (held.iter().peekable(), self.chunks.iter().peekable());
            loop {
                match (h.peek(), c.peek()) {
                    (None, None) => break,
                    (Some((hk, _)), Some((ck, _))) if hk < ck => {
                        dropped.push(*hk);
                        h.next();
                    }
                    (Some((hk, _)), None) => {
                        dropped.push(*hk);
                        h.next();
                    }
                    (Some((hk, base)), Some((ck, frame))) if hk == ck => {
                        let (payload, _, encoded) = frame.payload(Some(base));
                        encodes += usize::from(encoded);
                        if *payload != EMPTY_DELTA {
                            listed.push((*ck, payload));
                        }
                        h.next();
                        c.next();
                    }
                    (_, Some((ck, frame))) => {
                        let (payload, _, encoded) = frame.payload(None);
                        encodes += usize::from(encoded);
                        listed.push((*ck, payload));
                        c.next();
                    }
                }
            }
            encode_chunks_tail_into(out, dropped, listed.iter().map(|(k, p)| (*k, &p[..])));
            listed.clear();
            encodes
        })
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
    /// cut into cells 20 wide: the whole frame and its chunks.
    fn chunks(schema: &'static Schema, tick: u32) -> Vec<(ChunkKey, Arc<TickFrame>)> {
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
        cells
            .into_iter()
            .map(|(k, rows)| (k, Arc::new(TickFrame::view(full.clone(), rows))))
            .collect()
    }

    /// The view of the cells `0..=top` at `tick`.
    fn view(schema: &'static Schema, tick: u32, top: i32) -> ChunkedView {
        let cells = chunks(schema, tick);
        let seen =
            cells.into_iter().filter(|(k, _)| matches!(k, ChunkKey::Cell { x, .. } if *x <= top));
        ChunkedView::new(Tick(tick), seen.collect())
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
    }
}
