//! Lag compensation as a service: "what did this ray hit, at the moment the player saw?"
//!
//! A client renders the world in the past (interpolating between two snapshots), so when a
//! player fires at an enemy on its screen, that enemy has moved on by the time the server runs
//! the input. The server rewinds instead (the Valve approach). The split of work:
//!
//! - **the server** chooses, for every input, the view time it honours: the client's claim if
//!   its measured RTT can explain it, else an RTT-based estimate; a game never sees a raw claim
//!   ([`PlayerInput::view`](crate::PlayerInput::view));
//! - **the room** records every tick the shapes the game says can be hit
//!   ([`Game::hit_shapes`](crate::Game::hit_shapes)) in a bounded [`LagHistory`];
//! - **the game** asks [`Ctx::raycast`](crate::Ctx::raycast) with the shooter, the ray and a
//!   filter (who may be hit now), and gets what it hit, and how far back that was judged.
//!
//! A raycast ([`LagCompensation::raycast`]):
//!
//! 1. [`plan_rewind`]: how far back. The honoured view time `tick + fraction/256` gives
//!    `requested = now − view` ticks, clamped to `0..=max_rewind` (Valve's `sv_maxunlag`: a
//!    client cannot reach arbitrarily far into the past, which bounds how far "behind cover" a
//!    laggy shooter can hit) and to the history recorded. The [`RewindPlan`] says how much was
//!    requested and applied.
//! 2. [`rewound_shapes`]: every shape at `now − applied`, interpolated linearly between the two
//!    recorded ticks around it, as the client interpolated. A shape is hittable only if it was
//!    active at both ticks, is active now, and passes the game's filter.
//! 3. [`cast`]: the nearest shape along the ray within its length (the game ends the ray at
//!    its own static geometry, walls say, which does not move and is not rewound). From the
//!    second raycast against the same shapes on, through a uniform grid of them (`grid.rs`):
//!    the same answer, from the shapes of the cells the ray crosses.
//!
//! Every raycast is recorded as a [`Rewind`], which the server counts in its metrics. Shapes
//! are 2D (circles and axis-aligned boxes). Everything works on reused buffers: a raycast
//! allocates nothing once warm, and the raycasts of one step share the present shapes and
//! (when they rewind as far) the rewound ones.

use glam::Vec2;
use hecs::World;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, EntityId, Tick};

use crate::history::LagHistory;

mod grid;

use grid::ShapeGrid;

/// Fewest active shapes worth a [`ShapeGrid`]; fewer are tested one by one.
const GRID_MIN_SHAPES: usize = 64;

/// A hittable shape in world coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A circle.
    Circle {
        /// Its centre.
        center: Vec2,
        /// Its radius.
        radius: f32,
    },
    /// An axis-aligned box.
    Aabb {
        /// Lower-left corner.
        min: Vec2,
        /// Upper-right corner.
        max: Vec2,
    },
}

impl Shape {
    /// The shape `t` of the way from `self` to `other` (`other` as is if the kinds differ).
    pub fn lerp(&self, other: &Shape, t: f32) -> Shape {
        match (*self, *other) {
            (Shape::Circle { center: a, radius }, Shape::Circle { center: b, .. }) => {
                Shape::Circle { center: a.lerp(b, t), radius }
            }
            (Shape::Aabb { min: a0, max: a1 }, Shape::Aabb { min: b0, max: b1 }) => {
                Shape::Aabb { min: a0.lerp(b0, t), max: a1.lerp(b1, t) }
            }
            _ => *other,
        }
    }

    /// Distance along the unit ray `origin + t·dir` (t ≥ 0) to the shape; 0 if `origin` is in it.
    pub fn ray_distance(&self, origin: Vec2, dir: Vec2) -> Option<f32> {
        match *self {
            Shape::Circle { center, radius } => ray_circle(origin, dir, center, radius),
            Shape::Aabb { min, max } => ray_aabb(origin, dir, min, max),
        }
    }
}

/// One hittable entity at one tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HitShape {
    /// The entity.
    pub id: EntityId,
    /// Its shape.
    pub shape: Shape,
    /// Whether it can be hit (a dead player is not).
    pub active: bool,
}

/// A ray: from `origin` along the unit vector `dir`, at most `length` long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    /// Where it starts.
    pub origin: Vec2,
    /// Its direction (unit length).
    pub dir: Vec2,
    /// Its length.
    pub length: f32,
}

/// What a raycast found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RayHit {
    /// The entity hit and the distance to it, if any.
    pub hit: Option<(EntityId, f32)>,
    /// How far back it was judged.
    pub rewind: Rewind,
}

impl RayHit {
    /// Where the ray ended: at the hit, or at its full length.
    pub fn end(&self, ray: &Ray) -> Vec2 {
        ray.origin + ray.dir * self.hit.map_or(ray.length, |(_, d)| d)
    }
}

