//! One field's declaration: its [`FieldCodec`] (how a value is quantized to an integer), its
//! [`Predict`]or (components only: how a delta predicts it) and whether it is optional (payloads
//! only: a presence bit). Declarations are `const`: a game writes them with the constructor
//! functions of [`spec`](super::spec) — `fixed(0.0, 100.0, 0.5).linear(2)`, `int(-127, 127)`,
//! `entity().optional()` — and [`FieldDef::from_spec`].

use std::f64::consts::TAU;

use serde::{Deserialize, Serialize};

use crate::error::SchemaError;

/// How one field is quantized to an unsigned integer `q` in `0..=max_q`.
///
/// Serialized (in the JSON description, `PROTOCOL.md` §5.5) with a `kind` tag named as in the
/// canonical text: `{"kind": "fixed", "min": 0.0, "max": 1000.0, "step": 0.03125}`,
/// `{"kind": "angle", "bits": 10}`, `{"kind": "uint", "max": 100}`,
/// `{"kind": "int", "min": -127, "max": 127}`, `{"kind": "bool"}`,
/// `{"kind": "buttons", "count": 3}`, `{"kind": "entity"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FieldCodec {
    /// Fixed point: `q = round((v - min) / step)`, clamped to `0..=round((max - min) / step)`.
    /// Decodes to `min + q * step`. Positions, velocities, analog axes.
    Fixed {
        /// Smallest representable value.
        min: f32,
        /// Largest representable value.
        max: f32,
        /// Quantization step (the precision).
        step: f32,
    },
    /// An angle in radians, wrapped to `[0, 2π)` and quantized to `bits` bits (1..=16):
    /// `q = round(a / 2π · 2^bits) mod 2^bits`. Deltas wrap around.
    Angle {
        /// Bits per angle.
        bits: u8,
    },
    /// An unsigned integer clamped to `0..=max`.
    UInt {
        /// Largest value.
        max: u32,
    },
    /// A signed integer clamped to `min..=max`, carried as `q = v - min`.
    Int {
        /// Smallest value.
        min: i32,
        /// Largest value.
        max: i32,
    },
    /// A boolean (`0` or `1`); in a snapshot delta a change costs no value bits, it is a flip.
    Bool,
    /// `count` (1..=16) momentary buttons as a bit set, bit `i` for button `i`. When the server
    /// repeats a player's last input for a tick whose input is missing, buttons are released
    /// (an action is never repeated); every other input field is held.
    Buttons {
        /// Number of buttons.
        count: u8,
    },
    /// A reference to a replicated entity: its [`EntityId`](crate::EntityId), 32 bits.
    Entity,
}

/// How a snapshot delta predicts a component field from the baseline before coding the
/// difference. Payload fields (inputs, events, commands) are never predicted: they use `Hold`.
///
/// Serialized with a `kind` tag: `{"kind": "hold"}`, `{"kind": "linear", "velocity": 2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Predict {
    /// Predict the baseline's value unchanged.
    Hold,
    /// Predict `base + velocity · ticks`, where `velocity` is the index (within the same
    /// component) of a [`FieldCodec::Fixed`] field with the same `step`, measured in units per
    /// tick. Entities moving in a straight line then cost nothing in a delta.
    Linear {
        /// Index of the velocity field within the component.
        velocity: u8,
    },
}

/// A field's codec with its options, as the constructor functions of
/// [`spec`](super::spec) build it; [`FieldDef::from_spec`] names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// Quantization.
    pub codec: FieldCodec,
    /// Delta prediction (components only).
    pub predict: Predict,
    /// Whether the field may be absent (payloads only).
    pub optional: bool,
}

impl FieldSpec {
    /// A plain field: held, required.
    pub const fn of(codec: FieldCodec) -> Self {
        Self { codec, predict: Predict::Hold, optional: false }
    }

