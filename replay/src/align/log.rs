//! Reading a client forensics log (`docs/client-forensics.md`): header lines say who the client
//! is from then on (a rejoin after a drop makes it another player), tick lines what it sent,
//! predicted and was told. Parsed, not validated: every line becomes a typed [`Header`] or
//! [`TickLine`], or a [`LogError`] naming the line.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;
use tickwire_protocol::{ClientId, EntityId, Tick};

/// The newest format this reader knows.
pub const FORMAT_VERSION: u32 = 1;

/// Why a client log cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The log could not be read.
    #[error("reading the client log: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not a header or tick line of the format.
    #[error("client log line {line}: {why}")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// A header of a format version this reader does not know.
    #[error(
        "client log line {line}: format version {version} (this reader knows {FORMAT_VERSION})"
    )]
    Version {
        /// The line number, from 1.
        line: usize,
        /// The version found.
        version: u32,
    },
    /// A tick line before any header: whose entity it is is unknown.
    #[error("client log line {line}: a tick line before the first header")]
    NoHeader {
        /// The line number, from 1.
        line: usize,
    },
    /// No header at all (an empty log).
    #[error("the client log has no header line")]
    Empty,
}

/// A header line: the game and who the client is, from the welcome.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Header {
    /// The format version.
    #[serde(rename = "forensics")]
    pub version: u32,
    /// The game's name.
    pub game: String,
    /// The game's schema hash, 16 hex digits.
    pub schema_hash: String,
    /// The room.
    pub room: String,
    /// The client id of the welcome.
    pub client: u32,
    /// The entity it controls.
    pub entity: u32,
    /// Ticks per second.
    pub tick_rate: u16,
    /// Whether the welcome resumed the previous session.
    #[serde(default)]
    pub resumed: bool,
}

/// A tick line as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawTick {
    tick: u32,
    sent: bool,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    predicted: Option<Value>,
    #[serde(default)]
    base: Option<u32>,
    #[serde(default)]
    server: Option<Value>,
}

/// One tick of the client, with who it was then.
#[derive(Debug, Clone, PartialEq)]
pub struct TickLine {
    /// Its line number, from 1.
    pub line: usize,
    /// The tick.
    pub tick: Tick,
    /// The client then (the newest header's).
    pub client: ClientId,
    /// Its entity then.
    pub entity: EntityId,
    /// Whether the client sent this input (`false`: a repeat or a gap it filled in).
    pub sent: bool,
    /// The input its prediction applied, fields by name (`null`: none).
    pub input: Value,
    /// That input's wire payload (`None`: none).
    pub payload: Option<Vec<u8>>,
    /// The predicted state for the tick.
    pub predicted: Option<Value>,
    /// The tick of the server state the prediction was stepped from.
    pub base: Option<Tick>,
    /// The server's state at the tick, when the client had the snapshot of that tick.
    pub server: Option<Value>,
}

/// A whole client log.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientLog {
    /// Every header, in order (the first says the game and room).
    pub headers: Vec<Header>,
    /// The tick lines by tick (a tick logged twice keeps its last line).
    pub ticks: BTreeMap<u32, TickLine>,
}

impl ClientLog {
    /// Reads a log (see the module docs). Empty lines are skipped.
    pub fn read(input: impl BufRead) -> Result<Self, LogError> {
        let mut headers: Vec<Header> = Vec::new();
        let mut ticks = BTreeMap::new();
        for (i, text) in input.lines().enumerate() {
            let (line, text) = (i + 1, text?);
            if text.trim().is_empty() {
                continue;
            }
            let bad = |why: String| LogError::Line { line, why };
            let value: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            if value.get("forensics").is_some() {
                let h: Header = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
                if h.version > FORMAT_VERSION {
                    return Err(LogError::Version { line, version: h.version });
                }
                headers.push(h);
                continue;
            }
            let raw: RawTick = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            let who = headers.last().ok_or(LogError::NoHeader { line })?;
            let payload = match &raw.payload {
                None => None,
                Some(hex) => {
                    Some(unhex(hex).ok_or_else(|| bad(format!("payload `{hex}` is not hex")))?)
                }
            };
            let tick = Tick(raw.tick);
            ticks.insert(
                raw.tick,
                TickLine {
                    line,
                    tick,
                    client: ClientId(who.client),
                    entity: EntityId(who.entity),
                    sent: raw.sent,
                    input: raw.input,
                    payload,
                    predicted: raw.predicted,
                    base: raw.base.map(Tick),
                    server: raw.server,
                },
            );
        }
        if headers.is_empty() {
            return Err(LogError::Empty);
        }
        Ok(Self { headers, ticks })
    }

    /// The first header (the game and room the log is of).
    pub fn header(&self) -> &Header {
        // invariant: `read` refuses a log without a header.
        &self.headers[0]
    }
}

/// Lowercase or uppercase hex, two digits a byte.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"forensics":1,"game":"tag","schema_hash":"00000000000000ff","room":"r","client":3,"entity":9,"tick_rate":30,"resumed":false}"#;

    #[test]
    fn reads_headers_and_ticks_with_whose_they_are() {
        let rejoin =
            HEADER.replace("\"client\":3", "\"client\":4").replace("\"entity\":9", "\"entity\":12");
        let text = format!(
            "{HEADER}\n{}\n\n{rejoin}\n{}\n",
            r#"{"tick":5,"sent":true,"input":{"x":1},"payload":"0aFF","predicted":{"x":1.5},"base":3,"server":null}"#,
            r#"{"tick":6,"sent":false,"input":null,"payload":null,"predicted":null,"base":null,"server":{"x":2}}"#,
        );
        let log = ClientLog::read(text.as_bytes()).expect("reads");
        assert_eq!(log.headers.len(), 2);
        assert_eq!(log.header().game, "tag");
        let five = &log.ticks[&5];
        assert_eq!((five.line, five.client, five.entity), (2, ClientId(3), EntityId(9)));
        assert_eq!(five.payload.as_deref(), Some(&[0x0a, 0xff][..]));
        assert_eq!((five.base, five.server.clone()), (Some(Tick(3)), None));
        let six = &log.ticks[&6];
        assert_eq!((six.line, six.client, six.entity), (5, ClientId(4), EntityId(12)));
        assert_eq!(six.server, Some(serde_json::json!({"x": 2})));
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_it() {
        let cases = [
            (format!("{HEADER}\n{{\"tick\":1,\"sent\":true}}\nnot json"), 3),
            (format!("{HEADER}\n{{\"tick\":\"one\",\"sent\":true}}"), 2),
            (format!("{HEADER}\n{{\"tick\":1,\"sent\":true,\"payload\":\"abc\"}}"), 2),
            (format!("{HEADER}\n{}", HEADER.replace("\"room\":\"r\",", "")), 2),
        ];
        for (text, at) in cases {
            match ClientLog::read(text.as_bytes()) {
                Err(LogError::Line { line, .. }) => assert_eq!(line, at, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let early = "{\"tick\":1,\"sent\":true}\n";
        assert!(matches!(ClientLog::read(early.as_bytes()), Err(LogError::NoHeader { line: 1 })));
        assert!(matches!(ClientLog::read(&b"\n"[..]), Err(LogError::Empty)));
        let future = HEADER.replace("\"forensics\":1", "\"forensics\":2");
        assert!(matches!(
            ClientLog::read(future.as_bytes()),
            Err(LogError::Version { line: 1, version: 2 })
        ));
    }
}
