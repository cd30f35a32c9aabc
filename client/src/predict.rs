//! Prediction and reconciliation of the local player.
//!
//! The local player is drawn where it *will* be once the server has applied the inputs already
//! sent: every input frame is applied at once with [`move_player`], the exact function the
//! server steps players with, and kept as **pending**. When the snapshot of tick `S` arrives,
//! the server has simulated every tick up to `S`: pending inputs stamped `≤ S` are done (applied,
//! or dropped as late), so they are forgotten; the player is reset to the server's position at
//! `S` and the inputs stamped after `S` are replayed on top of it. Since the function and the
//! quantized inputs are the same on both sides, the prediction is exact whenever the server
//! applied every input: replaying changes nothing, and no correction is ever visible.
//!
//! The prediction stored with the input of tick `S` is compared with the server's position at
//! `S`: a difference counts as a **misprediction** (an input arrived late, the player was hit
//! back, died or respawned). A dead player does not move on the server, so nothing is replayed
//! while the snapshot says it is dead.

use std::collections::VecDeque;

use glam::Vec2;
use tickwire_protocol::Tick;
use tickwire_protocol::message::InputFrame;
use tickwire_sim::arena::ArenaRules;
use tickwire_sim::input::MAX_REPEAT_TICKS;
use tickwire_sim::movement::move_player;

/// Most pending inputs kept (two seconds at 64 Hz); older ones are forgotten.
pub const MAX_PENDING: usize = 128;

/// An input sent but not yet covered by a snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pending {
    frame: InputFrame,
    /// Whether this frame was sent (not a repeat filled in for a skipped tick).
    sent: bool,
    /// The predicted position after this input, if the player's position was known.
    after: Option<Vec2>,
}

/// What reconciling with one snapshot found.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reconciliation {
    /// Whether an input sent for the snapshot's tick was pending (repeats filled in for
    /// skipped ticks do not count).
    pub had_input: bool,
    /// Whether an input stamped with the snapshot's tick had a prediction to check.
    pub checked: bool,
    /// Distance between that prediction and the server's position (0 when exact).
    pub error: f32,
    /// Inputs replayed on top of the server's position.
    pub replayed: usize,
}

/// Predicts the local player's position (see the module docs).
#[derive(Debug, Clone)]
pub struct Predictor {
    rules: ArenaRules,
    tick_seconds: f32,
    pending: VecDeque<Pending>,
    /// The server's newest word: tick, position, alive.
    server: Option<(Tick, Vec2, bool)>,
    /// Position after every pending input.
    predicted: Option<Vec2>,
    /// The newest input applied (the source of repeats for skipped ticks).
    last: Option<InputFrame>,
}

impl Predictor {
    /// A predictor for `rules` at `tick_rate` ticks per second.
    pub fn new(rules: ArenaRules, tick_rate: u16) -> Self {
        Self {
            rules,
            tick_seconds: 1.0 / f32::from(tick_rate.max(1)),
            pending: VecDeque::with_capacity(MAX_PENDING),
            server: None,
            predicted: None,
            last: None,
        }
    }

    /// Applies a new input (its tick must be newer than every pending one). Ticks skipped
    /// since the previous input are filled in as the server does: by repeating the previous
    /// input without its buttons, for at most [`MAX_REPEAT_TICKS`] ticks.
    pub fn apply(&mut self, frame: InputFrame) {
        if let Some(prev) = self.last {
            let gap = frame.tick.diff(prev.tick) - 1;
            for k in 1..=gap.clamp(0, MAX_REPEAT_TICKS as i32) {
                self.push(InputFrame { tick: prev.tick.offset(k), buttons: 0, ..prev }, false);
            }
        }
        self.last = Some(frame);
        self.push(frame, true);
    }

    fn push(&mut self, frame: InputFrame, sent: bool) {
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        let alive = self.server.is_some_and(|(_, _, alive)| alive);
        let after = self.predicted.map(|pos| if alive { self.step(pos, &frame) } else { pos });
        self.predicted = after;
        self.pending.push_back(Pending { frame, sent, after });
    }

    /// Reconciles with the snapshot of `tick`, where the server has the player at `pos` (`None`
    /// if the snapshot does not hold the player) and `alive`.
    pub fn reconcile(&mut self, tick: Tick, pos: Option<Vec2>, alive: bool) -> Reconciliation {
        let mut out = Reconciliation::default();
        while let Some(p) = self.pending.front() {
            if p.frame.tick.is_newer_than(tick) {
                break;
            }
            if p.frame.tick == tick {
                out.had_input = p.sent;
                if let (Some(predicted), Some(actual)) = (p.after, pos) {
                    out.checked = true;
                    out.error = predicted.distance(actual);
                }
            }
            self.pending.pop_front();
        }
        let Some(pos) = pos else {
            return out;
        };
        self.server = Some((tick, pos, alive));
        let mut at = pos;
        for i in 0..self.pending.len() {
            if alive {
                // invariant: i < len.
                at = self.step(at, &self.pending[i].frame);
                out.replayed += 1;
            }
            self.pending[i].after = Some(at);
        }
        self.predicted = Some(at);
        out
    }

    /// The predicted position after every input sent, once the server has told where the
    /// player is.
    pub fn position(&self) -> Option<Vec2> {
        self.predicted
    }

    /// Where the next input would take the player (for aiming from the muzzle position).
    pub fn peek(&self, frame: &InputFrame) -> Option<Vec2> {
        let alive = self.server.is_some_and(|(_, _, alive)| alive);
        self.predicted.map(|pos| if alive { self.step(pos, frame) } else { pos })
    }

