//! `tickwire-replay verify FILE`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tickwire_protocol::game::GameSchema;
use tickwire_replay::format::TickRecord;
use tickwire_replay::reader::Tail;
use tickwire_replay::resim::verify::{Cause, DiffSource, Divergence, Steps, Verdict, verify};
use tickwire_replay::resim::{Registry, json};

/// `verify`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (.twr).
    file: PathBuf,
    /// Most differences to print at a divergence (the count of all is always printed).
    #[arg(long, default_value_t = 50)]
    max_diffs: usize,
}

pub(crate) fn run(args: &Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    let mut reader = super::open(&args.file)?;
    let header = reader.header().clone();
    let mut room = super::room(&header, registry)?;
    let schema = room.schema().components();
    let verdict = verify(room.as_mut(), Steps::new(reader.by_ref(), schema))
        .with_context(|| format!("replaying {}", args.file.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: game {} v{} (schema {:016x}), room {}, seed {}, {} Hz",
        args.file.display(),
        header.game,
        header.game_version,
        header.schema_hash,
        header.room,
        header.seed,
        header.tick_rate
    )?;
    match verdict {
        Verdict::Ok(c) => {
            writeln!(
                out,
                "ok: {} ticks re-simulated; {} checksums, {} keyframes and {} joins match",
                c.ticks, c.checksums, c.keyframes, c.joins
            )?;
            if let Some(Tail::Truncated { whole_bytes, partial_bytes }) = reader.tail() {
                writeln!(
                    out,
                    "note: the recording was cut short (no end record): verified its {whole_bytes} \
                     bytes of whole frames, {partial_bytes} bytes of a partial frame ignored"
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Diverged(c, d) => {
            writeln!(
                out,
                "DIVERGED at tick {} ({} ticks matched before it)",
                d.tick.0,
                c.ticks - 1
            )?;
            print_divergence(&mut out, &d, args.max_diffs)?;
            print_record(&mut out, room.schema(), &d.record)?;
            Ok(ExitCode::from(1))
        }
    }
}

/// What the divergent step consumed: its calls and inputs, decoded.
fn print_record(
    out: &mut impl std::io::Write,
    schema: &GameSchema,
    r: &TickRecord,
) -> std::io::Result<()> {
    writeln!(
        out,
        "tick {} consumed {} calls and {} inputs:",
        r.tick.0,
        r.actions.len(),
        r.inputs.len()
    )?;
    for a in &r.actions {
        writeln!(out, "  call {a:?}")?;
    }
    for i in &r.inputs {
        let fields = json::payload(schema.input(), &i.payload).unwrap_or_default();
        writeln!(
            out,
            "  input of client {}: {fields}{}, view tick {} +{}/256{}",
            i.client.0,
            if i.repeated { " (repeated)" } else { "" },
            i.view.tick.0,
            i.view.fraction,
            if i.view_corrected { " (corrected)" } else { "" },
        )?;
    }
    Ok(())
}

fn print_divergence(
    out: &mut impl std::io::Write,
    d: &Divergence,
    max: usize,
) -> std::io::Result<()> {
    match &d.cause {
        Cause::Checksum { recorded, replayed } => writeln!(
            out,
            "cause: snapshot checksum: recorded {recorded:016x}, replayed {replayed:016x}"
        )?,
        Cause::Keyframe => writeln!(out, "cause: the keyframe differs (checksums agree)")?,
        Cause::Join { client, recorded, replayed } => writeln!(
            out,
            "cause: the join of client {}: recorded {recorded:?}, replayed {replayed:?}",
            client.0
        )?,
    }
    match &d.source {
        DiffSource::Keyframe(t) => writeln!(
            out,
            "diff: recorded keyframe of tick {} against the replayed snapshot of that tick \
             ({} differences):",
            t.0,
            d.differences.len()
        )?,
        DiffSource::LaterKeyframe(t) => writeln!(
            out,
            "diff: tick {} has no keyframe; the next one, tick {}, against the replayed snapshot \
             of that tick (the divergence may have spread since; {} differences):",
            d.tick.0,
            t.0,
            d.differences.len()
        )?,
        DiffSource::None => writeln!(
            out,
            "diff: none available (no keyframe at or after tick {}: a recording keeps only a \
             checksum of the other ticks)",
            d.tick.0
        )?,
    }
    for x in d.differences.iter().take(max) {
        writeln!(out, "  {x}")?;
    }
    if d.differences.len() > max {
        writeln!(out, "  ... and {} more (--max-diffs)", d.differences.len() - max)?;
    }
    Ok(())
}