/// How far one raycast was rewound (the server counts these).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rewind {
    /// Who cast it.
    pub shooter: ClientId,
    /// `now − view` in ticks, as honoured (0 without a view; negative for a view in the future).
    pub requested_ticks: f32,
    /// Ticks actually rewound.
    pub applied_ticks: f32,
    /// Whether the rewind window or the history cut the request short.
    pub clamped: bool,
    /// Whether the server replaced the client's claimed view time by its RTT-based estimate.
    pub corrected: bool,
    /// Whether it hit something.
    pub hit: bool,
}

impl Rewind {
    /// The applied rewind in milliseconds at `tick_rate`.
    pub fn applied_ms(&self, tick_rate: u16) -> u16 {
        (f64::from(self.applied_ticks) * 1000.0 / f64::from(tick_rate.max(1))).round() as u16
    }
}

/// How far a raycast was rewound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewindPlan {
    /// `now − view` in ticks (0 without a view; negative for a view in the future).
    pub requested_ticks: f32,
    /// How far the shapes were actually rewound, in ticks.
    pub applied_ticks: f32,
    /// Whether `applied_ticks` differs from `requested_ticks`.
    pub clamped: bool,
}

/// A player's honoured view time for this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct View {
    player: ClientId,
    view: ViewTime,
    corrected: bool,
}

/// The lag-compensation service of one room (see the module docs).
pub struct LagCompensation {
    history: LagHistory,
    max_rewind_ticks: f32,
    /// The tick being stepped.
    now: Tick,
    /// This tick's honoured views, by player.
    views: Vec<View>,
    shapes: fn(&World, &mut Vec<HitShape>),
    /// The present shapes, sorted by id, taken at this step's first raycast.
    present: Vec<HitShape>,
    /// The tick `present` was taken for.
    present_at: Option<Tick>,
    /// The shapes rewound for the last raycast, and the (tick, applied ticks' bits) they are
    /// for: raycasts of one step with the same rewind share them.
    rewound: Vec<HitShape>,
    rewound_for: Option<(Tick, u32)>,
    /// A spatial index of `rewound`, built at the second raycast against it (a lone raycast
    /// costs less without one); `indexed` once it is built and usable.
    grid: ShapeGrid,
    indexed: bool,
    /// Raycasts against `rewound` so far.
    casts: u32,
    rewinds: Vec<Rewind>,
}

impl std::fmt::Debug for LagCompensation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LagCompensation")
            .field("history", &self.history.len())
            .field("max_rewind_ticks", &self.max_rewind_ticks)
            .finish_non_exhaustive()
    }
}

impl LagCompensation {
    /// A service keeping `history_ticks` ticks (at least 2), rewinding at most
    /// `max_rewind_ticks`, asking `shapes` for the hittable shapes.
    pub fn new(
        history_ticks: usize,
        max_rewind_ticks: f32,
        shapes: fn(&World, &mut Vec<HitShape>),
    ) -> Self {
        Self {
            history: LagHistory::new(history_ticks, 64),
            max_rewind_ticks: max_rewind_ticks.max(0.0),
            now: Tick(0),
            views: Vec::new(),
            shapes,
            present: Vec::new(),
            present_at: None,
            rewound: Vec::new(),
            rewound_for: None,
            grid: ShapeGrid::default(),
            indexed: false,
            casts: 0,
            rewinds: Vec::new(),
        }
    }

    /// The recorded history.
    pub fn history(&self) -> &LagHistory {
        &self.history
    }

    /// The longest rewind, in ticks.
    pub fn max_rewind_ticks(&self) -> f32 {
        self.max_rewind_ticks
    }

    /// Before a step to `now`: the honoured view of each player with an input (sorted by
    /// player).
    pub(crate) fn begin(
        &mut self,
        now: Tick,
        views: impl Iterator<Item = (ClientId, ViewTime, bool)>,
    ) {
        self.now = now;
        self.views.clear();
        self.views.extend(views.map(|(player, view, corrected)| View { player, view, corrected }));
        self.views.sort_unstable_by_key(|v| v.player);
    }

    /// After a step: records the shapes of the new tick.
    pub(crate) fn record(&mut self, world: &World, tick: Tick) {
        self.present_at = None;
        self.rewound_for = None;
        self.present.clear();
        (self.shapes)(world, &mut self.present);
        let present = std::mem::take(&mut self.present);
        self.history.record(tick, present.iter().copied());
        self.present = present;
    }

