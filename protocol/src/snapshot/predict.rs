//! Per-field prediction and difference rules shared by the encoder and the decoder
//! (`PROTOCOL.md` §6.4). All arithmetic is on integers, so every implementation agrees exactly.

use crate::schema::{FieldCodec, FieldInfo};

/// The value a delta predicts for field `f` of an entity whose baseline values are `base`,
/// `ticks` ticks after the baseline.
#[inline]
pub(crate) fn predict(fields: &[FieldInfo], base: &[u32], f: usize, ticks: i64) -> u32 {
    let info = &fields[f];
    match info.linear {
        None => base[f],
        Some((vel, zero)) => linear(base[f], base[vel], zero, info.max_q, ticks),
    }
}

/// A linear prediction: `value` moved `ticks` times by the velocity whose quantized value is
/// `velocity` (`zero` stands for no motion), clamped to `0..=max_q`.
#[inline]
pub(crate) fn linear(value: u32, velocity: u32, zero: i64, max_q: u32, ticks: i64) -> u32 {
    let v = i64::from(velocity) - zero;
    let p = i64::from(value).saturating_add(v.saturating_mul(ticks));
    p.clamp(0, i64::from(max_q)) as u32
}

/// The signed difference coded for field `f` when the actual value is `cur` and the
/// prediction `pred`. Angles wrap to the shortest way round, in `-2^(bits-1)..2^(bits-1)`.
#[inline]
pub(crate) fn difference(info: &FieldInfo, cur: u32, pred: u32) -> i64 {
    match info.def.codec {
        FieldCodec::Angle { bits } => {
            let modulus = 1i64 << bits;
            let d = (i64::from(cur) - i64::from(pred)).rem_euclid(modulus);
            if d >= modulus / 2 { d - modulus } else { d }
        }
        _ => i64::from(cur) - i64::from(pred),
    }
}

/// Applies a decoded difference; `None` when the result is out of the field's range or the
/// difference is not canonical.
#[inline]
pub(crate) fn apply(info: &FieldInfo, pred: u32, diff: i64) -> Option<u32> {
    match info.def.codec {
        FieldCodec::Angle { bits } => {
            let half = 1i64 << (bits - 1);
            if !(-half..half).contains(&diff) {
                return None;
            }
            Some(((i64::from(pred) + diff).rem_euclid(1i64 << bits)) as u32)
        }
        _ => {
            let v = i64::from(pred).checked_add(diff)?;
            (0..=i64::from(info.max_q)).contains(&v).then_some(v as u32)
        }
    }
}
