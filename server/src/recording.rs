//! Session recording (`--record DIR`): each selected room writes one `.twr` file
//! ([`tickwire_recording::format`]) holding exactly what its simulation consumed, so that it can be
//! re-simulated bit for bit (`tickwire-replay verify`).
//!
//! **The tick never waits on disk.** The room gathers the calls it makes into its simulation
//! (joins, detaches, resumes, leaves, commands) and the inputs its step consumed into one
//! [`TickRecord`], and hands it with the tick's shared [`TickFrame`] (an `Arc`, already built
//! for the clients) to a bounded channel of [`CHANNEL_CAPACITY`] ticks. A writer thread, one
//! per recorded room, owns the file: it computes the snapshot checksum and, every
//! `keyframe_interval` ticks, the keyframe's full encoding from the frame, and writes blocks.
//!
//! **When recording cannot go on, it stops and the game goes on.** A full channel (the disk
//! cannot keep up), a file that cannot be created or written (unwritable directory, full disk
//! or file-size limit, too many open files): recording of that room stops, the failure is
//! counted in `tickwire_recording_failures_total{reason}` (`backlog`, `unwritable`,
//! `disk_full`, `too_many_files`, `io`, `thread`) and logged once, and the file keeps every
//! whole frame written so far (it reads back as truncated, or ends with `Stopped` when the
//! writer could still close it).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tickwire_protocol::game::MAX_INPUT_BYTES;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, Tick};
use tickwire_recording::format::{
    Action, End, EndReason, Header, Input, Keyframe, TickRecord, snapshot_checksum,
};
use tickwire_recording::writer::{WriteError, Writer, WriterOptions};
use tracing::{info, warn};

use crate::metrics::Metrics;
use crate::room::TickFrame;

/// Ticks a room may be ahead of its writer (about 2 s at 30 Hz). Each holds one record and an
/// `Arc` of a frame the clients share anyway; when full, recording of the room stops.
pub const CHANNEL_CAPACITY: usize = 64;

/// Which rooms record, and where (from `--record`, `--record-rooms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingConfig {
    /// The directory the files go to.
    pub dir: PathBuf,
    /// The rooms to record; empty: every room.
    pub rooms: Vec<String>,
    /// Ticks between keyframes (0: none).
    pub keyframe_interval: u32,
}

impl RecordingConfig {
    /// Whether room `name` records.
    pub fn selects(&self, name: &str) -> bool {
        self.rooms.is_empty() || self.rooms.iter().any(|r| r == name)
    }
}

/// What the room hands to its writer.
enum Item {
    /// One step: the calls before it, its inputs, and its frame.
    Tick { tick: Tick, actions: Vec<Action>, inputs: Vec<NotedInput>, frame: Arc<TickFrame> },
    /// The room closed.
    End(End),
}

/// One input as the room notes it: inline, so that noting a thousand inputs a tick is one
/// copy into a vector and never an allocation each (the writer makes the record's `Vec`s).
#[derive(Debug, Clone, Copy)]
struct NotedInput {
    client: ClientId,
    view: ViewTime,
    repeated: bool,
    view_corrected: bool,
    len: u8,
    bytes: [u8; MAX_INPUT_BYTES],
}

impl NotedInput {
    fn input(&self) -> Input {
        Input {
            client: self.client,
            payload: self.bytes[..usize::from(self.len)].to_vec(),
            repeated: self.repeated,
            view: self.view,
            view_corrected: self.view_corrected,
        }
    }
}

