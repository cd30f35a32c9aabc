//! What a join token says: its claims, as a backend's JWT library writes them.

use serde::{Deserialize, Deserializer, Serialize};

/// The audience a token names when the server is given none (`--auth-audience`).
pub const DEFAULT_AUDIENCE: &str = "tickwire";

/// A join token's claims (RFC 7519 names where one exists). Other claims a backend adds (`iss`,
/// its own) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `sub`: the backend's player id. The key of the one-socket-per-player policy, and what a
    /// resume is checked against.
    #[serde(rename = "sub")]
    pub player: String,
    /// The room the player may join (a room name, PROTOCOL.md §3.2).
    pub room: String,
    /// The game the player may play, when the backend binds it: a hello for another game is
    /// refused. Absent: any game the room hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game: Option<String>,
    /// `aud`: which server or fleet the token is for; it must name one of the server's
    /// `--auth-audience` values, so a token minted for another service is useless here.
    pub aud: Audience,
    /// `exp`: expiry, seconds since the Unix epoch (a fractional NumericDate is floored).
    #[serde(deserialize_with = "numeric_date")]
    pub exp: u64,
    /// `nbf`: not valid before, seconds since the Unix epoch (checked when present).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date_opt"
    )]
    pub nbf: Option<u64>,
    /// `iat`: when it was minted (informational; PyJWT and Node's jsonwebtoken add it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date_opt"
    )]
    pub iat: Option<u64>,
    /// `jti`: a unique id per token. A token is single use: its id is remembered until it
    /// expires.
    pub jti: String,
    /// `spectator`: the player joins as a **spectator**: it controls nothing, its inputs and
    /// commands are ignored, and it sees the whole world even where the game limits what
    /// players see (interest management, PROTOCOL.md §6.8). For admin tools and broadcasters.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spectator: bool,
    /// `server`: the one server of a fleet the token is for (its `--server-id`). The fleet's
    /// directory binds every token it mints to the server that holds the room, so a token
    /// for server A is refused by server B. Absent: any server that accepts the audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

impl Claims {
    /// Claims for `player` in `room`, valid from `now` (Unix seconds) for `ttl_secs`, for the
    /// default audience and any game, with a fresh random id.
    pub fn new(
        player: impl Into<String>,
        room: impl Into<String>,
        now: u64,
        ttl_secs: u64,
    ) -> Self {
        Self {
            player: player.into(),
            room: room.into(),
            game: None,
            aud: Audience::One(DEFAULT_AUDIENCE.to_owned()),
            exp: now.saturating_add(ttl_secs),
            nbf: Some(now),
            iat: Some(now),
            jti: new_token_id(),
            spectator: false,
            server: None,
        }
    }

    /// The same claims for a spectator.
    pub fn spectating(self) -> Self {
        Self { spectator: true, ..self }
    }

    /// The same claims bound to `game`.
    pub fn with_game(self, game: impl Into<String>) -> Self {
        Self { game: Some(game.into()), ..self }
    }

    /// The same claims bound to the fleet server `id` (its `--server-id`).
    pub fn for_server(self, id: impl Into<String>) -> Self {
        Self { server: Some(id.into()), ..self }
    }

    /// The same claims for audience `aud`.
    pub fn with_audience(self, aud: impl Into<String>) -> Self {
        Self { aud: Audience::One(aud.into()), ..self }
    }
}

/// The `aud` claim: one string or an array of them (RFC 7519 §4.1.3; both are common).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "fleet-eu"`.
    One(String),
    /// `"aud": ["fleet-eu", "fleet-us"]`.
    Many(Vec<String>),
}

impl Audience {
    /// Whether the token names any of `accepted`.
    pub fn names_any(&self, accepted: &[String]) -> bool {
        match self {
            Self::One(a) => accepted.contains(a),
            Self::Many(all) => all.iter().any(|a| accepted.contains(a)),
        }
    }
}

/// A fresh token id: 128 bits from the operating system's random source, as 32 hex digits.
pub fn new_token_id() -> String {
    let mut bytes = [0u8; 16];
    // invariant: the OS random source only fails on a broken system; the resume tickets rely on
    // it the same way (resume.rs).
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Latest NumericDate accepted (year 33658): beyond it a float no longer holds whole seconds.
const MAX_NUMERIC_DATE: f64 = 1e12;

/// A NumericDate: integer or fractional seconds (floored); negative, non-finite or absurd
/// values are refused.
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let secs = f64::deserialize(d)?;
    if !(0.0..=MAX_NUMERIC_DATE).contains(&secs) {
        return Err(serde::de::Error::custom("a NumericDate out of range"));
    }
    // The range check above makes the cast exact for the whole part.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(secs.floor() as u64)
}

fn numeric_date_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    numeric_date(d).map(Some)
}
