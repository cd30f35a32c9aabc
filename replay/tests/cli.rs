//! The `tickwire-replay` binary on recordings of a headless tag session: `verify` passes a
//! faithful one and stops at the first divergent tick of a tampered one with a field-level
//! diff; `inspect` and `export` print what the world was.

mod common;

use std::process::{Command, Output};

use serde_json::Value;
use tickwire_protocol::game::GameProtocol;
use tickwire_replay::format::{Action, JoinOutcome, Record, TickRecord};
use tickwire_sim::Game;
use tickwire_tag::{Run, Tag, TagConfig};

fn tag(ticks: u32) -> common::Session {
    common::record::<Tag>(&TagConfig::default(), 5, 3, ticks, 30, |t, p| Run {
        x: ((t / 8 + p) % 3) as i8 - 1,
        y: ((t / 13 + 2 * p) % 3) as i8 - 1,
    })
}

/// The tick record of `tick`, to tamper with.
fn tick_mut(session: &mut common::Session, tick: u32) -> &mut TickRecord {
    session
        .records
        .iter_mut()
        .find_map(|r| match r {
            Record::Tick(t) if t.tick.0 == tick => Some(t),
            _ => None,
        })
        .expect("recorded")
}

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickwire-replay")).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn entity_of(session: &common::Session, client: u32) -> u32 {
    session
        .records
        .iter()
        .find_map(|r| match r {
            Record::Tick(t) => t.actions.iter().find_map(|a| match a {
                Action::Join { client: c, outcome: JoinOutcome::Joined { entity }, .. }
                    if c.0 == client =>
                {
                    Some(entity.0)
                }
                _ => None,
            }),
            _ => None,
        })
        .expect("joined")
}

#[test]
fn verify_passes_a_faithful_recording() {
    let path = tag(100).file("faithful.twr");
    let o = replay(&["verify", path.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o)
            .contains("ok: 100 ticks re-simulated; 100 checksums, 3 keyframes and 3 joins match"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn verify_stops_at_the_first_divergent_tick_with_a_field_diff() {
    let mut session = tag(100);
    let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
    // Tick 60 is a keyframe: the diff is at the divergent tick itself.
    let input = &mut tick_mut(&mut session, 60).inputs[1];
    let client = input.client.0;
    let before: Run = schema.decode_input(&input.payload).expect("decodes");
    let other = if before.x == 1 { -1 } else { 1 };
    input.payload = schema.encode_input(&Run { x: other, y: before.y });
    let entity = entity_of(&session, client);
    let path = session.file("tampered.twr");
    let o = replay(&["verify", path.to_str().expect("utf-8")]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("DIVERGED at tick 60 (59 ticks matched before it)"), "{text}");
    assert!(text.contains("cause: snapshot checksum: recorded"), "{text}");
    assert!(
        text.contains("diff: recorded keyframe of tick 60 against the replayed snapshot"),
        "{text}"
    );
    let line = format!("  entity {entity} runner.x: recorded ");
    assert!(text.contains(&line), "{text}");
    assert!(!text.contains("runner.y"), "only x was changed: {text}");
    assert!(text.contains("tick 60 consumed 0 calls and 3 inputs:"), "{text}");
    assert!(text.contains(&format!("  input of client {client}: {{\"x\":{other},")), "{text}");
}

#[test]
fn verify_between_keyframes_diffs_at_the_next_one_and_refuses_garbage() {
    let mut session = tag(100);
    tick_mut(&mut session, 41).checksum ^= 1;
    let path = session.file("checksum.twr");
    let o = replay(&["verify", path.to_str().expect("utf-8")]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("DIVERGED at tick 41"), "{text}");
    // Only the checksum was wrong: the state at the next keyframe agrees.
    assert!(text.contains("tick 41 has no keyframe; the next one, tick 60,"), "{text}");
    assert!(text.contains("(the divergence may have spread since; 0 differences)"), "{text}");

    let garbage = path.with_file_name("garbage.twr");
    std::fs::write(&garbage, b"not a recording").expect("written");
    let o = replay(&["verify", garbage.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a Tickwire recording"));
}

#[test]
fn inspect_prints_an_entity_replayed_or_from_the_keyframe() {
    let session = tag(100);
    let entity = entity_of(&session, 2);
    let path = session.file("inspect.twr");
    let file = path.to_str().expect("utf-8");
    let e = entity.to_string();
    let o = replay(&["inspect", file, "--tick", "45", "--entity", &e]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!((v["tick"].as_u64(), v["source"].as_str()), (Some(45), Some("replayed")));
    let snap = &session.snapshots[44];
    let schema = <<Tag as Game>::Protocol as GameProtocol>::schema().components();
    let runner = snap
        .get(tickwire_protocol::EntityId(entity))
        .and_then(|r| r.get::<tickwire_tag::Runner>(schema, 0))
        .expect("a runner");
    assert_eq!(v["entity"]["components"]["runner"]["x"].as_f64(), Some(f64::from(runner.x)));
    assert_eq!(v["entity"]["components"]["runner"]["y"].as_f64(), Some(f64::from(runner.y)));

    let o = replay(&["inspect", file, "--tick", "45", "--keyframe"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!((v["tick"].as_u64(), v["source"].as_str()), (Some(30), Some("keyframe")));
    assert_eq!(v["entities"].as_array().map(Vec::len), Some(session.snapshots[29].len()));

    let o = replay(&["inspect", file, "--header"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!((v["game"].as_str(), v["seed"].as_u64()), (Some("tag"), Some(5)));

    let o = replay(&["inspect", file, "--tick", "500"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the recording ends at tick 100"));
}

#[test]
fn export_writes_a_row_per_entity_per_tick_and_the_calls() {
    let session = tag(40);
    let path = session.file("export.twr");
    let o = replay(&["export", path.to_str().expect("utf-8"), "--jsonl", "--inputs"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).expect("a JSON row")).collect();
    let count = |kind: &str| rows.iter().filter(|r| r["type"] == kind).count();
    let entities: usize = session.snapshots.iter().map(|s| s.len()).sum();
    assert_eq!(count("header"), 1);
    assert_eq!(count("entity"), entities);
    assert_eq!((count("join"), count("leave"), count("input")), (3, 3, 3 * 40));
    let last = session.snapshots.last().expect("a tick");
    let e = last.entity(0).expect("an entity");
    let row = rows
        .iter()
        .find(|r| r["type"] == "entity" && r["tick"] == 40 && r["id"] == e.id.0)
        .expect("its row");
    assert!(row["components"]["runner"]["x"].is_f64(), "{row}");
    let o = replay(&["export", path.to_str().expect("utf-8")]);
    assert_ne!(o.status.code(), Some(0), "--jsonl is required");
}

#[test]
fn verify_replays_a_recording_cut_short_up_to_its_last_whole_frame() {
    let session = tag(100);
    let path = session.file("whole.twr");
    let bytes = std::fs::read(&path).expect("written");
    let cut = path.with_file_name("cut.twr");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("written");
    let o = replay(&["verify", cut.to_str().expect("utf-8")]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("note: the recording was cut short (no end record)"), "{text}");
    let ticks: u32 = text
        .split("ok: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a tick count");
    assert!((1..100).contains(&ticks), "{text}");
}
