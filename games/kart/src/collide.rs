//! Kart against kart: overlapping karts are pushed apart and, if they were closing in, swap
//! the velocity along the line between their centres (equal masses, elastic).
//!
//! Pairs are found with a sweep along x (karts sorted by x, then by their order in the slice),
//! and resolved in that order, in integers: deterministic. A push that would put a kart into a
//! wall is not applied (the other kart still moves). This is the one place where a driver's
//! prediction of its own kart can be wrong on a clean link: the other kart is not predicted.

use crate::physics::{KartState, clamp_speed};
use crate::track::Track;

/// Two karts collided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contact {
    pub(crate) a: usize,
    pub(crate) b: usize,
    /// Closing speed, grid steps per tick (0: they were already parting).
    pub(crate) speed: i32,
}

/// Resolves every overlapping pair among `karts` of `radius` (grid steps); returns the contacts.
pub(crate) fn collide(track: &Track, karts: &mut [KartState], radius: i32) -> Vec<Contact> {
    let mut order: Vec<usize> = (0..karts.len()).collect();
    order.sort_by_key(|&i| (karts[i].x, i));
    let reach = 2 * i64::from(radius);
    let mut contacts = Vec::new();
    for (n, &a) in order.iter().enumerate() {
        for &b in &order[n + 1..] {
            if i64::from(karts[b].x) - i64::from(karts[a].x) >= reach {
                break;
            }
            if let Some(speed) = resolve(track, karts, a, b, reach, radius) {
                contacts.push(Contact { a, b, speed });
            }
        }
    }
    contacts
}

/// Separates karts `a` and `b` if they overlap; returns their closing speed if they did.
fn resolve(
    track: &Track,
    karts: &mut [KartState],
    a: usize,
    b: usize,
    reach: i64,
    radius: i32,
) -> Option<i32> {
    let (ka, kb) = (karts[a], karts[b]);
    let (dx, dy) = (i64::from(kb.x - ka.x), i64::from(kb.y - ka.y));
    let d2 = dx * dx + dy * dy;
    if d2 >= reach * reach {
        return None;
    }
    // Coincident karts part along x.
    let (nx, ny, d) = match d2.isqrt() {
        0 => (1, 0, 1),
        d => (dx, dy, d),
    };
    let push = (reach - d) / 2 + 1;
    let step = |n: i64| (push * n / d) as i32;
    let moved_a = (ka.x - step(nx), ka.y - step(ny));
    let moved_b = (kb.x + step(nx), kb.y + step(ny));
    if track.is_free(moved_a.0, moved_a.1, radius) {
        (karts[a].x, karts[a].y) = moved_a;
    }
    if track.is_free(moved_b.0, moved_b.1, radius) {
        (karts[b].x, karts[b].y) = moved_b;
    }
    let rel = (i64::from(ka.vx - kb.vx) * nx + i64::from(ka.vy - kb.vy) * ny) / d;
    if rel > 0 {
        let swap = |n: i64| (rel * n / d) as i32;
        (karts[a].vx, karts[a].vy) = (clamp_speed(ka.vx - swap(nx)), clamp_speed(ka.vy - swap(ny)));
        (karts[b].vx, karts[b].vy) = (clamp_speed(kb.vx + swap(nx)), clamp_speed(kb.vy + swap(ny)));
    }
    Some(rel.max(0) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kart at `(x, 2000)` moving at `vx` along x.
    fn kart(x: i32, vx: i32) -> KartState {
        KartState { x, y: 2_000, vx, ..KartState::default() }
    }

    #[test]
    fn a_head_on_collision_swaps_velocities_and_parts_the_karts() {
        let t = Track::default();
        let r = 12 * 16;
        let mut karts = [kart(16_000, 50), kart(16_000 + 300, -30), kart(26_000, 0)];
        let contacts = collide(&t, &mut karts, r);
        assert_eq!(contacts, [Contact { a: 0, b: 1, speed: 80 }]);
        assert_eq!((karts[0].vx, karts[1].vx), (-30, 50));
        assert!(karts[1].x - karts[0].x >= 2 * r, "{karts:?}");
        assert_eq!(karts[2], kart(26_000, 0), "untouched");
    }

    #[test]
    fn coincident_karts_part_along_x() {
        let t = Track::default();
        let mut karts = [kart(16_000, 0); 2];
        let contacts = collide(&t, &mut karts, 192);
        assert_eq!(contacts.len(), 1);
        assert!(karts[1].x - karts[0].x >= 384);
    }
}
