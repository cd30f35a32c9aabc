//! Interest management: which entities each client receives.
//!
//! A game turns it on by returning an [`InterestGrid`] from
//! [`Game::interest`](crate::Game::interest) and saying where its entities are
//! ([`Game::places`](crate::Game::places)): a [`Place`] per replicated entity, `Global` (seen by
//! everyone: a scoreboard), `At` a point of the world, or `Team` (seen by that team only). Each
//! client looks from a [`Viewpoint`] ([`Game::viewpoint`](crate::Game::viewpoint); by default,
//! where the entity it controls is) and sees the square block of cells `radius` cells around
//! its centre cell, every `Global` entity and its team's.
//!
//! **Views are keys, not clients.** A client's view is a [`ViewKey`]: its centre cell and team.
//! Every client with the same key sees the same entities ([`Interest::views`] gives the
//! distinct keys in use; [`Interest::rows`] lists what one sees, when asked). A server sends a
//! view either as one snapshot, encoded once per view and baseline (the encodes per tick grow
//! with the occupied centre cells and the view changes, not with the clients), or as
//! **chunks**: the tick's entities are cut into chunks, the global ones, each team's and each
//! cell's ([`Interest::chunks`]), a view is the chunks it covers ([`Interest::chunk_keys`]),
//! and each chunk is encoded once per baseline for every view that holds it.
//!
//! **Hysteresis.** An entity's cell, and a viewer's centre cell, change only once its point is
//! [`InterestGrid::hysteresis`] units past the border of its current cell, so that an entity or
//! a client wandering along a border does not flap between cells (each flap would be a despawn
//! and a spawn on the wire).
//!
//! **On the wire:** as a snapshot, an entity entering a client's view arrives as a spawn, one
//! leaving it as a despawn, in the ordinary delta snapshot (PROTOCOL.md §6.8); as chunks, a
//! cell entering the view arrives in full and one leaving it is dropped (§6.10).
//!
//! **Events** can be tied to a place or an entity ([`EventPlace`],
//! [`Ctx::emit_at`](crate::Ctx::emit_at)): such an event reaches only the clients whose view
//! covers it (and that its audience names).
//!
//! Sans-IO and deterministic: it reads places and viewpoints, and writes snapshots.

use glam::Vec2;
use serde::{Deserialize, Serialize};
use tickwire_protocol::message::ChunkKey;
use tickwire_protocol::snapshot::SnapshotBuilder;
use tickwire_protocol::{ClientId, EntityId, Schema, Snapshot};

/// Largest view radius, in cells (a 65×65 block).
pub const MAX_RADIUS: u16 = 32;

/// The grid a room's clients see the world through (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterestGrid {
    /// Side of a square cell, world units.
    pub cell: f32,
    /// Cells seen around the centre cell in each direction: 1 sees a 3×3 block.
    pub radius: u16,
    /// How far past its cell's border (world units) a point must go before its cell changes.
    pub hysteresis: f32,
}

/// Why an [`InterestGrid`] is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// The cell side is not a positive finite number.
    #[error("interest: the cell side must be positive, not {0}")]
    Cell(f32),
    /// The radius is above [`MAX_RADIUS`].
    #[error("interest: the view radius is at most {MAX_RADIUS} cells, not {0}")]
    Radius(u16),
    /// The hysteresis is negative, or not smaller than half a cell.
    #[error("interest: the hysteresis must be 0 or more and under half a cell, not {0}")]
    Hysteresis(f32),
}

impl InterestGrid {
    /// Checks the grid.
    pub fn validate(&self) -> Result<(), GridError> {
        if !(self.cell.is_finite() && self.cell > 0.0) {
            return Err(GridError::Cell(self.cell));
        }
        if self.radius > MAX_RADIUS {
            return Err(GridError::Radius(self.radius));
        }
        if !(self.hysteresis >= 0.0 && self.hysteresis < self.cell / 2.0) {
            return Err(GridError::Hysteresis(self.hysteresis));
        }
        Ok(())
    }

    /// The cell of a point (no hysteresis).
    pub fn cell_of(&self, p: Vec2) -> Cell {
        let c = |v: f32| (v / self.cell).floor().clamp(i32::MIN as f32, i32::MAX as f32) as i32;
        Cell(c(p.x), c(p.y))
    }