/// A room's side of its recording: gathers one tick's record and hands it to the writer.
pub struct Recorder {
    /// `None` once recording stopped.
    tx: Option<SyncSender<Item>>,
    /// The calls since the last step.
    actions: Vec<Action>,
    /// The inputs of the coming step.
    inputs: Vec<NotedInput>,
    room: Arc<str>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("room", &self.room)
            .field("active", &self.tx.is_some())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts recording room `header.room` into a new file of `config.dir`, on a writer thread
    /// of its own. A thread that cannot be spawned is counted as a failure (and the recorder
    /// is inactive).
    pub fn start(config: &RecordingConfig, header: Header, metrics: Arc<Metrics>) -> Self {
        let room: Arc<str> = header.room.as_str().into();
        let (tx, rx) = sync_channel(CHANNEL_CAPACITY);
        let dir = config.dir.clone();
        let m = metrics.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("record-{room}"))
            .spawn(move || write_recording(rx, &dir, header, &m));
        let tx = match spawned {
            Ok(_) => {
                metrics.recordings.inc();
                Some(tx)
            }
            Err(e) => {
                fail(&metrics, &room, "thread", &e);
                None
            }
        };
        Self { tx, actions: Vec::new(), inputs: Vec::new(), room, metrics }
    }

    /// Whether the room still records.
    pub fn is_active(&self) -> bool {
        self.tx.is_some()
    }

    /// A call into the simulation, before the next step.
    pub fn action(&mut self, action: Action) {
        if self.tx.is_some() {
            self.actions.push(action);
        }
    }

    /// An input the next step consumes (in member order: sorted by client).
    pub fn input(
        &mut self,
        client: ClientId,
        payload: &[u8],
        repeated: bool,
        view: ViewTime,
        view_corrected: bool,
    ) {
        if self.tx.is_some() {
            // The input buffer refuses longer payloads; cut, never panic, all the same.
            let len = payload.len().min(MAX_INPUT_BYTES);
            let mut bytes = [0; MAX_INPUT_BYTES];
            bytes[..len].copy_from_slice(&payload[..len]);
            let len = len as u8; // invariant: MAX_INPUT_BYTES fits in a u8
            let noted = NotedInput { client, view, repeated, view_corrected, len, bytes };
            self.inputs.push(noted);
        }
    }

    /// The step of `tick` is done and `frame` is its snapshot: hands the record to the writer,
    /// never waiting. A full channel stops the recording.
    pub fn tick(&mut self, tick: Tick, frame: Arc<TickFrame>) {
        let Some(tx) = &self.tx else { return };
        let actions = std::mem::take(&mut self.actions);
        let next = Vec::with_capacity(self.inputs.len());
        let inputs = std::mem::replace(&mut self.inputs, next);
        match tx.try_send(Item::Tick { tick, actions, inputs, frame }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let e = format!("the writer is {CHANNEL_CAPACITY} ticks behind");
                fail(&self.metrics, &self.room, "backlog", &e);
                // Dropping the sender lets the writer close the file with `Stopped`.
                self.tx = None;
            }
            // The writer stopped (and counted why).
            Err(TrySendError::Disconnected(_)) => self.tx = None,
        }
    }

    /// The room closed at `tick`: the actions since the last step and the end go to the writer
    /// (which then finishes the file).
    pub fn end(mut self, reason: EndReason, tick: Tick) {
        if let Some(tx) = self.tx.take() {
            let actions = std::mem::take(&mut self.actions);
            // A full or closed channel: the writer ends the file with `Stopped` instead.
            let _ = tx.try_send(Item::End(End { reason, tick, actions }));
        }
    }
}

/// Counts and logs (once per recording: each recorder stops at its first failure) why
/// recording of `room` stopped.
fn fail(metrics: &Metrics, room: &str, reason: &'static str, error: &dyn std::fmt::Display) {
    metrics.recording_failures.get_or_create(&[("reason", reason)]).inc();
    warn!(room, reason, "recording stopped, the room goes on: {error}");
}

/// The failure label of an I/O error.
fn io_reason(e: &std::io::Error) -> &'static str {
    // Linux errno values of the conditions without a stable `ErrorKind`.
    const ENOTDIR: i32 = 20;
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    const EFBIG: i32 = 27;
    const EDQUOT: i32 = 122;
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded => "disk_full",
        ErrorKind::PermissionDenied
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::NotFound
        | ErrorKind::NotADirectory => "unwritable",
        _ => match e.raw_os_error() {
            Some(EFBIG | EDQUOT) => "disk_full",
            Some(EMFILE | ENFILE) => "too_many_files",
            Some(ENOTDIR) => "unwritable",
            _ => "io",
        },
    }
}

