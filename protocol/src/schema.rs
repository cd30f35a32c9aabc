//! Replicated-state schema: a game declares its components and each field's encoding here, once.
//!
//! A component type implements [`Replicate`]: a [`ComponentDef`] (its name and its fields, each with
//! a [`FieldCodec`] and an optional [`Predict`]or) plus `write`/`read` functions that move its
//! values through a [`FieldWriter`]/[`FieldReader`]. A [`Schema`] is the ordered list of those
//! definitions; the snapshot codec works on any schema, so adding a component means adding a
//! type and one line to the game's schema, never touching the codec.
//!
//! Every field is stored **quantized** as a `u32` in `0..=max_q` (see [`FieldCodec`]), so a
//! snapshot holds exactly what the wire carries and `decode(encode(s)) == s` holds bit for bit.
//! The schema's [`hash`](Schema::hash) (FNV-1a 64 over a canonical text form, `PROTOCOL.md` §5)
//! goes into the handshake so that peers with different schemas refuse each other before play.

use std::f64::consts::TAU;

use serde::Serialize;

use crate::error::SchemaError;

mod describe;

pub use describe::{ComponentDescription, FieldDescription, SchemaDescription};

/// Most components a schema may hold (presence is a 32-bit mask per entity).
pub const MAX_COMPONENTS: usize = 32;
/// Most fields a single component may hold.
pub const MAX_FIELDS_PER_COMPONENT: usize = 16;

/// How one field is quantized to an unsigned integer `q` in `0..=max_q`.
///
/// Serialized (in the JSON schema description, `PROTOCOL.md` §5.5) with a `kind` tag named as in
/// the canonical text: `{"kind": "fixed", "min": 0.0, "max": 1000.0, "step": 0.03125}`,
/// `{"kind": "angle", "bits": 10}`, `{"kind": "uint", "max": 100}`, `{"kind": "bool"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FieldCodec {
    /// Fixed point: `q = round((v - min) / step)`, clamped to `0..=round((max - min) / step)`.
    /// Decodes to `min + q * step`. Used for positions and velocities.
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
    /// A boolean (`0` or `1`); a change costs no value bits in a delta, it is a flip.
    Bool,
}

/// How a delta predicts a field from the baseline before coding the difference.
///
/// Serialized with a `kind` tag: `{"kind": "hold"}`, `{"kind": "linear", "velocity": 2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// One field of a replicated component.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldDef {
    /// Field name (for the schema hash and for diagnostics).
    pub name: &'static str,
    /// Quantization.
    pub codec: FieldCodec,
    /// Delta prediction.
    pub predict: Predict,
}

impl FieldDef {
    /// A field predicted as unchanged from the baseline.
    pub const fn new(name: &'static str, codec: FieldCodec) -> Self {
        Self { name, codec, predict: Predict::Hold }
    }

    /// A field predicted linearly from the velocity field at `velocity` in the same component.
    pub const fn linear(name: &'static str, codec: FieldCodec, velocity: u8) -> Self {
        Self { name, codec, predict: Predict::Linear { velocity } }
    }
}

/// A replicated component's declaration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComponentDef {
    /// Component name, unique within a schema.
    pub name: &'static str,
    /// Fields in wire order.
    pub fields: &'static [FieldDef],
}

/// A Rust type that is replicated as one component of a schema.
pub trait Replicate: Sized {
    /// The wire declaration.
    const DEF: ComponentDef;
    /// Writes the fields, in `DEF.fields` order.
    fn write(&self, out: &mut FieldWriter<'_>);
    /// Reads the fields, in `DEF.fields` order.
    fn read(input: &mut FieldReader<'_>) -> Self;
}

/// A field with everything the codec needs precomputed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldInfo {
    /// The declaration.
    pub def: FieldDef,
    /// Largest quantized value.
    pub max_q: u32,
    /// Bits needed for `max_q`.
    pub bits: u32,
    /// For [`Predict::Linear`]: the velocity field's global index and its quantized zero.
    pub linear: Option<(usize, i64)>,
}

/// A component of a built schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentInfo {
    /// The declaration.
    pub def: ComponentDef,
    /// Global index of its first field.
    pub first_field: usize,
}

impl ComponentInfo {
    /// Global field indices of this component.
    pub fn field_range(&self) -> std::ops::Range<usize> {
        self.first_field..self.first_field + self.def.fields.len()
    }
}

