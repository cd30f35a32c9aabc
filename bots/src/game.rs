//! Which game the bots play: asked of the server (`/games`, `/schema.json?game=NAME`), and
//! played with the game's own types when the bots were compiled with it (its schema hash must
//! match), or with [`Dynamic`] from the description alone otherwise.

use std::time::Duration;

use anyhow::{Context as _, bail};
use tickwire_client::TlsOptions;
use tickwire_protocol::game::{Dynamic, GameDescription};
use tickwire_protocol::{GameProtocol, GameSchema};

use crate::players::{GENERIC_BEHAVIOURS, Players};
use crate::scrape;

/// How the bots will play.
#[derive(Debug)]
pub enum Chosen {
    /// The arena, with its own types and plug-in behaviours.
    Arena(Players<tickwire_arena::ArenaProtocol>),
    /// Any other game, from its description.
    Dynamic(Players<Dynamic>),
}

impl Chosen {
    /// The game's name.
    pub fn game(&self) -> &'static str {
        match self {
            Chosen::Arena(p) => p.schema.name(),
            Chosen::Dynamic(p) => p.schema.name(),
        }
    }
}

/// The server's default game (from `/games`), or `arena` if it does not say.
pub async fn default_game(base: &str, tls: &TlsOptions) -> anyhow::Result<String> {
    let text = scrape::fetch(&format!("{base}/games"), tls, Duration::from_secs(5))
        .await
        .context("asking the server for its games (/games)")?;
    let json: serde_json::Value = serde_json::from_str(&text).context("/games is not JSON")?;
    let games = json["games"].as_array().context("/games has no games")?;
    let default = games.iter().find(|g| g["default"] == true).or(games.first());
    Ok(default.and_then(|g| g["name"].as_str()).unwrap_or("arena").to_owned())
}

/// The schema of a game the bots were compiled with.
pub fn compiled(name: &str) -> Option<&'static GameSchema> {
    let arena = tickwire_arena::ArenaProtocol::schema();
    (name == arena.name()).then_some(arena)
}

/// The game `name` as the server describes it (its `/schema.json?game=NAME`), with its hash
/// checked. Leaks the schema's names (once per run).
pub async fn fetch_schema(
    base: &str,
    name: &str,
    tls: &TlsOptions,
) -> anyhow::Result<&'static GameSchema> {
    let url = format!("{base}/schema.json?game={name}");
    let text = scrape::fetch(&url, tls, Duration::from_secs(5))
        .await
        .with_context(|| format!("fetching {url}"))?;
    let description: GameDescription =
        serde_json::from_str(&text).with_context(|| format!("{url} is not a game description"))?;
    let schema = GameSchema::from_description(&description)
        .with_context(|| format!("{url} describes an invalid game"))?;
    Ok(Box::leak(Box::new(schema)))
}

/// The players of game `name` doing `behaviour` (the game's default when `None`).
pub fn choose(schema: &'static GameSchema, behaviour: Option<&str>) -> anyhow::Result<Chosen> {
    let arena = tickwire_arena::ArenaProtocol::schema();
    if schema.name() == arena.name() && schema.hash() == arena.hash() {
        let behaviour = behaviour.unwrap_or("wander");
        return match crate::players::arena(behaviour) {
            Some(p) => Ok(Chosen::Arena(p)),
            None => bail!(
                "the arena's bots can be {}, {} (not `{behaviour}`)",
                crate::arena::ArenaBehaviour::NAMES.join(", "),
                GENERIC_BEHAVIOURS.join(", ")
            ),
        };
    }
    let behaviour = behaviour.unwrap_or("random");
    match Players::<Dynamic>::generic(schema, behaviour) {
        Some(p) => Ok(Chosen::Dynamic(p)),
        None => bail!(
            "game `{}` is played from its description: its bots can be {} (not `{behaviour}`)",
            schema.name(),
            GENERIC_BEHAVIOURS.join(", ")
        ),
    }
}
