//! Bit-level writer and reader used by the snapshot codec.
//!
//! Bit order (see `PROTOCOL.md` §4.1): bit `i` of the stream is bit `i % 8` of byte `i / 8`, i.e.
//! bytes are filled from their least significant bit. A multi-bit value is written least
//! significant bit first. The last byte is padded with zero bits.
//!
//! Variable-length integers use **Exp-Golomb codes of order k** (`EG(k)`): to code `n`, let
//! `m = n + 2^k`, `L = bit_length(m)`; write `L - k - 1` zero bits, then a one bit, then the low
//! `L - 1` bits of `m` (least significant first). `EG(0)` of 0 is the single bit `1`.
//! Signed values are zigzag-mapped first (`0, -1, 1, -2, ...` → `0, 1, 2, 3, ...`).

use crate::error::SnapshotError;

/// Longest Exp-Golomb prefix (number of leading zeros) a reader accepts: a 64-bit value never
/// needs more, so a longer prefix can only come from hostile input.
const MAX_EG_PREFIX: u32 = 64;

/// Appends bits to a byte buffer.
#[derive(Debug, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Pending bits not yet flushed to `bytes` (low `fill` bits are valid).
    acc: u64,
    fill: u32,
}

impl BitWriter {
    /// A writer that appends to `bytes` (which is cleared first), reusing its allocation.
    pub fn with_buffer(mut bytes: Vec<u8>) -> Self {
        bytes.clear();
        Self { bytes, acc: 0, fill: 0 }
    }

    /// Writes the low `n` bits of `value`, least significant first. `n` must be at most 32.
    #[inline]
    pub fn write(&mut self, value: u32, n: u32) {
        debug_assert!(n <= 32);
        if n == 0 {
            return;
        }
        let masked = u64::from(value) & ((1u64 << n) - 1);
        self.acc |= masked << self.fill;
        self.fill += n;
        while self.fill >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.fill -= 8;
        }
    }

    /// Writes a 64-bit value as two 32-bit halves (low first) when `n > 32`.
    #[inline]
    pub fn write64(&mut self, value: u64, n: u32) {
        if n <= 32 {
            self.write(value as u32, n);
        } else {
            self.write(value as u32, 32);
            self.write((value >> 32) as u32, n - 32);
        }
    }

    /// Writes one bit.
    #[inline]
    pub fn bit(&mut self, b: bool) {
        self.write(u32::from(b), 1);
    }

    /// Writes `n` with the Exp-Golomb code of order `k` (`k <= 15`).
    #[inline]
    pub fn exp_golomb(&mut self, n: u64, k: u32) {
        let m = u128::from(n) + (1u128 << k);
        let len = 128 - m.leading_zeros(); // bit length of m, >= k + 1
        let zeros = len - k - 1;
        // `zeros` zero bits then a one bit.
        let mut z = zeros;
        while z >= 32 {
            self.write(0, 32);
            z -= 32;
        }
        self.write(1 << z, z + 1);
        // The low len - 1 bits of m.
        let low = len - 1;
        let rest = (m & ((1u128 << low) - 1)) as u64;
        self.write64(rest, low);
    }

    /// Writes a signed value: zigzag, then `EG(k)`.
    #[inline]
    pub fn signed_exp_golomb(&mut self, v: i64, k: u32) {
        self.exp_golomb(zigzag(v), k);
    }

    /// Number of bits written so far.
    pub fn bit_len(&self) -> usize {
        self.bytes.len() * 8 + self.fill as usize
    }

    /// Pads to a byte boundary with zero bits and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.fill > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