    /// The same field, predicted linearly from the velocity field at index `velocity` of the
    /// same component (components only).
    #[must_use]
    pub const fn linear(self, velocity: u8) -> Self {
        Self { predict: Predict::Linear { velocity }, ..self }
    }

    /// The same field, optional: a presence bit, then the value when present (payloads only).
    #[must_use]
    pub const fn optional(self) -> Self {
        Self { optional: true, ..self }
    }
}

/// One field of a replicated component or of a payload (input, event, command).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldDef {
    /// Field name: 1..=32 characters of `[A-Za-z0-9_]`, not starting with a digit.
    pub name: &'static str,
    /// Quantization.
    pub codec: FieldCodec,
    /// Delta prediction (components only; payload fields must hold).
    pub predict: Predict,
    /// Whether the field may be absent (payloads only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

impl FieldDef {
    /// A required field predicted as unchanged from the baseline.
    pub const fn new(name: &'static str, codec: FieldCodec) -> Self {
        Self { name, codec, predict: Predict::Hold, optional: false }
    }

    /// A field predicted linearly from the velocity field at `velocity` in the same component.
    pub const fn linear(name: &'static str, codec: FieldCodec, velocity: u8) -> Self {
        Self { name, codec, predict: Predict::Linear { velocity }, optional: false }
    }

    /// A field from a [`FieldSpec`].
    pub const fn from_spec(name: &'static str, spec: FieldSpec) -> Self {
        Self { name, codec: spec.codec, predict: spec.predict, optional: spec.optional }
    }
}

/// Longest name of a component, field, event or command, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// Whether `name` can name a component, field, event, command or game: 1..=32 characters of
/// `[A-Za-z0-9_]`, not starting with a digit (names go into the line-based canonical text).
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Largest quantized value of a field, checking the codec's parameters; `owner` names the
/// component or payload in the error.
pub(crate) fn field_max_q(owner: &'static str, f: &FieldDef) -> Result<u32, SchemaError> {
    let bad = |why: &'static str| SchemaError::BadField { component: owner, field: f.name, why };
    if !valid_name(f.name) {
        return Err(bad("names are 1..=32 characters of [A-Za-z0-9_], not starting with a digit"));
    }
    match f.codec {
        FieldCodec::Fixed { min, max, step } => {
            if !(min.is_finite() && max.is_finite() && step.is_finite()) {
                return Err(bad("non-finite bound or step"));
            }
            if !(min < max && step > 0.0) {
                return Err(bad("needs min < max and step > 0"));
            }
            let span = ((f64::from(max) - f64::from(min)) / f64::from(step)).round();
            if span > f64::from(u32::MAX >> 1) {
                return Err(bad("more than 2^31 steps"));
            }
            Ok(span as u32)
        }
        FieldCodec::Angle { bits } => {
            if !(1..=16).contains(&bits) {
                return Err(bad("angle bits must be 1..=16"));
            }
            Ok((1u32 << bits) - 1)
        }
        FieldCodec::UInt { max } => {
            if max == 0 {
                return Err(bad("UInt max must be at least 1"));
            }
            Ok(max)
        }
        FieldCodec::Int { min, max } => {
            let span = i64::from(max) - i64::from(min);
            if !(1..=i64::from(u32::MAX >> 1)).contains(&span) {
                return Err(bad("Int needs min < max and at most 2^31 - 1 between them"));
            }
            Ok(span as u32)
        }
        FieldCodec::Bool => Ok(1),
        FieldCodec::Buttons { count } => {
            if !(1..=16).contains(&count) {
                return Err(bad("buttons count must be 1..=16"));
            }
            Ok((1u32 << count) - 1)
        }
        FieldCodec::Entity => Ok(u32::MAX),
    }
}

