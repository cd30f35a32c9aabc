//! Replay figures for the arena with 1,000 NPCs: how fast a recording re-simulates (ticks per
//! second, and that as a multiple of real time), and how long seeking to the middle of a long
//! recording takes through its keyframes versus by re-simulation.
//!
//! ```text
//! cargo run --release -p tickwire-replay --example replay_speed -- [MINUTES] [PLAYERS]
//! ```
//!
//! It first records MINUTES (default 10) of game time of a default arena (1,000 NPCs, 30 Hz)
//! with PLAYERS (default 8) moving, aiming and firing, as the room records (a checksum per tick,
//! a keyframe every 300 ticks, zstd blocks), into a temporary file; then times, from that file:
//! - `verify`: read, re-simulate, build every snapshot and compare its checksum, every tick;
//! - a seek to the middle via keyframes: read records up to the last keyframe at or before the
//!   middle tick and decode it (no re-simulation);
//! - the same seek by re-simulation (what an exact state at a non-keyframe tick costs).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

use tickwire_arena::{Arena, ArenaConfig, ArenaInput};
use tickwire_protocol::game::GameProtocol;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{ClientId, Snapshot, SnapshotEncoder, Tick};
use tickwire_replay::format::{
    Action, End, EndReason, Header, Input, JoinOutcome, Keyframe, Record, TickRecord,
    snapshot_checksum,
};
use tickwire_replay::reader::Reader;
use tickwire_replay::resim::verify::{Steps, Verdict, apply, verify};
use tickwire_replay::resim::{Registry, RoomSetup};
use tickwire_replay::writer::{Writer, WriterOptions};
use tickwire_sim::{Game, HostSettings, JoinRequest, PlayerInput, Simulation};

const KEYFRAME_INTERVAL: u32 = 300;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let minutes: u32 = args.next().map_or(Ok(10), |a| a.parse())?;
    let players: u32 = args.next().map_or(Ok(8), |a| a.parse())?;
    let config = ArenaConfig::default();
    let rate = u32::from(Arena::tick_rate(&config));
    let ticks = minutes * 60 * rate;
    let path =
        std::env::temp_dir().join(format!("tickwire-replay-speed-{}.twr", std::process::id()));

    let started = Instant::now();
    let header = record(&config, players, ticks, &path)?;
    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "arena, {} NPCs + {players} players, {ticks} ticks ({minutes} min at {rate} Hz): recorded in {:.1} s, {:.2} MB ({:.0} bytes/tick, keyframe every {KEYFRAME_INTERVAL} ticks)",
        config.npcs.count,
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        bytes as f64 / f64::from(ticks),
    );

    let registry = Registry::builtin();
    let schema = <<Arena as Game>::Protocol as GameProtocol>::schema().components();

    // Replay speed: verify the whole recording.
    let started = Instant::now();
    let mut reader = Reader::new(BufReader::new(File::open(&path)?))?;
    let mut room = registry.open(&RoomSetup::of(&header))?;
    let verdict = verify(room.as_mut(), Steps::new(reader.by_ref(), schema))?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        matches!(verdict, Verdict::Ok(c) if c.ticks == u64::from(ticks)),
        "{verdict:?}"
    );
    let per_sec = f64::from(ticks) / secs;
    println!(
        "verify: {ticks} ticks re-simulated and checked in {secs:.2} s = {per_sec:.0} ticks/s = {:.0}x real time ({:.0} us/tick)",
        per_sec / f64::from(rate),
        secs * 1e6 / f64::from(ticks)
    );

    // Seek to the middle through keyframes.
    let middle = Tick(ticks / 2);
    let started = Instant::now();
    let mut reader = Reader::new(BufReader::new(File::open(&path)?))?;
    let mut found = None;
    for record in reader.by_ref() {
        match record? {
            Record::Keyframe(k) if !k.tick.is_newer_than(middle) => found = Some(k),
            Record::Tick(t) if t.tick.is_newer_than(middle) => break,
            _ => {}
        }
    }
    let k = found.ok_or_else(|| anyhow::anyhow!("no keyframe before the middle"))?;
    let snapshot = decode(schema, None, k.tick, &k.payload, &DecodeLimits::default())?;
    let seek = started.elapsed().as_secs_f64();
    println!(
        "seek to tick {} via keyframes: the keyframe of tick {} ({} entities, {} bytes) in {:.1} ms",
        middle.0,
        k.tick.0,
        snapshot.len(),
        k.payload.len(),
        seek * 1e3
    );

    // The same tick by re-simulation.
    let started = Instant::now();
    let mut reader = Reader::new(BufReader::new(File::open(&path)?))?;
    let mut room = registry.open(&RoomSetup::of(&header))?;
    for step in Steps::new(reader.by_ref(), schema) {
        let step = step?;
        if step.record.tick.is_newer_than(middle) {
            break;
        }
        apply(room.as_mut(), &step.record)?;
    }
    let replayed = room.snapshot()?;
    let resim = started.elapsed().as_secs_f64();
    anyhow::ensure!(replayed.tick() == middle, "re-simulated to {:?}", replayed.tick());
    if k.tick == middle {
        anyhow::ensure!(replayed == snapshot, "the keyframe and the re-simulation disagree");
    }
    println!(
        "seek to tick {} by re-simulation: {:.1} ms ({:.0}x slower than via keyframes)",
        middle.0,
        resim * 1e3,
        resim / seek
    );
    std::fs::remove_file(&path)?;
    Ok(())
}

