//! `tickwire-replay align CLIENT.jsonl RECORDING.twr [--json]`.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tickwire_replay::align::{self, Alignment, ClientLog, Misprediction, Models};
use tickwire_replay::resim::Registry;
use tickwire_replay::resim::verify::Steps;

/// `align`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The client's forensics log (JSON lines, `ClientConfig::forensics` or the web SDK's
    /// `forensics` option).
    client: PathBuf,
    /// The server's recording of the client's room (.twr).
    recording: PathBuf,
    /// Print the result as one JSON object instead of a report.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args, registry: &Registry) -> anyhow::Result<ExitCode> {
    let file =
        File::open(&args.client).with_context(|| format!("opening {}", args.client.display()))?;
    let log = ClientLog::read(BufReader::new(file))
        .with_context(|| format!("reading {}", args.client.display()))?;
    let mut reader = super::open(&args.recording)?;
    let header = reader.header().clone();
    align::check_log::<std::convert::Infallible>(
        &log,
        &header.game,
        header.schema_hash,
        &header.room,
    )?;
    let mut room = super::room(&header, registry)?;
    let models = Models::builtin();
    let schema = room.schema().components();
    let found = align::align(
        room.as_mut(),
        Steps::new(reader.by_ref(), schema),
        &log,
        models.get(&header.game),
        &header.config_json,
    )
    .with_context(|| format!("replaying {}", args.recording.display()))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&found)?)?;
    } else {
        report(&mut out, &log, &found)?;
    }
    Ok(if found.first.is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The human-readable report.
fn report(out: &mut impl Write, log: &ClientLog, a: &Alignment) -> std::io::Result<()> {
    let h = log.header();
    writeln!(
        out,
        "client {} (entity {}) of game {} in room {}: {} logged ticks; {} ticks re-simulated, {} \
         predictions compared (equal within {})",
        h.client, h.entity, h.game, h.room, a.log_ticks, a.ticks_replayed, a.compared, a.tolerance
    )?;
    match &a.first {
        None => writeln!(out, "ok: no misprediction"),
        Some(m) => misprediction(out, m),
    }
}

fn misprediction(out: &mut impl Write, m: &Misprediction) -> std::io::Result<()> {
    let base = m.base.map_or("?".to_owned(), |b| b.0.to_string());
    writeln!(
        out,
        "FIRST MISPREDICTION at tick {} (log line {}; predicted from the server's state of tick \
         {base})",
        m.tick.0, m.line
    )?;
    writeln!(out, "  predicted: {}", m.predicted)?;
    writeln!(out, "  server:    {}", m.server)?;
    let by = m.gap.map_or(String::new(), |g| format!(" by {g}"));
    let field = if m.field.is_empty() { "the state" } else { &m.field };
    writeln!(out, "  differs:   {field}{by}")?;
    writeln!(out, "  cause:     {}", m.cause.explain())?;
    if let Some(c) = &m.counterfactual {
        writeln!(out, "  the game's step over the server's inputs gives: {c}")?;
    }
    writeln!(out, "  inputs (client applied -> server consumed):")?;
    for p in &m.inputs {
        let flag = match (p.matches(), p.repeated) {
            (true, _) => "",
            (false, true) => "   <- the server repeated the previous input",
            (false, false) => "   <- differs",
        };
        let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".to_owned());
        let sent = if p.sent { "" } else { " (filled in)" };
        writeln!(
            out,
            "    tick {}: {}{sent} -> {}{flag}",
            p.tick.0,
            side(&p.client),
            side(&p.server)
        )?;
    }
    if let align::Cause::OtherEntities { events } = &m.cause {
        for e in events {
            writeln!(out, "  event: {e}")?;
        }
    }
    Ok(())
}
