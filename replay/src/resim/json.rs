//! Snapshots and events as JSON, with the schema's component and field names and each
//! quantized value as the number (or boolean) it stands for: what `inspect` prints and
//! `export` writes.

use serde_json::{Map, Value, json};
use tickwire_protocol::game::{GameSchema, MessageSchema};
use tickwire_protocol::schema::FieldInfo;
use tickwire_protocol::snapshot::EntityRef;
use tickwire_protocol::{FieldCodec, Schema, Snapshot};
use tickwire_sim::Audience;

use super::ReplayedEvent;

/// A quantized value as JSON: fixed point and angles as floats, integers as integers, booleans
/// as booleans, buttons as their bit set, entity references as the id.
pub fn value(field: &FieldInfo, q: u32) -> Value {
    match field.def.codec {
        FieldCodec::Fixed { .. } | FieldCodec::Angle { .. } => {
            json!(f64::from(field.def.codec.dequantize(q)))
        }
        FieldCodec::Int { .. } => json!(field.def.codec.dequantize_int(q)),
        FieldCodec::Bool => json!(q != 0),
        FieldCodec::UInt { .. } | FieldCodec::Buttons { .. } | FieldCodec::Entity => json!(q),
    }
}

/// One entity: `{"id": 3, "components": {"pos": {"x": 1.5, ...}, ...}}` (present components
/// only).
pub fn entity(schema: &Schema, e: &EntityRef<'_>) -> Value {
    let mut components = Map::new();
    for (c, info) in schema.components().iter().enumerate() {
        if !e.has(c) {
            continue;
        }
        let mut fields = Map::new();
        for i in info.field_range() {
            let (Some(f), Some(&q)) = (schema.fields().get(i), e.values.get(i)) else { continue };
            fields.insert(f.def.name.to_owned(), value(f, q));
        }
        components.insert(info.def.name.to_owned(), Value::Object(fields));
    }
    json!({ "id": e.id.0, "components": components })
}

/// A whole snapshot: `{"tick": 30, "entities": [...]}`, entities in ascending id order.
pub fn snapshot(schema: &Schema, s: &Snapshot) -> Value {
    let entities: Vec<Value> = s.iter().map(|e| entity(schema, &e)).collect();
    json!({ "tick": s.tick().0, "entities": entities })
}

/// A payload's fields by name, decoded with `message` (absent optional fields are `null`);
/// `None` if the payload does not decode.
pub fn payload(message: &MessageSchema, bytes: &[u8]) -> Option<Value> {
    let values = message.decode(bytes).ok()?;
    let mut fields = Map::new();
    for (i, f) in message.fields().iter().enumerate() {
        let v = values.get(i).map_or(Value::Null, |q| value(f, q));
        fields.insert(f.def.name.to_owned(), v);
    }
    Some(Value::Object(fields))
}

/// An event: `{"tick": 12, "event": "tagged", "audience": "all", "fields": {...}}`.
pub fn event(schema: &GameSchema, e: &ReplayedEvent) -> Value {
    let message = schema.events().get(usize::from(e.kind));
    let name = message.map_or("?", |m| m.name());
    let fields = message.and_then(|m| payload(m, &e.payload)).unwrap_or(Value::Null);
    json!({ "tick": e.tick.0, "event": name, "audience": audience(e.audience), "fields": fields })
}

/// An audience as JSON: `"all"`, `{"only": 3}` or `{"all_but": 3}`.
pub fn audience(a: Audience) -> Value {
    match a {
        Audience::All => json!("all"),
        Audience::Only(c) => json!({ "only": c.0 }),
        Audience::AllBut(c) => json!({ "all_but": c.0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::game::GameProtocol;
    use tickwire_sim::{Game, Playtest};
    use tickwire_tag::{Tag, TagConfig};

    #[test]
    fn a_tag_snapshot_names_its_components_and_fields() {
        let mut play = Playtest::<Tag>::new(&TagConfig::default(), 3).expect("config");
        let a = play.join("a").expect("joins");
        let id = play.entity_id(a);
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema().components();
        let snap = play.snapshot();
        let v = snapshot(schema, &snap);
        let e = v["entities"]
            .as_array()
            .and_then(|es| es.iter().find(|e| e["id"] == json!(id.0)))
            .expect("the runner");
        let runner = &e["components"]["runner"];
        assert!(runner["x"].is_f64(), "{runner}");
        assert!(runner["it"].is_boolean(), "{runner}");
        let ours = snap.get(id).expect("in the snapshot");
        let x = ours.get::<tickwire_tag::Runner>(schema, 0).expect("a runner").x;
        assert_eq!(runner["x"].as_f64(), Some(f64::from(x)));
    }
}
