//! Racers: joining and leaving, the start grid, commands, and the racer phases of a step
//! (driving, kart collisions, barrel kicks' events, laps).

use hecs::World;
use tickwire_protocol::{ClientId, EntityId};
use tickwire_sim::{Audience, Ctx, JoinRefusal, NetId, PlayerInput};

use crate::collide::collide;
use crate::components::{Driver, Kart, Racer};
use crate::physics::{KartState, drive};
use crate::{KartCommand, KartEvent, KartInput, KartProtocol, Race};

/// Least impact speed into a wall that makes a `Bump` event, grid steps per tick (2 units).
pub const WALL_BUMP: i32 = 32;
/// Longest lap time an event carries, milliseconds (the `Lap` event's range).
const MAX_LAP_MS: u64 = 3_600_000;

/// A live racer: its session, network id and hecs entity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) client: ClientId,
    pub(crate) id: EntityId,
    pub(crate) entity: hecs::Entity,
}

/// A racer's state, copied out of the world (for tests and tools).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RacerView {
    /// The kart's entity.
    pub id: EntityId,
    /// The driver's session.
    pub client: ClientId,
    /// The kart.
    pub kart: KartState,
    /// Replicated race status.
    pub racer: Racer,
}

type Hook<'a, 'c> = &'a mut Ctx<'c, KartProtocol>;

impl Race {
    /// A racer by session.
    pub fn racer(&self, world: &World, client: ClientId) -> Option<RacerView> {
        let slot = self.slot(client)?;
        let kart = *world.get::<&Kart>(slot.entity).ok()?;
        let racer = *world.get::<&Racer>(slot.entity).ok()?;
        Some(RacerView { id: slot.id, client, kart: kart.state(&racer), racer })
    }

    fn slot(&self, client: ClientId) -> Option<Slot> {
        self.racers.binary_search_by_key(&client, |s| s.client).ok().map(|i| self.racers[i])
    }

    pub(crate) fn add(
        &mut self,
        world: &mut World,
        client: ClientId,
        ctx: Hook<'_, '_>,
    ) -> Result<hecs::Entity, JoinRefusal> {
        if self.racers.len() >= self.config.max_racers as usize {
            return Err(JoinRefusal::Full);
        }
        let (x, y) = self.free_slot(world, self.joined as usize);
        let rules = &self.config.rules;
        let state = KartState { x, y, boost: rules.boost_max, ..KartState::default() };
        let racer = Racer {
            boost: f32::from(rules.boost_max),
            color: (self.joined % 8) as u8,
            ..Racer::default()
        };
        let driver = Driver { client, lap_ticks: 0, honk_wait: 0, bump_wait: 0, horn_held: false };
        let id: NetId = ctx.new_id();
        let entity = world.spawn((id, Kart::of(&state), racer, driver));
        let at = self.racers.partition_point(|s| s.client < client);
        self.racers.insert(at, Slot { client, id: id.0, entity });
        self.joined = self.joined.wrapping_add(1);
        Ok(entity)
    }

    pub(crate) fn remove(&mut self, world: &mut World, client: ClientId) {
        if let Ok(i) = self.racers.binary_search_by_key(&client, |s| s.client) {
            let slot = self.racers.remove(i);
            // invariant: the entity was spawned by `add` and only despawned here.
            let _ = world.despawn(slot.entity);
        }
    }

    /// The first start-grid slot no kart touches, from slot `from` on (joins start after the
    /// last join's slot, resets from the front); slot `from` when every slot is taken.
    fn free_slot(&self, world: &World, from: usize) -> (i32, i32) {
        let reach = 2 * i64::from(self.radius());
        let karts: Vec<(i32, i32)> = self
            .racers
            .iter()
            .filter_map(|s| world.get::<&Kart>(s.entity).ok().map(|k| k.pos()))
            .collect();
        let n = self.grid.len();
        let first = from % n;
        (0..n)
            .map(|k| self.grid[(first + k) % n])
            .find(|&(x, y)| {
                karts.iter().all(|&(kx, ky)| {
                    let (dx, dy) = (i64::from(kx - x), i64::from(ky - y));
                    dx * dx + dy * dy >= reach * reach
                })
            })
            .unwrap_or(self.grid[first])
    }

    fn radius(&self) -> i32 {
        i32::from(self.config.rules.kart_radius) * crate::GRID_PER_UNIT
    }

    pub(crate) fn apply(&mut self, world: &mut World, client: ClientId, command: KartCommand) {
        let Some(slot) = self.slot(client) else { return };
        match command {
            KartCommand::Paint { color } => {
                if let Ok(mut racer) = world.get::<&mut Racer>(slot.entity) {
                    racer.color = color.min(7);
                }
            }
            KartCommand::Reset {} => {
                let (x, y) = self.free_slot(world, 0);
                if let Ok((kart, racer, driver)) =
                    world.query_one_mut::<(&mut Kart, &mut Racer, &mut Driver)>(slot.entity)
                {
                    *kart = Kart::of(&KartState { x, y, ..KartState::default() });
                    racer.checkpoint = 0;
                    driver.lap_ticks = 0;
                }
            }
        }
    }

