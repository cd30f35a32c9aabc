//! Lag compensation: judge a hitscan shot against the world as the shooter saw it.
//!
//! A client renders the world in the past (interpolating between two snapshots), so when it
//! fires at an enemy on its screen, that enemy has moved on by the time the server runs the
//! input. The server rewinds instead (the Valve approach):
//!
//! 1. [`plan_rewind`]: how far back. The claimed view time `tick + fraction/256` gives
//!    `requested = now − view` ticks; that is clamped to `0..=max_rewind` (Valve's
//!    `sv_maxunlag`: a client cannot claim to have seen the world arbitrarily long ago, which
//!    bounds how far "behind cover" a laggy shooter can reach) and to the history actually
//!    recorded. The [`RewindPlan`] says how much was requested and applied.
//! 2. [`rewound_targets`]: every player's circle at `now − applied`, interpolated linearly
//!    between the two recorded ticks around it, exactly as the client interpolated. A target is
//!    hittable only if it was alive at both of those ticks and is alive now (damage lands in
//!    the present).
//! 3. [`cast_shot`]: a ray from the shooter's **present** position along its aim, ended by the
//!    weapon range, the first wall (walls do not move, so they are not rewound) and the world
//!    bounds; the nearest target circle before that end is hit. The shooter never hits itself.
//!
//! [`judge_shot`] chains the three. Everything works on caller-provided buffers: judging a shot
//! allocates nothing.

use glam::Vec2;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{EntityId, Tick};

use crate::arena::{ArenaRules, Wall};
use crate::history::{HitRecord, LagHistory};

/// How far a shot was rewound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewindPlan {
    /// `now − view` in ticks, as claimed (0 without a claim; negative for a view in the future).
    pub requested_ticks: f32,
    /// How far the targets were actually rewound, in ticks.
    pub applied_ticks: f32,
    /// Whether `applied_ticks` differs from `requested_ticks`.
    pub clamped: bool,
}

/// Where a shot ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShotOutcome {
    /// End of the tracer: the hit point, a wall, the world edge or the range limit.
    pub end: Vec2,
    /// Distance from the muzzle to `end`.
    pub distance: f32,
    /// The target hit, if any.
    pub hit: Option<EntityId>,
}

/// Clamps the claimed `view` to what may and can be rewound. `now` is the tick whose state the
/// present targets describe; `history` must hold consecutive frames up to `now − 1`.
pub fn plan_rewind(
    now: Tick,
    view: Option<ViewTime>,
    max_rewind_ticks: f32,
    history: &LagHistory,
) -> RewindPlan {
    let Some(view) = view else {
        return RewindPlan { requested_ticks: 0.0, applied_ticks: 0.0, clamped: false };
    };
    let requested = -view.ticks_since(now) as f32;
    let available = match (history.oldest(), history.newest()) {
        (Some(oldest), Some(newest)) if newest.next() == now => now.diff(oldest) as f32,
        _ => 0.0,
    };
    let applied = requested.clamp(0.0, max_rewind_ticks.min(available).max(0.0));
    RewindPlan { requested_ticks: requested, applied_ticks: applied, clamped: applied != requested }
}

/// Fills `out` with the targets as they were `applied_ticks` before `now`. `present` is the
/// state at `now` (sorted by id); with `applied_ticks == 0` it is copied as is.
pub fn rewound_targets(
    history: &LagHistory,
    present: &[HitRecord],
    now: Tick,
    applied_ticks: f32,
    out: &mut Vec<HitRecord>,
) {
    out.clear();
    if applied_ticks <= 0.0 {
        out.extend_from_slice(present);
        return;
    }
    // now − applied = base + frac, with base a whole tick and frac in [0, 1).
    let back = f64::from(applied_ticks);
    let base_back = back.ceil();
    let frac = (base_back - back) as f32;
    let base = now.offset(-(base_back as i32));
    let upper = base.next();
    let Some(a) = history.frame(base) else {
        out.extend_from_slice(present);
        return;
    };
    let b = if upper == now { present } else { history.frame(upper).unwrap_or(present) };
    let mut j = 0;
    for ra in a {
        while j < b.len() && b[j].id < ra.id {
            j += 1;
        }
        let Some(rb) = b.get(j).filter(|rb| rb.id == ra.id) else { continue };
        let alive_now =
            present.binary_search_by_key(&ra.id, |r| r.id).is_ok_and(|i| present[i].alive);
        out.push(HitRecord {
            id: ra.id,
            pos: ra.pos.lerp(rb.pos, frac),
            radius: ra.radius,
            alive: ra.alive && rb.alive && alive_now,
        });
    }
}

