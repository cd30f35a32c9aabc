//! The "plain bincode" baseline: what a snapshot would cost sent the obvious way, as a `Vec` of
//! structs with `f32` fields and an id, encoded by bincode's standard configuration
//! (little-endian, variable-length integers: the id and the `Vec` length are varints, each `f32`
//! is 4 bytes).
//!
//! Two shapes, so that the comparison can be made either way:
//! - [`PlainEntity`]: the same state the snapshot carries (position, per-tick velocity, heading,
//!   NPC kind);
//! - [`PlainPose`]: what the benchmark scenario describes an entity as (position, heading, a
//!   small integer), without the velocity a client needs for extrapolation.

use bincode::Encode;
use tickwire_arena::{BODY, Body, HEADING, Heading, NPC, Npc};
use tickwire_protocol::{Schema, Snapshot};

/// One entity with the snapshot's fields, as floats.
#[derive(Debug, Clone, Copy, PartialEq, Default, Encode)]
pub struct PlainEntity {
    /// Network id.
    pub id: u32,
    /// Position x.
    pub x: f32,
    /// Position y.
    pub y: f32,
    /// Displacement per tick, x.
    pub vx: f32,
    /// Displacement per tick, y.
    pub vy: f32,
    /// Heading, radians.
    pub heading: f32,
    /// NPC kind (0 for entities that are not NPCs).
    pub kind: u8,
}

/// One entity with position, heading and a small integer only.
#[derive(Debug, Clone, Copy, PartialEq, Default, Encode)]
pub struct PlainPose {
    /// Network id.
    pub id: u32,
    /// Position x.
    pub x: f32,
    /// Position y.
    pub y: f32,
    /// Heading, radians.
    pub heading: f32,
    /// NPC kind (0 for entities that are not NPCs).
    pub kind: u8,
}

/// The snapshot's entities as [`PlainEntity`]s (dequantized through `schema`, the arena's).
pub fn plain_entities(schema: &Schema, snapshot: &Snapshot) -> Vec<PlainEntity> {
    snapshot
        .iter()
        .map(|e| {
            let body = e.get::<Body>(schema, BODY).unwrap_or_default();
            let heading = e.get::<Heading>(schema, HEADING).unwrap_or_default();
            let npc = e.get::<Npc>(schema, NPC).unwrap_or_default();
            PlainEntity {
                id: e.id.0,
                x: body.x,
                y: body.y,
                vx: body.vx,
                vy: body.vy,
                heading: heading.angle,
                kind: npc.kind,
            }
        })
        .collect()
}

/// The same entities without their velocity.
pub fn poses(entities: &[PlainEntity]) -> Vec<PlainPose> {
    entities
        .iter()
        .map(|e| PlainPose { id: e.id, x: e.x, y: e.y, heading: e.heading, kind: e.kind })
        .collect()
}

/// Encodes `value` with bincode's standard configuration.
pub fn bincode_bytes<T: Encode>(value: &T) -> Vec<u8> {
    // invariant: encoding plain structs into a Vec cannot fail (no I/O, no limit).
    bincode::encode_to_vec(value, bincode::config::standard()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_standard_config() {
        let one = |id| PlainEntity { id, ..PlainEntity::default() };
        // Varint id: 1 byte below 251, 3 bytes (0xfb + u16) up to 65535; five f32s; a u8.
        assert_eq!(bincode_bytes(&one(7)).len(), 1 + 20 + 1);
        assert_eq!(bincode_bytes(&one(1_000)).len(), 3 + 20 + 1);
        let list = vec![one(1), one(2)];
        assert_eq!(bincode_bytes(&list).len(), 1 + 2 * 22);
        assert_eq!(bincode_bytes(&poses(&list)).len(), 1 + 2 * 14);
    }

    #[test]
    fn converts_arena_snapshots() {
        let mut arena = crate::Scenario::new(20, 1.0).arena().expect("valid config");
        let snap = crate::record(&mut arena, 0, 1).pop().expect("one snapshot");
        let plain = plain_entities(tickwire_arena::schema(), &snap);
        assert_eq!(plain.len(), 20);
        assert!(plain.iter().all(|e| e.vx != 0.0 || e.vy != 0.0), "all moving");
        assert!(plain.iter().all(|e| (0.0..=1000.0).contains(&e.x)));
    }
}
