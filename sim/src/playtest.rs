//! [`Playtest`]: a game played headless, as the server would host it, for tests and tools.
//!
//! It wraps a [`Simulation`] and does the server's bookkeeping in its simplest form: players
//! get session ids in join order, every input and command crosses the wire codec of the game's
//! schema (so a test sees exactly what a client's bytes would give the game: quantized values,
//! released buttons, clamped ranges), and inputs are honoured at the present view time (no lag).
//!
//! ```
//! # use tickwire_sim::{Game, InputOf, Playtest};
//! # fn demo<G: Game>(config: &G::Config, input: InputOf<G>) where InputOf<G>: Clone {
//! let mut play = Playtest::<G>::new(config, 1).expect("a valid config");
//! let alice = play.join("alice").expect("joined");
//! for _ in 0..30 {
//!     play.step(&[(alice, input.clone())]);
//! }
//! let state = play.snapshot(); // what every client would be sent
//! # let _ = state;
//! # }
//! ```

use tickwire_protocol::game::GameProtocol;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, EntityId, Snapshot};

use crate::ctx::Emitted;
use crate::game::{CommandOf, Game, InputOf, JoinRefusal, JoinRequest, LeaveReason};
use crate::input::PlayerInput;
use crate::simulation::{EventOf, HostSettings, Joined, Simulation};

/// A headless game with players (see the module docs).
pub struct Playtest<G: Game> {
    sim: Simulation<G>,
    players: Vec<(ClientId, Joined)>,
    next_client: u32,
}

impl<G: Game> std::fmt::Debug for Playtest<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Playtest")
            .field("sim", &self.sim)
            .field("players", &self.players.len())
            .finish()
    }
}

impl<G: Game> Playtest<G> {
    /// A room of game `G` from its config and a seed, with default host settings.
    pub fn new(config: &G::Config, seed: u64) -> Result<Self, G::Error> {
        Self::with(config, seed, HostSettings::default())
    }

    /// The same, with host settings.
    pub fn with(config: &G::Config, seed: u64, host: HostSettings) -> Result<Self, G::Error> {
        Ok(Self { sim: Simulation::new(config, seed, host)?, players: Vec::new(), next_client: 1 })
    }

    /// The simulation.
    pub fn sim(&self) -> &Simulation<G> {
        &self.sim
    }

    /// The simulation, mutably (to place things, or to step it with hand-made inputs).
    pub fn sim_mut(&mut self) -> &mut Simulation<G> {
        &mut self.sim
    }

    /// The game.
    pub fn game(&self) -> &G {
        self.sim.game()
    }

    /// A new player joins under `name`; returns its session id.
    pub fn join(&mut self, name: &str) -> Result<ClientId, JoinRefusal> {
        let client = ClientId(self.next_client);
        let joined = self.sim.join(&JoinRequest { player: client, name, account: None })?;
        self.next_client += 1;
        self.players.push((client, joined));
        Ok(client)
    }

    /// What `player` controls.
    pub fn joined(&self, player: ClientId) -> Option<Joined> {
        self.players.iter().find(|p| p.0 == player).map(|p| p.1)
    }

    /// The network id of what `player` controls (panics for an unknown player: a test bug).
    pub fn entity_id(&self, player: ClientId) -> EntityId {
        self.joined(player).map(|j| j.id).unwrap_or_else(|| panic!("{player:?} has not joined"))
    }

    /// The players, in join order.
    pub fn players(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.players.iter().map(|p| p.0)
    }

    /// `player` leaves (a goodbye).
    pub fn leave(&mut self, player: ClientId) {
        self.players.retain(|p| p.0 != player);
        self.sim.leave(player, LeaveReason::Left);
    }

    /// `player` sends a command (through the wire codec).
    pub fn command(&mut self, player: ClientId, command: &CommandOf<G>) {
        let schema = <G::Protocol as GameProtocol>::schema();
        let (kind, bytes) = schema.encode_command(command);
        // invariant: a payload the schema encoded decodes.
        let command = schema.decode_command(kind, &bytes).unwrap_or_else(|e| panic!("{e}"));
        self.sim.command(player, command);
    }

    /// One tick with these inputs (through the wire codec; players not listed send none, unknown
    /// ones are skipped); returns the events emitted.
    pub fn step(&mut self, inputs: &[(ClientId, InputOf<G>)]) -> Vec<Emitted<EventOf<G>>> {
        let now = self.sim.tick().next();
        let schema = <G::Protocol as GameProtocol>::schema();
        let mut frames: Vec<PlayerInput<InputOf<G>>> = inputs
            .iter()
            .filter_map(|(player, input)| {
                let joined = self.joined(*player)?;
                // invariant: a payload the schema encoded decodes.
                let input = schema
                    .decode_input(&schema.encode_input(input))
                    .unwrap_or_else(|e| panic!("{e}"));
                Some(PlayerInput {
                    player: *player,
                    entity: joined.entity,
                    input,
                    repeated: false,
                    view: ViewTime { tick: now, fraction: 0 },
                    view_corrected: false,
                })
            })
            .collect();
        frames.sort_by_key(|f| f.player);
        self.sim.step(&frames);
        self.sim.drain_events().collect()
    }

    /// The replicated state of the current tick (what clients are sent).
    pub fn snapshot(&self) -> Snapshot {
        // invariant: NetIds come from the room's allocator, so they are unique.
        self.sim.snapshot(Snapshot::default()).unwrap_or_else(|e| panic!("{e}"))
    }
}
