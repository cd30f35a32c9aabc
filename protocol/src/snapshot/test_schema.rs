//! A small schema exercising every codec and predictor, for the codec's own tests.

use crate::schema::{
    ComponentDef, FieldCodec, FieldDef, FieldReader, FieldWriter, Replicate, Schema,
};

pub(crate) const POS: FieldCodec = FieldCodec::Fixed { min: 0.0, max: 1000.0, step: 1.0 / 32.0 };
pub(crate) const VEL: FieldCodec = FieldCodec::Fixed { min: -32.0, max: 32.0, step: 1.0 / 32.0 };

/// Position with a linear predictor from velocity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Body {
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) vx: f32,
    pub(crate) vy: f32,
}

impl Replicate for Body {
    const DEF: ComponentDef = ComponentDef {
        name: "body",
        fields: &[
            FieldDef::linear("x", POS, 2),
            FieldDef::linear("y", POS, 3),
            FieldDef::new("vx", VEL),
            FieldDef::new("vy", VEL),
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

/// An angle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Heading(pub(crate) f32);

impl Replicate for Heading {
    const DEF: ComponentDef = ComponentDef {
        name: "heading",
        fields: &[FieldDef::new("a", FieldCodec::Angle { bits: 10 })],
    };
    fn write(&self, out: &mut FieldWriter<'_>) {
        out.f32(self.0);
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self(input.f32())
    }
}

/// Small integers and a flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    pub(crate) health: u32,
    pub(crate) alive: bool,
}

impl Replicate for Stats {
    const DEF: ComponentDef = ComponentDef {
        name: "stats",
        fields: &[
            FieldDef::new("health", FieldCodec::UInt { max: 100 }),
            FieldDef::new("alive", FieldCodec::Bool),
        ],
    };
    fn write(&self, out: &mut FieldWriter<'_>) {
        out.u32(self.health);
        out.bool(self.alive);
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self { health: input.u32(), alive: input.bool() }
    }
}

pub(crate) fn schema() -> Schema {
    Schema::new("test", &[Body::DEF, Heading::DEF, Stats::DEF]).expect("test schema is valid")
}
