//! Field-level differences between a recorded snapshot and a replayed one: what `verify` prints
//! at the first divergent tick.

use std::fmt;

use serde_json::Value;
use tickwire_protocol::snapshot::EntityRef;
use tickwire_protocol::{EntityId, Schema, Snapshot};

use super::json;

/// How one entity differs.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Only the recording has it.
    Missing,
    /// Only the replay has it.
    Extra,
    /// The recording has this component and the replay does not.
    ComponentMissing {
        /// The component's name.
        component: &'static str,
    },
    /// The replay has this component and the recording does not.
    ComponentExtra {
        /// The component's name.
        component: &'static str,
    },
    /// A field's value differs (both as JSON values, from the quantized state).
    Field {
        /// The component's name.
        component: &'static str,
        /// The field's name.
        field: &'static str,
        /// The recorded value.
        recorded: Value,
        /// The replayed value.
        replayed: Value,
    },
}

/// One difference.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The entity.
    pub entity: EntityId,
    /// How it differs.
    pub change: Change,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.entity.0;
        match &self.change {
            Change::Missing => write!(f, "entity {e}: in the recording, not in the replay"),
            Change::Extra => write!(f, "entity {e}: in the replay, not in the recording"),
            Change::ComponentMissing { component } => {
                write!(f, "entity {e} {component}: in the recording, not in the replay")
            }
            Change::ComponentExtra { component } => {
                write!(f, "entity {e} {component}: in the replay, not in the recording")
            }
            Change::Field { component, field, recorded, replayed } => {
                write!(
                    f,
                    "entity {e} {component}.{field}: recorded {recorded}, replayed {replayed}"
                )
            }
        }
    }
}

/// Every difference between `recorded` and `replayed` (both of `schema`), by entity id, then
/// component, then field.
pub fn snapshots(schema: &Schema, recorded: &Snapshot, replayed: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    let (mut r, mut p) = (recorded.iter().peekable(), replayed.iter().peekable());
    loop {
        match (r.peek(), p.peek()) {
            (None, None) => break,
            (Some(a), Some(b)) if a.id == b.id => {
                entity(schema, a, b, &mut out);
                r.next();
                p.next();
            }
            (Some(a), b) if b.is_none_or(|b| a.id < b.id) => {
                out.push(Difference { entity: a.id, change: Change::Missing });
                r.next();
            }
            (_, Some(b)) => {
                out.push(Difference { entity: b.id, change: Change::Extra });
                p.next();
            }
            // invariant: unreachable (the arms above cover every pair), kept total.
            (Some(_), None) => break,
        }
    }
    out
}

fn entity(schema: &Schema, a: &EntityRef<'_>, b: &EntityRef<'_>, out: &mut Vec<Difference>) {
    let push = |out: &mut Vec<Difference>, change| out.push(Difference { entity: a.id, change });
    for (c, info) in schema.components().iter().enumerate() {
        let component = info.def.name;
        match (a.has(c), b.has(c)) {
            (false, false) => {}
            (true, false) => push(out, Change::ComponentMissing { component }),
            (false, true) => push(out, Change::ComponentExtra { component }),
            (true, true) => {
                for i in info.field_range() {
                    let (Some(f), Some(&x), Some(&y)) =
                        (schema.fields().get(i), a.values.get(i), b.values.get(i))
                    else {
                        continue;
                    };
                    if x != y {
                        push(
                            out,
                            Change::Field {
                                component,
                                field: f.def.name,
                                recorded: json::value(f, x),
                                replayed: json::value(f, y),
                            },
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::game::GameProtocol;
    use tickwire_sim::{Game, Playtest};
    use tickwire_tag::{Run, Tag, TagConfig};

    #[test]
    fn names_the_moved_field_the_despawn_and_nothing_else() {
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema().components();
        let mut play = Playtest::<Tag>::new(&TagConfig::default(), 3).expect("config");
        let a = play.join("a").expect("joins");
        let b = play.join("b").expect("joins");
        let (ida, idb) = (play.entity_id(a), play.entity_id(b));
        let before = play.snapshot();
        assert!(snapshots(schema, &before, &before).is_empty());
        play.step(&[(a, Run { x: 1, y: 0 })]);
        play.leave(b);
        let after = play.snapshot();
        let diffs = snapshots(schema, &before, &after);
        assert!(diffs.contains(&Difference { entity: idb, change: Change::Missing }), "{diffs:?}");
        let moved = diffs
            .iter()
            .find(|d| d.entity == ida && matches!(d.change, Change::Field { field: "x", .. }))
            .expect("x moved");
        let Change::Field { recorded, replayed, .. } = &moved.change else { unreachable!() };
        assert!(replayed.as_f64() > recorded.as_f64(), "{moved}");
        assert!(!diffs.iter().any(|d| matches!(d.change, Change::Field { field: "y", .. })));
        assert_eq!(
            Difference { entity: ida, change: Change::Extra }.to_string(),
            format!("entity {}: in the replay, not in the recording", ida.0)
        );
    }
}