/// Casts a hitscan ray from `origin` along `aim` (radians) against `targets`.
pub fn cast_shot(
    shooter: EntityId,
    origin: Vec2,
    aim: f32,
    rules: &ArenaRules,
    targets: &[HitRecord],
) -> ShotOutcome {
    let dir = Vec2::from_angle(aim);
    let mut limit = rules.weapon_range.min(ray_exit_box(origin, dir, rules.world));
    for wall in &rules.walls {
        if let Some(t) = ray_aabb(origin, dir, wall) {
            limit = limit.min(t);
        }
    }
    let mut hit = None;
    for t in targets.iter().filter(|t| t.alive && t.id != shooter) {
        if let Some(d) = ray_circle(origin, dir, t.pos, t.radius).filter(|d| *d <= limit) {
            limit = d;
            hit = Some(t.id);
        }
    }
    ShotOutcome { end: origin + dir * limit, distance: limit, hit }
}

/// One hitscan shot to judge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shot {
    /// Who fired (never hit by its own shot).
    pub shooter: EntityId,
    /// The shooter's present position.
    pub origin: Vec2,
    /// Aim, radians.
    pub aim: f32,
    /// The view time to judge against (`None`: the present).
    pub view: Option<ViewTime>,
}

/// Plans the rewind, rewinds the targets into `scratch` and casts the shot.
pub fn judge_shot(
    history: &LagHistory,
    present: &[HitRecord],
    now: Tick,
    shot: &Shot,
    max_rewind_ticks: f32,
    rules: &ArenaRules,
    scratch: &mut Vec<HitRecord>,
) -> (ShotOutcome, RewindPlan) {
    let plan = plan_rewind(now, shot.view, max_rewind_ticks, history);
    rewound_targets(history, present, now, plan.applied_ticks, scratch);
    (cast_shot(shot.shooter, shot.origin, shot.aim, rules, scratch), plan)
}

/// Distance along the unit ray `origin + t·dir` (t ≥ 0) to a circle; 0 if `origin` is inside.
pub fn ray_circle(origin: Vec2, dir: Vec2, center: Vec2, radius: f32) -> Option<f32> {
    let m = origin - center;
    let c = m.length_squared() - radius * radius;
    if c <= 0.0 {
        return Some(0.0);
    }
    let b = m.dot(dir);
    if b > 0.0 {
        return None; // outside and pointing away
    }
    let disc = b * b - c;
    if disc < 0.0 {
        return None;
    }
    Some((-b - disc.sqrt()).max(0.0))
}