    /// The raycasts of the last step, oldest first (drained).
    pub(crate) fn take_rewinds(&mut self) -> std::vec::Drain<'_, Rewind> {
        self.rewinds.drain(..)
    }

    /// What `ray` hits among the shapes that pass `hittable`, rewound to the view time the
    /// server honoured for `shooter`'s input this tick (the present for a player without one).
    ///
    /// The present shapes ([`Game::hit_shapes`](crate::Game::hit_shapes)) are taken once per
    /// step, at its first raycast, and the rewound shapes are shared by the raycasts of a step
    /// that rewind as far: a step with many shots queries the world once. What changes between
    /// two raycasts of one step (a target killed by the first shot) is the `hittable` filter's
    /// to judge, against the world as it is.
    pub fn raycast(
        &mut self,
        world: &World,
        shooter: ClientId,
        ray: Ray,
        hittable: impl Fn(EntityId) -> bool,
    ) -> RayHit {
        let view =
            self.views.binary_search_by_key(&shooter, |v| v.player).ok().map(|i| self.views[i]);
        let plan =
            plan_rewind(self.now, view.map(|v| v.view), self.max_rewind_ticks, &self.history);
        if self.present_at != Some(self.now) {
            self.present.clear();
            (self.shapes)(world, &mut self.present);
            self.present.sort_unstable_by_key(|s| s.id);
            self.present_at = Some(self.now);
            self.rewound_for = None;
        }
        let key = (self.now, plan.applied_ticks.to_bits());
        if self.rewound_for != Some(key) {
            rewound_shapes(
                &self.history,
                &self.present,
                self.now,
                plan.applied_ticks,
                &mut self.rewound,
            );
            self.rewound_for = Some(key);
            (self.indexed, self.casts) = (false, 0);
        }
        let hit = self.cast_rewound(&ray, &hittable);
        let rewind = Rewind {
            shooter,
            requested_ticks: plan.requested_ticks,
            applied_ticks: plan.applied_ticks,
            clamped: plan.clamped,
            corrected: view.is_some_and(|v| v.corrected),
            hit: hit.is_some(),
        };
        self.rewinds.push(rewind);
        RayHit { hit, rewind }
    }

    /// [`cast`] against the rewound shapes, through their [`ShapeGrid`] from the second
    /// raycast on (the same answer, from the few shapes near the ray).
    fn cast_rewound(
        &mut self,
        ray: &Ray,
        hittable: impl Fn(EntityId) -> bool,
    ) -> Option<(EntityId, f32)> {
        self.casts = self.casts.saturating_add(1);
        if self.casts == 2 && self.rewound.len() >= GRID_MIN_SHAPES {
            self.indexed = self.grid.build(&self.rewound);
        }
        if self.indexed {
            self.grid.cast(ray, &self.rewound, hittable)
        } else {
            cast(ray, &self.rewound, hittable)
        }
    }
}

/// Clamps the honoured `view` to what may and can be rewound. `now` is the tick being stepped;
/// `history` must hold consecutive frames up to `now − 1`.
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

/// Fills `out` with the shapes as they were `applied_ticks` before `now`. `present` is the
/// state at `now` (sorted by id); with `applied_ticks == 0` it is copied as is. A shape is
/// active only if it was active at both recorded ticks around that time and is now.
pub fn rewound_shapes(
    history: &LagHistory,
    present: &[HitShape],
    now: Tick,
    applied_ticks: f32,
    out: &mut Vec<HitShape>,
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
    // `a`, `b` and `present` are sorted by id: one merge walk.
    let (mut j, mut k) = (0, 0);
    for ra in a {
        while j < b.len() && b[j].id < ra.id {
            j += 1;
        }
        let Some(rb) = b.get(j).filter(|rb| rb.id == ra.id) else { continue };
        while k < present.len() && present[k].id < ra.id {
            k += 1;
        }
        let active_now = present.get(k).is_some_and(|p| p.id == ra.id && p.active);
        out.push(HitShape {
            id: ra.id,
            shape: ra.shape.lerp(&rb.shape, frac),
            active: ra.active && rb.active && active_now,
        });
    }
}

