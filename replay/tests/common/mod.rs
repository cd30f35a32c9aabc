//! Recording a headless session the way the server's room records one: the calls into the
//! simulation, the inputs each step consumed (encoded), a checksum per tick and a keyframe every
//! `keyframe_interval` ticks, written with the format's writer.

use tickwire_protocol::game::GameProtocol;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, Snapshot, SnapshotEncoder, Tick};
use tickwire_replay::format::{
    Action, End, EndReason, Header, Input, JoinOutcome, Keyframe, Record, TickRecord,
    snapshot_checksum,
};
use tickwire_replay::writer::{Writer, WriterOptions};
use tickwire_sim::{Game, HostSettings, InputOf, JoinRequest, PlayerInput, Simulation};

/// A recorded session: its header and records, and the snapshot of every tick.
pub(crate) struct Session {
    pub(crate) header: Header,
    pub(crate) records: Vec<Record>,
    pub(crate) snapshots: Vec<Snapshot>,
}

/// Plays `G` for `ticks` ticks with `players` players whose input at a tick is
/// `input(tick, player index)`, recording it.
pub(crate) fn record<G: Game>(
    config: &G::Config,
    seed: u64,
    players: u32,
    ticks: u32,
    keyframe_interval: u32,
    input: impl Fn(u32, u32) -> InputOf<G>,
) -> Session {
    let host = HostSettings::default();
    let mut sim = Simulation::<G>::new(config, seed, host).expect("a valid config");
    let schema = <G::Protocol as GameProtocol>::schema();
    let header = Header {
        game: <G::Protocol as GameProtocol>::NAME.to_owned(),
        game_version: schema.version(),
        schema_hash: schema.hash(),
        config_json: serde_json::to_string(config).expect("json"),
        room: "test".to_owned(),
        seed,
        tick_rate: sim.tick_rate(),
        max_rewind_ms: host.max_rewind_ms,
        first_tick: Tick(0),
        keyframe_interval,
        server_version: "test".to_owned(),
        started_unix_ms: 0,
    };
    let mut joins = Vec::new();
    let mut joined = Vec::new();
    for p in 0..players {
        let client = ClientId(p + 1);
        let name = format!("p{p}");
        let who = JoinRequest { player: client, name: &name, account: None };
        let outcome = match sim.join(&who) {
            Ok(j) => {
                joined.push((client, j.entity));
                JoinOutcome::Joined { entity: j.id }
            }
            Err(tickwire_sim::JoinRefusal::Full) => JoinOutcome::Full,
            Err(tickwire_sim::JoinRefusal::Refused { code }) => JoinOutcome::Refused { code },
        };
        joins.push(Action::Join { client, name, account: None, outcome });
    }
    let mut records = Vec::new();
    let mut snapshots = Vec::new();
    let mut encoder = SnapshotEncoder::new();
    for t in 0..ticks {
        let tick = sim.tick().next();
        let view = ViewTime { tick, fraction: 0 };
        let mut inputs = Vec::new();
        let mut consumed = Vec::new();
        for (i, &(client, entity)) in joined.iter().enumerate() {
            let payload = schema.encode_input(&input(t, i as u32));
            let decoded = schema.decode_input(&payload).expect("decodes");
            consumed.push(PlayerInput {
                player: client,
                entity,
                input: decoded,
                repeated: false,
                view,
                view_corrected: false,
            });
            inputs.push(Input { client, payload, repeated: false, view, view_corrected: false });
        }
        sim.step(&consumed);
        sim.drain_events().for_each(drop);
        let snapshot = sim.snapshot(Snapshot::default()).expect("a snapshot");
        records.push(Record::Tick(TickRecord {
            tick,
            actions: if t == 0 { std::mem::take(&mut joins) } else { Vec::new() },
            inputs,
            checksum: snapshot_checksum(&snapshot),
        }));
        if keyframe_interval > 0 && tick.0.is_multiple_of(keyframe_interval) {
            let payload = encoder.encode(schema.components(), None, &snapshot);
            records.push(Record::Keyframe(Keyframe { tick, payload }));
        }
        snapshots.push(snapshot);
    }
    let end = End {
        reason: EndReason::RoomClosed,
        tick: sim.tick(),
        actions: joined
            .iter()
            .map(|&(client, _)| Action::Leave { client, reason: tickwire_sim::LeaveReason::Left })
            .collect(),
    };
    records.push(Record::End(end));
    Session { header, records, snapshots }
}

impl Session {
    /// The recording's bytes, as the writer writes them.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut w =
            Writer::new(Vec::new(), &self.header, WriterOptions::default()).expect("header");
        for r in &self.records {
            match r {
                Record::Tick(t) => w.tick(t).expect("tick"),
                Record::Keyframe(k) => w.keyframe(k).expect("keyframe"),
                Record::End(e) => return w.finish(e).expect("end"),
            }
        }
        w.flush().expect("flush");
        w.get_ref().clone()
    }

    /// Writes the recording to a fresh file in a temporary directory.
    pub(crate) fn file(&self, name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tickwire-replay-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, self.bytes()).expect("written");
        path
    }
}