/// An ordered, validated set of replicated components.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    name: String,
    components: Vec<ComponentInfo>,
    fields: Vec<FieldInfo>,
    hash: u64,
}

impl Schema {
    /// Builds and validates a schema from component declarations, in wire order.
    pub fn new(name: &str, components: &[ComponentDef]) -> Result<Self, SchemaError> {
        if components.len() > MAX_COMPONENTS {
            return Err(SchemaError::TooManyComponents { count: components.len() });
        }
        let mut infos = Vec::with_capacity(components.len());
        let mut fields = Vec::new();
        for (ci, def) in components.iter().enumerate() {
            if components[..ci].iter().any(|c| c.name == def.name) {
                return Err(SchemaError::DuplicateComponent { name: def.name });
            }
            if def.fields.is_empty() || def.fields.len() > MAX_FIELDS_PER_COMPONENT {
                return Err(SchemaError::FieldCount {
                    component: def.name,
                    count: def.fields.len(),
                });
            }
            let first_field = fields.len();
            for f in def.fields {
                let max_q = field_max_q(def.name, f)?;
                let bits = bits_for(max_q);
                fields.push(FieldInfo { def: *f, max_q, bits, linear: None });
            }
            for (fi, f) in def.fields.iter().enumerate() {
                if let Predict::Linear { velocity } = f.predict {
                    let linear = linear_predictor(def, fi, usize::from(velocity))?;
                    fields[first_field + fi].linear =
                        Some((first_field + usize::from(velocity), linear));
                }
            }
            infos.push(ComponentInfo { def: *def, first_field });
        }
        let hash = fnv1a64(canonical_text(name, components).as_bytes());
        Ok(Self { name: name.to_owned(), components: infos, fields, hash })
    }

    /// The schema's name (part of the hash).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema hash sent in the handshake.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Components in wire order.
    pub fn components(&self) -> &[ComponentInfo] {
        &self.components
    }

    /// All fields in wire order.
    pub fn fields(&self) -> &[FieldInfo] {
        &self.fields
    }

    /// Total number of fields (the per-entity stride of a snapshot).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Index of the component implemented by `T`.
    pub fn index_of<T: Replicate>(&self) -> Option<usize> {
        self.components.iter().position(|c| c.def.name == T::DEF.name && c.def == T::DEF)
    }

    /// The canonical text whose FNV-1a 64 hash is [`Schema::hash`].
    pub fn canonical_text(&self) -> String {
        let defs: Vec<ComponentDef> = self.components.iter().map(|c| c.def).collect();
        canonical_text(&self.name, &defs)
    }
}

fn field_max_q(component: &'static str, f: &FieldDef) -> Result<u32, SchemaError> {
    let bad = |why: &'static str| SchemaError::BadField { component, field: f.name, why };
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
        FieldCodec::Bool => Ok(1),
    }
}

/// Validates a linear predictor and returns the velocity field's quantized zero.
fn linear_predictor(def: &ComponentDef, field: usize, velocity: usize) -> Result<i64, SchemaError> {
    let bad = |why: &'static str| SchemaError::BadField {
        component: def.name,
        field: def.fields[field].name,
        why,
    };
    let Some(vel) = def.fields.get(velocity) else {
        return Err(bad("linear predictor names a missing velocity field"));
    };
    match (def.fields[field].codec, vel.codec) {
        (FieldCodec::Fixed { step: ps, .. }, FieldCodec::Fixed { min, step: vs, .. })
            if ps.to_bits() == vs.to_bits() && velocity != field =>
        {
            let zero = -f64::from(min) / f64::from(vs);
            if min > 0.0 || zero.fract() != 0.0 {
                return Err(bad("velocity range must contain 0 at a whole step"));
            }
            Ok(zero as i64)
        }
        _ => Err(bad("linear predictor needs Fixed value and velocity fields with equal steps")),
    }
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
                let q = ((f64::from(v) - f64::from(min)) / f64::from(step)).round();
                q.clamp(0.0, f64::from(max_q)) as u32
            }
            FieldCodec::Angle { bits } => {
                let turns = f64::from(v).rem_euclid(TAU) / TAU;
                let q = (turns * f64::from(1u32 << bits)).round() as u64;
                (q & u64::from(max_q)) as u32
            }
            FieldCodec::UInt { .. } => (v.round().max(0.0) as u32).min(max_q),
            FieldCodec::Bool => u32::from(v != 0.0),
        }
    }

    /// The float a quantized value stands for.
    pub fn dequantize(&self, q: u32) -> f32 {
        match *self {
            FieldCodec::Fixed { min, step, .. } => {
                (f64::from(min) + f64::from(q) * f64::from(step)) as f32
            }
            FieldCodec::Angle { bits } => (f64::from(q) * TAU / f64::from(1u32 << bits)) as f32,
            FieldCodec::UInt { .. } | FieldCodec::Bool => q as f32,
        }
    }
}

