//! Publishing a tick: the events encoded once each, and the snapshot frame and event batch each
//! member gets, through its view when the game has interest management
//! ([`tickwire_sim::interest`]).
//!
//! **Without interest** every attached member gets the tick's one frame, and every member no
//! event names gets one shared batch of events.
//!
//! **With interest** the simulation gives the distinct views in use
//! ([`Simulation::views`](tickwire_sim::Simulation::views)), and each member is shown its view
//! ([`Shows`], built when a member first needs it, once per view):
//! - to a member that reads views as snapshots, as a [`TickFrame`] of its own, shared by the
//!   members with that view; a writer encodes it against the frame it last sent (of the same
//!   view, or of the view it had before: entities that left are despawns, those that came are
//!   spawns). Encodings are cached per (frame, baseline frame), so members with the same view
//!   and the same baseline share bytes;
//! - to a member that reads chunks, as the chunks it covers ([`crate::room::chunks`]): the
//!   tick's chunks become one [`ChunkTable`](crate::room::ChunkTable), shared by every view
//!   that holds them.
//!
//! Events tied to a place or an entity go only to the members whose view covers it; batches
//! are built once per view.

use std::sync::Arc;

use tickwire_protocol::ClientId;
use tickwire_protocol::message::ChunkKey;
use tickwire_protocol::message::RoomEvent;
use tickwire_sim::interest::{EventRoutes, Interest, InterestGrid, ViewKey};
use tickwire_sim::{Audience, EventPlace, Game, Viewpoint, Views};
use tokio::time::Instant;
use tracing::debug;

use super::{Room, event_bytes};
use crate::room::chunks::{ChunkTable, ChunkedView, Shown};
use crate::room::frame::TickFrame;
use crate::room::link::{Batch, PublishOutcome, Published};

/// An encoded event waiting for the next publish.
#[derive(Debug)]
pub(crate) struct Pending {
    audience: Audience,
    place: Option<EventPlace>,
    bytes: Arc<[u8]>,
}

/// Which members a tick's events reach: by audience, and by view (the events each view
/// covers, found from the events sorted by cell: [`EventRoutes`]).
struct Delivery<'a> {
    pending: &'a [Pending],
    /// With interest: the tick's events by where they reach, the grid, and the views' keys.
    routes: Option<(EventRoutes, InterestGrid, &'a [ViewKey])>,
    /// Scratch, reused view after view: the events a view covers, and those a member gets.
    covered: Vec<usize>,
    events: Vec<Arc<[u8]>>,
}

impl Delivery<'_> {
    /// The batch for a member (`None`: one no event names) with view `view`.
    fn batch(&mut self, client: Option<ClientId>, view: usize) -> Option<Batch> {
        let reaches = |p: &&Pending| match client {
            Some(c) => p.audience.includes(c),
            None => !matches!(p.audience, Audience::Only(_)),
        };
        let pending = self.pending;
        self.events.clear();
        match &self.routes {
            Some((routes, grid, keys)) => {
                routes.for_view_into(grid, keys[view], &mut self.covered);
                let covered = self.covered.iter().map(|&i| &pending[i]);
                self.events.extend(covered.filter(reaches).map(|p| p.bytes.clone()));
            }
            None => self.events.extend(pending.iter().filter(reaches).map(|p| p.bytes.clone())),
        }
        // One allocation, the batch's (the scratch keeps its own).
        (!self.events.is_empty()).then(|| self.events.drain(..).collect())
    }
}

impl<G: Game> Room<G> {
    /// Encodes the events the game emitted, once each, for the next publish.
    pub(super) fn collect_events(&mut self) {
        let schema = self.game.schema;
        let tick = self.sim.tick();
        let any_member = !self.members.is_empty();
        for emitted in self.sim.drain_events() {
            if any_member {
                let (kind, payload) = schema.encode_event(&emitted.event);
                let bytes = event_bytes(tick, RoomEvent::Game { kind, payload });
                self.pending.push(Pending {
                    audience: emitted.audience,
                    place: emitted.place,
                    bytes,
                });
            }
        }
    }

