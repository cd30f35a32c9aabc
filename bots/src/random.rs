//! [`RandomBot`]: plays any game from its schema alone, with no game code: every input field
//! gets a uniform value in its declared range, held for a random 0.3–1.5 s (so that movement
//! goes somewhere), and now and then (the first within 0.5–4 s, then every 2–8 s) a random
//! command with random fields. It is
//! a smoke test, a fuzz test and a load test of a game the bots were not compiled with.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use tickwire_client::{InputContext, InputSource};
use tickwire_protocol::GameSchema;
use tickwire_protocol::game::{MessageSchema, Values};
use tickwire_sim::Predict;

/// A bot playing random inputs and commands (see the module docs).
#[derive(Debug)]
pub struct RandomBot<P: Predict> {
    schema: &'static GameSchema,
    rng: Pcg32,
    input: P::Input,
    next_input: Duration,
    next_command: Duration,
}

impl<P: Predict> RandomBot<P> {
    /// A random player of the game `schema` describes, with its own random stream.
    pub fn new(schema: &'static GameSchema, seed: u64) -> Self {
        let mut rng = Pcg32::seed_from_u64(seed);
        let next_command = Duration::from_millis(rng.random_range(500..4000));
        Self { schema, rng, input: P::Input::default(), next_input: Duration::ZERO, next_command }
    }
}

/// Uniform quantized values for every field of `layout` (optional fields present half the
/// time).
pub fn random_values(layout: &MessageSchema, rng: &mut impl Rng) -> Values {
    let mut values = Values::zeroed(layout.fields().len());
    for (i, f) in layout.fields().iter().enumerate() {
        if f.def.optional && rng.random_bool(0.5) {
            continue;
        }
        values.set(i, Some(rng.random_range(0..=f.max_q)));
    }
    values
}

impl<P: Predict> InputSource<P> for RandomBot<P> {
    fn sample(&mut self, ctx: &InputContext<'_, P>) -> P::Input {
        if ctx.now >= self.next_input {
            self.next_input = ctx.now + Duration::from_millis(self.rng.random_range(300..1500));
            let layout = self.schema.input();
            let values = random_values(layout, &mut self.rng);
            if let Some(input) = layout.read(0, &values) {
                self.input = input;
            }
        }
        self.input.clone()
    }

    fn command(&mut self, ctx: &InputContext<'_, P>) -> Option<P::Command> {
        let commands = self.schema.commands();
        if commands.is_empty() || ctx.now < self.next_command {
            return None;
        }
        self.next_command = ctx.now + Duration::from_millis(self.rng.random_range(2000..8000));
        let kind = self.rng.random_range(0..commands.len());
        let layout = &commands[kind];
        layout.read(kind as u16, &random_values(layout, &mut self.rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::schema::FieldDef;
    use tickwire_protocol::schema::spec::*;

    #[test]
    fn values_stay_in_their_declared_ranges() {
        const FIELDS: &[FieldDef] = &[
            FieldDef::from_spec("a", int(-3, 3)),
            FieldDef::from_spec("b", buttons(2)),
            FieldDef::from_spec("c", uint(9).optional()),
        ];
        let def = tickwire_protocol::game::MessageDef { name: "m", fields: FIELDS };
        let layout = MessageSchema::new(&def).expect("valid");
        let mut rng = Pcg32::seed_from_u64(3);
        let mut absent = 0;
        for _ in 0..500 {
            let v = random_values(&layout, &mut rng);
            assert!(v.get(0).is_some_and(|q| q <= 6) && v.get(1).is_some_and(|q| q <= 3));
            match v.get(2) {
                Some(q) => assert!(q <= 9),
                None => absent += 1,
            }
            assert_eq!(layout.decode(&layout.encode(&v)), Ok(v), "always a valid payload");
        }
        assert!((150..350).contains(&absent), "optional fields absent about half the time");
    }
}
