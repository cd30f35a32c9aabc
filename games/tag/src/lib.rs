//! Tag, the smallest complete Tickwire game (the one `docs/write-a-game.md` walks through):
//! runners in a square field; one of them is "it", and touching another runner passes it on.

use hecs::{Entity, World};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tickwire_protocol::game::{GameProtocol, Protocol};
use tickwire_protocol::{EntityId, Tick, component, input, messages};
use tickwire_sim::{Ctx, Game, Inputs, JoinRefusal, JoinRequest, LeaveReason, NetId, PlayerRef};

component! {
    /// A runner: where it is, and whether it is "it".
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Runner as "runner" {
        /// Position, units (on a 1/16 grid).
        pub x: f32 = fixed(0.0, 1023.9375, 0.0625),
        /// Position, units.
        pub y: f32 = fixed(0.0, 1023.9375, 0.0625),
        /// Whether this runner is "it".
        pub it: bool = boolean(),
    }
}

input! {
    /// Which way to run this tick.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Run {
        /// -1 (left), 0 or 1 (right).
        pub x: i8 = int(-1, 1),
        /// -1 (down), 0 or 1 (up).
        pub y: i8 = int(-1, 1),
    }
}

messages! {
    /// What the runners are told.
    #[derive(Debug, Clone, PartialEq)]
    pub enum TagEvent {
        /// `by` tagged `it`: `it` is now "it".
        Tagged {
            /// The runner that was "it".
            by: EntityId = entity(),
            /// The runner that is "it" now.
            it: EntityId = entity(),
        },
        /// A runner waved.
        Waved {
            /// Who.
            who: EntityId = entity(),
        },
    }
}

messages! {
    /// What a runner may ask for besides running.
    #[derive(Debug, Clone, PartialEq)]
    pub enum TagCommand {
        /// Wave at everyone.
        Wave {},
    }
}

/// The game's protocol: its name, version, components and payloads.
#[derive(Debug, Clone, Copy, Default)]
pub struct TagProtocol;

impl Protocol for TagProtocol {
    type Input = Run;
    type Event = TagEvent;
    type Command = TagCommand;
}

impl GameProtocol for TagProtocol {
    const NAME: &'static str = "tag";
    const VERSION: u32 = 1;
    type Components = (Runner,);
}

// Clients draw their own runner from snapshots too (`docs/write-a-game.md` §8 predicts it).
tickwire_sim::no_prediction!(TagProtocol);

/// The host's settings (`--game-config 'tag={"speed":8}'`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TagConfig {
    /// Side of the square field, units (at most 1023).
    pub size: f32,
    /// Distance run per tick, units (a multiple of 1/16).
    pub speed: f32,
    /// Runners closer than this touch, units.
    pub reach: f32,
}

impl Default for TagConfig {
    fn default() -> Self {
        Self { size: 600.0, speed: 4.0, reach: 16.0 }
    }
}

