//! Pure player movement: the one function the server steps players with and clients call to
//! predict their own player. Same inputs, same bits out, on every platform (only integer
//! arithmetic and correctly rounded `sqrt`).
//!
//! 1. The input's move vector (`i8` x, y) is divided by 127 and its length clamped to 1 (analog
//!    sticks move slower, keyboards full speed, `-128` is no faster than `127`).
//! 2. It is scaled by the speed cap for one tick and **rounded toward zero** to the 1/32 grid,
//!    component-wise; if rounding still leaves it longer than the cap, the longer component gives
//!    up one grid step until it fits. So `|displacement| <= player_speed · tick_seconds` always.
//! 3. Collision, one axis at a time (x, then y at the new x) so players slide along walls: the
//!    circle moves along the axis until it would overlap a wall (exact circle-vs-AABB, corners
//!    rounded) or leave the world, and stops at the last grid position that does not. Each axis
//!    can only shrink, never grow, so collision never adds speed.
//!
//! Everything is done in integer grid steps (1/32 unit), so positions stay on the grid and the
//! overlap test is exact: a player that does not overlap a wall never will. A player that somehow
//! starts inside a wall is not blocked by it, so it can walk out.

use glam::Vec2;
use tickwire_protocol::schema::round;

use crate::config::{ArenaRules, GRID_PER_UNIT, Wall};

/// Moves a player at `pos` by one tick of the move vector `(move_x, move_y)` (each
/// `-127..=127`, [`ArenaInput`](crate::ArenaInput)'s). Returns the new position and the
/// displacement (both on the grid; `pos` is snapped to the grid first).
pub fn move_player(
    pos: Vec2,
    move_x: i8,
    move_y: i8,
    rules: &ArenaRules,
    tick_seconds: f32,
) -> (Vec2, Vec2) {
    let start = [units(pos.x), units(pos.y)];
    let (dx, dy) = step_units(move_x, move_y, rules.player_speed * tick_seconds);
    let r = units(rules.player_radius);
    let world = [units(rules.world.x), units(rules.world.y)];
    let x = sweep(start, 0, dx, r, world, &rules.walls);
    let y = sweep([x, start[1]], 1, dy, r, world, &rules.walls);
    let new = Vec2::new(from_units(x), from_units(y));
    (new, Vec2::new(from_units(x - start[0]), from_units(y - start[1])))
}

/// The displacement one tick of this move vector asks for, before collision, in world units.
pub fn desired_step(move_x: i8, move_y: i8, max_step: f32) -> Vec2 {
    let (dx, dy) = step_units(move_x, move_y, max_step);
    Vec2::new(from_units(dx), from_units(dy))
}

/// Whether a circle at `pos` overlaps `wall` (touching does not count).
pub fn overlaps_wall(pos: Vec2, radius: f32, wall: &Wall) -> bool {
    let (x, y, r) = (units(pos.x), units(pos.y), units(radius));
    let dx = (units(wall.min.x) - x).max(x - units(wall.max.x)).max(0);
    let dy = (units(wall.min.y) - y).max(y - units(wall.max.y)).max(0);
    dx * dx + dy * dy < r * r
}

/// Whether a player-sized circle at `pos` is inside the world and clear of every wall.
pub fn is_free(pos: Vec2, rules: &ArenaRules) -> bool {
    let r = rules.player_radius;
    pos.x >= r
        && pos.y >= r
        && pos.x <= rules.world.x - r
        && pos.y <= rules.world.y - r
        && !rules.walls.iter().any(|w| overlaps_wall(pos, r, w))
}

/// World units to grid steps (rounded; non-finite input counts as 0). `round` is
/// `f64::round` without a call into the software one, a few times per moving entity per tick.
fn units(v: f32) -> i64 {
    if v.is_finite() { round(f64::from(v) * f64::from(GRID_PER_UNIT)) as i64 } else { 0 }
}

fn from_units(u: i64) -> f32 {
    (u as f64 / f64::from(GRID_PER_UNIT)) as f32
}

/// Steps 1 and 2 of the module docs, in grid steps.
fn step_units(move_x: i8, move_y: i8, max_step: f32) -> (i64, i64) {
    let cap = f64::from(max_step) * f64::from(GRID_PER_UNIT);
    if !(cap.is_finite() && cap > 0.0) {
        return (0, 0);
    }
    let (fx, fy) = (f64::from(move_x) / 127.0, f64::from(move_y) / 127.0);
    // `sqrt` is correctly rounded everywhere (`hypot` is not), so clients agree bit for bit.
    let len = (fx * fx + fy * fy).sqrt();
    let scale = if len > 1.0 { cap / len } else { cap };
    let (mut dx, mut dy) = ((fx * scale).trunc() as i64, (fy * scale).trunc() as i64);
    while ((dx * dx + dy * dy) as f64) > cap * cap {
        if dx.abs() >= dy.abs() {
            dx -= dx.signum();
        } else {
            dy -= dy.signum();
        }
    }
    (dx, dy)
}

