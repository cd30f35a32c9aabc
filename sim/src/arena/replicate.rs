//! The arena's replicated schema and snapshot building.
//!
//! Wire order of components (their index in the schema, used with
//! [`EntityRef::get`](tickwire_protocol::snapshot::EntityRef::get)): [`BODY`], [`HEADING`],
//! [`NPC`], [`PLAYER`]. NPCs carry body, heading and npc; players body, heading and player.
//!
//! | component | field | codec | bits |
//! | --- | --- | --- | --- |
//! | `body` | `x`, `y` | fixed 0..=2047.96875 step 1/32, linear from `vx`, `vy` | 16 |
//! | `body` | `vx`, `vy` | fixed -64..=63.96875 step 1/32 (units per tick) | 12 |
//! | `heading` | `angle` | angle, 10 bits | 10 |
//! | `npc` | `kind` | uint 0..=3 | 2 |
//! | `player` | `health`, `score`, `alive` | uint 255, uint 65535, bool | 8, 16, 1 |
//!
//! Because the world keeps positions and displacements on the 1/32 grid, quantization is exact:
//! a decoded body equals the simulated one bit for bit.

use std::sync::OnceLock;

use tickwire_protocol::schema::{FieldReader, FieldWriter};
use tickwire_protocol::{
    ComponentDef, FieldCodec, FieldDef, Replicate, Schema, Snapshot, SnapshotBuilder,
};

use super::Arena;
use super::components::{Body, Heading, NetId, Npc, Player};
use super::config::{GRID, MAX_COORD, MAX_STEP};

/// Schema index of [`Body`].
pub const BODY: usize = 0;
/// Schema index of [`Heading`].
pub const HEADING: usize = 1;
/// Schema index of [`Npc`].
pub const NPC: usize = 2;
/// Schema index of [`Player`].
pub const PLAYER: usize = 3;

/// Position codec: 16 bits on the 1/32 grid.
pub const POS_CODEC: FieldCodec = FieldCodec::Fixed { min: 0.0, max: MAX_COORD, step: GRID };
/// Per-tick displacement codec: 12 bits on the 1/32 grid.
pub const VEL_CODEC: FieldCodec = FieldCodec::Fixed { min: -64.0, max: MAX_STEP, step: GRID };

/// The arena's replicated schema, named `"arena"` (built once).
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::new("arena", &[Body::DEF, Heading::DEF, Npc::DEF, Player::DEF])
            // invariant: the declaration is constant and checked by `schema_is_valid` below.
            .expect("the arena schema is valid")
    })
}

impl Replicate for Body {
    const DEF: ComponentDef = ComponentDef {
        name: "body",
        fields: &[
            FieldDef::linear("x", POS_CODEC, 2),
            FieldDef::linear("y", POS_CODEC, 3),
            FieldDef::new("vx", VEL_CODEC),
            FieldDef::new("vy", VEL_CODEC),
        ],
    };
    fn write(&self, out: &mut FieldWriter<'_>) {
        out.f32(self.x);
        out.f32(self.y);
        out.f32(self.vx);
        out.f32(self.vy);
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self { x: input.f32(), y: input.f32(), vx: input.f32(), vy: input.f32() }
    }
}

impl Replicate for Heading {
    const DEF: ComponentDef = ComponentDef {
        name: "heading",
        fields: &[FieldDef::new("angle", FieldCodec::Angle { bits: 10 })],
    };
    fn write(&self, out: &mut FieldWriter<'_>) {
        out.f32(self.angle);
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self { angle: input.f32() }
    }
}

impl Replicate for Npc {
    const DEF: ComponentDef =
        ComponentDef { name: "npc", fields: &[FieldDef::new("kind", FieldCodec::UInt { max: 3 })] };
    fn write(&self, out: &mut FieldWriter<'_>) {
        out.u32(self.kind.into());
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self { kind: u8::try_from(input.u32()).unwrap_or(u8::MAX) }
    }
}

impl Replicate for Player {
    const DEF: ComponentDef = ComponentDef {
        name: "player",
        fields: &[
            FieldDef::new("health", FieldCodec::UInt { max: 255 }),
            FieldDef::new("score", FieldCodec::UInt { max: 65_535 }),
            FieldDef::new("alive", FieldCodec::Bool),
        ],
    };
    fn write(&self, out: &mut FieldWriter<'_>) {
        out.u32(self.health.into());
        out.u32(self.score.into());
        out.bool(self.alive);
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self {
            health: u8::try_from(input.u32()).unwrap_or(u8::MAX),
            score: u16::try_from(input.u32()).unwrap_or(u16::MAX),
            alive: input.bool(),
        }
    }
}

impl Arena {
    /// The replicated state of the current tick, built straight from the world. `reuse` (an old
    /// snapshot, or `Snapshot::default()`) lends its allocations.
    ///
    /// NPCs are added first (spawned once, in id order, never despawned) and then players in id
    /// order, so the builder never has to sort.
    pub fn snapshot(&self, reuse: Snapshot) -> Snapshot {
        let mut b = SnapshotBuilder::new(schema(), self.tick, reuse);
        for (id, body, heading, npc) in self.world.query::<(&NetId, &Body, &Heading, &Npc)>().iter()
        {
            b.entity(id.0).set(BODY, body).set(HEADING, heading).set(NPC, npc);
        }
        for slot in &self.players {
            let mut q = self.world.query_one::<(&Body, &Heading, &Player)>(slot.entity);
            if let Ok((body, heading, player)) = q.get() {
                b.entity(slot.id).set(BODY, body).set(HEADING, heading).set(PLAYER, player);
            }
        }
        // invariant: ids come from one increasing counter and each entity is added once.
        b.finish().expect("arena entity ids are unique")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_valid() {
        let s = schema();
        assert_eq!(s.name(), "arena");
        assert_eq!(s.index_of::<Body>(), Some(BODY));
        assert_eq!(s.index_of::<Heading>(), Some(HEADING));
        assert_eq!(s.index_of::<Npc>(), Some(NPC));
        assert_eq!(s.index_of::<Player>(), Some(PLAYER));
        let bits: Vec<u32> = s.fields().iter().map(|f| f.bits).collect();
        assert_eq!(bits, [16, 16, 12, 12, 10, 2, 8, 16, 1]);
        // The velocity codec's zero is a whole step, so linear prediction is exact.
        assert_eq!(s.fields()[0].linear, Some((2, 2048)));
    }

    #[test]
    fn grid_values_quantize_exactly() {
        let fields = &schema().fields()[0..4];
        let body = Body { x: MAX_COORD, y: 0.031_25, vx: -64.0, vy: 3.34375 };
        let mut q = [0u32; 4];
        body.write(&mut FieldWriter::new(fields, &mut q));
        assert_eq!(q, [65_535, 1, 0, 2155]);
        assert_eq!(Body::read(&mut FieldReader::new(fields, &q)), body);
    }
}
