//! NPCs: replication load that wanders.
//!
//! At spawn, `round(count × moving_fraction)` NPCs move and the rest stand still, all at seeded
//! grid positions with a seeded kind. A moving NPC goes in a straight line at a constant
//! per-tick velocity (its direction random, its length `speed / tick_rate`, **snapped to the
//! 1/32 grid** when chosen), for a seeded 1–3 s. Then it stops, and a random still NPC starts in
//! a random direction, so exactly the same number are moving after every tick.
//!
//! **Bounces**: NPCs bounce off the world bounds (inset by their radius): the position is
//! reflected about the bound and that velocity component negated, which keeps both on the grid.
//! They ignore the inner walls and each other: they are load for the replication path, not
//! gameplay, and skipping those tests keeps a 1,000-NPC tick to a few microseconds.
//!
//! Between stops, starts and bounces an NPC's position is exactly `pos + velocity · ticks`,
//! which is what the delta codec predicts, so it costs nothing in a delta.

use std::f32::consts::TAU;

use glam::Vec2;
use rand::Rng;
use rand_pcg::Pcg32;
use tickwire_sim::NetId;

use crate::components::{Body, Heading, Npc, NpcMotion};
use crate::config::{ArenaConfig, GRID, GRID_PER_UNIT};

/// PCG stream of the NPCs.
const NPC_STREAM: u64 = 0x0000_0b0b;
/// Shortest straight run of a moving NPC, in milliseconds.
pub(crate) const MIN_RUN_MS: u32 = 1000;
/// Longest straight run of a moving NPC, in milliseconds.
pub(crate) const MAX_RUN_MS: u32 = 3000;

/// The NPC system's own state: its random stream and the still NPCs to pick from.
#[derive(Debug, Clone)]
pub(crate) struct Npcs {
    rng: Pcg32,
    /// Still NPCs, candidates to start moving.
    still: Vec<hecs::Entity>,
    /// Scratch: NPCs that stopped this tick.
    stopped: Vec<hecs::Entity>,
    /// Per-tick speed.
    step: f32,
    /// Run length range in ticks.
    run: (u32, u32),
    /// Lowest and highest centre coordinates.
    lo: Vec2,
    hi: Vec2,
}

impl Npcs {
    /// Spawns the NPCs (each with an id from `new_id`) and returns their system; `seed` drives
    /// their random stream.
    pub(crate) fn spawn(
        world: &mut hecs::World,
        config: &ArenaConfig,
        seed: u64,
        new_id: &mut impl FnMut() -> NetId,
    ) -> Self {
        let r = config.rules.npc_radius;
        let count = config.npcs.count;
        let moving = (count as f32 * config.npcs.moving_fraction).round() as u32;
        let mut npcs = Self {
            rng: Pcg32::new(seed, NPC_STREAM),
            still: Vec::with_capacity((count - moving.min(count)) as usize),
            stopped: Vec::new(),
            step: config.npcs.speed * config.tick_seconds(),
            run: (config.ticks_for_ms(MIN_RUN_MS).max(1), config.ticks_for_ms(MAX_RUN_MS).max(1)),
            lo: Vec2::splat(r),
            hi: config.rules.world - Vec2::splat(r),
        };
        let (lo, hi) = (grid_steps(npcs.lo), grid_steps(npcs.hi));
        world.reserve::<(NetId, Body, Heading, Npc, NpcMotion)>(count);
        for i in 0..count {
            let id = new_id();
            let x = npcs.rng.random_range(lo.0..=hi.0) as f32 / GRID_PER_UNIT;
            let y = npcs.rng.random_range(lo.1..=hi.1) as f32 / GRID_PER_UNIT;
            let kind = Npc { kind: npcs.rng.random_range(0..=3) };
            let mut body = Body::at(Vec2::new(x, y));
            let mut heading = Heading { angle: npcs.rng.random::<f32>() * TAU };
            let mut motion = NpcMotion::default();
            if i < moving {
                npcs.start(&mut body, &mut heading, &mut motion);
            }
            let entity = world.spawn((id, body, heading, kind, motion));
            if i >= moving {
                npcs.still.push(entity);
            }
        }
        npcs
    }

