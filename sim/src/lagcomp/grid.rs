//! [`ShapeGrid`]: a uniform grid over one set of hittable shapes, so that a ray tests only the
//! shapes of the cells it crosses, nearest cell first, and stops at the first cell beyond its
//! best hit.
//!
//! It finds exactly what [`cast`](super::cast) finds: of the active shapes that pass the filter
//! and that the ray meets within its length, the nearest; of several at the same distance, the
//! last in the slice. A room of 2,000 players in a big world casts a few hundred rays a tick
//! against 2,000 shapes: a few cells each instead of every shape.
//!
//! Each active shape is listed in every cell its bounding box, padded by a hundredth of a
//! cell, overlaps, so that rounding in the walk along the ray cannot miss it; a shape that
//! would cover more than [`MAX_CELLS_PER_SHAPE`] cells is tested by every ray instead.

use glam::Vec2;
use tickwire_protocol::EntityId;

use super::{HitShape, Ray, Shape};

/// Most cells a shape is listed in; a bigger one is tested by every ray.
const MAX_CELLS_PER_SHAPE: usize = 16;

/// Most cells along a side of the grid.
const MAX_SIDE: usize = 128;

/// The grid over one slice of shapes (see the module docs). Its buffers are reused from one
/// [`build`](Self::build) to the next.
#[derive(Debug, Default)]
pub(crate) struct ShapeGrid {
    /// Lower corner of cell (0, 0).
    min: Vec2,
    /// Side of a cell.
    cell: f32,
    /// Padding of the shapes' boxes, and slack of the walk's stopping test.
    pad: f32,
    /// Cells across and down (0: no active shape).
    nx: usize,
    ny: usize,
    /// Cell `c`'s shapes (indices into the slice, in slice order) are
    /// `entries[starts[c]..starts[c + 1]]`.
    starts: Vec<u32>,
    entries: Vec<u32>,
    /// Shapes tested by every ray (too big for the cells).
    big: Vec<u32>,
    /// Scratch for [`fill`](Self::fill): each cell's next free entry.
    next: Vec<u32>,
}

/// The bounding box of a shape.
fn bounds(shape: &Shape) -> (Vec2, Vec2) {
    match *shape {
        Shape::Circle { center, radius } => (center - Vec2::splat(radius), center + radius),
        Shape::Aabb { min, max } => (min, max),
    }
}

/// The active shapes of a slice, with their indices.
fn active(shapes: &[HitShape]) -> impl Iterator<Item = (u32, &HitShape)> {
    // invariant: `build` checked that the indices fit in a u32.
    (0u32..).zip(shapes).filter(|(_, s)| s.active)
}

