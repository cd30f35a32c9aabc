//! The core against an in-memory server: the real arena simulation, input buffer and snapshot
//! codec, with injected time and a fixed one-way latency. No sockets, no sleeping.

use std::collections::VecDeque;

use glam::Vec2;
use std::collections::BTreeMap;
use tickwire_arena::{Arena, ArenaConfig, ArenaInput, ArenaProtocol, PLAYER, schema};
use tickwire_protocol::codec::{decode_client, encode_server};

use tickwire_protocol::message::{ChunkKey, RejectReason};
use tickwire_protocol::snapshot::chunk_delta;
use tickwire_protocol::{GameProtocol, PROTOCOL_VERSION, SnapshotBuilder, SnapshotEncoder};
use tickwire_sim::input::DEFAULT_CAPACITY;
use tickwire_sim::{HostSettings, InputBuffer, JoinRequest, PlayerInput, PushOutcome, Simulation};

use super::*;
use crate::config::ClientConfig;
use crate::link::{LinkConditioner, LinkConfig};

type Arenas = ClientState<ArenaProtocol>;

fn hello(room: &str) -> Hello {
    ClientConfig::<ArenaProtocol>::new("ws://127.0.0.1/ws", room, "me").hello()
}

fn state(room: &str, tuning: Tuning, now: Duration) -> Result<Arenas, ClientError> {
    ClientState::new(hello(room), ArenaProtocol::schema(), Default::default(), tuning, now)
}

const MS: Duration = Duration::from_millis(1);

/// A one-room server with one player, stepping at 30 Hz on injected time.
struct Harness {
    sim: Simulation<Arena>,
    inputs: InputBuffer,
    encoder: SnapshotEncoder,
    me: EntityId,
    entity: hecs::Entity,
    client: Arenas,
    now: Duration,
    tick: Duration,
    next_server_tick: Duration,
    next_client_tick: Duration,
    latency: Duration,
    /// Replaces the fixed latency when set: latency ± jitter each way, order kept.
    link: Option<LinkConditioner>,
    to_client: VecDeque<(Duration, Vec<u8>)>,
    to_server: VecDeque<(Duration, Vec<u8>)>,
    sent: Option<Snapshot>,
    joined: bool,
    late_inputs: usize,
    early_inputs: Vec<i32>,
    /// The game loop is stalled: the client sends no input (the network goes on).
    stalled: bool,
    /// The newest snapshot tick the client had when each input frame was sent, and the
    /// frame's tick.
    stamped: Vec<(Option<Tick>, Tick)>,
    /// Extra delay for what the client sends meanwhile (what was sent before is not overtaken).
    uplink_stall: Duration,
    /// Views as chunks (`PROTOCOL.md` §6.10): when set, the server sends its world cut into
    /// chunks (cells 150 units wide), and this is what the client holds.
    chunks: Option<Vec<(ChunkKey, Snapshot)>>,
}

impl Harness {
    fn new(latency: Duration) -> Self {
        let mut config = ArenaConfig::default();
        config.npcs.count = 20;
        let mut sim = Simulation::<Arena>::new(&config, 1, HostSettings::default()).expect("valid");
        let who = JoinRequest { player: ClientId(1), name: "me", account: None };
        let joined = sim.join(&who).expect("joins");
        let (arena, world) = sim.parts_mut();
        assert!(arena.place_player(world, joined.id, Vec2::new(100.0, 60.0)), "a free spot");
        let now = Duration::from_secs(5);
        let client = state("lobby", Tuning::default(), now).expect("valid hello");
        let tick = Duration::from_secs(1) / 30;
        let release = ArenaProtocol::schema().input().momentary_mask().unwrap_or_default();
        Self {
            sim,
            inputs: InputBuffer::new(DEFAULT_CAPACITY, release),
            encoder: SnapshotEncoder::new(),
            me: joined.id,
            entity: joined.entity,
            client,
            now,
            tick,
            next_server_tick: now + tick,
            // The client's tick timer has its own phase.
            next_client_tick: now + MS * 7,
            latency,
            link: None,
            to_client: VecDeque::new(),
            to_server: VecDeque::new(),
            sent: None,
            joined: false,
            late_inputs: 0,
            early_inputs: Vec::new(),
            stalled: false,
            stamped: Vec::new(),
            uplink_stall: Duration::ZERO,
            chunks: None,
        }
    }

    fn with_link(latency: Duration, jitter: Duration) -> Self {
        let mut h = Self::new(latency);
        h.link = Some(LinkConditioner::new(LinkConfig { latency, jitter, seed: 3 }));
        h
    }

    fn send_to_client(&mut self, msg: &ServerMessage) {
        let due = match &mut self.link {
            Some(l) => l.incoming(self.now),
            None => self.now + self.latency,
        };
        self.to_client.push_back((due, encode_server(msg)));
    }

