//! What a server says about itself in Redis (`{prefix}server:{id}`, written every heartbeat):
//! its [`ServerRecord`], and the room listing the directory merges from them ([`RoomEntry`]).

use serde::{Deserialize, Serialize};

/// A server's record, as the design's key schema fixes it. Fields the directory does not know
/// are ignored, missing optional ones default, so servers and directory can be upgraded apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The server's `--server-id`: the `server` claim of the tokens minted for it.
    pub id: String,
    /// Where players connect (`ws://…/ws`): handed to them with the token.
    pub ws_url: String,
    /// Its HTTP base (`/healthz`, `/metrics`).
    #[serde(default)]
    pub http_url: String,
    /// Most rooms it holds: a server with this many in its room set gets no new one.
    pub max_rooms: u64,
    /// Draining: it finishes its rooms but gets no new ones.
    #[serde(default)]
    pub draining: bool,
    /// The games it hosts.
    #[serde(default)]
    pub games: Vec<String>,
    /// Its open rooms.
    #[serde(default)]
    pub rooms: Vec<ServerRoom>,
    /// Players connected.
    #[serde(default)]
    pub players: u64,
    /// When it wrote this record (Unix ms).
    #[serde(default)]
    pub updated_ms: u64,
}

/// One open room in a server's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRoom {
    /// Room name.
    pub name: String,
    /// The game it plays.
    #[serde(default)]
    pub game: String,
    /// Players in it.
    #[serde(default)]
    pub players: u64,
}

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

impl ServerRecord {
    /// Whether it hosts `game` (any game when `None`).
    pub fn hosts(&self, game: Option<&str>) -> bool {
        game.is_none_or(|g| self.games.iter().any(|h| h == g))
    }

    /// Its rooms as listing entries.
    pub fn room_entries(&self) -> impl Iterator<Item = RoomEntry> + '_ {
        self.rooms.iter().map(|r| RoomEntry {
            name: r.name.clone(),
            game: r.game.clone(),
            players: r.players,
            server: self.id.clone(),
            ws_url: self.ws_url.clone(),
        })
    }
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
        let entry = r.room_entries().next().expect("one room");
        assert_eq!((entry.server.as_str(), entry.players), ("gs-a", 3));
    }
}
