//! What a server says about itself in Redis (`{prefix}server:{id}`, written every heartbeat):
//! its [`ServerRecord`], the server's own type (`tickwire_server::fleet`, one definition for
//! the writer and the reader), and the room listing the directory merges from them
//! ([`RoomEntry`]).

use serde::{Deserialize, Serialize};
pub use tickwire_server::fleet::{ServerRecord, ServerRoom};

/// One room of `GET /rooms`: a server's room, with where to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEntry {
    /// Room name.
    pub name: String,
    /// The game it plays.
    pub game: String,
    /// Players in it.
    pub players: u64,
    /// The server holding it.
    pub server: String,
    /// Where its players connect.
    pub ws_url: String,
}

/// A server's rooms as listing entries.
pub fn room_entries(record: &ServerRecord) -> impl Iterator<Item = RoomEntry> + '_ {
    record.rooms.iter().map(|r| RoomEntry {
        name: r.name.clone(),
        game: r.game.clone(),
        players: r.players,
        server: record.id.clone(),
        ws_url: record.ws_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example_and_ignores_unknown_fields() {
        let json = r#"{"id":"gs-a","ws_url":"ws://127.0.0.2:7777/ws","http_url":"http://127.0.0.2:7777",
            "max_rooms":64,"draining":false,"games":["arena","kart","tag"],
            "rooms":[{"name":"r1","game":"arena","players":3}],"players":3,"updated_ms":1764500000000,
            "future":"field"}"#;
        let r: ServerRecord = serde_json::from_str(json).expect("parses");
        assert_eq!((r.id.as_str(), r.max_rooms, r.rooms.len()), ("gs-a", 64, 1));
        assert!(r.hosts(Some("kart")) && r.hosts(None) && !r.hosts(Some("chess")));
        let entry = room_entries(&r).next().expect("one room");
        assert_eq!((entry.server.as_str(), entry.players), ("gs-a", 3));
    }
}
