//! `align`: a client forensics log (what one client sent, predicted and was told, per tick;
//! `docs/client-forensics.md`) lined up with the server's recording of its room, to find the
//! **first misprediction** and say **why**.
//!
//! The recording is re-simulated tick by tick ([`crate::resim`]); both sides number ticks
//! alike (a client stamps each input with the server tick it is for). At each tick the log
//! has a prediction for, the client's predicted state is compared with the server's state of
//! the client's entity (the entity of the log's newest header): read from the re-simulated
//! snapshot with the game's [`Predict`](tickwire_sim::Predict) ([`model`]), or, for a game
//! without a model, the state the client logged from its own snapshot. Numbers closer than
//! half the finest quantization step of the game's schema ([`grid_tolerance`]) are equal:
//! the wire cannot tell them apart.
//!
//! At the first difference, the cause is chosen from evidence ([`cause`]): the inputs the
//! prediction applied against those the server consumed (late or different), then the game's
//! own step as a counterfactual (rules, or other entities), then the events that name the
//! entity. The last [`WINDOW`] re-simulated ticks are kept for that: a prediction is never
//! older than the client's pending queue.

pub mod cause;
pub mod log;
pub mod model;

use std::collections::VecDeque;

use serde::Serialize;
use serde_json::Value;
use tickwire_protocol::game::GameSchema;
use tickwire_protocol::{EntityId, FieldCodec, Schema, Snapshot, Tick};

pub use cause::{Cause, InputPair};
pub use log::{ClientLog, Header, LogError, TickLine};
pub use model::{Models, PredictModel};

use crate::format::Input;
use crate::resim::verify::{Step, StepError, apply};
use crate::resim::{ReplayRoom, ReplayedEvent, ResimError, json};

/// Re-simulated ticks kept for the analysis of a misprediction: more than the client's pending
/// queue (128 ticks), whose oldest entry is the oldest a prediction can step from.
pub const WINDOW: usize = 160;

/// Why a log cannot be aligned with a recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlignError<E> {
    /// The log is of another game, or another version of it.
    #[error(
        "the client log is of game `{log}` (schema {log_hash}), the recording of `{recording}` (schema {recording_hash:016x})"
    )]
    OtherGame {
        /// The log's game.
        log: String,
        /// The log's schema hash, as written.
        log_hash: String,
        /// The recording's game.
        recording: String,
        /// The recording's schema hash.
        recording_hash: u64,
    },
    /// The log is of another room.
    #[error("the client log is of room `{log}`, the recording of room `{recording}`")]
    OtherRoom {
        /// The log's room.
        log: String,
        /// The recording's room.
        recording: String,
    },
    /// The recording could not be read.
    #[error("{0}")]
    Step(StepError<E>),
    /// A tick record out of sequence.
    #[error("tick {found} recorded where tick {expected} was due")]
    OutOfSequence {
        /// The tick due.
        expected: Tick,
        /// The tick recorded.
        found: Tick,
    },
    /// A record could not be replayed.
    #[error("replaying: {0}")]
    Resim(#[from] ResimError),
}

/// What an alignment found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alignment {
    /// Ticks re-simulated.
    pub ticks_replayed: u64,
    /// Tick lines in the log.
    pub log_ticks: usize,
    /// Ticks whose prediction was compared with the server's state.
    pub compared: u64,
    /// The largest difference that counts as equal.
    pub tolerance: f64,
    /// The first misprediction, if any.
    pub first: Option<Misprediction>,
}

/// The first tick the client's prediction differs from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Misprediction {
    /// The tick.
    pub tick: Tick,
    /// Its line in the log.
    pub line: usize,
    /// The client's entity.
    pub entity: EntityId,
    /// The tick of the server state the prediction was stepped from.
    pub base: Option<Tick>,
    /// What the client predicted.
    pub predicted: Value,
    /// What the server had.
    pub server: Value,
    /// The first field that differs (a path; empty: the whole state).
    pub field: String,
    /// By how much, when it is a number.
    pub gap: Option<f64>,
    /// Why.
    pub cause: Cause,
    /// The inputs of the ticks the prediction stepped: the client's against the server's.
    pub inputs: Vec<InputPair>,
    /// The game's own step over the server's inputs from the base (see [`cause`]).
    pub counterfactual: Option<Value>,
}

/// One re-simulated tick, kept for the analysis.
struct Facts {
    tick: Tick,
    snapshot: Snapshot,
    inputs: Vec<Input>,
    events: Vec<ReplayedEvent>,
}

/// What the analysis of one misprediction reads.
struct Context<'a> {
    log: &'a ClientLog,
    model: Option<&'a dyn PredictModel>,
    config: &'a str,
    tick_rate: u16,
    schema: &'static GameSchema,
    tolerance: f64,
}

/// Checks that `log` is of the recording's game and room.
pub fn check_log<E>(
    log: &ClientLog,
    game: &str,
    schema_hash: u64,
    room: &str,
) -> Result<(), AlignError<E>> {
    let h = log.header();
    if h.game != game || u64::from_str_radix(&h.schema_hash, 16).ok() != Some(schema_hash) {
        return Err(AlignError::OtherGame {
            log: h.game.clone(),
            log_hash: h.schema_hash.clone(),
            recording: game.to_owned(),
            recording_hash: schema_hash,
        });
    }
    if h.room != room {
        return Err(AlignError::OtherRoom { log: h.room.clone(), recording: room.to_owned() });
    }
    Ok(())
}