    /// The cell of a point that was in `current`: `current` until the point is more than the
    /// hysteresis past its border.
    pub fn cell_after(&self, current: Cell, p: Vec2) -> Cell {
        let (s, h) = (self.cell, self.hysteresis);
        let inside = |c: i32, v: f32| {
            let lo = c as f32 * s;
            v >= lo - h && v < lo + s + h
        };
        if inside(current.0, p.x) && inside(current.1, p.y) { current } else { self.cell_of(p) }
    }

    /// Whether a view centred on `centre` covers `cell`.
    pub fn covers(&self, centre: Cell, cell: Cell) -> bool {
        let r = i64::from(self.radius);
        (i64::from(cell.0) - i64::from(centre.0)).abs() <= r
            && (i64::from(cell.1) - i64::from(centre.1)).abs() <= r
    }
}

/// A cell of the grid: `(floor(x / cell), floor(y / cell))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Cell(pub i32, pub i32);

impl Cell {
    /// The key of this cell's chunk (`PROTOCOL.md` §6.10).
    pub fn key(self) -> ChunkKey {
        ChunkKey::Cell { x: self.0, y: self.1 }
    }
}

/// Where an entity is, for interest ([`Game::places`](crate::Game::places)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Place {
    /// Seen by every client (what [`Game::places`](crate::Game::places) leaves out is global).
    Global,
    /// At a point of the world: seen by the clients whose view covers its cell.
    At(Vec2),
    /// Seen by the clients of that team only, wherever they look from.
    Team(u16),
}

/// Where a client looks from ([`Game::viewpoint`](crate::Game::viewpoint)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Viewpoint {
    /// Around a point, with a team's entities.
    At {
        /// The point.
        point: Vec2,
        /// Its team, if any.
        team: Option<u16>,
    },
    /// Only the global entities and a team's (a player with no place in the world, say).
    Nowhere {
        /// Its team, if any.
        team: Option<u16>,
    },
    /// Everything (a spectator, an admin tool).
    Everything,
}

/// What a client sees, as a key: clients with the same key receive the same snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewKey {
    /// Everything.
    Everything,
    /// The block around a centre cell, with a team's entities.
    Around {
        /// The centre cell.
        centre: Cell,
        /// The team.
        team: Option<u16>,
    },
    /// The global entities and a team's.
    Nowhere {
        /// The team.
        team: Option<u16>,
    },
}

/// Where a game event happened, for interest ([`Ctx::emit_at`](crate::Ctx::emit_at)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventPlace {
    /// At a point: for the clients whose view covers its cell.
    At(Vec2),
    /// About an entity: for the clients that see it.
    Entity(EntityId),
}

/// One client's place in [`Interest::views`]: who, the entity it controls, its viewpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewer {
    /// The client.
    pub client: ClientId,
    /// Where it looks from.
    pub viewpoint: Viewpoint,
}

/// One tick's views: a key per viewer, one [`View`] per distinct key.
#[derive(Debug, Default)]
pub struct Views {
    /// Each viewer's view: an index into [`Self::views`], in the order given.
    pub of: Vec<usize>,
    /// The distinct views, in the order the viewers first used them.
    pub views: Vec<View>,
    /// Viewers whose key changed since their previous view (a new viewer counts).
    pub transitions: usize,
}

/// One distinct view of a tick: its key. Which rows of the tick's whole snapshot it holds are
/// listed when someone needs them ([`Interest::rows`], [`Interest::view_snapshot`]): a server
/// whose clients read views as chunks needs only the keys ([`Interest::chunk_keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The key.
    pub key: ViewKey,
}

/// The snapshot of `full`'s `rows` (distinct rows, any order), in id order. (A server does
/// not cut its views: it encodes their rows in place, [`tickwire_protocol::snapshot::Subset`].)
pub fn cut(full: &Snapshot, schema: &Schema, mut rows: Vec<usize>) -> Snapshot {
    rows.sort_unstable();
    let mut out = SnapshotBuilder::new(schema, full.tick(), Snapshot::default());
    out.reserve(rows.len());
    for &row in &rows {
        if let Some(e) = full.entity(row) {
            out.copy(e);
        }
    }
    // invariant: distinct rows of a valid snapshot, so ids are unique.
    out.finish().unwrap_or_else(|_| Snapshot::empty(schema, full.tick()))
}

/// Whether a view (its key and its snapshot) covers an event at `place`: the entity is in the
/// snapshot, or the point's cell is in the key's block.
pub fn covers(grid: &InterestGrid, key: ViewKey, snapshot: &Snapshot, place: EventPlace) -> bool {
    match (place, key) {
        (_, ViewKey::Everything) => true,
        (EventPlace::Entity(id), _) => snapshot.get(id).is_some(),
        (EventPlace::At(p), ViewKey::Around { centre, .. }) => grid.covers(centre, grid.cell_of(p)),
        (EventPlace::At(_), ViewKey::Nowhere { .. }) => false,
    }
}

