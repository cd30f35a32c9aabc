//! The games a server hosts: registered once with their configuration
//! ([`ServerBuilder::game`](crate::ServerBuilder::game)), and erased behind `GameFactory` so
//! that the registry, the sessions and the HTTP endpoints handle every game alike. Only the room
//! task is generic over the game type (monomorphized per game); everything around it moves
//! bytes, validated by the game's [`GameSchema`].

use std::sync::{Arc, Weak};

use serde::Serialize;
use tickwire_protocol::GameSchema;
use tickwire_protocol::game::GameProtocol;
use tickwire_sim::{Game, HostSettings, Simulation};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::{GameMetrics, Metrics};
use crate::registry::Rooms;
use crate::room::RoomHandle;
use crate::room::task::{Room, RoomSettings};

/// What the server knows of a registered game, shared by its rooms, their sessions and the
/// HTTP endpoints.
#[derive(Debug)]
pub struct GameInfo {
    /// The game's name (what a hello asks for).
    pub name: &'static str,
    /// Its protocol: components, input, events, commands.
    pub schema: &'static GameSchema,
    /// Ticks per second of its rooms.
    pub tick_rate: u16,
    /// The payload bits a repeated input releases (the game's buttons).
    pub release_mask: Vec<u8>,
    /// `/schema.json?game=NAME`: the schema's description.
    pub schema_json: String,
    /// `/rules.json?game=NAME`: the tick rate, the rewind window and the game's configuration.
    pub rules_json: String,
    /// Its labelled metrics.
    pub metrics: GameMetrics,
}

/// One game in `/games`.
#[derive(Debug, Clone, Serialize)]
pub struct GameSummary {
    /// Name.
    pub name: &'static str,
    /// Wire version.
    pub version: u32,
    /// Schema hash, 16 hex digits.
    pub hash: String,
    /// Ticks per second.
    pub tick_rate: u16,
    /// Whether it is the default game (the default room's, and `/schema.json`'s without
    /// `?game=`).
    pub default: bool,
}

/// What a room task needs from the server, beyond its game.
#[derive(Debug, Clone)]
pub(crate) struct RoomEnv {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
    pub(crate) rooms: Weak<Rooms>,
    /// `--record`: which rooms record, and where.
    pub(crate) recording: Option<crate::recording::RecordingConfig>,
}

/// A registered game, with its type erased.
pub(crate) trait GameFactory: Send + Sync + std::fmt::Debug {
    /// What the server knows of it.
    fn info(&self) -> &Arc<GameInfo>;
    /// Opens a room of this game: builds its simulation and spawns its task.
    fn open_room(
        &self,
        name: Arc<str>,
        settings: RoomSettings,
        env: &RoomEnv,
    ) -> anyhow::Result<RoomHandle>;
}

/// A game type with its configuration.
pub(crate) struct Registered<G: Game> {
    info: Arc<GameInfo>,
    config: G::Config,
    seed: u64,
    host: HostSettings,
}

impl GameInfo {
    /// Describes game `G` with `config` as a server hosts it: checks its declarations and its
    /// configuration (by building a room's simulation once) and resolves its metrics.
    pub fn new<G: Game>(
        config: &G::Config,
        seed: u64,
        host: HostSettings,
        metrics: &Metrics,
    ) -> anyhow::Result<Arc<GameInfo>> {
        use anyhow::Context as _;
        let name = <G::Protocol as GameProtocol>::NAME;
        // Checked here, with the error, before the cached schema (which panics on an error).
        GameSchema::of::<G::Protocol>()
            .with_context(|| format!("game `{name}`: invalid protocol declarations"))?;
        let schema: &'static GameSchema = <G::Protocol as GameProtocol>::schema();
        if let Some(grid) = G::interest(config) {
            grid.validate().with_context(|| format!("game `{name}`: invalid configuration"))?;
        }
        let sim = Simulation::<G>::new(config, seed, host)
            .with_context(|| format!("game `{name}`: invalid configuration"))?;
        let tick_rate = sim.tick_rate();
        let release_mask = schema.input().momentary_mask().unwrap_or_default();
        let schema_json = serde_json::to_string(&schema.describe())?;
        let rules_json = serde_json::to_string(&serde_json::json!({
            "game": name,
            "tick_rate": tick_rate,
            "max_rewind_ms": host.max_rewind_ms,
            "config": config,
        }))?;
        Ok(Arc::new(GameInfo {
            name,
            schema,
            tick_rate,
            release_mask,
            schema_json,
            rules_json,
            metrics: metrics.game(name),
        }))
    }
}

