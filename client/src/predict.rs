//! Prediction and reconciliation of the local player, for any game that implements
//! [`Predict`].
//!
//! The controlled entity is drawn where it *will* be once the server has applied the inputs
//! already sent: every input is applied at once with the game's step ([`Predict::step`], the
//! exact function the server steps that entity with) and kept as **pending**. When the
//! snapshot of tick `S` arrives, the server has simulated every tick up to `S`: pending inputs
//! stamped `≤ S` are done (applied, or dropped as late), so they are forgotten; the state is
//! reset to the server's at `S` and the inputs stamped after `S` are replayed on top of it.
//! Since the function and the quantized inputs are the same on both sides, the prediction is
//! exact whenever the server applied every input: replaying changes nothing, and no correction
//! is ever visible. So when the prediction for `S` equals the server's state at `S`, the replay
//! is skipped (the pending predictions were stepped from that very state already): a client
//! that predicts well steps each input once.
//!
//! The prediction stored with the input of tick `S` is compared with the server's state at
//! `S`: a difference counts as a **misprediction** (an input arrived late, the player was hit
//! back, died or respawned). Ticks skipped between two inputs are filled in as the server
//! does: by repeating the previous input with its buttons released, for at most
//! [`MAX_REPEAT_TICKS`] ticks, then with [`Predict::step_without_input`] (the server has no
//! input for the player any more; at most [`MAX_PENDING`] ticks are kept in all).
//!
//! With [`Predictor::record_resolved`] on, every tick leaving the pending queue (covered by a
//! snapshot, or pushed out of the bounded queue) is kept as a [`Resolved`]: its input, the
//! prediction made for it and the server's state when the snapshot was of that very tick. The
//! client forensics log ([`crate::forensics`]) is written from them.

use std::collections::VecDeque;

use tickwire_protocol::Tick;
use tickwire_protocol::game::MessageSchema;
use tickwire_sim::Predict;
use tickwire_sim::input::MAX_REPEAT_TICKS;

/// Most pending inputs kept (two seconds at 64 Hz); older ones are forgotten.
pub const MAX_PENDING: usize = 128;

/// An input sent but not yet covered by a snapshot.
#[derive(Debug, Clone)]
struct Pending<P: Predict> {
    tick: Tick,
    /// The input the server applies at `tick`; `None`: it has none for us (past the repeats).
    input: Option<P::Input>,
    /// Whether this input was sent (not a repeat or a gap filled in for a skipped tick).
    sent: bool,
    /// The predicted state after this input, if the state was known.
    after: Option<P::State>,
    /// The tick of the server state `after` was stepped from.
    base: Option<Tick>,
}

/// A tick that left the pending queue, as the forensics log needs it (see the module docs).
#[derive(Debug, Clone)]
pub struct Resolved<P: Predict> {
    /// The tick.
    pub tick: Tick,
    /// The input the prediction applied at `tick` (`None`: none, past the repeats).
    pub input: Option<P::Input>,
    /// Whether that input was sent (`false`: a repeat or a gap filled in as the server does).
    pub sent: bool,
    /// The prediction for `tick`, as it stood when the tick was resolved.
    pub predicted: Option<P::State>,
    /// The tick of the server state that prediction was stepped from.
    pub base: Option<Tick>,
    /// The server's state at `tick`, when the snapshot resolving it was of `tick` itself.
    pub server: Option<P::State>,
}

/// What reconciling with one snapshot found.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reconciliation {
    /// Whether an input sent for the snapshot's tick was pending (repeats filled in for
    /// skipped ticks do not count).
    pub had_input: bool,
    /// Whether an input stamped with the snapshot's tick had a prediction to check.
    pub checked: bool,
    /// How far that prediction was from the server's state ([`Predict::distance`]; 0 when
    /// exact).
    pub error: f32,
    /// Inputs replayed on top of the server's state (none when the prediction was exact).
    pub replayed: usize,
}

/// Predicts the controlled entity's state (see the module docs).
#[derive(Debug, Clone)]
pub struct Predictor<P: Predict> {
    rules: P::Rules,
    tick_rate: u16,
    /// The input's layout, to release the buttons of a repeat.
    input: &'static MessageSchema,
    pending: VecDeque<Pending<P>>,
    /// The server's newest word: tick and state.
    server: Option<(Tick, P::State)>,
    /// The state after every pending input.
    predicted: Option<P::State>,
    /// The newest input applied (the source of repeats for skipped ticks).
    last: Option<(Tick, P::Input)>,
    /// Resolved ticks kept for the forensics log, at most [`MAX_PENDING`] (the oldest are
    /// dropped when nobody takes them); `None` when not recording, which costs nothing.
    resolved: Option<VecDeque<Resolved<P>>>,
}

