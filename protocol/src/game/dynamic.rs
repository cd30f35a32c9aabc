//! [`Dynamic`]: a game known only from its description (`/schema.json`), with payloads as raw
//! quantized [`Values`]. What the bots' schema-driven players use to play a game they were not
//! compiled with.

use super::{Payload, Protocol, Values};
use crate::schema::{FieldReader, FieldWriter};

/// The protocol of a game known at run time (see the module docs). Build its
/// [`GameSchema`](super::GameSchema) with [`GameSchema::from_description`](super::GameSchema::from_description).
#[derive(Debug, Clone, Copy, Default)]
pub struct Dynamic;

/// A payload of a [`Dynamic`] game: its kind (0 for an input) and its quantized values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DynMessage {
    /// The variant's index.
    pub kind: u16,
    /// The quantized field values, in declaration order.
    pub values: Values,
}

impl Payload for DynMessage {
    fn kind(&self) -> u16 {
        self.kind
    }

    fn write(&self, w: &mut FieldWriter<'_>) {
        for i in 0..self.values.len() {
            match self.values.get(i) {
                Some(q) => w.raw(q),
                None => w.none(),
            }
        }
    }

    fn read(kind: u16, r: &mut FieldReader<'_>) -> Option<Self> {
        let mut values = Values::zeroed(r.remaining());
        for i in 0..values.len() {
            if r.is_present() {
                values.set(i, Some(r.raw()));
            } else {
                r.skip();
            }
        }
        Some(Self { kind, values })
    }
}

impl Protocol for Dynamic {
    type Input = DynMessage;
    type Event = DynMessage;
    type Command = DynMessage;
}