impl<G: Game> std::fmt::Debug for Registered<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered").field("game", &self.info.name).finish_non_exhaustive()
    }
}

impl<G: Game> Registered<G> {
    /// Validates `config` and describes the game ([`GameInfo::new`]).
    pub(crate) fn new(
        config: G::Config,
        seed: u64,
        host: HostSettings,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let info = GameInfo::new::<G>(&config, seed, host, metrics)?;
        Ok(Self { info, config, seed, host })
    }
}

impl<G: Game> Registered<G> {
    /// The header of a recording of room `name`, whose simulation is `sim`.
    fn header(
        &self,
        name: &str,
        sim: &Simulation<G>,
        keyframe_interval: u32,
    ) -> tickwire_recording::format::Header {
        let started_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        tickwire_recording::format::Header {
            game: self.info.name.to_owned(),
            game_version: self.info.schema.version(),
            schema_hash: self.info.schema.hash(),
            // invariant: a config that serialized for `/rules.json` serializes again.
            config_json: serde_json::to_string(&self.config).unwrap_or_default(),
            room: name.to_owned(),
            seed: room_seed(self.seed, name),
            tick_rate: sim.tick_rate(),
            max_rewind_ms: self.host.max_rewind_ms,
            first_tick: sim.tick(),
            keyframe_interval,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_unix_ms,
        }
    }
}

impl<G: Game> GameFactory for Registered<G> {
    fn info(&self) -> &Arc<GameInfo> {
        &self.info
    }

    fn open_room(
        &self,
        name: Arc<str>,
        settings: RoomSettings,
        env: &RoomEnv,
    ) -> anyhow::Result<RoomHandle> {
        let sim = Simulation::<G>::new(&self.config, room_seed(self.seed, &name), self.host)
            .map_err(|e| anyhow::anyhow!("game `{}`: {e}", self.info.name))?;
        let (handle, rx) = RoomHandle::new(name.clone(), self.info.clone());
        let recorder = env.recording.as_ref().filter(|r| r.selects(&name)).map(|r| {
            let header = self.header(&name, &sim, r.keyframe_interval);
            crate::recording::Recorder::start(r, header, env.metrics.clone())
        });
        let mut room = Room::new(
            name,
            sim,
            self.info.clone(),
            settings,
            env.metrics.clone(),
            handle.info_arc(),
        );
        if let Some(recorder) = recorder {
            room.record(recorder);
        }
        env.tracker.spawn(room.run(rx, env.shutdown.clone(), env.rooms.clone()));
        self.info.metrics.rooms.inc();
        Ok(handle)
    }
}

/// The seed of room `name`'s simulation: the server's seed with the room's name mixed in, so
/// that rooms differ from each other and each is reproducible.
pub fn room_seed(seed: u64, name: &str) -> u64 {
    seed ^ tickwire_protocol::schema::fnv1a64(name.as_bytes())
}

/// The games of a server: at least one; the first registered is the default unless named.
#[derive(Debug)]
pub(crate) struct Games {
    games: Vec<Arc<dyn GameFactory>>,
    default: usize,
}

impl Games {
    pub(crate) fn new(
        games: Vec<Arc<dyn GameFactory>>,
        default: Option<&str>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !games.is_empty(),
            "a server hosts at least one game: register one with ServerBuilder::game"
        );
        for (i, g) in games.iter().enumerate() {
            let name = g.info().name;
            anyhow::ensure!(
                !games[..i].iter().any(|o| o.info().name == name),
                "game `{name}` is registered twice"
            );
        }
        let default = match default {
            None => 0,
            Some(name) => games.iter().position(|g| g.info().name == name).ok_or_else(|| {
                let known: Vec<&str> = games.iter().map(|g| g.info().name).collect();
                anyhow::anyhow!(
                    "default game `{name}` is not registered (games: {})",
                    known.join(", ")
                )
            })?,
        };
        Ok(Self { games, default })
    }

    /// The game called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn GameFactory>> {
        self.games.iter().find(|g| g.info().name == name)
    }

    /// The default game.
    pub(crate) fn default_game(&self) -> &Arc<dyn GameFactory> {
        &self.games[self.default]
    }

    /// Every game, for `/games`.
    pub(crate) fn summaries(&self) -> Vec<GameSummary> {
        self.games
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let info = g.info();
                GameSummary {
                    name: info.name,
                    version: info.schema.version(),
                    hash: format!("{:016x}", info.schema.hash()),
                    tick_rate: info.tick_rate,
                    default: i == self.default,
                }
            })
            .collect()
    }
}
