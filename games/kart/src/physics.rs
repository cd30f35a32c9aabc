//! Kart physics in integers: the step the server runs for every kart and a client runs to
//! predict its own ([`drive`]), and the wall bounce barrels share ([`roll`]).
//!
//! Everything is integer arithmetic on the replication grid (positions and velocities in grid
//! steps of 1/16 unit, headings in 1/65536 of a turn, directions from a sine table built at
//! compile time), so the server and every client compute bit for bit the same kart: a client
//! on a clean link never mispredicts, and a kart cruising in a straight line costs zero bytes in
//! a delta snapshot (the codec's linear prediction is exact).
//!
//! One tick of [`drive`]:
//!
//! 1. Steering turns the heading, proportionally to the forward speed below `turn_speed` (a
//!    standing kart does not turn); positive steering turns clockwise (right, with y up),
//!    reversed in reverse.
//! 2. Split the velocity into forward and sideways speed along the new heading (turning is what
//!    makes sideways speed).
//! 3. Forward speed: throttle accelerates towards the top speed (boost's while boosting),
//!    reverse throttle brakes then reverses, no throttle coasts towards zero; speed above the top
//!    speed (a boost ran out) only decays by `coast` per tick.
//! 4. Sideways speed keeps `slip`/256 of itself (`drift_slip` while drifting): grip.
//! 5. The velocity is rebuilt from the two; the kart moves by it, one axis at a time, and an
//!    axis that would hit a wall does not move and bounces its velocity back.
//! 6. The boost meter drains while boosting and recharges otherwise.

use crate::config::{KartRules, MAX_SPEED};
use crate::protocol::KartInput;
use crate::track::Track;

/// The scale of [`direction`]'s unit vectors: `ONE` is 1.0.
pub const ONE: i32 = 1 << 14;
/// Table steps per quarter turn (a heading resolves to 1024 directions).
const QUARTER: usize = 256;
/// `sin(i/256 · π/2) · ONE`, rounded, for `i` in `0..=256`.
static SINE: [i32; QUARTER + 1] = sine_table();

/// Builds [`SINE`] at compile time with a Taylor series in `f64` (exactly specified IEEE
/// arithmetic, so the table is the same on every platform; tested against `f64::sin`).
const fn sine_table() -> [i32; QUARTER + 1] {
    let mut table = [0; QUARTER + 1];
    let mut i = 0;
    while i <= QUARTER {
        let x = i as f64 * (core::f64::consts::FRAC_PI_2 / QUARTER as f64);
        let x2 = x * x;
        let (mut term, mut sum, mut n) = (x, 0.0, 1.0);
        while n < 20.0 {
            sum += term;
            term = -term * x2 / ((n + 1.0) * (n + 2.0));
            n += 2.0;
        }
        table[i] = (sum * ONE as f64 + 0.5) as i32;
        i += 1;
    }
    table
}

/// The unit vector of `heading` (1/65536 turn, counter-clockwise from +x), scaled by [`ONE`].
pub fn direction(heading: u16) -> (i32, i32) {
    let index = usize::from(heading >> 6);
    let k = index & (QUARTER - 1);
    let (s, c) = (SINE[k], SINE[QUARTER - k]);
    match index / QUARTER {
        0 => (c, s),
        1 => (-s, c),
        2 => (-c, -s),
        _ => (s, -c),
    }
}

/// What the client predicts of its kart, and what one tick of [`drive`] changes: position and
/// velocity in grid steps (1/16 unit, per tick), heading in 1/65536 turn, the boost meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KartState {
    /// Position x, grid steps.
    pub x: i32,
    /// Position y, grid steps.
    pub y: i32,
    /// Velocity x, grid steps per tick.
    pub vx: i32,
    /// Velocity y, grid steps per tick.
    pub vy: i32,
    /// Heading, 1/65536 turn counter-clockwise from +x.
    pub heading: u16,
    /// Boost meter.
    pub boost: u8,
}

/// One tick of [`drive`]: the new state, and how hard the kart hit a wall (0: it did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Driven {
    /// The kart after the tick.
    pub state: KartState,
    /// The speed into the wall, grid steps per tick.
    pub wall_hit: i32,
}

