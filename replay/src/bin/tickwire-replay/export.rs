//! `tickwire-replay export FILE --jsonl`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};
use tickwire_protocol::game::GameSchema;
use tickwire_protocol::{ClientId, Tick};
use tickwire_replay::format::{Action, Record};
use tickwire_replay::resim::verify::actions;
use tickwire_replay::resim::{RecordedInput, Registry, ReplayRoom, json as to_json};
use tickwire_sim::LeaveReason;

/// `export`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (.twr).
    file: PathBuf,
    /// JSON lines (the only format): rows `{"type":"header"|"entity"|"event"|"input"|"join"|
    /// "detach"|"resume"|"leave"|"command", "tick": ...}`.
    #[arg(long, required = true)]
    jsonl: bool,
    /// Write here instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Entity rows every N ticks only (events, calls and inputs are always exported).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    every: u32,
    /// Also one row per input consumed.
    #[arg(long)]
    inputs: bool,
}

pub(crate) fn run(args: &Args, registry: &Registry) -> anyhow::Result<()> {
    let mut reader = super::open(&args.file)?;
    let header = reader.header().clone();
    let mut room = super::room(&header, registry)?;
    let schema = room.schema();
    let mut out = super::output(args.out.as_ref())?;
    let mut header_row = serde_json::to_value(&header)?;
    header_row["type"] = json!("header");
    row(&mut out, &header_row)?;
    for record in reader.by_ref() {
        match record.context("reading the recording")? {
            Record::Tick(r) => {
                let before = room.tick();
                for a in &r.actions {
                    row(&mut out, &action(schema, before, a))?;
                }
                actions(room.as_mut(), &r.actions)?;
                events(&mut out, room.as_mut())?;
                let inputs: Vec<RecordedInput<'_>> =
                    r.inputs.iter().map(RecordedInput::from).collect();
                if args.inputs {
                    for i in &inputs {
                        row(&mut out, &input(schema, r.tick, i))?;
                    }
                }
                room.step(&inputs)?;
                events(&mut out, room.as_mut())?;
                if r.tick.0.is_multiple_of(args.every) {
                    let snapshot = room.snapshot()?;
                    for e in snapshot.iter() {
                        let mut v = to_json::entity(schema.components(), &e);
                        v["type"] = json!("entity");
                        v["tick"] = json!(r.tick.0);
                        row(&mut out, &v)?;
                    }
                }
            }
            Record::Keyframe(_) => {}
            Record::End(end) => {
                for a in &end.actions {
                    row(&mut out, &action(schema, end.tick, a))?;
                }
                actions(room.as_mut(), &end.actions)?;
                events(&mut out, room.as_mut())?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn row(out: &mut dyn Write, v: &Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn events(out: &mut dyn Write, room: &mut dyn ReplayRoom) -> anyhow::Result<()> {
    let schema = room.schema();
    for e in room.drain_events() {
        let mut v = to_json::event(schema, &e);
        v["type"] = json!("event");
        row(out, &v)?;
    }
    Ok(())
}

fn input(schema: &GameSchema, tick: Tick, i: &RecordedInput<'_>) -> Value {
    json!({
        "type": "input",
        "tick": tick.0,
        "client": i.client.0,
        "repeated": i.repeated,
        "view_tick": i.view.tick.0,
        "view_fraction": i.view.fraction,
        "view_corrected": i.view_corrected,
        "fields": to_json::payload(schema.input(), i.payload),
    })
}

/// A room call as a row; `tick` is the world's tick when it was made.
fn action(schema: &GameSchema, tick: Tick, a: &Action) -> Value {
    let base =
        |kind: &str, client: ClientId| json!({ "type": kind, "tick": tick.0, "client": client.0 });
    match a {
        Action::Join { client, name, account, outcome } => {
            let mut v = base("join", *client);
            v["name"] = json!(name);
            v["account"] = json!(account);
            v["outcome"] = serde_json::to_value(outcome).unwrap_or(Value::Null);
            v
        }
        Action::Detach { client } => base("detach", *client),
        Action::Resume { client } => base("resume", *client),
        Action::Leave { client, reason } => {
            let mut v = base("leave", *client);
            v["reason"] = json!(match reason {
                LeaveReason::Left => "left".to_owned(),
                LeaveReason::Expired => "expired".to_owned(),
                LeaveReason::Ended(r) => r.label().to_owned(),
            });
            v
        }
        Action::Command { client, kind, payload } => {
            let mut v = base("command", *client);
            let message = schema.commands().get(usize::from(*kind));
            v["command"] = json!(message.map_or("?", |m| m.name()));
            v["fields"] = message.and_then(|m| to_json::payload(m, payload)).unwrap_or(Value::Null);
            v
        }
    }
}
