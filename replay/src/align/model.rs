//! What `align` knows of a game's prediction: its [`Predict`] implementation, erased behind
//! [`PredictModel`], found by name in [`Models`].
//!
//! Two uses. The server's state of the client's entity at **every** re-simulated tick, in the
//! JSON shape the client logs ([`Predict::state_json`]), not only at the ticks whose snapshot
//! the client received. And the **counterfactual** that tells a rules mismatch from the world's
//! doing: the game's own [`Predict::step`], with the rules from the recorded config, stepped
//! from the server's state at the prediction's base over the inputs the server consumed. If it
//! lands on the server's state, the step explains the server and the client's prediction is
//! what differs (its rules or its code); if not, something besides the entity's own input acted
//! on it in the world's step (another entity: a collision, a hit).

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde_json::Value;
use tickwire_protocol::game::GameProtocol;
use tickwire_protocol::{EntityId, Snapshot};
use tickwire_sim::Predict;

/// A game's prediction, its types erased (see the module docs).
pub trait PredictModel: Send + Sync {
    /// The entity's state in `snapshot`, as the client logs it; `None` when not predictable.
    fn state(&self, snapshot: &Snapshot, entity: EntityId) -> Option<Value>;

    /// The game's step from the entity's state in `base`, over `inputs` (each tick's consumed
    /// payload; `None`: the server had no input), with the rules of the recorded `config`;
    /// `None` when the state, the rules or an input cannot be read.
    fn step(
        &self,
        config: &str,
        tick_rate: u16,
        base: &Snapshot,
        entity: EntityId,
        inputs: &[Option<&[u8]>],
    ) -> Option<Value>;
}

/// [`PredictModel`] of protocol `P`.
struct Typed<P>(PhantomData<fn() -> P>);

impl<P: Predict + GameProtocol> Typed<P> {
    fn read(snapshot: &Snapshot, entity: EntityId) -> Option<P::State> {
        P::read_state(P::schema().components(), snapshot.get(entity)?)
    }
}

impl<P: Predict + GameProtocol> PredictModel for Typed<P> {
    fn state(&self, snapshot: &Snapshot, entity: EntityId) -> Option<Value> {
        Self::read(snapshot, entity).as_ref().map(P::state_json)
    }

    fn step(
        &self,
        config: &str,
        tick_rate: u16,
        base: &Snapshot,
        entity: EntityId,
        inputs: &[Option<&[u8]>],
    ) -> Option<Value> {
        let config: Value = serde_json::from_str(config).ok()?;
        let rules = P::rules_from_config(&config).ok()?;
        let mut state = Self::read(base, entity)?;
        for payload in inputs {
            state = match payload {
                Some(p) => P::step(&rules, &state, &P::schema().decode_input(p).ok()?, tick_rate),
                None => P::step_without_input(&rules, &state, tick_rate),
            };
        }
        Some(P::state_json(&state))
    }
}

/// The games whose prediction `align` knows, by name.
#[derive(Default)]
pub struct Models {
    models: BTreeMap<&'static str, Box<dyn PredictModel>>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.models.keys()).finish()
    }
}

impl Models {
    /// The built-in games that predict: arena and kart (tag predicts nothing).
    pub fn builtin() -> Self {
        let mut m = Self::default();
        m.register::<tickwire_arena::ArenaProtocol>().register::<tickwire_kart::KartProtocol>();
        m
    }

    /// Adds protocol `P` under its name.
    pub fn register<P: Predict + GameProtocol>(&mut self) -> &mut Self {
        self.models.insert(P::NAME, Box::new(Typed::<P>(PhantomData)));
        self
    }

    /// The model of game `name`.
    pub fn get(&self, name: &str) -> Option<&dyn PredictModel> {
        self.models.get(name).map(|m| &**m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_arena::{Arena, ArenaConfig, ArenaInput};
    use tickwire_sim::{Game, Playtest};

    #[test]
    fn the_arena_step_from_a_snapshot_matches_the_played_one() {
        let mut config = ArenaConfig::default();
        config.npcs.count = 0;
        let mut play = Playtest::<Arena>::new(&config, 5).expect("config");
        let me = play.join("me").expect("joins");
        let entity = play.entity_id(me);
        let base = play.snapshot();
        let schema = <<Arena as Game>::Protocol as GameProtocol>::schema();
        let input = ArenaInput::toward(tickwire_sim::glam::Vec2::new(1.0, 0.5));
        let payloads: Vec<Vec<u8>> = (0..5).map(|_| schema.encode_input(&input)).collect();
        for _ in 0..5 {
            play.step(&[(me, input)]);
        }
        let models = Models::builtin();
        let model = models.get("arena").expect("known");
        let config = serde_json::to_string(&config).expect("json");
        let inputs: Vec<Option<&[u8]>> = payloads.iter().map(|p| Some(&p[..])).collect();
        let stepped = model.step(&config, play.sim().tick_rate(), &base, entity, &inputs);
        assert!(stepped.is_some());
        assert_eq!(stepped, model.state(&play.snapshot(), entity));
        assert_ne!(stepped, model.state(&base, entity), "it moved");
        assert!(models.get("tag").is_none(), "tag predicts nothing");
    }
}
