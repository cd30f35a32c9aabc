//! The arena's bot behaviours (a game plug-in of the bots): [`ArenaBehaviour`] names them,
//! [`ArenaBot`] plays them as the client's [`InputSource`].
//!
//! - **idle**: stands still (it still sends an input every tick, like a real idle player).
//! - **wander**: walks in a random direction, turning every one to three seconds or as soon as
//!   a wall stops it.
//! - **fight**: picks the nearest living player (re-chosen twice a second, from the newest
//!   snapshot's player entities), walks toward it until within [`ENGAGE_RANGE`], then strafes;
//!   it fires whenever the target is within weapon range. It aims where the target is **drawn**
//!   (interpolated at the render time it reports as its view time, which is what the server's
//!   lag compensation rewinds to) from where it **will be** when the shot is fired (its
//!   predicted position after this tick's movement), so its shots hit.

use std::time::Duration;

use glam::Vec2;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use tickwire_arena::{ArenaInput, ArenaProtocol, BODY, Body, PLAYER, Player};
use tickwire_client::{InputContext, InputSource};
use tickwire_protocol::EntityId;

type Ctx<'a> = InputContext<'a, ArenaProtocol>;

/// Distance below which a fighting bot stops closing in and strafes.
pub const ENGAGE_RANGE: f32 = 150.0;
/// How often a fighting bot re-chooses its target.
const RETARGET: Duration = Duration::from_millis(500);

/// What an arena bot does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArenaBehaviour {
    /// Stand still.
    Idle,
    /// Walk around at random.
    Wander,
    /// Hunt the nearest player and shoot it.
    Fight,
}

impl ArenaBehaviour {
    /// Every behaviour's name, as `--behaviour` takes it.
    pub const NAMES: [&'static str; 3] = ["idle", "wander", "fight"];

    /// The behaviour called `name`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "idle" => Some(Self::Idle),
            "wander" => Some(Self::Wander),
            "fight" => Some(Self::Fight),
            _ => None,
        }
    }
}

/// One arena bot's behaviour state.
#[derive(Debug)]
pub struct ArenaBot {
    behaviour: ArenaBehaviour,
    rng: Pcg32,
    heading: Vec2,
    next_turn: Duration,
    last_pos: Option<Vec2>,
    target: Option<EntityId>,
    next_retarget: Duration,
    strafe: f32,
}

impl ArenaBot {
    /// A bot doing `behaviour`, with its own random stream.
    pub fn new(behaviour: ArenaBehaviour, seed: u64) -> Self {
        Self {
            behaviour,
            rng: Pcg32::seed_from_u64(seed),
            heading: Vec2::X,
            next_turn: Duration::ZERO,
            last_pos: None,
            target: None,
            next_retarget: Duration::ZERO,
            strafe: 1.0,
        }
    }

    fn turn(&mut self, now: Duration) {
        let a = self.rng.random_range(0.0..std::f32::consts::TAU);
        self.heading = Vec2::from_angle(a);
        self.next_turn = now + Duration::from_millis(self.rng.random_range(1000..3000));
    }

    fn wander(&mut self, ctx: &Ctx<'_>) -> ArenaInput {
        let pos = ctx.state.predicted().map(|s| s.pos);
        let stuck = pos.is_some() && pos == self.last_pos;
        self.last_pos = pos;
        if stuck || ctx.now >= self.next_turn {
            self.turn(ctx.now);
        }
        ArenaInput::toward(self.heading).aiming(Vec2::ZERO, self.heading)
    }

    fn fight(&mut self, ctx: &Ctx<'_>) -> ArenaInput {
        let state = ctx.state;
        let (Some(me), Some(own)) = (state.predicted().map(|s| s.pos), state.own_entity()) else {
            return ArenaInput::IDLE;
        };
        if state.server_state().is_some_and(|s| !s.alive) {
            return ArenaInput::IDLE;
        }
        if ctx.now >= self.next_retarget || self.target.is_none() {
            self.next_retarget = ctx.now + RETARGET;
            self.target = nearest_player(ctx, own, me);
            if self.rng.random_bool(0.25) {
                self.strafe = -self.strafe;
            }
        }
        let target = self.target.and_then(|id| state.entity(ctx.now, id));
        let alive = |t: &tickwire_client::Interpolated<'_>| {
            t.get::<Player>(PLAYER).is_some_and(|p| p.alive)
        };
        let Some(target) = target.filter(alive).and_then(|t| t.get::<Body>(BODY)) else {
            self.target = None;
            return self.wander(ctx);
        };
        let to = target.pos() - me;
        let dir = if to.length() > ENGAGE_RANGE { to } else { to.perp() * self.strafe };
        let input = ArenaInput::toward(dir);
        // Aim from where this tick's movement will put us, at the target as drawn.
        let from = state.peek(&input).map_or(me, |s| s.pos);
        let in_range = from.distance(target.pos()) < state.rules().weapon_range;
        input.aiming(from, target.pos()).firing(in_range)
    }
}

