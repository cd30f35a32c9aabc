//! `tickwire-replay`: verify, inspect and export Tickwire session recordings (`.twr`).
//!
//! - `verify FILE`: re-simulates the recording and compares every tick's snapshot checksum (and
//!   every keyframe, and every join's outcome); exits 1 at the first divergent tick with a
//!   field-level diff.
//! - `inspect FILE [--tick T] [--entity E]`: the world (or one entity) at a tick, as JSON.
//! - `export FILE --jsonl`: per-tick per-entity rows, the game's events and the room's calls,
//!   one JSON object a line.
//! - `serve FILE`: a server hosting the recording as a room that the game's browser page and
//!   Bevy client join as spectators, with pause, speed and seek at `/replay`.
//! - `align CLIENT.jsonl FILE [--json]`: a client forensics log lined up with the recording;
//!   exits 1 at the first misprediction, with its cause.
//!
//! The games it knows are the built-in ones (arena, kart, tag); a host with its own games
//! builds its own binary around `tickwire_replay::resim::Registry`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tickwire_replay::format::Header;
use tickwire_replay::reader::Reader;
use tickwire_replay::resim::{Registry, ReplayRoom, RoomSetup};

mod align;
mod export;
mod inspect;
mod serve;
mod verify;

/// Verify, inspect and export Tickwire session recordings (.twr files written by
/// `tickwire-server --record DIR`).
#[derive(Debug, Parser)]
#[command(name = "tickwire-replay", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Re-simulate a recording and compare each tick's snapshot checksum (and each keyframe and
    /// join) with the recorded one.
    ///
    /// Exit status: 0 when every tick matches, 1 at the first divergent tick (printed with a
    /// field-level diff: against that tick's keyframe if it has one, else against the next
    /// keyframe, re-simulated on to it), 2 when the recording cannot be read or replayed.
    Verify(verify::Args),
    /// Print the world, or one entity, at a tick, as JSON.
    ///
    /// By default the recording is re-simulated up to the tick (exact at any tick). With
    /// `--keyframe`, the nearest recorded keyframe at or before the tick is printed instead,
    /// without re-simulating (fast, and what the recording itself says).
    Inspect(inspect::Args),
    /// Export a recording as JSON lines, for jq or DuckDB: one row per entity per tick, one per
    /// game event, one per join/detach/resume/leave/command, and a header row.
    Export(export::Args),
    /// Host the recording on a server, as a read-only room that the game's clients (the browser
    /// page at `/`, the Bevy client) join as spectators.
    ///
    /// Playback is controlled over HTTP on the same port: `GET /replay` (status, JSON),
    /// `POST /replay/pause`, `/replay/play`, `/replay/speed?x=0.25..16`, `/replay/seek?tick=T`
    /// (lands on the latest keyframe at or before T). The browser page shows these controls.
    Serve(serve::Args),
    /// Line a client forensics log (per tick: input sent, predicted and server state) up with
    /// the recording of its room, and report the first misprediction and its cause: a late
    /// input (the server repeated the previous one), another input than the client's, other
    /// entities (a collision, a hit), or a rules mismatch (the client's prediction is not the
    /// game's step).
    ///
    /// Exit status: 0 when every prediction matches the server, 1 at the first misprediction,
    /// 2 when the log or the recording cannot be read or replayed.
    Align(align::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let registry = Registry::builtin();
    let result = match cli.command {
        Command::Verify(args) => verify::run(&args, &registry),
        Command::Inspect(args) => inspect::run(&args, &registry).map(|()| ExitCode::SUCCESS),
        Command::Export(args) => export::run(&args, &registry).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve::run(args, &registry),
        Command::Align(args) => align::run(&args, &registry),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tickwire-replay: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A recording file opened for reading.
type FileReader = Reader<BufReader<File>>;

/// Opens `path` and reads its header.
fn open(path: &Path) -> anyhow::Result<FileReader> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Reader::new(BufReader::with_capacity(1 << 16, file))
        .with_context(|| format!("reading {}", path.display()))
}

/// Rebuilds the recorded room at its first tick.
fn room(header: &Header, registry: &Registry) -> anyhow::Result<Box<dyn ReplayRoom>> {
    anyhow::ensure!(
        header.first_tick.0 == 0,
        "the recording starts at tick {} of a running room: re-simulation needs the room's \
         creation (tick 0)",
        header.first_tick.0
    );
    registry.open(&RoomSetup::of(header)).context("rebuilding the recorded room")
}

/// Standard output, or a file.
fn output(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}
