//! Moving typed values in and out of quantized fields: [`FieldWriter`], [`FieldReader`] and the
//! [`Field`] trait that the declaration macros use.
//!
//! A writer quantizes each value with the codec of the field at its cursor and advances; a
//! reader dequantizes. Components and payloads use the same two types: a component's fields are
//! always present, a payload's optional field may be absent ([`FieldWriter::none`],
//! [`FieldReader::is_present`]). A value of another type than the field's codec suggests is
//! converted the obvious way (an `f32` into an `int` field is rounded, an `i32` into a `fixed`
//! field is converted), and out-of-range values are clamped: a writer never fails.

use super::FieldInfo;
use crate::ids::EntityId;

/// Writes a component's or a payload's fields in declaration order, quantizing each.
#[derive(Debug)]
pub struct FieldWriter<'a> {
    fields: &'a [FieldInfo],
    out: &'a mut [u32],
    /// Bit `i` set when field `i` was written with a value (payloads; components ignore it).
    present: u32,
    next: usize,
}

impl<'a> FieldWriter<'a> {
    /// A writer for the given fields into `out` (same length).
    #[inline]
    pub fn new(fields: &'a [FieldInfo], out: &'a mut [u32]) -> Self {
        debug_assert_eq!(fields.len(), out.len());
        Self { fields, out, present: 0, next: 0 }
    }

    /// Which fields received a value (bit `i` for field `i`).
    pub fn present(&self) -> u32 {
        self.present
    }

    /// How many fields were written.
    pub fn written(&self) -> usize {
        self.next
    }

    // Always: a component's `write` is a few of these in a row, on every entity every tick.
    #[inline(always)]
    fn put_with(&mut self, quantize: impl FnOnce(&FieldInfo) -> u32) {
        let i = self.next;
        self.next += 1;
        // A type that writes more fields than it declares is a programming error; the extra
        // value is dropped (and caught by the debug assertion in tests).
        debug_assert!(i < self.out.len(), "wrote more fields than declared");
        if let (Some(info), Some(slot)) = (self.fields.get(i), self.out.get_mut(i)) {
            *slot = quantize(info);
            self.present |= 1 << (i % 32);
        }
    }

    /// Writes the next field from a float (any codec).
    #[inline]
    pub fn f32(&mut self, v: f32) {
        self.put_with(|info| info.quantize(v));
    }

    /// Writes the next field from an unsigned integer (clamped to the field's range).
    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.put_with(|info| info.def.codec.quantize_int(i64::from(v), info.max_q));
    }

    /// Writes the next field from a signed integer (clamped to the field's range).
    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.put_with(|info| info.def.codec.quantize_int(i64::from(v), info.max_q));
    }

    /// Writes the next field from a bool.
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.put_with(|_| u32::from(v));
    }

    /// Writes the next field from an entity id.
    #[inline]
    pub fn entity(&mut self, id: EntityId) {
        self.put_with(|info| id.0.min(info.max_q));
    }

    /// Writes the next field's quantized value as is (clamped to the field's range).
    #[inline]
    pub fn raw(&mut self, q: u32) {
        self.put_with(|info| q.min(info.max_q));
    }

    /// Leaves the next (optional) field absent.
    pub fn none(&mut self) {
        if let Some(slot) = self.out.get_mut(self.next) {
            *slot = 0;
        }
        self.next += 1;
    }

    /// Writes the next field from any [`Field`] value.
    #[inline]
    pub fn put<T: Field>(&mut self, v: &T) {
        v.put(self);
    }
}

/// Where a [`FieldReader`] takes its values from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    /// Quantized values.
    Quantized(&'a [u32]),
    /// Values already dequantized (interpolated between two snapshots).
    Float(&'a [f32]),
}

/// Reads a component's or a payload's fields in declaration order, dequantizing each.
#[derive(Debug, Clone)]
pub struct FieldReader<'a> {
    fields: &'a [FieldInfo],
    source: Source<'a>,
    present: u32,
    next: usize,
}

impl<'a> FieldReader<'a> {
    /// A reader over the quantized `values` of the given fields, all present.
    pub fn new(fields: &'a [FieldInfo], values: &'a [u32]) -> Self {
        Self { fields, source: Source::Quantized(values), present: u32::MAX, next: 0 }
    }

    /// A reader over quantized values where only the fields whose bit is set in `present` have
    /// a value (payloads with optional fields).
    pub fn with_presence(fields: &'a [FieldInfo], values: &'a [u32], present: u32) -> Self {
        Self { fields, source: Source::Quantized(values), present, next: 0 }
    }

    /// A reader over values already dequantized (interpolation).
    pub fn from_floats(fields: &'a [FieldInfo], values: &'a [f32]) -> Self {
        Self { fields, source: Source::Float(values), present: u32::MAX, next: 0 }
    }

    /// Whether the next field has a value.
    pub fn is_present(&self) -> bool {
        self.present & (1 << (self.next % 32)) != 0
    }

    /// How many fields are left to read.
    pub fn remaining(&self) -> usize {
        self.fields.len().saturating_sub(self.next)
    }

    /// Skips the next field.
    pub fn skip(&mut self) {
        self.next += 1;
    }

    fn take(&mut self) -> Option<(&'a FieldInfo, Value)> {
        let i = self.next;
        self.next += 1;
        let info = self.fields.get(i)?;
        let value = match self.source {
            Source::Quantized(v) => Value::Q(*v.get(i)?),
            Source::Float(v) => Value::F(*v.get(i)?),
        };
        Some((info, value))
    }

