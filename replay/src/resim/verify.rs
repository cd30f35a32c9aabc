//! `verify`: re-simulates a recording tick by tick and finds the first divergent tick.
//!
//! It reads a recording as [`Step`]s (a [`TickRecord`]: what the room did before and during one
//! step and the snapshot's checksum; and the tick's keyframe if it has one), makes the same
//! calls to a [`ReplayRoom`], and compares:
//! - each join's outcome (the entity id, or the refusal) with the recorded one;
//! - each recorded checksum with the replayed snapshot's ([`snapshot_checksum`], the one the
//!   server computes);
//! - each recorded keyframe with the replayed snapshot, exactly.
//!
//! At the first difference it looks for a recorded state to diff against: the keyframe of that
//! tick if there is one, else it re-simulates on to the next keyframe and diffs there (and says
//! which). A checksum alone says *that* a tick diverged, not *where*.

use std::iter::Peekable;

use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{ClientId, Schema, Snapshot, SnapshotError, Tick};

use super::diff::{self, Difference};
use super::{RecordedInput, ReplayRoom, ResimError};
use crate::format::{Action, JoinOutcome, Record, TickRecord, snapshot_checksum};

/// One tick of a recording as a replay reads it: its record and, if the recording has one,
/// its keyframe, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the room did before and during the step.
    pub record: TickRecord,
    /// The recorded snapshot of the tick, if it is a keyframe.
    pub keyframe: Option<Snapshot>,
}

/// Why a recording's records do not make steps.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError<E> {
    /// The reader failed.
    #[error("reading the recording: {0}")]
    Read(E),
    /// A keyframe does not decode with the game's schema.
    #[error("keyframe of tick {tick}: {source}")]
    Keyframe {
        /// Its tick.
        tick: Tick,
        /// The decoder's error.
        source: SnapshotError,
    },
}

/// Groups a recording's records into [`Step`]s (a keyframe follows the record of its tick);
/// ends at the [`End`](crate::format::End) record or the last whole record.
pub struct Steps<I: Iterator> {
    records: Peekable<I>,
    schema: &'static Schema,
    limits: DecodeLimits,
}

impl<I: Iterator> Steps<I> {
    /// The steps of `records`, whose keyframes are snapshots of `schema`.
    pub fn new(records: I, schema: &'static Schema) -> Self {
        Self { records: records.peekable(), schema, limits: DecodeLimits::default() }
    }
}

impl<I: Iterator> std::fmt::Debug for Steps<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steps").field("schema", &self.schema.name()).finish_non_exhaustive()
    }
}

impl<I, E> Iterator for Steps<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    type Item = Result<Step, StepError<E>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.records.next()? {
                Ok(Record::Tick(r)) => r,
                // A keyframe without its tick record (the recording started between them).
                Ok(Record::Keyframe(_)) => continue,
                Ok(Record::End(_)) => return None,
                Err(e) => return Some(Err(StepError::Read(e))),
            };
            let keyframe = match self.records.peek() {
                Some(Ok(Record::Keyframe(k))) if k.tick == record.tick => {
                    let k = decode(self.schema, None, k.tick, &k.payload, &self.limits)
                        .map_err(|source| StepError::Keyframe { tick: record.tick, source });
                    self.records.next();
                    match k {
                        Ok(k) => Some(k),
                        Err(e) => return Some(Err(e)),
                    }
                }
                _ => None,
            };
            return Some(Ok(Step { record, keyframe }));
        }
    }
}

/// Makes a tick record's calls and step on `room` (see [`crate::format`]'s contract); returns
/// the first join whose outcome differs from the recorded one.
pub fn apply(room: &mut dyn ReplayRoom, record: &TickRecord) -> Result<Option<Cause>, ResimError> {
    let cause = actions(room, &record.actions)?;
    let inputs: Vec<RecordedInput<'_>> = record.inputs.iter().map(RecordedInput::from).collect();
    room.step(&inputs)?;
    Ok(cause)
}