impl<P: Predict> Predictor<P> {
    /// A predictor for `rules` at `tick_rate` ticks per second, with the game's input layout.
    pub fn new(rules: P::Rules, tick_rate: u16, input: &'static MessageSchema) -> Self {
        Self {
            rules,
            tick_rate: tick_rate.max(1),
            input,
            pending: VecDeque::with_capacity(MAX_PENDING),
            server: None,
            predicted: None,
            last: None,
            resolved: None,
        }
    }

    /// Keeps every resolved tick from now on, for [`take_resolved`](Self::take_resolved).
    pub fn record_resolved(&mut self) {
        self.resolved.get_or_insert_with(|| VecDeque::with_capacity(MAX_PENDING));
    }

    /// Moves the resolved ticks kept so far, oldest first, to `out`.
    pub fn take_resolved(&mut self, out: &mut Vec<Resolved<P>>) {
        if let Some(resolved) = &mut self.resolved {
            out.extend(resolved.drain(..));
        }
    }

    /// Keeps `p` as resolved, if recording.
    fn resolve(&mut self, p: Pending<P>, server: Option<&P::State>) {
        let Some(resolved) = &mut self.resolved else { return };
        if resolved.len() == MAX_PENDING {
            resolved.pop_front();
        }
        let server = server.cloned();
        let Pending { tick, input, sent, after, base } = p;
        resolved.push_back(Resolved { tick, input, sent, predicted: after, base, server });
    }

    /// Applies a new input for `tick` (newer than every pending one). Ticks skipped since the
    /// previous input are filled in as the server does.
    pub fn apply(&mut self, tick: Tick, input: P::Input) {
        if let Some((prev_tick, prev)) = self.last.take() {
            let gap = tick.diff(prev_tick) - 1;
            if gap > 0 {
                let repeat = self.released(&prev);
                let repeats = gap.min(MAX_REPEAT_TICKS as i32);
                for k in 1..=repeats {
                    self.push(prev_tick.offset(k), Some(repeat.clone()), false);
                }
                // Past the repeats the server has no input for us: only the newest ticks
                // matter (older ones would fall out of the bounded queue anyway).
                let first = (repeats + 1).max(gap - MAX_PENDING as i32 + 1);
                for k in first..=gap {
                    self.push(prev_tick.offset(k), None, false);
                }
            }
        }
        self.last = Some((tick, input.clone()));
        self.push(tick, Some(input), true);
    }

    /// One tick of `input` from `state` (no input: [`Predict::step_without_input`]).
    fn step(&self, state: &P::State, input: Option<&P::Input>) -> P::State {
        match input {
            Some(input) => P::step(&self.rules, state, input, self.tick_rate),
            None => P::step_without_input(&self.rules, state, self.tick_rate),
        }
    }

    /// `input` with its buttons released (what the server repeats).
    fn released(&self, input: &P::Input) -> P::Input {
        let values = self.input.release_buttons(&self.input.values_of(input));
        self.input.read(0, &values).unwrap_or_else(|| input.clone())
    }

    fn push(&mut self, tick: Tick, input: Option<P::Input>, sent: bool) {
        // A tick the server's state already covers (a late input, or a gap filled after a
        // stalled game loop) is not stepped again on top of that state.
        if self.server.as_ref().is_some_and(|(s, _)| !tick.is_newer_than(*s)) {
            return;
        }
        if self.pending.len() == MAX_PENDING
            && let Some(oldest) = self.pending.pop_front()
        {
            self.resolve(oldest, None);
        }
        let after = self.predicted.as_ref().map(|s| self.step(s, input.as_ref()));
        let base = after.as_ref().and(self.server.as_ref().map(|(t, _)| *t));
        self.predicted.clone_from(&after);
        self.pending.push_back(Pending { tick, input, sent, after, base });
    }

