//! [`InputBuffer`]: one client's input frames, keyed by the tick they are for.
//!
//! The server owns one buffer per client. The session pushes every [`InputFrame`] it decodes
//! with `push(frame, next)`, and the room calls `take(next)` once per client just before
//! stepping, where `next = arena.tick().next()` is the tick that step produces; the frame it
//! returns is that step's [`PlayerCommand`](crate::PlayerCommand) input. The policies:
//!
//! - **Early** frames (for a tick not simulated yet) wait in the buffer for their tick, up to
//!   `capacity` ticks ahead; further ahead is refused as [`PushOutcome::TooFarAhead`], so a
//!   client cannot make the server hold more than `capacity` frames.
//! - **Late** frames, for a tick already simulated (or already filled in by a repeat), are
//!   dropped as [`PushOutcome::Late`]: the server never rewinds to re-simulate, the client's
//!   prediction reconciles against the snapshot instead.
//! - **Duplicates** (a second frame for a buffered tick) are ignored: the first one wins, so a
//!   client resending for redundancy costs nothing.
//! - **Missing** frames: a tick with no frame repeats the last real input — movement and aim,
//!   never the fire button — for up to [`MAX_REPEAT_TICKS`] consecutive ticks (packet loss or
//!   jitter should not stop a running player dead), then `take` returns `None` and the player
//!   stands still (a vanished client should not keep running into a wall).
//!
//! Storage is a ring of `capacity` slots (rounded up to a power of two so that tick wrapping
//! maps cleanly), allocated once.

use tickwire_protocol::Tick;
use tickwire_protocol::message::{InputFrame, buttons};

/// A sensible buffer capacity: about 2 s of input at 30 Hz, 1 s at 60 Hz.
pub const DEFAULT_CAPACITY: usize = 64;
/// Largest capacity [`InputBuffer::new`] accepts (larger requests are clamped).
pub const MAX_CAPACITY: usize = 1024;
/// How many consecutive ticks a missing input is filled in by repeating the last one.
pub const MAX_REPEAT_TICKS: u32 = 8;

/// What [`InputBuffer::push`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored; it will be returned by `take` for its tick.
    Accepted,
    /// A frame for that tick is already buffered; this one was ignored.
    Duplicate,
    /// Its tick has already been simulated (or consumed); dropped.
    Late,
    /// Its tick is `capacity` or more ticks ahead of the next tick to simulate; refused.
    TooFarAhead,
}

impl PushOutcome {
    /// Whether the frame was stored.
    pub fn is_accepted(self) -> bool {
        self == PushOutcome::Accepted
    }
}

/// A bounded per-client input buffer (see the module docs for its policies).
#[derive(Debug, Clone)]
pub struct InputBuffer {
    slots: Vec<Option<InputFrame>>,
    mask: u32,
    max_ahead: u32,
    len: usize,
    /// Oldest tick still accepted: everything before it was simulated or skipped.
    floor: Option<Tick>,
    /// The last real frame consumed, the source of repeats.
    last: Option<InputFrame>,
    /// Consecutive repeats handed out since `last`.
    repeats: u32,
}