/// Distance along the unit ray to where it enters `wall`; 0 if `origin` is inside.
pub fn ray_aabb(origin: Vec2, dir: Vec2, wall: &Wall) -> Option<f32> {
    let (mut t_min, mut t_max) = (0.0f32, f32::INFINITY);
    for axis in 0..2 {
        let (o, d, lo, hi) = (origin[axis], dir[axis], wall.min[axis], wall.max[axis]);
        if d.abs() < 1e-12 {
            if o < lo || o > hi {
                return None;
            }
            continue;
        }
        let (mut t0, mut t1) = ((lo - o) / d, (hi - o) / d);
        if t0 > t1 {
            std::mem::swap(&mut t0, &mut t1);
        }
        t_min = t_min.max(t0);
        t_max = t_max.min(t1);
        if t_min > t_max {
            return None;
        }
    }
    Some(t_min)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u32, x: f32, y: f32, alive: bool) -> HitRecord {
        HitRecord { id: EntityId(id), pos: Vec2::new(x, y), radius: 12.0, alive }
    }

    fn open_rules() -> ArenaRules {
        ArenaRules { walls: vec![], ..ArenaRules::default() }
    }

    #[test]
    fn ray_primitives() {
        let o = Vec2::new(0.0, 0.0);
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(10.0, 0.0), 2.0), Some(8.0));
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(10.0, 2.0), 2.0), Some(10.0));
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(10.0, 2.1), 2.0), None);
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(-10.0, 0.0), 2.0), None);
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(1.0, 0.0), 2.0), Some(0.0));
        let wall = Wall::new(Vec2::new(5.0, -1.0), Vec2::new(6.0, 1.0));
        assert_eq!(ray_aabb(o, Vec2::X, &wall), Some(5.0));
        assert_eq!(ray_aabb(o, -Vec2::X, &wall), None);
        assert_eq!(ray_aabb(o, Vec2::Y, &wall), None);
        assert_eq!(ray_aabb(Vec2::new(5.5, 0.0), Vec2::X, &wall), Some(0.0));
        assert_eq!(ray_exit_box(Vec2::new(10.0, 50.0), Vec2::X, Vec2::splat(100.0)), 90.0);
        assert_eq!(ray_exit_box(Vec2::new(10.0, 50.0), -Vec2::Y, Vec2::splat(100.0)), 50.0);
    }

    #[test]
    fn nearest_live_target_wins_and_shooter_is_skipped() {
        let targets = [
            rec(1, 0.0, 0.0, true),
            rec(2, 300.0, 0.0, true),
            rec(3, 200.0, 0.0, false),
            rec(4, 400.0, 0.0, true),
        ];
        let shot = cast_shot(EntityId(1), Vec2::ZERO, 0.0, &open_rules(), &targets);
        assert_eq!(shot.hit, Some(EntityId(2)));
        assert_eq!(shot.distance, 288.0);
        assert_eq!(shot.end, Vec2::new(288.0, 0.0));
    }

    #[test]
    fn walls_range_and_bounds_end_the_ray() {
        let mut rules = open_rules();
        let targets = [rec(2, 300.0, 100.0, true)];
        rules.walls.push(Wall::new(Vec2::new(150.0, 50.0), Vec2::new(160.0, 150.0)));
        let shot = cast_shot(EntityId(1), Vec2::new(100.0, 100.0), 0.0, &rules, &targets);
        assert_eq!((shot.hit, shot.distance), (None, 50.0));
        rules.walls.clear();
        rules.weapon_range = 150.0;
        let shot = cast_shot(EntityId(1), Vec2::new(100.0, 100.0), 0.0, &rules, &targets);
        assert_eq!((shot.hit, shot.distance), (None, 150.0));
        rules.weapon_range = 1500.0;
        let shot =
            cast_shot(EntityId(1), Vec2::new(100.0, 100.0), std::f32::consts::PI, &rules, &targets);
        assert!((shot.distance - 100.0).abs() < 1e-3, "leaves the world at x = 0");
    }

    #[test]
    fn plan_clamps_to_window_and_history() {
        let mut h = LagHistory::new(31, 2);
        for t in 0..=20u32 {
            h.record(Tick(t), [rec(1, 0.0, 0.0, true)]);
        }
        let now = Tick(21);
        let view = |tick, fraction| Some(ViewTime { tick: Tick(tick), fraction });
        let p = plan_rewind(now, view(16, 128), 7.5, &h);
        assert_eq!((p.requested_ticks, p.applied_ticks, p.clamped), (4.5, 4.5, false));
        let p = plan_rewind(now, view(1, 0), 7.5, &h);
        assert_eq!((p.requested_ticks, p.applied_ticks, p.clamped), (20.0, 7.5, true));
        let p = plan_rewind(now, view(25, 0), 7.5, &h);
        assert_eq!((p.requested_ticks, p.applied_ticks, p.clamped), (-4.0, 0.0, true));
        let p = plan_rewind(now, None, 7.5, &h);
        assert_eq!((p.applied_ticks, p.clamped), (0.0, false));
        // Only 3 frames of history: cannot go further back than the oldest.
        let mut short = LagHistory::new(31, 2);
        for t in 18..=20u32 {
            short.record(Tick(t), [rec(1, 0.0, 0.0, true)]);
        }
        let p = plan_rewind(now, view(16, 0), 7.5, &short);
        assert_eq!((p.applied_ticks, p.clamped), (3.0, true));
    }

    #[test]
    fn rewind_interpolates_and_needs_alive_in_both_frames_and_now() {
        let mut h = LagHistory::new(8, 3);
        h.record(
            Tick(10),
            [rec(1, 0.0, 0.0, true), rec(2, 100.0, 0.0, true), rec(3, 0.0, 50.0, false)],
        );
        h.record(
            Tick(11),
            [rec(1, 10.0, 0.0, true), rec(2, 100.0, 0.0, true), rec(3, 0.0, 50.0, true)],
        );
        let present = [rec(1, 20.0, 0.0, true), rec(2, 100.0, 0.0, false), rec(3, 0.0, 50.0, true)];
        let mut out = Vec::new();
        rewound_targets(&h, &present, Tick(12), 1.75, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].pos, Vec2::new(2.5, 0.0));
        assert!(out[0].alive);
        assert!(!out[1].alive, "dead now: cannot be damaged");
        assert!(!out[2].alive, "respawned in between: not hittable there");
        rewound_targets(&h, &present, Tick(12), 0.5, &mut out);
        assert_eq!(out[0].pos, Vec2::new(15.0, 0.0), "between tick 11 and the present");
        rewound_targets(&h, &present, Tick(12), 0.0, &mut out);
        assert_eq!(out, present);
    }
}
