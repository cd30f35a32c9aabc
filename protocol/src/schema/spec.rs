//! Constructors for field declarations, usable in `const` items and in the declaration macros
//! ([`component!`](crate::component), [`input!`](crate::input),
//! [`messages!`](crate::messages)):
//!
//! ```
//! use tickwire_protocol::schema::spec::*;
//! use tickwire_protocol::schema::{FieldCodec, FieldDef};
//!
//! const X: FieldDef = FieldDef::from_spec("x", fixed(0.0, 100.0, 0.5).linear(2));
//! const HIT: FieldDef = FieldDef::from_spec("hit", entity().optional());
//! assert_eq!(X.codec, FieldCodec::Fixed { min: 0.0, max: 100.0, step: 0.5 });
//! assert!(HIT.optional);
//! ```

use super::field::{FieldCodec, FieldSpec};

/// Fixed point from `min` to `max` in steps of `step` ([`FieldCodec::Fixed`]).
pub const fn fixed(min: f32, max: f32, step: f32) -> FieldSpec {
    FieldSpec::of(FieldCodec::Fixed { min, max, step })
}

/// An angle in radians quantized to `bits` bits ([`FieldCodec::Angle`]).
pub const fn angle(bits: u8) -> FieldSpec {
    FieldSpec::of(FieldCodec::Angle { bits })
}

/// An unsigned integer `0..=max` ([`FieldCodec::UInt`]).
pub const fn uint(max: u32) -> FieldSpec {
    FieldSpec::of(FieldCodec::UInt { max })
}

/// A signed integer `min..=max` ([`FieldCodec::Int`]).
pub const fn int(min: i32, max: i32) -> FieldSpec {
    FieldSpec::of(FieldCodec::Int { min, max })
}

/// A boolean ([`FieldCodec::Bool`]).
pub const fn boolean() -> FieldSpec {
    FieldSpec::of(FieldCodec::Bool)
}

/// `count` momentary buttons as a bit set ([`FieldCodec::Buttons`]).
pub const fn buttons(count: u8) -> FieldSpec {
    FieldSpec::of(FieldCodec::Buttons { count })
}

/// A reference to a replicated entity ([`FieldCodec::Entity`]).
pub const fn entity() -> FieldSpec {
    FieldSpec::of(FieldCodec::Entity)
}
