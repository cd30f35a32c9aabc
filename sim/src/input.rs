//! Inputs: [`InputBuffer`], one client's input frames keyed by the tick they are for (the
//! server's input policy, the same for every game), and [`PlayerInput`]/[`Inputs`], what a
//! game's [`step`](crate::Game::step) sees.
//!
//! The server owns one buffer per client. The session pushes every [`InputFrame`] it decodes
//! (its payload already checked against the game's schema) with `push(frame, next)`, and the
//! room calls `take(next)` once per client just before stepping, where `next` is the tick that
//! step produces; the frame it returns becomes that step's [`PlayerInput`]. The policies:
//!
//! - **Early** frames (for a tick not simulated yet) wait in the buffer for their tick, up to
//!   `capacity` ticks ahead; further ahead is refused as [`PushOutcome::TooFarAhead`], so a
//!   client cannot make the server hold more than `capacity` frames.
//! - **Late** frames, for a tick already simulated (or already filled in by a repeat), are
//!   dropped as [`PushOutcome::Late`]: the server never rewinds to re-simulate, the client's
//!   prediction reconciles against the snapshot instead.
//! - **Duplicates** (a second frame for a buffered tick) are ignored: the first one wins, so a
//!   client resending for redundancy costs nothing.
//! - **Missing** frames: a tick with no frame repeats the last real input — every field but the
//!   game's [buttons](tickwire_protocol::FieldCodec::Buttons), which are released — for up to
//!   [`MAX_REPEAT_TICKS`] consecutive ticks (packet loss or jitter should not stop a running
//!   player dead, nor fire twice), then `take` returns `None` and the player has no input (a
//!   vanished client should not keep running into a wall).
//!
//! Storage is a ring of `capacity` slots (rounded up to a power of two so that tick wrapping
//! maps cleanly), allocated once; a buffered input holds its payload inline
//! ([`BufferedInput`]), so pushing, taking and repeating never touch the heap.

use tickwire_protocol::game::MAX_INPUT_BYTES;
use tickwire_protocol::message::{InputFrame, ViewTime};
use tickwire_protocol::{ClientId, Tick};

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
    /// Its payload is larger than any game's input may be ([`MAX_INPUT_BYTES`]); refused.
    TooLarge,
}

impl PushOutcome {
    /// Whether the frame was stored.
    pub fn is_accepted(self) -> bool {
        self == PushOutcome::Accepted
    }
}

/// One input as the buffer keeps it: what the server uses of an [`InputFrame`], with the
/// game's payload inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferedInput {
    /// The tick it is for.
    pub tick: Tick,
    /// The view time the client claimed.
    pub view: ViewTime,
    len: u8,
    bytes: [u8; MAX_INPUT_BYTES],
}

impl BufferedInput {
    /// The game's payload.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// An input taken from an [`InputBuffer`] for one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakenInput {
    /// The input (for a repeat: the last real one, stamped with this tick, buttons released).
    pub input: BufferedInput,
    /// Whether it repeats the last real input because this tick's was missing.
    pub repeated: bool,
}

/// A buffered input's header; its payload is in [`InputBuffer::payloads`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    tick: Tick,
    view: ViewTime,
    len: u8,
}

/// A bounded per-client input buffer (see the module docs for its policies).
#[derive(Debug, Clone)]
pub struct InputBuffer {
    slots: Vec<Option<Slot>>,
    /// The slots' payloads, `stride` bytes each (the game's input size).
    payloads: Vec<u8>,
    stride: usize,
    /// A 1 in every bit of the payload that a repeat releases (the buttons).
    release: Vec<u8>,
    mask: u32,
    max_ahead: u32,
    len: usize,
    /// Oldest tick still accepted: everything before it was simulated or skipped.
    floor: Option<Tick>,
    /// The last real input consumed, the source of repeats.
    last: Option<BufferedInput>,
    /// Consecutive repeats handed out since `last`.
    repeats: u32,
}