    /// Phase 1: every kart drives one tick (a kart without an input coasts), honks, hits walls.
    pub(crate) fn drive(
        &mut self,
        world: &mut World,
        inputs: &[PlayerInput<KartInput>],
        ctx: Hook<'_, '_>,
    ) {
        let rules = &self.config.rules;
        let mut next = inputs.iter().peekable();
        for slot in &self.racers {
            while next.next_if(|i| i.player < slot.client).is_some() {}
            let input =
                next.next_if(|i| i.player == slot.client).map_or(KartInput::default(), |i| i.input);
            let Ok((kart, racer, driver)) =
                world.query_one_mut::<(&mut Kart, &mut Racer, &mut Driver)>(slot.entity)
            else {
                continue;
            };
            let driven = drive(rules, &kart.state(racer), &input);
            *kart = Kart::of(&driven.state);
            let boost = f32::from(driven.state.boost);
            (racer.boost_rate, racer.boost) = (boost - racer.boost, boost);
            driver.lap_ticks = driver.lap_ticks.saturating_add(1);
            driver.honk_wait = driver.honk_wait.saturating_sub(1);
            driver.bump_wait = driver.bump_wait.saturating_sub(1);
            if input.horn() && !driver.horn_held && driver.honk_wait == 0 {
                ctx.emit(KartEvent::Honk { racer: slot.id });
                driver.honk_wait = self.honk_ticks;
            }
            driver.horn_held = input.horn();
            if driven.wall_hit >= WALL_BUMP {
                bump(driver, *slot, None, driven.wall_hit, self.bump_ticks, ctx);
            }
        }
    }

    /// Every racer's kart, in racer order (its boost meter left at 0: motion only).
    fn karts(&self, world: &World) -> Vec<KartState> {
        let state = |s: &Slot| world.get::<&Kart>(s.entity).map(|k| k.state(&Racer::default()));
        self.racers.iter().map(|s| state(s).unwrap_or_default()).collect()
    }

    /// Phase 2: karts that overlap are pushed apart (see [`crate::collide`]); returns every
    /// racer's kart afterwards, in racer order.
    pub(crate) fn collide(&mut self, world: &mut World, ctx: Hook<'_, '_>) -> Vec<KartState> {
        let mut karts = self.karts(world);
        let contacts = collide(&self.config.rules.track, &mut karts, self.radius());
        if contacts.is_empty() {
            return karts;
        }
        for (slot, k) in self.racers.iter().zip(&karts) {
            if let Ok(mut kart) = world.get::<&mut Kart>(slot.entity) {
                *kart = Kart { heading: kart.heading, ..Kart::of(k) };
            }
        }
        for c in contacts {
            let (a, b) = (self.racers[c.a], self.racers[c.b]);
            self.bump(world, a, Some(b.id), c.speed, ctx);
            self.bump(world, b, Some(a.id), c.speed, ctx);
        }
        karts
    }

    /// Phase 3: the barrels roll and `karts` (phase 2's) kick them.
    pub(crate) fn kick(&mut self, world: &mut World, karts: &[KartState], ctx: Hook<'_, '_>) {
        let kicks = self.barrels.step(world, &self.config.rules, karts);
        for k in kicks {
            if k.speed >= WALL_BUMP {
                self.bump(world, self.racers[k.kart], Some(k.barrel), k.speed, ctx);
            }
        }
    }

    /// A `Bump` event to `slot`'s driver, unless one was sent within the cooldown.
    fn bump(
        &self,
        world: &mut World,
        slot: Slot,
        other: Option<EntityId>,
        speed: i32,
        ctx: Hook<'_, '_>,
    ) {
        if let Ok(mut driver) = world.get::<&mut Driver>(slot.entity) {
            bump(&mut driver, slot, other, speed, self.bump_ticks, ctx);
        }
    }

    /// Phase 4: sectors reached in order; a lap at the start line; a win ends the race.
    pub(crate) fn count_laps(&mut self, world: &mut World, ctx: Hook<'_, '_>) {
        let rules = &self.config.rules;
        let tick_rate = u64::from(self.config.tick_rate);
        let mut winner = None;
        for slot in &self.racers {
            let Ok((kart, racer, driver)) =
                world.query_one_mut::<(&Kart, &mut Racer, &mut Driver)>(slot.entity)
            else {
                continue;
            };
            let (x, y) = kart.pos();
            let sector = rules.track.sector(x, y);
            if sector != (racer.checkpoint + 1) % 4 {
                continue;
            }
            racer.checkpoint = sector;
            if sector == 0 {
                racer.lap = racer.lap.saturating_add(1);
                let time_ms =
                    (u64::from(driver.lap_ticks) * 1000 / tick_rate).min(MAX_LAP_MS) as u32;
                ctx.emit(KartEvent::Lap { racer: slot.id, lap: racer.lap, time_ms });
                driver.lap_ticks = 0;
                if rules.laps > 0 && racer.lap >= rules.laps && winner.is_none() {
                    winner = Some((slot.id, racer.lap));
                }
            }
        }
        if let Some((racer, laps)) = winner {
            ctx.emit(KartEvent::Won { racer, laps });
            for r in world.query_mut::<&mut Racer>() {
                r.lap = 0;
            }
        }
    }
}

/// A `Bump` event to `slot`'s driver, unless one was sent within the cooldown (`wait` ticks).
fn bump(
    driver: &mut Driver,
    slot: Slot,
    other: Option<EntityId>,
    speed: i32,
    wait: u32,
    ctx: Hook<'_, '_>,
) {
    if driver.bump_wait == 0 {
        let speed = speed.clamp(0, 1023) as u16;
        ctx.emit_to(Audience::Only(slot.client), KartEvent::Bump { kart: slot.id, other, speed });
        driver.bump_wait = wait;
    }
}
