//! What an operator does to a room (the admin API, [`crate::admin`]): kick a player, close the
//! room, list its players. Kept apart from the tick's work in [`super`]; the room task calls
//! these between ticks, from its command channel.

use tickwire_protocol::ClientId;
use tickwire_protocol::message::DisconnectReason;
use tickwire_sim::{Game, LeaveReason};
use tokio::time::Instant;
use tracing::info;

use super::Room;
use crate::room::PlayerView;

impl<G: Game> Room<G> {
    /// Removes player `client` for an operator: its session (if any) ends with `Kicked`, and
    /// the player cannot be resumed. Whether the room had it.
    pub fn kick(&mut self, client: ClientId) -> bool {
        let Some(i) = self.members.iter().position(|m| m.link.id == client) else {
            return false;
        };
        self.members[i].link.close(DisconnectReason::Kicked);
        self.remove(i, LeaveReason::Ended(DisconnectReason::Kicked));
        info!(room = %self.name, %client, "player kicked by an operator");
        true
    }

    /// Closes the room for an operator: every session ends with `RoomClosed` and every player
    /// is removed; the task then ends, unless the room is the persistent default room. The
    /// number of players removed.
    pub fn close(&mut self) -> usize {
        let n = self.members.len();
        self.close_all(DisconnectReason::RoomClosed);
        while !self.members.is_empty() {
            self.remove(self.members.len() - 1, LeaveReason::Ended(DisconnectReason::RoomClosed));
        }
        self.closing = !self.settings.persistent;
        info!(room = %self.name, players = n, "room closed by an operator");
        n
    }

    /// The players as the operator console shows them.
    pub(super) fn players(&self, now: Instant) -> Vec<PlayerView> {
        self.members
            .iter()
            .map(|m| PlayerView {
                client: m.link.id.0,
                name: m.name.clone(),
                state: if m.detached.is_some() { "detached" } else { "attached" },
                detached_ms: m
                    .detached
                    .map(|t| u64::try_from(now.duration_since(t).as_millis()).unwrap_or(u64::MAX)),
                rtt_ms: m.link.rtt().map(|d| d.as_secs_f64() * 1e3),
                stats: m.link.stats.snapshot(),
            })
            .collect()
    }
}
