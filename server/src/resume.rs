//! Session resume tickets (PROTOCOL.md §1.3): which sessions can be taken back, and with what
//! secret.
//!
//! Every welcome hands the client a random 16-byte secret ([`ResumeTable::issue`]). When the
//! connection drops without a goodbye, the room keeps the player *detached* for the grace period
//! (see [`crate::room::task`]); a new connection presenting `(client_id, secret)` redeems the
//! ticket ([`ResumeTable::redeem`]), which checks it in constant time and replaces the secret in
//! the same lock, so a ticket works once. The room revokes the ticket when it removes the player
//! for good ([`ResumeTable::revoke`]).
//!
//! The table has one entry per player a room still holds (attached or detached), so it is
//! bounded by `max_rooms × max_players_per_room`. When the server requires join tokens, the
//! upgrade request of a resuming client carries `resume=<client_id>.<hex secret>` instead of
//! the (single-use, spent) token, and [`ResumeTable::check`] vouches for it before the upgrade.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use subtle::ConstantTimeEq;
use tickwire_protocol::ClientId;
use tickwire_protocol::message::{RESUME_SECRET_LEN, ResumeTicket};

/// A resume secret.
pub type Secret = [u8; RESUME_SECRET_LEN];

/// What a ticket grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The room the session is in.
    pub room: Arc<str>,
    /// The authenticated player (from the join token), if the server requires tokens.
    pub player: Option<String>,
}

#[derive(Debug)]
struct Entry {
    secret: Secret,
    grant: Grant,
}

/// The live resume tickets of a server.
#[derive(Debug, Default)]
pub struct ResumeTable {
    map: Mutex<HashMap<ClientId, Entry>>,
}

impl ResumeTable {
    /// Issues the first ticket of a new session.
    pub fn issue(&self, client: ClientId, grant: Grant) -> Secret {
        let secret = random_secret();
        self.map.lock().insert(client, Entry { secret, grant });
        secret
    }

    /// Whether `ticket` is valid now, and what it grants (does not use it up).
    pub fn check(&self, ticket: &ResumeTicket) -> Option<Grant> {
        let map = self.map.lock();
        let entry = map.get(&ticket.client_id)?;
        bool::from(entry.secret.ct_eq(&ticket.secret)).then(|| entry.grant.clone())
    }

    /// Uses up `ticket`: if valid, replaces its secret with a fresh one and returns the grant and
    /// the new secret.
    pub fn redeem(&self, ticket: &ResumeTicket) -> Option<(Grant, Secret)> {
        let mut map = self.map.lock();
        let entry = map.get_mut(&ticket.client_id)?;
        if !bool::from(entry.secret.ct_eq(&ticket.secret)) {
            return None;
        }
        entry.secret = random_secret();
        Some((entry.grant.clone(), entry.secret))
    }

    /// Forgets the session's ticket (the room removed the player).
    pub fn revoke(&self, client: ClientId) {
        self.map.lock().remove(&client);
    }

    /// The authenticated players holding a ticket: those with a place in a room, playing or
    /// detached awaiting a resume (the orchestrator's `players` list).
    pub fn players(&self) -> std::collections::BTreeSet<String> {
        self.map.lock().values().filter_map(|e| e.grant.player.clone()).collect()
    }

    /// Tickets held.
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// Whether no ticket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn random_secret() -> Secret {
    let mut secret = [0u8; RESUME_SECRET_LEN];
    // invariant: the OS random source only fails on platforms Tickwire does not run on; a
    // server that cannot get randomness must not hand out guessable secrets.
    getrandom::fill(&mut secret).expect("the operating system's random source failed");
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant { room: "lobby".into(), player: None }
    }

    #[test]
    fn a_ticket_works_once_and_only_with_its_secret() {
        let table = ResumeTable::default();
        let secret = table.issue(ClientId(7), grant());
        let ticket = ResumeTicket { client_id: ClientId(7), secret };
        let mut wrong = ticket;
        wrong.secret[15] ^= 1;
        assert_eq!(table.check(&wrong), None);
        assert_eq!(table.redeem(&wrong), None);
        assert_eq!(table.check(&ticket), Some(grant()));
        let (g, next) = table.redeem(&ticket).expect("valid ticket");
        assert_eq!(g, grant());
        assert_ne!(next, secret);
        assert_eq!(table.redeem(&ticket), None, "a used ticket is refused");
        let again = ResumeTicket { client_id: ClientId(7), secret: next };
        assert!(table.check(&again).is_some());
        table.revoke(ClientId(7));
        assert_eq!(table.check(&again), None);
        assert!(table.is_empty());
    }
}