/// Reads bits from a byte slice. Every read is bounds-checked and returns a typed error.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position in bits from the start of `bytes`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader over `bytes`, positioned at bit 0.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Current position in bits.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bits left to read (including the final byte's padding).
    pub fn remaining(&self) -> usize {
        self.bytes.len() * 8 - self.pos
    }

    /// The eight bytes from the one holding the current bit, as a little-endian word shifted so
    /// that its bit 0 is the current bit: at least 57 valid bits, or every bit left when fewer
    /// remain (zeros follow them).
    #[inline]
    fn window(&self) -> u64 {
        let at = self.pos / 8;
        let word = match self.bytes.get(at..at + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().unwrap_or_default()),
            None => {
                let rest = self.bytes.get(at..).unwrap_or_default();
                let mut word = [0u8; 8];
                word[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(word)
            }
        };
        word >> (self.pos % 8)
    }

    /// Reads `n <= 32` bits, least significant first.
    #[inline]
    pub fn read(&mut self, n: u32) -> Result<u32, SnapshotError> {
        debug_assert!(n <= 32);
        if self.remaining() < n as usize {
            return Err(SnapshotError::UnexpectedEnd { bit: self.pos });
        }
        let value = self.window() & ((1u64 << n) - 1);
        self.pos += n as usize;
        Ok(value as u32)
    }

    /// Reads `n <= 64` bits.
    #[inline]
    pub fn read64(&mut self, n: u32) -> Result<u64, SnapshotError> {
        if n <= 32 {
            Ok(u64::from(self.read(n)?))
        } else {
            let lo = u64::from(self.read(32)?);
            let hi = u64::from(self.read(n - 32)?);
            Ok(lo | (hi << 32))
        }
    }

    /// Reads one bit.
    #[inline]
    pub fn bit(&mut self) -> Result<bool, SnapshotError> {
        Ok(self.read(1)? == 1)
    }

    /// Reads an Exp-Golomb code of order `k`.
    #[inline]
    pub fn exp_golomb(&mut self, k: u32) -> Result<u64, SnapshotError> {
        let start = self.pos;
        let zeros = self.eg_prefix()?;
        let low = zeros + k;
        if low > 64 {
            return Err(SnapshotError::BadVarint { bit: start });
        }
        let rest = u128::from(self.read64(low)?);
        let m = (1u128 << low) | rest;
        let n = m - (1u128 << k);
        u64::try_from(n).map_err(|_| SnapshotError::BadVarint { bit: start })
    }

    /// Reads an Exp-Golomb prefix (zeros, then a one) and returns the number of zeros. A prefix
    /// that ends within the window is found in one count of trailing zeros; a longer one (only
    /// hostile input has one) is read a bit at a time.
    #[inline]
    fn eg_prefix(&mut self) -> Result<u32, SnapshotError> {
        // Zero only when every bit it holds is: the bits past the end, and those the shift
        // brings in at the top, are zeros.
        let window = self.window();
        if window != 0 {
            let zeros = window.trailing_zeros();
            self.pos += zeros as usize + 1;
            return Ok(zeros);
        }
        let start = self.pos;
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros > MAX_EG_PREFIX {
                return Err(SnapshotError::BadVarint { bit: start });
            }
        }
        Ok(zeros)
    }

    /// Reads a zigzag-mapped signed Exp-Golomb code of order `k`.
    #[inline]
    pub fn signed_exp_golomb(&mut self, k: u32) -> Result<i64, SnapshotError> {
        Ok(unzigzag(self.exp_golomb(k)?))
    }

    /// Checks that only zero padding bits (fewer than 8) remain.
    pub fn finish(&self) -> Result<(), SnapshotError> {
        let rem = self.remaining();
        if rem >= 8 {
            return Err(SnapshotError::TrailingBytes { bytes: rem / 8 });
        }
        if rem > 0 {
            let last = self.bytes[self.bytes.len() - 1]; // invariant: rem > 0 implies non-empty
            if last >> (8 - rem) != 0 {
                return Err(SnapshotError::NonZeroPadding);
            }
        }
        Ok(())
    }
}

/// Maps a signed value to an unsigned one: `0, -1, 1, -2, 2` → `0, 1, 2, 3, 4`.
#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Length in bits of `EG(k)` for `n`.
#[inline]
pub fn exp_golomb_len(n: u64, k: u32) -> u32 {
    let m = u128::from(n) + (1u128 << k);
    let len = 128 - m.leading_zeros();
    2 * len - k - 1
}

/// Total `EG(k)` code length of a list of values for every order `k` in `0..=15`, accumulated
/// one value at a time, so that the encoder can choose the cheapest order and the decoder can
/// check that the order it read is that one (`PROTOCOL.md` §6.5) without storing the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderCosts([u64; 16]);

