//! Re-simulation: a recorded room rebuilt from its header (game, config, seed, host settings)
//! and driven with exactly what its [`Simulation`] consumed, tick by tick.
//!
//! The server's room calls a [`Simulation`] in this order (`server/src/room/task.rs`): between
//! ticks, joins, resumes, detaches and leaves as they arrive; then per tick, expired leaves,
//! each member's commands (member order), each attached member's input after the input policy
//! (decoded with the game's schema, its entity the one it joined with), and the step. A
//! recording keeps those calls as bytes, in that order; [`ReplayRoom`] takes them back as bytes
//! and makes the same calls, so the replayed world is the recorded one as long as the game is
//! deterministic (see `docs/determinism.md`).
//!
//! [`Registry`] maps a recorded game name to a constructor, like the server's
//! `ServerBuilder::game::<G>`: [`Registry::builtin`] knows arena, kart and tag, and
//! [`Registry::register`] adds a host's own games.
//!
//! [`verify`] re-simulates a recording's records and finds the first divergent tick, [`diff`]
//! compares a recorded snapshot with a replayed one field by field, and [`json`] turns
//! snapshots and events into JSON (for the `tickwire-replay` binary's `inspect` and `export`).

use std::collections::BTreeMap;

use tickwire_protocol::game::{GameProtocol, GameSchema};
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, PayloadError, Snapshot, SnapshotError, Tick};
use tickwire_sim::{
    Audience, Game, InputOf, JoinRefusal, JoinRequest, LeaveReason, PlayerInput, Simulation,
};

use crate::format::{Header, Input, JoinOutcome};

pub use tickwire_sim::HostSettings;

pub mod diff;
pub mod json;
pub mod verify;

/// Why a recording cannot be re-simulated (a divergence is not an error: it is found by
/// comparing checksums).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResimError {
    /// The recording names a game this registry does not know.
    #[error("unknown game `{name}` (known: {known})")]
    UnknownGame {
        /// The recorded name.
        name: String,
        /// The registry's names, comma-separated.
        known: String,
    },
    /// The recorded schema differs from the one this build has for the game.
    #[error(
        "game `{game}`: recorded with schema version {recorded_version} hash {recorded_hash:016x}, this build has version {version} hash {hash:016x}"
    )]
    SchemaMismatch {
        /// The game.
        game: &'static str,
        /// The recorded version.
        recorded_version: u32,
        /// The recorded hash.
        recorded_hash: u64,
        /// This build's version.
        version: u32,
        /// This build's hash.
        hash: u64,
    },
    /// The recorded config is not valid JSON for the game's config type.
    #[error("game `{game}`: the recorded config does not parse: {source}")]
    Config {
        /// The game.
        game: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The game refused the recorded config.
    #[error("game `{game}`: the recorded config is refused: {message}")]
    Create {
        /// The game.
        game: &'static str,
        /// The game's error, displayed.
        message: String,
    },
    /// A recorded input or command payload does not decode with the game's schema.
    #[error("tick {tick}: {what} of client {client}: {source}")]
    Payload {
        /// The tick being replayed.
        tick: u32,
        /// Whose.
        client: ClientId,
        /// `input` or `command`.
        what: &'static str,
        /// The decoder's error.
        source: PayloadError,
    },
    /// A recorded input names a client that has not joined (or has left).
    #[error("tick {tick}: an input of client {client}, who is not in the room")]
    UnknownPlayer {
        /// The tick being replayed.
        tick: u32,
        /// The client.
        client: ClientId,
    },
    /// The game wrote a bad snapshot.
    #[error("tick {tick}: the game wrote a bad snapshot: {source}")]
    Snapshot {
        /// The tick.
        tick: u32,
        /// The builder's error.
        source: SnapshotError,
    },
}

/// One input as a step consumed it (after the server's input policy), as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedInput<'a> {
    /// The player.
    pub client: ClientId,
    /// The game's input payload (the wire encoding).
    pub payload: &'a [u8],
    /// Whether the policy repeated the last input because this tick's was missing.
    pub repeated: bool,
    /// The view time the server honoured.
    pub view: ViewTime,
    /// Whether the honoured view differs from the client's claim.
    pub view_corrected: bool,
}