/// Where an entity is, as the filter reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Cell(Cell),
    Team(u16),
}

/// An entity that is not global ([`Interest`]'s `entities`): where it is and, in a cell, the
/// cell's index in `Interest::cells`, found again only when it changes cells (so that indexing
/// a tick's rows hashes no cell; unused for a team).
#[derive(Debug, Clone, Copy)]
struct Placed {
    id: EntityId,
    at: Where,
    slot: usize,
}

/// A room's interest state: the cells of its entities and viewers, kept across ticks for the
/// hysteresis (see the module docs).
#[derive(Debug)]
pub struct Interest {
    grid: InterestGrid,
    /// Entities that are not global, and where, sorted by id: a tick's places and its snapshot's
    /// rows are both merged with it in one pass (no hashing of 20,000 ids twice a tick).
    entities: Vec<Placed>,
    /// The tick's places (global ones too) sorted by id, stable ([`place`](Self::place),
    /// [`place_of_entity`](Self::place_of_entity)), and the previous tick's `entities` (its
    /// buffer reused).
    sorted: Vec<(EntityId, Place)>,
    spare: Vec<Placed>,
    /// Each viewer's last key.
    viewers: Map<ClientId, ViewKey>,
    /// Scratch for [`views`](Self::views), kept for its allocations: this tick's key of each
    /// viewer (next tick's `viewers`), and each distinct key's index.
    seen: Map<ClientId, ViewKey>,
    keys: Map<ViewKey, usize>,
    /// Every cell an entity was ever in, with this tick's rows in it (cells are kept: the
    /// same ones are in use tick after tick), and the index of each in `cells`.
    cells: Vec<(Cell, Vec<usize>)>,
    cell_index: Map<Cell, usize>,
    /// Scratch: this tick's rows by team, and the global rows.
    by_team: Map<u16, Vec<usize>>,
    global: Vec<usize>,
}

impl Interest {
    /// No entities or viewers yet.
    pub fn new(grid: InterestGrid) -> Self {
        Self {
            grid,
            entities: Vec::new(),
            sorted: Vec::new(),
            spare: Vec::new(),
            viewers: Map::default(),
            seen: Map::default(),
            keys: Map::default(),
            cells: Vec::new(),
            cell_index: Map::default(),
            by_team: Map::default(),
            global: Vec::new(),
        }
    }

    /// The grid.
    pub fn grid(&self) -> &InterestGrid {
        &self.grid
    }

    /// Takes this tick's places: each listed entity's cell (with hysteresis) or team; the
    /// entities not listed are global. An entity listed twice is where its last place says.
    pub fn place(&mut self, places: &[(EntityId, Place)]) {
        let mut sorted = std::mem::take(&mut self.sorted);
        sorted.clear();
        sorted.extend_from_slice(places);
        // Stable (and fast on the few sorted runs a game's queries give): the last place of an
        // id listed twice stays last.
        sorted.sort_by_key(|&(id, _)| id);
        let mut next = std::mem::take(&mut self.spare);
        next.clear();
        let before = &self.entities;
        let mut k = 0;
        for &(id, place) in &sorted {
            while before.get(k).is_some_and(|e| e.id < id) {
                k += 1;
            }
            let was = before.get(k).filter(|e| e.id == id);
            let (at, slot) = match (place, was) {
                (Place::Global, _) => continue,
                (Place::Team(t), _) => (Where::Team(t), usize::MAX),
                (Place::At(p), Some(&Placed { at: Where::Cell(c), slot, .. })) => {
                    let now = self.grid.cell_after(c, p);
                    let slot = if now == c {
                        slot
                    } else {
                        cell_slot(&mut self.cells, &mut self.cell_index, now)
                    };
                    (Where::Cell(now), slot)
                }
                (Place::At(p), _) => {
                    let cell = self.grid.cell_of(p);
                    (Where::Cell(cell), cell_slot(&mut self.cells, &mut self.cell_index, cell))
                }
            };
            if next.last().is_some_and(|e| e.id == id) {
                next.pop();
            }
            next.push(Placed { id, at, slot });
        }
        self.spare = std::mem::replace(&mut self.entities, next);
        self.sorted = sorted;
    }