/// Writes a component's fields in order, quantizing each with its codec.
#[derive(Debug)]
pub struct FieldWriter<'a> {
    fields: &'a [FieldInfo],
    out: &'a mut [u32],
    next: usize,
}

impl<'a> FieldWriter<'a> {
    /// A writer for the given fields into `out` (same length).
    pub fn new(fields: &'a [FieldInfo], out: &'a mut [u32]) -> Self {
        debug_assert_eq!(fields.len(), out.len());
        Self { fields, out, next: 0 }
    }

    fn put(&mut self, q: u32) {
        // A `Replicate` impl that writes more fields than it declares is a programming error;
        // the extra value is dropped (and caught by the debug assertion in tests).
        debug_assert!(self.next < self.out.len(), "component wrote more fields than declared");
        if let Some(slot) = self.out.get_mut(self.next) {
            *slot = q;
        }
        self.next += 1;
    }

    /// Writes the next field from a float (any codec).
    pub fn f32(&mut self, v: f32) {
        let q = match self.fields.get(self.next) {
            Some(info) => info.def.codec.quantize(v, info.max_q),
            None => 0,
        };
        self.put(q);
    }

    /// Writes the next field from an unsigned integer (clamped to the field's range).
    pub fn u32(&mut self, v: u32) {
        let max = self.fields.get(self.next).map_or(0, |i| i.max_q);
        self.put(v.min(max));
    }

    /// Writes the next field from a bool.
    pub fn bool(&mut self, v: bool) {
        self.put(u32::from(v));
    }
}

/// Reads a component's fields in order, dequantizing each with its codec.
#[derive(Debug)]
pub struct FieldReader<'a> {
    fields: &'a [FieldInfo],
    values: &'a [u32],
    next: usize,
}

impl<'a> FieldReader<'a> {
    /// A reader over quantized `values` of the given fields.
    pub fn new(fields: &'a [FieldInfo], values: &'a [u32]) -> Self {
        Self { fields, values, next: 0 }
    }

    fn take(&mut self) -> (Option<&'a FieldInfo>, u32) {
        let i = self.next;
        self.next += 1;
        (self.fields.get(i), self.values.get(i).copied().unwrap_or(0))
    }

    /// Reads the next field as a float.
    pub fn f32(&mut self) -> f32 {
        match self.take() {
            (Some(info), q) => info.def.codec.dequantize(q),
            (None, _) => 0.0,
        }
    }

    /// Reads the next field as an unsigned integer.
    pub fn u32(&mut self) -> u32 {
        self.take().1
    }

    /// Reads the next field as a bool.
    pub fn bool(&mut self) -> bool {
        self.take().1 != 0
    }
}

/// The canonical schema text (`PROTOCOL.md` §5): one line per item, floats as the hex of their
/// IEEE-754 bits so that every language produces the same bytes.
fn canonical_text(name: &str, components: &[ComponentDef]) -> String {
    use std::fmt::Write;
    let mut s = format!("tickwire-schema {name}\n");
    for c in components {
        let _ = writeln!(s, "component {}", c.name);
        for f in c.fields {
            let codec = match f.codec {
                FieldCodec::Fixed { min, max, step } => format!(
                    "fixed {:08x} {:08x} {:08x}",
                    min.to_bits(),
                    max.to_bits(),
                    step.to_bits()
                ),
                FieldCodec::Angle { bits } => format!("angle {bits}"),
                FieldCodec::UInt { max } => format!("uint {max}"),
                FieldCodec::Bool => "bool".to_owned(),
            };
            let predict = match f.predict {
                Predict::Hold => "hold".to_owned(),
                Predict::Linear { velocity } => format!("linear {velocity}"),
            };
            let _ = writeln!(s, "field {} {codec} {predict}", f.name);
        }
    }
    s
}

