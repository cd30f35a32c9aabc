//! The prediction parity kit: golden `(state, input) → state'` vectors of a game's
//! [`Predict::step`], so that a port of the step to another language (a web page's JavaScript)
//! is checked against the Rust original and cannot drift silently.
//!
//! A client predicts its own entity with the game's step; the prediction is only invisible when
//! the port computes exactly what the server does. A game crate records vectors with a
//! [`ParityRecorder`]: states taken from real play ([`ParityRecorder::play`]: a [`Playtest`]
//! room whose players send random inputs drawn from the game's input schema, extremes
//! included) and edge cases the game names ([`ParityRecorder::case`], [`ParityRecorder::walk`]).
//! Each case holds the state as JSON (in the shape the port reads), the input as its wire
//! payload (hex, and its quantized values, so the port decodes it with the SDK's schema as it
//! would a real input), the tick rate, and the next state `Predict::step` gives. The file also
//! holds the rules as JSON (what `/rules.json?game=NAME` serves as the game's rules).
//!
//! ```
//! # use tickwire_sim::parity::{ParityRecorder, Origin};
//! # use tickwire_sim::{Game, Predict};
//! # fn demo<G: Game>(config: &G::Config, rules: <G::Protocol as Predict>::Rules)
//! # -> Result<(), Box<dyn std::error::Error>>
//! # where G::Protocol: Predict + tickwire_protocol::GameProtocol,
//! #       <G::Protocol as Predict>::Rules: serde::Serialize {
//! let state_json = |_: &<G::Protocol as Predict>::State| serde_json::json!({});
//! let mut rec = ParityRecorder::<G::Protocol>::new(rules, state_json, 7)?;
//! rec.play::<G>(config, 4, 120)?; // 4 random players for 120 ticks
//! let vectors = rec.finish();
//! vectors.check_file(std::path::Path::new("parity.json"))?; // TICKWIRE_BLESS=1 writes it
//! # Ok(()) }
//! ```
//!
//! `web/test/parity.test.mjs` runs every built-in game's file against its page's port.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use tickwire_protocol::game::{GameProtocol, MessageSchema, Values};
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{ClientId, Snapshot, SnapshotEncoder, SnapshotError};

use crate::game::{Game, JoinRefusal};
use crate::playtest::Playtest;
use crate::predict::Predict;

/// Why recording or checking parity vectors failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ParityError {
    /// The rules do not serialize to JSON.
    #[error("the rules do not serialize: {0}")]
    Rules(#[source] serde_json::Error),
    /// The game's config was refused.
    #[error("the game refused its config: {0}")]
    Config(String),
    /// A player of the play-test was refused.
    #[error("player {player} was refused: {refusal:?}")]
    Join {
        /// The player's number.
        player: usize,
        /// The game's refusal.
        refusal: JoinRefusal,
    },
    /// A snapshot did not cross the wire (a codec bug).
    #[error("a snapshot did not decode: {0}")]
    Snapshot(#[from] SnapshotError),
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file holds other vectors.
    #[error("{path} differs from the game's parity vectors (TICKWIRE_BLESS=1 rewrites it)")]
    Differs {
        /// The file.
        path: String,
    },
}

/// Where a case's state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A player's entity in a play-test, read from a snapshot after the wire.
    Play,
    /// A state the game chose (walls, extremes, wrap-arounds).
    Edge,
}

/// One vector: `step(rules, state, input, tick_rate) == next`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParityCase {
    /// Where `state` comes from.
    pub origin: Origin,
    /// The tick rate the step runs at.
    pub tick_rate: u16,
    /// The state before the step, as the game's recipe writes it.
    pub state: Value,
    /// The input's wire payload, lowercase hex.
    pub input: String,
    /// The input's quantized field values in wire order (`null`: an absent optional field).
    pub values: Vec<Option<u32>>,
    /// The state after the step.
    pub next: Value,
}

/// A game's parity vectors (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParityVectors {
    /// The game's name.
    pub game: String,
    /// The game's schema hash, 16 hex digits (the payloads are this schema's).
    pub schema_hash: String,
    /// The seed the random play and inputs came from.
    pub seed: u64,
    /// The rules every case steps with, as JSON.
    pub rules: Value,
    /// The cases.
    pub cases: Vec<ParityCase>,
}

