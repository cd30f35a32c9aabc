//! [`Predict`]: what a client needs to predict the entity it controls with the game's own step.
//!
//! A predicting client applies each input it sends at once, with the same function the server
//! steps that entity with, and replays the inputs the server has not simulated yet on top of
//! every snapshot (`tickwire_client::predict`). The game provides the state that is predicted
//! (the controlled entity's position, say), how to read it from a snapshot, and the step. Both
//! sides must compute bit for bit the same thing: integer or grid-exact arithmetic, no
//! platform-dependent functions.

use std::fmt::Debug;

use serde::Deserialize as _;
use serde::de::DeserializeOwned;

use tickwire_protocol::Schema;
use tickwire_protocol::game::{Dynamic, Protocol};
use tickwire_protocol::snapshot::EntityRef;

/// A protocol whose controlled entity a client can predict. [`Dynamic`] implements it without
/// predicting anything (a game known only by its description has no step to run).
pub trait Predict: Protocol {
    /// What is predicted of the controlled entity.
    type State: Clone + PartialEq + Debug + Send + Sync + 'static;
    /// The game's rules the step needs (world size, speeds...), as the client knows them.
    /// They can be read from the server's `/rules.json` ([`rules_from_config`](Self::rules_from_config)).
    type Rules: Clone + Debug + Default + DeserializeOwned + Send + Sync + 'static;

    /// The controlled entity's state in a snapshot; `None` when it cannot be predicted now.
    fn read_state(schema: &Schema, entity: EntityRef<'_>) -> Option<Self::State>;

    /// One tick of `input` from `state`: exactly what the server's step does to the entity.
    fn step(
        rules: &Self::Rules,
        state: &Self::State,
        input: &Self::Input,
        tick_rate: u16,
    ) -> Self::State;

    /// How far apart two states are, for statistics (0 exactly when they are equal).
    fn distance(a: &Self::State, b: &Self::State) -> f32;

    /// The state as JSON, in the shape the game's ports to other languages read it (a web
    /// page's prediction, the parity kit's vectors) and write it (the client forensics log,
    /// `docs/client-forensics.md`): the same state gives the same JSON in every client, so a
    /// log from any of them can be compared with a server recording. `null` for a game that
    /// predicts nothing.
    fn state_json(state: &Self::State) -> serde_json::Value;

    /// One tick in which the server had **no input** for the player: after
    /// [`MAX_REPEAT_TICKS`](crate::input::MAX_REPEAT_TICKS) ticks without a frame it stops
    /// repeating the last one, and the game's `step` gets nothing for that player. By default
    /// this is the step with the input's `Default` (what a game that drives every entity with a
    /// default input when it has none does, as the kart race does); a game that leaves such an
    /// entity alone returns `state.clone()`.
    fn step_without_input(rules: &Self::Rules, state: &Self::State, tick_rate: u16) -> Self::State {
        Self::step(rules, state, &Self::Input::default(), tick_rate)
    }

    /// The rules from the game's configuration as the server serves it (the `config` of
    /// `/rules.json?game=NAME`). By default its `rules` field (the defaults when it has none),
    /// which is where the built-in games keep what their clients need; a game that keeps them
    /// elsewhere overrides this.
    ///
    /// # Errors
    /// When the configuration's rules do not deserialize as [`Rules`](Self::Rules).
    fn rules_from_config(config: &serde_json::Value) -> Result<Self::Rules, serde_json::Error> {
        match config.get("rules") {
            None | Some(serde_json::Value::Null) => Ok(Self::Rules::default()),
            Some(rules) => Self::Rules::deserialize(rules),
        }
    }
}

impl Predict for Dynamic {
    type State = ();
    type Rules = ();

    fn read_state(_schema: &Schema, _entity: EntityRef<'_>) -> Option<()> {
        None
    }

    fn step(_: &(), _: &(), _: &Self::Input, _: u16) {}

    fn distance(_: &(), _: &()) -> f32 {
        0.0
    }

    fn state_json(_: &()) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// Implements [`Predict`] for a game protocol whose clients predict nothing (their own entity
/// is drawn from snapshots like any other): `tickwire_sim::no_prediction!(MyProtocol);`.
/// Replace it with a real implementation to hide the latency of the player's own moves.
#[macro_export]
macro_rules! no_prediction {
    ($protocol:ty) => {
        impl $crate::Predict for $protocol {
            type State = ();
            type Rules = ();

            fn read_state(
                _: &$crate::__private::Schema,
                _: $crate::__private::EntityRef<'_>,
            ) -> Option<()> {
                None
            }

            fn step(_: &(), _: &(), _: &<$protocol as $crate::__private::Protocol>::Input, _: u16) {
            }

            fn distance(_: &(), _: &()) -> f32 {
                0.0
            }

            fn state_json(_: &()) -> $crate::serde_json::Value {
                $crate::serde_json::Value::Null
            }
        }
    };
}
