//! What the player wants to do: the game's input, sampled once per tick by the driver from an
//! [`InputSource`] (a bot's behaviour, or the shared input a game sets with
//! [`ClientHandle::set_input`](crate::ClientHandle::set_input)), and encoded into an
//! `InputFrame` by [`ClientState::send_input`].
//!
//! [`ClientState::send_input`]: crate::ClientState::send_input

use std::time::Duration;

use tickwire_sim::Predict;

use crate::state::ClientState;

/// What an [`InputSource`] sees when asked for the next input: the whole client state (its
/// snapshots, interpolated entities and prediction) at `now`.
#[derive(Debug)]
pub struct InputContext<'a, P: Predict> {
    /// The client's state.
    pub state: &'a ClientState<P>,
    /// The time of the tick, on the client's clock.
    pub now: Duration,
}

/// Produces the player's input once per tick, on the driver's task, with the client state
/// locked: it must be quick and must not block.
pub trait InputSource<P: Predict>: Send + 'static {
    /// The input about to be sent.
    fn sample(&mut self, ctx: &InputContext<'_, P>) -> P::Input;

    /// A game command to send this tick, if any (asked right after [`sample`](Self::sample)).
    fn command(&mut self, _ctx: &InputContext<'_, P>) -> Option<P::Command> {
        None
    }
}

impl<P, F> InputSource<P> for F
where
    P: Predict,
    F: FnMut(&InputContext<'_, P>) -> P::Input + Send + 'static,
{
    fn sample(&mut self, ctx: &InputContext<'_, P>) -> P::Input {
        self(ctx)
    }
}