/// Moves coordinate `axis` of `p` by `delta` grid steps, stopping at the world bounds and at the
/// first wall in the way. Returns the new coordinate.
fn sweep(p: [i64; 2], axis: usize, delta: i64, r: i64, world: [i64; 2], walls: &[Wall]) -> i64 {
    let (a, b) = (axis, 1 - axis);
    let from = p[a];
    if delta == 0 {
        return from;
    }
    let mut to = from + delta;
    let (lo, hi) = (r, world[a] - r);
    if delta > 0 && to > hi {
        to = hi.max(from);
    } else if delta < 0 && to < lo {
        to = lo.min(from);
    }
    for w in walls {
        let (wmin, wmax) = ([units(w.min.x), units(w.min.y)], [units(w.max.x), units(w.max.y)]);
        // How far the centre is from the wall's extent on the other axis.
        let off = (wmin[b] - p[b]).max(p[b] - wmax[b]).max(0);
        if off >= r {
            continue;
        }
        // Smallest distance along this axis at which the circle clears the wall (exact).
        let reach = ceil_sqrt(r * r - off * off);
        let (near, far) = (wmin[a] - reach, wmax[a] + reach);
        if delta > 0 && from <= near && to > near {
            to = near;
        } else if delta < 0 && from >= far && to < far {
            to = far;
        }
    }
    to
}

/// The smallest `s >= 0` with `s² >= n`.
fn ceil_sqrt(n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    let mut s = (n as f64).sqrt() as i64;
    while s * s < n {
        s += 1;
    }
    while s > 0 && (s - 1) * (s - 1) >= n {
        s -= 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const DT: f32 = 1.0 / 30.0;

    #[test]
    fn full_speed_is_rounded_toward_zero_to_the_grid() {
        let rules = ArenaRules { walls: vec![], ..ArenaRules::default() };
        let (pos, d) = move_player(Vec2::new(100.0, 100.0), 127, 0, &rules, DT);
        // 200/30 = 6.666.. → 213/32 = 6.65625.
        assert_eq!(d, Vec2::new(6.656_25, 0.0));
        assert_eq!(pos, Vec2::new(106.656_25, 100.0));
        let (_, d) = move_player(Vec2::new(100.0, 100.0), -128, -128, &rules, DT);
        assert!(d.x < 0.0 && d.x == d.y);
        assert!(f64::from(d.length_squared()) <= (200.0f64 / 30.0).powi(2));
        let (_, d) = move_player(Vec2::new(100.0, 100.0), 0, 0, &rules, DT);
        assert_eq!(d, Vec2::ZERO);
        let (_, half) = move_player(Vec2::new(100.0, 100.0), 0, 64, &rules, DT);
        assert_eq!(half, Vec2::new(0.0, 3.343_75));
    }

    #[test]
    fn stops_at_world_bounds() {
        let rules = ArenaRules { walls: vec![], ..ArenaRules::default() };
        let (pos, d) = move_player(Vec2::new(985.0, 14.0), 127, -127, &rules, DT);
        assert_eq!(pos, Vec2::new(988.0, 12.0));
        assert_eq!(d, Vec2::new(3.0, -2.0));
    }

    #[test]
    fn slides_along_a_wall_face() {
        let wall = Wall::new(Vec2::new(100.0, 0.0), Vec2::new(120.0, 500.0));
        let rules = ArenaRules { walls: vec![wall], ..ArenaRules::default() };
        // Touching the wall's left face, pushing diagonally into it: x blocked, y slides.
        let (pos, d) = move_player(Vec2::new(88.0, 200.0), 90, 90, &rules, DT);
        assert_eq!(pos.x, 88.0);
        assert!(d.y > 4.0, "slides along the face: {d}");
        // Approaching: stops exactly at contact.
        let (pos, _) = move_player(Vec2::new(85.0, 200.0), 127, 0, &rules, DT);
        assert_eq!(pos, Vec2::new(88.0, 200.0));
    }

    #[test]
    fn rounded_corner_is_exact() {
        let wall = Wall::new(Vec2::new(100.0, 100.0), Vec2::new(200.0, 200.0));
        let rules = ArenaRules { walls: vec![wall], ..ArenaRules::default() };
        // Centre 5 units below the bottom edge's extension, left of the corner.
        let start = Vec2::new(85.0, 95.0);
        let (pos, _) = move_player(start, 127, 0, &rules, DT);
        assert!(pos.x > 85.0 && pos.x < 100.0);
        assert!(!overlaps_wall(pos, 12.0, &wall), "stopped clear of the corner: {pos}");
        let one_more = Vec2::new(pos.x + 1.0 / 32.0, pos.y);
        assert!(overlaps_wall(one_more, 12.0, &wall), "one grid step further would overlap");
    }

    #[test]
    fn starting_inside_a_wall_can_walk_out() {
        let wall = Wall::new(Vec2::new(100.0, 100.0), Vec2::new(200.0, 200.0));
        let rules = ArenaRules { walls: vec![wall], ..ArenaRules::default() };
        let (pos, _) = move_player(Vec2::new(105.0, 150.0), -127, 0, &rules, DT);
        assert!(pos.x < 105.0);
    }

    #[test]
    fn ceil_sqrt_is_exact() {
        for n in 0..10_000i64 {
            let s = ceil_sqrt(n);
            assert!(s * s >= n && (s == 0 || (s - 1) * (s - 1) < n), "n = {n}");
        }
        assert_eq!(ceil_sqrt(384 * 384), 384);
        assert_eq!(ceil_sqrt(384 * 384 + 1), 385);
    }

    #[test]
    fn non_finite_time_does_not_move() {
        let rules = ArenaRules::default();
        let (pos, d) = move_player(Vec2::new(50.0, 50.0), 127, 0, &rules, f32::NAN);
        assert_eq!((pos, d), (Vec2::new(50.0, 50.0), Vec2::ZERO));
    }
}
