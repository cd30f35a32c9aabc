//! [`TickFrame`]: one tick's snapshot, shared by every client of a room, with its encodings.
//!
//! The room builds one frame per tick and hands an `Arc` to each client's outbox. A session's
//! writer asks the frame for the payload against the last frame it actually sent on its socket;
//! the first writer to ask for a given baseline encodes it, and every other writer with that
//! baseline gets the same bytes. Healthy clients all have the previous tick as baseline, so a
//! tick costs one delta encode (plus one full encode per tick in which someone joins), whatever
//! the number of clients. With interest management there is one frame per view, and a
//! baseline is the frame a client last received (of its view then): encodings are keyed by the
//! baseline frame's id, so clients that share a view and a baseline share bytes.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tickwire_protocol::{Schema, Snapshot, SnapshotEncoder, Tick};

thread_local! {
    /// Encoder scratch buffers, one per worker thread.
    static ENCODER: RefCell<SnapshotEncoder> = RefCell::new(SnapshotEncoder::new());
}

/// A payload keyed by its baseline frame's id (`None` = full).
type Encoded = (Option<u64>, Arc<[u8]>);

/// Frame ids, unique in the process: with interest management a room builds one frame per
/// view per tick, so a baseline is named by its frame, not by its tick.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// One tick of a room's replicated state and the payloads encoded from it so far.
#[derive(Debug)]
pub struct TickFrame {
    /// Unique per frame (the cache key of the payloads encoded against it).
    id: u64,
    tick: Tick,
    /// The state; a view's is cut from its whole frame by the first thread that needs it.
    snapshot: OnceLock<Snapshot>,
    /// A view not cut yet: the tick's whole frame and the rows of it the view holds.
    source: Mutex<Option<(Arc<TickFrame>, Vec<usize>)>>,
    /// The game's component schema (what the snapshot is encoded with).
    schema: &'static Schema,
    /// Encoded payloads by baseline frame (`None` = full). Locked only to look up or to encode
    /// once; a handful of entries per tick.
    encoded: Mutex<Vec<Encoded>>,
}

impl TickFrame {
    /// Wraps a snapshot of a game with this component `schema`.
    pub fn new(snapshot: Snapshot, schema: &'static Schema) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let tick = snapshot.tick();
        Self {
            id,
            tick,
            snapshot: OnceLock::from(snapshot),
            source: Mutex::new(None),
            schema,
            encoded: Mutex::new(Vec::new()),
        }
    }

    /// A view of `full` (interest management): the entities of its `rows`. Cutting its
    /// snapshot is left to the first thread that needs it (a session's writer, most often), so
    /// that a room's tick does not copy every view.
    pub fn view(full: Arc<TickFrame>, rows: Vec<usize>) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            tick: full.tick,
            snapshot: OnceLock::new(),
            schema: full.schema,
            source: Mutex::new(Some((full, rows))),
            encoded: Mutex::new(Vec::new()),
        }
    }

    /// The frame's tick.
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// The replicated state.
    pub fn snapshot(&self) -> &Snapshot {
        self.snapshot.get_or_init(|| match self.source.lock().take() {
            Some((full, rows)) => tickwire_sim::interest::cut(full.snapshot(), self.schema, rows),
            // invariant: a frame is built with its snapshot or with a source.
            None => Snapshot::empty(self.schema, self.tick),
        })
    }

    /// The payload of this frame as a delta against `baseline` (or full), encoding it only if no
    /// other client asked for the same baseline before. Returns the payload, the baseline tick
    /// actually used, and whether this call encoded.
    pub fn payload(&self, baseline: Option<&TickFrame>) -> (Arc<[u8]>, Option<Tick>, bool) {
        // A baseline must be strictly older; anything else (cannot happen with increasing ticks)
        // falls back to a full snapshot.
        let baseline = baseline.filter(|b| self.tick().is_newer_than(b.tick()));
        let key = baseline.map(|b| b.id);
        let tick = baseline.map(TickFrame::tick);
        let mut cache = self.encoded.lock();
        if let Some((_, bytes)) = cache.iter().find(|(k, _)| *k == key) {
            return (bytes.clone(), tick, false);
        }
        let bytes = ENCODER.with(|e| {
            e.borrow_mut().encode(self.schema, baseline.map(TickFrame::snapshot), self.snapshot())
        });
        let bytes: Arc<[u8]> = bytes.into();
        cache.push((key, bytes.clone()));
        (bytes, tick, true)
    }
}
