//! [`GameSchema`]: a game's whole protocol (components, input, events, commands), validated,
//! with its canonical text, hash and JSON description.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Serialize};

use super::{ComponentSet, Payload, Values};
use super::{Declared, GameProtocol, MAX_INPUT_BYTES, MessageDef, MessageSchema, PayloadError};
use crate::error::SchemaError;
use crate::schema::{
    ComponentDef, ComponentDescription, FieldDef, FieldDescription, Schema, fnv1a64, valid_name,
    write_components,
};

/// A game's validated protocol. Built from Rust declarations ([`GameSchema::of`],
/// [`GameSchema::builder`]) or parsed from its JSON description
/// ([`GameSchema::from_description`]); either way the [`hash`](Self::hash) is FNV-1a 64 over the
/// [canonical text](Self::canonical_text), which the hello carries.
#[derive(Debug, Clone, PartialEq)]
pub struct GameSchema {
    name: &'static str,
    version: u32,
    components: Schema,
    input: MessageSchema,
    events: Vec<MessageSchema>,
    commands: Vec<MessageSchema>,
    canonical: String,
    hash: u64,
}

/// Builds a [`GameSchema`] from declarations (see [`GameSchema::builder`]).
#[derive(Debug, Clone)]
pub struct GameSchemaBuilder {
    name: &'static str,
    version: u32,
    components: Vec<ComponentDef>,
    input: MessageDef,
    events: Vec<MessageDef>,
    commands: Vec<MessageDef>,
}

impl GameSchemaBuilder {
    /// Adds replicated components, in schema order.
    #[must_use]
    pub fn components(mut self, defs: &[ComponentDef]) -> Self {
        self.components.extend_from_slice(defs);
        self
    }

    /// Sets the input's fields.
    #[must_use]
    pub fn input(mut self, fields: &'static [FieldDef]) -> Self {
        self.input = MessageDef { name: "input", fields };
        self
    }

    /// Adds events, in kind order.
    #[must_use]
    pub fn events(mut self, defs: &[MessageDef]) -> Self {
        self.events.extend_from_slice(defs);
        self
    }

    /// Adds commands, in kind order.
    #[must_use]
    pub fn commands(mut self, defs: &[MessageDef]) -> Self {
        self.commands.extend_from_slice(defs);
        self
    }

    /// Validates everything and computes the hash.
    pub fn build(self) -> Result<GameSchema, SchemaError> {
        if !valid_name(self.name) {
            return Err(SchemaError::BadName { name: self.name });
        }
        let components = Schema::new(self.name, &self.components)?;
        let input = MessageSchema::new(&self.input)?;
        if input.defs().any(|f| f.optional) {
            let field = input.defs().find(|f| f.optional).map_or("", |f| f.name);
            return Err(SchemaError::BadField {
                component: "input",
                field,
                why: "input fields cannot be optional (an input has a fixed size)",
            });
        }
        if input.max_bytes() > MAX_INPUT_BYTES {
            return Err(SchemaError::InputTooLarge {
                bytes: input.max_bytes(),
                max: MAX_INPUT_BYTES,
            });
        }
        let events = messages("event", &self.events)?;
        let commands = messages("command", &self.commands)?;
        let canonical = canonical_text(&self);
        let hash = fnv1a64(canonical.as_bytes());
        Ok(GameSchema {
            name: self.name,
            version: self.version,
            components,
            input,
            events,
            commands,
            canonical,
            hash,
        })
    }
}

fn messages(what: &'static str, defs: &[MessageDef]) -> Result<Vec<MessageSchema>, SchemaError> {
    if defs.len() > usize::from(u16::MAX) + 1 {
        return Err(SchemaError::TooManyMessages { what, count: defs.len() });
    }
    defs.iter()
        .enumerate()
        .map(|(i, def)| {
            if defs[..i].iter().any(|d| d.name == def.name) {
                return Err(SchemaError::DuplicateMessage { what, name: def.name });
            }
            MessageSchema::new(def)
        })
        .collect()
}

/// The canonical text (`PROTOCOL.md` §5.4): the game line, the components exactly as a
/// component schema writes them, then the input, events and commands.
fn canonical_text(b: &GameSchemaBuilder) -> String {
    use std::fmt::Write;
    let mut s = format!("tickwire-game {} {}\n", b.name, b.version);
    write_components(&mut s, &b.components);
    let fields = |s: &mut String, fields: &[FieldDef]| {
        for f in fields {
            let optional = if f.optional { " optional" } else { "" };
            let _ = writeln!(s, "field {} {}{optional}", f.name, f.codec.canonical());
        }
    };
    s.push_str("input\n");
    fields(&mut s, b.input.fields);
    for e in &b.events {
        let _ = writeln!(s, "event {}", e.name);
        fields(&mut s, e.fields);
    }
    for c in &b.commands {
        let _ = writeln!(s, "command {}", c.name);
        fields(&mut s, c.fields);
    }
    s
}