/// Re-simulates `steps` on `room` (opened from the recording's header: `config` is its game
/// config) and lines `log` up with it (see the module docs).
pub fn align<E>(
    room: &mut dyn ReplayRoom,
    steps: impl IntoIterator<Item = Result<Step, StepError<E>>>,
    log: &ClientLog,
    model: Option<&dyn PredictModel>,
    config: &str,
) -> Result<Alignment, AlignError<E>> {
    let schema = room.schema();
    let tolerance = grid_tolerance(schema.components());
    let cx = Context { log, model, config, tick_rate: room.tick_rate(), schema, tolerance };
    let mut out = Alignment {
        ticks_replayed: 0,
        log_ticks: log.ticks.len(),
        compared: 0,
        tolerance,
        first: None,
    };
    let mut ring: VecDeque<Facts> = VecDeque::with_capacity(WINDOW);
    for step in steps {
        let Step { record, .. } = step.map_err(AlignError::Step)?;
        let expected = room.tick().next();
        if record.tick != expected {
            return Err(AlignError::OutOfSequence { expected, found: record.tick });
        }
        apply(room, &record)?;
        out.ticks_replayed += 1;
        if ring.len() == WINDOW {
            ring.pop_front();
        }
        let (snapshot, events) = (room.snapshot()?, room.drain_events());
        ring.push_back(Facts { tick: record.tick, snapshot, inputs: record.inputs, events });
        let Some(line) = log.ticks.get(&record.tick.0) else { continue };
        let Some(predicted) = &line.predicted else { continue };
        let Some(facts) = ring.back() else { continue };
        let server = model.and_then(|m| m.state(&facts.snapshot, line.entity));
        let Some(server) = server.or_else(|| line.server.clone()) else { continue };
        out.compared += 1;
        if let Some((field, gap)) = cause::difference(predicted, &server, tolerance) {
            out.first = Some(analyse(&cx, &ring, line, predicted, server, field, gap));
            break;
        }
    }
    Ok(out)
}

/// Chooses the cause of the misprediction at `line` (see [`cause`]).
fn analyse(
    cx: &Context<'_>,
    ring: &VecDeque<Facts>,
    line: &TickLine,
    predicted: &Value,
    server: Value,
    field: String,
    gap: Option<f64>,
) -> Misprediction {
    let base = line.base;
    // A base not older than the tick: the client applied the tick's input after it had the
    // server's state of that tick, stepping it twice (see `cause`); the window is the tick.
    let stale = base.is_some_and(|b| !line.tick.is_newer_than(b));
    let window: Vec<&Facts> = ring
        .iter()
        .filter(|f| match base {
            _ if stale => f.tick == line.tick,
            Some(b) => f.tick.is_newer_than(b),
            None => true,
        })
        .collect();
    let inputs: Vec<InputPair> = window.iter().map(|f| pair(cx.log, f, line)).collect();
    let events: Vec<Value> = window
        .iter()
        .flat_map(|f| &f.events)
        .filter(|e| names(cx.schema, e, line.entity))
        .map(|e| json::event(cx.schema, e))
        .collect();
    let base_facts = base.and_then(|b| ring.iter().find(|f| f.tick == b));
    // (Stepping a stale prediction's base over its own tick again would mean nothing.)
    let counterfactual = cx.model.zip(base_facts).filter(|_| !stale).and_then(|(model, b)| {
        let consumed: Vec<Option<&[u8]>> =
            window.iter().map(|f| consumed(f, line).map(|i| &i.payload[..])).collect();
        model.step(cx.config, cx.tick_rate, &b.snapshot, line.entity, &consumed)
    });
    let cause = cause::from_stale(stale, &inputs).or_else(|| cause::from_inputs(&inputs));
    let cause = cause.unwrap_or_else(|| {
        let reproduced =
            counterfactual.as_ref().map(|c| cause::difference(c, &server, cx.tolerance).is_none());
        cause::from_world(reproduced, events)
    });
    Misprediction {
        tick: line.tick,
        line: line.line,
        entity: line.entity,
        base,
        predicted: predicted.clone(),
        server,
        field,
        gap,
        cause,
        inputs,
        counterfactual,
    }
}

/// The input the server consumed for the log's client at `f`'s tick.
fn consumed<'a>(f: &'a Facts, line: &TickLine) -> Option<&'a Input> {
    f.inputs.iter().find(|i| i.client == line.client)
}

/// The client's and the server's input at `f`'s tick.
fn pair(log: &ClientLog, f: &Facts, line: &TickLine) -> InputPair {
    let client = log.ticks.get(&f.tick.0);
    let server = consumed(f, line);
    InputPair {
        tick: f.tick,
        client: client.and_then(|c| c.payload.as_deref()).map(hex),
        sent: client.is_some_and(|c| c.sent),
        server: server.map(|i| hex(&i.payload)),
        repeated: server.is_some_and(|i| i.repeated),
    }
}

/// Whether an entity field of event `e` is `entity`.
fn names(schema: &GameSchema, e: &ReplayedEvent, entity: EntityId) -> bool {
    let Some(message) = schema.events().get(usize::from(e.kind)) else { return false };
    let Ok(values) = message.decode(&e.payload) else { return false };
    message
        .fields()
        .iter()
        .enumerate()
        .any(|(i, f)| matches!(f.def.codec, FieldCodec::Entity) && values.get(i) == Some(entity.0))
}

/// Half the finest step of the schema's fixed-point fields: what the wire cannot tell apart
/// (a millionth when it has none).
pub fn grid_tolerance(schema: &Schema) -> f64 {
    let finest = schema
        .fields()
        .iter()
        .filter_map(|f| match f.def.codec {
            FieldCodec::Fixed { step, .. } => Some(f64::from(step)),
            _ => None,
        })
        .fold(f64::INFINITY, f64::min);
    if finest.is_finite() { finest / 2.0 } else { 1e-6 }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
