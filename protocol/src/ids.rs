//! Newtypes for ticks, entity ids and client ids.

use std::cmp::Ordering;
use std::fmt;

use bincode::{Decode, Encode};
use serde::Serialize;

/// A simulation tick number. Wraps around at `u32::MAX`; compare with [`Tick::diff`] or
/// [`Tick::is_newer_than`] rather than `<`, which does not understand wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, Serialize)]
pub struct Tick(pub u32);

impl Tick {
    /// The tick after this one (wrapping).
    #[must_use]
    pub fn next(self) -> Tick {
        Tick(self.0.wrapping_add(1))
    }

    /// This tick moved by `n` ticks (wrapping; `n` may be negative).
    #[must_use]
    pub fn offset(self, n: i32) -> Tick {
        Tick(self.0.wrapping_add_signed(n))
    }

    /// Signed distance `self - other`, valid while the two are within 2^31 ticks of each other.
    pub fn diff(self, other: Tick) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// Whether `self` comes after `other` (wrapping-aware).
    pub fn is_newer_than(self, other: Tick) -> bool {
        self.diff(other) > 0
    }

    /// Wrapping-aware ordering.
    pub fn wrapping_cmp(self, other: Tick) -> Ordering {
        self.diff(other).cmp(&0)
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A replicated entity's network id, stable for the entity's lifetime and never reused within a
/// room (ids are allocated in increasing order, which keeps them cheap in snapshots).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Encode, Decode, Serialize,
)]
pub struct EntityId(pub u32);

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e{}", self.0)
    }
}

/// A client (connection/session) id, unique within a server process.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Encode, Decode, Serialize,
)]
pub struct ClientId(pub u32);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_wraps() {
        let t = Tick(u32::MAX);
        assert_eq!(t.next(), Tick(0));
        assert!(Tick(0).is_newer_than(t));
        assert_eq!(Tick(2).diff(Tick(u32::MAX - 1)), 4);
        assert_eq!(Tick(5).offset(-7), Tick(u32::MAX - 1));
        assert_eq!(Tick(1).wrapping_cmp(Tick(u32::MAX)), Ordering::Greater);
        assert_eq!(Tick(3).wrapping_cmp(Tick(3)), Ordering::Equal);
    }
}
