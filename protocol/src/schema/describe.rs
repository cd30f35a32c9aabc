//! [`SchemaDescription`]: a schema as JSON-ready data, for clients in other languages. The
//! server serves it at `/schema.json`; its shape is specified in `PROTOCOL.md` §5.5 and the
//! golden vectors embed one.

use serde::{Deserialize, Serialize};

use super::{FieldCodec, Predict, Schema};

/// Everything a client needs to decode snapshots of a schema, and to check its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaDescription {
    /// The schema's name.
    pub name: String,
    /// [`Schema::hash`] as 16 lowercase hex digits (a JSON number cannot hold 64 bits exactly).
    pub hash: String,
    /// [`Schema::canonical_text`], whose FNV-1a 64 hash is `hash`.
    pub canonical_text: String,
    /// Total number of fields (the number of per-field code orders in a delta).
    pub field_count: usize,
    /// Components in wire order; component `i` is bit `i` of an entity's presence mask.
    pub components: Vec<ComponentDescription>,
}

/// One component of a [`SchemaDescription`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentDescription {
    /// Component name.
    pub name: String,
    /// Global index of its first field.
    #[serde(default)]
    pub first_field: usize,
    /// Fields in wire order.
    pub fields: Vec<FieldDescription>,
}

/// One field of a [`ComponentDescription`] or of a payload's description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDescription {
    /// Field name.
    pub name: String,
    /// Quantization.
    pub codec: FieldCodec,
    /// Delta prediction; a linear predictor's `velocity` is a field index within the component.
    #[serde(default = "hold")]
    pub predict: Predict,
    /// Whether the field may be absent (payloads only; omitted when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Width of a raw value in bits (derived: a reader recomputes it).
    #[serde(default)]
    pub bits: u32,
    /// Largest quantized value (derived).
    #[serde(default)]
    pub max_q: u32,
    /// For a linear predictor only: the velocity field's quantized value that stands for zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity_zero: Option<i64>,
}

fn hold() -> Predict {
    Predict::Hold
}

impl Schema {
    /// The schema as JSON-ready data (`PROTOCOL.md` §5.5).
    pub fn describe(&self) -> SchemaDescription {
        let components = self
            .components
            .iter()
            .map(|c| ComponentDescription {
                name: c.def.name.to_owned(),
                first_field: c.first_field,
                fields: self.fields[c.field_range()]
                    .iter()
                    .map(|f| FieldDescription {
                        name: f.def.name.to_owned(),
                        codec: f.def.codec,
                        predict: f.def.predict,
                        optional: false,
                        bits: f.bits,
                        max_q: f.max_q,
                        velocity_zero: f.linear.map(|(_, zero)| zero),
                    })
                    .collect(),
            })
            .collect();
        SchemaDescription {
            name: self.name.clone(),
            hash: format!("{:016x}", self.hash),
            canonical_text: self.canonical_text(),
            field_count: self.fields.len(),
            components,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::demo;

    #[test]
    fn describes_the_demo_schema() {
        let json = serde_json::to_string(&demo().describe()).expect("serializable");
        assert!(json.starts_with(r#"{"name":"demo","hash":"f5a6f33f6949e09e","canonical_text":"#));
        assert!(json.contains(
            r#"{"name":"x","codec":{"kind":"fixed","min":0.0,"max":100.0,"step":0.5},"predict":{"kind":"linear","velocity":1},"bits":8,"max_q":200,"velocity_zero":20}"#
        ), "{json}");
        assert!(json.contains(
            r#"{"name":"live","codec":{"kind":"bool"},"predict":{"kind":"hold"},"bits":1,"max_q":1}"#
        ), "{json}");
    }
}