/// `x` rounded to the nearest integer, half away from zero: exactly [`f64::round`], without
/// its call into the software `round` of targets without SSE4.1 (the baseline `x86_64`), which
/// was a twentieth of a room's tick with 22,000 entities to quantize. Games that snap values to
/// a grid every tick can use it too.
#[inline]
pub fn round(x: f64) -> f64 {
    // From 2^52 up every f64 is an integer (and NaN and the infinities are themselves).
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    // Exact: `t` is `x` without its fraction, so the difference is the fraction's bits.
    let frac = x - t;
    let r = if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    };
    // `f64::round` keeps the sign of a zero: -0.3 rounds to -0.0.
    r.copysign(x)
}

/// `x / step`, exactly: for a step that is a power of two (1/32, 0.5, 4...: the usual grids),
/// a multiplication by its reciprocal, which is exact, and so is the product of values that come
/// from `f32`s (no product of theirs is subnormal or infinite in `f64`). A division takes about
/// five times as long, and it was most of a quantization.
#[inline]
fn divide(x: f64, step: f64) -> f64 {
    match reciprocal(step) {
        Some(inverse) => x * inverse,
        None => x / step,
    }
}

/// `x.rem_euclid(TAU)`, exactly, without its call to the software `fmod` for an angle already
/// within one turn either way (what games hold: `atan2` gives `-π..=π`).
#[inline]
fn turn(x: f64) -> f64 {
    if (0.0..TAU).contains(&x) {
        // `x % TAU` is `x`, and it is not negative (a -0.0 stays -0.0, as with `rem_euclid`).
        x
    } else if x < 0.0 && x > -TAU {
        // `x % TAU` is `x`, negative: `rem_euclid` adds a turn.
        x + TAU
    } else {
        x.rem_euclid(TAU)
    }
}

/// A field's quantization with what it needs precomputed, for the two codecs that carry
/// continuous values: exactly what [`FieldCodec::quantize`] gives, without its dispatch on the
/// codec, its general rounding and its clamp. A room quantizes every replicated field of every
/// entity each tick (with 22,000 entities of nine fields, 198,000 a tick), so this is the hot
/// path of building a
/// snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fast {
    /// A [`FieldCodec::Fixed`] field whose step is a power of two (1/32, 0.5, 4...: the usual
    /// grids): a subtraction, a multiplication by the step's exact reciprocal, a truncation and
    /// a comparison.
    Grid {
        min: f64,
        /// `1 / step`, exact.
        inverse: f64,
        /// `max_q` as a float.
        top: f64,
        max_q: u32,
    },
    /// A [`FieldCodec::Angle`]: the codec's own arithmetic, rounded by truncation (the value is
    /// never negative).
    Angle {
        /// `2^bits`.
        scale: f64,
        max_q: u32,
    },
}

impl Fast {
    /// The fast path of a codec with `max_q`, when it has one.
    pub(crate) fn of(codec: &FieldCodec, max_q: u32) -> Option<Self> {
        match *codec {
            FieldCodec::Fixed { min, step, .. } => {
                let inverse = reciprocal(f64::from(step))?;
                Some(Self::Grid { min: f64::from(min), inverse, top: f64::from(max_q), max_q })
            }
            FieldCodec::Angle { bits } => {
                Some(Self::Angle { scale: f64::from(1u32 << bits), max_q })
            }
            _ => None,
        }
    }

    /// `codec.quantize(v, max_q)`, exactly.
    #[inline]
    pub(crate) fn quantize(&self, v: f32) -> u32 {
        match *self {
            Self::Grid { min, inverse, top, max_q } => grid(min, inverse, top, max_q, v),
            Self::Angle { scale, max_q } => angle(scale, max_q, v),
        }
    }

    /// [`Self::quantize`] of each of `values` into `out`, with the codec matched once, not per
    /// value: a column of one field of an ECS archetype.
    #[inline]
    pub(crate) fn quantize_column<'o>(
        &self,
        out: impl Iterator<Item = &'o mut u32>,
        values: impl Iterator<Item = f32>,
    ) {
        match *self {
            Self::Grid { min, inverse, top, max_q } => {
                out.zip(values).for_each(|(slot, v)| *slot = grid(min, inverse, top, max_q, v));
            }
            Self::Angle { scale, max_q } => {
                out.zip(values).for_each(|(slot, v)| *slot = angle(scale, max_q, v));
            }
        }
    }
}