/// Plays and records the arena as the room does (see the module docs); returns the header.
fn record(
    config: &ArenaConfig,
    players: u32,
    ticks: u32,
    path: &std::path::Path,
) -> anyhow::Result<Header> {
    let host = HostSettings::default();
    let seed = 42;
    let mut sim = Simulation::<Arena>::new(config, seed, host)?;
    let schema = <<Arena as Game>::Protocol as GameProtocol>::schema();
    let header = Header {
        game: "arena".to_owned(),
        game_version: schema.version(),
        schema_hash: schema.hash(),
        config_json: serde_json::to_string(config)?,
        room: "bench".to_owned(),
        seed,
        tick_rate: sim.tick_rate(),
        max_rewind_ms: host.max_rewind_ms,
        first_tick: Tick(0),
        keyframe_interval: KEYFRAME_INTERVAL,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_unix_ms: 0,
    };
    let mut w =
        Writer::new(BufWriter::new(File::create(path)?), &header, WriterOptions::default())?;
    let mut actions = Vec::new();
    let mut joined = Vec::new();
    for p in 0..players {
        let client = ClientId(p + 1);
        let name = format!("p{p}");
        let j = sim
            .join(&JoinRequest { player: client, name: &name, account: None })
            .map_err(|e| anyhow::anyhow!("join refused: {e:?}"))?;
        joined.push((client, j.entity));
        let outcome = JoinOutcome::Joined { entity: j.id };
        actions.push(Action::Join { client, name, account: None, outcome });
    }
    let mut encoder = SnapshotEncoder::new();
    let mut snapshot = Snapshot::default();
    let mut consumed = Vec::with_capacity(joined.len());
    for t in 0..ticks {
        let tick = sim.tick().next();
        let view = ViewTime { tick: tick.offset(-3), fraction: 128 };
        consumed.clear();
        let mut inputs = Vec::with_capacity(joined.len());
        for (i, &(client, entity)) in joined.iter().enumerate() {
            let phase = (t / 20 + i as u32 * 3) % 8;
            let input = ArenaInput {
                move_x: [127, 90, 0, -90, -127, -90, 0, 90][phase as usize],
                move_y: [0, 90, 127, 90, 0, -90, -127, -90][phase as usize],
                aim: (t + i as u32 * 17) as f32 * 0.03,
                buttons: u8::from((t + i as u32).is_multiple_of(7)),
            };
            let payload = schema.encode_input(&input);
            let input = schema.decode_input(&payload)?;
            consumed.push(PlayerInput {
                player: client,
                entity,
                input,
                repeated: false,
                view,
                view_corrected: false,
            });
            inputs.push(Input { client, payload, repeated: false, view, view_corrected: false });
        }
        sim.step(&consumed);
        sim.drain_events().for_each(drop);
        snapshot = sim.snapshot(std::mem::take(&mut snapshot))?;
        let record = TickRecord {
            tick,
            actions: std::mem::take(&mut actions),
            inputs,
            checksum: snapshot_checksum(&snapshot),
        };
        w.tick(&record)?;
        if tick.0.is_multiple_of(KEYFRAME_INTERVAL) {
            let payload = encoder.encode(schema.components(), None, &snapshot);
            w.keyframe(&Keyframe { tick, payload })?;
        }
    }
    w.finish(&End { reason: EndReason::RoomClosed, tick: sim.tick(), actions: Vec::new() })?;
    Ok(header)
}