/// Why a config is refused (the server does not start with it).
#[derive(Debug)]
pub struct BadConfig(&'static str);

impl std::fmt::Display for BadConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadConfig {}

impl TagConfig {
    /// Positions must stay on the runner's 1/16 grid and inside its codec's range.
    fn validate(&self) -> Result<(), BadConfig> {
        let on_grid = |v: f32| v.is_finite() && (v * 16.0).fract() == 0.0;
        if !(on_grid(self.size) && (0.0..=1023.0).contains(&self.size)) {
            return Err(BadConfig("size must be a multiple of 1/16 in 0..=1023"));
        }
        if !(on_grid(self.speed) && self.speed > 0.0) {
            return Err(BadConfig("speed must be a positive multiple of 1/16"));
        }
        if !(self.reach.is_finite() && self.reach > 0.0) {
            return Err(BadConfig("reach must be positive"));
        }
        Ok(())
    }
}

/// One room of tag.
#[derive(Debug)]
pub struct Tag {
    config: TagConfig,
    /// The runner that just passed "it" on cannot be tagged back before this tick.
    immune: Option<(Entity, Tick)>,
}

/// The context every hook gets.
type Cx<'a> = Ctx<'a, TagProtocol>;

impl Tag {
    /// The runner that is "it", if anyone plays.
    fn it(world: &World) -> Option<Entity> {
        world.query::<(Entity, &Runner)>().iter().find(|(_, r)| r.it).map(|(e, _)| e)
    }
}

impl Game for Tag {
    type Protocol = TagProtocol;
    type Config = TagConfig;
    type Error = BadConfig;

    fn tick_rate(_: &TagConfig) -> u16 {
        30
    }

    fn create(
        config: &TagConfig,
        _: u64,
        _: &mut World,
        _: &mut Cx<'_>,
    ) -> Result<Self, Self::Error> {
        config.validate()?;
        Ok(Tag { config: config.clone(), immune: None })
    }

    fn join(
        &mut self,
        world: &mut World,
        _: &JoinRequest<'_>,
        ctx: &mut Cx<'_>,
    ) -> Result<Entity, JoinRefusal> {
        // Randomness only from the room's seeded generator: the game stays deterministic.
        let steps = (self.config.size * 16.0) as u32;
        let x = ctx.rng().random_range(0..=steps) as f32 / 16.0;
        let y = ctx.rng().random_range(0..=steps) as f32 / 16.0;
        let it = Self::it(world).is_none();
        Ok(world.spawn((ctx.new_id(), Runner { x, y, it })))
    }

    fn leave(&mut self, world: &mut World, player: PlayerRef, _: LeaveReason, _: &mut Cx<'_>) {
        let was_it = world.get::<&Runner>(player.entity).is_ok_and(|r| r.it);
        let _ = world.despawn(player.entity);
        if was_it {
            // The runner with the smallest id is "it" now (an order every run agrees on).
            let next =
                world.query::<(Entity, &NetId)>().iter().min_by_key(|(_, id)| id.0).map(|(e, _)| e);
            if let Some(mut r) = next.and_then(|e| world.get::<&mut Runner>(e).ok()) {
                r.it = true;
            }
        }
    }

    fn command(&mut self, world: &mut World, player: PlayerRef, cmd: TagCommand, ctx: &mut Cx<'_>) {
        let TagCommand::Wave {} = cmd;
        if let Ok(id) = world.get::<&NetId>(player.entity) {
            ctx.emit(TagEvent::Waved { who: id.0 });
        }
    }

    fn step(&mut self, world: &mut World, inputs: &Inputs<'_, Run>, ctx: &mut Cx<'_>) {
        // Move: whole grid steps, so positions stay exact on every machine.
        let (speed, size) = (self.config.speed, self.config.size);
        for input in inputs {
            if let Ok(mut r) = world.get::<&mut Runner>(input.entity) {
                r.x = (r.x + f32::from(input.input.x) * speed).clamp(0.0, size);
                r.y = (r.y + f32::from(input.input.y) * speed).clamp(0.0, size);
            }
        }
        // Tag: "it" touches the nearest other runner (not the one it was just tagged by).
        let Some(it) = Self::it(world) else { return };
        let (Ok(at), Ok(by)) =
            (world.get::<&Runner>(it).map(|r| *r), world.get::<&NetId>(it).map(|id| id.0))
        else {
            return;
        };
        let immune =
            self.immune.filter(|(_, until)| until.is_newer_than(ctx.tick())).map(|(e, _)| e);
        let reach = self.config.reach * self.config.reach;
        let touched = world
            .query::<(Entity, &NetId, &Runner)>()
            .iter()
            .filter(|(e, _, _)| *e != it && Some(*e) != immune)
            .map(|(e, id, r)| ((r.x - at.x) * (r.x - at.x) + (r.y - at.y) * (r.y - at.y), id.0, e))
            .filter(|(d, _, _)| *d < reach)
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some((_, tagged, e)) = touched {
            for (runner, is_it) in [(it, false), (e, true)] {
                if let Ok(mut r) = world.get::<&mut Runner>(runner) {
                    r.it = is_it;
                }
            }
            self.immune = Some((it, ctx.tick().offset(ctx.tick_rate().into())));
            ctx.emit(TagEvent::Tagged { by, it: tagged });
        }
    }
}
