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
        if key == ViewKey::Everything {
            return self.everyone.clone();
        }
        // The runs this view covers, then one allocation at their total size.
        let mut runs: Vec<&[usize]> = vec![&self.everywhere];
        let team = match key {
            ViewKey::Around { team, .. } | ViewKey::Nowhere { team } => team,
            ViewKey::Everything => None,
        };
        runs.extend(team.and_then(|t| self.by_team.get(&t)).map(Vec::as_slice));
        if let ViewKey::Around { centre, .. } = key {
            if self.by_cell.len() <= block_cells(grid) {
                // Fewer event cells than cells in the block: check each.
                let covered = self.by_cell.iter().filter(|(cell, _)| grid.covers(centre, **cell));
                runs.extend(covered.map(|(_, events)| events.as_slice()));
            } else {
                runs.extend(
                    block(grid, centre).filter_map(|c| self.by_cell.get(&c)).map(Vec::as_slice),
                );
            }
        }
        merge(&runs, self.everyone.len())
    }
}

/// The union, ascending, of `runs` (each ascending, disjoint, of indices below `events`), in
/// one allocation at its size. When the runs hold more indices than a bitmap of every event has
/// words, they are marked in the bitmap (on the stack up to 4,096 events) and read back in
/// order; otherwise concatenated and sorted.
fn merge(runs: &[&[usize]], events: usize) -> Vec<usize> {
    let total = runs.iter().map(|r| r.len()).sum();
    let mut out = Vec::with_capacity(total);
    match runs {
        [] => {}
        [one] => out.extend_from_slice(one),
        _ if total >= events.div_ceil(64) => {
            // On the stack for up to 4,096 events a tick: no allocation per view.
            let (mut stack, mut heap) = ([0u64; 64], Vec::new());
            let marks: &mut [u64] = match events.div_ceil(64) {
                words @ 0..=64 => &mut stack[..words],
                words => {
                    heap.resize(words, 0);
                    &mut heap
                }
            };
            for &i in runs.iter().flat_map(|r| r.iter()) {
                marks[i / 64] |= 1 << (i % 64);
            }
            for (w, &word) in marks.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    out.push(w * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                }
            }
        }
        _ => {
            runs.iter().for_each(|run| out.extend_from_slice(run));
            out.sort_unstable();
        }
    }
    out
}

/// Cells in a view's block.
fn block_cells(grid: &InterestGrid) -> usize {
    let side = 2 * usize::from(grid.radius) + 1;
    side * side
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::merge;

    proptest! {
        /// Both ways (the bitmap, when the runs are dense among `events`; the sort, when sparse)
        /// give the runs' union in order.
        #[test]
        fn merged_runs_are_their_sorted_union(owner in prop::collection::vec(0usize..5, 0..300), spread in 1usize..200) {
            // Events 0..n, each in one of 5 runs (or none: 4), the indices spread out.
            let events = owner.len() * spread;
            let runs: Vec<Vec<usize>> = (0..4)
                .map(|r| owner.iter().enumerate().filter(|&(_, &o)| o == r).map(|(i, _)| i * spread).collect())
                .collect();
            let slices: Vec<&[usize]> = runs.iter().map(Vec::as_slice).collect();
            let mut want: Vec<usize> = runs.concat();
            want.sort_unstable();
            for n in [0, 1, 2, 4] {
                let mut want_n: Vec<usize> = slices[..n].concat();
                want_n.sort_unstable();
                prop_assert_eq!(merge(&slices[..n], events), want_n);
            }
            prop_assert_eq!(merge(&slices, events), want);
        }
    }
}
