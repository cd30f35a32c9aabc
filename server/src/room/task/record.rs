//! The room's side of session recording ([`crate::recording`]): each call into the simulation
//! is noted as it is made, and each step hands one record with its frame to the writer.

use std::sync::Arc;

use tickwire_protocol::ClientId;
use tickwire_recording::format::{Action, EndReason, JoinOutcome};
use tickwire_sim::{Game, JoinRefusal, JoinRequest, Joined};

use super::Room;
use crate::recording::Recorder;
use crate::room::TickFrame;

impl<G: Game> Room<G> {
    /// Records this room from now on (the recorder's header says from which tick).
    pub fn record(&mut self, recorder: Recorder) {
        self.recorder = Some(recorder);
    }

    /// Whether the room is being recorded (it stops at the first failure).
    pub fn is_recording(&self) -> bool {
        self.recorder.as_ref().is_some_and(Recorder::is_active)
    }

    /// Notes a call into the simulation (built only when recording).
    pub(super) fn note(&mut self, action: impl FnOnce() -> Action) {
        if let Some(r) = &mut self.recorder {
            r.action(action());
        }
    }

    /// Notes a join and what the game answered.
    pub(super) fn record_join(
        &mut self,
        who: &JoinRequest<'_>,
        joined: &Result<Joined, JoinRefusal>,
    ) {
        let outcome = match *joined {
            Ok(j) => JoinOutcome::Joined { entity: j.id },
            Err(JoinRefusal::Full) => JoinOutcome::Full,
            Err(JoinRefusal::Refused { code }) => JoinOutcome::Refused { code },
        };
        let client: ClientId = who.player;
        let name = who.name;
        let account = who.account;
        self.note(|| Action::Join {
            client,
            name: name.to_owned(),
            account: account.map(str::to_owned),
            outcome,
        });
    }

    /// The step is done: hands its record and frame (`frame` if the tick published one, else
    /// one built for the recording: catch-up ticks only) to the writer.
    pub(super) fn record_step(&mut self, frame: Option<Arc<TickFrame>>) {
        if !self.is_recording() {
            return;
        }
        let Some(frame) = frame.or_else(|| self.build_frame()) else { return };
        let tick = self.sim.tick();
        if let Some(r) = &mut self.recorder {
            r.tick(tick, frame);
        }
    }

    /// The room closes: the writer finishes the file.
    pub(super) fn end_recording(&mut self, reason: EndReason) {
        if let Some(r) = self.recorder.take() {
            r.end(reason, self.sim.tick());
        }
    }
}
