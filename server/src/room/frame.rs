//! [`TickFrame`]: one tick's snapshot, shared by every client of a room, with its encodings.
//!
//! The room builds one frame per tick and hands an `Arc` to each client's outbox. A session's
//! writer asks the frame for the payload against the last frame it actually sent on its socket;
//! the first writer to ask for a given baseline encodes it, and every other writer with that
//! baseline gets the same bytes. Healthy clients all have the previous tick as baseline, so a
//! tick costs one delta encode (plus one full encode per tick in which someone joins), whatever
//! the number of clients. With interest management there is one frame per view (or per chunk,
//! for clients that read views as chunks: [`super::chunks`]), and a baseline is the frame a
//! client last received (of its view, or chunk, then): encodings are keyed by the baseline
//! frame's id, so clients that share a view and a baseline share bytes.
//!
//! **A view is never copied out.** Its frame holds the tick's whole frame and the rows of it
//! the view sees, sorted by the first writer that needs them; the encoder reads those rows in
//! place ([`Subset`]), and the bytes are those of the view's own snapshot
//! ([`TickFrame::snapshot`], cut only when asked for).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tickwire_protocol::snapshot::Subset;
use tickwire_protocol::{Schema, Snapshot, SnapshotEncoder, Tick};

thread_local! {
    /// Encoder scratch buffers and the buffer payloads are written into (then copied to their
    /// shared allocation), one per worker thread.
    static ENCODER: RefCell<(SnapshotEncoder, Vec<u8>)> = RefCell::default();
}

/// A payload keyed by its baseline frame's id (`None` = full).
type Encoded = (Option<u64>, Arc<[u8]>);

/// Frame ids, unique in the process: with interest management a room builds one frame per
/// view per tick, so a baseline is named by its frame, not by its tick.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What a frame holds: a whole world, or a view of one.
#[derive(Debug)]
enum State {
    Whole(Snapshot),
    View {
        /// The tick's whole frame.
        full: Arc<TickFrame>,
        /// The rows of it the view sees, as the room listed them; taken to be sorted.
        unsorted: Mutex<Vec<usize>>,
        /// The same rows, ascending: set by the first thread that needs them.
        rows: OnceLock<Vec<usize>>,
        /// The view as a snapshot of its own, cut when someone asks for it.
        cut: OnceLock<Snapshot>,
    },
}

/// One tick of a room's replicated state and the payloads encoded from it so far.
#[derive(Debug)]
pub struct TickFrame {
    /// Unique per frame (the cache key of the payloads encoded against it).
    id: u64,
    tick: Tick,
    state: State,
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
        Self { id, tick, state: State::Whole(snapshot), schema, encoded: Mutex::new(Vec::new()) }
    }

    /// A view of `full` (interest management): the entities of its `rows` (distinct rows of
    /// `full`, in any order). Sorting them is left to the first thread that needs them (a
    /// session's writer, most often), so that a room's tick does not sort every view.
    pub fn view(full: Arc<TickFrame>, rows: Vec<usize>) -> Self {
        let (tick, schema) = (full.tick, full.schema);
        let unsorted = Mutex::new(rows);
        let state = State::View { full, unsorted, rows: OnceLock::new(), cut: OnceLock::new() };
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Self { id, tick, state, schema, encoded: Mutex::new(Vec::new()) }
    }

    /// The frame's tick.
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// The replicated state (a view's is cut from its whole frame the first time).
    pub fn snapshot(&self) -> &Snapshot {
        match &self.state {
            State::Whole(snapshot) => snapshot,
            State::View { cut, .. } => cut.get_or_init(|| self.subset().to_snapshot()),
        }
    }

    /// The state as the encoder reads it: the whole snapshot, or the view's rows of it.
    fn subset(&self) -> Subset<'_> {
        match &self.state {
            State::Whole(snapshot) => Subset::all(snapshot),
            State::View { full, unsorted, rows, .. } => {
                let rows = rows.get_or_init(|| {
                    let mut rows = std::mem::take(&mut *unsorted.lock());
                    rows.sort_unstable();
                    rows
                });
                // invariant: distinct rows of `full` (`view`'s contract), now sorted. Were they
                // not, the view would show nothing rather than the whole world.
                let full = full.snapshot();
                Subset::new(full, rows).unwrap_or(Subset::none(full))
            }
        }
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
        let base = baseline.map(TickFrame::subset);
        let bytes: Arc<[u8]> = encode(self.schema, base, self.subset(), |b: &[u8]| Arc::from(b));
        cache.push((key, bytes.clone()));
        (bytes, tick, true)
    }

    /// The game's component schema.
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }
}