    /// Phase 2 of a step: move, bounce, stop and start.
    pub(crate) fn step(&mut self, world: &mut hecs::World) {
        self.stopped.clear();
        let (lo, hi) = (self.lo, self.hi);
        for (entity, body, heading, motion) in
            world.query_mut::<(hecs::Entity, &mut Body, &mut Heading, &mut NpcMotion)>()
        {
            if !motion.moving {
                continue;
            }
            let (x, vx, bx) = advance(body.x, body.vx, lo.x, hi.x);
            let (y, vy, by) = advance(body.y, body.vy, lo.y, hi.y);
            *body = Body { x, y, vx, vy };
            if bx || by {
                heading.angle = vy.atan2(vx);
            }
            motion.ticks_left = motion.ticks_left.saturating_sub(1);
            if motion.ticks_left == 0 {
                self.stopped.push(entity);
            }
        }
        for i in 0..self.stopped.len() {
            let stopped = self.stopped[i];
            if let Ok((body, motion)) = world.query_one_mut::<(&mut Body, &mut NpcMotion)>(stopped)
            {
                body.vx = 0.0;
                body.vy = 0.0;
                motion.moving = false;
            }
            let starter = if self.still.is_empty() {
                stopped
            } else {
                let pick = self.rng.random_range(0..self.still.len());
                self.still.swap_remove(pick)
            };
            if let Ok((body, heading, motion)) =
                world.query_one_mut::<(&mut Body, &mut Heading, &mut NpcMotion)>(starter)
            {
                self.start(body, heading, motion);
            }
            if starter != stopped {
                self.still.push(stopped);
            }
        }
    }

    /// Sets an NPC moving in a random direction for a random run.
    fn start(&mut self, body: &mut Body, heading: &mut Heading, motion: &mut NpcMotion) {
        let angle = self.rng.random::<f32>() * TAU;
        let v = (Vec2::from_angle(angle) * self.step * GRID_PER_UNIT).round() / GRID_PER_UNIT;
        // A speed below half a grid step would round to nothing; move by one step instead.
        let v = if v == Vec2::ZERO && self.step > 0.0 { Vec2::new(GRID, 0.0) } else { v };
        body.vx = v.x;
        body.vy = v.y;
        heading.angle = if v == Vec2::ZERO { angle } else { v.y.atan2(v.x) };
        motion.moving = true;
        motion.ticks_left = self.rng.random_range(self.run.0..=self.run.1.max(self.run.0));
    }

    /// How many NPCs stand still.
    #[cfg(test)]
    pub(crate) fn still_count(&self) -> usize {
        self.still.len()
    }
}

/// One axis of motion with a bounce: reflects about `lo`/`hi` and negates the velocity.
fn advance(p: f32, v: f32, lo: f32, hi: f32) -> (f32, f32, bool) {
    let next = p + v;
    if next > hi {
        ((2.0 * hi - next).max(lo), -v, true)
    } else if next < lo {
        ((2.0 * lo - next).min(hi), -v, true)
    } else {
        (next, v, false)
    }
}

fn grid_steps(v: Vec2) -> (u32, u32) {
    ((v.x * GRID_PER_UNIT) as u32, (v.y * GRID_PER_UNIT) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_reflects_on_the_grid() {
        assert_eq!(advance(990.0, 3.25, 8.0, 992.0), (990.75, -3.25, true));
        assert_eq!(advance(9.0, -3.25, 8.0, 992.0), (10.25, 3.25, true));
        assert_eq!(advance(500.0, 3.25, 8.0, 992.0), (503.25, 3.25, false));
        assert_eq!(advance(992.0, 3.25, 8.0, 992.0).0, 988.75);
    }

    #[test]
    fn moving_and_still_partition_the_npcs() {
        let config = ArenaConfig::default();
        let mut world = hecs::World::new();
        let mut ids = tickwire_sim::NetIds::default();
        let mut npcs = Npcs::spawn(&mut world, &config, 1, &mut || ids.allocate());
        assert_eq!(ids.allocated(), 1000);
        for _ in 0..200 {
            npcs.step(&mut world);
            let moving = world.query::<&NpcMotion>().iter().filter(|m| m.moving).count();
            assert_eq!(moving, 250);
            assert_eq!(npcs.still_count(), 750);
        }
    }

    #[test]
    fn all_moving_restart_themselves() {
        let mut config = ArenaConfig::default();
        config.npcs.count = 10;
        config.npcs.moving_fraction = 1.0;
        let mut world = hecs::World::new();
        let mut ids = tickwire_sim::NetIds::default();
        let mut npcs = Npcs::spawn(&mut world, &config, 1, &mut || ids.allocate());
        for _ in 0..200 {
            npcs.step(&mut world);
            let moving =
                world.query::<&Body>().iter().filter(|b| b.velocity() != Vec2::ZERO).count();
            assert_eq!(moving, 10);
        }
    }
}
