//! The kart race's bot behaviour (a game plug-in of the bots): **race** drives laps with the
//! game's own [`Autopilot`] from the bot's predicted kart, honks now and then, and repaints its
//! kart every so often (a `Paint` command), so a load test exercises inputs with every button,
//! events for everyone and commands.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use tickwire_client::{InputContext, InputSource};
use tickwire_kart::{Autopilot, KartCommand, KartInput, KartProtocol};

type Ctx<'a> = InputContext<'a, KartProtocol>;

/// Mean time between two repaints of a racing bot.
const PAINT_EVERY: Duration = Duration::from_secs(20);

/// The kart behaviours, as `--behaviour` takes them.
pub const NAMES: [&str; 1] = ["race"];

/// A racing bot.
#[derive(Debug)]
pub struct RaceBot {
    pilot: Autopilot,
    rng: Pcg32,
    next_paint: Duration,
}

impl RaceBot {
    /// A racing bot with its own random stream (which decides when it honks and repaints).
    pub fn new(seed: u64) -> Self {
        let mut rng = Pcg32::seed_from_u64(seed);
        let pilot = Autopilot::honking_every(rng.random_range(150..450));
        let next_paint =
            Duration::from_millis(rng.random_range(0..2 * PAINT_EVERY.as_millis() as u64));
        Self { pilot, rng, next_paint }
    }
}

impl InputSource<KartProtocol> for RaceBot {
    fn sample(&mut self, ctx: &Ctx<'_>) -> KartInput {
        match ctx.state.predicted() {
            Some(kart) => self.pilot.drive(&ctx.state.rules().track, kart),
            None => KartInput::default(),
        }
    }

    fn command(&mut self, ctx: &Ctx<'_>) -> Option<KartCommand> {
        if ctx.now < self.next_paint {
            return None;
        }
        self.next_paint = ctx.now
            + Duration::from_millis(self.rng.random_range(0..2 * PAINT_EVERY.as_millis() as u64));
        Some(KartCommand::Paint { color: self.rng.random_range(0..8) })
    }
}