impl GameSchema {
    /// A builder for game `name` at wire version `version`, with no components, an empty input,
    /// no events and no commands.
    pub fn builder(name: &'static str, version: u32) -> GameSchemaBuilder {
        GameSchemaBuilder {
            name,
            version,
            components: Vec::new(),
            input: MessageDef { name: "input", fields: &[] },
            events: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// The schema of a game declared in Rust (what [`GameProtocol::schema`] caches).
    pub fn of<P: GameProtocol>() -> Result<Self, SchemaError> {
        let input = <P::Input as Declared>::DEFS;
        let Some(input) = input.first().filter(|_| input.len() == 1) else {
            return Err(SchemaError::PayloadFields { name: "input", count: input.len() });
        };
        Self::builder(P::NAME, P::VERSION)
            .components(&P::Components::defs())
            .input(input.fields)
            .events(<P::Event as Declared>::DEFS)
            .commands(<P::Command as Declared>::DEFS)
            .build()
    }

    /// The game's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The game's wire version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The hash the hello carries (FNV-1a 64 of the canonical text).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The canonical text.
    pub fn canonical_text(&self) -> &str {
        &self.canonical
    }

    /// The replicated components (what snapshots are decoded with).
    pub fn components(&self) -> &Schema {
        &self.components
    }

    /// The input's layout.
    pub fn input(&self) -> &MessageSchema {
        &self.input
    }

    /// The events' layouts, by kind.
    pub fn events(&self) -> &[MessageSchema] {
        &self.events
    }

    /// The commands' layouts, by kind.
    pub fn commands(&self) -> &[MessageSchema] {
        &self.commands
    }

    /// The kind of the event called `name`.
    pub fn event_kind(&self, name: &str) -> Option<u16> {
        self.events.iter().position(|e| e.name() == name).map(|i| i as u16)
    }

    /// The kind of the command called `name`.
    pub fn command_kind(&self, name: &str) -> Option<u16> {
        self.commands.iter().position(|e| e.name() == name).map(|i| i as u16)
    }

    /// Encodes an input.
    pub fn encode_input<T: Payload>(&self, input: &T) -> Vec<u8> {
        self.input.encode(&self.input.values_of(input))
    }

    /// Decodes an input.
    pub fn decode_input<T: Payload>(&self, bytes: &[u8]) -> Result<T, PayloadError> {
        let values = self.input.decode(bytes)?;
        self.input.read(0, &values).ok_or(PayloadError::UnknownKind { what: "input", kind: 0 })
    }

    /// Encodes an event: its kind and its payload.
    pub fn encode_event<T: Payload>(&self, event: &T) -> (u16, Vec<u8>) {
        encode_variant(&self.events, event)
    }

    /// Decodes an event of `kind`.
    pub fn decode_event<T: Payload>(&self, kind: u16, bytes: &[u8]) -> Result<T, PayloadError> {
        decode_variant(&self.events, "event", kind, bytes)
    }

    /// Encodes a command: its kind and its payload.
    pub fn encode_command<T: Payload>(&self, command: &T) -> (u16, Vec<u8>) {
        encode_variant(&self.commands, command)
    }

    /// Decodes a command of `kind`.
    pub fn decode_command<T: Payload>(&self, kind: u16, bytes: &[u8]) -> Result<T, PayloadError> {
        decode_variant(&self.commands, "command", kind, bytes)
    }

    /// Checks a command's payload without building it (what the server's sessions do before
    /// handing it to the room).
    pub fn check_command(&self, kind: u16, bytes: &[u8]) -> Result<Values, PayloadError> {
        let schema = self
            .commands
            .get(usize::from(kind))
            .ok_or(PayloadError::UnknownKind { what: "command", kind })?;
        schema.decode(bytes)
    }
}

fn encode_variant<T: Payload>(schemas: &[MessageSchema], value: &T) -> (u16, Vec<u8>) {
    let kind = value.kind();
    match schemas.get(usize::from(kind)) {
        Some(s) => (kind, s.encode(&s.values_of(value))),
        // A typed value whose kind the schema lacks is a declaration mismatch: the schema is
        // built from the same declarations, so this only happens with a hand-written Payload.
        None => (kind, Vec::new()),
    }
}

fn decode_variant<T: Payload>(
    schemas: &[MessageSchema],
    what: &'static str,
    kind: u16,
    bytes: &[u8],
) -> Result<T, PayloadError> {
    let unknown = PayloadError::UnknownKind { what, kind };
    let schema = schemas.get(usize::from(kind)).ok_or(unknown.clone())?;
    let values = schema.decode(bytes)?;
    schema.read(kind, &values).ok_or(unknown)
}

/// The schema of `P`, built once per process and kept for its lifetime.
pub(super) fn cached<P: GameProtocol>() -> &'static GameSchema {
    static CACHE: OnceLock<RwLock<HashMap<std::any::TypeId, &'static GameSchema>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    let key = std::any::TypeId::of::<P>();
    if let Some(s) = cache.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return s;
    }
    let mut map = cache.write().unwrap_or_else(|e| e.into_inner());
    map.entry(key).or_insert_with(|| match GameSchema::of::<P>() {
        Ok(schema) => Box::leak(Box::new(schema)),
        Err(e) => panic!("the declarations of game `{}` are invalid: {e}", P::NAME),
    })
}

