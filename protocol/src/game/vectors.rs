//! [`GameVectors`]: a game's golden vectors, its description and sample payloads with their
//! bytes, for implementers of clients in other languages (`PROTOCOL.md` §8).
//!
//! A game crate builds them from typed payloads, checks them ([`GameVectors::verify`]) and
//! commits them as JSON (`games/<name>/vectors.json` for the built-in games); a client in any
//! language then proves its codecs byte for byte: rebuild the schema from `game_schema` (the
//! hash must match), decode every `hex` to its `values`, encode the `values` back to `hex`.
//!
//! ```
//! # use tickwire_protocol::game::{GameSchema, GameVectors, Values};
//! # use tickwire_protocol::schema::{FieldDef, spec::*};
//! const INPUT: &[FieldDef] = &[FieldDef::from_spec("jump", boolean())];
//! let schema = GameSchema::builder("hop", 1).input(INPUT).build()?;
//! let mut jump = Values::zeroed(1);
//! jump.set(0, Some(1));
//! let vectors = GameVectors::of(&schema).values("jump", "input", 0, &jump).done();
//! assert_eq!(vectors.payloads[0].hex, "01"); // bits are packed from the low end
//! assert_eq!(vectors.payloads[0].values, [Some(1)]);
//! vectors.verify()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use super::{GameDescription, GameSchema, MessageSchema, Payload, Values};

/// One encoded payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadVector {
    /// What the vector shows.
    pub name: String,
    /// `input`, `event` or `command`.
    pub payload: String,
    /// The event's or command's kind (0 for the input).
    pub kind: u16,
    /// The input's, event's or command's name.
    pub message: String,
    /// Quantized field values in wire order (`null`: an absent optional field).
    pub values: Vec<Option<u32>>,
    /// The encoding, lowercase hex.
    pub hex: String,
}

/// A game's description and payload vectors (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameVectors {
    /// What `/schema.json?game=NAME` serves.
    pub game_schema: GameDescription,
    /// The payloads.
    pub payloads: Vec<PayloadVector>,
}

/// A vector that does not hold (see [`GameVectors::verify`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vector {name}: {why}")]
pub struct VectorError {
    /// The vector (or `game_schema`).
    pub name: String,
    /// What is wrong.
    pub why: String,
}

impl GameVectors {
    /// Starts the vectors of `schema`.
    pub fn of(schema: &GameSchema) -> VectorsBuilder<'_> {
        VectorsBuilder {
            schema,
            vectors: GameVectors { game_schema: schema.describe(), payloads: Vec::new() },
        }
    }

    /// Checks the vectors as a consumer uses them: the description rebuilds a schema with its
    /// hash, and every payload's bytes decode to its values and its values encode to its bytes.
    /// (Rebuilding leaks the schema's names, see [`GameSchema::from_description`]: a test tool.)
    pub fn verify(&self) -> Result<(), VectorError> {
        let err = |name: &str, why: String| VectorError { name: name.to_owned(), why };
        let schema = GameSchema::from_description(&self.game_schema)
            .map_err(|e| err("game_schema", e.to_string()))?;
        if format!("{:016x}", schema.hash()) != self.game_schema.hash {
            return Err(err("game_schema", "the declarations do not give the hash".into()));
        }
        for v in &self.payloads {
            let layout = layout(&schema, &v.payload, v.kind)
                .ok_or_else(|| err(&v.name, "no such payload".into()))?;
            let mut values = Values::zeroed(layout.fields().len());
            for (i, q) in v.values.iter().enumerate() {
                values.set(i, *q);
            }
            let bytes = unhex(&v.hex).ok_or_else(|| err(&v.name, "bad hex".into()))?;
            match layout.decode(&bytes) {
                Ok(decoded) if decoded == values => {}
                Ok(decoded) => return Err(err(&v.name, format!("decodes to {decoded:?}"))),
                Err(e) => return Err(err(&v.name, e.to_string())),
            }
            if layout.encode(&values) != bytes {
                return Err(err(&v.name, "the values encode to other bytes".into()));
            }
        }
        Ok(())
    }
}

/// Adds payloads to a game's vectors ([`GameVectors::of`]).
#[derive(Debug)]
pub struct VectorsBuilder<'s> {
    schema: &'s GameSchema,
    vectors: GameVectors,
}

impl VectorsBuilder<'_> {
    /// Adds an input.
    #[must_use]
    pub fn input<T: Payload>(self, name: &str, input: &T) -> Self {
        let values = self.schema.input().values_of(input);
        self.values(name, "input", 0, &values)
    }

    /// Adds an event.
    #[must_use]
    pub fn event<T: Payload>(self, name: &str, event: &T) -> Self {
        let kind = event.kind();
        let values = self.schema.events()[usize::from(kind)].values_of(event);
        self.values(name, "event", kind, &values)
    }

    /// Adds a command.
    #[must_use]
    pub fn command<T: Payload>(self, name: &str, command: &T) -> Self {
        let kind = command.kind();
        let values = self.schema.commands()[usize::from(kind)].values_of(command);
        self.values(name, "command", kind, &values)
    }

    /// Adds a payload from quantized values (`payload`: `input`, `event` or `command`). Panics
    /// if the schema has no such payload (a bug in the caller's table).
    #[must_use]
    pub fn values(mut self, name: &str, payload: &str, kind: u16, values: &Values) -> Self {
        let layout = layout(self.schema, payload, kind)
            .unwrap_or_else(|| panic!("no {payload} of kind {kind}"));
        self.vectors.payloads.push(PayloadVector {
            name: name.to_owned(),
            payload: payload.to_owned(),
            kind,
            message: layout.name().to_owned(),
            values: (0..values.len()).map(|i| values.get(i)).collect(),
            hex: hex(&layout.encode(values)),
        });
        self
    }

    /// The vectors.
    pub fn done(self) -> GameVectors {
        self.vectors
    }
}

fn layout<'a>(schema: &'a GameSchema, payload: &str, kind: u16) -> Option<&'a MessageSchema> {
    match payload {
        "input" if kind == 0 => Some(schema.input()),
        "event" => schema.events().get(usize::from(kind)),
        "command" => schema.commands().get(usize::from(kind)),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
