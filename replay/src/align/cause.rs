//! Why a prediction missed, chosen from evidence, in this order:
//!
//! 0. **A stale input.** A prediction whose base is not older than its tick was stepped from
//!    the server's state of that very tick: the client stamped the input for a tick the server
//!    had already simulated (and had the snapshot of), so the server stepped it without that
//!    input and the client stepped it twice: [`Cause::LateInput`].
//! 1. **Inputs.** Over the ticks the prediction stepped (after its base, up to the mispredicted
//!    tick), the input the client's prediction applied is compared with the one the server's
//!    step consumed (both as wire payloads). At the first tick where they differ: if the server
//!    repeated the previous input (or had none), the client's input was late or lost:
//!    [`Cause::LateInput`]; otherwise the server consumed another input than the client
//!    applied: [`Cause::InputDiffers`].
//! 2. **The step.** With the same inputs, the game's own step (the counterfactual of
//!    [`super::model`]) from the server's state at the base, with the server's rules: if it
//!    gives the server's state, the client's prediction is what differs ([`Cause::Rules`]:
//!    other rules, or a port of the step that is not the game's); if not, the world's step did
//!    something to the entity that its own step does not: [`Cause::OtherEntities`] (a collision,
//!    a hit; the events naming the entity are listed as evidence).
//! 3. Without a model of the game's prediction, the events decide: one naming the entity in
//!    the window makes it [`Cause::OtherEntities`], none [`Cause::Rules`].

use serde::Serialize;
use serde_json::Value;
use tickwire_protocol::Tick;

/// The first misprediction's cause (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cause {
    /// The server repeated the client's previous input, or had none, where the client applied
    /// its own: the input of `tick` arrived late (or never).
    LateInput {
        /// The first such tick.
        tick: Tick,
        /// Whether the server repeated the previous input (`false`: it had none at all).
        repeated: bool,
    },
    /// The server consumed another input than the client applied at `tick`.
    InputDiffers {
        /// The first such tick.
        tick: Tick,
    },
    /// Inputs match, but something besides the entity's own input acted on it in the world's
    /// step (another entity: a collision, a hit), which the prediction does not model.
    OtherEntities {
        /// Events of the window naming the entity (JSON, as `inspect` prints them).
        events: Vec<Value>,
    },
    /// Inputs match and nothing else explains the difference: the client's prediction steps
    /// with other rules, or with code that is not the game's step.
    Rules {
        /// Whether the game's own step, with the recorded config's rules, reproduces the
        /// server's state (`None`: no model of the game's prediction to try).
        step_reproduces_server: Option<bool>,
    },
}

impl Cause {
    /// A one-line explanation.
    pub fn explain(&self) -> String {
        match self {
            Self::LateInput { tick, repeated: true } => format!(
                "late input: at tick {} the server repeated the previous input (the client's \
                 arrived late or was lost) where the client had applied its own",
                tick.0
            ),
            Self::LateInput { tick, repeated: false } => format!(
                "late input: at tick {} the server had no input from the client at all (past \
                 its repeats) where the client had applied one",
                tick.0
            ),
            Self::InputDiffers { tick } => format!(
                "input differs: at tick {} the server consumed another input than the client \
                 applied",
                tick.0
            ),
            Self::OtherEntities { events } => format!(
                "other entities: the inputs match, but the world's step did something to the \
                 entity that its own step does not (a collision, a hit); {} event(s) name it",
                events.len()
            ),
            Self::Rules { step_reproduces_server: Some(true) } => "rules mismatch: the inputs \
                match and the game's own step with the server's rules gives the server's state: \
                the client predicts with other rules (or another step)"
                .to_owned(),
            Self::Rules { step_reproduces_server: _ } => "rules mismatch: the inputs match and \
                no other entity is involved, yet the state differs: the prediction's code \
                differs from the game's step"
                .to_owned(),
        }
    }
}

/// One tick of the window: what the client's prediction applied and what the server consumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputPair {
    /// The tick.
    pub tick: Tick,
    /// The client's payload, hex (`None`: it applied none).
    pub client: Option<String>,
    /// Whether the client sent it (`false`: it filled the tick in as a repeat).
    pub sent: bool,
    /// The server's consumed payload, hex (`None`: it had none).
    pub server: Option<String>,
    /// Whether the server repeated the previous input.
    pub repeated: bool,
}

impl InputPair {
    /// Whether both sides applied the same input.
    pub fn matches(&self) -> bool {
        self.client == self.server
    }
}

/// The cause when the prediction stepped a tick the server had already simulated (rule 0 of
/// the module docs): `window` is that tick alone.
pub fn from_stale(stale: bool, window: &[InputPair]) -> Option<Cause> {
    let tick = window.last().filter(|_| stale)?;
    Some(Cause::LateInput { tick: tick.tick, repeated: tick.repeated })
}