    fn server_receives(&mut self, bytes: &[u8]) {
        match decode_client(bytes).expect("client messages decode") {
            ClientMessage::Hello(h) => {
                assert_eq!(
                    (h.game.as_str(), h.schema_hash),
                    ("arena", ArenaProtocol::schema().hash())
                );
                let welcome = Welcome {
                    client_id: ClientId(1),
                    entity: self.me,
                    tick_rate: 30,
                    server_tick: self.sim.tick(),
                    room: h.room,
                    max_rewind_ms: 250,
                    resumed: h.resume.is_some(),
                    resume_secret: [9; 16],
                    resume_grace_ms: 30_000,
                };
                self.send_to_client(&ServerMessage::Welcome(welcome));
                self.joined = true;
            }
            ClientMessage::Input(frame) => {
                let next = self.sim.tick().next();
                self.early_inputs.push(frame.tick.diff(next));
                if self.inputs.push(&frame, next) == PushOutcome::Late {
                    self.late_inputs += 1;
                }
            }
            ClientMessage::Ping(p) => {
                let pong = Pong { id: p.id, echo_us: p.sent_us, held_us: 0 };
                self.send_to_client(&ServerMessage::Pong(pong));
            }
            _ => {}
        }
    }

    fn server_tick(&mut self) {
        let next = self.sim.tick().next();
        let inputs: Vec<_> = self
            .inputs
            .take(next)
            .map(|taken| PlayerInput {
                player: ClientId(1),
                entity: self.entity,
                input: ArenaProtocol::schema().decode_input(taken.input.payload()).expect("valid"),
                repeated: taken.repeated,
                view: taken.input.view,
                view_corrected: false,
            })
            .into_iter()
            .collect();
        self.sim.step(&inputs);
        if !self.joined {
            return;
        }
        let snap = self.sim.snapshot(Snapshot::default()).expect("unique ids");
        if let Some(held) = self.chunks.take() {
            let view = cut_into_chunks(&snap);
            let from: Vec<_> = held.iter().map(|(k, s)| (*k, s)).collect();
            let to: Vec<_> = view.iter().map(|(k, s)| (*k, s)).collect();
            let (dropped, chunks) = chunk_delta(&mut self.encoder, schema(), &from, &to);
            let baseline = self.sent.as_ref().map(Snapshot::tick);
            let last_input = self.inputs.last_consumed();
            let msg = ChunksMessage { tick: snap.tick(), baseline, last_input, dropped, chunks };
            self.send_to_client(&ServerMessage::Chunks(msg));
            self.chunks = Some(view);
            self.sent = Some(snap);
            return;
        }
        let payload = self.encoder.encode(schema(), self.sent.as_ref(), &snap);
        let msg = SnapshotMessage {
            tick: snap.tick(),
            baseline: self.sent.as_ref().map(Snapshot::tick),
            last_input: self.inputs.last_consumed(),
            payload,
        };
        self.send_to_client(&ServerMessage::Snapshot(msg));
        self.sent = Some(snap);
    }

    /// Runs until the client has the last snapshot the server sent (on its way for at most the
    /// latency, well under a tick), and returns it.
    fn caught_up(&mut self) -> Snapshot {
        let server = self.sent.clone().expect("sent");
        for _ in 0..100 {
            if self.client.latest_snapshot().map(Snapshot::tick) == Some(server.tick()) {
                break;
            }
            self.run(MS, ArenaInput::IDLE);
        }
        server
    }

    /// The connection drops, with what was in flight, and the client starts a new one
    /// (resuming).
    fn new_connection(&mut self) {
        self.client.transport_ended(EndReason::ConnectionLost);
        self.to_client.clear();
        self.to_server.clear();
        self.joined = false;
        self.client.restart(self.now, true);
    }

    fn player_pos(&self) -> Vec2 {
        self.sim.game().player(self.sim.world(), self.me).expect("player").pos
    }

