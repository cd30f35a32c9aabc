//! `verify`: re-simulates a recording tick by tick and finds the first divergent tick.
//!
//! It reads a recording as [`TickRecord`]s (what the room did before and during one step, the
//! snapshot checksum, and the keyframe if that tick has one), makes the same calls to a
//! [`ReplayRoom`], and compares:
//! - each join's entity id with the recorded one;
//! - each recorded checksum with the replayed snapshot's (computed by the caller's `checksum`
//!   function, the one the server used);
//! - each recorded keyframe with the replayed snapshot, exactly.
//!
//! At the first difference it looks for a recorded state to diff against: the keyframe of that
//! tick if there is one, else it re-simulates on to the next keyframe and diffs there (and says
//! which). A checksum alone says *that* a tick diverged, not *where*.

use tickwire_protocol::{ClientId, EntityId, Snapshot, Tick};
use tickwire_sim::LeaveReason;

use super::diff::{self, Difference};
use super::{JoinOutcome, RecordedInput, ReplayRoom, ResimError};

/// One call the room made to its simulation, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call<'a> {
    /// A player joined; `entity` is what the server's game returned (`None`: it refused).
    Join {
        /// The session id.
        client: ClientId,
        /// Its display name.
        name: &'a str,
        /// The account a join token vouched for.
        account: Option<&'a str>,
        /// The network id of the entity it got, `None` if refused.
        entity: Option<EntityId>,
    },
    /// A player's connection dropped.
    Detach(ClientId),
    /// A detached player came back.
    Resume(ClientId),
    /// A player left.
    Leave(ClientId, LeaveReason),
    /// A player's command.
    Command {
        /// Whose.
        client: ClientId,
        /// Its kind.
        kind: u16,
        /// Its payload.
        payload: &'a [u8],
    },
}

/// What a recording holds for one tick.
#[derive(Debug, Clone, Default)]
pub struct TickRecord<'a> {
    /// The tick the step produced.
    pub tick: Tick,
    /// The calls before the step, in order.
    pub calls: Vec<Call<'a>>,
    /// The inputs the step consumed.
    pub inputs: Vec<RecordedInput<'a>>,
    /// The checksum of the tick's snapshot, if recorded.
    pub checksum: Option<u64>,
    /// The tick's full snapshot, if it is a keyframe.
    pub keyframe: Option<Snapshot>,
}

/// Applies one tick's calls and step to `room`; returns the first join whose entity differs.
pub fn apply(room: &mut dyn ReplayRoom, record: &TickRecord<'_>) -> Result<Option<Cause>, ResimError> {
    let mut cause = None;
    for call in &record.calls {
        match *call {
            Call::Join { client, name, account, entity } => {
                let got = match room.join(client, name, account) {
                    JoinOutcome::Joined(id) => Some(id),
                    JoinOutcome::Refused(_) => None,
                };
                if got != entity && cause.is_none() {
                    cause = Some(Cause::Join { client, recorded: entity, replayed: got });
                }
            }
            Call::Detach(client) => room.detach(client),
            Call::Resume(client) => room.resume(client),
            Call::Leave(client, reason) => room.leave(client, reason),
            Call::Command { client, kind, payload } => room.command(client, kind, payload)?,
        }
    }
    room.step(&record.inputs)?;
    Ok(cause)
}

