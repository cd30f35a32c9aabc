//! `serve`: a recording hosted as a read-only room that clients join as **spectators** over the
//! normal protocol, so the game's browser page and Bevy client watch it with the code they play
//! with.
//!
//! The room is an ordinary server room whose game is [`Replay<G>`]: the recorded game `G`
//! wrapped so that
//! - it re-simulates the recording ([`crate::resim`]) in a world of its own, and its snapshot is
//!   that world's (so spectators see exactly what the recorded players saw, tick for tick);
//! - a joining client is a spectator: it gets an entity that is never replicated (the server's
//!   spectator id, `tickwire_server::room::task::SPECTATOR_ENTITY`, which no recorded entity
//!   has), its inputs and commands are ignored;
//! - the recorded game's events to everyone are passed on (those to one recorded player are
//!   not: a spectator is nobody's player).
//!
//! Playback is driven over HTTP on the game port (`/replay`, [`control`]): pause, play, speed
//! (¼× to 16×) and **seek by keyframe**. A seek shows the recorded keyframe at once (the
//! recording's full snapshot of that tick) and re-simulates up to it in the background,
//! spending at most [`SEEK_BUDGET`] per room tick, then plays on from there. The room's own tick
//! keeps advancing whatever the playback does, so clients see a steady server timeline.
//!
//! One server serves one recording in one room (its default room); other room names are
//! refused (`TooManyRooms`). The recording must start at the room's creation (tick 0), as for
//! `verify`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tickwire_protocol::Tick;
use tickwire_server::{Server, ServerBuilder, ServerConfig};

use crate::format::{Action, Header, JoinOutcome};
use crate::reader::{ReadError, Reader};
use crate::resim::verify::{Step, StepError, Steps};
use crate::resim::{Registry, ResimError, RoomSetup};

pub mod control;
mod game;

pub use control::{Control, Status};
pub use game::{Replay, ReplayConfig};

/// Longest re-simulation a seek does in one room tick before the tick goes on.
pub const SEEK_BUDGET: Duration = Duration::from_millis(12);

/// Registers [`Replay<G>`] on a server builder (kept per game by the [`Registry`]).
pub(crate) type Host = fn(ServerBuilder, ReplayConfig) -> ServerBuilder;

/// [`Host`] for game `G`.
pub(crate) fn host<G: tickwire_sim::Game>(b: ServerBuilder, config: ReplayConfig) -> ServerBuilder {
    b.game::<Replay<G>>(config)
}

/// Why a recording cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The file cannot be opened or read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: ReadError,
    },
    /// The recording starts in a running room.
    #[error(
        "the recording starts at tick {0} of a running room: a replay needs the room's creation (tick 0)"
    )]
    NotFromCreation(u32),
    /// The recording has no tick.
    #[error("the recording holds no tick")]
    Empty,
    /// The recorded config does not parse as JSON.
    #[error("the recorded config is not JSON: {0}")]
    Config(serde_json::Error),
    /// The recorded room cannot be rebuilt (unknown game, foreign schema, refused config).
    #[error(transparent)]
    Resim(#[from] ResimError),
    /// A keyframe does not decode.
    #[error("{0}")]
    Keyframe(String),
}

/// A loaded recording: its header and its steps, shared by the replay room and the control
/// endpoint.
#[derive(Debug)]
pub struct Source {
    header: Header,
    steps: Vec<Step>,
    /// Indices of the steps that carry a keyframe, ascending.
    keyframes: Vec<usize>,
    control: Control,
}

impl Source {
    /// The recording's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The recorded ticks, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The playback control and status.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// The room as the server created it, rebuilt.
    fn setup(&self) -> RoomSetup<'_> {
        RoomSetup::of(&self.header)
    }

    /// The ticks of the recorded keyframes, ascending.
    pub fn keyframe_ticks(&self) -> impl Iterator<Item = Tick> + '_ {
        self.keyframes.iter().map(|&i| self.steps[i].record.tick)
    }

    /// Where a seek to `tick` lands: the number of steps applied at the latest keyframe at or
    /// before `tick` (0, the room's creation, when there is none).
    pub fn seek_target(&self, tick: Tick) -> usize {
        let before = self.keyframes.partition_point(|&i| self.steps[i].record.tick.0 <= tick.0);
        before.checked_sub(1).map_or(0, |k| self.keyframes[k] + 1)
    }

    /// Every player that joined the recorded room, in order.
    pub fn players(&self) -> Vec<control::RecordedPlayer> {
        let joins = self.steps.iter().flat_map(|s| &s.record.actions);
        joins
            .filter_map(|a| match a {
                Action::Join { name, outcome: JoinOutcome::Joined { entity }, .. } => {
                    Some(control::RecordedPlayer { entity: entity.0, name: name.clone() })
                }
                _ => None,
            })
            .collect()
    }

    /// The last recorded tick.
    pub fn last_tick(&self) -> Tick {
        self.steps.last().map_or(self.header.first_tick, |s| s.record.tick)
    }
}

/// Reads the recording at `path` and checks that `registry` can replay it.
pub fn load(registry: &Registry, path: &Path) -> Result<Arc<Source>, ServeError> {
    let read = |source| ServeError::Read { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(|e| read(ReadError::Io(e)))?;
    let mut reader = Reader::new(std::io::BufReader::with_capacity(1 << 16, file)).map_err(read)?;
    let header = reader.header().clone();
    if header.first_tick.0 != 0 {
        return Err(ServeError::NotFromCreation(header.first_tick.0));
    }
    let room = registry.open(&RoomSetup::of(&header))?;
    let schema = room.schema().components();
    let mut steps = Vec::new();
    for step in Steps::new(reader.by_ref(), schema) {
        match step {
            Ok(step) => steps.push(step),
            Err(StepError::Read(e)) => return Err(read(e)),
            Err(e @ StepError::Keyframe { .. }) => return Err(ServeError::Keyframe(e.to_string())),
        }
    }
    if steps.is_empty() {
        return Err(ServeError::Empty);
    }
    let keyframes = (0..steps.len()).filter(|&i| steps[i].keyframe.is_some()).collect();
    let control = Control::new(&header);
    Ok(Arc::new(Source { header, steps, keyframes, control }))
}

/// A server hosting `source` in its default room, with the `/replay` control endpoint. The
/// server's configuration is `config` with one room and no recording of its own.
pub fn server(
    registry: &Registry,
    source: &Arc<Source>,
    mut config: ServerConfig,
) -> Result<ServerBuilder, ServeError> {
    config.max_rooms = 1;
    config.record = None;
    config.default_game = None;
    config.max_rewind_ms = source.header.max_rewind_ms;
    let host = registry.host(&source.header.game)?;
    let recorded = serde_json::from_str(&source.header.config_json).map_err(ServeError::Config)?;
    let replay = ReplayConfig::new(recorded, source.clone());
    let builder = host(Server::builder(config), replay);
    Ok(builder.route("/replay", Arc::new(control::Endpoint::new(source.clone()))))
}