/// Encodes `cur` as a delta against `base` (or in full) with this thread's encoder and
/// buffer, and hands the bytes to `keep` (which copies them where they are shared).
pub(super) fn encode<T>(
    schema: &Schema,
    base: Option<Subset<'_>>,
    cur: Subset<'_>,
    keep: impl FnOnce(&[u8]) -> T,
) -> T {
    ENCODER.with(|e| {
        let (encoder, buf) = &mut *e.borrow_mut();
        encoder.encode_subset_into(schema, base, cur, buf);
        keep(buf)
    })
}

#[cfg(test)]
pub(super) mod tests {
    use tickwire_protocol::schema::Replicate;
    use tickwire_protocol::{EntityId, SnapshotBuilder};
    use tickwire_sim::interest;

    use super::*;

    tickwire_protocol::component! {
        /// A point, so that rows and ticks differ.
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct Spot as "spot" {
            /// Across.
            pub x: f32 = fixed(0.0, 1023.5, 0.5),
            /// Down.
            pub y: f32 = fixed(0.0, 1023.5, 0.5),
        }
    }

    /// A schema of one component, [`Spot`] (the chunk tests use it too).
    pub(in crate::room) fn schema() -> &'static Schema {
        Box::leak(Box::new(Schema::new("frame-test", &[Spot::DEF]).expect("a schema")))
    }

    /// 300 entities at `tick`, every third one moved by the tick.
    fn whole(schema: &'static Schema, tick: u32) -> Arc<TickFrame> {
        let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
        for id in 1..=300u32 {
            let moved = if id % 3 == 0 { tick as f32 } else { 0.0 };
            b.entity(EntityId(id)).set(0, &Spot { x: id as f32 + moved, y: moved });
        }
        Arc::new(TickFrame::new(b.finish().expect("unique ids"), schema))
    }

    /// Views of different sizes, rows in no order.
    fn rows(tick: u32) -> Vec<Vec<usize>> {
        let shift = tick as usize % 7;
        vec![
            (0..300).rev().step_by(2).collect(),
            (shift..40 + shift).collect(),
            (0..300).filter(|r| r % 5 == shift % 5).collect(),
            vec![299, 0, 150],
            vec![],
        ]
    }

    #[test]
    fn views_encode_the_bytes_of_their_cut_snapshots() {
        let schema = schema();
        let (full2, full3) = (whole(schema, 2), whole(schema, 3));
        for (r2, r3) in rows(2).into_iter().zip(rows(3)) {
            let cut2 = TickFrame::new(interest::cut(full2.snapshot(), schema, r2.clone()), schema);
            let cut3 = TickFrame::new(interest::cut(full3.snapshot(), schema, r3.clone()), schema);
            let (view2, view3) =
                (TickFrame::view(full2.clone(), r2), TickFrame::view(full3.clone(), r3));
            assert_eq!(view3.payload(Some(&view2)).0, cut3.payload(Some(&cut2)).0);
            assert_eq!(view3.payload(None).0, cut3.payload(None).0);
            // Against the whole frame of the tick before (a spectator's last frame, say).
            assert_eq!(view3.payload(Some(&full2)).0, cut3.payload(Some(&full2)).0);
            // Cut when asked for, and the same as the cut snapshot.
            assert_eq!(view2.snapshot(), cut2.snapshot());
            assert_eq!(view3.snapshot(), cut3.snapshot());
        }
    }

    #[test]
    fn payloads_are_encoded_once_per_baseline() {
        let schema = schema();
        let (full2, full3) = (whole(schema, 2), whole(schema, 3));
        let base = TickFrame::view(full2, (0..100).rev().collect());
        let view = TickFrame::view(full3, (50..150).collect());
        let (first, _, encoded) = view.payload(Some(&base));
        assert!(encoded);
        let (again, tick, encoded) = view.payload(Some(&base));
        assert!(!encoded && Arc::ptr_eq(&first, &again) && tick == Some(Tick(2)));
        assert!(view.payload(None).2, "another baseline, another encode");
    }
}
