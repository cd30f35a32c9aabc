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
//! **The writer costs the room as little as it can** (`cargo bench -p tickwire-benches --bench
//! recording`). The writer wakes itself, about twice a tick (`Pace`): waking another thread is
//! a system call the room would pay (about 8 µs on a 2-core VM, 8% of a 100-client arena tick),
//! and the room wakes it only when it falls [`WAKE_BACKLOG`] ticks behind. It hands each frame back
//! as soon as it is done with it, and the room drops it: a frame held for many ticks, or freed
//! on another thread, leaves the room's next snapshots to be built in colder memory. The inputs
//! travel in buffers that come back too (`NotedInputs`). And the writer thread runs at a
//! lower priority ([`WRITER_NICE`]): woken on the room's core, it used to preempt the tick; now
//! it takes an idle core or the room's spare time.
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
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::Thread;
use std::time::{Duration, Instant};

use tickwire_protocol::game::MAX_INPUT_BYTES;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, Tick};
use tickwire_recording::format::{
    Action, End, EndReason, Header, Input, Keyframe, TickRecord, snapshot_checksum,
};
use tickwire_recording::writer::{WriteError, Writer, WriterOptions};
use tracing::{debug, info, warn};

use crate::metrics::Metrics;
use crate::room::TickFrame;

/// Ticks a room may be ahead of its writer (about 2 s at 30 Hz). Each holds one record and an
/// `Arc` of a frame the clients share anyway; when full, recording of the room stops.
pub const CHANNEL_CAPACITY: usize = 64;

/// How far behind (in ticks) the writer may fall before the room wakes it (it normally wakes
/// itself, see `Pace`); well under [`CHANNEL_CAPACITY`].
pub const WAKE_BACKLOG: u32 = 16;

/// The writer thread's nice value (Linux: per thread). At 10 its weight is a tenth of the
/// room's, so the scheduler does not let it preempt a room's thread when it wakes, it runs on
/// an idle core or in the room's spare time, and on a saturated core it still gets about a
/// tenth of it; a writer starved for [`CHANNEL_CAPACITY`] ticks stops the recording (counted
/// as `backlog`), never the room.
pub const WRITER_NICE: i32 = 10;

/// When the writer looks at its channel: every half tick, the tick being measured over the
/// last [`Pace::WINDOW`] ticks received (the header's tick rate until then), within
/// [`Pace::MIN`]..[`Pace::MAX`]. Half a tick keeps a frame alive about a tick at most; a
/// writer that sleeps longer keeps more frames alive, and the room builds its snapshots in
/// colder memory (measured: +3% on a 100-client arena tick with 16 frames held); one that
/// sleeps less costs itself wake-ups.
#[derive(Debug)]
struct Pace {
    poll: Duration,
    since: Instant,
    ticks: u32,
}

impl Pace {
    const MIN: Duration = Duration::from_millis(1);
    const MAX: Duration = Duration::from_millis(50);
    const WINDOW: u32 = 32;

    fn new(tick_rate: u16) -> Self {
        let tick = Duration::from_secs(1) / u32::from(tick_rate.max(1));
        Self { poll: (tick / 2).clamp(Self::MIN, Self::MAX), since: Instant::now(), ticks: 0 }
    }

    /// One more tick received at `now`.
    fn ticked(&mut self, now: Instant) {
        self.ticks += 1;
        if self.ticks >= Self::WINDOW {
            let tick = now.duration_since(self.since) / self.ticks;
            self.poll = (tick / 2).clamp(Self::MIN, Self::MAX);
            self.since = now;
            self.ticks = 0;
        }
    }
}

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
    Tick { tick: Tick, actions: Vec<Action>, inputs: NotedInputs, frame: Arc<TickFrame> },
    /// The room closed.
    End(End),
}

/// One tick's inputs as the room notes them: a small fixed head each and the payloads end to
/// end, in buffers that go to the writer and come back cleared ([`Recorder::done`]), so that
/// noting a thousand inputs is two appends each, with no allocation and no free.
#[derive(Debug, Default)]
struct NotedInputs {
    heads: Vec<InputHead>,
    payloads: Vec<u8>,
}

/// An input but for its payload (its `len` bytes follow the previous input's in
/// [`NotedInputs::payloads`]).
#[derive(Debug, Clone, Copy)]
struct InputHead {
    client: ClientId,
    view: ViewTime,
    repeated: bool,
    view_corrected: bool,
    len: u8,
}

