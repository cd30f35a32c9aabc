//! Kart against kart: overlapping karts are pushed apart and, if they were closing in, swap
//! the velocity along the line between their centres (equal masses, elastic).
//!
//! Pairs are found with a sweep along x (karts sorted by x, then by their order in the slice),
//! and resolved in that order, in integers: deterministic. A push that would put a kart into a
//! wall is not applied (the other kart still moves). This is the one place where a driver's
//! prediction of its own kart can be wrong on a clean link: the other kart is not predicted.

use crate::physics::clamp_speed;
use crate::track::Track;

/// A kart's position and velocity, grid steps (per tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Body {
    pub(crate) pos: (i32, i32),
    pub(crate) velocity: (i32, i32),
}

/// Two karts collided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contact {
    pub(crate) a: usize,
    pub(crate) b: usize,
    /// Closing speed, grid steps per tick (0: they were already parting).
    pub(crate) speed: i32,
}

/// Resolves every overlapping pair among `karts` of `radius` (grid steps); returns the contacts.
pub(crate) fn collide(track: &Track, karts: &mut [Body], radius: i32) -> Vec<Contact> {
    let mut order: Vec<usize> = (0..karts.len()).collect();
    order.sort_by_key(|&i| (karts[i].pos.0, i));
    let reach = 2 * i64::from(radius);
    let mut contacts = Vec::new();
    for (n, &a) in order.iter().enumerate() {
        for &b in &order[n + 1..] {
            if i64::from(karts[b].pos.0) - i64::from(karts[a].pos.0) >= reach {
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
    karts: &mut [Body],
    a: usize,
    b: usize,
    reach: i64,
    radius: i32,
) -> Option<i32> {
    let (ka, kb) = (karts[a], karts[b]);
    let (dx, dy) = (i64::from(kb.pos.0 - ka.pos.0), i64::from(kb.pos.1 - ka.pos.1));
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
    let moved_a = (ka.pos.0 - step(nx), ka.pos.1 - step(ny));
    let moved_b = (kb.pos.0 + step(nx), kb.pos.1 + step(ny));
    if track.is_free(moved_a.0, moved_a.1, radius) {
        karts[a].pos = moved_a;
    }
    if track.is_free(moved_b.0, moved_b.1, radius) {
        karts[b].pos = moved_b;
    }
    let rel = (i64::from(ka.velocity.0 - kb.velocity.0) * nx
        + i64::from(ka.velocity.1 - kb.velocity.1) * ny)
        / d;
    if rel > 0 {
        let swap = |n: i64| (rel * n / d) as i32;
        karts[a].velocity =
            (clamp_speed(ka.velocity.0 - swap(nx)), clamp_speed(ka.velocity.1 - swap(ny)));
        karts[b].velocity =
            (clamp_speed(kb.velocity.0 + swap(nx)), clamp_speed(kb.velocity.1 + swap(ny)));
    }
    Some(rel.max(0) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_on_collision_swaps_velocities_and_parts_the_karts() {
        let t = Track::default();
        let r = 12 * 16;
        let mut karts = [
            Body { pos: (16_000, 2_000), velocity: (50, 0) },
            Body { pos: (16_000 + 300, 2_000), velocity: (-30, 0) },
            Body { pos: (26_000, 2_000), velocity: (0, 0) },
        ];
        let contacts = collide(&t, &mut karts, r);
        assert_eq!(contacts, [Contact { a: 0, b: 1, speed: 80 }]);
        assert_eq!((karts[0].velocity, karts[1].velocity), ((-30, 0), (50, 0)));
        assert!(karts[1].pos.0 - karts[0].pos.0 >= 2 * r, "{karts:?}");
        assert_eq!(karts[2], Body { pos: (26_000, 2_000), velocity: (0, 0) }, "untouched");
    }

    #[test]
    fn coincident_karts_part_along_x() {
        let t = Track::default();
        let mut karts = [Body { pos: (16_000, 2_000), velocity: (0, 0) }; 2];
        let contacts = collide(&t, &mut karts, 192);
        assert_eq!(contacts.len(), 1);
        assert!(karts[1].pos.0 - karts[0].pos.0 >= 384);
    }
}