    /// Runs for `d` in 1 ms steps with the client holding `input`.
    fn run(&mut self, d: Duration, input: ArenaInput) {
        let end = self.now + d;
        while self.now < end {
            self.now += MS;
            while self.to_server.front().is_some_and(|(t, _)| *t <= self.now) {
                let (_, bytes) = self.to_server.pop_front().expect("front exists");
                self.server_receives(&bytes);
            }
            if self.now >= self.next_server_tick {
                self.next_server_tick += self.tick;
                self.server_tick();
            }
            while self.to_client.front().is_some_and(|(t, _)| *t <= self.now) {
                let (_, bytes) = self.to_client.pop_front().expect("front exists");
                self.client.handle_bytes(self.now, &bytes).expect("valid server messages");
            }
            if self.now >= self.next_client_tick {
                self.next_client_tick += self.tick;
                if !self.stalled {
                    let had = self.client.latest_snapshot().map(Snapshot::tick);
                    self.client.send_input(self.now, &input);
                    let sent = self.client.last_input_sent();
                    self.stamped.extend(sent.map(|t| (had, t)));
                }
            }
            self.client.handle_timeout(self.now);
            while let Some(bytes) = self.client.poll_transmit(self.now) {
                let due = match &mut self.link {
                    Some(l) => l.outgoing(self.now),
                    None => self.now + self.latency,
                } + self.uplink_stall;
                let due = self.to_server.back().map_or(due, |&(last, _)| due.max(last));
                self.to_server.push_back((due, bytes));
            }
        }
    }
}

#[test]
fn inputs_arrive_just_in_time_and_prediction_is_exact() {
    let mut h = Harness::new(MS * 40);
    let right = ArenaInput::toward(Vec2::X);
    h.run(Duration::from_millis(2500), right);
    assert!(h.client.is_playing());
    let stats = h.client.stats();
    assert!(stats.snapshots > 60, "{stats:?}");
    assert_eq!(h.late_inputs, 0, "no input arrived after its tick was simulated");
    // Inputs arrive a little ahead of their tick: the margin, not a pile-up.
    let steady = &h.early_inputs[h.early_inputs.len() / 2..];
    assert!(steady.iter().all(|&a| (0..=3).contains(&a)), "ticks ahead at arrival: {steady:?}");
    assert_eq!(stats.inputs_late, 0);
    assert!(stats.prediction_checks > 50, "{stats:?}");
    assert_eq!(stats.mispredictions, 0, "{stats:?}");
    assert_eq!(stats.decode_errors, 0);
    // The prediction is ahead of the server by exactly the pending inputs.
    let server_pos = h.player_pos();
    let predicted = h.client.predicted().expect("predicted").pos;
    assert!(predicted.x > server_pos.x, "{predicted} vs {server_pos}");
    // Stop: after a round trip the prediction and the server agree exactly.
    h.run(Duration::from_millis(300), ArenaInput::IDLE);
    let server_pos = h.player_pos();
    assert_eq!(h.client.predicted().map(|s| s.pos), Some(server_pos));
    assert_eq!(h.client.stats().mispredictions, 0);
}

#[test]
fn after_a_stalled_game_loop_no_input_is_stamped_for_a_simulated_tick() {
    let mut h = Harness::new(MS * 40);
    let right = ArenaInput::toward(Vec2::X);
    h.run(Duration::from_millis(1500), right);
    let before = h.client.stats();
    // The game loop stalls for 5.5 ticks while the network goes on, then turns.
    h.stalled = true;
    h.run(MS * 183, right);
    h.stalled = false;
    let from = h.stamped.len();
    h.run(Duration::from_millis(1500), ArenaInput::toward(Vec2::Y));
    for &(had, tick) in &h.stamped[from..] {
        assert!(had.is_none_or(|s| tick.is_newer_than(s)), "input {tick:?} with snapshot {had:?}");
    }
    let after = h.client.stats();
    assert!(after.prediction_checks > before.prediction_checks + 30, "{after:?}");
    assert_eq!(after.mispredictions, before.mispredictions, "the stall mispredicts nothing");
    // Back to the settled margin: the newest inputs arrive in time.
    let late = h.late_inputs;
    h.run(Duration::from_millis(500), ArenaInput::IDLE);
    assert_eq!(h.late_inputs, late);
    assert_eq!(h.client.predicted().map(|s| s.pos), Some(h.player_pos()));
}

#[test]
fn a_game_loop_a_tick_late_leaves_the_missed_tick_to_the_servers_repeat() {
    let mut h = Harness::new(MS * 40);
    let turns = [Vec2::X, Vec2::Y, -Vec2::X, -Vec2::Y];
    h.run(Duration::from_millis(1500), ArenaInput::toward(turns[0]));
    let (before, late_before) = (h.client.stats(), h.late_inputs);
    for i in 0..12 {
        let (held, turn) = (turns[i % 4], turns[(i + 1) % 4]);
        // A busy client (or server): one tick's sampling is skipped, the next comes half a tick
        // after its time with a new direction (the call is 1.5 ticks late), and what it sends
        // then takes 1.5 ticks longer to be read. A frame stamped for the tick it missed would
        // be late, and the turn mispredicted.
        h.stalled = true;
        h.run(h.tick, ArenaInput::toward(held));
        h.stalled = false;
        h.next_client_tick += h.tick / 2;
        h.uplink_stall = h.tick * 3 / 2;
        h.run(h.tick * 3, ArenaInput::toward(turn));
        h.uplink_stall = Duration::ZERO;
    }
    h.run(Duration::from_millis(500), ArenaInput::IDLE);
    let after = h.client.stats();
    assert!(after.prediction_checks > before.prediction_checks + 30, "{after:?}");
    assert_eq!(h.late_inputs, late_before, "no frame reached the server after its tick");
    assert_eq!(after.inputs_late, before.inputs_late, "{after:?}");
    assert_eq!(after.mispredictions, before.mispredictions, "the late calls mispredict nothing");
    assert_eq!(h.client.predicted().map(|s| s.pos), Some(h.player_pos()));
}