impl NotedInputs {
    fn push(
        &mut self,
        client: ClientId,
        payload: &[u8],
        repeated: bool,
        view: ViewTime,
        view_corrected: bool,
    ) {
        // The input buffer refuses longer payloads; cut, never panic, all the same.
        let payload = &payload[..payload.len().min(MAX_INPUT_BYTES)];
        let len = payload.len() as u8; // invariant: MAX_INPUT_BYTES fits in a u8
        self.heads.push(InputHead { client, view, repeated, view_corrected, len });
        self.payloads.extend_from_slice(payload);
    }

    /// The record's inputs.
    fn inputs(&self) -> Vec<Input> {
        let mut rest = self.payloads.as_slice();
        self.heads
            .iter()
            .map(|h| {
                let (payload, after) = rest.split_at(usize::from(h.len));
                rest = after;
                Input {
                    client: h.client,
                    payload: payload.to_vec(),
                    repeated: h.repeated,
                    view: h.view,
                    view_corrected: h.view_corrected,
                }
            })
            .collect()
    }

    fn clear(&mut self) {
        self.heads.clear();
        self.payloads.clear();
    }
}

/// A room's side of its recording: gathers one tick's record and hands it to the writer.
pub struct Recorder {
    /// `None` once recording stopped.
    tx: Option<SyncSender<Item>>,
    /// The writer thread, unparked when it is [`WAKE_BACKLOG`] ticks behind, at the end, and
    /// when the recording stops (`None`: it could not be spawned).
    writer: Option<Thread>,
    /// Ticks handed over (wrapping).
    sent: u32,
    /// Ticks the writer took (wrapping; written by the writer): the room wakes a writer
    /// [`WAKE_BACKLOG`] behind.
    taken: Arc<AtomicU32>,
    /// The calls since the last step.
    actions: Vec<Action>,
    /// The inputs of the coming step.
    inputs: NotedInputs,
    /// What the writer is done with, one per tick: the input buffer (cleared, its capacity
    /// kept) and the frame, for the room to drop. Sender: the writer; capacity
    /// [`CHANNEL_CAPACITY`], as many as the writer can be handed (the room empties it every
    /// tick, so it never fills). `None` once recording stopped: the writer frees the rest.
    done: Option<Receiver<Done>>,
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
        let (done_tx, done) = sync_channel(CHANNEL_CAPACITY);
        let taken = Arc::new(AtomicU32::new(0));
        let dir = config.dir.clone();
        let m = metrics.clone();
        let back = Back { done: done_tx, taken: taken.clone() };
        let spawned = std::thread::Builder::new()
            .name(format!("record-{room}"))
            .spawn(move || write_recording(rx, &back, &dir, header, &m));
        let (tx, writer) = match spawned {
            Ok(handle) => {
                metrics.recordings.inc();
                (Some(tx), Some(handle.thread().clone()))
            }
            Err(e) => {
                fail(&metrics, &room, "thread", &e);
                (None, None)
            }
        };
        let inputs = NotedInputs::default();
        let done = Some(done);
        Self { tx, writer, sent: 0, taken, actions: Vec::new(), inputs, done, room, metrics }
    }

    /// Wakes the writer to work through what it was handed.
    fn wake(&self) {
        if let Some(w) = &self.writer {
            w.unpark();
        }
    }

    /// Stops handing over (the writer then ends the file with `Stopped`) and wakes the writer.
    fn stop(&mut self) {
        self.tx = None;
        self.done = None;
        self.wake();
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
            self.inputs.push(client, payload, repeated, view, view_corrected);
        }
    }

    /// The step of `tick` is done and `frame` is its snapshot: hands the record to the writer,
    /// never waiting. A full channel stops the recording.
    pub fn tick(&mut self, tick: Tick, frame: Arc<TickFrame>) {
        let Some(tx) = &self.tx else { return };
        let actions = std::mem::take(&mut self.actions);
        // The frames the writer is done with are dropped here, all of them (none lingers),
        // and one input buffer is kept; a new one only when none came back.
        let mut next = None;
        while let Some(Ok(Done { inputs, frame })) = self.done.as_ref().map(Receiver::try_recv) {
            drop(frame);
            next.get_or_insert(inputs);
        }
        let next = next.unwrap_or_else(|| NotedInputs {
            heads: Vec::with_capacity(self.inputs.heads.len()),
            payloads: Vec::with_capacity(self.inputs.payloads.len()),
        });
        let inputs = std::mem::replace(&mut self.inputs, next);
        match tx.try_send(Item::Tick { tick, actions, inputs, frame }) {
            Ok(()) => {
                self.sent = self.sent.wrapping_add(1);
                // Looked at every few ticks: the counter's cache line is the writer's.
                if self.sent.is_multiple_of(4)
                    && self.sent.wrapping_sub(self.taken.load(Ordering::Relaxed)) >= WAKE_BACKLOG
                {
                    self.wake();
                }
            }
            Err(TrySendError::Full(_)) => {
                let e = format!("the writer is {CHANNEL_CAPACITY} ticks behind");
                fail(&self.metrics, &self.room, "backlog", &e);
                // Dropping the sender lets the writer close the file with `Stopped`.
                self.stop();
            }
            // The writer stopped (and counted why).
            Err(TrySendError::Disconnected(_)) => self.stop(),
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
        // Dropping `self` wakes the writer.
    }
}

