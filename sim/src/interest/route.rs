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
        let mut out = Vec::with_capacity(runs.iter().map(|r| r.len()).sum());
        runs.iter().for_each(|run| out.extend_from_slice(run));
        out.sort_unstable();
        out
    }
}

/// Cells in a view's block.
fn block_cells(grid: &InterestGrid) -> usize {
    let side = 2 * usize::from(grid.radius) + 1;
    side * side
}
