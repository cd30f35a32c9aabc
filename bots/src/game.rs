//! Which game the bots play: asked of the server (`/games`, `/schema.json?game=NAME`), and
//! played with the game's own types and plug-in behaviours when the bots were compiled with it
//! (its schema hash must match; its prediction uses the rules of the server's
//! `/rules.json?game=NAME`), or with [`Dynamic`] from the description alone otherwise.

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::de::DeserializeOwned;
use tickwire_arena::ArenaProtocol;
use tickwire_client::TlsOptions;
use tickwire_kart::KartProtocol;
use tickwire_protocol::game::{Dynamic, GameDescription};
use tickwire_protocol::{GameProtocol, GameSchema};

use crate::arena::ArenaBehaviour;

use crate::players::{GENERIC_BEHAVIOURS, Players};
use crate::scrape;

/// How the bots will play.
#[derive(Debug)]
pub enum Chosen {
    /// The arena, with its own types and plug-in behaviours.
    Arena(Players<ArenaProtocol>),
    /// The kart race, with its own types and plug-in behaviour.
    Kart(Players<KartProtocol>),
    /// Any other game, from its description.
    Dynamic(Players<Dynamic>),
}

impl Chosen {
    /// The game's name.
    pub fn game(&self) -> &'static str {
        match self {
            Chosen::Arena(p) => p.schema.name(),
            Chosen::Kart(p) => p.schema.name(),
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
    [ArenaProtocol::schema(), KartProtocol::schema()].into_iter().find(|s| s.name() == name)
}

/// The rules game `name` is played by on this server: the `config.rules` of its
/// `/rules.json?game=NAME` (`null` if its config has none).
pub async fn fetch_rules(
    base: &str,
    name: &str,
    tls: &TlsOptions,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("{base}/rules.json?game={name}");
    let text = scrape::fetch(&url, tls, Duration::from_secs(5))
        .await
        .with_context(|| format!("fetching {url}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{url} is not JSON"))?;
    Ok(json["config"]["rules"].clone())
}

/// `rules` (from [`fetch_rules`]) as game rules; their defaults for `null`.
fn rules_of<R: DeserializeOwned + Default>(
    name: &str,
    rules: &serde_json::Value,
) -> anyhow::Result<R> {
    if rules.is_null() {
        return Ok(R::default());
    }
    serde_json::from_value(rules.clone()).with_context(|| format!("the server's {name} rules"))
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

/// The players of the game of `schema` doing `behaviour` (the game's default when `None`),
/// predicting with `rules` (from [`fetch_rules`]; only compiled games read them).
pub fn choose(
    schema: &'static GameSchema,
    behaviour: Option<&str>,
    rules: &serde_json::Value,
) -> anyhow::Result<Chosen> {
    let is = |s: &GameSchema| schema.name() == s.name() && schema.hash() == s.hash();
    let unknown = |names: &[&str], behaviour: &str| {
        anyhow::anyhow!(
            "{}'s bots can be {}, {} (not `{behaviour}`)",
            schema.name(),
            names.join(", "),
            GENERIC_BEHAVIOURS.join(", ")
        )
    };
    if is(ArenaProtocol::schema()) {
        let behaviour = behaviour.unwrap_or("wander");
        let players = crate::players::arena(behaviour, rules_of("arena", rules)?);
        return players
            .map(Chosen::Arena)
            .ok_or_else(|| unknown(&ArenaBehaviour::NAMES, behaviour));
    }
    if is(KartProtocol::schema()) {
        let behaviour = behaviour.unwrap_or("race");
        let players = crate::players::kart(behaviour, rules_of("kart", rules)?);
        return players.map(Chosen::Kart).ok_or_else(|| unknown(&crate::kart::NAMES, behaviour));
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