    /// Reconciles with the snapshot of `tick`, whose state for the controlled entity is
    /// `state` (`None` if the snapshot does not hold it, or it cannot be predicted now).
    pub fn reconcile(&mut self, tick: Tick, state: Option<P::State>) -> Reconciliation {
        let mut out = Reconciliation::default();
        let mut exact = false;
        while let Some(p) = self.pending.pop_front() {
            if p.tick.is_newer_than(tick) {
                self.pending.push_front(p);
                break;
            }
            if p.tick != tick {
                self.resolve(p, None);
                continue;
            }
            out.had_input = p.sent;
            if let (Some(predicted), Some(actual)) = (&p.after, &state) {
                out.checked = true;
                exact = predicted == actual;
                out.error =
                    if exact { 0.0 } else { P::distance(predicted, actual).max(f32::MIN_POSITIVE) };
            }
            self.resolve(p, state.as_ref());
        }
        let Some(state) = state else {
            return out;
        };
        if exact && self.pending.iter().all(|p| p.after.is_some()) {
            // The prediction for `tick` was the server's state, and every pending prediction
            // was stepped from it: replaying would give each of them again (the step is a
            // function of the state and the input). Only their base moves.
            self.pending.iter_mut().for_each(|p| p.base = Some(tick));
            self.server = Some((tick, state));
            return out;
        }
        let mut at = state.clone();
        for i in 0..self.pending.len() {
            // invariant: i < len.
            at = self.step(&at, self.pending[i].input.as_ref());
            out.replayed += 1;
            self.pending[i].after = Some(at.clone());
            self.pending[i].base = Some(tick);
        }
        self.server = Some((tick, state));
        self.predicted = Some(at);
        out
    }

    /// The predicted state after every input sent, once the server has told the state.
    pub fn predicted(&self) -> Option<&P::State> {
        self.predicted.as_ref()
    }

    /// The state the next input would lead to (to aim from where a shot will be fired).
    pub fn peek(&self, input: &P::Input) -> Option<P::State> {
        self.predicted.as_ref().map(|s| P::step(&self.rules, s, input, self.tick_rate))
    }

    /// The server's newest state of the entity, with its tick.
    pub fn server_state(&self) -> Option<&(Tick, P::State)> {
        self.server.as_ref()
    }

    /// Inputs not yet covered by a snapshot.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use glam::Vec2;
    use tickwire_arena::movement::move_player;
    use tickwire_arena::{ArenaInput, ArenaProtocol, ArenaRules, ArenaState};
    use tickwire_protocol::GameProtocol;

    use super::*;

    fn input(move_x: i8, move_y: i8) -> ArenaInput {
        ArenaInput { move_x, move_y, ..ArenaInput::IDLE }
    }

    fn open_rules() -> ArenaRules {
        ArenaRules { walls: vec![], ..ArenaRules::default() }
    }

    fn predictor(rules: ArenaRules) -> Predictor<ArenaProtocol> {
        Predictor::new(rules, 30, ArenaProtocol::schema().input())
    }

    fn alive(pos: Vec2) -> Option<ArenaState> {
        Some(ArenaState { pos, alive: true })
    }

    fn pos(p: &Predictor<ArenaProtocol>) -> Option<Vec2> {
        p.predicted().map(|s| s.pos)
    }

    /// The server's side: applies the inputs it received to its copy of the player.
    fn server_step(pos: Vec2, i: &ArenaInput) -> Vec2 {
        move_player(pos, i.move_x, i.move_y, &open_rules(), 1.0 / 30.0).0
    }

    #[test]
    fn replays_unacknowledged_inputs_on_the_server_position() {
        let mut p = predictor(open_rules());
        let start = Vec2::new(100.0, 100.0);
        assert_eq!(p.reconcile(Tick(10), alive(start)).replayed, 0);
        assert_eq!(pos(&p), Some(start));
        for t in 11..=15 {
            p.apply(Tick(t), input(127, 0));
        }
        let step = 213.0 / 32.0; // one tick at full speed (see the arena's movement)
        assert_eq!(pos(&p), Some(Vec2::new(100.0 + 5.0 * step, 100.0)));
        // The server applied 11 and 12; snapshot 12 says so.
        let server = [input(127, 0); 2].iter().fold(start, server_step);
        let r = p.reconcile(Tick(12), alive(server));
        // Exact: the pending predictions already start from that state, nothing is replayed.
        assert_eq!(r, Reconciliation { had_input: true, checked: true, error: 0.0, replayed: 0 });
        assert_eq!(p.pending(), 3);
        assert_eq!(pos(&p), Some(Vec2::new(100.0 + 5.0 * step, 100.0)));
        // The server says the player was stopped at tick 13 (pushed back, say): 14 and 15 are
        // replayed from where it says.
        let stopped = Vec2::new(90.0, 100.0);
        let r = p.reconcile(Tick(13), alive(stopped));
        assert!(r.checked && r.error > 0.0, "{r:?}");
        assert_eq!(r.replayed, 2);
        assert_eq!(pos(&p), Some(Vec2::new(90.0 + 2.0 * step, 100.0)));
    }

