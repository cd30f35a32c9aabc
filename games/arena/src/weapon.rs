//! Phase 3 of a step: the hitscan weapon.
//!
//! Shots accepted in phase 1 (fire pressed, alive, cooldown over) are judged in player id
//! order. The arena ends the ray at its own static geometry — the weapon's range, the first
//! wall, the world's edge ([`ray_limit`]) — and asks the room's lag compensation what the ray
//! hits among the players rewound to the view time the server honoured for the shooter
//! ([`Ctx::raycast`]). Each shot emits [`ArenaEvent::Shot`] (a tracer); a hit emits
//! [`ArenaEvent::Hit`] and applies damage in the present; reaching zero health kills (alive =
//! false, respawn timer set, the killer scores one, [`ArenaEvent::Kill`]). A target killed by
//! an earlier shot of the same tick is no longer hittable; a shooter killed earlier in this
//! phase still fires (simultaneous shots trade, whatever the id order).

use glam::Vec2;
use hecs::World;
use tickwire_protocol::{EntityId, Tick};
use tickwire_sim::{Ctx, EventPlace, Ray};

use crate::components::{Body, Player, PlayerState};
use crate::config::{ArenaRules, Wall};
use crate::players::PlayerSlot;
use crate::{Arena, ArenaEvent, ArenaProtocol};

/// How far a ray from `origin` along `dir` (unit) may go before the weapon's range, a wall or
/// the world's edge stops it.
pub fn ray_limit(origin: Vec2, dir: Vec2, rules: &ArenaRules) -> f32 {
    let mut limit = rules.weapon_range.min(ray_exit_box(origin, dir, rules.world));
    for wall in &rules.walls {
        if let Some(t) = ray_wall(origin, dir, wall) {
            limit = limit.min(t);
        }
    }
    limit
}

/// Distance along the unit ray to where it enters `wall`; 0 if `origin` is inside.
pub fn ray_wall(origin: Vec2, dir: Vec2, wall: &Wall) -> Option<f32> {
    tickwire_sim::lagcomp::ray_aabb(origin, dir, wall.min, wall.max)
}

/// Distance along the unit ray from a point inside `0..=size` to where it leaves that box.
pub fn ray_exit_box(origin: Vec2, dir: Vec2, size: Vec2) -> f32 {
    let mut t = f32::INFINITY;
    for axis in 0..2 {
        let d = dir[axis];
        if d > 1e-12 {
            t = t.min((size[axis] - origin[axis]) / d);
        } else if d < -1e-12 {
            t = t.min(-origin[axis] / d);
        }
    }
    t.max(0.0)
}

impl Arena {
    /// Fires every queued shot.
    pub(crate) fn fire(&mut self, world: &mut World, now: Tick, ctx: &mut Ctx<'_, ArenaProtocol>) {
        // The shots first, through one view (a shot's damage changes no shooter's position,
        // aim or queued shot), then each in player order.
        let shots: Vec<(PlayerSlot, Vec2, f32)> = {
            let mut view = world.view_mut::<(&Body, &mut PlayerState)>();
            let queued = self.players.iter().filter_map(|&slot| {
                let (body, state) = view.get_mut(slot.entity)?;
                std::mem::take(&mut state.pending_shot).then(|| (slot, body.pos(), state.aim))
            });
            queued.collect()
        };
        for (shooter, origin, aim) in shots {
            let dir = Vec2::from_angle(aim);
            let ray = Ray { origin, dir, length: ray_limit(origin, dir, &self.config.rules) };
            let players = &self.players;
            let alive = |id: EntityId| {
                id != shooter.id
                    && players
                        .binary_search_by_key(&id, |s| s.id)
                        .ok()
                        .and_then(|i| world.get::<&Player>(players[i].entity).ok())
                        .is_some_and(|p| p.alive)
            };
            let shot = ctx.raycast(world, shooter.client, ray, alive);
            let end = shot.end(&ray);
            let hit = shot.hit.map(|(id, _)| id);
            // With interest management, only who sees the shooter sees the tracer.
            ctx.emit_at(
                EventPlace::At(origin),
                ArenaEvent::Shot {
                    shooter: shooter.id,
                    from_x: origin.x,
                    from_y: origin.y,
                    to_x: end.x,
                    to_y: end.y,
                    hit,
                },
            );
            if let Some(target) = hit {
                let rewind_ms = shot.rewind.applied_ms(ctx.tick_rate());
                self.damage(world, shooter.id, target, now, rewind_ms, ctx);
            }
        }
    }

    /// Applies one hit to `target` in the present.
    fn damage(
        &mut self,
        world: &mut World,
        shooter: EntityId,
        target: EntityId,
        now: Tick,
        rewind_ms: u16,
        ctx: &mut Ctx<'_, ArenaProtocol>,
    ) {
        let damage = self.config.rules.damage;
        let Some(slot) = self.slot(target) else { return };
        let Ok((player, state)) =
            world.query_one_mut::<(&mut Player, &mut PlayerState)>(slot.entity)
        else {
            return;
        };
        player.health = player.health.saturating_sub(damage);
        ctx.emit_at(
            EventPlace::Entity(target),
            ArenaEvent::Hit { shooter, target, damage, rewind_ms },
        );
        if player.health > 0 {
            return;
        }
        player.alive = false;
        state.respawn_at = now.offset(self.derived.respawn_ticks as i32);
        ctx.emit(ArenaEvent::Kill { killer: shooter, victim: target });
        if let Some(killer) = self.slot(shooter)
            && let Ok(p) = world.query_one_mut::<&mut Player>(killer.entity)
        {
            p.score = p.score.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walls_range_and_bounds_end_the_ray() {
        let mut rules = ArenaRules { walls: vec![], ..ArenaRules::default() };
        let origin = Vec2::new(100.0, 100.0);
        rules.walls.push(Wall::new(Vec2::new(150.0, 50.0), Vec2::new(160.0, 150.0)));
        assert_eq!(ray_limit(origin, Vec2::X, &rules), 50.0);
        rules.walls.clear();
        rules.weapon_range = 150.0;
        assert_eq!(ray_limit(origin, Vec2::X, &rules), 150.0);
        rules.weapon_range = 1500.0;
        let back = Vec2::from_angle(std::f32::consts::PI);
        assert!((ray_limit(origin, back, &rules) - 100.0).abs() < 1e-3, "leaves at x = 0");
        assert_eq!(ray_exit_box(Vec2::new(10.0, 50.0), Vec2::X, Vec2::splat(100.0)), 90.0);
        assert_eq!(ray_exit_box(Vec2::new(10.0, 50.0), -Vec2::Y, Vec2::splat(100.0)), 50.0);
    }
}