impl OrderCosts {
    /// Adds one value to the list.
    ///
    /// Its code length for every order at once, from two counts of bits instead of sixteen
    /// wide additions: with `b` the bit length of `n` and `t` the number of ones it starts
    /// with, `n + 2^k` is `k + 1` bits long when `k ≥ b`, and otherwise `b` bits, or `b + 1`
    /// when the addition carries out of the top bit, which it does exactly when `k ≥ b − t`.
    /// Branch-free per order, so the sixteen lanes are computed together.
    #[inline]
    pub fn add(&mut self, n: u64) {
        let b = 64 - n.leading_zeros();
        let t = if b == 0 { 0 } else { (!(n << (64 - b))).leading_zeros() };
        for (k, total) in (0u32..).zip(self.0.iter_mut()) {
            // Wraps (and is not used) when `k ≥ b`.
            let below = (2 * b + 2 * u32::from(k + t >= b)).wrapping_sub(k + 1);
            *total += u64::from(if k >= b { k + 1 } else { below });
        }
    }

    /// The order that codes the list in the fewest bits; ties go to the smaller `k`, so an
    /// empty list gives 0.
    pub fn best(&self) -> u32 {
        let mut best_k = 0;
        for k in 1..16 {
            if self.0[k] < self.0[best_k] {
                best_k = k;
            }
        }
        best_k as u32 // invariant: best_k < 16
    }
}