/// The nearest living player other than `own`, from the newest snapshot.
fn nearest_player(ctx: &Ctx<'_>, own: EntityId, me: Vec2) -> Option<EntityId> {
    let state = ctx.state;
    let snap = state.latest_snapshot()?;
    let schema = state.schema();
    snap.iter()
        .filter(|e| e.has(PLAYER) && e.id != own)
        .filter(|e| e.get::<Player>(schema, PLAYER).is_some_and(|p| p.alive))
        .filter_map(|e| Some((e.id, e.get::<Body>(schema, BODY)?.pos().distance_squared(me))))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

impl InputSource<ArenaProtocol> for ArenaBot {
    fn sample(&mut self, ctx: &Ctx<'_>) -> ArenaInput {
        match self.behaviour {
            ArenaBehaviour::Idle => ArenaInput::IDLE,
            ArenaBehaviour::Wander => self.wander(ctx),
            ArenaBehaviour::Fight => self.fight(ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_arena::{HEADING, Heading, schema};
    use tickwire_client::{ClientConfig, ClientState, Tuning};
    use tickwire_protocol::message::{ServerMessage, SnapshotMessage, Welcome};
    use tickwire_protocol::{
        ClientId, GameProtocol, Snapshot, SnapshotBuilder, SnapshotEncoder, Tick,
    };

    /// A client state welcomed as entity 1 at (100, 100), with player 2 at `other`, holding two
    /// snapshots so that interpolation has a bracket.
    fn state_with(other: Vec2, other_alive: bool) -> ClientState<ArenaProtocol> {
        let hello = ClientConfig::<ArenaProtocol>::new("ws://127.0.0.1/ws", "lobby", "bot").hello();
        let mut s = ClientState::new(
            hello,
            ArenaProtocol::schema(),
            Default::default(),
            Tuning::default(),
            Duration::ZERO,
        )
        .expect("valid hello");
        let welcome = Welcome {
            client_id: ClientId(1),
            entity: EntityId(1),
            tick_rate: 30,
            server_tick: Tick(10),
            room: "lobby".to_owned(),
            max_rewind_ms: 250,
            resumed: false,
            resume_secret: [7; 16],
            resume_grace_ms: 30_000,
        };
        s.handle_message(Duration::ZERO, ServerMessage::Welcome(welcome)).expect("welcome");
        let snap = |tick| {
            let mut b = SnapshotBuilder::new(schema(), Tick(tick), Snapshot::default());
            for (id, pos, alive) in [(1, Vec2::new(100.0, 100.0), true), (2, other, other_alive)] {
                b.entity(EntityId(id))
                    .set(BODY, &Body::at(pos))
                    .set(HEADING, &Heading::default())
                    .set(PLAYER, &Player { health: 100, score: 0, alive });
            }
            b.finish().expect("unique")
        };
        let mut enc = SnapshotEncoder::new();
        let (a, b) = (snap(11), snap(12));
        for (i, (cur, base)) in [(&a, None), (&b, Some(&a))].into_iter().enumerate() {
            let msg = SnapshotMessage {
                tick: cur.tick(),
                baseline: base.map(Snapshot::tick),
                last_input: None,
                payload: enc.encode(schema(), base, cur),
            };
            let now = Duration::from_millis(33 * (i as u64 + 1));
            s.handle_message(now, ServerMessage::Snapshot(msg)).expect("snapshot");
        }
        s
    }

    fn sample(bot: &mut ArenaBot, state: &ClientState<ArenaProtocol>) -> ArenaInput {
        bot.sample(&InputContext { state, now: Duration::from_millis(100) })
    }

    #[test]
    fn fighters_close_in_aim_and_fire() {
        let state = state_with(Vec2::new(400.0, 100.0), true);
        let mut bot = ArenaBot::new(ArenaBehaviour::Fight, 1);
        let i = sample(&mut bot, &state);
        assert_eq!((i.move_x, i.move_y), (127, 0), "walks toward the target");
        assert!(i.aim.abs() < 1e-3, "aims along +x: {}", i.aim);
        assert!(i.fire());
    }

    #[test]
    fn fighters_strafe_when_close_and_aim_from_where_they_will_be() {
        let state = state_with(Vec2::new(100.0, 200.0), true);
        let mut bot = ArenaBot::new(ArenaBehaviour::Fight, 1);
        let i = sample(&mut bot, &state);
        assert_eq!(i.move_y, 0, "strafes sideways: {i:?}");
        assert_eq!(i.move_x.abs(), 127);
        // It moves ±6.66 along x this tick, so the aim is off vertical by atan(6.66/100).
        let from = state.peek(&i).expect("predicted").pos;
        let expected = (Vec2::new(100.0, 200.0) - from).to_angle();
        assert!((i.aim - expected).abs() < 1e-4 && from.x != 100.0, "{} vs {expected}", i.aim);
        assert!(i.fire());
    }

    #[test]
    fn no_target_no_fire_and_idle_stays_idle() {
        let state = state_with(Vec2::new(400.0, 100.0), false);
        let mut bot = ArenaBot::new(ArenaBehaviour::Fight, 1);
        assert!(!sample(&mut bot, &state).fire(), "the only other player is dead");
        let mut idle = ArenaBot::new(ArenaBehaviour::Idle, 1);
        assert_eq!(sample(&mut idle, &state), ArenaInput::IDLE);
        let mut wander = ArenaBot::new(ArenaBehaviour::Wander, 1);
        let i = sample(&mut wander, &state);
        assert!(i.move_x != 0 || i.move_y != 0);
    }
}