impl<'a> From<&'a Input> for RecordedInput<'a> {
    fn from(i: &'a Input) -> Self {
        Self {
            client: i.client,
            payload: &i.payload,
            repeated: i.repeated,
            view: i.view,
            view_corrected: i.view_corrected,
        }
    }
}

/// A game event the replay emitted, encoded as the server encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedEvent {
    /// The tick current when it was emitted (the step's tick for a step's events).
    pub tick: Tick,
    /// Who the server sent it to.
    pub audience: Audience,
    /// The event's kind (variant index in the schema).
    pub kind: u16,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// A recorded room being re-simulated, its game erased: every call takes bytes, as recorded.
/// Built by [`Registry::open`].
pub trait ReplayRoom: Send {
    /// The game's schema.
    fn schema(&self) -> &'static GameSchema;
    /// The tick of the current state.
    fn tick(&self) -> Tick;
    /// Ticks per second.
    fn tick_rate(&self) -> u16;
    /// Number of entities in the world (replicated or not).
    fn entity_count(&self) -> usize;
    /// A player joins (see [`Simulation::join`]).
    fn join(&mut self, client: ClientId, name: &str, account: Option<&str>) -> JoinOutcome;
    /// A player's connection dropped (see [`Simulation::detach`]).
    fn detach(&mut self, client: ClientId);
    /// A detached player is back (see [`Simulation::resume`]).
    fn resume(&mut self, client: ClientId);
    /// A player is gone (see [`Simulation::leave`]).
    fn leave(&mut self, client: ClientId, reason: LeaveReason);
    /// A player's command, as its kind and payload (see [`Simulation::command`]).
    fn command(&mut self, client: ClientId, kind: u16, payload: &[u8]) -> Result<(), ResimError>;
    /// One step with the inputs the recorded step consumed (any order: they are sorted by
    /// client, as the room's members are).
    fn step(&mut self, inputs: &[RecordedInput<'_>]) -> Result<(), ResimError>;
    /// The replicated state of the current tick, as the server builds it.
    fn snapshot(&self) -> Result<Snapshot, ResimError>;
    /// The game events emitted since the last call, oldest first, encoded.
    fn drain_events(&mut self) -> Vec<ReplayedEvent>;
}

/// A [`ReplayRoom`] of game `G` (typed: `serve` reads its world and events directly).
pub(crate) struct Typed<G: Game> {
    pub(crate) sim: Simulation<G>,
    schema: &'static GameSchema,
    inputs: Vec<PlayerInput<InputOf<G>>>,
}

impl<G: Game> ReplayRoom for Typed<G> {
    fn schema(&self) -> &'static GameSchema {
        self.schema
    }

    fn tick(&self) -> Tick {
        self.sim.tick()
    }

    fn tick_rate(&self) -> u16 {
        self.sim.tick_rate()
    }

    fn entity_count(&self) -> usize {
        self.sim.entity_count()
    }

    fn join(&mut self, client: ClientId, name: &str, account: Option<&str>) -> JoinOutcome {
        match self.sim.join(&JoinRequest { player: client, name, account }) {
            Ok(joined) => JoinOutcome::Joined { entity: joined.id },
            Err(JoinRefusal::Full) => JoinOutcome::Full,
            Err(JoinRefusal::Refused { code }) => JoinOutcome::Refused { code },
        }
    }

    fn detach(&mut self, client: ClientId) {
        self.sim.detach(client);
    }

    fn resume(&mut self, client: ClientId) {
        self.sim.resume(client);
    }

    fn leave(&mut self, client: ClientId, reason: LeaveReason) {
        self.sim.leave(client, reason);
    }

    fn command(&mut self, client: ClientId, kind: u16, payload: &[u8]) -> Result<(), ResimError> {
        let command = self.schema.decode_command(kind, payload).map_err(|source| {
            ResimError::Payload { tick: self.sim.tick().0, client, what: "command", source }
        })?;
        self.sim.command(client, command);
        Ok(())
    }

    fn step(&mut self, inputs: &[RecordedInput<'_>]) -> Result<(), ResimError> {
        let tick = self.sim.tick().next().0;
        self.inputs.clear();
        for i in inputs {
            let player = self
                .sim
                .player(i.client)
                .ok_or(ResimError::UnknownPlayer { tick, client: i.client })?;
            let input = self.schema.decode_input(i.payload).map_err(|source| {
                ResimError::Payload { tick, client: i.client, what: "input", source }
            })?;
            self.inputs.push(PlayerInput {
                player: i.client,
                entity: player.entity,
                input,
                repeated: i.repeated,
                view: i.view,
                view_corrected: i.view_corrected,
            });
        }
        self.inputs.sort_by_key(|i| i.player);
        self.sim.step(&self.inputs);
        Ok(())
    }

    fn snapshot(&self) -> Result<Snapshot, ResimError> {
        self.sim
            .snapshot(Snapshot::default())
            .map_err(|source| ResimError::Snapshot { tick: self.sim.tick().0, source })
    }

    fn drain_events(&mut self) -> Vec<ReplayedEvent> {
        let tick = self.sim.tick();
        let schema = self.schema;
        self.sim
            .drain_events()
            .map(|e| {
                let (kind, payload) = schema.encode_event(&e.event);
                ReplayedEvent { tick, audience: e.audience, kind, payload }
            })
            .collect()
    }
}

/// What a recording's header says about its room, enough to rebuild it.
#[derive(Debug, Clone, Copy)]
pub struct RoomSetup<'a> {
    /// The game's name.
    pub game: &'a str,
    /// The game's wire version, as recorded.
    pub version: u32,
    /// The game's schema hash, as recorded.
    pub schema_hash: u64,
    /// The game's config, as JSON.
    pub config: &'a str,
    /// The room's seed (the server's seed with the room's name mixed in).
    pub seed: u64,
    /// The server's settings for every game's rooms.
    pub host: HostSettings,
}

impl<'a> RoomSetup<'a> {
    /// The setup a recording's header describes.
    pub fn of(header: &'a Header) -> Self {
        Self {
            game: &header.game,
            version: header.game_version,
            schema_hash: header.schema_hash,
            config: &header.config_json,
            seed: header.seed,
            host: HostSettings { max_rewind_ms: header.max_rewind_ms },
        }
    }
}

type Open = fn(&RoomSetup<'_>) -> Result<Box<dyn ReplayRoom>, ResimError>;

/// What the registry keeps of one game: how to rebuild its room, and how to host its replay.
#[derive(Debug, Clone, Copy)]
struct Entry {
    open: Open,
    serve: crate::serve::Host,
}

/// The games a replayer can rebuild, by name (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    games: BTreeMap<&'static str, Entry>,
}

impl Registry {
    /// No games.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in games: arena, kart and tag.
    pub fn builtin() -> Self {
        let mut r = Self::empty();
        r.register::<tickwire_arena::Arena>()
            .register::<tickwire_kart::Race>()
            .register::<tickwire_tag::Tag>();
        r
    }

