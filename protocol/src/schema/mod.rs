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

use serde::Serialize;

use crate::error::SchemaError;

mod access;
mod describe;
mod field;
pub mod spec;

pub use access::{Field, FieldReader, FieldWriter};
pub use describe::{ComponentDescription, FieldDescription, SchemaDescription};
pub(crate) use field::field_max_q;
pub use field::{
    FieldCodec, FieldDef, FieldSpec, MAX_NAME_LEN, Predict, bits_for, round, valid_name,
};

/// Most components a schema may hold (presence is a 32-bit mask per entity).
pub const MAX_COMPONENTS: usize = 32;
/// Most fields a single component may hold.
pub const MAX_FIELDS_PER_COMPONENT: usize = 16;

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

    /// [`Self::write`] for each value of `column` (an ECS archetype's column), into consecutive
    /// rows of a snapshot: value `i` goes to `rows[i * stride..][..fields.len()]`, and the rows
    /// end where they run out. The default calls `write` for each; the
    /// [`component!`](crate::component) macro writes field by field instead, so that each
    /// field's codec is looked up once per column and not once per entity (a room writes every
    /// replicated entity every tick). Both give the same values.
    fn write_column(column: &[Self], fields: &[FieldInfo], rows: &mut [u32], stride: usize) {
        for (i, value) in column.iter().enumerate() {
            let Some(row) = i.checked_mul(stride).and_then(|at| rows.get_mut(at..)) else {
                return;
            };
            let Some(row) = row.get_mut(..fields.len()) else { return };
            value.write(&mut FieldWriter::new(fields, row));
        }
    }
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
    /// A fixed field on a power-of-two step, or an angle: its quantization, precomputed.
    pub(crate) fast: Option<field::Fast>,
}

impl FieldInfo {
    /// A declared field whose largest quantized value is `max_q`.
    pub(crate) fn new(def: FieldDef, max_q: u32) -> Self {
        let fast = field::Fast::of(&def.codec, max_q);
        Self { def, max_q, bits: bits_for(max_q), linear: None, fast }
    }

    /// Quantizes a float: `self.def.codec.quantize(v, self.max_q)`, on a fast path when the
    /// field has one.
    #[inline]
    pub fn quantize(&self, v: f32) -> u32 {
        match &self.fast {
            Some(fast) => fast.quantize(v),
            None => self.def.codec.quantize(v, self.max_q),
        }
    }

    /// [`Self::quantize`] of each of `values` into `out`, with the codec looked up once for
    /// them all (a column of this field: see [`Replicate::write_column`]).
    #[inline]
    pub fn quantize_column<'o>(
        &self,
        out: impl Iterator<Item = &'o mut u32>,
        values: impl Iterator<Item = f32>,
    ) {
        match &self.fast {
            Some(fast) => fast.quantize_column(out, values),
            None => {
                out.zip(values).for_each(|(slot, v)| *slot = self.def.codec.quantize(v, self.max_q))
            }
        }
    }
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
    /// Every field's width, packed (the codec's innermost loops read only this).
    bits: Vec<u32>,
    /// The velocity field and its quantized zero of every linear prediction
    /// ([`Self::is_still`]).
    velocities: Vec<(usize, i64)>,
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
            if !valid_name(def.name) {
                return Err(SchemaError::BadName { name: def.name });
            }
            if def.fields.is_empty() || def.fields.len() > MAX_FIELDS_PER_COMPONENT {
                return Err(SchemaError::FieldCount {
                    component: def.name,
                    count: def.fields.len(),
                });
            }
            let first_field = fields.len();
            for (fi, f) in def.fields.iter().enumerate() {
                let max_q = field_max_q(def.name, f)?;
                if def.fields[..fi].iter().any(|o| o.name == f.name) {
                    return Err(SchemaError::BadField {
                        component: def.name,
                        field: f.name,
                        why: "declared twice",
                    });
                }
                if f.optional {
                    return Err(SchemaError::BadField {
                        component: def.name,
                        field: f.name,
                        why: "component fields cannot be optional (presence is per component)",
                    });
                }
                fields.push(FieldInfo::new(*f, max_q));
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
        let bits = fields.iter().map(|f| f.bits).collect();
        let velocities = fields.iter().filter_map(|f| f.linear).collect();
        Ok(Self { name: name.to_owned(), components: infos, fields, bits, velocities, hash })
    }

    /// Whether an entity with these quantized `values` (all the schema's fields) does not move:
    /// every velocity a linear prediction reads is zero, so every field's prediction is its
    /// value. An entity still in its baseline and with the same values now is unchanged, with
    /// no field to compare.
    #[inline]
    pub fn is_still(&self, values: &[u32]) -> bool {
        self.velocities
            .iter()
            .all(|&(vel, zero)| values.get(vel).map(|&v| i64::from(v)) == Some(zero))
    }

    /// The schema's name (part of the hash).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema hash sent in the handshake.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Every field's width in bits, by global index (as `fields()[i].bits`).
    pub(crate) fn bits(&self) -> &[u32] {
        &self.bits
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

/// The canonical schema text (`PROTOCOL.md` §5.4): one line per item, floats as the hex of their
/// IEEE-754 bits so that every language produces the same bytes.
fn canonical_text(name: &str, components: &[ComponentDef]) -> String {
    let mut s = format!("tickwire-schema {name}\n");
    write_components(&mut s, components);
    s
}

/// The `component` and `field` lines of the canonical text.
pub(crate) fn write_components(s: &mut String, components: &[ComponentDef]) {
    use std::fmt::Write;
    for c in components {
        let _ = writeln!(s, "component {}", c.name);
        for f in c.fields {
            let _ =
                writeln!(s, "field {} {} {}", f.name, f.codec.canonical(), predict_text(f.predict));
        }
    }
}

fn predict_text(p: Predict) -> String {
    match p {
        Predict::Hold => "hold".to_owned(),
        Predict::Linear { velocity } => format!("linear {velocity}"),
    }
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
        const TWICE: &[FieldDef] = &[FieldDef::new("x", VEL), FieldDef::new("x", VEL)];
        let err = Schema::new("t", &[ComponentDef { name: "c", fields: TWICE }]);
        assert!(matches!(
            err,
            Err(SchemaError::BadField { field: "x", why: "declared twice", .. })
        ));
    }

    /// The `demo` schema of `PROTOCOL.md` §5.3 and §6.9.
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