/// The order `k` in `0..=15` that codes `values` in the fewest bits (ties go to the smaller `k`).
pub fn best_exp_golomb_order(values: impl Iterator<Item = u64>) -> u32 {
    let mut costs = OrderCosts::default();
    values.for_each(|v| costs.add(v));
    costs.best()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reader as the spec states it, a bit at a time, for the word reads to match.
    struct BitByBit<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl BitByBit<'_> {
        fn bit(&mut self) -> Result<u64, SnapshotError> {
            let byte = self
                .bytes
                .get(self.pos / 8)
                .ok_or(SnapshotError::UnexpectedEnd { bit: self.pos })?;
            let bit = u64::from(byte >> (self.pos % 8) & 1);
            self.pos += 1;
            Ok(bit)
        }

        fn read(&mut self, n: u32) -> Result<u32, SnapshotError> {
            if self.bytes.len() * 8 - self.pos < n as usize {
                return Err(SnapshotError::UnexpectedEnd { bit: self.pos });
            }
            (0..n).try_fold(0u32, |v, i| Ok(v | (self.bit()? as u32) << i))
        }

        fn exp_golomb(&mut self, k: u32) -> Result<u64, SnapshotError> {
            let start = self.pos;
            let mut zeros = 0;
            while self.bit()? == 0 {
                zeros += 1;
                if zeros > MAX_EG_PREFIX {
                    return Err(SnapshotError::BadVarint { bit: start });
                }
            }
            let low = zeros + k;
            if low > 64 {
                return Err(SnapshotError::BadVarint { bit: start });
            }
            // Like `read64`: halves of at most 32 bits.
            let rest = if low <= 32 {
                u128::from(self.read(low)?)
            } else {
                u128::from(self.read(32)?) | u128::from(self.read(low - 32)?) << 32
            };
            u64::try_from((1u128 << low | rest) - (1u128 << k))
                .map_err(|_| SnapshotError::BadVarint { bit: start })
        }
    }

    #[test]
    fn exp_golomb_known_codes() {
        // EG(0): 0 -> "1", 1 -> "010", 2 -> "011", 3 -> "00100" (written LSB-first in the stream).
        let mut w = BitWriter::default();
        w.exp_golomb(0, 0);
        w.exp_golomb(1, 0);
        w.exp_golomb(2, 0);
        assert_eq!(w.bit_len(), 7);
        let bytes = w.finish();
        // Stream bits: 1 | 0 1 0 | 0 1 1  -> m=2 low bit 0; m=3 low bit 1.
        // bit0=1, bit1=0, bit2=1, bit3=0, bit4=0, bit5=1, bit6=1 => 0b0110_0101
        assert_eq!(bytes, vec![0b0110_0101]);
        assert_eq!(exp_golomb_len(3, 0), 5);
        assert_eq!(exp_golomb_len(0, 3), 4);
    }

    #[test]
    fn spec_worked_examples() {
        // PROTOCOL.md §4.1: u(3) = 5 then u(2) = 2.
        let mut w = BitWriter::default();
        w.write(5, 3);
        w.write(2, 2);
        assert_eq!(w.finish(), [0x15]);
        // §4.2: EG(2) of 9 is 0 1 1 0 1.
        let mut w = BitWriter::default();
        w.exp_golomb(9, 2);
        assert_eq!(w.bit_len(), 5);
        assert_eq!(w.finish(), [0x16]);
        // §4.3: sEG(1) of -3 is 0 1 1 1.
        let mut w = BitWriter::default();
        w.signed_exp_golomb(-3, 1);
        assert_eq!(w.bit_len(), 4);
        assert_eq!(w.finish(), [0x0e]);
        // §4.4: the cost of 5 is not convex in k.
        let costs: Vec<u32> = (0..5).map(|k| exp_golomb_len(5, k)).collect();
        assert_eq!(costs, [5, 4, 5, 4, 5]);
    }

    #[test]
    fn zigzag_maps_small_signed_to_small_unsigned() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
        assert_eq!(unzigzag(u64::MAX), i64::MIN);
    }

    #[test]
    fn reader_rejects_overlong_prefix_and_truncation() {
        let zeros = [0u8; 16];
        assert!(matches!(
            BitReader::new(&zeros).exp_golomb(0),
            Err(SnapshotError::BadVarint { .. })
        ));
        assert!(matches!(BitReader::new(&[0u8]).read(9), Err(SnapshotError::UnexpectedEnd { .. })));
    }

    #[test]
    fn best_order_minimises_bits_and_prefers_small_k() {
        assert_eq!(best_exp_golomb_order(std::iter::empty()), 0);
        // 0 costs 1 bit with k = 0 and 2 with k = 1.
        assert_eq!(best_exp_golomb_order([0, 0, 0].into_iter()), 0);
        // 1 costs 3 bits with k = 0 and 2 with k = 1.
        assert_eq!(best_exp_golomb_order([1].into_iter()), 1);
        // 5 costs 5, 4, 5, 4, 5 bits for k = 0..=4 (not convex): the first minimum wins.
        assert_eq!(best_exp_golomb_order([5].into_iter()), 1);
        // k = 9 costs 12 + 12 + 12 bits, k = 10 costs 11 + 11 + 13, k = 11 costs 12 each.
        assert_eq!(best_exp_golomb_order([1000, 900, 1100].into_iter()), 10);
    }

    proptest! {
        #[test]
        fn roundtrip_mixed(ops in prop::collection::vec((any::<u64>(), 0u32..16, any::<i64>(), 0u32..=32), 0..64)) {
            let mut w = BitWriter::default();
            for &(u, k, s, n) in &ops {
                w.exp_golomb(u, k);
                w.signed_exp_golomb(s, k);
                w.write(u as u32, n);
            }
            let bits = w.bit_len();
            let bytes = w.finish();
            prop_assert_eq!(bytes.len(), bits.div_ceil(8));
            let mut r = BitReader::new(&bytes);
            for &(u, k, s, n) in &ops {
                prop_assert_eq!(r.exp_golomb(k), Ok(u));
                prop_assert_eq!(r.signed_exp_golomb(k), Ok(s));
                let mask = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
                prop_assert_eq!(r.read(n), Ok((u as u32) & mask));
            }
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn word_reads_match_a_bit_by_bit_reader(
            bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(0u8)], 0..40),
            ops in prop::collection::vec((any::<bool>(), 0u32..=32), 0..80),
        ) {
            let mut fast = BitReader::new(&bytes);
            let mut slow = BitByBit { bytes: &bytes, pos: 0 };
            for &(golomb, n) in &ops {
                let (got, want) = if golomb {
                    (fast.exp_golomb(n % 16), slow.exp_golomb(n % 16))
                } else {
                    (fast.read(n).map(u64::from), slow.read(n).map(u64::from))
                };
                let end = got.is_err();
                prop_assert_eq!(got, want);
                if end {
                    break;
                }
                prop_assert_eq!(fast.position(), slow.pos);
            }
        }

        #[test]
        fn order_costs_add_the_code_lengths(
            values in prop::collection::vec(prop_oneof![any::<u64>(), 0u64..70_000], 0..16),
        ) {
            let mut costs = OrderCosts::default();
            values.iter().for_each(|&n| costs.add(n));
            for k in 0u32..16 {
                let total: u64 = values.iter().map(|&n| u64::from(exp_golomb_len(n, k))).sum();
                prop_assert_eq!(costs.0[k as usize], total, "k = {}", k);
            }
        }

        #[test]
        fn exp_golomb_len_matches_writer(n in any::<u64>(), k in 0u32..16) {
            let mut w = BitWriter::default();
            w.exp_golomb(n, k);
            prop_assert_eq!(w.bit_len() as u32, exp_golomb_len(n, k));
        }
    }
}
