//! [`MessageSchema`]: one validated payload layout (the input, one event or one command), and
//! its bit codec between bytes and [`Values`].
//!
//! A payload is the fields of its declaration in order, bit-packed as in `PROTOCOL.md` §4.1
//! (least significant bit first): an optional field starts with a presence bit (1: present);
//! a present field is its quantized value in exactly the field's `bits` bits. The last byte is
//! padded with zero bits. So every payload has exactly one encoding: a decoder refuses a value
//! above the field's `max_q`, non-zero padding and bytes beyond the last field's, and the input
//! (which may have no optional field) always has the same size.

use crate::bits::{BitReader, BitWriter};
use crate::error::SchemaError;
use crate::schema::{
    FieldCodec, FieldDef, FieldInfo, FieldReader, FieldWriter, Predict, field_max_q,
};

use super::{MAX_PAYLOAD_FIELDS, MessageDef, Payload, PayloadError};

/// The quantized values of one payload: one `u32` per field, and which optional fields are
/// present. Fixed size and `Copy`, so decoding allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Values {
    q: [u32; MAX_PAYLOAD_FIELDS],
    present: u32,
    len: u8,
}

impl Default for Values {
    fn default() -> Self {
        Self { q: [0; MAX_PAYLOAD_FIELDS], present: 0, len: 0 }
    }
}

impl Values {
    /// `len` fields, all zero and absent.
    pub fn zeroed(len: usize) -> Self {
        Self { len: len.min(MAX_PAYLOAD_FIELDS) as u8, ..Self::default() }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the payload has no field.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The quantized values (absent fields read 0).
    pub fn as_slice(&self) -> &[u32] {
        &self.q[..self.len()]
    }

    /// Field `i`'s quantized value, `None` if absent or out of range.
    pub fn get(&self, i: usize) -> Option<u32> {
        (i < self.len() && self.is_present(i)).then(|| self.q[i])
    }

    /// Whether field `i` has a value.
    pub fn is_present(&self, i: usize) -> bool {
        i < self.len() && self.present & (1 << i) != 0
    }

    /// Sets field `i` (ignored out of range; the value is not checked against the field).
    pub fn set(&mut self, i: usize, q: Option<u32>) {
        if i < self.len() {
            self.q[i] = q.unwrap_or(0);
            if q.is_some() {
                self.present |= 1 << i;
            } else {
                self.present &= !(1 << i);
            }
        }
    }

    /// The presence bits (bit `i` for field `i`).
    pub fn presence(&self) -> u32 {
        self.present
    }
}

/// One validated payload layout (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSchema {
    name: &'static str,
    fields: Vec<FieldInfo>,
    max_bits: usize,
}

impl MessageSchema {
    /// Validates a payload declaration: valid names, at most [`MAX_PAYLOAD_FIELDS`] fields, no
    /// predictor (payloads are not delta-coded).
    pub fn new(def: &MessageDef) -> Result<Self, SchemaError> {
        if !crate::schema::valid_name(def.name) {
            return Err(SchemaError::BadName { name: def.name });
        }
        if def.fields.len() > MAX_PAYLOAD_FIELDS {
            return Err(SchemaError::PayloadFields { name: def.name, count: def.fields.len() });
        }
        let mut fields = Vec::with_capacity(def.fields.len());
        let mut max_bits = 0;
        for (i, f) in def.fields.iter().enumerate() {
            let max_q = field_max_q(def.name, f)?;
            if f.predict != Predict::Hold {
                return Err(SchemaError::BadField {
                    component: def.name,
                    field: f.name,
                    why: "payload fields are not predicted (only component fields are)",
                });
            }
            if def.fields[..i].iter().any(|o| o.name == f.name) {
                return Err(SchemaError::BadField {
                    component: def.name,
                    field: f.name,
                    why: "declared twice",
                });
            }
            let info = FieldInfo::new(*f, max_q);
            max_bits += info.bits as usize + usize::from(f.optional);
            fields.push(info);
        }
        Ok(Self { name: def.name, fields, max_bits })
    }