/// One tick of a kart of `rules` driven with `input` (see the module docs).
pub fn drive(rules: &KartRules, s: &KartState, input: &KartInput) -> Driven {
    let throttle = i32::from(input.throttle.clamp(-64, 64));
    let steer = i32::from(input.steer.clamp(-64, 64));
    let (c, sn) = direction(s.heading);
    let heading = turn(rules, s.heading, steer, (s.vx * c + s.vy * sn) / ONE);
    let (c, sn) = direction(heading);
    let forward = (s.vx * c + s.vy * sn) / ONE;
    let sideways = (s.vy * c - s.vx * sn) / ONE;
    let boosting = input.boost() && s.boost > 0 && throttle > 0;
    let forward = speed(rules, forward, throttle, boosting);
    let keep = i32::from(if input.drift() { rules.drift_slip } else { rules.slip });
    let sideways = sideways * keep / 256;
    let vx = clamp_speed((forward * c - sideways * sn) / ONE);
    let vy = clamp_speed((forward * sn + sideways * c) / ONE);
    let boost = if boosting {
        s.boost.saturating_sub(rules.boost_drain)
    } else {
        s.boost.saturating_add(rules.boost_recharge).min(rules.boost_max)
    };
    let radius = i32::from(rules.kart_radius) * crate::GRID_PER_UNIT;
    let rolled = roll(&rules.track, (s.x, s.y), (vx, vy), radius, i32::from(rules.wall_bounce));
    let (x, y) = rolled.pos;
    let (vx, vy) = rolled.velocity;
    Driven { state: KartState { x, y, vx, vy, heading, boost }, wall_hit: rolled.impact }
}

/// The forward speed after one tick of `throttle` (-64..=64).
fn speed(rules: &KartRules, forward: i32, throttle: i32, boosting: bool) -> i32 {
    let coast = i32::from(rules.coast);
    if throttle == 0 {
        return toward_zero(forward, coast);
    }
    let top = i32::from(if boosting { rules.boost_speed } else { rules.max_speed });
    let accel = match (throttle > 0, boosting, forward > 0) {
        (true, true, _) => rules.boost_accel,
        (false, _, true) => rules.brake,
        _ => rules.accel,
    };
    let next = forward + i32::from(accel) * throttle / 64;
    let hi = top.max(forward - coast);
    let lo = (-i32::from(rules.reverse_speed)).min(forward + coast);
    next.clamp(lo, hi)
}

/// The heading after one tick of `steer` (-64..=64) at `forward` speed.
fn turn(rules: &KartRules, heading: u16, steer: i32, forward: i32) -> u16 {
    let full = i32::from(rules.turn_speed.max(1));
    let grip = forward.abs().min(full);
    let amount = steer * i32::from(rules.turn_rate) * grip / (64 * full);
    let amount = if forward < 0 { -amount } else { amount };
    // Validation keeps turn_rate within a quarter turn, so the amount fits an i16.
    heading.wrapping_sub(amount as i16 as u16)
}

/// `v` moved `by` towards zero, never past it.
pub(crate) fn toward_zero(v: i32, by: i32) -> i32 {
    if v > 0 { (v - by).max(0) } else { (v + by).min(0) }
}

/// A velocity component clamped to the codec's range, symmetrically (so that reversing it in a
/// bounce stays in range).
pub(crate) fn clamp_speed(v: i32) -> i32 {
    v.clamp(-MAX_SPEED, MAX_SPEED)
}

/// A circle's move by its velocity with wall bounces (see [`roll`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolled {
    /// Where it ends up.
    pub pos: (i32, i32),
    /// Its velocity afterwards (a component that hit a wall is reversed and scaled).
    pub velocity: (i32, i32),
    /// Which axes hit a wall.
    pub hit: (bool, bool),
    /// The speed into the wall, grid steps per tick (0: no wall).
    pub impact: i32,
}

