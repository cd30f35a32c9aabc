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
    /// Snapshots each bot keeps ([`Tuning::history_len`]): [`INTERPOLATING_HISTORY`] for a
    /// behaviour that reads remote entities as drawn (interpolated), else 1, and each delta is
    /// decoded in place into the newest snapshot (no copy of the world per snapshot).
    ///
    /// [`Tuning::history_len`]: tickwire_client::Tuning::history_len
    pub history: usize,
}

/// The snapshots kept by a bot that interpolates: the render time is about two ticks behind
/// the newest snapshot, more on a jittery link.
pub const INTERPOLATING_HISTORY: usize = 5;

impl<P: Predict> Clone for Players<P> {
    fn clone(&self) -> Self {
        Self {
            schema: self.schema,
            rules: self.rules.clone(),
            behaviour: self.behaviour.clone(),
            spawn: self.spawn.clone(),
            history: self.history,
        }
    }
}

impl<P: Predict> std::fmt::Debug for Players<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Players")
            .field("game", &self.schema.name())
            .field("behaviour", &self.behaviour)
            .field("history", &self.history)
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
        // Neither reads a remote entity.
        let rules = P::Rules::default();
        Some(Self { schema, rules, behaviour: behaviour.to_owned(), spawn, history: 1 })
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
            // Only a fighter reads other entities (its target, as drawn).
            let history = if b == ArenaBehaviour::Fight { INTERPOLATING_HISTORY } else { 1 };
            let rules = ArenaRules::default();
            Players { schema, rules, behaviour: behaviour.to_owned(), spawn, history }
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
            // A racer reads only its own kart.
            let rules = KartRules::default();
            Players { schema, rules, behaviour: behaviour.to_owned(), spawn, history: 1 }
        }
        _ => Players::generic(schema, behaviour)?,
    };
    Some(Players { rules, ..players })
}