/// Why a tick is divergent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A join gave another entity (or was refused, or accepted, against the recording).
    Join {
        /// The player.
        client: ClientId,
        /// The recorded entity.
        recorded: Option<EntityId>,
        /// The replayed entity.
        replayed: Option<EntityId>,
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

/// Re-simulates `records` on `room` (opened from the same recording's header) and compares
/// (see the module docs). `checksum` is the recording's snapshot checksum. An error is a
/// recording that cannot be replayed at all (a payload that does not decode, an input for a
/// stranger), which a divergent game can also cause: it is reported as such by the caller.
pub fn verify<'a, R, E>(
    room: &mut dyn ReplayRoom,
    records: R,
    checksum: impl Fn(&Snapshot) -> u64,
) -> Result<Verdict, VerifyError<E>>
where
    R: IntoIterator<Item = Result<TickRecord<'a>, E>>,
{
    let mut counts = Counts::default();
    let mut records = records.into_iter();
    while let Some(record) = records.next() {
        let record = record.map_err(VerifyError::Read)?;
        let join = apply(room, &record).map_err(VerifyError::Resim)?;
        counts.ticks += 1;
        counts.joins +=
            record.calls.iter().filter(|c| matches!(c, Call::Join { .. })).count() as u64;
        let tick = record.tick;
        let snapshot = room.snapshot().map_err(VerifyError::Resim)?;
        let mut cause = join;
        if let Some(recorded) = record.checksum {
            counts.checksums += 1;
            let replayed = checksum(&snapshot);
            if cause.is_none() && recorded != replayed {
                cause = Some(Cause::Checksum { recorded, replayed });
            }
        }
        if let Some(keyframe) = &record.keyframe {
            counts.keyframes += 1;
            if cause.is_none() && *keyframe != snapshot {
                cause = Some(Cause::Keyframe);
            }
        }
        let Some(cause) = cause else { continue };
        let schema = room.schema().components();
        let (source, differences) = match &record.keyframe {
            Some(k) => (DiffSource::Keyframe(tick), diff::snapshots(schema, k, &snapshot)),
            None => later_keyframe(room, &mut records),
        };
        let divergence = Divergence { tick, cause, source, differences };
        return Ok(Verdict::Diverged(counts, Box::new(divergence)));
    }
    Ok(Verdict::Ok(counts))
}

