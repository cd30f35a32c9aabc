//! [`InputFrame`]: what a player did during one tick, client → server.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::Tick;

/// The moment a client was showing on screen: `tick + fraction / 256`. Used by lag
/// compensation to judge an action (a shot) against what the player saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode, Serialize)]
pub struct ViewTime {
    /// The older of the two snapshots being interpolated.
    pub tick: Tick,
    /// Progress towards the next tick, in 1/256ths.
    pub fraction: u8,
}

impl ViewTime {
    /// The view time as fractional ticks relative to `origin` (may be negative).
    pub fn ticks_since(self, origin: Tick) -> f64 {
        f64::from(self.tick.diff(origin)) + f64::from(self.fraction) / 256.0
    }
}

/// A player's input for one tick: Tickwire's header (which tick, what the client holds and
/// shows) and the game's input, encoded by the game's schema
/// ([`GameSchema::encode_input`](crate::game::GameSchema::encode_input)). The game's fields are
/// quantized on the wire, so that the server and a predicting client simulate exactly the same
/// input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode, Serialize)]
pub struct InputFrame {
    /// The tick this input applies to.
    pub tick: Tick,
    /// The newest snapshot the client has received (its delta baseline acknowledgement).
    pub last_snapshot: Option<Tick>,
    /// What the client was showing when it sampled this input.
    pub view: ViewTime,
    /// The game's input, exactly the size the game's schema says (`PROTOCOL.md` §5.6).
    pub payload: Vec<u8>,
}
