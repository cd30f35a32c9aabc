//! Choosing the candidates for a new room, and checking what a join names. Pure functions:
//! the atomic choice among candidates is the pick-and-claim script's ([`crate::store`]).

use crate::error::DirectoryError;
use crate::record::ServerRecord;

/// Longest player id, in bytes (the `sub` claim).
pub const MAX_PLAYER_LEN: usize = 64;
/// Longest game name accepted in a join, in bytes.
pub const MAX_GAME_LEN: usize = 64;

/// A server a new room may go to: its id and its room cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Server id.
    pub id: String,
    /// Its `max_rooms`.
    pub max_rooms: u64,
}

/// The servers a new room of `game` may go to: live (`records` holds only live ones),
/// not draining, hosting the game; shuffled with `seed` so that the script's tie-break (the
/// first of the least loaded) spreads rooms evenly. `Err(UnknownGame)` when no live server
/// hosts the game at all, draining or not.
pub fn candidates(
    records: &[ServerRecord],
    game: Option<&str>,
    seed: u64,
) -> Result<Vec<Candidate>, DirectoryError> {
    if let Some(g) = game
        && !records.is_empty()
        && !records.iter().any(|r| r.hosts(Some(g)))
    {
        return Err(DirectoryError::UnknownGame(g.to_owned()));
    }
    let mut out: Vec<Candidate> = records
        .iter()
        .filter(|r| !r.draining && r.hosts(game) && r.max_rooms > 0)
        .map(|r| Candidate { id: r.id.clone(), max_rooms: r.max_rooms })
        .collect();
    shuffle(&mut out, seed);
    Ok(out)
}

/// Fisher–Yates with a SplitMix64 stream: no need for a cryptographic shuffle, only an even one.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let j = (z % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Checks a room name with the servers' own rule.
pub fn check_room(room: &str) -> Result<(), DirectoryError> {
    if tickwire_protocol::message::hello::valid_room(room) {
        Ok(())
    } else {
        Err(DirectoryError::BadRoomName)
    }
}

/// Checks a player id: 1..=[`MAX_PLAYER_LEN`] bytes, no control characters.
pub fn check_player(player: &str) -> Result<(), DirectoryError> {
    if (1..=MAX_PLAYER_LEN).contains(&player.len()) && !player.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(DirectoryError::BadPlayer)
    }
}

/// Checks a game name's shape (whether a server hosts it is [`candidates`]' question).
pub fn check_game(game: &str) -> Result<(), DirectoryError> {
    if (1..=MAX_GAME_LEN).contains(&game.len()) && !game.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(DirectoryError::UnknownGame(game.chars().take(MAX_GAME_LEN).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, draining: bool, games: &[&str]) -> ServerRecord {
        ServerRecord {
            id: id.into(),
            ws_url: format!("ws://{id}/ws"),
            http_url: String::new(),
            max_rooms: 4,
            draining,
            games: games.iter().map(|g| (*g).to_owned()).collect(),
            rooms: Vec::new(),
            players: 0,
            updated_ms: 0,
        }
    }

    #[test]
    fn draining_and_other_games_are_no_candidates() {
        let records = [
            record("a", false, &["arena"]),
            record("b", true, &["arena"]),
            record("c", false, &["kart"]),
        ];
        let ids = |c: Vec<Candidate>| c.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(candidates(&records, Some("arena"), 1).expect("ok")), ["a"]);
        assert_eq!(ids(candidates(&records, Some("kart"), 1).expect("ok")), ["c"]);
        assert_eq!(candidates(&records, None, 1).expect("ok").len(), 2);
        assert_eq!(
            candidates(&records, Some("chess"), 1),
            Err(DirectoryError::UnknownGame("chess".into()))
        );
    }

    #[test]
    fn the_shuffle_puts_every_server_first_sometimes() {
        let records: Vec<_> = ["a", "b", "c"].iter().map(|id| record(id, false, &[])).collect();
        let mut firsts = std::collections::HashSet::new();
        for seed in 0..64 {
            firsts.insert(candidates(&records, None, seed).expect("ok")[0].id.clone());
        }
        assert_eq!(firsts.len(), 3);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_room("room-1").is_ok());
        assert_eq!(check_room("bad room"), Err(DirectoryError::BadRoomName));
        assert_eq!(check_room(""), Err(DirectoryError::BadRoomName));
        assert!(check_player("alice").is_ok());
        assert_eq!(check_player(""), Err(DirectoryError::BadPlayer));
        assert_eq!(check_player(&"x".repeat(65)), Err(DirectoryError::BadPlayer));
        assert_eq!(check_player("a\nb"), Err(DirectoryError::BadPlayer));
        assert!(check_game("arena").is_ok());
        assert!(check_game("").is_err());
    }
}