    /// Queues one of Tickwire's room events for everyone; it goes out with the next published
    /// snapshot.
    pub(super) fn broadcast(&mut self, event: RoomEvent) {
        if !self.members.is_empty() {
            let bytes = event_bytes(self.sim.tick(), event);
            self.pending.push(Pending { audience: Audience::All, place: None, bytes });
        }
    }

    /// Hands `full` (the whole world's frame), or each member's view of it, and the tick's
    /// events to every attached member.
    pub(super) fn publish(&mut self, full: &Arc<TickFrame>) {
        let now = Instant::now();
        let pending = std::mem::take(&mut self.pending);
        // Spectators see everything; players look from where the game says.
        let mut attached = std::mem::take(&mut self.attached);
        attached.clear();
        attached.extend(
            self.members
                .iter()
                .filter(|m| m.detached.is_none())
                .map(|m| (m.link.id, m.spectator.then_some(Viewpoint::Everything))),
        );
        let views = self.sim.views(full.snapshot(), &attached);
        self.attached = attached;
        let (of, keys): (_, Vec<ViewKey>) = match views {
            Some(v) => {
                self.count_views(&v);
                (Some(v.of), v.views.iter().map(|view| view.key).collect())
            }
            None => (None, Vec::new()),
        };
        let routes = match (self.sim.interest().copied(), &of) {
            (Some(grid), Some(_)) => self
                .sim
                .route_events(full.snapshot(), pending.iter().map(|p| p.place))
                .map(|routes| (routes, grid, &keys[..])),
            _ => None,
        };
        let (covered, events) = (Vec::new(), Vec::new());
        let mut delivery = Delivery { pending: &pending, routes, covered, events };
        let mut shows = Shows::new(full, &keys);
        let interest = self.sim.interest_state().filter(|_| of.is_some());
        // Members an `Only` or `AllBut` event names get a batch of their own.
        let mut named: Vec<ClientId> = pending
            .iter()
            .filter_map(|p| match p.audience {
                Audience::Only(c) | Audience::AllBut(c) => Some(c),
                Audience::All => None,
            })
            .collect();
        named.sort_unstable();
        named.dedup();
        let mut shared: Vec<Option<Option<Batch>>> = vec![None; keys.len().max(1)];
        let members = self.members.iter().filter(|m| m.detached.is_none());
        for (i, m) in members.enumerate() {
            let view = of.as_ref().map_or(0, |of| of[i]);
            let own = named.binary_search(&m.link.id).is_ok();
            let batch = if own {
                delivery.batch(Some(m.link.id), view)
            } else {
                shared[view].get_or_insert_with(|| delivery.batch(None, view)).clone()
            };
            let shown = shows.shown(interest, view, m.link.chunks());
            let published =
                Published { shown, last_input: m.last_input, stats: m.link.stats.clone() };
            self.woken.push(m.link.clone());
            match m.link.publish(published, batch.as_ref(), now, self.settings.slow_client) {
                PublishOutcome::Queued => {}
                PublishOutcome::Superseded => {
                    self.metrics.snapshots_dropped.inc();
                }
                PublishOutcome::TooSlow => {
                    self.metrics.snapshots_dropped.inc();
                    debug!(room = %self.name, client = %m.link.id, "client too slow, disconnecting");
                }
            };
        }
        if shows.chunks.is_some() {
            let in_use = shows.in_use.iter().filter(|&&used| used).count();
            self.game.metrics.interest_chunks.observe(in_use as f64);
        }
        for &entities in shows.entities.iter().flatten() {
            self.game.metrics.interest_entities.observe(entities as f64);
        }
    }