impl ParityVectors {
    /// The vectors as JSON text, one case per line (diffs stay readable).
    pub fn to_json(&self) -> String {
        let head = serde_json::json!({
            "game": self.game,
            "schema_hash": self.schema_hash,
            "seed": self.seed,
            "rules": self.rules,
        });
        let head = head.to_string();
        let cases: Vec<String> = self
            .cases
            .iter()
            // invariant: a case is JSON values, strings and integers: it always serializes.
            .map(|c| serde_json::to_string(c).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        format!("{},\"cases\":[\n{}\n]}}\n", &head[..head.len() - 1], cases.join(",\n"))
    }

    /// Checks that the file at `path` holds exactly these vectors; with the environment
    /// variable `TICKWIRE_BLESS` set, writes them there first.
    pub fn check_file(&self, path: &Path) -> Result<(), ParityError> {
        let io = |source| ParityError::Io { path: path.display().to_string(), source };
        let text = self.to_json();
        if std::env::var_os("TICKWIRE_BLESS").is_some() {
            std::fs::write(path, &text).map_err(io)?;
        }
        if std::fs::read_to_string(path).map_err(io)? != text {
            return Err(ParityError::Differs { path: path.display().to_string() });
        }
        Ok(())
    }
}

/// The `main` of a game's `<name>_parity_vectors` example: reads `WALKS SEED` from the command line
/// (200 and 1 when absent), records with `record` and prints the vectors' JSON.
pub fn print_from_args(
    record: impl FnOnce(usize, u64) -> Result<ParityVectors, ParityError>,
) -> Result<(), ParityError> {
    let args: Vec<String> = std::env::args().collect();
    let walks = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    print!("{}", record(walks, seed)?.to_json());
    Ok(())
}

/// Records a game's parity vectors (see the module docs).
pub struct ParityRecorder<P: Predict + GameProtocol> {
    /// The rules every case steps with.
    rules: P::Rules,
    /// Writes a state as the port reads it (the game's `State` need not implement `Serialize`;
    /// its JSON shape is the port's business).
    state_json: fn(&P::State) -> Value,
    /// Every random choice: inputs, how long they are held, and the play-test's seed.
    rng: Pcg32,
    /// What has been recorded.
    vectors: ParityVectors,
}

impl<P: Predict + GameProtocol> std::fmt::Debug for ParityRecorder<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParityRecorder")
            .field("game", &self.vectors.game)
            .field("cases", &self.vectors.cases.len())
            .finish()
    }
}

impl<P: Predict + GameProtocol> ParityRecorder<P> {
    /// A recorder stepping with `rules`, writing states with `state_json`, drawing its random
    /// choices from `seed`.
    pub fn new(
        rules: P::Rules,
        state_json: fn(&P::State) -> Value,
        seed: u64,
    ) -> Result<Self, ParityError>
    where
        P::Rules: Serialize,
    {
        let schema = P::schema();
        let vectors = ParityVectors {
            game: schema.name().to_owned(),
            schema_hash: format!("{:016x}", schema.hash()),
            seed,
            rules: serde_json::to_value(&rules).map_err(ParityError::Rules)?,
            cases: Vec::new(),
        };
        Ok(Self { rules, state_json, rng: Pcg32::seed_from_u64(seed), vectors })
    }

    /// The rules the cases step with.
    pub fn rules(&self) -> &P::Rules {
        &self.rules
    }

    /// The recorder's random stream (for a game's own edge cases).
    pub fn rng(&mut self) -> &mut Pcg32 {
        &mut self.rng
    }

    /// Records one case from `state` and returns the next state.
    pub fn case(
        &mut self,
        origin: Origin,
        tick_rate: u16,
        state: &P::State,
        input: &P::Input,
    ) -> P::State {
        let layout = P::schema().input();
        let values = layout.values_of(input);
        let next = P::step(&self.rules, state, input, tick_rate);
        self.vectors.cases.push(ParityCase {
            origin,
            tick_rate,
            state: (self.state_json)(state),
            input: hex(&layout.encode(&values)),
            values: (0..values.len()).map(|i| values.get(i)).collect(),
            next: (self.state_json)(&next),
        });
        next
    }

    /// A random input from the game's input schema: each field uniform in its range, or at
    /// one of its extremes or its middle (the zero of a symmetric range).
    pub fn random_input(&mut self) -> P::Input {
        random_input::<P>(P::schema().input(), &mut self.rng)
    }

    /// Records `steps` chained cases from `start`, each with a random input held for a few
    /// ticks, as a player walking from an edge state would.
    pub fn walk(&mut self, tick_rate: u16, start: &P::State, steps: usize) -> P::State {
        let mut state = start.clone();
        let mut input = self.random_input();
        for _ in 0..steps {
            if self.rng.random_bool(0.3) {
                input = self.random_input();
            }
            state = self.case(Origin::Edge, tick_rate, &state, &input);
        }
        state
    }

