//! Phase 3 of a step: the hitscan weapon.
//!
//! Shots accepted in phase 1 (fire pressed, alive, cooldown over) are judged in player id order
//! by [`crate::lagcomp::judge_shot`]: the shooter's present position and aim against the player
//! circles rewound to the view time of its command. Each shot emits a
//! [`GameEvent::Shot`] (tracer) and a [`Rewind`]; a hit emits [`GameEvent::Hit`] and applies
//! damage in the present; reaching zero health kills (alive = false, respawn timer set, killer
//! scores one, [`GameEvent::Kill`]). Targets killed by an earlier shot of the same tick are no
//! longer hittable.

use tickwire_protocol::message::GameEvent;
use tickwire_protocol::{EntityId, Tick};

use super::components::{Body, Player, PlayerState};
use super::{Arena, Rewind, StepOutput};
use crate::history::HitRecord;
use crate::lagcomp::{RewindPlan, Shot, judge_shot};

impl Arena {
    /// Fires every queued shot.
    pub(super) fn fire(&mut self, now: Tick, out: &mut StepOutput) {
        let radius = self.config.rules.player_radius;
        self.present.clear();
        let mut any = false;
        for slot in &self.players {
            let mut q = self.world.query_one::<(&Body, &Player, &PlayerState)>(slot.entity);
            if let Ok((body, player, state)) = q.get() {
                any |= state.pending_shot.is_some();
                self.present.push(HitRecord {
                    id: slot.id,
                    pos: body.pos(),
                    radius,
                    alive: player.alive,
                });
            }
        }
        if !any {
            return;
        }
        for i in 0..self.players.len() {
            let shooter = self.players[i];
            let Ok((body, state)) =
                self.world.query_one_mut::<(&Body, &mut PlayerState)>(shooter.entity)
            else {
                continue;
            };
            let Some(view) = state.pending_shot.take() else { continue };
            let origin = body.pos();
            let (shot, plan) = judge_shot(
                &self.history,
                &self.present,
                now,
                &Shot { shooter: shooter.id, origin, aim: state.aim, view },
                self.derived.max_rewind_ticks,
                &self.config.rules,
                &mut self.rewound,
            );
            out.events.push(GameEvent::Shot {
                shooter: shooter.id,
                from: origin.to_array(),
                to: shot.end.to_array(),
                hit: shot.hit,
            });
            out.rewinds.push(Rewind {
                shooter: shooter.id,
                requested_ticks: plan.requested_ticks,
                applied_ticks: plan.applied_ticks,
                clamped: plan.clamped,
                hit: shot.hit,
            });
            if let Some(target) = shot.hit {
                self.damage(shooter.id, target, now, &plan, out);
            }
        }
    }

    /// Applies one hit to `target` in the present.
    fn damage(
        &mut self,
        shooter: EntityId,
        target: EntityId,
        now: Tick,
        plan: &RewindPlan,
        out: &mut StepOutput,
    ) {
        let damage = self.config.rules.damage;
        let rewind_ms =
            (plan.applied_ticks * 1000.0 / f32::from(self.config.tick_rate)).round() as u16;
        let Some(slot) = self.slot(target) else { return };
        let Ok((player, state)) =
            self.world.query_one_mut::<(&mut Player, &mut PlayerState)>(slot.entity)
        else {
            return;
        };
        player.health = player.health.saturating_sub(damage);
        out.events.push(GameEvent::Hit { shooter, target, damage: damage.into(), rewind_ms });
        if player.health > 0 {
            return;
        }
        player.alive = false;
        state.respawn_at = now.offset(self.derived.respawn_ticks as i32);
        if let Ok(i) = self.present.binary_search_by_key(&target, |r| r.id) {
            self.present[i].alive = false;
        }
        out.events.push(GameEvent::Kill { killer: shooter, victim: target });
        if let Some(killer) = self.slot(shooter)
            && let Ok(p) = self.world.query_one_mut::<&mut Player>(killer.entity)
        {
            p.score = p.score.saturating_add(1);
        }
    }
}
