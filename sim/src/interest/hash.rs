//! [`Map`]: a `HashMap` with a multiplicative hasher for interest's small keys (cells, teams,
//! client ids, view keys).
//!
//! Indexing a tick hashes a cell for every entity in the world (20,000 in the big world);
//! SipHash, the standard map's, costs more than the rest of that work. Its protection against
//! chosen keys is not needed here: the keys are cells of a bounded world, team numbers and ids
//! the server computes, not strings a client sends. Iteration order is never used (lookups
//! only), so results do not depend on the hasher.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map with [`WordHasher`].
pub(crate) type Map<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// The "Fx" hash (rustc's): each word rotated in, then multiplied by an odd constant.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

/// An odd constant whose bits are well spread (rustc's `FxHasher`'s).
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn write_i32(&mut self, i: i32) {
        self.add(u64::from(i as u32));
    }

    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interest::{Cell, ViewKey};

    #[test]
    fn neighbouring_cells_spread_over_the_buckets() {
        // hashbrown takes the bucket from the low bits and a tag from the top 7.
        let hashes: Vec<u64> = (0..32)
            .flat_map(|x| (0..32).map(move |y| Cell(x, y)))
            .map(|c| {
                std::hash::BuildHasher::hash_one(&BuildHasherDefault::<WordHasher>::default(), c)
            })
            .collect();
        let mut low: Vec<u64> = hashes.iter().map(|h| h & 1023).collect();
        low.sort_unstable();
        low.dedup();
        assert!(low.len() > 600, "{} distinct buckets of 1,024 cells", low.len());
        let mut top: Vec<u64> = hashes.iter().map(|h| h >> 57).collect();
        top.sort_unstable();
        top.dedup();
        assert!(top.len() > 100, "{} distinct tags", top.len());
        let mut map: Map<ViewKey, usize> = Map::default();
        map.insert(ViewKey::Around { centre: Cell(1, 2), team: Some(3) }, 1);
        assert_eq!(map.get(&ViewKey::Around { centre: Cell(1, 2), team: Some(3) }), Some(&1));
        assert_eq!(map.get(&ViewKey::Around { centre: Cell(2, 1), team: Some(3) }), None);
    }
}