    /// Adds game `G` under its protocol's name (replacing one of the same name).
    pub fn register<G: Game>(&mut self) -> &mut Self {
        let entry = Entry { open: open::<G>, serve: crate::serve::host::<G> };
        self.games.insert(<G::Protocol as GameProtocol>::NAME, entry);
        self
    }

    /// The names of the registered games, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.games.keys().copied()
    }

    /// Rebuilds the recorded room at tick 0, as the server created it.
    pub fn open(&self, setup: &RoomSetup<'_>) -> Result<Box<dyn ReplayRoom>, ResimError> {
        (self.entry(setup.game)?.open)(setup)
    }

    /// How to host a replay of the recorded game (`serve`).
    pub(crate) fn host(&self, game: &str) -> Result<crate::serve::Host, ResimError> {
        Ok(self.entry(game)?.serve)
    }

    fn entry(&self, game: &str) -> Result<&Entry, ResimError> {
        self.games.get(game).ok_or_else(|| ResimError::UnknownGame {
            name: game.to_owned(),
            known: self.names().collect::<Vec<_>>().join(", "),
        })
    }
}

fn open<G: Game>(setup: &RoomSetup<'_>) -> Result<Box<dyn ReplayRoom>, ResimError> {
    Ok(Box::new(typed::<G>(setup)?))
}

