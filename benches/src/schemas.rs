//! A copy of a schema with prediction disabled, to measure what linear prediction saves.
//!
//! [`without_prediction`] rebuilds every field with [`FieldDef::new`] (predicted "unchanged from
//! the baseline") instead of [`FieldDef::linear`]; the codecs, and therefore the quantized values
//! and the field layout, are the same, so the same [`Snapshot`](tickwire_protocol::Snapshot)
//! encodes under either schema.

use std::sync::OnceLock;

use anyhow::{Context, ensure};
use tickwire_protocol::schema::Predict;
use tickwire_protocol::{ComponentDef, FieldDef, Schema};

/// `schema` with every field predicted as held. Leaks the rebuilt field lists (a schema needs
/// `'static` declarations), so call it once per schema: [`arena_without_prediction`] does.
pub fn without_prediction(schema: &Schema) -> anyhow::Result<Schema> {
    let components: Vec<ComponentDef> = schema
        .components()
        .iter()
        .map(|c| {
            let fields: Vec<FieldDef> =
                c.def.fields.iter().map(|f| FieldDef::new(f.name, f.codec)).collect();
            ComponentDef { name: c.def.name, fields: Box::leak(fields.into_boxed_slice()) }
        })
        .collect();
    let plain = Schema::new(schema.name(), &components).context("rebuilding the schema")?;
    ensure!(
        plain.field_count() == schema.field_count(),
        "field counts differ: {} vs {}",
        plain.field_count(),
        schema.field_count()
    );
    for (a, b) in schema.fields().iter().zip(plain.fields()) {
        ensure!(
            a.def.name == b.def.name && a.def.codec == b.def.codec && a.bits == b.bits,
            "field {} differs in layout",
            a.def.name
        );
        ensure!(b.def.predict == Predict::Hold && b.linear.is_none(), "{} predicted", b.def.name);
    }
    Ok(plain)
}

/// The arena schema without prediction (built once).
pub fn arena_without_prediction() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // invariant: the arena schema is valid and only its predictors change (checked above
        // and by the test below).
        without_prediction(tickwire_arena::schema()).expect("the arena schema rebuilds")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_predictors_change() {
        let arena = tickwire_arena::schema();
        let plain = arena_without_prediction();
        assert_eq!(plain.field_count(), arena.field_count());
        let linear: Vec<&str> =
            arena.fields().iter().filter(|f| f.linear.is_some()).map(|f| f.def.name).collect();
        assert_eq!(linear, ["x", "y"], "the arena predicts positions only");
        assert!(plain.fields().iter().all(|f| f.linear.is_none()));
        assert_ne!(plain.hash(), arena.hash());
    }
}