    /// The server's newest position of the player, with its tick and whether it is alive.
    pub fn server_state(&self) -> Option<(Tick, Vec2, bool)> {
        self.server
    }

    /// Inputs not yet covered by a snapshot.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn step(&self, pos: Vec2, frame: &InputFrame) -> Vec2 {
        move_player(pos, frame, &self.rules, self.tick_seconds).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(tick: u32, move_x: i8, move_y: i8) -> InputFrame {
        InputFrame { tick: Tick(tick), move_x, move_y, ..InputFrame::default() }
    }

    fn open_rules() -> ArenaRules {
        ArenaRules { walls: vec![], ..ArenaRules::default() }
    }

    /// The server's side: applies the inputs it received to its copy of the player.
    fn server_step(pos: Vec2, frame: &InputFrame) -> Vec2 {
        move_player(pos, frame, &open_rules(), 1.0 / 30.0).0
    }

    #[test]
    fn replays_unacknowledged_inputs_on_the_server_position() {
        let mut p = Predictor::new(open_rules(), 30);
        let start = Vec2::new(100.0, 100.0);
        assert_eq!(p.reconcile(Tick(10), Some(start), true).replayed, 0);
        assert_eq!(p.position(), Some(start));
        let frames: Vec<_> = (11..=15).map(|t| input(t, 127, 0)).collect();
        for f in &frames {
            p.apply(*f);
        }
        let step = 213.0 / 32.0; // one tick at full speed (see sim::movement)
        assert_eq!(p.position(), Some(Vec2::new(100.0 + 5.0 * step, 100.0)));
        // The server applied 11 and 12; snapshot 12 says so.
        let server = frames[..2].iter().fold(start, server_step);
        let r = p.reconcile(Tick(12), Some(server), true);
        assert_eq!(r, Reconciliation { had_input: true, checked: true, error: 0.0, replayed: 3 });
        assert_eq!(p.pending(), 3);
        assert_eq!(p.position(), Some(Vec2::new(100.0 + 5.0 * step, 100.0)));
    }

    #[test]
    fn a_dropped_input_is_corrected_and_counted() {
        let mut p = Predictor::new(open_rules(), 30);
        let start = Vec2::new(100.0, 100.0);
        p.reconcile(Tick(0), Some(start), true);
        for t in 1..=4 {
            p.apply(input(t, 0, 127));
        }
        // The server never got input 2 (it arrived late): the player stood still that tick.
        let server = [1, 3].iter().fold(start, |pos, &t| server_step(pos, &input(t, 0, 127)));
        let r = p.reconcile(Tick(3), Some(server), true);
        assert!(r.checked && r.error > 6.0, "{r:?}");
        assert_eq!(r.replayed, 1);
        assert_eq!(p.position(), Some(server_step(server, &input(4, 0, 127))));
    }

    #[test]
    fn dead_players_do_not_move_and_walls_are_respected() {
        let mut p = Predictor::new(ArenaRules::default(), 30);
        // Just left of the wall 200..260 × 200..400 (radius 12): moving right is blocked.
        let start = Vec2::new(188.0, 300.0);
        p.reconcile(Tick(0), Some(start), true);
        p.apply(input(1, 127, 0));
        assert_eq!(p.position(), Some(start));
        p.apply(input(2, -127, 0));
        assert!(p.position().is_some_and(|pos| pos.x < 188.0));
        p.reconcile(Tick(1), Some(start), false);
        assert_eq!(p.position(), Some(start), "dead: nothing replayed");
        p.apply(input(3, -127, 0));
        assert_eq!(p.position(), Some(start));
        assert_eq!(p.peek(&input(4, -127, 0)), Some(start));
    }

    #[test]
    fn nothing_is_predicted_before_the_first_position() {
        let mut p = Predictor::new(open_rules(), 30);
        p.apply(input(1, 127, 0));
        assert_eq!(p.position(), None);
        p.apply(input(2, 127, 0));
        // The snapshot of tick 1 (input 1 applied) gives the position; input 2 is replayed.
        let r = p.reconcile(Tick(1), Some(Vec2::new(50.0, 50.0)), true);
        assert_eq!((r.checked, r.replayed), (false, 1));
        assert_eq!(p.position(), Some(server_step(Vec2::new(50.0, 50.0), &input(2, 127, 0))));
    }

    #[test]
    fn skipped_ticks_repeat_the_previous_input_like_the_server() {
        let mut p = Predictor::new(open_rules(), 30);
        let start = Vec2::new(100.0, 100.0);
        p.reconcile(Tick(0), Some(start), true);
        p.apply(input(1, 127, 0));
        p.apply(input(4, 0, 127)); // ticks 2 and 3 repeat input 1's movement
        assert_eq!(p.pending(), 4);
        let expected = [1, 2, 3].iter().fold(start, |pos, &t| server_step(pos, &input(t, 127, 0)));
        assert_eq!(p.position(), Some(server_step(expected, &input(4, 0, 127))));
        p.apply(input(100, 0, 0)); // at most MAX_REPEAT_TICKS repeats
        assert_eq!(p.pending(), 4 + MAX_REPEAT_TICKS as usize + 1);
        let r = p.reconcile(Tick(2), Some(start), true);
        assert!(!r.had_input, "tick 2 was a repeat, not an input we sent");
    }

    #[test]
    fn pending_is_bounded() {
        let mut p = Predictor::new(open_rules(), 30);
        for t in 0..(MAX_PENDING as u32 + 10) {
            p.apply(input(t, 1, 0));
        }
        assert_eq!(p.pending(), MAX_PENDING);
    }
}