impl InputBuffer {
    /// A buffer holding frames up to `capacity` ticks ahead (clamped to `1..=1024`); a repeat
    /// clears the payload bits set in `release` (the game's
    /// [`momentary_mask`](tickwire_protocol::game::MessageSchema::momentary_mask)), which is
    /// as long as the game's (fixed-size) input: longer payloads are refused.
    pub fn new(capacity: usize, release: Vec<u8>) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        let slots = capacity.next_power_of_two();
        let stride = release.len().min(MAX_INPUT_BYTES);
        Self {
            slots: vec![None; slots],
            payloads: vec![0; slots * stride],
            stride,
            release,
            mask: (slots - 1) as u32,
            max_ahead: capacity as u32,
            len: 0,
            floor: None,
            last: None,
            repeats: 0,
        }
    }

    /// Offers `frame`; `next_tick` is the next tick the server will simulate.
    pub fn push(&mut self, frame: &InputFrame, next_tick: Tick) -> PushOutcome {
        let len = frame.payload.len();
        if len > self.stride {
            return PushOutcome::TooLarge;
        }
        self.advance_floor(next_tick);
        let floor = self.floor.unwrap_or(next_tick);
        let ahead = frame.tick.diff(floor);
        if ahead < 0 {
            return PushOutcome::Late;
        }
        if ahead as u32 >= self.max_ahead {
            return PushOutcome::TooFarAhead;
        }
        let i = (frame.tick.0 & self.mask) as usize;
        match self.slots[i] {
            Some(old) if old.tick == frame.tick => return PushOutcome::Duplicate,
            // invariant: slots hold only ticks in floor..floor+max_ahead after advance_floor,
            // and those map to distinct slots; an occupied one is replaced all the same.
            Some(_) => {}
            None => self.len += 1,
        }
        self.slots[i] = Some(Slot { tick: frame.tick, view: frame.view, len: len as u8 });
        self.payloads[i * self.stride..i * self.stride + len].copy_from_slice(&frame.payload);
        PushOutcome::Accepted
    }

    /// The input to simulate at `tick`: the buffered frame, else a repeat of the last real
    /// input with its buttons released (for up to [`MAX_REPEAT_TICKS`] ticks), else `None`.
    /// Frames for ticks before `tick` that were never taken are discarded.
    pub fn take(&mut self, tick: Tick) -> Option<TakenInput> {
        self.advance_floor(tick);
        let i = (tick.0 & self.mask) as usize;
        let found = match self.slots[i] {
            Some(s) if s.tick == tick => {
                self.slots[i] = None;
                self.len -= 1;
                let mut bytes = [0; MAX_INPUT_BYTES];
                let len = usize::from(s.len);
                bytes[..len]
                    .copy_from_slice(&self.payloads[i * self.stride..i * self.stride + len]);
                Some(BufferedInput { tick, view: s.view, len: s.len, bytes })
            }
            _ => None,
        };
        if self.floor.is_none_or(|f| !f.is_newer_than(tick)) {
            self.floor = Some(tick.next());
        }
        if let Some(input) = found {
            self.last = Some(input);
            self.repeats = 0;
            return Some(TakenInput { input, repeated: false });
        }
        let mut input = self.last?;
        if self.repeats >= MAX_REPEAT_TICKS {
            return None;
        }
        self.repeats += 1;
        for (byte, release) in input.bytes.iter_mut().zip(&self.release) {
            *byte &= !release;
        }
        input.tick = tick;
        Some(TakenInput { input, repeated: true })
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
        self.last.as_ref().map(|f| f.tick)
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
                if s.as_ref().is_some_and(|f| to.is_newer_than(f.tick)) {
                    *s = None;
                    self.len -= 1;
                }
            }
        } else if let Some(floor) = self.floor {
            for i in 0..gap {
                let s = &mut self.slots[(floor.0.wrapping_add(i as u32) & self.mask) as usize];
                if s.as_ref().is_some_and(|f| to.is_newer_than(f.tick)) {
                    *s = None;
                    self.len -= 1;
                }
            }
        }
        self.floor = Some(to);
    }
}

/// One player's input for one step, as the server decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerInput<I> {
    /// The player.
    pub player: ClientId,
    /// The entity it controls (what its [`join`](crate::Game::join) returned).
    pub entity: hecs::Entity,
    /// The input, decoded by the game's schema.
    pub input: I,
    /// Whether this repeats the player's last input because this tick's was missing (its
    /// buttons are released).
    pub repeated: bool,
    /// The view time the server honours for lag compensation: the client's claim if its
    /// measured RTT explains it, else the server's estimate.
    pub view: ViewTime,
    /// Whether the server replaced the client's claimed view time.
    pub view_corrected: bool,
}