    /// The place the last [`place`](Self::place) gave `id` (the last one, if it was listed
    /// twice), global ones included; `None`: it was not listed.
    pub fn place_of_entity(&self, id: EntityId) -> Option<Place> {
        let end = self.sorted.partition_point(|(e, _)| *e <= id);
        let (e, place) = *self.sorted.get(end.checked_sub(1)?)?;
        (e == id).then_some(place)
    }

    /// Where an entity is (after the last [`place`](Self::place)); `None`: global.
    fn place_of(&self, id: EntityId) -> Option<Where> {
        let i = self.entities.binary_search_by_key(&id, |e| e.id).ok()?;
        Some(self.entities[i].at)
    }

    /// The cell an entity is in (after the last [`place`](Self::place)), if it has one.
    pub fn cell(&self, id: EntityId) -> Option<Cell> {
        let i = self.entities.binary_search_by_key(&id, |e| e.id).ok()?;
        match self.entities[i].at {
            Where::Cell(c) => Some(c),
            Where::Team(_) => None,
        }
    }

    /// Forgets a viewer (it left): its next view, if it comes back, counts as a transition.
    pub fn forget(&mut self, client: ClientId) {
        self.viewers.remove(&client);
    }

    /// The key of a viewer looking from `viewpoint` (with the centre cell's hysteresis) whose
    /// key the tick before was `before`.
    fn key(&self, before: Option<ViewKey>, viewpoint: Viewpoint) -> ViewKey {
        match viewpoint {
            Viewpoint::Everything => ViewKey::Everything,
            Viewpoint::Nowhere { team } => ViewKey::Nowhere { team },
            Viewpoint::At { point, team } => {
                let centre = match before {
                    Some(ViewKey::Around { centre, .. }) => self.grid.cell_after(centre, point),
                    _ => self.grid.cell_of(point),
                };
                ViewKey::Around { centre, team }
            }
        }
    }

    /// This tick's views of `full` (the whole world's snapshot) for `viewers`, after
    /// [`place`](Self::place). Viewers not in `viewers` are forgotten.
    pub fn views(&mut self, full: &Snapshot, viewers: &[Viewer]) -> Views {
        self.index(full);
        let mut views = Views { of: Vec::with_capacity(viewers.len()), ..Views::default() };
        // Last tick's maps, cleared, are this tick's: no map is built per tick.
        let (mut seen, mut keys) = (std::mem::take(&mut self.seen), std::mem::take(&mut self.keys));
        seen.clear();
        keys.clear();
        for v in viewers {
            let before = self.viewers.get(&v.client).copied();
            let key = self.key(before, v.viewpoint);
            if before != Some(key) {
                views.transitions += 1;
            }
            seen.insert(v.client, key);
            // A key seen first gets the next index and its view, in first-seen order.
            let index = *keys.entry(key).or_insert_with(|| {
                views.views.push(View { key });
                views.views.len() - 1
            });
            views.of.push(index);
        }
        self.seen = std::mem::replace(&mut self.viewers, seen);
        self.keys = keys;
        views
    }

    /// Sorts the rows of `full` by cell, team and global.
    fn index(&mut self, full: &Snapshot) {
        self.cells.iter_mut().for_each(|(_, rows)| rows.clear());
        self.by_team.values_mut().for_each(Vec::clear);
        self.global.clear();
        // Both sorted by id: one merge.
        let mut k = 0;
        for (row, &id) in full.ids().iter().enumerate() {
            while self.entities.get(k).is_some_and(|e| e.id < id) {
                k += 1;
            }
            match self.entities.get(k).filter(|e| e.id == id) {
                Some(&Placed { at: Where::Cell(_), slot, .. }) => self.cells[slot].1.push(row),
                Some(&Placed { at: Where::Team(t), .. }) => {
                    self.by_team.entry(t).or_default().push(row);
                }
                None => self.global.push(row),
            }
        }
    }

    /// The rows of the tick's whole snapshot (after [`views`](Self::views)) that `key` sees
    /// (`None`: all), in no order: the global rows, the team's, then each cell's of the block,
    /// each of these runs in row order. Allocated once, at its size.
    pub fn rows(&self, key: ViewKey) -> Option<Vec<usize>> {
        let mut rows = Vec::with_capacity(self.view_len(key));
        self.parts(key, |_, run| rows.extend_from_slice(run)).then_some(rows)
    }

    /// The number of entities `key` sees (after [`views`](Self::views)) without listing them;
    /// 0 for a key that sees everything.
    fn view_len(&self, key: ViewKey) -> usize {
        let mut len = 0;
        self.parts(key, |_, run| len += run.len());
        len
    }