    /// Whatever the server says, skipping the replay after an exact prediction leaves the
    /// predictor where a replay would have: the same predicted state, and the same pending
    /// predictions and bases (a twin that always replays is the reference).
    #[test]
    fn skipping_the_replay_gives_what_replaying_gives() {
        let rules = ArenaRules::default();
        let mut p = predictor(rules.clone());
        let mut twin = predictor(rules);
        let start = Vec2::new(300.0, 150.0);
        for q in [&mut p, &mut twin] {
            q.reconcile(Tick(0), alive(start));
        }
        let axis = |t: u32, k: u32| ((t * k) % 255) as i8 as i16 as i32;
        let mut skipped = 0;
        for t in 1..=400u32 {
            let i = input(axis(t, 37).clamp(-127, 127) as i8, axis(t, 91).clamp(-127, 127) as i8);
            p.apply(Tick(t), i);
            twin.apply(Tick(t), i);
            if t > 3 && t % 2 == 0 {
                // The server is 3 ticks behind. It agrees with the prediction, except every
                // 7th tick, when it moved the player on its own.
                let acked = Tick(t - 3);
                let predicted = p.pending.iter().find(|q| q.tick == acked).and_then(|q| q.after);
                let mut server = predicted.map_or(start, |s| s.pos);
                if t % 7 == 0 {
                    server.x += 1.5;
                }
                let r = p.reconcile(acked, alive(server));
                skipped += usize::from(r.checked && r.error == 0.0 && r.replayed == 0);
                twin.replay_always(acked, alive(server));
                assert_eq!(p.predicted(), twin.predicted(), "tick {t}");
                let bases = |q: &Predictor<ArenaProtocol>| {
                    q.pending.iter().map(|q| (q.tick, q.after, q.base)).collect::<Vec<_>>()
                };
                assert_eq!(bases(&p), bases(&twin), "tick {t}");
            }
        }
        assert!(skipped > 50, "exact predictions skipped the replay {skipped} times");
    }

    impl<P: Predict> Predictor<P> {
        /// What [`Predictor::reconcile`] did before it skipped exact replays.
        fn replay_always(&mut self, tick: Tick, state: Option<P::State>) {
            self.pending.retain(|p| p.tick.is_newer_than(tick));
            let Some(state) = state else { return };
            let mut at = state.clone();
            for i in 0..self.pending.len() {
                at = self.step(&at, self.pending[i].input.as_ref());
                self.pending[i].after = Some(at.clone());
                self.pending[i].base = Some(tick);
            }
            self.server = Some((tick, state));
            self.predicted = Some(at);
        }
    }

    #[test]
    fn a_dropped_input_is_corrected_and_counted() {
        let mut p = predictor(open_rules());
        let start = Vec2::new(100.0, 100.0);
        p.reconcile(Tick(0), alive(start));
        for t in 1..=4 {
            p.apply(Tick(t), input(0, 127));
        }
        // The server never got input 2 (it arrived late): the player stood still that tick.
        let server = [input(0, 127); 2].iter().fold(start, server_step);
        let r = p.reconcile(Tick(3), alive(server));
        assert!(r.checked && r.error > 6.0, "{r:?}");
        assert_eq!(r.replayed, 1);
        assert_eq!(pos(&p), Some(server_step(server, &input(0, 127))));
    }

    #[test]
    fn dead_players_do_not_move_and_walls_are_respected() {
        let mut p = predictor(ArenaRules::default());
        // Just left of the wall 200..260 × 200..400 (radius 12): moving right is blocked.
        let start = Vec2::new(188.0, 300.0);
        p.reconcile(Tick(0), alive(start));
        p.apply(Tick(1), input(127, 0));
        assert_eq!(pos(&p), Some(start));
        p.apply(Tick(2), input(-127, 0));
        assert!(pos(&p).is_some_and(|pos| pos.x < 188.0));
        p.reconcile(Tick(1), Some(ArenaState { pos: start, alive: false }));
        assert_eq!(pos(&p), Some(start), "dead: replaying moves nothing");
        p.apply(Tick(3), input(-127, 0));
        assert_eq!(pos(&p), Some(start));
        assert_eq!(p.peek(&input(-127, 0)).map(|s| s.pos), Some(start));
    }