/// FNV-1a, 64-bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const POS: FieldCodec = FieldCodec::Fixed { min: 0.0, max: 1000.0, step: 1.0 / 32.0 };
    const VEL: FieldCodec = FieldCodec::Fixed { min: -32.0, max: 32.0, step: 1.0 / 32.0 };

    #[test]
    fn fnv_known_vector() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn quantization_steps_and_clamps() {
        assert_eq!(bits_for(32000), 15);
        assert_eq!(POS.quantize(1.0, 32000), 32);
        assert_eq!(POS.quantize(-5.0, 32000), 0);
        assert_eq!(POS.quantize(2000.0, 32000), 32000);
        assert_eq!(POS.quantize(f32::NAN, 32000), 0);
        assert_eq!(POS.dequantize(33), 33.0 / 32.0);
        let angle = FieldCodec::Angle { bits: 8 };
        assert_eq!(angle.quantize(std::f32::consts::PI, 255), 128);
        assert_eq!(angle.quantize(-std::f32::consts::FRAC_PI_2, 255), 192);
        assert_eq!(angle.quantize(std::f32::consts::TAU - 0.001, 255), 0);
    }

    #[test]
    fn rejects_bad_declarations() {
        const BAD: &[FieldDef] =
            &[FieldDef::new("x", FieldCodec::Fixed { min: 1.0, max: 0.0, step: 1.0 })];
        let err = Schema::new("t", &[ComponentDef { name: "c", fields: BAD }]);
        assert!(matches!(err, Err(SchemaError::BadField { field: "x", .. })));
        const LIN: &[FieldDef] =
            &[FieldDef::linear("x", POS, 1), FieldDef::new("v", FieldCodec::UInt { max: 3 })];
        let err = Schema::new("t", &[ComponentDef { name: "c", fields: LIN }]);
        assert!(matches!(err, Err(SchemaError::BadField { field: "x", .. })));
        const OK: &[FieldDef] = &[FieldDef::linear("x", POS, 1), FieldDef::new("vx", VEL)];
        let c = ComponentDef { name: "c", fields: OK };
        assert!(matches!(Schema::new("t", &[c, c]), Err(SchemaError::DuplicateComponent { .. })));
        let s = Schema::new("t", &[c]).expect("valid schema");
        assert_eq!(s.fields()[0].linear, Some((1, 1024)));
    }

    /// The `demo` schema of `PROTOCOL.md` §5.3 and §6.8.
    pub(crate) fn demo() -> Schema {
        const BALL: &[FieldDef] = &[
            FieldDef::linear("x", FieldCodec::Fixed { min: 0.0, max: 100.0, step: 0.5 }, 1),
            FieldDef::new("vx", FieldCodec::Fixed { min: -10.0, max: 10.0, step: 0.5 }),
            FieldDef::new("live", FieldCodec::Bool),
        ];
        Schema::new("demo", &[ComponentDef { name: "ball", fields: BALL }]).expect("valid")
    }

    #[test]
    fn spec_worked_example_hash() {
        // PROTOCOL.md §5.4.
        let s = demo();
        let text = "tickwire-schema demo\ncomponent ball\n\
            field x fixed 00000000 42c80000 3f000000 linear 1\n\
            field vx fixed c1200000 41200000 3f000000 hold\n\
            field live bool hold\n";
        assert_eq!(s.canonical_text(), text);
        assert_eq!(text.len(), 154);
        assert_eq!(s.hash(), 0xf5a6_f33f_6949_e09e);
        let q: Vec<(u32, u32)> = s.fields().iter().map(|f| (f.max_q, f.bits)).collect();
        assert_eq!(q, [(200, 8), (40, 6), (1, 1)]);
        assert_eq!(s.fields()[0].linear, Some((1, 20)));
    }

    #[test]
    fn hash_changes_with_any_detail() {
        const A: &[FieldDef] = &[FieldDef::new("x", POS)];
        const B: &[FieldDef] = &[FieldDef::new("x", VEL)];
        let a = Schema::new("t", &[ComponentDef { name: "c", fields: A }]).expect("valid");
        let b = Schema::new("t", &[ComponentDef { name: "c", fields: B }]).expect("valid");
        assert_ne!(a.hash(), b.hash());
        assert!(a.canonical_text().contains("field x fixed 00000000 447a0000 3d000000 hold"));
    }
}