#[test]
fn under_jitter_the_margin_grows_and_inputs_still_arrive_in_time() {
    let mut h = Harness::with_link(MS * 60, MS * 20);
    h.run(Duration::from_secs(1), ArenaInput::IDLE);
    let late_before = h.late_inputs;
    h.run(Duration::from_secs(4), ArenaInput::toward(Vec2::X));
    assert_eq!(h.late_inputs, late_before, "no input late once the clock has settled");
    let jitter = h.client.clock().expect("clock").jitter_ticks();
    assert!(jitter > 0.1, "jitter measured: {jitter} ticks");
    // The render delay grew with the jitter, and the view stays within the held snapshots.
    let newest = h.client.latest_snapshot().expect("snapshots").tick();
    let view = h.client.view_time(h.now);
    assert!(newest.diff(view.tick) >= 2, "{view:?} vs {newest}");
    assert!(h.client.snapshot(view.tick).is_some() || newest.diff(view.tick) < 8);
    let stats = h.client.stats();
    assert_eq!(stats.inputs_late, 0, "{stats:?}");
}

#[test]
fn late_inputs_raise_the_margin_so_that_the_next_stalls_are_absorbed() {
    let mut h = Harness::new(MS * 40);
    let right = ArenaInput::toward(Vec2::X);
    h.run(Duration::from_secs(2), right);
    assert_eq!(h.late_inputs, 0);
    // Once a second the uplink stalls for 150 ms (4.5 ticks), as when a saturated server reads
    // its sockets late.
    let mut late_per_stall = Vec::new();
    for _ in 0..4 {
        let before = h.late_inputs;
        h.uplink_stall = MS * 150;
        h.run(MS * 100, right);
        h.uplink_stall = Duration::ZERO;
        h.run(MS * 900, right);
        late_per_stall.push(h.late_inputs - before);
    }
    assert!(late_per_stall[0] > 0, "the first stall makes inputs late: {late_per_stall:?}");
    assert_eq!(late_per_stall[1..], [0, 0, 0], "the next ones are absorbed: {late_per_stall:?}");
    let stats = h.client.stats();
    assert_eq!(stats.inputs_late, late_per_stall[0] as u64, "the client saw each: {stats:?}");
    // Calm again: the margins (this one and the RTT variation's, which the stalled pings
    // raised) fall back, and no input is late.
    let (late, after_stalls) = (h.late_inputs, *h.early_inputs.last().expect("inputs"));
    h.run(Duration::from_secs(12), right);
    let calm = *h.early_inputs.last().expect("inputs");
    assert!(calm < after_stalls, "ticks ahead at arrival: {after_stalls}, then {calm}");
    assert_eq!(h.late_inputs, late);
}

#[test]
fn clock_estimates_the_server_tick_and_rtt() {
    let mut h = Harness::new(MS * 25);
    h.run(Duration::from_secs(3), ArenaInput::IDLE);
    let rtt = h.client.rtt().expect("pinged");
    assert!(rtt.abs_diff(MS * 50) <= MS * 2, "{rtt:?}");
    let (tick, frac) = h.client.server_tick(h.now).expect("welcomed");
    let estimate = f64::from(tick.diff(h.sim.tick())) + frac;
    // The server is somewhere within its current tick (0..1 past arena.tick()).
    assert!((-1.0..=2.0).contains(&estimate), "estimate off by {estimate} ticks");
    let mut samples = Samples::default();
    h.client.take_samples(&mut samples);
    assert!(samples.rtt_us.len() >= 2);
    assert!(samples.snapshot_gap_us.len() > 80);
    let mean = samples.snapshot_gap_us.iter().map(|&g| f64::from(g)).sum::<f64>()
        / samples.snapshot_gap_us.len() as f64;
    assert!((mean - 33_333.0).abs() < 1_000.0, "{mean}");
}