/// Makes recorded calls on `room` (no step); returns the first join whose outcome differs.
pub fn actions(room: &mut dyn ReplayRoom, actions: &[Action]) -> Result<Option<Cause>, ResimError> {
    let mut cause = None;
    for action in actions {
        match action {
            Action::Join { client, name, account, outcome } => {
                let got = room.join(*client, name, account.as_deref());
                if got != *outcome && cause.is_none() {
                    cause =
                        Some(Cause::Join { client: *client, recorded: *outcome, replayed: got });
                }
            }
            Action::Detach { client } => room.detach(*client),
            Action::Resume { client } => room.resume(*client),
            Action::Leave { client, reason } => room.leave(*client, *reason),
            Action::Command { client, kind, payload } => room.command(*client, *kind, payload)?,
        }
    }
    Ok(cause)
}

/// Why a tick is divergent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A join gave another entity (or was refused, or accepted, against the recording).
    Join {
        /// The player.
        client: ClientId,
        /// The recorded outcome.
        recorded: JoinOutcome,
        /// The replayed outcome.
        replayed: JoinOutcome,
    },
    /// The snapshot checksums differ.
    Checksum {
        /// Recorded.
        recorded: u64,
        /// Replayed.
        replayed: u64,
    },
    /// The recorded keyframe differs from the replayed snapshot (checksum equal or absent).
    Keyframe,
}

/// The recorded state a divergence was diffed against.
#[derive(Debug, Clone, PartialEq)]
pub enum DiffSource {
    /// The keyframe of the divergent tick itself.
    Keyframe(Tick),
    /// The first keyframe after the divergent tick (the state had diverged by then; the
    /// differences may have grown since).
    LaterKeyframe(Tick),
    /// No keyframe at or after the divergent tick: nothing to diff (only checksums).
    None,
}

/// The first divergent tick of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// The tick.
    pub tick: Tick,
    /// What differed first.
    pub cause: Cause,
    /// What was diffed.
    pub source: DiffSource,
    /// The differences, recorded against replayed (empty when `source` is `None`).
    pub differences: Vec<Difference>,
    /// The divergent tick's record: the calls and inputs that led to it.
    pub record: TickRecord,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every check passed.
    Ok(Counts),
    /// The first divergent tick.
    Diverged(Counts, Box<Divergence>),
}

/// What a verification compared (up to the divergence, if any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Ticks re-simulated.
    pub ticks: u64,
    /// Checksums compared.
    pub checksums: u64,
    /// Keyframes compared.
    pub keyframes: u64,
    /// Joins whose entity id was compared.
    pub joins: u64,
}

/// Re-simulates `steps` on `room` (opened from the same recording's header, at its first
/// tick) and compares (see the module docs). An error is a recording that cannot be replayed
/// at all (a record that cannot be read, a payload that does not decode, an input of a player
/// who is not in the room, a tick out of sequence).
pub fn verify<E>(
    room: &mut dyn ReplayRoom,
    steps: impl IntoIterator<Item = Result<Step, StepError<E>>>,
) -> Result<Verdict, VerifyError<E>> {
    let mut counts = Counts::default();
    let mut steps = steps.into_iter();
    while let Some(step) = steps.next() {
        let Step { record, keyframe } = step.map_err(VerifyError::Step)?;
        let tick = record.tick;
        let expected = room.tick().next();
        if tick != expected {
            return Err(VerifyError::OutOfSequence { expected, found: tick });
        }
        let join = apply(room, &record).map_err(VerifyError::Resim)?;
        counts.ticks += 1;
        counts.joins +=
            record.actions.iter().filter(|a| matches!(a, Action::Join { .. })).count() as u64;
        let snapshot = room.snapshot().map_err(VerifyError::Resim)?;
        let mut cause = join;
        counts.checksums += 1;
        let replayed = snapshot_checksum(&snapshot);
        if cause.is_none() && record.checksum != replayed {
            cause = Some(Cause::Checksum { recorded: record.checksum, replayed });
        }
        if let Some(keyframe) = &keyframe {
            counts.keyframes += 1;
            if cause.is_none() && *keyframe != snapshot {
                cause = Some(Cause::Keyframe);
            }
        }
        let Some(cause) = cause else { continue };
        let schema = room.schema().components();
        let (source, differences) = match &keyframe {
            Some(k) => (DiffSource::Keyframe(tick), diff::snapshots(schema, k, &snapshot)),
            None => later_keyframe(room, &mut steps),
        };
        let divergence = Divergence { tick, cause, source, differences, record };
        return Ok(Verdict::Diverged(counts, Box::new(divergence)));
    }
    Ok(Verdict::Ok(counts))
}

