//! `tickwire-replay inspect FILE [--tick T] [--entity E] [--keyframe]`.

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{EntityId, Snapshot, Tick};
use tickwire_replay::format::Record;
use tickwire_replay::resim::verify::{Steps, apply};
use tickwire_replay::resim::{Registry, json as to_json};

/// `inspect`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (.twr).
    file: PathBuf,
    /// The tick (default: the last one recorded).
    #[arg(long)]
    tick: Option<u32>,
    /// Only this entity (its network id).
    #[arg(long)]
    entity: Option<u32>,
    /// Read the nearest keyframe at or before the tick instead of re-simulating.
    #[arg(long)]
    keyframe: bool,
    /// Print the recording's header instead of the world.
    #[arg(long, conflicts_with_all = ["tick", "entity", "keyframe"])]
    header: bool,
}

pub(crate) fn run(args: &Args, registry: &Registry) -> anyhow::Result<()> {
    let mut reader = super::open(&args.file)?;
    if args.header {
        return print(&serde_json::to_value(reader.header())?);
    }
    let target = args.tick.map(Tick);
    let (snapshot, source) = if args.keyframe {
        let schema = registry_schema(registry, reader.header())?;
        let mut found = None;
        for record in reader.by_ref() {
            if let Record::Keyframe(k) = record.context("reading the recording")? {
                if target.is_some_and(|t| k.tick.is_newer_than(t)) {
                    break;
                }
                found = Some(k);
            }
        }
        let k = found.context("no keyframe at or before that tick")?;
        let snap = decode(schema, None, k.tick, &k.payload, &DecodeLimits::default())
            .with_context(|| format!("decoding the keyframe of tick {}", k.tick.0))?;
        (snap, "keyframe")
    } else {
        let header = reader.header().clone();
        let mut room = super::room(&header, registry)?;
        let schema = room.schema().components();
        for step in Steps::new(reader.by_ref(), schema) {
            let step = step.context("reading the recording")?;
            if target.is_some_and(|t| step.record.tick.is_newer_than(t)) {
                break;
            }
            apply(room.as_mut(), &step.record)?;
        }
        if let Some(t) = target {
            anyhow::ensure!(room.tick() == t, "the recording ends at tick {}", room.tick().0);
        }
        (room.snapshot()?, "replayed")
    };
    let schema = registry_schema(registry, reader.header())?;
    print(&world(schema, &snapshot, source, args.entity.map(EntityId))?)
}

/// The component schema of the recorded game, as this build has it.
fn registry_schema(
    registry: &Registry,
    header: &tickwire_replay::format::Header,
) -> anyhow::Result<&'static tickwire_protocol::Schema> {
    Ok(super::room(header, registry)?.schema().components())
}

fn world(
    schema: &tickwire_protocol::Schema,
    s: &Snapshot,
    source: &str,
    entity: Option<EntityId>,
) -> anyhow::Result<Value> {
    let mut v = to_json::snapshot(schema, s);
    v["source"] = json!(source);
    if let Some(id) = entity {
        let e = s.get(id).with_context(|| format!("no entity {} at tick {}", id.0, s.tick().0))?;
        v = json!({ "tick": s.tick().0, "source": source, "entity": to_json::entity(schema, &e) });
    }
    Ok(v)
}

fn print(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