    #[test]
    fn nothing_is_predicted_before_the_first_state() {
        let mut p = predictor(open_rules());
        p.apply(Tick(1), input(127, 0));
        assert_eq!(pos(&p), None);
        p.apply(Tick(2), input(127, 0));
        // The snapshot of tick 1 (input 1 applied) gives the state; input 2 is replayed.
        let r = p.reconcile(Tick(1), alive(Vec2::new(50.0, 50.0)));
        assert_eq!((r.checked, r.replayed), (false, 1));
        assert_eq!(pos(&p), Some(server_step(Vec2::new(50.0, 50.0), &input(127, 0))));
    }

    #[test]
    fn skipped_ticks_repeat_the_previous_input_like_the_server() {
        let mut p = predictor(open_rules());
        let start = Vec2::new(100.0, 100.0);
        p.reconcile(Tick(0), alive(start));
        p.apply(Tick(1), input(127, 0).firing(true));
        p.apply(Tick(4), input(0, 127)); // ticks 2 and 3 repeat input 1's movement, no fire
        assert_eq!(p.pending(), 4);
        assert!(p.pending[1].input.is_some_and(|i| !i.fire()), "a repeat releases the buttons");
        let expected = [input(127, 0); 3].iter().fold(start, server_step);
        assert_eq!(pos(&p), Some(server_step(expected, &input(0, 127))));
        p.apply(Tick(30), input(0, 0)); // MAX_REPEAT_TICKS repeats, then no input
        assert_eq!(p.pending(), 30);
        assert!(p.pending.range(4..12).all(|q| q.input == Some(input(0, 127))));
        assert!(p.pending.range(12..29).all(|q| q.input.is_none() && !q.sent));
        let r = p.reconcile(Tick(2), alive(start));
        assert!(!r.had_input, "tick 2 was a repeat, not an input we sent");
        // A stall longer than the queue keeps its newest ticks.
        p.apply(Tick(1000), input(0, 0));
        assert_eq!(p.pending(), MAX_PENDING);
        assert_eq!(p.pending.back().map(|q| q.tick), Some(Tick(1000)));
    }

    #[test]
    fn resolved_ticks_carry_their_prediction_its_base_and_the_server_state() {
        let mut p = predictor(open_rules());
        p.record_resolved();
        let start = Vec2::new(100.0, 100.0);
        p.reconcile(Tick(0), alive(start));
        for t in 1..=3 {
            p.apply(Tick(t), input(0, 127));
        }
        let one = server_step(start, &input(0, 127));
        let two = server_step(one, &input(0, 127));
        let server = alive(Vec2::new(1.0, 1.0));
        p.reconcile(Tick(2), server);
        let mut out = Vec::new();
        p.take_resolved(&mut out);
        let seen: Vec<_> =
            out.iter().map(|r| (r.tick, r.input, r.sent, r.predicted, r.base, r.server)).collect();
        let expected = |tick, pos, server| {
            (Tick(tick), Some(input(0, 127)), true, alive(pos), Some(Tick(0)), server)
        };
        assert_eq!(seen, vec![expected(1, one, None), expected(2, two, server)]);
        out.clear();
        p.take_resolved(&mut out);
        assert!(out.is_empty(), "taken once");
        // Tick 3 was replayed on the server's state of tick 2: that is its base now.
        p.reconcile(Tick(3), None);
        p.take_resolved(&mut out);
        assert_eq!(out[0].base, Some(Tick(2)));
        assert_eq!(out[0].predicted, alive(server_step(Vec2::new(1.0, 1.0), &input(0, 127))));
    }

    #[test]
    fn nothing_is_kept_unless_recording() {
        let mut p = predictor(open_rules());
        p.reconcile(Tick(0), alive(Vec2::ZERO));
        p.apply(Tick(1), input(1, 0));
        p.reconcile(Tick(1), alive(Vec2::ZERO));
        let mut out = Vec::new();
        p.take_resolved(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn pending_is_bounded() {
        let mut p = predictor(open_rules());
        for t in 0..(MAX_PENDING as u32 + 10) {
            p.apply(Tick(t), input(1, 0));
        }
        assert_eq!(p.pending(), MAX_PENDING);
    }
}