/// Re-simulates on to the next keyframe and diffs there (best effort: the game has already
/// diverged, so a record it can no longer replay ends the search).
fn later_keyframe<E>(
    room: &mut dyn ReplayRoom,
    steps: &mut impl Iterator<Item = Result<Step, StepError<E>>>,
) -> (DiffSource, Vec<Difference>) {
    for step in steps {
        let Ok(Step { record, keyframe }) = step else { break };
        if apply(room, &record).is_err() {
            break;
        }
        let Some(keyframe) = &keyframe else { continue };
        let Ok(snapshot) = room.snapshot() else { break };
        let diffs = diff::snapshots(room.schema().components(), keyframe, &snapshot);
        return (DiffSource::LaterKeyframe(record.tick), diffs);
    }
    (DiffSource::None, Vec::new())
}

/// Why a verification could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError<E> {
    /// The recording could not be read.
    #[error("{0}")]
    Step(StepError<E>),
    /// A tick record out of sequence (ticks increase by one).
    #[error("tick {found} recorded where tick {expected} was due")]
    OutOfSequence {
        /// The tick due.
        expected: Tick,
        /// The tick recorded.
        found: Tick,
    },
    /// A record could not be replayed.
    #[error("replaying: {0}")]
    Resim(ResimError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Input, Keyframe};
    use crate::resim::{HostSettings, Registry, RoomSetup};
    use tickwire_protocol::game::GameProtocol;
    use tickwire_protocol::message::ViewTime;
    use tickwire_protocol::{EntityId, SnapshotEncoder};
    use tickwire_sim::{Game, Playtest};
    use tickwire_tag::{Run, Tag, TagConfig};

    /// A tag session of three players played by a Playtest, recorded as the server would:
    /// joins before the first step, every input, a keyframe every `every` ticks.
    fn session(ticks: u32, every: u32) -> Vec<Record> {
        let mut play = Playtest::<Tag>::new(&TagConfig::default(), 11).expect("config");
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        let mut out = Vec::new();
        let mut joins = Vec::new();
        for i in 0..3 {
            let client = play.join(&format!("p{i}")).expect("joins");
            let outcome = JoinOutcome::Joined { entity: play.entity_id(client) };
            joins.push(Action::Join { client, name: format!("p{i}"), account: None, outcome });
        }
        let players: Vec<ClientId> = play.players().collect();
        for t in 0..ticks {
            let tick = Tick(t + 1);
            let inputs: Vec<(ClientId, Run)> = players
                .iter()
                .enumerate()
                .map(|(i, &p)| (p, Run { x: ((t / 10 + i as u32) % 3) as i8 - 1, y: 1 }))
                .collect();
            play.step(&inputs);
            let snapshot = play.snapshot();
            out.push(Record::Tick(TickRecord {
                tick,
                actions: if t == 0 { std::mem::take(&mut joins) } else { Vec::new() },
                inputs: inputs
                    .iter()
                    .map(|(client, run)| Input {
                        client: *client,
                        payload: schema.encode_input(run),
                        repeated: false,
                        view: ViewTime { tick, fraction: 0 },
                        view_corrected: false,
                    })
                    .collect(),
                checksum: snapshot_checksum(&snapshot),
            }));
            if tick.0.is_multiple_of(every) {
                let payload = SnapshotEncoder::new().encode(schema.components(), None, &snapshot);
                out.push(Record::Keyframe(Keyframe { tick, payload }));
            }
        }
        out
    }

    /// Verifies `records` against a freshly opened tag room.
    fn verify_tag(records: Vec<Record>) -> Result<Verdict, VerifyError<()>> {
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        let setup = RoomSetup {
            game: "tag",
            version: schema.version(),
            schema_hash: schema.hash(),
            config: "{}",
            seed: 11,
            host: HostSettings::default(),
        };
        let mut room = Registry::builtin().open(&setup).expect("opens");
        let steps = Steps::new(records.into_iter().map(Ok::<_, ()>), schema.components());
        verify(room.as_mut(), steps)
    }

    fn run(records: Vec<Record>) -> Verdict {
        verify_tag(records).expect("replays")
    }

    fn tick_mut(records: &mut [Record], tick: u32) -> &mut TickRecord {
        records
            .iter_mut()
            .find_map(|r| match r {
                Record::Tick(t) if t.tick == Tick(tick) => Some(t),
                _ => None,
            })
            .expect("recorded")
    }

    #[test]
    fn a_faithful_recording_verifies() {
        let verdict = run(session(60, 20));
        assert_eq!(
            verdict,
            Verdict::Ok(Counts { ticks: 60, checksums: 60, keyframes: 3, joins: 3 })
        );
    }

    #[test]
    fn a_changed_input_diverges_at_its_tick_with_a_diff_at_the_next_keyframe() {
        let mut records = session(60, 20);
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        let first = &mut tick_mut(&mut records, 25).inputs[0];
        first.payload = schema.encode_input(&Run { x: -1, y: -1 });
        let who = first.client;
        let entity =
            records
                .iter()
                .find_map(|r| match r {
                    Record::Tick(t) => t.actions.iter().find_map(|a| match a {
                        Action::Join {
                            client, outcome: JoinOutcome::Joined { entity }, ..
                        } if *client == who => Some(*entity),
                        _ => None,
                    }),
                    _ => None,
                })
                .expect("joined");
        let Verdict::Diverged(counts, d) = run(records) else { panic!("verified") };
        assert_eq!((counts.ticks, d.tick), (25, Tick(25)));
        assert!(matches!(d.cause, Cause::Checksum { .. }), "{:?}", d.cause);
        assert_eq!(d.source, DiffSource::LaterKeyframe(Tick(40)));
        assert!(!d.differences.is_empty());
        assert!(d.differences.iter().all(|x| x.entity == entity), "{:?}", d.differences);
    }

    #[test]
    fn a_divergence_on_a_keyframe_is_diffed_there_and_a_wrong_join_is_named() {
        let mut records = session(40, 20);
        tick_mut(&mut records, 20).inputs.remove(1);
        let Verdict::Diverged(_, d) = run(records) else { panic!("verified") };
        assert_eq!((d.tick, &d.source), (Tick(20), &DiffSource::Keyframe(Tick(20))));
        assert!(!d.differences.is_empty());

        let mut records = session(40, 20);
        let Action::Join { outcome, .. } = &mut tick_mut(&mut records, 1).actions[2] else {
            panic!("a join")
        };
        *outcome = JoinOutcome::Joined { entity: EntityId(999) };
        let Verdict::Diverged(_, d) = run(records) else { panic!("verified") };
        assert_eq!(d.tick, Tick(1));
        let recorded = JoinOutcome::Joined { entity: EntityId(999) };
        assert!(
            matches!(d.cause, Cause::Join { recorded: r, .. } if r == recorded),
            "{:?}",
            d.cause
        );
    }

    #[test]
    fn a_recording_without_keyframes_names_the_tick_but_has_nothing_to_diff() {
        let mut records = session(30, 1000);
        tick_mut(&mut records, 7).checksum ^= 1;
        let Verdict::Diverged(_, d) = run(records) else { panic!("verified") };
        assert_eq!((d.tick, &d.source, d.differences.len()), (Tick(7), &DiffSource::None, 0));
    }

    #[test]
    fn a_tick_out_of_sequence_is_an_error() {
        let mut records = session(10, 1000);
        records.remove(4);
        let err = verify_tag(records).expect_err("a gap");
        assert!(matches!(err, VerifyError::OutOfSequence { expected: Tick(5), found: Tick(6) }));
    }
}
