//! Events by where they reach ([`EventRoutes`]): a tick's events sorted once by cell, team or
//! everywhere, so that each view finds its own from the cells of its block instead of checking
//! every event against every view.

use tickwire_protocol::Snapshot;

use super::{Cell, EventPlace, Interest, InterestGrid, Map, ViewKey, Where, block};

/// A tick's events sorted by where they reach (see the module docs). Indices are the events'
/// positions in the list given to [`Interest::route`].
#[derive(Debug, Default)]
pub struct EventRoutes {
    /// Unplaced events, and events about an entity every view sees.
    everywhere: Vec<usize>,
    by_cell: Map<Cell, Vec<usize>>,
    by_team: Map<u16, Vec<usize>>,
    /// Every event (what a view of everything receives).
    everyone: Vec<usize>,
}

impl Interest {
    /// Sorts events by where they reach: at a point, its cell; about an entity, that entity's
    /// cell or team (everywhere if the entity is global; only to a view of everything if it is
    /// not in `full`, the tick's whole snapshot); unplaced, everywhere. What [`covers`](super::covers) decides
    /// event by event, for a whole tick at once.
    pub fn route(
        &self,
        full: &Snapshot,
        places: impl IntoIterator<Item = Option<EventPlace>>,
    ) -> EventRoutes {
        let mut routes = EventRoutes::default();
        for (i, place) in places.into_iter().enumerate() {
            let at = match place {
                None => None,
                Some(EventPlace::At(p)) => Some(Where::Cell(self.grid.cell_of(p))),
                Some(EventPlace::Entity(id)) => match self.place_of(id) {
                    Some(w) => Some(w),
                    None if full.get(id).is_some() => None,
                    // About an entity no view holds: only a view of everything covers it.
                    None => {
                        routes.everyone.push(i);
                        continue;
                    }
                },
            };
            match at {
                None => routes.everywhere.push(i),
                Some(Where::Cell(c)) => routes.by_cell.entry(c).or_default().push(i),
                Some(Where::Team(t)) => routes.by_team.entry(t).or_default().push(i),
            }
            routes.everyone.push(i);
        }
        routes
    }
}

impl EventRoutes {
    /// The events a view with `key` receives, in the order they were given.
    pub fn for_view(&self, grid: &InterestGrid, key: ViewKey) -> Vec<usize> {
        let mut out = Vec::new();
        self.for_view_into(grid, key, &mut out);
        out
    }

    /// [`for_view`](Self::for_view) into `out` (cleared first), so that a room finding the
    /// events of hundreds of views a tick reuses one buffer.
    pub fn for_view_into(&self, grid: &InterestGrid, key: ViewKey, out: &mut Vec<usize>) {
        out.clear();
        if key == ViewKey::Everything {
            out.extend_from_slice(&self.everyone);
            return;
        }
        // Two passes over the runs the view covers: their sizes, then their union.
        let (mut total, mut runs) = (0, 0);
        self.covered(grid, key, |run| {
            total += run.len();
            runs += usize::from(!run.is_empty());
        });
        let events = self.everyone.len();
        match runs {
            0 => {}
            1 => self.covered(grid, key, |run| out.extend_from_slice(run)),
            _ if total >= events.div_ceil(64) => {
                // More indices than the bitmap of every event has words: marked in it (on the
                // stack up to 4,096 events a tick), then read back in order.
                let (mut stack, mut heap) = ([0u64; 64], Vec::new());
                let marks: &mut [u64] = match events.div_ceil(64) {
                    words @ 0..=64 => &mut stack[..words],
                    words => {
                        heap.resize(words, 0);
                        &mut heap
                    }
                };
                self.covered(grid, key, |run| {
                    run.iter().for_each(|&i| marks[i / 64] |= 1 << (i % 64));
                });
                out.reserve(total);
                for (w, &word) in marks.iter().enumerate() {
                    let mut bits = word;
                    while bits != 0 {
                        out.push(w * 64 + bits.trailing_zeros() as usize);
                        bits &= bits - 1;
                    }
                }
            }
            _ => {
                self.covered(grid, key, |run| out.extend_from_slice(run));
                out.sort_unstable();
            }
        }
    }

    /// Calls `f` with each run of events (ascending, disjoint) a view with `key` (not
    /// `Everything`) covers: the events everywhere, its team's, its block's cells'.
    fn covered<'r>(&'r self, grid: &InterestGrid, key: ViewKey, mut f: impl FnMut(&'r [usize])) {
        f(&self.everywhere);
        let team = match key {
            ViewKey::Around { team, .. } | ViewKey::Nowhere { team } => team,
            ViewKey::Everything => None,
        };
        if let Some(run) = team.and_then(|t| self.by_team.get(&t)) {
            f(run);
        }
        if let ViewKey::Around { centre, .. } = key {
            if self.by_cell.len() <= block_cells(grid) {
                // Fewer event cells than cells in the block: check each.
                let covered = self.by_cell.iter().filter(|(cell, _)| grid.covers(centre, **cell));
                covered.for_each(|(_, events)| f(events));
            } else {
                block(grid, centre).filter_map(|c| self.by_cell.get(&c)).for_each(|e| f(e));
            }
        }
    }
}

fn block_cells(grid: &InterestGrid) -> usize {
    let side = 2 * usize::from(grid.radius) + 1;
    side * side
}

#[cfg(test)]
mod tests {
    use glam::Vec2;
    use proptest::prelude::*;
    use tickwire_protocol::Snapshot;

    use super::super::{Cell, EventPlace, Interest, InterestGrid, ViewKey};

    proptest! {
        /// Every way a view's runs are merged (one run; few events among many: sorted; many:
        /// the bitmap) gives exactly the events the view covers, in order.
        #[test]
        fn a_view_gets_exactly_the_events_it_covers(
            cells in prop::collection::vec((0u32..10, 0u32..10), 0..300),
            everywhere in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
            centres in prop::collection::vec((-2i32..12, -2i32..12), 1..8),
            radius in 0u16..3,
        ) {
            let grid = InterestGrid { cell: 10.0, radius, hysteresis: 0.0 };
            let mut places: Vec<Option<EventPlace>> = cells
                .iter()
                .map(|&(x, y)| Some(EventPlace::At(Vec2::new(x as f32 * 10.0 + 5.0, y as f32 * 10.0 + 5.0))))
                .collect();
            if !places.is_empty() {
                everywhere.iter().for_each(|i| places[i.index(cells.len())] = None);
            }
            let routes = Interest::new(grid).route(&Snapshot::default(), places.iter().copied());
            for (x, y) in centres {
                let key = ViewKey::Around { centre: Cell(x, y), team: None };
                let want: Vec<usize> = (0..places.len())
                    .filter(|&i| match places[i] {
                        Some(EventPlace::At(p)) => grid.covers(Cell(x, y), grid.cell_of(p)),
                        _ => true,
                    })
                    .collect();
                prop_assert_eq!(routes.for_view(&grid, key), want, "{:?}", key);
            }
            let all: Vec<usize> = (0..places.len()).collect();
            prop_assert_eq!(routes.for_view(&grid, ViewKey::Everything), all);
        }
    }
}
