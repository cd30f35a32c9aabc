//! Writes the seed corpora `fuzz/corpus/{client_message,snapshot,chunks}/` (committed): the
//! client messages of the golden vectors, inputs and commands carrying the built-in games'
//! payload vectors (`games/*/vectors.json`), snapshot payloads encoded for each scenario, and
//! chunks messages (the golden ones, and views of the fixture's entities as chunks).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds`

use std::path::Path;

use tickwire_protocol::message::{
    ChunkKey, ChunksMessage, ClientMessage, CommandMessage, InputFrame, ServerMessage,
};
use tickwire_protocol::snapshot::{ChunkSet, Snapshot, SnapshotDecoder, chunk_delta, decode};
use tickwire_protocol::{SnapshotEncoder, Tick, codec};
use tickwire_protocol_fuzz::{Ent, Scenario, build, fixture};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write seed");
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden = root.join("../protocol/vectors/golden.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden).expect("golden.json")).expect("json");

    let dir = root.join("corpus/client_message");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for v in golden["messages"].as_array().expect("messages") {
        if v["direction"] == "client" {
            let name = v["name"].as_str().expect("name");
            write(&dir, name, &unhex(v["hex"].as_str().expect("hex")));
        }
    }

    for game in ["arena", "kart"] {
        let file = root.join(format!("../games/{game}/vectors.json"));
        let vectors: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("vectors.json")).expect("json");
        for v in vectors["payloads"].as_array().expect("payloads") {
            let payload = unhex(v["hex"].as_str().expect("hex"));
            let kind = v["kind"].as_u64().expect("kind") as u16;
            let msg = match v["payload"].as_str() {
                Some("input") => ClientMessage::Input(InputFrame { tick: Tick(90), payload, ..InputFrame::default() }),
                Some("command") => ClientMessage::Command(CommandMessage { kind, payload }),
                _ => continue,
            };
            let name = format!("{game}_{}", v["name"].as_str().expect("name"));
            write(&dir, &name, &codec::encode_client(&msg));
        }
    }

    chunk_seeds(root, &golden);

    let f = fixture();
    let dir = root.join("corpus/snapshot");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut enc = SnapshotEncoder::new();
    // Full: the fixture's baseline state, and the golden full snapshots (same schema shape).
    let full = enc.encode(&f.schema, None, &build(&f.schema, Tick(7), &fixture_moved(0)));
    write(&dir, "full", &[&[Scenario::Full.byte()][..], &full].concat());
    for v in golden["snapshots"].as_array().expect("snapshots") {
        if v["baseline_tick"].is_null() {
            let payload = unhex(v["payload_hex"].as_str().expect("payload"));
            let name = format!("golden_{}", v["name"].as_str().expect("name"));
            write(&dir, &name, &[&[Scenario::Full.byte()][..], &payload].concat());
        }
    }
    // Deltas: unchanged (as predicted), and with despawns, changes and spawns.
    for s in [Scenario::OneTick, Scenario::SevenTicks, Scenario::Wrapped] {
        let (base, tick) = f.scenario(s);
        let base = base.expect("a delta scenario");
        let predicted = decode(&f.schema, Some(base), tick, &[0x07], &Default::default())
            .expect("an empty delta decodes");
        let payload = enc.encode(&f.schema, Some(base), &predicted);
        write(&dir, &format!("{s:?}_predicted"), &[&[s.byte()][..], &payload].concat());
        let cur = build(&f.schema, tick, &fixture_moved(3));
        let payload = enc.encode(&f.schema, Some(base), &cur);
        let check = decode(&f.schema, Some(base), tick, &payload, &Default::default());
        assert_eq!(check.as_ref(), Ok(&cur), "{s:?}");
        write(&dir, &format!("{s:?}_changes"), &[&[s.byte()][..], &payload].concat());
    }
}

/// Seeds of the chunks target: the golden `Chunks` messages, and messages a conforming server
/// sends a client holding the fixture's chunks (or none): the same view in full, nothing
/// changed, and chunks changed, dropped and new.
fn chunk_seeds(root: &Path, golden: &serde_json::Value) {
    let f = fixture();
    let dir = root.join("corpus/chunks");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for v in golden["messages"].as_array().expect("messages") {
        let name = v["name"].as_str().expect("name");
        if name.starts_with("chunks") {
            write(&dir, &format!("golden_{name}"), &[&[0][..], &unhex(v["hex"].as_str().expect("hex"))].concat());
        }
    }
    let held: Vec<(ChunkKey, Snapshot)> = f.chunks.held().collect();
    let held: Vec<(ChunkKey, &Snapshot)> = held.iter().map(|(k, s)| (*k, s)).collect();
    let moved = build(&f.schema, Tick(101), &fixture_moved(3));
    let cell = |ids: &[u32]| {
        let ents: Vec<Ent> = fixture_moved(3).into_iter().filter(|e| ids.contains(&e.0)).collect();
        build(&f.schema, Tick(101), &ents)
    };
    let changed = [
        (ChunkKey::Global, cell(&[9])),
        (ChunkKey::Cell { x: 0, y: 0 }, cell(&[1, 2, 30])),
        (ChunkKey::Cell { x: 5, y: 5 }, cell(&[3, 20, 31])),
    ];
    let predicted: Vec<(ChunkKey, Snapshot)> = held
        .iter()
        .map(|(k, s)| (*k, decode(&f.schema, Some(s), Tick(101), &[0x07], &Default::default()).expect("predicts")))
        .collect();
    assert_eq!(moved.len(), changed.iter().map(|(_, s)| s.len()).sum::<usize>(), "every entity in a chunk");
    let cases: [(&str, u8, Option<Tick>, Vec<(ChunkKey, Snapshot)>); 3] = [
        ("full", 0, None, held.iter().map(|(k, s)| (*k, (*s).clone())).collect()),
        ("predicted", 1, Some(Tick(100)), predicted),
        ("changed", 1, Some(Tick(100)), changed.to_vec()),
    ];
    for (name, selector, baseline, view) in cases {
        let view: Vec<(ChunkKey, &Snapshot)> = view.iter().map(|(k, s)| (*k, s)).collect();
        let from: &[(ChunkKey, &Snapshot)] = if selector == 0 { &[] } else { &held };
        let (dropped, chunks) = chunk_delta(&mut SnapshotEncoder::new(), &f.schema, from, &view);
        let tick = view.first().map_or(Tick(101), |(_, s)| s.tick());
        let msg = ServerMessage::Chunks(ChunksMessage { tick, baseline, last_input: None, dropped, chunks });
        let mut set = if selector == 0 { ChunkSet::new() } else { f.chunks.clone() };
        let ServerMessage::Chunks(m) = &msg else { unreachable!() };
        set.apply(&mut SnapshotDecoder::new(), &f.schema, m, &Default::default(), &mut Snapshot::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        write(&dir, name, &[&[selector][..], &codec::encode_server(&msg)].concat());
    }
}

/// The baseline's entities with edits: `n` = 0 leaves them as they are; otherwise e2 and e3
/// change, e5 despawns, e9 gains stats, 30 and 31 spawn.
fn fixture_moved(n: u32) -> Vec<Ent> {
    let mut e: Vec<Ent> = tickwire_protocol_fuzz::BASELINE.to_vec();
    if n == 0 {
        return e;
    }
    e[1].1 = Some([320 + n, 32000, 1030, 2016]);
    e[2].2 = Some(n);
    e.remove(3);
    e[3].3 = Some([42, 1]);
    e.push((30, Some([1000, 2000, 1024 + 5 * n, 1024 - n]), Some(512), Some([100, 1])));
    e.push((31, None, None, None));
    e
}
