//! Declaration macros: a Rust type and its wire declaration written once, in one place.
//!
//! - [`component!`](crate::component): a replicated component ([`Replicate`](crate::Replicate)).
//! - [`input!`](crate::input): a game's input ([`Payload`](crate::game::Payload) +
//!   [`Declared`](crate::game::Declared)).
//! - [`messages!`](crate::messages): a game's events or commands, an enum whose variants carry
//!   named fields (`kind` is the variant's position).
//!
//! Each field is `name: Type = spec`, where `spec` is one of the constructors of
//! [`schema::spec`](crate::schema::spec) (`fixed(min, max, step)`, `angle(bits)`, `uint(max)`,
//! `int(min, max)`, `boolean()`, `buttons(count)`, `entity()`), optionally followed by
//! `.linear(velocity_index)` (components) or `.optional()` (payloads, with an `Option<T>` type).
//! The type is any [`Field`](crate::schema::Field): `f32`, `bool`, integers up to 32 bits,
//! [`EntityId`](crate::EntityId), or `Option` of one of them.

/// Declares a replicated component: the struct and its [`Replicate`](crate::Replicate) impl.
///
/// ```
/// tickwire_protocol::component! {
///     /// A position moving at a constant velocity.
///     #[derive(Debug, Clone, Copy, PartialEq, Default)]
///     pub struct Body as "body" {
///         /// x, predicted linearly from `vx`.
///         pub x: f32 = fixed(0.0, 1000.0, 0.03125).linear(1),
///         /// Units per tick.
///         pub vx: f32 = fixed(-32.0, 32.0, 0.03125),
///     }
/// }
/// use tickwire_protocol::Replicate;
/// assert_eq!(Body::DEF.name, "body");
/// assert_eq!(Body::DEF.fields.len(), 2);
/// ```
#[macro_export]
macro_rules! component {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident as $wire:literal {
            $(
                $(#[$fmeta:meta])*
                $fvis:vis $field:ident : $ty:ty = $spec:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::schema::Replicate for $name {
            const DEF: $crate::schema::ComponentDef = $crate::schema::ComponentDef {
                name: $wire,
                fields: $crate::__field_defs!($($field = $spec),*),
            };

            fn write(&self, out: &mut $crate::schema::FieldWriter<'_>) {
                $( $crate::schema::Field::put(&self.$field, out); )*
            }

            fn read(input: &mut $crate::schema::FieldReader<'_>) -> Self {
                Self { $( $field: $crate::schema::Field::get(input), )* }
            }

            fn write_column(
                column: &[Self],
                fields: &[$crate::schema::FieldInfo],
                rows: &mut [u32],
                stride: usize,
            ) {
                // Field by field: each field's codec is looked up once for the column.
                let mut fields = fields.iter().enumerate();
                $(
                    if let Some((at, info)) = fields.next() {
                        $crate::schema::Field::put_column(
                            info,
                            rows.get_mut(at..).unwrap_or_default().iter_mut().step_by(stride.max(1)),
                            column.iter().map(|value| &value.$field),
                        );
                    }
                )*
            }
        }
    };
}

/// Declares a game's input: the struct and its [`Payload`](crate::game::Payload) and
/// [`Declared`](crate::game::Declared) impls. Input fields cannot be optional (an input has a
/// fixed size) and the type needs `Default` (what "no input" is).
///
/// ```
/// tickwire_protocol::input! {
///     /// What a player does in one tick.
///     #[derive(Debug, Clone, Copy, PartialEq, Default)]
///     pub struct Controls {
///         /// -1 left, 1 right.
///         pub steer: i8 = int(-1, 1),
///         /// Bit 0: jump.
///         pub buttons: u8 = buttons(1),
///     }
/// }
/// use tickwire_protocol::game::Declared;
/// assert_eq!(Controls::DEFS[0].fields.len(), 2);
/// ```
#[macro_export]
macro_rules! input {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $fvis:vis $field:ident : $ty:ty = $spec:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::game::Payload for $name {
            fn write(&self, w: &mut $crate::schema::FieldWriter<'_>) {
                $( $crate::schema::Field::put(&self.$field, w); )*
            }

            fn read(kind: u16, r: &mut $crate::schema::FieldReader<'_>) -> Option<Self> {
                (kind == 0).then(|| Self { $( $field: $crate::schema::Field::get(r), )* })
            }
        }

        impl $crate::game::Declared for $name {
            const DEFS: &'static [$crate::game::MessageDef] = &[$crate::game::MessageDef {
                name: "input",
                fields: $crate::__field_defs!($($field = $spec),*),
            }];
        }
    };
}

/// Declares a game's events or commands: an enum whose variants have named fields (write
/// `Variant {}` for one without), with its [`Payload`](crate::game::Payload) and
/// [`Declared`](crate::game::Declared) impls. A variant's `kind` on the wire is its position.
///
/// ```
/// tickwire_protocol::messages! {
///     /// Things that happen.
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum Happened {
///         /// A goal, maybe with an assist.
///         Goal {
///             scorer: tickwire_protocol::EntityId = entity(),
///             assist: Option<tickwire_protocol::EntityId> = entity().optional(),
///         },
///         /// The whistle.
///         Whistle {},
///     }
/// }
/// use tickwire_protocol::game::{Declared, Payload};
/// assert_eq!(Happened::Whistle {}.kind(), 1);
/// assert_eq!(Happened::DEFS[0].name, "Goal");
/// ```
#[macro_export]
macro_rules! messages {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident {
                    $(
                        $(#[$fmeta:meta])*
                        $field:ident : $ty:ty = $spec:expr
                    ),* $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant { $( $(#[$fmeta])* $field: $ty, )* },
            )*
        }

        impl $crate::game::Payload for $name {
            fn kind(&self) -> u16 {
                #[allow(dead_code, clippy::enum_variant_names)]
                enum Kind { $($variant),* }
                match *self {
                    $( Self::$variant { .. } => Kind::$variant as u16, )*
                }
            }

            fn write(&self, w: &mut $crate::schema::FieldWriter<'_>) {
                match *self {
                    $(
                        Self::$variant { $(ref $field),* } => {
                            $( $crate::schema::Field::put($field, w); )*
                            let _ = &w;
                        }
                    )*
                }
            }

            fn read(kind: u16, r: &mut $crate::schema::FieldReader<'_>) -> Option<Self> {
                #[allow(dead_code, clippy::enum_variant_names)]
                enum Kind { $($variant),* }
                $(
                    if kind == Kind::$variant as u16 {
                        return Some(Self::$variant { $( $field: $crate::schema::Field::get(r), )* });
                    }
                )*
                let _ = r;
                None
            }
        }

        impl $crate::game::Declared for $name {
            const DEFS: &'static [$crate::game::MessageDef] = &[$(
                $crate::game::MessageDef {
                    name: stringify!($variant),
                    fields: $crate::__field_defs!($($field = $spec),*),
                }
            ),*];
        }
    };
}

/// The `&[FieldDef]` of `name = spec` pairs (the declaration macros' shared part).
#[doc(hidden)]
#[macro_export]
macro_rules! __field_defs {
    ($($field:ident = $spec:expr),*) => {
        &[$(
            $crate::schema::FieldDef::from_spec(stringify!($field), {
                #[allow(unused_imports)]
                use $crate::schema::spec::*;
                $spec
            })
        ),*]
    };
}