impl InputBuffer {
    /// A buffer holding frames up to `capacity` ticks ahead (clamped to `1..=1024`).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        let slots = capacity.next_power_of_two();
        Self {
            slots: vec![None; slots],
            mask: (slots - 1) as u32,
            max_ahead: capacity as u32,
            len: 0,
            floor: None,
            last: None,
            repeats: 0,
        }
    }

    /// Offers `frame`; `next_tick` is the next tick the server will simulate.
    pub fn push(&mut self, frame: InputFrame, next_tick: Tick) -> PushOutcome {
        self.advance_floor(next_tick);
        let floor = self.floor.unwrap_or(next_tick);
        let ahead = frame.tick.diff(floor);
        if ahead < 0 {
            return PushOutcome::Late;
        }
        if ahead as u32 >= self.max_ahead {
            return PushOutcome::TooFarAhead;
        }
        let slot = &mut self.slots[(frame.tick.0 & self.mask) as usize];
        match slot {
            Some(old) if old.tick == frame.tick => PushOutcome::Duplicate,
            Some(_) => {
                // invariant: slots hold only ticks in floor..floor+max_ahead after
                // advance_floor, and those map to distinct slots; defensive all the same.
                *slot = Some(frame);
                PushOutcome::Accepted
            }
            None => {
                *slot = Some(frame);
                self.len += 1;
                PushOutcome::Accepted
            }
        }
    }

    /// The input to simulate at `tick`: the buffered frame, else a repeat of the last real
    /// input without its fire button (for up to [`MAX_REPEAT_TICKS`] ticks), else `None`.
    /// Frames for ticks before `tick` that were never taken are discarded.
    pub fn take(&mut self, tick: Tick) -> Option<InputFrame> {
        self.advance_floor(tick);
        let slot = &mut self.slots[(tick.0 & self.mask) as usize];
        let found = match slot {
            Some(f) if f.tick == tick => {
                self.len -= 1;
                slot.take()
            }
            _ => None,
        };
        if self.floor.is_none_or(|f| !f.is_newer_than(tick)) {
            self.floor = Some(tick.next());
        }
        if let Some(frame) = found {
            self.last = Some(frame);
            self.repeats = 0;
            return Some(frame);
        }
        let last = self.last?;
        if self.repeats >= MAX_REPEAT_TICKS {
            return None;
        }
        self.repeats += 1;
        Some(InputFrame { tick, buttons: last.buttons & !buttons::FIRE, ..last })
    }

    /// Number of frames waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most ticks ahead a frame may be.
    pub fn capacity(&self) -> usize {
        self.max_ahead as usize
    }

    /// The tick of the newest real (not repeated) input consumed by [`take`](Self::take): what
    /// the server acknowledges to the client for reconciliation.
    pub fn last_consumed(&self) -> Option<Tick> {
        self.last.map(|f| f.tick)
    }

    /// Forgets everything (e.g. when the player respawns into a new session).
    pub fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
        self.len = 0;
        self.floor = None;
        self.last = None;
        self.repeats = 0;
    }

    /// Moves the floor up to `to` (never down), discarding frames older than it.
    fn advance_floor(&mut self, to: Tick) {
        let gap = match self.floor {
            Some(floor) if !to.is_newer_than(floor) => return,
            Some(floor) => to.diff(floor) as usize,
            None => self.slots.len(),
        };
        if gap >= self.slots.len() {
            for s in &mut self.slots {
                if s.is_some_and(|f| to.is_newer_than(f.tick)) {
                    *s = None;
                    self.len -= 1;
                }
            }
        } else if let Some(floor) = self.floor {
            for i in 0..gap {
                let s = &mut self.slots[(floor.0.wrapping_add(i as u32) & self.mask) as usize];
                if s.is_some_and(|f| to.is_newer_than(f.tick)) {
                    *s = None;
                    self.len -= 1;
                }
            }
        }
        self.floor = Some(to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tick: u32, move_x: i8, fire: bool) -> InputFrame {
        InputFrame {
            tick: Tick(tick),
            move_x,
            aim: 1234,
            buttons: if fire { buttons::FIRE } else { 0 },
            ..InputFrame::default()
        }
    }

    #[test]
    fn early_frames_wait_for_their_tick() {
        let mut b = InputBuffer::new(8);
        assert_eq!(b.push(frame(12, 1, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.push(frame(11, 2, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.len(), 2);
        assert_eq!(b.take(Tick(10)), None, "nothing for 10 and nothing to repeat");
        assert_eq!(b.take(Tick(11)).map(|f| f.move_x), Some(2));
        assert_eq!(b.take(Tick(12)).map(|f| f.move_x), Some(1));
        assert_eq!(b.last_consumed(), Some(Tick(12)));
        assert!(b.is_empty());
    }

    #[test]
    fn late_duplicate_and_too_far_ahead() {
        let mut b = InputBuffer::new(8);
        assert_eq!(b.push(frame(9, 1, false), Tick(10)), PushOutcome::Late);
        assert_eq!(b.push(frame(10, 1, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.push(frame(10, 7, true), Tick(10)), PushOutcome::Duplicate);
        assert_eq!(b.push(frame(17, 1, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.push(frame(18, 1, false), Tick(10)), PushOutcome::TooFarAhead);
        assert_eq!(b.push(frame(10 + 1_000_000, 1, false), Tick(10)), PushOutcome::TooFarAhead);
        assert_eq!(b.take(Tick(10)).map(|f| f.move_x), Some(1), "first frame wins");
        // Tick 10 is simulated: a frame for it is now late even if the caller's clock lags.
        assert_eq!(b.push(frame(10, 1, false), Tick(10)), PushOutcome::Late);
        assert_eq!(b.push(frame(11, 1, false), Tick(11)), PushOutcome::Accepted);
    }

    #[test]
    fn missing_input_repeats_movement_but_not_fire_then_goes_neutral() {
        let mut b = InputBuffer::new(16);
        b.push(frame(0, 100, true), Tick(0));
        assert!(b.take(Tick(0)).is_some_and(|f| f.fire()));
        for t in 1..=MAX_REPEAT_TICKS {
            let f = b.take(Tick(t)).expect("repeated");
            assert_eq!((f.tick, f.move_x, f.aim, f.fire()), (Tick(t), 100, 1234, false));
        }
        assert_eq!(b.take(Tick(MAX_REPEAT_TICKS + 1)), None);
        assert_eq!(b.last_consumed(), Some(Tick(0)), "repeats are not consumed inputs");
        // A filled-in tick cannot be replaced afterwards.
        assert_eq!(b.push(frame(3, 5, false), Tick(10)), PushOutcome::Late);
        // A real input resets the repeat budget.
        b.push(frame(10, 5, false), Tick(10));
        assert_eq!(b.take(Tick(10)).map(|f| f.move_x), Some(5));
        assert_eq!(b.take(Tick(11)).map(|f| f.move_x), Some(5));
    }

    #[test]
    fn skipped_ticks_discard_their_frames_and_len_stays_bounded() {
        let mut b = InputBuffer::new(4);
        for t in 0..4 {
            assert!(b.push(frame(t, 1, false), Tick(0)).is_accepted());
        }
        assert_eq!(b.len(), 4);
        assert_eq!(b.take(Tick(3)).map(|f| f.tick), Some(Tick(3)));
        assert_eq!(b.len(), 0, "frames 0..3 were never taken and are gone");
        for t in 0..10_000u32 {
            b.push(frame(t, 1, false), Tick(t / 2));
            b.push(frame(t + 3, 1, false), Tick(t / 2));
            assert!(b.len() <= b.capacity());
            if t % 2 == 1 {
                b.take(Tick(t / 2));
            }
        }
    }

    #[test]
    fn works_across_tick_wraparound() {
        let mut b = InputBuffer::new(8);
        let start = u32::MAX - 2;
        for i in 0..6u32 {
            let t = start.wrapping_add(i);
            assert_eq!(b.push(frame(t, i as i8, false), Tick(start)), PushOutcome::Accepted);
        }
        for i in 0..6u32 {
            let t = Tick(start.wrapping_add(i));
            assert_eq!(b.take(t).map(|f| (f.tick, f.move_x)), Some((t, i as i8)));
        }
        assert!(b.is_empty());
        assert_eq!(b.push(frame(u32::MAX, 1, false), Tick(3)), PushOutcome::Late);
    }

    #[test]
    fn capacity_is_clamped() {
        assert_eq!(InputBuffer::new(0).capacity(), 1);
        assert_eq!(InputBuffer::new(1 << 20).capacity(), MAX_CAPACITY);
        assert_eq!(InputBuffer::new(DEFAULT_CAPACITY).capacity(), 64);
    }
}
