//! A game's protocol: what a game adds to the wire on top of Tickwire's own messages.
//!
//! Tickwire carries any game. A game declares, once, in Rust:
//!
//! - its **replicated components** (the snapshot [`Schema`](crate::Schema), unchanged);
//! - its **input**, one fixed-size payload a player sends every tick (analog axes, aim,
//!   buttons...);
//! - its **events**, the things that happen that clients are told about reliably and in order
//!   (a shot, a lap...), each a variant with its own fields;
//! - its **commands**, on-demand reliable client → server messages (pick a team, buy an item).
//!
//! Inputs, events and commands are **payloads**: a list of fields described with the same codec
//! vocabulary as components ([`FieldCodec`](crate::FieldCodec): fixed point, angles, bounded
//! integers, booleans, buttons, entity references), bit-packed by [`MessageSchema`] so that each
//! has exactly one encoding. Everything together is a [`GameSchema`]: its canonical text and
//! hash go into the handshake (peers with different games refuse each other), and its
//! [description](GameSchema::describe) is served as `/schema.json`, from which a client in any
//! language builds every encoder and decoder (`PROTOCOL.md` §5).
//!
//! On the Rust side a game implements [`GameProtocol`] on a marker type, with typed payloads
//! ([`Payload`] + [`Declared`]) usually written with the declaration macros
//! ([`component!`](crate::component), [`input!`](crate::input),
//! [`messages!`](crate::messages)). Clients that do not know the game at compile time use
//! [`Dynamic`], whose payloads are the raw quantized [`Values`].

mod dynamic;
mod error;
mod payload;
mod schema;
mod vectors;

pub use dynamic::{DynMessage, Dynamic};
pub use error::PayloadError;
pub use payload::{MessageSchema, Values};
pub use schema::{GameDescription, GameSchema, GameSchemaBuilder, MessageDescription};
pub use vectors::{GameVectors, PayloadVector, VectorError, VectorsBuilder};

use std::fmt::Debug;

use crate::schema::{ComponentDef, FieldDef, FieldReader, FieldWriter, Replicate};

/// Most fields in one payload (presence is a 32-bit mask).
pub const MAX_PAYLOAD_FIELDS: usize = 32;
/// Largest encoded input, in bytes (checked when the game's schema is built).
pub const MAX_INPUT_BYTES: usize = 64;

/// A payload's declaration: its name and its fields in wire order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageDef {
    /// The input's (`input`), event's or command's name.
    pub name: &'static str,
    /// Its fields, in wire order.
    pub fields: &'static [FieldDef],
}

/// A Rust value that travels as a game payload: the input (one variant, `kind` 0), an event or
/// a command (an enum: `kind` is the variant's index). It moves its fields through a
/// [`FieldWriter`] and a [`FieldReader`] bound to the payload's schema, which quantizes them.
pub trait Payload: Clone + PartialEq + Debug + Send + Sync + 'static {
    /// The variant's index (events and commands; always 0 for an input).
    fn kind(&self) -> u16 {
        0
    }
    /// Writes the variant's fields in order.
    fn write(&self, w: &mut FieldWriter<'_>);
    /// Reads variant `kind`'s fields in order; `None` for an unknown kind.
    fn read(kind: u16, r: &mut FieldReader<'_>) -> Option<Self>;
}

/// A [`Payload`] declared in Rust: one [`MessageDef`] per variant, in `kind` order (an input has
/// exactly one).
pub trait Declared: Payload {
    /// The declarations, indexed by `kind`.
    const DEFS: &'static [MessageDef];
}

/// A game's message types, as the client library and the server handle them. Games implement
/// [`GameProtocol`]; [`Dynamic`] implements this for a game known only by its description.
pub trait Protocol: Send + Sync + 'static {
    /// What a player sends every tick.
    type Input: Payload + Default;
    /// What the server tells clients happened.
    type Event: Payload;
    /// What a client asks the server to do, on demand.
    type Command: Payload;
}

/// A replicated component type as clients mirror it: a [`Replicate`] value that can be copied,
/// compared and moved across threads (every type declared with
/// [`component!`](crate::component) and the usual derives is one).
pub trait ReplicatedComponent:
    Replicate + Clone + PartialEq + Debug + Send + Sync + 'static
{
}

