//! A harness driving the arena through the generic [`Simulation`], as the server's room does:
//! players join with a session id, inputs carry the view time the server honours.

#![allow(dead_code, unreachable_pub)]

use glam::Vec2;
use tickwire_arena::{Arena, ArenaConfig, ArenaEvent, ArenaInput, ArenaProtocol, PlayerView};
use tickwire_protocol::GameProtocol;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{ClientId, EntityId, Snapshot, Tick};
use tickwire_sim::{HostSettings, JoinRequest, LeaveReason, PlayerInput, Rewind, Simulation};

/// The seed the tests run with.
pub const SEED: u64 = 0x7ac4_1e5e_ed00_0001;

/// What one step produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    pub events: Vec<ArenaEvent>,
    pub rewinds: Vec<Rewind>,
}

/// One player's input for a step, with the view time the server honours (`None`: the present).
#[derive(Debug, Clone, Copy)]
pub struct Cmd {
    pub player: EntityId,
    pub input: ArenaInput,
    pub view: Option<ViewTime>,
}

/// An input for `player`: moving along x by `move_x`, aiming at `aim` radians, maybe firing.
pub fn cmd(player: EntityId, move_x: i8, aim: f32, fire: bool) -> Cmd {
    let input = ArenaInput { move_x, aim, ..ArenaInput::IDLE }.firing(fire);
    Cmd { player, input, view: None }
}

pub struct Harness {
    pub sim: Simulation<Arena>,
    players: Vec<(ClientId, EntityId, hecs::Entity)>,
    next_client: u32,
}

impl Harness {
    pub fn new(config: &ArenaConfig) -> Self {
        Self::with(config, SEED, HostSettings::default())
    }

    pub fn with(config: &ArenaConfig, seed: u64, host: HostSettings) -> Self {
        let sim = Simulation::new(config, seed, host).expect("valid config");
        Self { sim, players: Vec::new(), next_client: 1 }
    }

    pub fn tick(&self) -> Tick {
        self.sim.tick()
    }

    pub fn arena(&self) -> &Arena {
        self.sim.game()
    }

    pub fn join(&mut self, name: &str) -> EntityId {
        let client = ClientId(self.next_client);
        self.next_client += 1;
        let joined = self
            .sim
            .join(&JoinRequest { player: client, name, account: None })
            .expect("the arena takes every player");
        self.players.push((client, joined.id, joined.entity));
        joined.id
    }

    pub fn leave(&mut self, id: EntityId) {
        let i = self.players.iter().position(|p| p.1 == id).expect("a player");
        let (client, ..) = self.players.remove(i);
        self.sim.leave(client, LeaveReason::Left);
    }

    pub fn player_ids(&self) -> Vec<EntityId> {
        self.players.iter().map(|p| p.1).collect()
    }

    pub fn place(&mut self, id: EntityId, pos: Vec2) -> bool {
        let (arena, world) = self.sim.parts_mut();
        arena.place_player(world, id, pos)
    }

    pub fn player(&self, id: EntityId) -> PlayerView {
        self.sim.game().player(self.sim.world(), id).expect("a player")
    }

    pub fn snapshot(&self) -> Snapshot {
        self.sim.snapshot(Snapshot::default()).expect("unique ids")
    }

    /// One step with these inputs (unknown players are skipped).
    pub fn step(&mut self, cmds: &[Cmd]) -> Step {
        let now = self.sim.tick().next();
        let mut inputs: Vec<PlayerInput<ArenaInput>> = cmds
            .iter()
            .filter_map(|c| {
                let &(player, _, entity) = self.players.iter().find(|p| p.1 == c.player)?;
                // What the server simulates: the input as it crossed the wire.
                let schema = ArenaProtocol::schema();
                let input = schema.decode_input(&schema.encode_input(&c.input)).expect("valid");
                Some(PlayerInput {
                    player,
                    entity,
                    input,
                    repeated: false,
                    view: c.view.unwrap_or(ViewTime { tick: now, fraction: 0 }),
                    view_corrected: false,
                })
            })
            .collect();
        inputs.sort_by_key(|i| i.player);
        self.sim.step(&inputs);
        Step {
            events: self.sim.drain_events().map(|e| e.event).collect(),
            rewinds: self.sim.drain_rewinds().collect(),
        }
    }
}