#[test]
fn the_view_time_trails_the_newest_snapshot_by_the_delay() {
    let mut h = Harness::new(MS * 30);
    h.run(Duration::from_secs(2), ArenaInput::IDLE);
    let newest = h.client.latest_snapshot().expect("snapshots").tick();
    let render = h.client.render_time(h.now).expect("render");
    let clock = h.client.clock().expect("clock");
    let behind = clock.relative(newest) - render;
    assert!((1.0..=3.5).contains(&behind), "{behind} ticks behind the newest snapshot");
    let view = h.client.view_time(h.now);
    assert!(newest.diff(view.tick) >= 1 && newest.diff(view.tick) <= 4, "{view:?}");
    // Every entity interpolates, NPCs and the player alike.
    let all: Vec<_> = h.client.bracket(h.now).expect("bracket").iter().collect();
    assert_eq!(all.len(), 21);
    assert_eq!(all.iter().filter(|e| e.has(PLAYER)).count(), 1);
}

#[test]
fn reconstructed_world_equals_the_servers() {
    let mut h = Harness::new(MS * 10);
    h.run(Duration::from_secs(2), ArenaInput::toward(Vec2::new(1.0, 1.0)));
    let server = h.sent.clone().expect("sent");
    // The last snapshot is still in flight; run until it arrives.
    h.run(MS * 15, ArenaInput::IDLE);
    assert_eq!(h.client.snapshot(server.tick()), Some(&server));
    assert!(h.client.stats().full_snapshots == 1);
}

#[test]
fn a_history_of_one_decodes_in_place_and_equals_the_servers() {
    let mut h = Harness::new(MS * 10);
    let tuning = Tuning { history_len: 1, ..Tuning::default() };
    h.client = state("lobby", tuning, h.now).expect("valid hello");
    h.run(Duration::from_secs(2), ArenaInput::toward(Vec2::new(1.0, 1.0)));
    let server = h.sent.clone().expect("sent");
    h.run(MS * 15, ArenaInput::IDLE);
    let stats = h.client.stats();
    assert_eq!(h.client.history().len(), 1);
    assert_eq!(h.client.latest_snapshot(), Some(&server));
    assert_eq!((stats.full_snapshots, stats.decode_errors, stats.mispredictions), (1, 0, 0));
    assert!(stats.snapshots > 55 && stats.prediction_checks > 50, "{stats:?}");
    // Remote entities are drawn as the newest snapshot has them.
    let bracket = h.client.bracket(h.now).expect("bracket");
    assert_eq!((bracket.from.tick(), bracket.to.tick()), (server.tick(), server.tick()));
    // A delta that fails to decode in place leaves no baseline behind.
    let bad = SnapshotMessage {
        tick: server.tick().next(),
        baseline: Some(server.tick()),
        last_input: None,
        payload: vec![0xff; 4],
    };
    let got = h.client.handle_message(h.now, ServerMessage::Snapshot(bad));
    assert!(matches!(got, Err(ProtocolError::Snapshot(_))), "{got:?}");
    assert!(h.client.history().is_empty());
}

/// The arena's entities cut into chunks by where they are: cells 150 units wide.
fn cut_into_chunks(world: &Snapshot) -> Vec<(ChunkKey, Snapshot)> {
    let mut cells: BTreeMap<ChunkKey, SnapshotBuilder<'_>> = BTreeMap::new();
    for e in world.iter() {
        let body = e.get::<tickwire_arena::Body>(schema(), tickwire_arena::BODY);
        let at = body.map_or(Vec2::ZERO, |b| Vec2::new(b.x, b.y));
        let key = ChunkKey::Cell { x: (at.x / 150.0) as i32, y: (at.y / 150.0) as i32 };
        let cell = cells
            .entry(key)
            .or_insert_with(|| SnapshotBuilder::new(schema(), world.tick(), Snapshot::default()));
        cell.copy(e);
    }
    cells.into_iter().map(|(k, b)| (k, b.finish().expect("unique ids"))).collect()
}

