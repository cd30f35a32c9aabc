//! [`Replay<G>`]: a recorded game `G` played back as a [`Game`] a server hosts (see
//! [`super`]).

use std::sync::Arc;
use std::time::Instant;

use hecs::World;
use serde::{Deserialize, Serialize};
use tickwire_protocol::{SnapshotBuilder, Tick};
use tickwire_server::room::task::SPECTATOR_ENTITY;
use tickwire_sim::{
    Audience, Ctx, Game, InputOf, JoinRefusal, JoinRequest, LeaveReason, NetId, PlayerRef,
};
use tracing::warn;

use super::{SEEK_BUDGET, Source};
use crate::resim::verify::apply;
use crate::resim::{ResimError, Typed, typed};

/// The configuration of a [`Replay<G>`]: the recorded game's configuration (what
/// `/rules.json` serves, so a client draws the recorded track or arena) and the recording.
#[derive(Debug, Clone, Default)]
pub struct ReplayConfig {
    recorded: serde_json::Value,
    source: Option<Arc<Source>>,
}

impl ReplayConfig {
    /// The recording `source`, whose game was configured with `recorded`.
    pub fn new(recorded: serde_json::Value, source: Arc<Source>) -> Self {
        Self { recorded, source: Some(source) }
    }
}

impl Serialize for ReplayConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.recorded.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ReplayConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self { recorded: serde_json::Value::deserialize(d)?, source: None })
    }
}

/// Why a replay room cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The configuration carries no recording (it came from JSON alone).
    #[error("a replay room needs its recording: `tickwire-replay serve FILE`")]
    NoRecording,
    /// The recorded room cannot be rebuilt.
    #[error(transparent)]
    Resim(#[from] ResimError),
}

/// The recorded game `G` played back (see [`super`]).
pub struct Replay<G: Game> {
    source: Arc<Source>,
    /// The recorded room, re-simulated up to `applied` steps.
    room: Typed<G>,
    applied: usize,
    /// A seek under way: the number of steps to have applied.
    seeking: Option<usize>,
    /// Recorded ticks owed to the playback (speed below 1 plays a tick every few room ticks).
    credit: f64,
    failed: Option<String>,
}

impl<G: Game> Replay<G> {
    /// Applies the next recorded step; its events go to `ctx` when `show`.
    fn advance(&mut self, ctx: Option<&mut Ctx<'_, G::Protocol>>) -> Result<(), ResimError> {
        let step = &self.source.steps()[self.applied];
        apply(&mut self.room, &step.record)?;
        self.applied += 1;
        let events = self.room.sim.drain_events();
        if let Some(ctx) = ctx {
            for e in events {
                match (e.audience, e.place) {
                    (Audience::Only(_), _) => {}
                    (_, Some(place)) => ctx.emit_at(place, e.event),
                    (_, None) => ctx.emit(e.event),
                }
            }
        }
        Ok(())
    }

    /// Re-simulates toward the seek target for at most [`SEEK_BUDGET`].
    fn seek(&mut self, target: usize) -> Result<(), ResimError> {
        if target < self.applied {
            self.room = typed::<G>(&self.source.setup())?;
            self.applied = 0;
        }
        let started = Instant::now();
        while self.applied < target && started.elapsed() < SEEK_BUDGET {
            self.advance(None)?;
        }
        if self.applied == target {
            self.seeking = None;
        }
        Ok(())
    }

    /// Plays `speed` recorded ticks' worth.
    fn play(&mut self, speed: f64, ctx: &mut Ctx<'_, G::Protocol>) -> Result<(), ResimError> {
        let len = self.source.steps().len();
        self.credit = (self.credit + speed).min(super::control::MAX_SPEED);
        while self.credit >= 1.0 && self.applied < len {
            self.advance(Some(&mut *ctx))?;
            self.credit -= 1.0;
        }
        Ok(())
    }

    fn run(&mut self, ctx: &mut Ctx<'_, G::Protocol>) -> Result<(), ResimError> {
        let requests = self.source.control().take();
        if requests.restart {
            self.seeking = Some(0);
        }
        if let Some(target) = requests.seek {
            self.seeking = Some(target);
        }
        if let Some(target) = self.seeking {
            self.credit = 0.0;
            return self.seek(target);
        }
        if requests.paused {
            self.credit = 0.0;
            return Ok(());
        }
        self.play(requests.speed, ctx)
    }

    /// The recorded tick shown: the seek's keyframe while seeking, else the re-simulated one.
    fn shown(&self) -> Tick {
        match self.seeking {
            Some(0) | None => self.room.sim.tick(),
            Some(target) => self.source.steps()[target - 1].record.tick,
        }
    }
}

impl<G: Game> Game for Replay<G> {
    type Protocol = G::Protocol;
    type Config = ReplayConfig;
    type Error = ReplayError;

    fn tick_rate(config: &ReplayConfig) -> u16 {
        config.source.as_ref().map_or(30, |s| s.header().tick_rate)
    }

    fn create(
        config: &ReplayConfig,
        _seed: u64,
        _world: &mut World,
        _ctx: &mut Ctx<'_, G::Protocol>,
    ) -> Result<Self, ReplayError> {
        let source = config.source.clone().ok_or(ReplayError::NoRecording)?;
        let room = typed::<G>(&source.setup())?;
        Ok(Self { source, room, applied: 0, seeking: None, credit: 0.0, failed: None })
    }

    fn join(
        &mut self,
        world: &mut World,
        _who: &JoinRequest<'_>,
        _ctx: &mut Ctx<'_, G::Protocol>,
    ) -> Result<hecs::Entity, JoinRefusal> {
        // Every spectator's entity has the same id: none is ever replicated.
        Ok(world.spawn((NetId(SPECTATOR_ENTITY),)))
    }

    fn leave(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        _reason: LeaveReason,
        _ctx: &mut Ctx<'_, G::Protocol>,
    ) {
        let _ = world.despawn(player.entity);
    }

    fn step(
        &mut self,
        _world: &mut World,
        _inputs: &tickwire_sim::Inputs<'_, InputOf<G>>,
        ctx: &mut Ctx<'_, G::Protocol>,
    ) {
        if self.failed.is_none()
            && let Err(e) = self.run(ctx)
        {
            let why = format!("recorded tick {}: {e}", self.room.sim.tick().next().0);
            warn!(game = self.source.header().game, "the replay stops: {why}");
            self.failed = Some(why);
        }
        let ended = self.applied == self.source.steps().len();
        let control = self.source.control();
        control.publish(self.shown(), self.seeking.is_some(), ended, self.failed.as_deref());
    }

    fn snapshot(&self, _world: &World, out: &mut SnapshotBuilder<'_>) {
        match self.seeking.and_then(|t| t.checked_sub(1)) {
            Some(k) => {
                // invariant: a seek targets a step with a keyframe (Source::seek_target).
                if let Some(keyframe) = &self.source.steps()[k].keyframe {
                    keyframe.iter().for_each(|e| out.copy(e));
                }
            }
            None => self.room.sim.game().snapshot(self.room.sim.world(), out),
        }
    }
}