    /// Reads the next field as a float.
    pub fn f32(&mut self) -> f32 {
        match self.take() {
            Some((info, Value::Q(q))) => info.def.codec.dequantize(q),
            Some((_, Value::F(f))) => f,
            None => 0.0,
        }
    }

    /// Reads the next field as an unsigned integer (negative values read as 0).
    pub fn u32(&mut self) -> u32 {
        match self.take() {
            Some((info, Value::Q(q))) => {
                u32::try_from(info.def.codec.dequantize_int(q).max(0)).unwrap_or(u32::MAX)
            }
            Some((_, Value::F(f))) => f64::from(f).round().clamp(0.0, f64::from(u32::MAX)) as u32,
            None => 0,
        }
    }

    /// Reads the next field as a signed integer (saturating).
    pub fn i32(&mut self) -> i32 {
        match self.take() {
            Some((info, Value::Q(q))) => {
                let v = info.def.codec.dequantize_int(q);
                v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
            }
            Some((_, Value::F(f))) => {
                f64::from(f).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
            }
            None => 0,
        }
    }

    /// Reads the next field as a bool.
    pub fn bool(&mut self) -> bool {
        match self.take() {
            Some((_, Value::Q(q))) => q != 0,
            Some((_, Value::F(f))) => f != 0.0,
            None => false,
        }
    }

    /// Reads the next field as an entity id.
    pub fn entity(&mut self) -> EntityId {
        EntityId(self.raw())
    }

    /// Reads the next field's quantized value as is.
    pub fn raw(&mut self) -> u32 {
        match self.take() {
            Some((_, Value::Q(q))) => q,
            Some((info, Value::F(f))) => info.quantize(f),
            None => 0,
        }
    }

    /// Reads the next field as any [`Field`] value.
    pub fn get<T: Field>(&mut self) -> T {
        T::get(self)
    }
}

#[derive(Debug, Clone, Copy)]
enum Value {
    Q(u32),
    F(f32),
}

/// A Rust type that fills one field of a component or payload. Implemented for `f32`, `bool`,
/// the integer types up to 32 bits, [`EntityId`] and `Option<T>` (an optional payload field).
pub trait Field: Sized {
    /// Writes `self` as the writer's next field.
    fn put(&self, w: &mut FieldWriter<'_>);
    /// Reads the reader's next field.
    fn get(r: &mut FieldReader<'_>) -> Self;

    /// [`Self::put`] of each of `values` into `out`, the slots of one field of consecutive
    /// entities (see [`Replicate::write_column`](super::Replicate::write_column)). The default
    /// puts them one by one; `f32` looks its codec up once for them all.
    #[inline]
    fn put_column<'v, 'o>(
        info: &FieldInfo,
        out: impl Iterator<Item = &'o mut u32>,
        values: impl Iterator<Item = &'v Self>,
    ) where
        Self: 'v,
    {
        let info = std::slice::from_ref(info);
        for (slot, value) in out.zip(values) {
            value.put(&mut FieldWriter::new(info, std::slice::from_mut(slot)));
        }
    }
}

impl Field for f32 {
    #[inline]
    fn put(&self, w: &mut FieldWriter<'_>) {
        w.f32(*self);
    }
    #[inline]
    fn put_column<'v, 'o>(
        info: &FieldInfo,
        out: impl Iterator<Item = &'o mut u32>,
        values: impl Iterator<Item = &'v Self>,
    ) {
        info.quantize_column(out, values.copied());
    }
    fn get(r: &mut FieldReader<'_>) -> Self {
        r.f32()
    }
}

impl Field for bool {
    #[inline]
    fn put(&self, w: &mut FieldWriter<'_>) {
        w.bool(*self);
    }
    fn get(r: &mut FieldReader<'_>) -> Self {
        r.bool()
    }
}

impl Field for EntityId {
    #[inline]
    fn put(&self, w: &mut FieldWriter<'_>) {
        w.entity(*self);
    }
    fn get(r: &mut FieldReader<'_>) -> Self {
        r.entity()
    }
}

macro_rules! unsigned_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            #[inline]
    fn put(&self, w: &mut FieldWriter<'_>) {
                w.u32(u32::from(*self));
            }
            fn get(r: &mut FieldReader<'_>) -> Self {
                <$t>::try_from(r.u32()).unwrap_or(<$t>::MAX)
            }
        }
    )*};
}
unsigned_field!(u8, u16, u32);

macro_rules! signed_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            #[inline]
    fn put(&self, w: &mut FieldWriter<'_>) {
                w.i32(i32::from(*self));
            }
            fn get(r: &mut FieldReader<'_>) -> Self {
                let v = r.i32();
                <$t>::try_from(v).unwrap_or(if v < 0 { <$t>::MIN } else { <$t>::MAX })
            }
        }
    )*};
}
signed_field!(i8, i16, i32);

impl<T: Field> Field for Option<T> {
    #[inline]
    fn put(&self, w: &mut FieldWriter<'_>) {
        match self {
            Some(v) => v.put(w),
            None => w.none(),
        }
    }
    fn get(r: &mut FieldReader<'_>) -> Self {
        if r.is_present() {
            Some(T::get(r))
        } else {
            r.skip();
            None
        }
    }
}