/// A game schema as JSON-ready data: what `/schema.json` serves (`PROTOCOL.md` §5.5). Enough
/// for a client in any language to build the snapshot decoder and every payload codec, and to
/// check the hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameDescription {
    /// The game's name.
    pub game: String,
    /// Its wire version.
    pub version: u32,
    /// [`GameSchema::hash`] as 16 lowercase hex digits (a JSON number cannot hold 64 bits).
    pub hash: String,
    /// [`GameSchema::canonical_text`], whose FNV-1a 64 hash is `hash`.
    pub canonical_text: String,
    /// The component schema's name (the game's name).
    pub name: String,
    /// Total number of component fields (the number of per-field code orders in a delta).
    pub field_count: usize,
    /// Components in wire order; component `i` is bit `i` of an entity's presence mask.
    pub components: Vec<ComponentDescription>,
    /// The input.
    pub input: MessageDescription,
    /// Events, by kind.
    pub events: Vec<MessageDescription>,
    /// Commands, by kind.
    pub commands: Vec<MessageDescription>,
}

/// One payload of a [`GameDescription`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageDescription {
    /// The variant's index (0 for the input).
    pub kind: u16,
    /// Its name.
    pub name: String,
    /// Most bits an encoding takes.
    pub max_bits: usize,
    /// Most bytes an encoding takes (an input always takes exactly this many).
    pub max_bytes: usize,
    /// Fields in wire order.
    pub fields: Vec<FieldDescription>,
}

impl MessageSchema {
    fn describe(&self, kind: u16) -> MessageDescription {
        MessageDescription {
            kind,
            name: self.name().to_owned(),
            max_bits: self.max_bits(),
            max_bytes: self.max_bytes(),
            fields: self
                .fields()
                .iter()
                .map(|f| FieldDescription {
                    name: f.def.name.to_owned(),
                    codec: f.def.codec,
                    predict: f.def.predict,
                    optional: f.def.optional,
                    bits: f.bits,
                    max_q: f.max_q,
                    velocity_zero: None,
                })
                .collect(),
        }
    }
}

impl GameSchema {
    /// The schema as JSON-ready data (`PROTOCOL.md` §5.5).
    pub fn describe(&self) -> GameDescription {
        let c = self.components.describe();
        let list = |schemas: &[MessageSchema]| -> Vec<MessageDescription> {
            schemas.iter().enumerate().map(|(i, s)| s.describe(i as u16)).collect()
        };
        GameDescription {
            game: self.name.to_owned(),
            version: self.version,
            hash: format!("{:016x}", self.hash),
            canonical_text: self.canonical.clone(),
            name: c.name,
            field_count: c.field_count,
            components: c.components,
            input: self.input.describe(0),
            events: list(&self.events),
            commands: list(&self.commands),
        }
    }

    /// Rebuilds a schema from its description, for clients that learn a game at run time (the
    /// bots' schema-driven players). Only the declarations are read (names, codecs, predictors,
    /// optional flags); everything derived is recomputed and the result's hash must equal the
    /// description's.
    ///
    /// The names are leaked (`&'static str`, as declarations in code have): call this once per
    /// game and keep the result for the process's lifetime.
    pub fn from_description(d: &GameDescription) -> Result<GameSchema, SchemaError> {
        let name = leak(&d.game);
        let components: Vec<ComponentDef> = d
            .components
            .iter()
            .map(|c| ComponentDef { name: leak(&c.name), fields: leak_fields(&c.fields) })
            .collect();
        let input = leak_fields(&d.input.fields);
        let payloads = |list: &[MessageDescription]| -> Vec<MessageDef> {
            list.iter()
                .map(|m| MessageDef { name: leak(&m.name), fields: leak_fields(&m.fields) })
                .collect()
        };
        let schema = GameSchema::builder(name, d.version)
            .components(&components)
            .input(input)
            .events(&payloads(&d.events))
            .commands(&payloads(&d.commands))
            .build()?;
        let described = format!("{:016x}", schema.hash);
        if described != d.hash {
            return Err(SchemaError::Description {
                why: format!("hash {} does not match the declarations' {described}", d.hash),
            });
        }
        Ok(schema)
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn leak_fields(fields: &[FieldDescription]) -> &'static [FieldDef] {
    let defs: Vec<FieldDef> = fields
        .iter()
        .map(|f| FieldDef {
            name: leak(&f.name),
            codec: f.codec,
            predict: f.predict,
            optional: f.optional,
        })
        .collect();
    Box::leak(defs.into_boxed_slice())
}