/// Rebuilds the recorded room of game `G` at tick 0.
pub(crate) fn typed<G: Game>(setup: &RoomSetup<'_>) -> Result<Typed<G>, ResimError> {
    let game = <G::Protocol as GameProtocol>::NAME;
    let schema = <G::Protocol as GameProtocol>::schema();
    if schema.version() != setup.version || schema.hash() != setup.schema_hash {
        return Err(ResimError::SchemaMismatch {
            game,
            recorded_version: setup.version,
            recorded_hash: setup.schema_hash,
            version: schema.version(),
            hash: schema.hash(),
        });
    }
    let config: G::Config =
        serde_json::from_str(setup.config).map_err(|source| ResimError::Config { game, source })?;
    let sim = Simulation::<G>::new(&config, setup.seed, setup.host)
        .map_err(|e| ResimError::Create { game, message: e.to_string() })?;
    Ok(Typed::<G> { sim, schema, inputs: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::message::ViewTime;
    use tickwire_sim::Playtest;
    use tickwire_tag::{Run, Tag, TagConfig};

    fn setup(config: &str) -> RoomSetup<'_> {
        let schema = <<Tag as Game>::Protocol as GameProtocol>::schema();
        RoomSetup {
            game: "tag",
            version: schema.version(),
            schema_hash: schema.hash(),
            config,
            seed: 7,
            host: HostSettings::default(),
        }
    }

    #[test]
    fn replaying_a_playtests_calls_gives_its_snapshots() {
        let config = serde_json::to_string(&TagConfig::default()).expect("json");
        let mut play = Playtest::<Tag>::new(&TagConfig::default(), 7).expect("config");
        let mut room = Registry::builtin().open(&setup(&config)).expect("opens");
        let schema = room.schema();
        let a = play.join("a").expect("joins");
        let b = play.join("b").expect("joins");
        assert_eq!(room.join(a, "a", None), JoinOutcome::Joined { entity: play.entity_id(a) });
        assert_eq!(room.join(b, "b", None), JoinOutcome::Joined { entity: play.entity_id(b) });
        for t in 0..90u32 {
            let run = |k: u32| Run { x: ((t * k) % 3) as i8 - 1, y: (t % 2) as i8 };
            let inputs = [(b, run(3)), (a, run(1))];
            play.step(&inputs);
            let now = room.tick().next();
            let bytes: Vec<(ClientId, Vec<u8>)> =
                inputs.iter().map(|(c, i)| (*c, schema.encode_input(i))).collect();
            let recorded: Vec<RecordedInput<'_>> = bytes
                .iter()
                .map(|(client, payload)| RecordedInput {
                    client: *client,
                    payload,
                    repeated: false,
                    view: ViewTime { tick: now, fraction: 0 },
                    view_corrected: false,
                })
                .collect();
            room.step(&recorded).expect("steps");
            assert_eq!(room.snapshot().expect("snapshot"), play.snapshot(), "tick {now:?}");
        }
        play.leave(a);
        room.leave(a, LeaveReason::Left);
        assert_eq!(room.snapshot().expect("snapshot"), play.snapshot());
    }

    #[test]
    fn refuses_an_unknown_game_a_foreign_schema_and_a_bad_config() {
        let reg = Registry::builtin();
        let unknown = RoomSetup { game: "chess", ..setup("{}") };
        let err = reg.open(&unknown).err().expect("refused");
        assert!(
            matches!(&err, ResimError::UnknownGame { known, .. } if known == "arena, kart, tag")
        );
        let foreign = RoomSetup { schema_hash: 1, ..setup("{}") };
        assert!(matches!(reg.open(&foreign), Err(ResimError::SchemaMismatch { .. })));
        assert!(matches!(reg.open(&setup("\"a string\"")), Err(ResimError::Config { .. })));
    }

    #[test]
    fn an_input_for_a_stranger_or_a_bad_payload_is_an_error() {
        let mut room = Registry::builtin().open(&setup("{}")).expect("opens");
        let view = ViewTime { tick: Tick(1), fraction: 0 };
        let stranger = RecordedInput {
            client: ClientId(9),
            payload: &[],
            repeated: false,
            view,
            view_corrected: false,
        };
        assert!(matches!(
            room.step(&[stranger]),
            Err(ResimError::UnknownPlayer { tick: 1, client: ClientId(9) })
        ));
        assert!(matches!(room.join(ClientId(9), "x", None), JoinOutcome::Joined { .. }));
        assert!(matches!(room.step(&[stranger]), Err(ResimError::Payload { what: "input", .. })));
    }
}
