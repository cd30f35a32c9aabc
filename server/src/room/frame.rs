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
    /// Encoder scratch buffers and the buffer payloads are written into (then copied to their
    /// shared allocation), one per worker thread.
    static ENCODER: RefCell<(SnapshotEncoder, Vec<u8>)> = RefCell::default();
    /// The snapshots of dropped views, one pool per thread, to cut the next views into.
    static SPARE: RefCell<Spare> = RefCell::new(Spare::default());
}

/// Most entities the spare view snapshots of one thread hold (at the arena's 10 or so fields,
/// about 12 MiB): a big world's views of a tick and the next (about 170,000 entities at 2,000
/// clients) fit, and a room whose views grow past it allocates the excess as it did before.
const SPARE_ENTITIES: usize = 256 * 1024;

/// Snapshots of dropped views, kept for their allocations (see [`TickFrame::snapshot`]).
#[derive(Debug, Default)]
struct Spare {
    snapshots: Vec<Snapshot>,
    /// Entities held by `snapshots` (their lengths when dropped: a bound on what they hold).
    entities: usize,
}

impl Spare {
    /// A snapshot to cut a view into (what it holds does not matter).
    fn take() -> Snapshot {
        let spare = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            let snapshot = s.snapshots.pop()?;
            s.entities -= snapshot.len();
            Some(snapshot)
        });
        spare.ok().flatten().unwrap_or_default()
    }

    /// Keeps a dropped view's snapshot for a later view, unless the pool is full.
    fn give(snapshot: Snapshot) {
        // A thread being torn down has no pool left: the snapshot is freed.
        let _ = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            let entities = s.entities + snapshot.len();
            if entities <= SPARE_ENTITIES {
                s.entities = entities;
                s.snapshots.push(snapshot);
            }
        });
    }
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
    /// Whether this is a view, whose snapshot goes back to the thread's spares when dropped.
    view: bool,
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
            view: false,
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
            view: true,
            encoded: Mutex::new(Vec::new()),
        }
    }

    /// The frame's tick.
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// The replicated state. A view's is cut into the snapshot of a view dropped before on this
    /// thread, if any: no allocation once warm.
    pub fn snapshot(&self) -> &Snapshot {
        self.snapshot.get_or_init(|| match self.source.lock().take() {
            Some((full, mut rows)) => {
                let (full, spare) = (full.snapshot(), Spare::take());
                tickwire_sim::interest::cut_into(full, self.schema, &mut rows, spare)
            }
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
        let bytes: Arc<[u8]> = ENCODER.with(|e| {
            let (encoder, buf) = &mut *e.borrow_mut();
            encoder.encode_into(
                self.schema,
                baseline.map(TickFrame::snapshot),
                self.snapshot(),
                buf,
            );
            Arc::from(buf.as_slice())
        });
        cache.push((key, bytes.clone()));
        (bytes, tick, true)
    }
}

impl Drop for TickFrame {
    /// A view's snapshot goes back to this thread's spares.
    fn drop(&mut self) {
        if let Some(snapshot) = self.view.then(|| self.snapshot.take()).flatten() {
            Spare::give(snapshot);
        }
    }
}

#[cfg(test)]
mod tests {
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

    fn schema() -> &'static Schema {
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

    fn spares() -> usize {
        SPARE.with(|s| s.borrow().snapshots.len())
    }

    #[test]
    fn views_cut_into_spare_snapshots_encode_the_same_bytes_as_fresh_ones() {
        let schema = schema();
        // Views of tick 1, dropped: their snapshots are spares, dirty with tick 1's rows.
        let old = whole(schema, 1);
        let views: Vec<TickFrame> =
            rows(1).into_iter().map(|r| TickFrame::view(old.clone(), r)).collect();
        views.iter().for_each(|v| assert!(v.snapshot().len() <= 300));
        drop(views);
        assert_eq!(spares(), rows(1).len());
        let (full2, full3) = (whole(schema, 2), whole(schema, 3));
        for (r2, r3) in rows(2).into_iter().zip(rows(3)) {
            let fresh2 =
                TickFrame::new(interest::cut(full2.snapshot(), schema, r2.clone()), schema);
            let fresh3 =
                TickFrame::new(interest::cut(full3.snapshot(), schema, r3.clone()), schema);
            let (view2, view3) =
                (TickFrame::view(full2.clone(), r2), TickFrame::view(full3.clone(), r3));
            assert_eq!(view2.snapshot(), fresh2.snapshot());
            assert_eq!(view3.snapshot(), fresh3.snapshot());
            // Both were cut into spares (and go back when dropped, at the end of the loop).
            assert_eq!(spares(), rows(1).len() - 2);
            assert_eq!(view2.payload(None).0, fresh2.payload(None).0);
            assert_eq!(view3.payload(Some(&view2)).0, fresh3.payload(Some(&fresh2)).0);
        }
        assert_eq!(spares(), rows(1).len());
    }
}