impl<T: Replicate + Clone + PartialEq + Debug + Send + Sync + 'static> ReplicatedComponent for T {}

/// Something that wants every component type of a [`ComponentSet`], in schema order: a client
/// that mirrors each replicated component into its own type (the Bevy plugin does).
pub trait ComponentVisitor {
    /// Component type `C`, at `index` in the schema.
    fn visit<C: ReplicatedComponent>(&mut self, index: usize);
}

/// A list of replicated component types, in schema order: a tuple `(A, B, ...)` of up to 16
/// [`ReplicatedComponent`] types.
pub trait ComponentSet: 'static {
    /// Their declarations, in order.
    fn defs() -> Vec<ComponentDef>;
    /// Calls `visitor` with each type and its schema index, in order.
    fn visit(visitor: &mut impl ComponentVisitor);
}

macro_rules! component_set {
    ($($t:ident),+) => {
        impl<$($t: ReplicatedComponent),+> ComponentSet for ($($t,)+) {
            fn defs() -> Vec<ComponentDef> {
                vec![$($t::DEF),+]
            }

            fn visit(visitor: &mut impl ComponentVisitor) {
                let mut index = 0;
                $(
                    visitor.visit::<$t>(index);
                    index += 1;
                )+
                let _ = index;
            }
        }
    };
}
/// `component_set!` for every prefix of the list: tuples of 1 to 16 components.
macro_rules! component_sets {
    ([$($done:ident),*]) => {};
    ([$($done:ident),*] $t:ident $(, $rest:ident)*) => {
        component_set!($($done,)* $t);
        component_sets!([$($done,)* $t] $($rest),*);
    };
}
component_sets!([] A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

/// A game's protocol declared in Rust, on a marker type shared by the server, the clients and
/// the tests:
///
/// ```
/// use tickwire_protocol::game::GameProtocol;
/// use tickwire_protocol::{component, input, messages};
///
/// component! {
///     /// Where a dot is.
///     #[derive(Debug, Clone, Copy, PartialEq, Default)]
///     pub struct Dot as "dot" {
///         /// x.
///         pub x: f32 = fixed(0.0, 100.0, 0.5),
///     }
/// }
/// input! {
///     /// A player's input.
///     #[derive(Debug, Clone, Copy, PartialEq, Default)]
///     pub struct DotInput {
///         /// Left or right.
///         pub dx: i8 = int(-1, 1),
///     }
/// }
/// messages! {
///     /// Events.
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum DotEvent {
///         /// A dot reached the edge.
///         Edge { dot: tickwire_protocol::EntityId = entity() },
///     }
/// }
/// messages! {
///     /// Commands.
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum DotCommand {
///         /// Back to the middle.
///         Center {},
///     }
/// }
///
/// pub struct Dots;
/// impl tickwire_protocol::game::Protocol for Dots {
///     type Input = DotInput;
///     type Event = DotEvent;
///     type Command = DotCommand;
/// }
/// impl GameProtocol for Dots {
///     const NAME: &'static str = "dots";
///     const VERSION: u32 = 1;
///     type Components = (Dot,);
/// }
///
/// let schema = Dots::schema();
/// assert_eq!(schema.name(), "dots");
/// assert_eq!(schema.input().max_bytes(), 1);
/// assert_eq!(schema.event_kind("Edge"), Some(0));
/// ```
pub trait GameProtocol: Protocol<Input: Declared, Event: Declared, Command: Declared> {
    /// The game's name: what a hello asks for and what `/rooms` shows (1..=32 characters of
    /// `[A-Za-z0-9_]`).
    const NAME: &'static str;
    /// The game's wire version: change it when the game's messages change meaning without
    /// changing shape (the schema hash covers shape changes).
    const VERSION: u32;
    /// The replicated components, in schema order.
    type Components: ComponentSet;

    /// The game's schema, built and validated once per process.
    ///
    /// # Panics
    /// If the declarations are invalid (a programming error: [`GameSchema::of`] returns the
    /// typed error instead, and the server checks it when the game is registered).
    fn schema() -> &'static GameSchema
    where
        Self: Sized,
    {
        schema::cached::<Self>()
    }
}
