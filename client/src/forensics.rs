//! Client forensics: a JSON-lines log, per tick, of the input this client sent, what it
//! predicted for its own entity and what the server said it was (the format is written down in
//! `docs/client-forensics.md`; the JavaScript SDK writes the same lines). `tickwire-replay
//! align` lines such a log up with the server's recording of the room and names the first
//! misprediction and its cause.
//!
//! The work is split like the rest of the client:
//! - the **sans-IO core** ([`ClientState`](crate::ClientState)) turns what happened into lines:
//!   a header at each welcome ([`header_line`]) and a line per tick the predictor resolves
//!   ([`tick_line`], from [`Resolved`]). The lines wait in a [`LineQueue`] of at most
//!   [`MAX_QUEUED_LINES`]; when nobody takes them the oldest are dropped and counted. Off (the
//!   default), nothing is kept and nothing is formatted.
//! - the **driver** takes the queued lines once per tick, outside the state's lock, and writes
//!   them through a `ForensicsWriter`: a 64 KiB buffer in front of the file or writer given in
//!   [`ClientConfig::forensics`](crate::ClientConfig::forensics), so the game loop pays for a
//!   memory copy, and a system call only when the buffer fills. A write error is logged once
//!   and turns the log off; it never ends the session.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use tickwire_protocol::FieldCodec;
use tickwire_protocol::game::{GameSchema, MessageSchema};
use tickwire_protocol::message::Welcome;
use tickwire_sim::Predict;
use tracing::warn;

use crate::error::ClientError;
use crate::predict::Resolved;

/// The format's version, in every header line (`"forensics": 1`).
pub const FORMAT_VERSION: u32 = 1;
/// Most lines waiting for the driver (several seconds of ticks: the driver takes them every
/// tick, so only a stalled driver ever reaches it).
pub const MAX_QUEUED_LINES: usize = 1024;
/// Size of the write buffer in front of the log.
const BUFFER_BYTES: usize = 64 * 1024;

/// Where a client's forensics log goes (see the module docs).
#[derive(Clone)]
pub enum ForensicsTarget {
    /// A file, created (or truncated) when the client connects.
    File(PathBuf),
    /// A writer of the caller's (a `Vec<u8>` in a test, a socket, a compressor). It is locked
    /// for each write, by the client's driver task.
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl ForensicsTarget {
    /// A target writing into `writer`.
    pub fn writer(writer: impl Write + Send + 'static) -> Self {
        Self::Writer(Arc::new(Mutex::new(writer)))
    }
}

impl From<PathBuf> for ForensicsTarget {
    fn from(path: PathBuf) -> Self {
        Self::File(path)
    }
}

impl From<&std::path::Path> for ForensicsTarget {
    fn from(path: &std::path::Path) -> Self {
        Self::File(path.to_owned())
    }
}

impl From<&str> for ForensicsTarget {
    fn from(path: &str) -> Self {
        Self::File(path.into())
    }
}

impl std::fmt::Debug for ForensicsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Writer(_) => f.write_str("Writer(..)"),
        }
    }
}

/// A [`ForensicsTarget::Writer`] as [`Write`].
struct Shared(Arc<Mutex<dyn Write + Send>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().flush()
    }
}

/// The open log, owned by the driver's side (see the module docs).
pub(crate) struct ForensicsWriter {
    out: BufWriter<Box<dyn Write + Send>>,
    /// Set at the first write error: the log is off from then on.
    failed: bool,
}

impl std::fmt::Debug for ForensicsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForensicsWriter").field("failed", &self.failed).finish_non_exhaustive()
    }
}

impl ForensicsWriter {
    /// Opens `target` (creates the file).
    pub(crate) fn open(target: &ForensicsTarget) -> Result<Self, ClientError> {
        let inner: Box<dyn Write + Send> = match target {
            ForensicsTarget::File(path) => Box::new(File::create(path).map_err(|source| {
                ClientError::Forensics { path: path.display().to_string(), source }
            })?),
            ForensicsTarget::Writer(w) => Box::new(Shared(w.clone())),
        };
        Ok(Self { out: BufWriter::with_capacity(BUFFER_BYTES, inner), failed: false })
    }

    /// Writes `lines` (and empties it).
    pub(crate) fn write(&mut self, lines: &mut Vec<String>) {
        for line in lines.drain(..) {
            if self.failed {
                continue;
            }
            let result =
                self.out.write_all(line.as_bytes()).and_then(|()| self.out.write_all(b"\n"));
            self.check(result);
        }
    }

    /// Pushes the buffer out (at the end of the session).
    pub(crate) fn flush(&mut self) {
        if !self.failed {
            let result = self.out.flush();
            self.check(result);
        }
    }

    fn check(&mut self, result: std::io::Result<()>) {
        if let Err(e) = result {
            warn!("client forensics log: {e}; no more lines are written");
            self.failed = true;
        }
    }
}

/// Lines made by the core and not yet written (see the module docs).
#[derive(Debug, Default)]
pub struct LineQueue {
    lines: VecDeque<String>,
    dropped: u64,
}