/// The nearest active shape passing `hittable` along `ray`, within its length.
///
/// `hittable` is asked only about the shapes the ray meets nearer than the best so far: it is
/// the game's judgement against its world (a lookup or two per call), the geometry is a few
/// multiplications, and a room of 2,000 players firing 250 shots a tick would otherwise ask it
/// half a million times a tick.
pub fn cast(
    ray: &Ray,
    shapes: &[HitShape],
    hittable: impl Fn(EntityId) -> bool,
) -> Option<(EntityId, f32)> {
    let mut best: Option<(EntityId, f32)> = None;
    let mut limit = ray.length;
    for s in shapes.iter().filter(|s| s.active) {
        if let Some(d) = s.shape.ray_distance(ray.origin, ray.dir).filter(|d| *d <= limit)
            && hittable(s.id)
        {
            limit = d;
            best = Some((s.id, d));
        }
    }
    best
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

/// Distance along the unit ray to where it enters the box `min..=max`; 0 if `origin` is inside.
pub fn ray_aabb(origin: Vec2, dir: Vec2, min: Vec2, max: Vec2) -> Option<f32> {
    let (mut t_min, mut t_max) = (0.0f32, f32::INFINITY);
    for axis in 0..2 {
        let (o, d, lo, hi) = (origin[axis], dir[axis], min[axis], max[axis]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u32, x: f32, y: f32, active: bool) -> HitShape {
        HitShape {
            id: EntityId(id),
            shape: Shape::Circle { center: Vec2::new(x, y), radius: 12.0 },
            active,
        }
    }

    fn center(s: &HitShape) -> Vec2 {
        match s.shape {
            Shape::Circle { center, .. } => center,
            Shape::Aabb { min, .. } => min,
        }
    }

    #[test]
    fn ray_primitives() {
        let o = Vec2::new(0.0, 0.0);
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(10.0, 0.0), 2.0), Some(8.0));
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(10.0, 2.0), 2.0), Some(10.0));
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(10.0, 2.1), 2.0), None);
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(-10.0, 0.0), 2.0), None);
        assert_eq!(ray_circle(o, Vec2::X, Vec2::new(1.0, 0.0), 2.0), Some(0.0));
        let (min, max) = (Vec2::new(5.0, -1.0), Vec2::new(6.0, 1.0));
        assert_eq!(ray_aabb(o, Vec2::X, min, max), Some(5.0));
        assert_eq!(ray_aabb(o, -Vec2::X, min, max), None);
        assert_eq!(ray_aabb(o, Vec2::Y, min, max), None);
        assert_eq!(ray_aabb(Vec2::new(5.5, 0.0), Vec2::X, min, max), Some(0.0));
    }

    #[test]
    fn nearest_hittable_active_shape_wins() {
        let shapes = [
            rec(1, 0.0, 0.0, true),
            rec(2, 300.0, 0.0, true),
            rec(3, 200.0, 0.0, false),
            rec(4, 400.0, 0.0, true),
        ];
        let ray = Ray { origin: Vec2::ZERO, dir: Vec2::X, length: 1000.0 };
        assert_eq!(cast(&ray, &shapes, |id| id != EntityId(1)), Some((EntityId(2), 288.0)));
        assert_eq!(cast(&ray, &shapes, |id| id == EntityId(4)), Some((EntityId(4), 388.0)));
        let short = Ray { length: 100.0, ..ray };
        assert_eq!(cast(&short, &shapes, |id| id != EntityId(1)), None);
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
    fn rewind_interpolates_and_needs_active_in_both_frames_and_now() {
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
        rewound_shapes(&h, &present, Tick(12), 1.75, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(center(&out[0]), Vec2::new(2.5, 0.0));
        assert!(out[0].active);
        assert!(!out[1].active, "inactive now: cannot be damaged");
        assert!(!out[2].active, "became active in between: not hittable there");
        rewound_shapes(&h, &present, Tick(12), 0.5, &mut out);
        assert_eq!(center(&out[0]), Vec2::new(15.0, 0.0), "between tick 11 and the present");
        rewound_shapes(&h, &present, Tick(12), 0.0, &mut out);
        assert_eq!(out, present);
    }

    fn two_circles(_world: &World, out: &mut Vec<HitShape>) {
        out.push(rec(7, 100.0, 0.0, true));
        out.push(rec(3, 50.0, 0.0, true));
    }

    #[test]
    fn raycast_uses_the_honoured_view_and_records_the_rewind() {
        let world = World::new();
        let mut lag = LagCompensation::new(31, 7.5, two_circles);
        for t in 0..10u32 {
            lag.record(&world, Tick(t));
        }
        let view = ViewTime { tick: Tick(7), fraction: 0 };
        lag.begin(Tick(10), [(ClientId(5), view, true)].into_iter());
        let ray = Ray { origin: Vec2::ZERO, dir: Vec2::X, length: 500.0 };
        let hit = lag.raycast(&world, ClientId(5), ray, |id| id != EntityId(3));
        assert_eq!(hit.hit, Some((EntityId(7), 88.0)));
        assert_eq!(hit.end(&ray), Vec2::new(88.0, 0.0));
        assert_eq!((hit.rewind.applied_ticks, hit.rewind.corrected), (3.0, true));
        let other = lag.raycast(&world, ClientId(6), ray, |_| true);
        assert_eq!((other.hit, other.rewind.applied_ticks), (Some((EntityId(3), 38.0)), 0.0));
        assert_eq!(lag.take_rewinds().count(), 2);
        assert_eq!(hit.rewind.applied_ms(30), 100);
    }
}