/// The inputs of one step, sorted by player: players without an input this tick (none buffered
/// and nothing left to repeat, or detached) are absent.
pub type Inputs<'a, I> = [PlayerInput<I>];

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2-byte payload: byte 0 a movement value, bit 0 of byte 1 a fire button.
    fn frame(tick: u32, move_x: u8, fire: bool) -> InputFrame {
        InputFrame {
            tick: Tick(tick),
            payload: vec![move_x, u8::from(fire)],
            ..InputFrame::default()
        }
    }

    fn buffer(capacity: usize) -> InputBuffer {
        InputBuffer::new(capacity, vec![0, 1])
    }

    fn take(b: &mut InputBuffer, tick: u32) -> Option<(Tick, u8, bool, bool)> {
        b.take(Tick(tick)).map(|t| {
            let p = t.input.payload();
            (t.input.tick, p[0], p[1] == 1, t.repeated)
        })
    }

    #[test]
    fn a_payload_longer_than_the_game_s_input_is_refused() {
        let mut b = buffer(8);
        let long = InputFrame { tick: Tick(10), payload: vec![1, 2, 3], ..InputFrame::default() };
        assert_eq!(b.push(&long, Tick(10)), PushOutcome::TooLarge);
        let mut big = InputBuffer::new(8, vec![0; MAX_INPUT_BYTES]);
        let most = InputFrame { payload: vec![7; MAX_INPUT_BYTES], ..long };
        assert_eq!(big.push(&most, Tick(10)), PushOutcome::Accepted);
        let taken = big.take(Tick(10)).map(|t| t.input.payload().to_vec());
        assert_eq!(taken, Some(vec![7; MAX_INPUT_BYTES]));
    }

    #[test]
    fn early_frames_wait_for_their_tick() {
        let mut b = buffer(8);
        assert_eq!(b.push(&frame(12, 1, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.push(&frame(11, 2, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.len(), 2);
        assert_eq!(b.take(Tick(10)), None, "nothing for 10 and nothing to repeat");
        assert_eq!(take(&mut b, 11), Some((Tick(11), 2, false, false)));
        assert_eq!(take(&mut b, 12), Some((Tick(12), 1, false, false)));
        assert_eq!(b.last_consumed(), Some(Tick(12)));
        assert!(b.is_empty());
    }

    #[test]
    fn late_duplicate_and_too_far_ahead() {
        let mut b = buffer(8);
        assert_eq!(b.push(&frame(9, 1, false), Tick(10)), PushOutcome::Late);
        assert_eq!(b.push(&frame(10, 1, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.push(&frame(10, 7, true), Tick(10)), PushOutcome::Duplicate);
        assert_eq!(b.push(&frame(17, 1, false), Tick(10)), PushOutcome::Accepted);
        assert_eq!(b.push(&frame(18, 1, false), Tick(10)), PushOutcome::TooFarAhead);
        assert_eq!(b.push(&frame(10 + 1_000_000, 1, false), Tick(10)), PushOutcome::TooFarAhead);
        assert_eq!(take(&mut b, 10).map(|t| t.1), Some(1), "first frame wins");
        // Tick 10 is simulated: a frame for it is now late even if the caller's clock lags.
        assert_eq!(b.push(&frame(10, 1, false), Tick(10)), PushOutcome::Late);
        assert_eq!(b.push(&frame(11, 1, false), Tick(11)), PushOutcome::Accepted);
    }

    #[test]
    fn missing_input_repeats_all_but_the_buttons_then_stops() {
        let mut b = buffer(16);
        b.push(&frame(0, 100, true), Tick(0));
        assert_eq!(take(&mut b, 0), Some((Tick(0), 100, true, false)));
        for t in 1..=MAX_REPEAT_TICKS {
            assert_eq!(take(&mut b, t), Some((Tick(t), 100, false, true)));
        }
        assert_eq!(b.take(Tick(MAX_REPEAT_TICKS + 1)), None);
        assert_eq!(b.last_consumed(), Some(Tick(0)), "repeats are not consumed inputs");
        // A filled-in tick cannot be replaced afterwards.
        assert_eq!(b.push(&frame(3, 5, false), Tick(10)), PushOutcome::Late);
        // A real input resets the repeat budget.
        b.push(&frame(10, 5, false), Tick(10));
        assert_eq!(take(&mut b, 10).map(|t| t.1), Some(5));
        assert_eq!(take(&mut b, 11).map(|t| t.1), Some(5));
    }

    #[test]
    fn skipped_ticks_discard_their_frames_and_len_stays_bounded() {
        let mut b = buffer(4);
        for t in 0..4 {
            assert!(b.push(&frame(t, 1, false), Tick(0)).is_accepted());
        }
        assert_eq!(b.len(), 4);
        assert_eq!(take(&mut b, 3).map(|t| t.0), Some(Tick(3)));
        assert_eq!(b.len(), 0, "frames 0..3 were never taken and are gone");
        for t in 0..10_000u32 {
            b.push(&frame(t, 1, false), Tick(t / 2));
            b.push(&frame(t + 3, 1, false), Tick(t / 2));
            assert!(b.len() <= b.capacity());
            if t % 2 == 1 {
                b.take(Tick(t / 2));
            }
        }
    }

    #[test]
    fn works_across_tick_wraparound() {
        let mut b = buffer(8);
        let start = u32::MAX - 2;
        for i in 0..6u32 {
            let t = start.wrapping_add(i);
            assert_eq!(b.push(&frame(t, i as u8, false), Tick(start)), PushOutcome::Accepted);
        }
        for i in 0..6u32 {
            let t = start.wrapping_add(i);
            assert_eq!(take(&mut b, t).map(|x| (x.0, x.1)), Some((Tick(t), i as u8)));
        }
        assert!(b.is_empty());
        assert_eq!(b.push(&frame(u32::MAX, 1, false), Tick(3)), PushOutcome::Late);
    }

    #[test]
    fn capacity_is_clamped() {
        assert_eq!(buffer(0).capacity(), 1);
        assert_eq!(buffer(1 << 20).capacity(), MAX_CAPACITY);
        assert_eq!(buffer(DEFAULT_CAPACITY).capacity(), 64);
    }
}