#[test]
fn views_as_chunks_rebuild_the_servers_world_in_any_history() {
    for history_len in [1, 8] {
        let mut h = Harness::new(MS * 10);
        h.chunks = Some(Vec::new());
        let tuning = Tuning { history_len, ..Tuning::default() };
        h.client = state("lobby", tuning, h.now).expect("valid hello");
        h.run(Duration::from_secs(3), ArenaInput::toward(Vec2::new(1.0, 0.3)));
        let server = h.caught_up();
        let stats = h.client.stats();
        assert_eq!(h.client.latest_snapshot(), Some(&server), "history of {history_len}");
        assert_eq!(h.client.history().len(), history_len.min(stats.snapshots as usize));
        assert_eq!((stats.full_snapshots, stats.decode_errors, stats.mispredictions), (1, 0, 0));
        assert!(stats.snapshots > 85 && stats.prediction_checks > 80, "{stats:?}");
        let held = h.chunks.as_ref().expect("chunks").len();
        assert!(held > 1, "the world spans {held} cells");
        // The own entity is read from the chunks (a history of one merges nothing for it).
        let mut row = Vec::new();
        let own = h.client.history().newest_entity(h.me, &mut row).map(|e| e.values.to_vec());
        assert_eq!(own.as_deref(), server.get(h.me).map(|e| e.values));
        // A new connection keeps the view and forgets the chunks: its first view is full.
        h.new_connection();
        assert_eq!(h.client.latest_snapshot(), Some(&server), "kept across the restart");
        h.chunks = Some(Vec::new());
        h.sent = None;
        h.run(Duration::from_secs(1), ArenaInput::IDLE);
        let stats = h.client.stats();
        assert_eq!((stats.full_snapshots, stats.decode_errors), (2, 0), "{stats:?}");
        let server = h.caught_up();
        assert_eq!(h.client.latest_snapshot(), Some(&server), "after the restart");
        // The next connection sends snapshots (another server of a fleet, say).
        h.new_connection();
        (h.chunks, h.sent) = (None, None);
        h.run(Duration::from_secs(1), ArenaInput::IDLE);
        let server = h.caught_up();
        assert_eq!(h.client.latest_snapshot(), Some(&server), "snapshots after chunks");
        assert_eq!(h.client.history().len(), history_len, "history of {history_len}");
        assert_eq!(h.client.stats().decode_errors, 0);
    }
}

#[test]
fn server_pings_are_answered_with_the_held_time() {
    let mut h = Harness::new(MS);
    h.run(MS * 100, ArenaInput::IDLE);
    while h.client.poll_transmit(h.now).is_some() {}
    let ping = Ping { id: 9, sent_us: 123 };
    h.client.handle_message(h.now, ServerMessage::Ping(ping)).expect("ok");
    let bytes = h.client.poll_transmit(h.now + MS * 2).expect("a pong");
    let pong = decode_client(&bytes).expect("decodes");
    assert_eq!(pong, ClientMessage::Pong(Pong { id: 9, echo_us: 123, held_us: 2000 }));
}

fn fresh() -> Arenas {
    state("lobby", Tuning::default(), Duration::ZERO).expect("valid hello")
}

fn welcome() -> ServerMessage {
    ServerMessage::Welcome(Welcome {
        client_id: ClientId(3),
        entity: EntityId(7),
        tick_rate: 30,
        server_tick: Tick(100),
        room: "lobby".to_owned(),
        max_rewind_ms: 250,
        resumed: false,
        resume_secret: [5; 16],
        resume_grace_ms: 30_000,
    })
}

#[test]
fn hello_first_and_invalid_hellos_refused() {
    let mut c = fresh();
    let hello = decode_client(&c.poll_transmit(Duration::ZERO).expect("hello")).expect("decodes");
    assert!(matches!(hello, ClientMessage::Hello(h) if h.protocol_version == PROTOCOL_VERSION));
    assert_eq!(c.send_input(Duration::ZERO, &ArenaInput::IDLE), 0, "no input before the welcome");
    let bad = state("no spaces", Tuning::default(), Duration::ZERO);
    assert!(matches!(bad, Err(ClientError::InvalidHello(_))));
}

#[test]
fn rejects_and_disconnects_end_the_state_with_their_reason() {
    let mut c = fresh();
    let reject = RejectReason::SchemaMismatch { server: 42 };
    c.handle_message(MS, ServerMessage::Reject(reject)).expect("ok");
    assert_eq!(c.end_reason(), Some(&EndReason::Rejected(reject)));

    let mut c = fresh();
    c.handle_message(MS, welcome()).expect("ok");
    assert!(c.is_playing());
    c.handle_message(MS, ServerMessage::Disconnect(DisconnectReason::ServerShutdown)).expect("ok");
    assert_eq!(c.end_reason(), Some(&EndReason::Server(DisconnectReason::ServerShutdown)));
    c.transport_ended(EndReason::Closed);
    assert_eq!(c.end_reason().map(EndReason::label), Some("server_shutdown"), "first reason wins");
}

