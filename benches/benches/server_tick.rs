//! One full server tick of a room with its clients attached in memory (no sockets).
//!
//! Each iteration is what the room's task and every session writer do for one tick:
//! `Room::tick(true)` (drain inputs, step the arena of 1,000 NPCs (25% moving) and the clients'
//! players, broadcast events, build the snapshot, publish it to every outbox), then for every
//! client `ClientLink::take` and `Published::render` against the frame that client was sent last,
//! which is exactly the writer's path: the first client to ask for a baseline encodes the delta,
//! the others share it and only copy it behind their envelope. Socket writes are not included.
//!
//! Two loads for 100 and 1,000 clients:
//! - `idle`: the clients send no input (their players stand still);
//! - `active`: every client sends a scripted input each tick (`tickwire_benches::script`: moving,
//!   aiming at another player as drawn, firing once per cooldown). Pushing the inputs into the
//!   links is the session readers' work and is not timed.
//!
//! Throughput is clients per second; each case also prints the bytes each client is sent per tick.

mod common;
#[path = "common/writer.rs"]
mod writer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use writer::Writer;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tickwire_arena::Arena;
use tickwire_benches::Scenario;
use tickwire_protocol::{ClientId, EntityId};
use tickwire_server::room::link::ClientLink;
use tickwire_server::room::task::Room;

/// One attached client: its writer and its player.
struct Client {
    writer: Writer,
    entity: EntityId,
}

/// What one or more ticks handed to the clients, and the time they took.
#[derive(Default, Clone, Copy)]
struct Sent {
    /// Snapshot message bytes, all clients.
    snapshots: usize,
    /// Event message bytes, all clients.
    events: usize,
    /// Payload encodes (the rest were shared).
    encodes: usize,
    /// Time in `Room::tick`.
    room: Duration,
    /// Time in the writers' `take` + `render`.
    writers: Duration,
}

impl Sent {
    fn add(&mut self, other: Sent) {
        self.snapshots += other.snapshots;
        self.events += other.events;
        self.encodes += other.encodes;
        self.room += other.room;
        self.writers += other.writers;
    }
}

struct Bench {
    room: Room<Arena>,
    clients: Vec<Client>,
    players: Vec<EntityId>,
    active: bool,
    /// Clients told to close while joining (their outbox overflowed).
    closed_at_join: usize,
}

impl Bench {
    fn new(clients: usize, active: bool) -> Self {
        let scenario = Scenario::new(1_000, 0.25);
        let (mut room, game, _metrics) = common::arena_room(&scenario, clients);
        let mut list: Vec<Client> = Vec::with_capacity(clients);
        for i in 0..clients {
            let link = Arc::new(ClientLink::new(ClientId(i as u32 + 1), game.release_mask.clone()));
            let welcome = room.join(format!("bot{i}"), None, link.clone()).expect("room has space");
            list.push(Client { writer: Writer::new(link), entity: welcome.entity });
            // The writers drain their outboxes while others join.
            if i % 64 == 63 {
                list.iter_mut().for_each(|c| c.writer.drain());
            }
        }
        list.iter_mut().for_each(|c| c.writer.drain());
        let closed_at_join = list.iter().filter(|c| c.writer.outgoing.close.is_some()).count();
        let players = list.iter().map(|c| c.entity).collect();
        let mut bench = Self { room, clients: list, players, active, closed_at_join };
        // Past the first ticks (full snapshots for everyone) and into a full history.
        for _ in 0..32 {
            bench.push_inputs();
            bench.tick();
        }
        bench
    }

    /// The session readers' part: every client's input for the next tick (when active).
    fn push_inputs(&self) {
        if !self.active {
            return;
        }
        let links = self.clients.iter().map(|c| &*c.writer.link);
        common::push_inputs(&self.room, links, &self.players);
    }

    /// The timed part: the room's tick and every writer's take + render.
    fn tick(&mut self) -> Sent {
        let started = Instant::now();
        self.room.tick(true);
        let ticked = Instant::now();
        let mut sent = Sent { room: ticked - started, ..Sent::default() };
        for written in self.clients.iter_mut().map(|c| c.writer.write()) {
            sent.events += written.events;
            sent.encodes += written.encodes;
            sent.snapshots += written.snapshot;
        }
        sent.writers = ticked.elapsed();
        sent
    }
}

fn server_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_tick/arena-1k");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for clients in [100, 1_000] {
        for active in [false, true] {
            let mut bench = Bench::new(clients, active);
            let load = if active { "active" } else { "idle" };
            let name = format!("{clients}-clients/{load}");
            group.throughput(Throughput::Elements(clients as u64));
            let mut total = Sent::default();
            let mut ticks = 0u32;
            group.bench_function(name.as_str(), |b| {
                b.iter_custom(|iters| {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        bench.push_inputs();
                        let sent = bench.tick();
                        elapsed += sent.room + sent.writers;
                        total.add(sent);
                        ticks += 1;
                    }
                    elapsed
                });
            });
            let ticks = ticks.max(1);
            let per = |v: usize| v as f64 / f64::from(ticks);
            println!(
                "server_tick/arena-1k/{name}: {} entities; per tick: Room::tick {:.0} µs + writers \
                 {:.0} µs; snapshot message {:.0} B per client ({:.1} KB to all), events {:.0} B \
                 per client, {:.2} payload encodes; {} of {clients} clients were told to close \
                 while joining",
                bench.room.sim().entity_count(),
                (total.room / ticks).as_secs_f64() * 1e6,
                (total.writers / ticks).as_secs_f64() * 1e6,
                per(total.snapshots) / clients as f64,
                per(total.snapshots) / 1e3,
                per(total.events) / clients as f64,
                per(total.encodes),
                bench.closed_at_join,
            );
        }
    }
    group.finish();
}

criterion_group!(benches, server_tick);
criterion_main!(benches);