/// Moves a circle of `radius` at `pos` by `velocity`, x then y: an axis whose move would touch
/// a wall does not move, and its velocity becomes `-v · bounce / 256`. A circle that starts
/// free stays free.
pub fn roll(
    track: &Track,
    pos: (i32, i32),
    velocity: (i32, i32),
    radius: i32,
    bounce: i32,
) -> Rolled {
    let (mut x, mut y) = pos;
    let (mut vx, mut vy) = velocity;
    let mut hit = (false, false);
    let mut impact = 0;
    if track.is_free(x + vx, y, radius) {
        x += vx;
    } else {
        impact = vx.abs();
        vx = clamp_speed(-vx * bounce / 256);
        hit.0 = true;
    }
    if track.is_free(x, y + vy, radius) {
        y += vy;
    } else {
        impact = impact.max(vy.abs());
        vy = clamp_speed(-vy * bounce / 256);
        hit.1 = true;
    }
    Rolled { pos: (x, y), velocity: (vx, vy), hit, impact }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{BOOST, DRIFT};

    #[test]
    fn the_sine_table_is_within_a_unit_of_f64() {
        for (i, &v) in SINE.iter().enumerate() {
            let exact = (i as f64 / 256.0 * std::f64::consts::FRAC_PI_2).sin() * f64::from(ONE);
            assert!((f64::from(v) - exact).abs() <= 0.5 + 1e-9, "{i}: {v} vs {exact}");
        }
        assert_eq!((SINE[0], SINE[256]), (0, ONE));
        assert_eq!(direction(0), (ONE, 0));
        assert_eq!(direction(16_384), (0, ONE));
        assert_eq!(direction(32_768), (-ONE, 0));
        assert_eq!(direction(49_152), (0, -ONE));
    }

    fn on_straight() -> KartState {
        let t = Track::default();
        KartState {
            x: t.w() / 2,
            y: t.lane_q() / 2,
            heading: 0,
            boost: 255,
            ..KartState::default()
        }
    }

    fn run(s: KartState, input: KartInput, ticks: usize) -> KartState {
        let rules = KartRules::default();
        (0..ticks).fold(s, |s, _| drive(&rules, &s, &input).state)
    }

    #[test]
    fn full_throttle_reaches_top_speed_then_cruises_exactly() {
        let rules = KartRules::default();
        let gas = KartInput { throttle: 64, ..KartInput::default() };
        let s = run(on_straight(), gas, 25);
        assert_eq!((s.vx, s.vy), (i32::from(rules.max_speed), 0));
        let next = drive(&rules, &s, &gas).state;
        assert_eq!(
            (next.x - s.x, next.vx),
            (s.vx, s.vx),
            "constant velocity: linear prediction is exact"
        );
    }

    #[test]
    fn boost_goes_faster_and_drains_the_meter() {
        let rules = KartRules::default();
        let boost = KartInput { throttle: 64, buttons: BOOST, ..KartInput::default() };
        let s = run(on_straight(), boost, 20);
        assert!(s.vx > i32::from(rules.max_speed), "{}", s.vx);
        assert_eq!(s.boost, 255 - 20 * rules.boost_drain);
        let coasting = run(s, KartInput { throttle: 64, ..KartInput::default() }, 1);
        assert_eq!(
            coasting.vx,
            s.vx - i32::from(rules.coast),
            "over the top speed: decays by coast"
        );
    }

    #[test]
    fn steering_needs_speed_and_turns_clockwise() {
        let right = KartInput { steer: 64, ..KartInput::default() };
        assert_eq!(run(on_straight(), right, 10).heading, 0, "standing still");
        let moving = run(on_straight(), KartInput { throttle: 64, ..KartInput::default() }, 20);
        let turned = run(moving, KartInput { throttle: 64, steer: 64, ..KartInput::default() }, 1);
        assert_eq!(turned.heading, 0u16.wrapping_sub(KartRules::default().turn_rate));
        assert!(turned.vy < 0, "turning right from +x heads towards -y");
    }

    #[test]
    fn drifting_keeps_more_sideways_speed() {
        let moving = run(on_straight(), KartInput { throttle: 64, ..KartInput::default() }, 20);
        let turn = |buttons| {
            let s = run(moving, KartInput { throttle: 64, steer: 64, buttons }, 6);
            let (c, sn) = direction(s.heading);
            ((s.vy * c - s.vx * sn) / ONE).abs()
        };
        assert!(turn(DRIFT) > turn(0), "drift {} vs grip {}", turn(DRIFT), turn(0));
    }

    #[test]
    fn walls_bounce_and_the_kart_stays_on_the_track() {
        let rules = KartRules::default();
        let t = &rules.track;
        let down = KartState { heading: 49_152, ..on_straight() };
        let mut s = down;
        let mut hit = 0;
        for _ in 0..60 {
            let d = drive(&rules, &s, &KartInput { throttle: 64, ..KartInput::default() });
            hit = hit.max(d.wall_hit);
            s = d.state;
            assert!(t.is_free(s.x, s.y, 12 * 16), "{s:?}");
        }
        assert!(hit > 0, "drove into the outer wall");
    }

    #[test]
    fn reverse_brakes_then_backs_up() {
        let rules = KartRules::default();
        let moving = run(on_straight(), KartInput { throttle: 64, ..KartInput::default() }, 20);
        let back = KartInput { throttle: -64, ..KartInput::default() };
        let braked = run(moving, back, 1);
        assert_eq!(braked.vx, moving.vx - i32::from(rules.brake));
        let reversing = run(moving, back, 60);
        assert_eq!(reversing.vx, -i32::from(rules.reverse_speed));
    }
}