#[test]
fn protocol_errors_end_the_session_and_say_so() {
    // A snapshot before the welcome.
    let mut c = fresh();
    let snap = SnapshotMessage { tick: Tick(1), baseline: None, last_input: None, payload: vec![] };
    let err = c.handle_message(MS, ServerMessage::Snapshot(snap)).expect_err("unexpected");
    assert_eq!(err.label(), "unexpected_message");
    // A delta against a baseline we do not hold.
    let mut c = fresh();
    c.handle_message(MS, welcome()).expect("ok");
    while c.poll_transmit(MS).is_some() {}
    let delta = SnapshotMessage {
        tick: Tick(102),
        baseline: Some(Tick(101)),
        last_input: None,
        payload: vec![],
    };
    let err = c.handle_message(MS, ServerMessage::Snapshot(delta)).expect_err("mismatch");
    assert_eq!(err.label(), "snapshot_baseline_mismatch");
    assert_eq!(c.stats().decode_errors, 1);
    let bye = decode_client(&c.poll_transmit(MS).expect("goodbye")).expect("decodes");
    assert_eq!(bye, ClientMessage::Disconnect(DisconnectReason::ProtocolViolation));
    // Garbage bytes.
    let mut c = fresh();
    let err = c.handle_bytes(MS, &[0xff, 0xff]).expect_err("garbage");
    assert_eq!(err.label(), "message_malformed");
    assert!(matches!(c.end_reason(), Some(EndReason::Protocol(_))));
}

#[test]
fn silence_ends_the_session() {
    let mut c = fresh();
    c.handle_message(MS, welcome()).expect("ok");
    c.handle_timeout(Duration::from_secs(5));
    assert!(c.is_playing());
    assert!(c.next_timeout().is_some_and(|t| t <= Duration::from_secs(11)));
    c.handle_timeout(Duration::from_secs(11));
    assert_eq!(c.end_reason(), Some(&EndReason::Timeout));
}

#[test]
fn events_are_queued_bounded_and_track_players() {
    let tuning = Tuning { max_events: 2, ..Tuning::default() };
    let mut c = state("lobby", tuning, Duration::ZERO).expect("valid hello");
    c.handle_message(MS, welcome()).expect("ok");
    let joined = |id: u32| RoomEvent::Joined {
        client: ClientId(id),
        entity: EntityId(id + 100),
        name: format!("p{id}"),
    };
    for id in 1..=3 {
        let e = EventMessage { tick: Tick(1), event: joined(id) };
        c.handle_message(MS, ServerMessage::Event(e)).expect("ok");
    }
    let left = RoomEvent::Left { client: ClientId(2), name: "p2".to_owned() };
    c.handle_message(MS, ServerMessage::Event(EventMessage { tick: Tick(2), event: left }))
        .expect("ok");
    assert_eq!(c.players().keys().copied().collect::<Vec<_>>(), [ClientId(1), ClientId(3)]);
    assert_eq!(c.stats().events, 4);
    assert_eq!(c.stats().events_dropped, 2);
    assert!(
        c.poll_event()
            .is_some_and(|e| matches!(e.event, Event::Joined { client: ClientId(3), .. }))
    );
}

#[test]
fn a_client_keeping_no_events_counts_them_and_still_tracks_players() {
    let tuning = Tuning { max_events: 0, ..Tuning::default() };
    let mut c = state("lobby", tuning, Duration::ZERO).expect("valid hello");
    c.handle_message(MS, welcome()).expect("ok");
    let joined =
        RoomEvent::Joined { client: ClientId(7), entity: EntityId(107), name: "p7".into() };
    c.handle_message(MS, ServerMessage::Event(EventMessage { tick: Tick(1), event: joined }))
        .expect("ok");
    assert_eq!(c.players().keys().copied().collect::<Vec<_>>(), [ClientId(7)]);
    assert_eq!((c.stats().events, c.stats().events_dropped), (1, 1));
    assert_eq!(c.pending_events(), 0);
    assert!(c.poll_event().is_none());
}

#[test]
fn chat_is_validated_and_rate_limited() {
    let mut c = fresh();
    assert!(c.queue_chat(MS, "hi").is_err(), "not before the welcome");
    c.handle_message(MS, welcome()).expect("ok");
    assert!(c.queue_chat(MS, "hi").is_ok());
    assert!(c.queue_chat(MS * 500, "again").is_err());
    assert!(c.queue_chat(MS * 1001, "again").is_ok());
    assert!(c.queue_chat(MS * 3000, "").is_err());
}

#[test]
fn commands_are_checked_and_at_most_ten_leave_in_a_second() {
    use tickwire_kart::{KartCommand, KartProtocol};
    let hello = ClientConfig::<KartProtocol>::new("ws://127.0.0.1/ws", "track", "me").hello();
    let schema = KartProtocol::schema();
    let mut c =
        ClientState::<KartProtocol>::new(hello, schema, Default::default(), Tuning::default(), MS)
            .expect("valid hello");
    let paint = KartCommand::Paint { color: 2 };
    assert!(c.send_command(MS, &paint).is_err(), "not before the welcome");
    c.handle_message(MS, welcome()).expect("ok");
    for i in 0..COMMANDS_PER_SECOND as u32 {
        assert!(c.send_command(MS * (10 + i), &paint).is_ok(), "command {i}");
    }
    assert!(c.send_command(MS * 500, &KartCommand::Reset {}).is_err(), "an 11th within a second");
    assert!(c.send_command(MS * 1010, &paint).is_ok(), "the first one is a second old");
    let sent = std::iter::from_fn(|| c.poll_transmit(MS * 1010))
        .filter(|bytes| matches!(decode_client(bytes), Ok(ClientMessage::Command(_))))
        .count();
    assert_eq!(sent, COMMANDS_PER_SECOND + 1);
}