impl ShapeGrid {
    /// Indexes the active shapes of `shapes`. Returns `false` (and the grid must not be used)
    /// when they cannot be: a coordinate that is not finite, or more than `u32::MAX` shapes.
    pub(crate) fn build(&mut self, shapes: &[HitShape]) -> bool {
        self.starts.clear();
        self.entries.clear();
        self.big.clear();
        (self.nx, self.ny) = (0, 0);
        if u32::try_from(shapes.len()).is_err() {
            return false;
        }
        let (mut lo, mut hi, mut count) = (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN), 0);
        for (_, s) in active(shapes) {
            let (min, max) = bounds(&s.shape);
            if !(min.is_finite() && max.is_finite()) {
                return false;
            }
            (lo, hi, count) = (lo.min(min), hi.max(max), count + 1);
        }
        if count == 0 {
            return true;
        }
        let side = ((count as f32).sqrt().ceil() as usize).clamp(1, MAX_SIDE);
        let extent = (hi - lo).max_element().max(1.0);
        if !extent.is_finite() {
            return false;
        }
        self.cell = extent / side as f32;
        self.pad = self.cell / 100.0;
        self.min = lo - Vec2::splat(self.pad);
        let cells =
            |v: f32| ((v + 2.0 * self.pad) / self.cell).ceil().clamp(1.0, 2.0 * MAX_SIDE as f32);
        (self.nx, self.ny) = (cells(hi.x - lo.x) as usize, cells(hi.y - lo.y) as usize);
        self.fill(shapes);
        true
    }

    /// The cells a shape's padded box covers, `(x0, y0, x1, y1)` inclusive; `None` when that
    /// is more than [`MAX_CELLS_PER_SHAPE`].
    fn span(&self, shape: &Shape) -> Option<(usize, usize, usize, usize)> {
        let (min, max) = bounds(shape);
        let (a, b) = (min - self.min - self.pad, max - self.min + self.pad);
        let (x0, x1) = (self.index(a.x, self.nx), self.index(b.x, self.nx));
        let (y0, y1) = (self.index(a.y, self.ny), self.index(b.y, self.ny));
        ((x1 - x0 + 1) * (y1 - y0 + 1) <= MAX_CELLS_PER_SHAPE).then_some((x0, y0, x1, y1))
    }

    /// The column (or row) of `v` units past the grid's corner, clamped to the `n` there are.
    fn index(&self, v: f32, n: usize) -> usize {
        (v / self.cell).floor().clamp(0.0, n.saturating_sub(1) as f32) as usize
    }

    /// Lists each active shape in its cells: counted, then placed.
    fn fill(&mut self, shapes: &[HitShape]) {
        let mut next = std::mem::take(&mut self.next);
        next.clear();
        next.resize(self.nx * self.ny, 0);
        for (i, s) in active(shapes) {
            match self.span(&s.shape) {
                Some((x0, y0, x1, y1)) => {
                    for y in y0..=y1 {
                        next[y * self.nx + x0..=y * self.nx + x1].iter_mut().for_each(|n| *n += 1);
                    }
                }
                None => self.big.push(i),
            }
        }
        // Counts become each cell's first entry.
        let mut total = 0;
        self.starts.push(0);
        for n in &mut next {
            (*n, total) = (total, total + *n);
            self.starts.push(total);
        }
        self.entries.resize(total as usize, 0);
        for (i, s) in active(shapes) {
            let Some((x0, y0, x1, y1)) = self.span(&s.shape) else { continue };
            for y in y0..=y1 {
                for slot in &mut next[y * self.nx + x0..=y * self.nx + x1] {
                    self.entries[*slot as usize] = i;
                    *slot += 1;
                }
            }
        }
        self.next = next;
    }

    /// The shapes listed in cell `(x, y)`.
    fn cell(&self, x: usize, y: usize) -> &[u32] {
        let c = y * self.nx + x;
        match (self.starts.get(c), self.starts.get(c + 1)) {
            (Some(&a), Some(&b)) => self.entries.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }

    /// What `ray` hits among `shapes`, the slice last [`build`](Self::build)t (see the module
    /// docs): the big shapes, then the cells along the ray, nearest first.
    pub(crate) fn cast(
        &self,
        ray: &Ray,
        shapes: &[HitShape],
        hittable: impl Fn(EntityId) -> bool,
    ) -> Option<(EntityId, f32)> {
        if !(ray.origin.is_finite() && ray.dir.is_finite()) || ray.length.is_nan() {
            return super::cast(ray, shapes, hittable);
        }
        let mut best: Option<(u32, f32)> = None;
        let consider = |i: u32, best: &mut Option<(u32, f32)>| {
            let Some(s) = shapes.get(i as usize) else { return };
            let d = s.shape.ray_distance(ray.origin, ray.dir).filter(|d| *d <= ray.length);
            let Some(d) = d else { return };
            // As `cast` ranks them: nearer, or as near and later in the slice.
            let better = best.is_none_or(|(bi, bd)| d < bd || (d == bd && i > bi));
            if better && hittable(s.id) {
                *best = Some((i, d));
            }
        };
        self.big.iter().for_each(|&i| consider(i, &mut best));
        if let Some((t0, t1)) = self.clip(ray) {
            self.walk(ray, t0, t1, |x, y, t_enter| {
                // A shape not seen yet is met past `t_enter` (less the padding's slack).
                if best.is_some_and(|(_, d)| d + self.pad < t_enter) {
                    return false;
                }
                self.cell(x, y).iter().for_each(|&i| consider(i, &mut best));
                true
            });
        }
        best.and_then(|(i, d)| Some((shapes.get(i as usize)?.id, d)))
    }

    /// The part `t0..=t1` of the ray (within its length) inside the grid, if any.
    fn clip(&self, ray: &Ray) -> Option<(f32, f32)> {
        if self.nx == 0 || self.ny == 0 {
            return None;
        }
        let max = self.min + Vec2::new(self.nx as f32, self.ny as f32) * self.cell;
        let (mut t0, mut t1) = (0.0f32, ray.length);
        for axis in 0..2 {
            let (o, d, lo, hi) = (ray.origin[axis], ray.dir[axis], self.min[axis], max[axis]);
            if d == 0.0 {
                if o < lo || o > hi {
                    return None;
                }
                continue;
            }
            let (a, b) = ((lo - o) / d, (hi - o) / d);
            (t0, t1) = (t0.max(a.min(b)), t1.min(a.max(b)));
        }
        (t0 <= t1).then_some((t0, t1))
    }

    /// Visits the cells the ray crosses from `t0` to `t1`, in order, with the distance at which
    /// it enters each, until `visit` returns `false`.
    fn walk(&self, ray: &Ray, t0: f32, t1: f32, mut visit: impl FnMut(usize, usize, f32) -> bool) {
        let p = ray.origin + ray.dir * t0;
        let (mut x, mut y) =
            (self.index(p.x - self.min.x, self.nx), self.index(p.y - self.min.y, self.ny));
        // Where the ray leaves column `x` (row `y`), along it.
        let exit = |c: usize, axis: usize| {
            let (o, d, lo) = (ray.origin[axis], ray.dir[axis], self.min[axis]);
            match d.partial_cmp(&0.0) {
                Some(std::cmp::Ordering::Greater) => (lo + (c + 1) as f32 * self.cell - o) / d,
                Some(std::cmp::Ordering::Less) => (lo + c as f32 * self.cell - o) / d,
                _ => f32::INFINITY,
            }
        };
        let mut t_enter = t0;
        while visit(x, y, t_enter) {
            let (tx, ty) = (exit(x, 0), exit(y, 1));
            let t_exit = tx.min(ty);
            if !(t_exit.is_finite() && t_exit <= t1) {
                return;
            }
            let (c, n, d) =
                if tx <= ty { (&mut x, self.nx, ray.dir.x) } else { (&mut y, self.ny, ray.dir.y) };
            match if d > 0.0 { c.checked_add(1) } else { c.checked_sub(1) } {
                Some(next) if next < n => *c = next,
                _ => return,
            }
            t_enter = t_enter.max(t_exit);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    use super::super::cast;
    use super::*;

    /// `n` shapes in a `side`-wide square: circles (some big, some on one point, so that
    /// distances tie) and boxes (some long), a tenth inactive.
    fn scene(rng: &mut Pcg32, n: u32, side: f32) -> Vec<HitShape> {
        let point = |rng: &mut Pcg32| {
            let p = Vec2::new(rng.random_range(0.0..side), rng.random_range(0.0..side));
            // Every fifth on a coarse lattice: shapes at the same place.
            if rng.random_range(0..5) == 0 { (p / 100.0).round() * 100.0 } else { p }
        };
        (0..n)
            .map(|id| {
                let at = point(rng);
                let shape = match rng.random_range(0..10) {
                    0 => Shape::Circle { center: at, radius: rng.random_range(50.0..600.0) },
                    1 | 2 => {
                        let size =
                            Vec2::new(rng.random_range(1.0..400.0), rng.random_range(1.0..40.0));
                        Shape::Aabb { min: at, max: at + size }
                    }
                    _ => Shape::Circle { center: at, radius: 12.5 },
                };
                HitShape { id: EntityId(id), shape, active: rng.random_range(0..10) != 0 }
            })
            .collect()
    }

    fn ray(rng: &mut Pcg32, side: f32) -> Ray {
        let origin = Vec2::new(
            rng.random_range(-200.0..side + 200.0),
            rng.random_range(-200.0..side + 200.0),
        );
        let dir = match rng.random_range(0..8) {
            0 => Vec2::X,
            1 => -Vec2::Y,
            _ => Vec2::from_angle(rng.random_range(0.0..std::f32::consts::TAU)),
        };
        Ray { origin, dir, length: rng.random_range(1.0..side * 1.5) }
    }

    #[test]
    fn the_grid_finds_what_testing_every_shape_finds() {
        let mut rng = Pcg32::seed_from_u64(18);
        let mut grid = ShapeGrid::default();
        let (mut hits, mut rays) = (0, 0);
        for (n, side) in [(2_000, 8_000.0), (300, 1_000.0), (64, 50.0), (5, 10_000.0)] {
            for _ in 0..20 {
                let shapes = scene(&mut rng, n, side);
                assert!(grid.build(&shapes));
                // A filter that refuses some shapes (a dead player, the shooter).
                let refused = rng.random_range(0..n);
                let hittable = |id: EntityId| id.0 % 7 != refused % 7;
                for _ in 0..200 {
                    let r = ray(&mut rng, side);
                    let expected = cast(&r, &shapes, hittable);
                    assert_eq!(grid.cast(&r, &shapes, hittable), expected, "{r:?}");
                    (hits, rays) = (hits + usize::from(expected.is_some()), rays + 1);
                }
            }
        }
        assert!(hits > rays / 5 && hits < rays, "{hits} hits of {rays} rays");
    }

    #[test]
    fn no_shapes_and_shapes_that_are_not_finite() {
        let mut grid = ShapeGrid::default();
        let r = Ray { origin: Vec2::ZERO, dir: Vec2::X, length: 100.0 };
        assert!(grid.build(&[]));
        assert_eq!(grid.cast(&r, &[], |_| true), None);
        let bad = [HitShape {
            id: EntityId(1),
            shape: Shape::Circle { center: Vec2::new(f32::NAN, 0.0), radius: 1.0 },
            active: true,
        }];
        assert!(!grid.build(&bad), "not finite: cast one by one instead");
    }
}