impl LineQueue {
    /// Queues `line`, dropping the oldest when full.
    pub fn push(&mut self, line: String) {
        if self.lines.len() == MAX_QUEUED_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    /// Moves every queued line, oldest first, to `out`.
    pub fn take(&mut self, out: &mut Vec<String>) {
        out.extend(self.lines.drain(..));
    }

    /// Lines dropped because nobody took them.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The header line written at each welcome: who this client is from then on.
pub fn header_line(game: &GameSchema, welcome: &Welcome) -> String {
    json!({
        "forensics": FORMAT_VERSION,
        "game": game.name(),
        "schema_hash": format!("{:016x}", game.hash()),
        "room": welcome.room,
        "client": welcome.client_id.0,
        "entity": welcome.entity.0,
        "tick_rate": welcome.tick_rate,
        "resumed": welcome.resumed,
    })
    .to_string()
}

/// The line of one resolved tick.
pub fn tick_line<P: Predict>(game: &GameSchema, r: &Resolved<P>) -> String {
    let payload = r.input.as_ref().map(|i| game.encode_input(i));
    let input = payload.as_deref().map_or(Value::Null, |p| input_json(game.input(), p));
    json!({
        "tick": r.tick.0,
        "sent": r.sent,
        "input": input,
        "payload": payload.as_deref().map(hex),
        "predicted": r.predicted.as_ref().map(P::state_json),
        "base": r.base.map(|t| t.0),
        "server": r.server.as_ref().map(P::state_json),
    })
    .to_string()
}

/// An input payload's fields by name, each as the number it stands for (buttons as their bit
/// set); `null` if it does not decode.
fn input_json(message: &MessageSchema, payload: &[u8]) -> Value {
    let Ok(values) = message.decode(payload) else { return Value::Null };
    let mut fields = Map::new();
    for (i, f) in message.fields().iter().enumerate() {
        let v = match (values.get(i), f.def.codec) {
            (None, _) => Value::Null,
            (Some(q), FieldCodec::Fixed { .. } | FieldCodec::Angle { .. }) => {
                json!(f.def.codec.dequantize(q))
            }
            (Some(q), FieldCodec::Int { .. }) => json!(f.def.codec.dequantize_int(q)),
            (Some(q), FieldCodec::Bool) => json!(q != 0),
            (Some(q), _) => json!(q),
        };
        fields.insert(f.def.name.to_owned(), v);
    }
    Value::Object(fields)
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use tickwire_arena::{ArenaInput, ArenaProtocol, ArenaState};
    use tickwire_protocol::{ClientId, EntityId, GameProtocol, Tick};

    use super::*;

    #[test]
    fn a_tick_line_holds_the_input_both_states_and_the_payload() {
        let game = ArenaProtocol::schema();
        let input = ArenaInput { move_x: -127, move_y: 5, aim: 0.0, buttons: 1 };
        let at = |x| Some(ArenaState { pos: glam::Vec2::new(x, 2.5), alive: true });
        let r = Resolved::<ArenaProtocol> {
            tick: Tick(40),
            input: Some(input),
            sent: true,
            predicted: at(1.0),
            base: Some(Tick(37)),
            server: at(1.5),
        };
        let line: Value = serde_json::from_str(&tick_line(game, &r)).expect("json");
        assert_eq!(line["tick"], 40);
        assert_eq!(line["input"], json!({"move_x": -127, "move_y": 5, "aim": 0.0, "buttons": 1}));
        assert_eq!(line["payload"], json!(hex(&game.encode_input(&input))));
        assert_eq!(line["predicted"], json!({"x": 1.0, "y": 2.5, "alive": true}));
        assert_eq!(line["server"], json!({"x": 1.5, "y": 2.5, "alive": true}));
        assert_eq!((line["base"].clone(), line["sent"].clone()), (json!(37), json!(true)));
        let gap = Resolved::<ArenaProtocol> { input: None, sent: false, server: None, ..r };
        let line: Value = serde_json::from_str(&tick_line(game, &gap)).expect("json");
        assert_eq!((line["input"].clone(), line["payload"].clone()), (Value::Null, Value::Null));
    }

    #[test]
    fn the_header_names_the_game_the_room_and_the_welcome() {
        let welcome = Welcome {
            client_id: ClientId(4),
            entity: EntityId(77),
            tick_rate: 30,
            server_tick: Tick(9),
            room: "lobby".to_owned(),
            max_rewind_ms: 250,
            resumed: false,
            resume_secret: Default::default(),
            resume_grace_ms: 0,
        };
        let line: Value =
            serde_json::from_str(&header_line(ArenaProtocol::schema(), &welcome)).expect("json");
        assert_eq!(line["forensics"], 1);
        assert_eq!(line["game"], "arena");
        assert_eq!(line["schema_hash"], format!("{:016x}", ArenaProtocol::schema().hash()));
        assert_eq!((line["room"].clone(), line["client"].clone()), (json!("lobby"), json!(4)));
        assert_eq!((line["entity"].clone(), line["tick_rate"].clone()), (json!(77), json!(30)));
    }

    #[test]
    fn the_queue_keeps_the_newest_lines() {
        let mut q = LineQueue::default();
        for i in 0..MAX_QUEUED_LINES + 3 {
            q.push(i.to_string());
        }
        let mut out = Vec::new();
        q.take(&mut out);
        assert_eq!(out.len(), MAX_QUEUED_LINES);
        assert_eq!(out[0], "3");
        assert_eq!(q.dropped(), 3);
    }

    #[test]
    fn a_file_that_cannot_be_created_is_a_typed_error() {
        let target = ForensicsTarget::File("/nonexistent-dir/x/forensics.jsonl".into());
        let err = ForensicsWriter::open(&target).expect_err("no such directory");
        assert!(
            matches!(err, ClientError::Forensics { ref path, .. } if path.contains("x/forensics"))
        );
    }

    #[test]
    fn lines_reach_a_shared_writer_on_flush() {
        let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
        let target = ForensicsTarget::Writer(buf.clone());
        let mut w = ForensicsWriter::open(&target).expect("opens");
        w.write(&mut vec!["{\"a\":1}".to_owned(), "{\"b\":2}".to_owned()]);
        assert!(buf.lock().is_empty(), "buffered");
        w.flush();
        assert_eq!(&*buf.lock(), b"{\"a\":1}\n{\"b\":2}\n");
    }
}