#[test]
fn restart_resumes_with_the_ticket_and_keeps_the_history() {
    let mut h = Harness::new(20 * MS);
    h.run(Duration::from_secs(1), ArenaInput::IDLE);
    let before = h.client.history().len();
    assert!(before > 0);
    let welcome = h.client.welcome().cloned().expect("welcomed");
    h.client.transport_ended(EndReason::ConnectionLost);
    assert!(h.client.end_reason().is_some_and(EndReason::is_resumable));

    assert!(h.client.restart(h.now, true).is_some(), "a ticket was sent");
    assert!(!h.client.is_playing() && !h.client.is_ended());
    assert_eq!(h.client.history().len(), before, "interpolation carries on");
    let hello = h.client.poll_transmit(h.now).expect("a hello");
    match decode_client(&hello).expect("decodes") {
        ClientMessage::Hello(hello) => {
            let ticket = hello.resume.expect("a resume ticket");
            assert_eq!(ticket.client_id, welcome.client_id);
            assert_eq!(ticket.secret, welcome.resume_secret);
        }
        other => panic!("expected a hello, got {other:?}"),
    }
    assert_eq!(h.client.poll_transmit(h.now), None, "nothing else from the old connection");
    let resumed = Welcome { resumed: true, resume_secret: [1; 16], ..welcome.clone() };
    h.client.handle_message(h.now, ServerMessage::Welcome(resumed)).expect("welcome");
    assert!(h.client.is_playing());
    let stats = h.client.stats();
    assert_eq!((stats.reconnect_attempts, stats.resumes, stats.sessions_lost), (1, 1, 0));
    assert_eq!(h.client.welcome().map(|w| w.resume_secret), Some([1; 16]), "next ticket");

    // A fresh join (the session expired) forgets the old world and counts a lost session.
    h.client.handle_message(h.now, ServerMessage::Reject(RejectReason::ResumeFailed)).ok();
    h.client.transport_ended(EndReason::ConnectionLost);
    assert!(h.client.restart(h.now, false).is_none(), "no ticket");
    assert_eq!(h.client.history().len(), 0);
    let fresh = Welcome { client_id: ClientId(99), entity: EntityId(500), ..welcome };
    h.client.handle_message(h.now, ServerMessage::Welcome(fresh)).expect("welcome");
    assert_eq!(h.client.own_entity(), Some(EntityId(500)));
    assert_eq!(h.client.stats().sessions_lost, 1);
}

#[test]
fn game_events_are_decoded_and_bad_ones_end_the_session() {
    use tickwire_arena::ArenaEvent;
    let mut c = fresh();
    c.handle_message(MS, welcome()).expect("ok");
    let kill = ArenaEvent::Kill { killer: EntityId(1), victim: EntityId(2) };
    let (kind, payload) = ArenaProtocol::schema().encode_event(&kill);
    let e = EventMessage { tick: Tick(9), event: RoomEvent::Game { kind, payload } };
    c.handle_message(MS, ServerMessage::Event(e)).expect("ok");
    let got = c.poll_event().expect("an event");
    assert_eq!(got, TimedEvent { tick: Tick(9), event: Event::Game(kill) });
    // A kind the arena does not declare: the server plays another game version.
    let bad = EventMessage { tick: Tick(9), event: RoomEvent::Game { kind: 9, payload: vec![] } };
    let err = c.handle_message(MS, ServerMessage::Event(bad)).expect_err("unknown kind");
    assert_eq!(err.label(), "event_undecodable");
    assert!(c.is_ended());
}

#[test]
fn inputs_are_encoded_by_the_schema() {
    let mut c = fresh();
    c.handle_message(MS, welcome()).expect("ok");
    while c.poll_transmit(MS).is_some() {}
    let input = ArenaInput::toward(Vec2::new(1.0, -1.0)).firing(true);
    assert_eq!(c.send_input(MS * 40, &input), 1);
    let frame = match decode_client(&c.poll_transmit(MS * 40).expect("an input")) {
        Ok(ClientMessage::Input(frame)) => frame,
        other => panic!("expected an input, got {other:?}"),
    };
    assert_eq!(frame.payload.len(), 5);
    let decoded: ArenaInput = ArenaProtocol::schema().decode_input(&frame.payload).expect("valid");
    assert_eq!((decoded.move_x, decoded.move_y, decoded.fire()), (127, -127, true));
}