/// The cause the inputs show, if they differ somewhere (rule 1 of the module docs).
pub fn from_inputs(window: &[InputPair]) -> Option<Cause> {
    let first = window.iter().find(|p| !p.matches())?;
    Some(if first.repeated || first.server.is_none() {
        Cause::LateInput { tick: first.tick, repeated: first.repeated }
    } else {
        Cause::InputDiffers { tick: first.tick }
    })
}

/// The cause once the inputs match (rules 2 and 3 of the module docs): `reproduced` says
/// whether the game's step reproduces the server's state (`None`: no model).
pub fn from_world(reproduced: Option<bool>, events: Vec<Value>) -> Cause {
    match reproduced {
        Some(false) => Cause::OtherEntities { events },
        Some(true) => Cause::Rules { step_reproduces_server: Some(true) },
        None if !events.is_empty() => Cause::OtherEntities { events },
        None => Cause::Rules { step_reproduces_server: None },
    }
}

/// Where two states differ by more than `tolerance` (numbers) or at all (anything else): the
/// path of the first such field (`""` for the whole value), and the numeric gap if numbers.
pub fn difference(a: &Value, b: &Value, tolerance: f64) -> Option<(String, Option<f64>)> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64()?, y.as_f64()?);
            ((x - y).abs() > tolerance).then(|| (String::new(), Some((x - y).abs())))
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                let (u, v) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                if let Some((path, gap)) = difference(u, v, tolerance) {
                    let path = if path.is_empty() { k.clone() } else { format!("{k}.{path}") };
                    return Some((path, gap));
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (u, v))| {
                difference(u, v, tolerance).map(|(p, gap)| {
                    (if p.is_empty() { i.to_string() } else { format!("{i}.{p}") }, gap)
                })
            })
        }
        _ => (a != b).then(|| (String::new(), None)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pair(tick: u32, client: &str, server: Option<&str>, repeated: bool) -> InputPair {
        InputPair {
            tick: Tick(tick),
            client: Some(client.to_owned()),
            sent: true,
            server: server.map(str::to_owned),
            repeated,
        }
    }

    #[test]
    fn the_first_differing_input_decides_late_or_different() {
        let same = pair(1, "aa", Some("aa"), false);
        assert_eq!(from_inputs(std::slice::from_ref(&same)), None);
        // A repeat that happens to equal what the client applied is no cause.
        assert_eq!(from_inputs(&[pair(2, "aa", Some("aa"), true)]), None);
        let late = pair(3, "bb", Some("aa"), true);
        let other = pair(4, "cc", Some("dd"), false);
        let gone = pair(5, "cc", None, false);
        assert_eq!(
            from_inputs(&[same.clone(), late.clone(), other.clone()]),
            Some(Cause::LateInput { tick: Tick(3), repeated: true })
        );
        assert_eq!(from_inputs(&[same, other, late]), Some(Cause::InputDiffers { tick: Tick(4) }));
        assert_eq!(from_inputs(&[gone]), Some(Cause::LateInput { tick: Tick(5), repeated: false }));
    }

    #[test]
    fn a_prediction_stepped_from_its_own_tick_is_a_late_input() {
        let at = [pair(9, "aa", Some("aa"), true)];
        assert_eq!(from_stale(true, &at), Some(Cause::LateInput { tick: Tick(9), repeated: true }));
        assert_eq!(from_stale(false, &at), None);
        assert_eq!(from_stale(true, &[]), None);
    }

    #[test]
    fn with_matching_inputs_the_step_or_the_events_decide() {
        let hit = vec![json!({"event": "hit"})];
        assert_eq!(
            from_world(Some(false), hit.clone()),
            Cause::OtherEntities { events: hit.clone() }
        );
        assert_eq!(from_world(Some(false), vec![]), Cause::OtherEntities { events: vec![] });
        assert_eq!(
            from_world(Some(true), hit.clone()),
            Cause::Rules { step_reproduces_server: Some(true) }
        );
        assert_eq!(from_world(None, hit.clone()), Cause::OtherEntities { events: hit });
        assert_eq!(from_world(None, vec![]), Cause::Rules { step_reproduces_server: None });
    }

    #[test]
    fn differences_below_the_grid_do_not_count() {
        let a = json!({"x": 1.0, "y": 2.0, "alive": true});
        assert_eq!(difference(&a, &json!({"x": 1.01, "y": 2.0, "alive": true}), 0.015), None);
        assert_eq!(
            difference(&a, &json!({"x": 1.0, "y": 2.5, "alive": true}), 0.015),
            Some(("y".to_owned(), Some(0.5)))
        );
        assert_eq!(
            difference(&a, &json!({"x": 1.0, "y": 2.0, "alive": false}), 0.015),
            Some(("alive".to_owned(), None))
        );
        let missing = json!({"x": 1.0, "alive": true});
        assert_eq!(difference(&a, &missing, 0.015).map(|d| d.0), Some("y".to_owned()));
        assert_eq!(difference(&json!([1, 2]), &json!([1, 3]), 0.5).map(|d| d.0), Some("1".into()));
    }
}