impl Drop for Recorder {
    /// The writer finishes the file (with `Stopped` if the room did not end it).
    fn drop(&mut self) {
        self.stop();
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

/// The writer's way back to the room.
struct Back {
    done: SyncSender<Done>,
    /// See [`Recorder::taken`].
    taken: Arc<AtomicU32>,
}

/// What the writer is done with (see [`Recorder::done`]).
struct Done {
    inputs: NotedInputs,
    frame: Arc<TickFrame>,
}

/// The writer thread: creates the file, then writes what the room sends until it ends or
/// stops.
fn write_recording(rx: Receiver<Item>, back: &Back, dir: &Path, header: Header, metrics: &Metrics) {
    let room = header.room.clone();
    // Linux: `who` 0 is the calling thread. Without it the recording works all the same.
    if let Err(e) = rustix::process::setpriority_process(None, WRITER_NICE) {
        debug!(room, "the recording writer keeps its priority: {e}");
    }
    let result = (|| {
        let (path, file) = create_file(dir, &header).map_err(WriteError::Io)?;
        info!(room, path = %path.display(), "recording");
        write_items(&rx, back, file, header, metrics)
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
    back: &Back,
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
    let mut pace = Pace::new(header.tick_rate);
    let mut taken = 0u32;
    loop {
        let item = match rx.try_recv() {
            Ok(item) => {
                taken = taken.wrapping_add(1);
                back.taken.store(taken, Ordering::Relaxed);
                Ok(item)
            }
            Err(TryRecvError::Empty) => {
                // Or until the room wakes us (an unpark before the park returns it at once).
                std::thread::park_timeout(pace.poll);
                continue;
            }
            Err(TryRecvError::Disconnected) => Err(()),
        };
        match item {
            Ok(Item::Tick { tick, actions, mut inputs, frame }) => {
                pace.ticked(Instant::now());
                let record = TickRecord {
                    tick,
                    actions,
                    inputs: inputs.inputs(),
                    checksum: snapshot_checksum(frame.snapshot()),
                };
                inputs.clear();
                w.tick(&record)?;
                last = record.tick;
                if keyframes > 0 && record.tick.0.is_multiple_of(keyframes) {
                    let (payload, _, _) = frame.payload(None);
                    w.keyframe(&Keyframe { tick: record.tick, payload: payload.to_vec() })?;
                }
                // Closed (the room stopped): freed here instead.
                let _ = back.done.try_send(Done { inputs, frame });
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
        let (_nothing_done, done) = sync_channel(CHANNEL_CAPACITY);
        let mut r = Recorder {
            tx: Some(tx),
            writer: None,
            sent: 0,
            taken: Arc::default(),
            actions: Vec::new(),
            inputs: NotedInputs::default(),
            done: Some(done),
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

    /// Inputs come out as noted (a payload longer than an input may be is cut), and a cleared
    /// buffer starts over.
    #[test]
    fn noted_inputs_come_out_as_noted() {
        let view = ViewTime { tick: Tick(7), fraction: 3 };
        let input = |client, payload: &[u8], repeated, view_corrected| Input {
            client: ClientId(client),
            payload: payload.to_vec(),
            repeated,
            view,
            view_corrected,
        };
        let mut n = NotedInputs::default();
        n.push(ClientId(1), &[1, 2, 3], false, view, false);
        n.push(ClientId(2), &[], true, view, true);
        n.push(ClientId(3), &[9; MAX_INPUT_BYTES + 5], false, view, true);
        n.push(ClientId(4), &[4], true, view, false);
        assert_eq!(
            n.inputs(),
            [
                input(1, &[1, 2, 3], false, false),
                input(2, &[], true, true),
                input(3, &[9; MAX_INPUT_BYTES], false, true),
                input(4, &[4], true, false),
            ]
        );
        n.clear();
        n.push(ClientId(5), &[5, 5], false, view, false);
        assert_eq!(n.inputs(), [input(5, &[5, 5], false, false)]);
    }

    #[test]
    fn rooms_are_selected_by_name() {
        let all = RecordingConfig { dir: "x".into(), rooms: vec![], keyframe_interval: 300 };
        assert!(all.selects("lobby"));
        let some = RecordingConfig { rooms: vec!["a".into(), "b".into()], ..all };
        assert!(some.selects("b") && !some.selects("lobby"));
    }
}
