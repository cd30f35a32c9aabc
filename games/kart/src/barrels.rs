//! Barrels: physics objects on the track, and the race's load.
//!
//! At creation, `count` barrels stand at seeded free positions on the track (their own PCG
//! stream of the server's seed); `round(count × moving_fraction)` of them roll at `speed` in a
//! seeded direction. Every tick, in spawn order:
//!
//! 1. **Motion**: a kicked barrel's velocity settles towards its cruising velocity ([`Roll`]:
//!    zero for a standing barrel) in steps, every [`SETTLE_TICKS`] ticks, halving the
//!    difference (and dropping it once it is [`SETTLED`] or less); then the barrel rolls with
//!    full bounces off the walls ([`roll`]), and a bounce reverses the cruising velocity on that
//!    axis too. Between two steps a barrel keeps a constant velocity: the codec's linear
//!    prediction makes that zero bytes in a delta snapshot, where friction applied every tick
//!    would cost every kicked barrel every tick.
//! 2. **Kicks**: a kart touching a barrel kicks it away (the kart's velocity plus `kick` along
//!    the line between their centres) and pushes it out of contact. Karts are not slowed by
//!    barrels, so a driver's prediction of its own kart stays exact. A uniform grid of
//!    [`CELL`]-sized cells finds the barrels near each kart.
//!
//! Barrels ignore each other.

use hecs::World;
use rand::Rng;
use rand_pcg::Pcg32;
use tickwire_protocol::EntityId;
use tickwire_sim::NetId;

use crate::components::{Barrel, Roll};
use crate::config::{GRID_PER_UNIT, KartConfig, KartRules};
use crate::physics::{KartState, ONE, clamp_speed, direction, roll};

/// PCG stream of barrel placement.
const STREAM: u64 = 0xba55_e1ed;
/// Attempts at finding a free position for one barrel.
const ATTEMPTS: usize = 256;
/// Ticks between two settling steps of a kicked barrel.
pub(crate) const SETTLE_TICKS: u8 = 15;
/// A velocity this close to the cruise (grid steps per tick, per axis) is the cruise.
pub(crate) const SETTLED: i32 = 2;
/// Side of a cell of the kick grid, grid steps (64 units: more than two radii).
pub(crate) const CELL: i32 = 64 * GRID_PER_UNIT;

/// A kart kicked a barrel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kick {
    /// Index of the kart in the slice given to [`Barrels::step`].
    pub(crate) kart: usize,
    pub(crate) barrel: EntityId,
    /// Closing speed, grid steps per tick.
    pub(crate) speed: i32,
}

/// One barrel during a step.
#[derive(Debug, Clone, Copy)]
struct Moving {
    id: EntityId,
    pos: (i32, i32),
    velocity: (i32, i32),
    /// Ticks until its next settling step.
    wait: u8,
}

/// The barrels' per-step scratch space (reused, so a step does not allocate).
#[derive(Debug, Default)]
pub(crate) struct Barrels {
    moving: Vec<Moving>,
    cells: Vec<Vec<u32>>,
    cols: i32,
    rows: i32,
}

impl Barrels {
    /// Spawns the configured barrels (the config is validated).
    pub(crate) fn spawn(
        world: &mut World,
        config: &KartConfig,
        seed: u64,
        new_id: &mut dyn FnMut() -> NetId,
    ) -> Self {
        let mut rng = Pcg32::new(seed, STREAM);
        let track = &config.rules.track;
        let r = i32::from(config.rules.barrel_radius) * GRID_PER_UNIT;
        let moving = (config.barrels.count as f32 * config.barrels.moving_fraction).round() as u32;
        let speed = i32::from(config.barrels.speed);
        for i in 0..config.barrels.count {
            let pos = (0..ATTEMPTS)
                .map(|_| (rng.random_range(r..=track.w() - r), rng.random_range(r..=track.h() - r)))
                .find(|&(x, y)| track.is_free(x, y, r));
            let Some(pos) = pos else { continue };
            let cruise = if i < moving {
                let (c, s) = direction(rng.random());
                (speed * c / ONE, speed * s / ONE)
            } else {
                (0, 0)
            };
            world.spawn((
                new_id(),
                Barrel::of(pos, cruise),
                Roll { x: cruise.0, y: cruise.1, wait: 0 },
            ));
        }
        let cols = track.w() / CELL + 1;
        let rows = track.h() / CELL + 1;
        let cells = vec![Vec::new(); (cols * rows) as usize];
        Barrels { moving: Vec::new(), cells, cols, rows }
    }

