//! The simulation's side of interest management ([`crate::interest`]): the game's grid, places
//! and viewpoints turned into one filtered snapshot per distinct view.

use tickwire_protocol::{ClientId, Snapshot};

use super::Simulation;
use crate::game::{Game, PlayerRef};
use crate::interest::{InterestGrid, Viewer, Viewpoint, Views};
use crate::replicate::NetId;

impl<G: Game> Simulation<G> {
    /// The interest grid, when the game turned interest management on.
    pub fn interest(&self) -> Option<&InterestGrid> {
        self.interest.as_ref().map(|i| i.grid())
    }

    /// With interest on, the interest state after this tick's [`views`](Self::views): its
    /// chunks ([`Interest::chunks`](crate::interest::Interest::chunks)) and the chunks each
    /// view covers.
    pub fn interest_state(&self) -> Option<&crate::interest::Interest> {
        self.interest.as_ref()
    }

    /// With interest on: the tick's events (by their places, in order) sorted by where they
    /// reach, after this tick's [`views`](Self::views) of `full` ([`crate::Interest::route`]).
    pub fn route_events(
        &self,
        full: &Snapshot,
        places: impl IntoIterator<Item = Option<crate::interest::EventPlace>>,
    ) -> Option<crate::interest::EventRoutes> {
        Some(self.interest.as_ref()?.route(full, places))
    }

    /// This tick's views of `full` (this tick's [`snapshot`](Self::snapshot)) for `viewers`
    /// (in order): asks the game where its entities are and where each player looks from
    /// (unless the viewer's viewpoint is given: a server's spectator sees everything), then
    /// builds one snapshot per distinct view ([`crate::Interest::views`]). `None` when
    /// interest is off (every viewer sees `full`).
    pub fn views(
        &mut self,
        full: &Snapshot,
        viewers: &[(ClientId, Option<Viewpoint>)],
    ) -> Option<Views> {
        let interest = self.interest.as_mut()?;
        self.places.clear();
        self.game.places(&self.world, &mut self.places);
        interest.place(&self.places);
        // One view of the ids for all the players (a lookup each would find the column again).
        let ids = self.world.view::<&NetId>();
        let viewers: Vec<Viewer> = viewers
            .iter()
            .map(|&(client, given)| {
                let viewpoint = match (given, self.players.get(&client)) {
                    (Some(v), _) => v,
                    (None, Some(&entity)) => {
                        let player = PlayerRef { client, entity };
                        // The place of the player's own entity (found in the sorted places, not
                        // by hashing each of them).
                        let id = ids.get(entity).map(|n| n.0);
                        let own = id.and_then(|id| interest.place_of_entity(id));
                        self.game.viewpoint(&self.world, player, own)
                    }
                    (None, None) => Viewpoint::Nowhere { team: None },
                };
                Viewer { client, viewpoint }
            })
            .collect();
        Some(interest.views(full, &viewers))
    }
}