    /// The interest metrics of one tick's views (the entities of each are counted as it is
    /// built, in [`Shows`]).
    fn count_views(&self, views: &Views) {
        let gm = &self.game.metrics;
        gm.interest_views.observe(views.views.len() as f64);
        gm.interest_transitions.inc_by(views.transitions as u64);
    }
}

/// What each member is shown this tick (built when a member first needs it, once per view):
/// the tick's whole frame (no interest, or a view of everything), its view's frame, or its view
/// as chunks ([`crate::room::chunks`]).
struct Shows<'k> {
    /// The tick's whole frame.
    full: &'k Arc<TickFrame>,
    /// The view keys of the tick (none without interest).
    keys: &'k [ViewKey],
    /// Each view's frame, once built.
    frames: Vec<Option<Arc<TickFrame>>>,
    /// The tick's chunks, once a member reads chunks.
    chunks: Option<Arc<ChunkTable>>,
    /// Which of `chunks` some view holds (the metric's chunks in use).
    in_use: Vec<bool>,
    /// Each view as chunks, once built.
    chunked: Vec<Option<Arc<ChunkedView>>>,
    /// Scratch: a view's chunk keys.
    scratch: Vec<ChunkKey>,
    /// The entities of each view, once built (the metric's entities per view; a view shown
    /// both as a frame and as chunks is counted once).
    entities: Vec<Option<usize>>,
}

impl<'k> Shows<'k> {
    fn new(full: &'k Arc<TickFrame>, keys: &'k [ViewKey]) -> Self {
        let (frames, chunked) = (vec![None; keys.len()], vec![None; keys.len()]);
        let (chunks, in_use, scratch) = (None, Vec::new(), Vec::new());
        let entities = vec![None; keys.len()];
        Self { full, keys, frames, chunks, in_use, chunked, scratch, entities }
    }

    /// What a member with view `view` is shown: as chunks when it reads them (`chunks`) and
    /// the room has views (`interest`).
    fn shown(&mut self, interest: Option<&Interest>, view: usize, chunks: bool) -> Shown {
        let Some(interest) = interest.filter(|_| view < self.keys.len()) else {
            return Shown::Frame(self.full.clone());
        };
        if chunks {
            return Shown::Chunks(self.chunked(interest, view));
        }
        let (full, entities) = (self.full, &mut self.entities[view]);
        let frame = self.frames[view].get_or_insert_with(|| match interest.rows(self.keys[view]) {
            None => {
                entities.get_or_insert(full.snapshot().len());
                full.clone()
            }
            Some(rows) => {
                entities.get_or_insert(rows.len());
                Arc::new(TickFrame::view(full.clone(), rows))
            }
        });
        Shown::Frame(frame.clone())
    }

    /// View `view` as chunks.
    fn chunked(&mut self, interest: &Interest, view: usize) -> Arc<ChunkedView> {
        if let Some(built) = &self.chunked[view] {
            return built.clone();
        }
        let full = self.full;
        let table = self
            .chunks
            .get_or_insert_with(|| Arc::new(ChunkTable::new(full.clone(), &interest.chunks())));
        self.in_use.resize(table.len(), false);
        interest.chunk_keys(self.keys[view], &mut self.scratch);
        // Both ascend, and the cells of a block's column are most often next to each other in
        // the table: look right after the last one found before searching the rest.
        let mut from = 0;
        let mut chunks = Vec::with_capacity(self.scratch.len());
        for key in &self.scratch {
            let found = match table.key(from) {
                Some(k) if k == *key => Some(from),
                _ => table.find(*key, from),
            };
            if let Some(i) = found {
                self.in_use[i] = true;
                chunks.push(i);
                from = i + 1;
            }
        }
        self.entities[view].get_or_insert(chunks.iter().map(|&i| table.entities(i)).sum());
        let built = Arc::new(ChunkedView::new(table.clone(), chunks));
        self.chunked[view] = Some(built.clone());
        built
    }
}