    /// Plays game `G` headless with `players` players sending random inputs (each held for 1
    /// to 30 ticks) for `ticks` ticks, and records every player's state (read from each
    /// tick's snapshot after the wire) with the input it sends next. Returns the cases added.
    pub fn play<G>(
        &mut self,
        config: &G::Config,
        players: usize,
        ticks: u32,
    ) -> Result<usize, ParityError>
    where
        G: Game<Protocol = P>,
    {
        let before = self.vectors.cases.len();
        let tick_rate = G::tick_rate(config);
        let mut play = Playtest::<G>::new(config, self.rng.random())
            .map_err(|e| ParityError::Config(e.to_string()))?;
        let mut seats: Vec<(ClientId, P::Input, u32)> = Vec::with_capacity(players);
        for player in 0..players {
            let id = play
                .join(&format!("parity-{player}"))
                .map_err(|refusal| ParityError::Join { player, refusal })?;
            seats.push((id, P::Input::default(), 0));
        }
        for _ in 0..ticks {
            let snapshot = over_the_wire::<P>(&play.snapshot())?;
            for (id, input, hold) in &mut seats {
                if *hold == 0 {
                    *input = self.random_input();
                    *hold = self.rng.random_range(1..=30);
                }
                *hold -= 1;
                let entity = snapshot.get(play.entity_id(*id));
                let state = entity.and_then(|e| P::read_state(P::schema().components(), e));
                if let Some(state) = state {
                    self.case(Origin::Play, tick_rate, &state, input);
                }
            }
            let inputs: Vec<(ClientId, P::Input)> =
                seats.iter().map(|(id, input, _)| (*id, input.clone())).collect();
            play.step(&inputs);
        }
        Ok(self.vectors.cases.len() - before)
    }

    /// The vectors recorded.
    pub fn finish(self) -> ParityVectors {
        self.vectors
    }
}

/// A random input of `layout` (see [`ParityRecorder::random_input`]).
fn random_input<P: GameProtocol>(layout: &MessageSchema, rng: &mut Pcg32) -> P::Input {
    let mut values = Values::zeroed(layout.fields().len());
    for (i, f) in layout.fields().iter().enumerate() {
        if f.def.optional && rng.random_bool(0.3) {
            continue;
        }
        let q = match rng.random_range(0..6) {
            0 => 0,
            1 => f.max_q,
            2 => f.max_q.div_ceil(2),
            _ => rng.random_range(0..=f.max_q),
        };
        values.set(i, Some(q));
    }
    // invariant: every value is within its field's range, so the layout reads it.
    layout.read(0, &values).unwrap_or_else(|| panic!("random values of {}", layout.name()))
}

/// `snapshot` as a client decodes it (a full snapshot, through the codec).
fn over_the_wire<P: GameProtocol>(snapshot: &Snapshot) -> Result<Snapshot, SnapshotError> {
    let schema = P::schema().components();
    let bytes = SnapshotEncoder::new().encode(schema, None, snapshot);
    decode(schema, None, snapshot.tick(), &bytes, &DecodeLimits::default())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> ParityVectors {
        let case = |origin, x: i32| ParityCase {
            origin,
            tick_rate: 30,
            state: serde_json::json!({ "x": x }),
            input: "7f01".to_owned(),
            values: vec![Some(127), None],
            next: serde_json::json!({ "x": x + 1 }),
        };
        ParityVectors {
            game: "g".to_owned(),
            schema_hash: "0011223344556677".to_owned(),
            seed: 9,
            rules: serde_json::json!({ "speed": 1.5 }),
            cases: vec![case(Origin::Play, 1), case(Origin::Edge, -3)],
        }
    }

    #[test]
    fn the_json_has_a_case_per_line_and_reads_back() {
        let v = vectors();
        let text = v.to_json();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.lines().nth(1).is_some_and(|l| l.starts_with(r#"{"origin":"play""#)));
        assert_eq!(serde_json::from_str::<ParityVectors>(&text).expect("valid JSON"), v);
    }

    #[test]
    fn a_file_with_other_vectors_differs() {
        if std::env::var_os("TICKWIRE_BLESS").is_some() {
            return; // blessing rewrites the file: nothing can differ
        }
        let path =
            std::env::temp_dir().join(format!("tickwire-parity-{}.json", std::process::id()));
        let v = vectors();
        std::fs::write(&path, v.to_json()).expect("writes");
        assert!(v.check_file(&path).is_ok());
        let mut other = v.clone();
        other.cases[1].next = serde_json::json!({ "x": -1 });
        assert!(matches!(other.check_file(&path), Err(ParityError::Differs { .. })));
        std::fs::remove_file(&path).expect("removes");
        assert!(matches!(v.check_file(&path), Err(ParityError::Io { .. })));
    }
}
