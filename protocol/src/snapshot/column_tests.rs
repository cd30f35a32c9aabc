//! [`SnapshotBuilder::set_column`] writes a column of an archetype field by field
//! ([`Replicate::write_column`]); these check it gives exactly what writing each entity with
//! [`Replicate::write`] gives, for every codec and for any value (non-finite and out of range
//! included), with the default `write_column` and the one `component!` generates.

use proptest::prelude::*;

use super::test_schema::Body;
use super::*;
use crate::schema::FieldWriter;

crate::component! {
    /// One field of each codec, at an offset in the row (the schema's second component), with
    /// an `f32` on a grid (the fast path), one on a step that is not a power of two, and one
    /// in an integer field.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Mixed as "mixed" {
        grid: f32 = fixed(-100.0, 1000.0, 0.03125),
        tenth: f32 = fixed(0.0, 10.0, 0.1),
        turn: f32 = angle(10),
        count: f32 = uint(300),
        hp: u8 = uint(200),
        delta: i32 = int(-50, 50),
        alive: bool = boolean(),
        keys: u16 = buttons(9),
        who: EntityId = entity(),
    }
}

fn schema() -> Schema {
    Schema::new("columns", &[Body::DEF, Mixed::DEF]).expect("a valid schema")
}

/// Any `f32`, with the special values and the ranges' edges often.
fn float() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<f32>(),
        -200f32..1200.0,
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(-0.0f32),
        Just(1000.0f32),
        Just(-100.0f32 - 1.0 / 64.0),
    ]
}

fn mixed() -> impl Strategy<Value = Mixed> {
    let floats = (float(), float(), float(), float());
    let ints = (any::<u8>(), any::<i32>(), any::<bool>(), any::<u16>(), any::<u32>());
    (floats, ints).prop_map(|((grid, tenth, turn, count), (hp, delta, alive, keys, who))| Mixed {
        grid,
        tenth,
        turn,
        count,
        hp,
        delta,
        alive,
        keys,
        who: EntityId(who),
    })
}

fn body() -> impl Strategy<Value = Body> {
    (float(), float(), float(), float()).prop_map(|(x, y, vx, vy)| Body { x, y, vx, vy })
}

/// The row `T::write` gives `value`, as component `index` of `schema`, in a row of zeros.
fn written<T: Replicate>(schema: &Schema, index: usize, value: &T) -> Vec<u32> {
    let range = schema.components()[index].field_range();
    let mut row = vec![0; schema.field_count()];
    value.write(&mut FieldWriter::new(&schema.fields()[range.clone()], &mut row[range]));
    row
}

proptest! {
    #[test]
    fn a_column_is_written_as_each_entity_would_be(
        mixed in prop::collection::vec(mixed(), 0..40),
        bodies in prop::collection::vec(body(), 0..40),
        before in 0usize..3,
    ) {
        let schema = schema();
        let mut b = SnapshotBuilder::new(&schema, Tick(1), Snapshot::default());
        // Some rows before the archetype's, and a column that may be longer than the rows.
        b.rows((0..before as u32).map(EntityId));
        let first = b.rows((0..mixed.len() as u32).map(|i| EntityId(100 + i)));
        b.set_column(1, first, &mixed);
        b.set_column(0, first, &bodies);
        let snap = b.finish().expect("unique ids");
        prop_assert_eq!(snap.len(), before + mixed.len());
        for (i, value) in mixed.iter().enumerate() {
            let row = snap.entity(first + i).expect("a row");
            let mut want = written(&schema, 1, value);
            let mut mask = 0b10;
            if let Some(body) = bodies.get(i) {
                let body_row = written(&schema, 0, body);
                want[..4].copy_from_slice(&body_row[..4]);
                mask |= 0b01;
            }
            prop_assert_eq!(row.values, &want[..], "entity {} of {:?}", i, value);
            prop_assert_eq!(row.mask, mask);
        }
        for i in 0..before {
            let row = snap.entity(i).expect("a row");
            prop_assert_eq!(row.mask, 0);
            prop_assert!(row.values.iter().all(|&v| v == 0));
        }
    }
}