/// Re-simulates on to the next keyframe and diffs there (best effort: the game has already
/// diverged, so a record it can no longer replay ends the search).
fn later_keyframe<'a, E>(
    room: &mut dyn ReplayRoom,
    records: &mut impl Iterator<Item = Result<TickRecord<'a>, E>>,
) -> (DiffSource, Vec<Difference>) {
    for record in records {
        let Ok(record) = record else { break };
        if apply(room, &record).is_err() {
            break;
        }
        let Some(keyframe) = &record.keyframe else { continue };
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
    #[error("reading the recording: {0}")]
    Read(E),
    /// A record could not be replayed.
    #[error("replaying: {0}")]
    Resim(ResimError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resim::{HostSettings, Registry, RoomSetup};
    use tickwire_protocol::game::GameProtocol;
    use tickwire_protocol::message::ViewTime;
    use tickwire_sim::{Game, Playtest};
    use tickwire_tag::{Run, Tag, TagConfig};

    /// A test checksum (the recording's own is the format's business).
    fn sum(s: &Snapshot) -> u64 {
        s.iter().fold(s.tick().0.into(), |h, e| {
            e.values.iter().fold(h ^ u64::from(e.id.0) ^ u64::from(e.mask), |h, &v| {
                (h ^ u64::from(v)).wrapping_mul(0x100_0000_01b3)
            })
        })
    }

    /// A tag session played by a Playtest: its per-tick input bytes and snapshots.
    struct Session {
        inputs: Vec<Vec<(ClientId, Vec<u8>)>>,
        snapshots: Vec<Snapshot>,
        players: Vec<(ClientId, EntityId)>,
    }

    fn play(ticks: u32) -> Session {
        let mut play = Playtest::<Tag>::new(&TagConfig::default(), 11).expect("config");
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        let players: Vec<ClientId> = (0..3).map(|i| play.join(&format!("p{i}")).expect("joins")).collect();
        let mut session = Session {
            inputs: Vec::new(),
            snapshots: Vec::new(),
            players: players.iter().map(|&p| (p, play.entity_id(p))).collect(),
        };
        for t in 0..ticks {
            let inputs: Vec<(ClientId, Run)> = players
                .iter()
                .enumerate()
                .map(|(i, &p)| (p, Run { x: ((t / 10 + i as u32) % 3) as i8 - 1, y: 1 }))
                .collect();
            play.step(&inputs);
            session.inputs.push(inputs.iter().map(|(p, r)| (*p, schema.encode_input(r))).collect());
            session.snapshots.push(play.snapshot());
        }
        session
    }

    fn records(s: &Session, keyframe_every: u32) -> Vec<Result<TickRecord<'_>, ()>> {
        (0..s.inputs.len())
            .map(|i| {
                let tick = Tick(i as u32 + 1);
                let calls = if i == 0 {
                    s.players
                        .iter()
                        .map(|&(client, id)| Call::Join { client, name: "p", account: None, entity: Some(id) })
                        .collect()
                } else {
                    Vec::new()
                };
                let inputs = s.inputs[i]
                    .iter()
                    .map(|(client, payload)| RecordedInput {
                        client: *client,
                        payload,
                        repeated: false,
                        view: ViewTime { tick, fraction: 0 },
                        view_corrected: false,
                    })
                    .collect();
                let snapshot = &s.snapshots[i];
                let keyframe = (tick.0 % keyframe_every == 0).then(|| snapshot.clone());
                Ok(TickRecord { tick, calls, inputs, checksum: Some(sum(snapshot)), keyframe })
            })
            .collect()
    }

    fn room() -> Box<dyn ReplayRoom> {
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        let setup = RoomSetup {
            game: "tag",
            version: schema.version(),
            schema_hash: schema.hash(),
            config: "{}",
            seed: 11,
            host: HostSettings::default(),
        };
        Registry::builtin().open(&setup).expect("opens")
    }

    #[test]
    fn a_faithful_recording_verifies() {
        let s = play(60);
        let verdict = verify(room().as_mut(), records(&s, 20), sum).expect("replays");
        assert_eq!(verdict, Verdict::Ok(Counts { ticks: 60, checksums: 60, keyframes: 3, joins: 3 }));
    }

    #[test]
    fn a_changed_input_diverges_at_its_tick_with_a_diff_at_the_next_keyframe() {
        let mut s = play(60);
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        // Tick 25 (index 24): the first player runs left instead.
        let (who, _) = s.inputs[24][0];
        s.inputs[24][0].1 = schema.encode_input(&Run { x: -1, y: -1 });
        let verdict = verify(room().as_mut(), records(&s, 20), sum).expect("replays");
        let Verdict::Diverged(counts, d) = verdict else { panic!("{verdict:?}") };
        assert_eq!((counts.ticks, d.tick), (25, Tick(25)));
        assert!(matches!(d.cause, Cause::Checksum { .. }), "{:?}", d.cause);
        assert_eq!(d.source, DiffSource::LaterKeyframe(Tick(40)));
        let entity = s.players.iter().find(|p| p.0 == who).map(|p| p.1).expect("joined");
        assert!(!d.differences.is_empty());
        assert!(d.differences.iter().all(|x| x.entity == entity), "{:?}", d.differences);
    }

    #[test]
    fn a_divergence_on_a_keyframe_is_diffed_there_and_a_wrong_join_is_named() {
        let mut s = play(40);
        let (who, _) = s.inputs[19][1];
        s.inputs[19].retain(|i| i.0 != who);
        let verdict = verify(room().as_mut(), records(&s, 20), sum).expect("replays");
        let Verdict::Diverged(_, d) = verdict else { panic!("{verdict:?}") };
        assert_eq!((d.tick, &d.source), (Tick(20), &DiffSource::Keyframe(Tick(20))));
        assert!(!d.differences.is_empty());

        s.players[2].1 = EntityId(999);
        let verdict = verify(room().as_mut(), records(&s, 20), sum).expect("replays");
        let Verdict::Diverged(_, d) = verdict else { panic!("{verdict:?}") };
        assert_eq!(d.tick, Tick(1));
        assert!(matches!(d.cause, Cause::Join { recorded: Some(EntityId(999)), .. }), "{:?}", d.cause);
    }
}