/// A new file for `header` in `dir`: `<room>-<game>-<start unix seconds>[-n].twr`.
fn create_file(dir: &Path, header: &Header) -> std::io::Result<(PathBuf, std::fs::File)> {
    let stem = format!("{}-{}-{}", header.room, header.game, header.started_unix_ms / 1000);
    let mut n = 0u32;
    loop {
        let name = if n == 0 { format!("{stem}.twr") } else { format!("{stem}-{n}.twr") };
        let path = dir.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The writer thread: creates the file, then writes what the room sends until it ends or
/// stops.
fn write_recording(rx: Receiver<Item>, dir: &Path, header: Header, metrics: &Metrics) {
    let room = header.room.clone();
    let result = (|| {
        let (path, file) = create_file(dir, &header).map_err(WriteError::Io)?;
        info!(room, path = %path.display(), "recording");
        write_items(&rx, file, header, metrics)
    })();
    metrics.recordings.dec();
    if let Err(e) = result {
        let reason = match &e {
            WriteError::Io(io) => io_reason(io),
            _ => "io",
        };
        fail(metrics, &room, reason, &e);
    }
}

fn write_items(
    rx: &Receiver<Item>,
    file: std::fs::File,
    header: Header,
    metrics: &Metrics,
) -> Result<(), WriteError> {
    let keyframes = header.keyframe_interval;
    let mut last = header.first_tick;
    let mut w = Writer::new(file, &header, WriterOptions::default())?;
    let mut written = w.bytes_written();
    let count = |w: &Writer<std::fs::File>, written: &mut u64| {
        metrics.recording_bytes.inc_by(w.bytes_written() - *written);
        *written = w.bytes_written();
    };
    loop {
        match rx.recv() {
            Ok(Item::Tick { tick, actions, inputs, frame }) => {
                let record = TickRecord {
                    tick,
                    actions,
                    inputs: inputs.iter().map(NotedInput::input).collect(),
                    checksum: snapshot_checksum(frame.snapshot()),
                };
                w.tick(&record)?;
                last = record.tick;
                if keyframes > 0 && record.tick.0.is_multiple_of(keyframes) {
                    let (payload, _, _) = frame.payload(None);
                    w.keyframe(&Keyframe { tick: record.tick, payload: payload.to_vec() })?;
                }
            }
            Ok(Item::End(end)) => return finish(w, &end, written, metrics),
            // The room stopped recording (or dropped its recorder) without an end.
            Err(_) => {
                let end = End { reason: EndReason::Stopped, tick: last, actions: Vec::new() };
                return finish(w, &end, written, metrics);
            }
        }
        count(&w, &mut written);
    }
}

fn finish(
    w: Writer<std::fs::File>,
    end: &End,
    written: u64,
    metrics: &Metrics,
) -> Result<(), WriteError> {
    let file = w.finish(end)?;
    if let Ok(meta) = file.metadata() {
        metrics.recording_bytes.inc_by(meta.len().saturating_sub(written));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_have_their_labels() {
        let e = |code| std::io::Error::from_raw_os_error(code);
        assert_eq!(io_reason(&e(28)), "disk_full"); // ENOSPC
        assert_eq!(io_reason(&e(27)), "disk_full"); // EFBIG
        assert_eq!(io_reason(&e(24)), "too_many_files"); // EMFILE
        assert_eq!(io_reason(&e(23)), "too_many_files"); // ENFILE
        assert_eq!(io_reason(&e(13)), "unwritable"); // EACCES
        assert_eq!(io_reason(&e(30)), "unwritable"); // EROFS
        assert_eq!(io_reason(&e(20)), "unwritable"); // ENOTDIR
        assert_eq!(io_reason(&e(5)), "io"); // EIO
    }

    /// A writer that never reads: the room's records fill the channel, the next one stops
    /// the recording (counted once as `backlog`), and the room never waits.
    #[test]
    fn a_writer_that_cannot_keep_up_stops_the_recording() {
        let metrics = Arc::new(Metrics::new());
        let (tx, _stalled) = sync_channel(CHANNEL_CAPACITY);
        let mut r = Recorder {
            tx: Some(tx),
            actions: Vec::new(),
            inputs: Vec::new(),
            room: "r".into(),
            metrics: metrics.clone(),
        };
        let schema: &'static tickwire_protocol::Schema =
            Box::leak(Box::new(tickwire_protocol::Schema::new("none", &[]).expect("schema")));
        let frame = Arc::new(TickFrame::new(tickwire_protocol::Snapshot::default(), schema));
        for t in 1..=CHANNEL_CAPACITY as u32 {
            r.input(ClientId(1), &[1, 2], false, ViewTime::default(), false);
            r.tick(Tick(t), frame.clone());
            assert!(r.is_active(), "tick {t} fits");
        }
        r.tick(Tick(CHANNEL_CAPACITY as u32 + 1), frame.clone());
        assert!(!r.is_active());
        r.tick(Tick(CHANNEL_CAPACITY as u32 + 2), frame);
        let text = metrics.render();
        assert!(text.contains("tickwire_recording_failures_total{reason=\"backlog\"} 1"), "{text}");
    }

    #[test]
    fn rooms_are_selected_by_name() {
        let all = RecordingConfig { dir: "x".into(), rooms: vec![], keyframe_interval: 300 };
        assert!(all.selects("lobby"));
        let some = RecordingConfig { rooms: vec!["a".into(), "b".into()], ..all };
        assert!(some.selects("b") && !some.selects("lobby"));
    }
}