    /// One tick of every barrel (see the module docs); returns the kicks.
    pub(crate) fn step(
        &mut self,
        world: &mut World,
        rules: &KartRules,
        karts: &[KartState],
    ) -> Vec<Kick> {
        let r = i32::from(rules.barrel_radius) * GRID_PER_UNIT;
        self.moving.clear();
        for (id, barrel, cruise) in world.query_mut::<(&NetId, &Barrel, &mut Roll)>() {
            let (pos, mut v) = barrel.steps();
            let mut wait = cruise.wait.saturating_sub(1);
            if v != (cruise.x, cruise.y) && wait == 0 {
                v = (settle(v.0, cruise.x), settle(v.1, cruise.y));
                wait = SETTLE_TICKS;
            }
            let rolled = roll(&rules.track, pos, v, r, 256);
            if rolled.hit.0 {
                cruise.x = -cruise.x;
            }
            if rolled.hit.1 {
                cruise.y = -cruise.y;
            }
            self.moving.push(Moving { id: id.0, pos: rolled.pos, velocity: rolled.velocity, wait });
        }
        let kicks = if karts.is_empty() { Vec::new() } else { self.kick(rules, karts) };
        let barrels = world.query_mut::<(&mut Barrel, &mut Roll)>().into_iter();
        for ((barrel, cruise), m) in barrels.zip(&self.moving) {
            *barrel = Barrel::of(m.pos, m.velocity);
            cruise.wait = m.wait;
        }
        kicks
    }

    /// Phase 2: karts kick the barrels they touch.
    fn kick(&mut self, rules: &KartRules, karts: &[KartState]) -> Vec<Kick> {
        for cell in &mut self.cells {
            cell.clear();
        }
        for (i, m) in self.moving.iter().enumerate() {
            let c = self.cell(m.pos.0 / CELL, m.pos.1 / CELL);
            self.cells[c].push(i as u32);
        }
        let r = i32::from(rules.barrel_radius) * GRID_PER_UNIT;
        let reach = i64::from(i32::from(rules.kart_radius) * GRID_PER_UNIT + r);
        let mut kicks = Vec::new();
        for (k, kart) in karts.iter().enumerate() {
            let (cx, cy) = (kart.x / CELL, kart.y / CELL);
            for gy in (cy - 1).max(0)..=(cy + 1).min(self.rows - 1) {
                for gx in (cx - 1).max(0)..=(cx + 1).min(self.cols - 1) {
                    let cell = self.cell(gx, gy);
                    for n in 0..self.cells[cell].len() {
                        let b = &mut self.moving[self.cells[cell][n] as usize];
                        if let Some(speed) = hit(rules, kart, b, reach, r) {
                            kicks.push(Kick { kart: k, barrel: b.id, speed });
                        }
                    }
                }
            }
        }
        kicks
    }

    fn cell(&self, x: i32, y: i32) -> usize {
        (y.clamp(0, self.rows - 1) * self.cols + x.clamp(0, self.cols - 1)) as usize
    }
}

/// `v` one settling step closer to `cruise`: half the difference, or all of it once small.
fn settle(v: i32, cruise: i32) -> i32 {
    let d = v - cruise;
    if d.abs() <= SETTLED { cruise } else { cruise + d / 2 }
}

/// Kicks `b` if `kart` touches it; returns the closing speed (0 or more) if it did.
fn hit(rules: &KartRules, kart: &KartState, b: &mut Moving, reach: i64, r: i32) -> Option<i32> {
    let (dx, dy) = (i64::from(b.pos.0 - kart.x), i64::from(b.pos.1 - kart.y));
    let d2 = dx * dx + dy * dy;
    if d2 >= reach * reach {
        return None;
    }
    let (nx, ny, d) = match d2.isqrt() {
        0 => {
            let (c, s) = direction(kart.heading);
            (i64::from(c), i64::from(s), i64::from(ONE))
        }
        d => (dx, dy, d),
    };
    let rel = (i64::from(kart.vx - b.velocity.0) * nx + i64::from(kart.vy - b.velocity.1) * ny) / d;
    let kick = i64::from(rules.kick);
    let along = |v: i32, n: i64| clamp_speed((i64::from(v) + kick * n / d) as i32);
    b.velocity = (along(kart.vx, nx), along(kart.vy, ny));
    b.wait = SETTLE_TICKS;
    let out = (kart.x + ((reach + 1) * nx / d) as i32, kart.y + ((reach + 1) * ny / d) as i32);
    if rules.track.is_free(out.0, out.1, r) {
        b.pos = out;
    }
    Some(rel.max(0) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settling_stops_at_the_cruise() {
        assert_eq!(settle(10, 0), 5);
        assert_eq!(settle(-11, 0), -5);
        assert_eq!(settle(2, 0), 0);
        assert_eq!(settle(-9, -8), -8);
        assert_eq!(settle(5, 5), 5);
        assert_eq!(settle(40, 8), 24);
    }

    #[test]
    fn a_kart_kicks_a_barrel_it_touches_along_the_line_between_them() {
        let rules = KartRules::default();
        let kart = KartState { x: 16_000, y: 2_000, vx: 100, ..KartState::default() };
        let mut b =
            Moving { id: EntityId(9), pos: (16_000 + 300, 2_000), velocity: (0, 0), wait: 0 };
        let r = 8 * 16;
        let reach = 20 * 16;
        assert_eq!(hit(&rules, &kart, &mut b, reach, r), Some(100));
        assert_eq!(b.velocity, (100 + 48, 0));
        assert_eq!(b.pos, (16_000 + reach as i32 + 1, 2_000), "pushed out of contact");
        let mut far = Moving { pos: (16_000 + 400, 2_000), ..b };
        assert_eq!(hit(&rules, &kart, &mut far, reach, r), None);
    }
}
