//! Spectators: members that control nothing (a join token's `spectator` claim).
//!
//! A spectator is a member of the room without a player in the game: joining, leaving, dropping
//! and resuming make no call into the simulation (so a recording of the room does not see
//! them), its inputs and commands are taken and ignored, it is not in the roster the players
//! get and no `Joined`/`Left` is broadcast for it. It receives the snapshots and the events to
//! everyone, and with interest management it sees the whole world
//! ([`Viewpoint::Everything`](tickwire_sim::Viewpoint::Everything)). Its welcome names
//! [`SPECTATOR_ENTITY`], an id no snapshot holds. It counts against `--max-players`.

use std::sync::Arc;

use tickwire_protocol::EntityId;
use tickwire_protocol::message::{RejectReason, Welcome};
use tickwire_sim::Game;
use tracing::debug;

use super::{Member, Room};
use crate::room::ClientLink;

/// The entity a spectator's welcome names: never replicated.
pub const SPECTATOR_ENTITY: EntityId = EntityId(u32::MAX);

impl<G: Game> Room<G> {
    /// Adds a spectator (see the module docs), or says why not.
    pub fn watch(
        &mut self,
        name: String,
        account: Option<String>,
        link: Arc<ClientLink>,
    ) -> Result<Welcome, RejectReason> {
        self.has_room_for(&link)?;
        self.send_roster(&link, None);
        let welcome = self.welcome(link.id, SPECTATOR_ENTITY, false);
        let member = Member {
            link,
            entity: hecs::Entity::DANGLING,
            id: SPECTATOR_ENTITY,
            name,
            last_input: None,
            detached: None,
            spectator: true,
        };
        self.insert(member);
        self.info.players.store(self.members.len(), std::sync::atomic::Ordering::Relaxed);
        debug!(room = %self.name, client = %welcome.client_id, ?account, "spectator joined");
        Ok(welcome)
    }
}