    /// The payload's name (an event's or command's variant name; `input` for the input).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its fields, in wire order.
    pub fn fields(&self) -> &[FieldInfo] {
        &self.fields
    }

    /// The declarations of its fields.
    pub fn defs(&self) -> impl Iterator<Item = &FieldDef> + '_ {
        self.fields.iter().map(|f| &f.def)
    }

    /// The most bits an encoding takes (every optional field present).
    pub fn max_bits(&self) -> usize {
        self.max_bits
    }

    /// The most bytes an encoding takes.
    pub fn max_bytes(&self) -> usize {
        self.max_bits.div_ceil(8)
    }

    /// Whether every encoding has the same size (no optional field).
    pub fn is_fixed_size(&self) -> bool {
        self.fields.iter().all(|f| !f.def.optional)
    }

    /// Encodes `values` (quantized, one per field; values above a field's `max_q` are clamped).
    pub fn encode(&self, values: &Values) -> Vec<u8> {
        let mut w = BitWriter::with_buffer(Vec::with_capacity(self.max_bytes()));
        for (i, f) in self.fields.iter().enumerate() {
            let present = values.is_present(i) || !f.def.optional;
            if f.def.optional {
                w.bit(present);
            }
            if present {
                w.write(values.as_slice().get(i).copied().unwrap_or(0).min(f.max_q), f.bits);
            }
        }
        w.finish()
    }

    /// Decodes and validates a payload (see the module docs for what is refused).
    pub fn decode(&self, bytes: &[u8]) -> Result<Values, PayloadError> {
        if bytes.len() > self.max_bytes() {
            return Err(PayloadError::TooLarge {
                payload: self.name,
                len: bytes.len(),
                max: self.max_bytes(),
            });
        }
        let mut values = Values::zeroed(self.fields.len());
        let mut r = BitReader::new(bytes);
        let short = |_| PayloadError::UnexpectedEnd { payload: self.name, len: bytes.len() };
        for (i, f) in self.fields.iter().enumerate() {
            if f.def.optional && !r.bit().map_err(short)? {
                continue;
            }
            let q = r.read(f.bits).map_err(short)?;
            if q > f.max_q {
                return Err(PayloadError::ValueOutOfRange {
                    payload: self.name,
                    field: f.def.name,
                    value: q,
                    max: f.max_q,
                });
            }
            values.set(i, Some(q));
        }
        r.finish().map_err(|e| match e {
            crate::SnapshotError::NonZeroPadding => {
                PayloadError::NonZeroPadding { payload: self.name }
            }
            _ => PayloadError::TrailingBytes { payload: self.name },
        })?;
        Ok(values)
    }

    /// Quantizes a typed payload into values (what [`encode`](Self::encode) takes).
    pub fn values_of<T: Payload>(&self, payload: &T) -> Values {
        let mut values = Values::zeroed(self.fields.len());
        let (present, written) = {
            let mut w = FieldWriter::new(&self.fields, &mut values.q[..self.fields.len()]);
            payload.write(&mut w);
            (w.present(), w.written())
        };
        debug_assert!(written == self.fields.len(), "{} wrote {written} fields", self.name);
        values.present = present;
        values
    }

    /// Reads a typed payload of variant `kind` from values.
    pub fn read<T: Payload>(&self, kind: u16, values: &Values) -> Option<T> {
        let mut r = FieldReader::with_presence(&self.fields, values.as_slice(), values.present);
        T::read(kind, &mut r)
    }

    /// A byte mask over the (fixed-size) encoding with a 1 in every bit of a
    /// [`FieldCodec::Buttons`] field: what the server clears when it repeats a missing input.
    /// `None` for a payload with optional fields (whose layout varies).
    pub fn momentary_mask(&self) -> Option<Vec<u8>> {
        if !self.is_fixed_size() {
            return None;
        }
        let mut w = BitWriter::with_buffer(Vec::with_capacity(self.max_bytes()));
        for f in &self.fields {
            let ones = if matches!(f.def.codec, FieldCodec::Buttons { .. }) { f.max_q } else { 0 };
            w.write(ones, f.bits);
        }
        Some(w.finish())
    }

    /// `values` with every [`FieldCodec::Buttons`] field released (zero).
    pub fn release_buttons(&self, values: &Values) -> Values {
        let mut out = *values;
        for (i, f) in self.fields.iter().enumerate() {
            if matches!(f.def.codec, FieldCodec::Buttons { .. }) && values.is_present(i) {
                out.set(i, Some(0));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::spec::*;

    const FIELDS: &[FieldDef] = &[
        FieldDef::from_spec("x", int(-127, 127)),
        FieldDef::from_spec("fire", buttons(3)),
        FieldDef::from_spec("hit", entity().optional()),
        FieldDef::from_spec("t", fixed(0.0, 1.0, 0.25)),
    ];

    fn schema() -> MessageSchema {
        MessageSchema::new(&MessageDef { name: "m", fields: FIELDS }).expect("valid")
    }

    #[test]
    fn round_trips_and_has_one_encoding() {
        let s = schema();
        assert_eq!((s.max_bits(), s.max_bytes(), s.is_fixed_size()), (8 + 3 + 33 + 3, 6, false));
        let mut v = Values::zeroed(4);
        v.set(0, Some(127 + 5));
        v.set(1, Some(0b101));
        v.set(3, Some(2));
        let bytes = s.encode(&v);
        // x=132 (8 bits), fire=5 (3 bits), hit absent (1 bit 0), t=2 (3 bits): 15 bits.
        assert_eq!(bytes, [0x84, 0x25]);
        assert_eq!(s.decode(&bytes), Ok(v));
        v.set(2, Some(7));
        let bytes = s.encode(&v);
        assert_eq!(bytes.len(), 6);
        assert_eq!(s.decode(&bytes), Ok(v));
    }

    #[test]
    fn refuses_what_is_not_canonical() {
        let s = schema();
        assert!(matches!(s.decode(&[0xff, 0x05]), Err(PayloadError::ValueOutOfRange { .. })));
        assert!(matches!(s.decode(&[0x84]), Err(PayloadError::UnexpectedEnd { .. })));
        assert!(matches!(s.decode(&[0x84, 0x25 | 0x80]), Err(PayloadError::NonZeroPadding { .. })));
        assert!(matches!(s.decode(&[0x84, 0x25, 0]), Err(PayloadError::TrailingBytes { .. })));
        assert!(matches!(s.decode(&[0; 7]), Err(PayloadError::TooLarge { .. })));
        // t has max_q 4 in 3 bits: 5 is out of range.
        assert!(matches!(
            s.decode(&[0x84, 0x05 | (5 << 4)]),
            Err(PayloadError::ValueOutOfRange { .. })
        ));
    }

    #[test]
    fn buttons_are_released_and_masked() {
        const INPUT: &[FieldDef] =
            &[FieldDef::from_spec("x", int(-1, 1)), FieldDef::from_spec("b", buttons(2))];
        let s = MessageSchema::new(&MessageDef { name: "input", fields: INPUT }).expect("valid");
        assert_eq!(s.momentary_mask(), Some(vec![0b1100]));
        assert_eq!(schema().momentary_mask(), None);
        let mut v = Values::zeroed(2);
        v.set(0, Some(2));
        v.set(1, Some(3));
        let r = s.release_buttons(&v);
        assert_eq!(r.as_slice(), [2, 0]);
    }

    #[test]
    fn rejects_bad_declarations() {
        const DUP: &[FieldDef] =
            &[FieldDef::from_spec("x", uint(3)), FieldDef::from_spec("x", uint(3))];
        assert!(MessageSchema::new(&MessageDef { name: "m", fields: DUP }).is_err());
        const LIN: &[FieldDef] = &[FieldDef::from_spec("x", fixed(0.0, 1.0, 0.5).linear(0))];
        assert!(MessageSchema::new(&MessageDef { name: "m", fields: LIN }).is_err());
        assert!(MessageSchema::new(&MessageDef { name: "9m", fields: &[] }).is_err());
    }
}