/// [`Fast::Grid`]'s quantization.
#[inline(always)]
fn grid(min: f64, inverse: f64, top: f64, max_q: u32, v: f32) -> u32 {
    // Exact: the product of values from `f32`s is neither subnormal nor infinite.
    let x = (f64::from(v) - min) * inverse;
    if x >= 0.0 && x < top {
        // `x` is in `0..max_q`: `round` is the truncation, plus one from a half up (the
        // fraction is exact), and stays within `max_q`.
        half_up(x)
    } else if x >= top && v.is_finite() {
        max_q
    } else {
        // Below the range (a negative rounds to 0 or below, clamped to 0), NaN, or non-finite
        // input (quantized to 0).
        0
    }
}

/// [`Fast::Angle`]'s quantization.
#[inline(always)]
fn angle(scale: f64, max_q: u32, v: f32) -> u32 {
    if !v.is_finite() {
        return 0;
    }
    // `0..=2^bits` (or -0.0): a turn, within one, times a power of two.
    half_up(turn(f64::from(v)) / TAU * scale) & max_q
}

/// `x.round()` for `x` in `0..2^32` (or -0.0): the truncation, plus one from a half up.
#[inline]
fn half_up(x: f64) -> u32 {
    let t = x as u32;
    t + u32::from(x - f64::from(t) >= 0.5)
}

/// The exact reciprocal of `step` when it is a positive power of two whose reciprocal is
/// normal: sign 0, mantissa 0, biased exponent 1..=2045; the reciprocal's biased exponent is
/// then 2046 minus its own.
fn reciprocal(step: f64) -> Option<f64> {
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = step.to_bits();
    let exponent = bits >> 52;
    (bits & MANTISSA == 0 && (1..=2045).contains(&exponent))
        .then(|| f64::from_bits((2046 - exponent) << 52))
}

/// Bits needed to hold `max` (at least 1).
pub fn bits_for(max: u32) -> u32 {
    (32 - max.leading_zeros()).max(1)
}

impl FieldCodec {
    /// Quantizes a float. Non-finite input maps to 0; out-of-range input is clamped.
    pub fn quantize(&self, v: f32, max_q: u32) -> u32 {
        if !v.is_finite() {
            return 0;
        }
        match *self {
            FieldCodec::Fixed { min, step, .. } => {
                let q = round(divide(f64::from(v) - f64::from(min), f64::from(step)));
                q.clamp(0.0, f64::from(max_q)) as u32
            }
            FieldCodec::Angle { bits } => {
                let turns = turn(f64::from(v)) / TAU;
                let q = round(turns * f64::from(1u32 << bits)) as u64;
                (q & u64::from(max_q)) as u32
            }
            FieldCodec::Int { min, .. } => {
                let q = round(f64::from(v)) - f64::from(min);
                q.clamp(0.0, f64::from(max_q)) as u32
            }
            FieldCodec::Bool => u32::from(v != 0.0),
            FieldCodec::UInt { .. } | FieldCodec::Buttons { .. } | FieldCodec::Entity => {
                round(f64::from(v)).clamp(0.0, f64::from(max_q)) as u32
            }
        }
    }

    /// Quantizes a signed integer (clamped to the field's range).
    #[inline]
    pub fn quantize_int(&self, v: i64, max_q: u32) -> u32 {
        match *self {
            FieldCodec::Int { min, .. } => (v - i64::from(min)).clamp(0, i64::from(max_q)) as u32,
            FieldCodec::Fixed { .. } | FieldCodec::Angle { .. } => self.quantize(v as f32, max_q),
            FieldCodec::Bool => u32::from(v != 0),
            FieldCodec::UInt { .. } | FieldCodec::Buttons { .. } | FieldCodec::Entity => {
                v.clamp(0, i64::from(max_q)) as u32
            }
        }
    }

