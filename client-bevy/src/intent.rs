//! [`NextInput`]: the game's input for the next tick, written by the app every frame.
//!
//! The plugin hands the newest value to the network driver at the end of every frame
//! ([`TickwireSystems::Send`](crate::TickwireSystems::Send)); the driver samples it once per
//! server tick, sends it and predicts it. Axes and aims are whatever the app last wrote when the
//! tick's sample is taken; **buttons** (the fields the schema declares with the `buttons`
//! codec) are latched: a press shorter than a tick still reaches the server once (keep the
//! button set while it is held to keep it held).

use bevy::prelude::*;
use tickwire_protocol::game::{MessageSchema, Values};
use tickwire_protocol::schema::FieldCodec;

/// The input the local player sends at the next tick: the game's input type (see the module
/// docs). Starts as the input's `Default`.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Default, Deref, DerefMut)]
pub struct NextInput<I>(pub I);

/// Button presses kept until an input frame has carried them.
#[derive(Debug, Default)]
pub(crate) struct ButtonLatch {
    /// The latched values of the buttons fields (indexed like the input's fields).
    held: Option<Values>,
}

impl ButtonLatch {
    /// Forgets the latched presses (an input frame went out).
    pub(crate) fn clear(&mut self) {
        self.held = None;
    }

    /// `values` with every button pressed since the last [`clear`](Self::clear) pressed.
    pub(crate) fn latch(&mut self, schema: &MessageSchema, values: &Values) -> Values {
        let mut out = *values;
        let held = self.held.get_or_insert(Values::zeroed(values.len()));
        for (i, f) in schema.fields().iter().enumerate() {
            if !matches!(f.def.codec, FieldCodec::Buttons { .. }) || !values.is_present(i) {
                continue;
            }
            let pressed = held.get(i).unwrap_or(0) | values.get(i).unwrap_or(0);
            held.set(i, Some(pressed));
            out.set(i, Some(pressed));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::game::MessageDef;
    use tickwire_protocol::schema::FieldDef;
    use tickwire_protocol::schema::spec::{buttons, int};

    const FIELDS: &[FieldDef] =
        &[FieldDef::from_spec("x", int(-127, 127)), FieldDef::from_spec("b", buttons(3))];

    fn values(x: u32, b: u32) -> Values {
        let mut v = Values::zeroed(FIELDS.len());
        v.set(0, Some(x));
        v.set(1, Some(b));
        v
    }

    #[test]
    fn presses_stay_until_cleared_axes_follow() {
        let schema = MessageSchema::new(&MessageDef { name: "input", fields: FIELDS })
            .expect("a valid input");
        let mut latch = ButtonLatch::default();
        let a = latch.latch(&schema, &values(10, 0b001));
        assert_eq!((a.get(0), a.get(1)), (Some(10), Some(0b001)));
        // Released before a frame went out, another button pressed: both are sent.
        let b = latch.latch(&schema, &values(20, 0b100));
        assert_eq!((b.get(0), b.get(1)), (Some(20), Some(0b101)));
        latch.clear();
        let c = latch.latch(&schema, &values(30, 0));
        assert_eq!((c.get(0), c.get(1)), (Some(30), Some(0)));
    }
}