    /// Calls `f` with each part of the world `key` sees, as a chunk key and its rows (empty
    /// for a part with no entity this tick): the global part, the team's, then each cell of the
    /// block, in ascending key order. `false` for a key that sees everything.
    fn parts(&self, key: ViewKey, mut f: impl FnMut(ChunkKey, &[usize])) -> bool {
        let team = match key {
            ViewKey::Everything => return false,
            ViewKey::Around { team, .. } | ViewKey::Nowhere { team } => team,
        };
        f(ChunkKey::Global, &self.global);
        if let Some(t) = team {
            f(ChunkKey::Team(t), self.by_team.get(&t).map_or(&[], Vec::as_slice));
        }
        if let ViewKey::Around { centre, .. } = key {
            for cell in self.block(centre) {
                f(cell.key(), self.cell_rows(cell));
            }
        }
        true
    }

    /// The snapshot of what `key` sees of `full`, this tick's whole snapshot (of `schema`).
    pub fn view_snapshot(&self, key: ViewKey, full: &Snapshot, schema: &Schema) -> Snapshot {
        match self.rows(key) {
            None => full.clone(),
            Some(rows) => cut(full, schema, rows),
        }
    }

    /// This tick's chunks (after [`views`](Self::views)), for clients that read their views as
    /// chunks (`PROTOCOL.md` §6.10): every non-empty part of the world, by ascending key,
    /// each with its rows of the tick's whole snapshot, ascending. An entity is in exactly one.
    pub fn chunks(&self) -> Vec<(ChunkKey, &[usize])> {
        let mut out = Vec::with_capacity(self.cells.len() + self.by_team.len() + 1);
        if !self.global.is_empty() {
            out.push((ChunkKey::Global, &self.global[..]));
        }
        let mut teams: Vec<_> = self.by_team.iter().filter(|(_, r)| !r.is_empty()).collect();
        teams.sort_unstable_by_key(|(t, _)| **t);
        out.extend(teams.into_iter().map(|(t, rows)| (ChunkKey::Team(*t), &rows[..])));
        let start = out.len();
        out.extend(
            self.cells.iter().filter(|(_, r)| !r.is_empty()).map(|(c, rows)| (c.key(), &rows[..])),
        );
        out[start..].sort_unstable_by_key(|(k, _)| *k);
        out
    }

    /// The keys of the non-empty chunks a view sees ([`chunks`](Self::chunks)), ascending, into
    /// `out` (cleared first): the global chunk, its team's, and the cells of its block
    /// (`Everything`: every chunk).
    pub fn chunk_keys(&self, key: ViewKey, out: &mut Vec<ChunkKey>) {
        out.clear();
        if !self.parts(key, |k, rows| out.extend((!rows.is_empty()).then_some(k))) {
            out.extend(self.chunks().into_iter().map(|(k, _)| k));
        }
    }

    /// The tick's rows in `cell`.
    fn cell_rows(&self, cell: Cell) -> &[usize] {
        self.cell_index.get(&cell).map_or(&[], |&slot| &self.cells[slot].1)
    }

    /// The cells of the block around `centre`, x then y ascending (the order of their chunk
    /// keys); cells past the edge of `i32` do not exist.
    fn block(&self, centre: Cell) -> impl Iterator<Item = Cell> {
        block(&self.grid, centre)
    }
}

/// `cell`'s index in `cells` (added to them the first time an entity is in it).
fn cell_slot(
    cells: &mut Vec<(Cell, Vec<usize>)>,
    index: &mut Map<Cell, usize>,
    cell: Cell,
) -> usize {
    *index.entry(cell).or_insert_with(|| {
        cells.push((cell, Vec::new()));
        cells.len() - 1
    })
}

/// The cells of `grid`'s block around `centre`, x then y ascending; cells past the edge of
/// `i32` do not exist.
fn block(grid: &InterestGrid, centre: Cell) -> impl Iterator<Item = Cell> {
    let r = i64::from(grid.radius);
    (-r..=r).flat_map(move |dx| {
        (-r..=r).filter_map(move |dy| {
            let x = i32::try_from(i64::from(centre.0) + dx).ok()?;
            let y = i32::try_from(i64::from(centre.1) + dy).ok()?;
            Some(Cell(x, y))
        })
    })
}

mod hash;
mod route;
#[cfg(test)]
mod tests;

use hash::Map;
pub use route::EventRoutes;
