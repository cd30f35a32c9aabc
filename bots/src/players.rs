//! What the bots play: a game's schema and a behaviour for each bot ([`Players`]), and the
//! catalogue of behaviours per game ([`arena`], [`kart`], [`Players::generic`]).
//!
//! Every game gets the schema-driven behaviours, with no game code: **random** ([`RandomBot`])
//! and **idle** (the game's default input every tick). A game compiled in may add its own as a
//! plug-in: the arena's **wander** and **fight** ([`crate::arena`]), kart's **race**
//! ([`crate::kart`]).

use std::sync::Arc;

use tickwire_arena::{ArenaProtocol, ArenaRules};
use tickwire_client::{InputContext, InputSource};
use tickwire_kart::{KartProtocol, KartRules};
use tickwire_protocol::{GameProtocol, GameSchema};
use tickwire_sim::Predict;

use crate::arena::{ArenaBehaviour, ArenaBot};
use crate::kart::RaceBot;
use crate::random::RandomBot;

/// Makes bot `seed`'s input source.
pub type Spawner<P> = Arc<dyn Fn(u64) -> Box<dyn InputSource<P>> + Send + Sync>;

/// A game's bots: its schema, the rules its prediction uses, and a behaviour factory.
pub struct Players<P: Predict> {
    /// The game's schema (what the hello names, what everything is encoded with).
    pub schema: &'static GameSchema,
    /// The rules the bots predict with.
    pub rules: P::Rules,
    /// The behaviour's name (for the report).
    pub behaviour: String,
    /// Makes each bot's behaviour from its seed.
    pub spawn: Spawner<P>,
}

impl<P: Predict> Clone for Players<P> {
    fn clone(&self) -> Self {
        Self {
            schema: self.schema,
            rules: self.rules.clone(),
            behaviour: self.behaviour.clone(),
            spawn: self.spawn.clone(),
        }
    }
}

impl<P: Predict> std::fmt::Debug for Players<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Players")
            .field("game", &self.schema.name())
            .field("behaviour", &self.behaviour)
            .finish_non_exhaustive()
    }
}

/// The default input every tick.
#[derive(Debug, Clone, Copy)]
struct Idle;

impl<P: Predict> InputSource<P> for Idle {
    fn sample(&mut self, _ctx: &InputContext<'_, P>) -> P::Input {
        P::Input::default()
    }
}

impl<P: Predict> Players<P> {
    /// The schema-driven behaviours any game has: `random` and `idle`.
    pub fn generic(schema: &'static GameSchema, behaviour: &str) -> Option<Self> {
        let spawn: Spawner<P> = match behaviour {
            "random" => Arc::new(move |seed| Box::new(RandomBot::<P>::new(schema, seed))),
            "idle" => Arc::new(|_| Box::new(Idle)),
            _ => return None,
        };
        Some(Self { schema, rules: P::Rules::default(), behaviour: behaviour.to_owned(), spawn })
    }
}

/// The behaviours of the schema-driven players.
pub const GENERIC_BEHAVIOURS: [&str; 2] = ["random", "idle"];

/// The arena's bots doing `behaviour` (`idle`, `wander`, `fight` or `random`), predicting with
/// `rules`.
pub fn arena(behaviour: &str, rules: ArenaRules) -> Option<Players<ArenaProtocol>> {
    let schema = ArenaProtocol::schema();
    let players = match ArenaBehaviour::named(behaviour) {
        Some(b) => {
            let spawn: Spawner<ArenaProtocol> =
                Arc::new(move |seed| Box::new(ArenaBot::new(b, seed)));
            Players { schema, rules: ArenaRules::default(), behaviour: behaviour.to_owned(), spawn }
        }
        None => Players::generic(schema, behaviour)?,
    };
    Some(Players { rules, ..players })
}

/// The kart race's bots doing `behaviour` (`race`, `random` or `idle`), predicting with `rules`.
pub fn kart(behaviour: &str, rules: KartRules) -> Option<Players<KartProtocol>> {
    let schema = KartProtocol::schema();
    let players = match behaviour {
        "race" => {
            let spawn: Spawner<KartProtocol> = Arc::new(|seed| Box::new(RaceBot::new(seed)));
            Players { schema, rules: KartRules::default(), behaviour: behaviour.to_owned(), spawn }
        }
        _ => Players::generic(schema, behaviour)?,
    };
    Some(Players { rules, ..players })
}