    /// The float a quantized value stands for.
    pub fn dequantize(&self, q: u32) -> f32 {
        match *self {
            FieldCodec::Fixed { min, step, .. } => {
                (f64::from(min) + f64::from(q) * f64::from(step)) as f32
            }
            FieldCodec::Angle { bits } => (f64::from(q) * TAU / f64::from(1u32 << bits)) as f32,
            FieldCodec::Int { min, .. } => (i64::from(min) + i64::from(q)) as f32,
            FieldCodec::UInt { .. }
            | FieldCodec::Bool
            | FieldCodec::Buttons { .. }
            | FieldCodec::Entity => q as f32,
        }
    }

    /// The signed integer a quantized value stands for (floats are rounded).
    pub fn dequantize_int(&self, q: u32) -> i64 {
        match *self {
            FieldCodec::Int { min, .. } => i64::from(min) + i64::from(q),
            FieldCodec::Fixed { .. } | FieldCodec::Angle { .. } => {
                f64::from(self.dequantize(q)).round() as i64
            }
            FieldCodec::UInt { .. }
            | FieldCodec::Bool
            | FieldCodec::Buttons { .. }
            | FieldCodec::Entity => i64::from(q),
        }
    }

    /// Whether values of this codec change continuously, so that a client interpolates them
    /// between two snapshots (fixed point linearly, angles along the shorter arc); every other
    /// codec takes the newer snapshot's value.
    pub fn is_continuous(&self) -> bool {
        matches!(self, FieldCodec::Fixed { .. } | FieldCodec::Angle { .. })
    }

    /// The codec's line in the canonical text (`PROTOCOL.md` §5.4).
    pub(crate) fn canonical(&self) -> String {
        match *self {
            FieldCodec::Fixed { min, max, step } => {
                format!("fixed {:08x} {:08x} {:08x}", min.to_bits(), max.to_bits(), step.to_bits())
            }
            FieldCodec::Angle { bits } => format!("angle {bits}"),
            FieldCodec::UInt { max } => format!("uint {max}"),
            FieldCodec::Int { min, max } => format!("int {min} {max}"),
            FieldCodec::Bool => "bool".to_owned(),
            FieldCodec::Buttons { count } => format!("buttons {count}"),
            FieldCodec::Entity => "entity".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Fast, FieldCodec, FieldDef, TAU, divide, field_max_q, round, turn};
    use crate::schema::spec::fixed;

    /// Halves, neighbours of halves, zeros, the 2^52 edge, the extremes and the non-finite.
    #[test]
    fn round_is_f64_round_on_the_edges() {
        let mut edges = vec![0.0, -0.0, f64::MAX, f64::MIN, f64::INFINITY, -f64::INFINITY];
        edges.extend([f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 4_503_599_627_370_496.0]);
        for i in -2_000..2_000 {
            let half = f64::from(i) + 0.5;
            edges.extend([half, half.next_up(), half.next_down(), f64::from(i)]);
        }
        for big in [2f64.powi(52), 2f64.powi(53), 2f64.powi(62), 2f64.powi(63), 2f64.powi(70)] {
            edges.extend([big, -big, big.next_down(), -big.next_down(), big - 0.5, 0.5 - big]);
        }
        for x in edges {
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "{x:e}");
        }
        assert!(round(f64::NAN).is_nan());
    }

    #[test]
    fn fixed_fields_on_a_power_of_two_step_and_angles_have_a_fast_path() {
        let on = |codec: FieldCodec| Fast::of(&codec, 100).is_some();
        assert!(on(FieldCodec::Fixed { min: 0.0, max: 10.0, step: 0.03125 }));
        assert!(on(FieldCodec::Fixed { min: -1.0, max: 1.0, step: 4.0 }));
        assert!(!on(FieldCodec::Fixed { min: 0.0, max: 10.0, step: 0.1 }));
        assert!(!on(FieldCodec::Fixed { min: 0.0, max: 10.0, step: -0.5 }));
        assert!(on(FieldCodec::Angle { bits: 10 }));
        assert!(!on(FieldCodec::UInt { max: 100 }));
    }

    #[test]
    fn turn_is_rem_euclid_on_the_edges() {
        let mut edges = vec![0.0, -0.0, TAU, -TAU, TAU.next_down(), (-TAU).next_up(), 1e300];
        edges.extend([TAU.next_up(), (-TAU).next_down(), -1e-300, 1e-300, f64::INFINITY]);
        for x in edges {
            assert_eq!(turn(x).to_bits(), x.rem_euclid(TAU).to_bits(), "{x:e}");
        }
        assert!(turn(f64::NAN).is_nan());
    }

    proptest! {
        /// Steps of `f32`s, powers of two or not, and values of `f32`s (differences of two, as
        /// a quantization divides).
        #[test]
        fn divide_is_division(a in any::<f32>(), b in any::<f32>(), e in -140i32..128, step in any::<f32>()) {
            let x = f64::from(a) - f64::from(b);
            for step in [f64::from(2f32.powi(e)), f64::from(step), f64::from(step.abs())] {
                let (got, want) = (divide(x, step), x / step);
                prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{:e} / {:e}", x, step);
            }
        }

        /// The grid's fast path is the codec's quantization, for any value (the non-finite and
        /// the out-of-range included) on grids of any power-of-two step, from any minimum.
        #[test]
        fn a_grid_quantizes_as_its_codec(v in any::<f32>(), near in -1e5f32..1e5, e in -20i32..8, min in -1e4f32..1e4, span in 1f32..1e5) {
            let step = 2f32.powi(e);
            let def = FieldDef::from_spec("f", fixed(min, min + span.max(step), step));
            let codec = def.codec;
            let Ok(max_q) = field_max_q("c", &def) else { return Ok(()) };
            let grid = Fast::of(&codec, max_q).expect("a power-of-two step");
            let edges = [min, min - step / 2.0, min + step / 2.0, min + span, min + span + step / 2.0];
            for v in [v, near, f32::INFINITY, f32::NEG_INFINITY, f32::NAN].into_iter().chain(edges) {
                prop_assert_eq!(grid.quantize(v), codec.quantize(v, max_q), "{:e} on {:?}", v, codec);
            }
        }

        /// The angle's fast path is the codec's quantization, for any value and any width.
        #[test]
        fn an_angle_quantizes_as_its_codec(v in any::<f32>(), near in -20f32..20.0, bits in 1u8..=16) {
            let codec = FieldCodec::Angle { bits };
            let max_q = (1u32 << bits) - 1;
            let fast = Fast::of(&codec, max_q).expect("angles have one");
            let tau = std::f32::consts::TAU;
            let edges = [0.0, -0.0, tau, -tau, tau.next_down(), (-tau).next_up(), 1e30, -1e30];
            let specials = [f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::MIN_POSITIVE];
            for v in [v, near].into_iter().chain(edges).chain(specials) {
                prop_assert_eq!(fast.quantize(v), codec.quantize(v, max_q), "{:e} in {} bits", v, bits);
            }
        }

        #[test]
        fn turn_is_rem_euclid(x in -20.0f64..20.0, bits in any::<u64>()) {
            for x in [x, f64::from_bits(bits)] {
                if x.is_nan() {
                    prop_assert!(turn(x).is_nan());
                } else {
                    prop_assert_eq!(turn(x).to_bits(), x.rem_euclid(TAU).to_bits(), "{:e}", x);
                }
            }
        }

        #[test]
        fn round_is_f64_round(bits in any::<u64>(), x in -1e7f64..1e7) {
            for x in [f64::from_bits(bits), x] {
                if x.is_nan() {
                    prop_assert!(round(x).is_nan());
                } else {
                    prop_assert_eq!(round(x).to_bits(), x.round().to_bits(), "{:e}", x);
                }
            }
        }
    }
}
