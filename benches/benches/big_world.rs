//! One full server tick of the big world (issue 18) with 2,000 clients attached in memory (no
//! sockets), with and without interest management, and with interest for clients that read
//! their views as snapshots (protocol version 4, `interest`) or as chunks (version 5, `chunks`).
//!
//! The world is [`Scenario::big_world`]: 8,000×8,000 units, 20,000 NPCs (25% moving), the
//! default walls scaled by 8; with interest, the grid [`BIG_WORLD_GRID`] (cells of 250 units, a
//! 3×3 block seen, hysteresis 16). The 2,000 players join at the arena's spawn points (1,024 of
//! them in a world this size, spread over all of it) and play the scripted inputs of
//! `tickwire_benches::script` (running in slowly turning directions across the map, aiming,
//! firing once per cooldown).
//!
//! Each iteration is what the room's task and every session writer do for one tick, as in
//! `server_tick`: `Room::tick(true)` (drain inputs, step, build the snapshot, with interest the
//! filtered snapshot of every distinct view, publish to every outbox), then for every client
//! `ClientLink::take` and `Published::render` against the frame that client was sent last (the
//! first client of a view and baseline encodes, the others share the payload). Pushing the
//! inputs is the session readers' work and is not timed; socket writes are not included.
//!
//! The writers' part runs as the server runs it: the room's fan-out (phase 7 of `Room::tick`)
//! splits the members into one contiguous share per worker of the runtime, which renders them
//! in parallel (through room-driven writes or the sessions' writers). So it runs here on one
//! thread per core (`BIG_WORLD_WORKERS` sets how many), and a tick is the room's tick plus the
//! time until the last share is rendered. The CPU of the writers, summed over their threads, is
//! printed beside it.
//!
//! `BIG_WORLD_CASES=chunks,everything` runs only the cases named (the setup of each is long).
//!
//! Each case prints, per tick: the time in `Room::tick` and in the writers, the snapshot bytes
//! per client, the payload encodes, the distinct views (frames published), the distinct chunks
//! sent (with chunks) and the view transitions (from the game's metrics). The target: a
//! tick ≤ 4 ms with interest, and encodes ≤ views + transitions (with views as snapshots; with
//! chunks, encodes grow with the chunks in use instead).

mod common;
#[path = "common/writer.rs"]
mod writer;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use writer::Writer;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tickwire_arena::Arena;
use tickwire_benches::Scenario;
use tickwire_benches::scenario::BIG_WORLD_GRID;
use tickwire_protocol::{ClientId, EntityId};
use tickwire_server::GameInfo;
use tickwire_server::room::Shown;
use tickwire_server::room::link::ClientLink;
use tickwire_server::room::task::Room;

/// The server's allocator (`server/src/main.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Clients attached: the largest load.
const CLIENTS: usize = 2_000;

/// What one or more ticks handed to the clients, and the time they took.
#[derive(Default, Clone, Copy)]
struct Sent {
    /// Snapshot message bytes, all clients.
    snapshots: usize,
    /// Payload encodes (the rest were shared).
    encodes: usize,
    /// Distinct frames published (views; 1 without interest).
    views: usize,
    /// Distinct chunks sent (views as chunks).
    chunks: usize,
    /// Time in `Room::tick`.
    room: Duration,
    /// Time from the end of `Room::tick` until every writer's `take` + `render` is done: the
    /// writers run on [`Bench::workers`] threads, as the server's fan-out does on the
    /// runtime's workers.
    writers: Duration,
    /// The writers' time summed over their threads (their CPU, on an otherwise idle machine).
    writers_cpu: Duration,
}

impl Sent {
    fn add(&mut self, other: Sent) {
        self.snapshots += other.snapshots;
        self.encodes += other.encodes;
        self.views += other.views;
        self.chunks += other.chunks;
        self.room += other.room;
        self.writers += other.writers;
        self.writers_cpu += other.writers_cpu;
    }
}

struct Bench {
    room: Room<Arena>,
    game: Arc<GameInfo>,
    clients: Vec<Writer>,
    players: Vec<EntityId>,
    /// Threads the writers' part of a tick runs on.
    workers: usize,
}

impl Bench {
    fn new(scenario: &Scenario, clients: usize, chunks: bool, workers: usize) -> Self {
        let (mut room, game, _metrics) = common::arena_room(scenario, clients);
        let mut list: Vec<Writer> = Vec::with_capacity(clients);
        let mut players = Vec::with_capacity(clients);
        for i in 0..clients {
            let link = ClientLink::new(ClientId(i as u32 + 1), game.release_mask.clone());
            let link = Arc::new(link.with_chunks(chunks));
            let welcome = room.join(format!("bot{i}"), None, link.clone()).expect("room has space");
            players.push(welcome.entity);
            list.push(Writer::new(link));
            // The writers drain their outboxes while others join.
            if i % 64 == 63 {
                list.iter_mut().for_each(Writer::drain);
            }
        }
        list.iter_mut().for_each(Writer::drain);
        let mut bench = Self { room, game, clients: list, players, workers };
        // Past the first ticks (full snapshots for everyone) and into a full history.
        for _ in 0..32 {
            bench.push_inputs();
            bench.tick();
        }
        bench
    }

    /// The session readers' part: every client's scripted input for the next tick.
    fn push_inputs(&self) {
        common::push_inputs(&self.room, self.clients.iter().map(|c| &*c.link), &self.players);
    }

    /// One tick: the timed part ([`Self::step`]), then the accounting of what was sent.
    fn tick(&mut self) -> Sent {
        let sent = self.step();
        self.account(sent)
    }

    /// [`Self::step`], never inlined: what a profiler counts alone in a run of
    /// `BIG_WORLD_TICKS` (`valgrind --tool=callgrind --toggle-collect=big_world::Bench::profiled`),
    /// without the setup's ticks, the inputs or the accounting.
    #[inline(never)]
    fn profiled(&mut self) -> Sent {
        // Not a tail call (a jump into `step`, which a profiler does not see as this call).
        std::hint::black_box(self.step())
    }

    /// Counted out of the timed part: what each client was just sent.
    fn account(&self, mut sent: Sent) -> Sent {
        let (mut frames, mut chunks) = (HashSet::new(), HashSet::new());
        for shown in self.clients.iter().filter_map(|c| c.last_sent.as_ref()) {
            frames.insert(shown.addr());
            if let Shown::Chunks(view) = shown {
                chunks.extend(view.chunk_ids());
            }
        }
        sent.views = frames.len();
        sent.chunks = chunks.len();
        sent
    }

    /// The timed part: the room's tick and every writer's take + render. The writers are
    /// split into [`Self::workers`] contiguous shares, one per thread (the first on this one),
    /// as the room's fan-out splits its members over the runtime's workers.
    fn step(&mut self) -> Sent {
        let started = Instant::now();
        self.room.tick(true);
        let ticked = Instant::now();
        let room = ticked - started;
        let share = self.clients.len().div_ceil(self.workers.max(1)).max(1);
        let mut parts = self.clients.chunks_mut(share);
        let first = parts.next().unwrap_or_default();
        let mut sent = std::thread::scope(|scope| {
            let others: Vec<_> = parts.map(|part| scope.spawn(|| write(part))).collect();
            let mut sent = write(first);
            for other in others {
                sent.add(other.join().expect("a writer thread"));
            }
            sent
        });
        sent.room = room;
        sent.writers = ticked.elapsed();
        sent
    }

    /// Clients whose view changed so far (the room's metric).
    fn transitions(&self) -> u64 {
        self.game.metrics.interest_transitions.get()
    }
}

/// What the writers of `clients` do for one tick, one after the other: take what the room
/// published and render the snapshot against the one each was sent last.
fn write(clients: &mut [Writer]) -> Sent {
    let started = Instant::now();
    let mut sent = Sent::default();
    for written in clients.iter_mut().map(Writer::write) {
        sent.encodes += written.encodes;
        sent.snapshots += written.snapshot;
    }
    sent.writers_cpu = started.elapsed();
    sent
}

fn big_world(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_tick/bigworld-20k");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    let clients = if cfg!(debug_assertions) { 64 } else { CLIENTS };
    // Building each case's room of 2,000 clients takes seconds (minutes under a profiler):
    // `BIG_WORLD_CASES=chunks` builds only the cases named (comma-separated).
    let only = std::env::var("BIG_WORLD_CASES").ok();
    // `BIG_WORLD_TICKS=n`: n ticks of each case, not timed by criterion (the same ticks from
    // run to run, for counting instructions with a profiler).
    let fixed: Option<u32> = std::env::var("BIG_WORLD_TICKS").ok().and_then(|n| n.parse().ok());
    // `BIG_WORLD_WORKERS=n`: the writers on n threads; by default one per core, as many as the
    // server's runtime has workers. A profiler that counts only this thread needs 1.
    let workers = std::env::var("BIG_WORLD_WORKERS").ok().and_then(|n| n.parse().ok());
    let workers: usize = workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let cases = [("interest", true, false), ("chunks", true, true), ("everything", false, false)];
    let wanted = |case: &str| only.as_deref().is_none_or(|o| o.split(',').any(|c| c == case));
    for (case, interest, chunked) in cases.into_iter().filter(|(case, ..)| wanted(case)) {
        let scenario = Scenario::big_world(interest);
        let mut bench = Bench::new(&scenario, clients, chunked, workers);
        let name = format!("{clients}-clients/{case}");
        group.throughput(Throughput::Elements(clients as u64));
        let mut total = Sent::default();
        let mut ticks = 0u32;
        let transitions0 = bench.transitions();
        if let Some(n) = fixed {
            for _ in 0..n {
                bench.push_inputs();
                let sent = bench.profiled();
                total.add(bench.account(sent));
            }
            ticks = n;
        } else {
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
        }
        let ticks = ticks.max(1);
        let per = |v: f64| v / f64::from(ticks);
        let grid = if interest {
            format!(
                "cell {}, radius {}, hysteresis {}",
                BIG_WORLD_GRID.cell, BIG_WORLD_GRID.radius, BIG_WORLD_GRID.hysteresis
            )
        } else {
            "no interest".to_owned()
        };
        println!(
            "server_tick/bigworld-20k/{name} ({grid}): {} entities; per tick (of {ticks}): Room::tick {:.0} µs \
             + writers {:.0} µs on {workers} threads = {:.0} µs (CPU {:.0} µs: writers {:.0} µs); \
             snapshot message {:.0} B per client; {:.1} payload encodes, \
             {:.1} views, {:.1} chunks, {:.1} view transitions",
            bench.room.sim().entity_count(),
            (total.room / ticks).as_secs_f64() * 1e6,
            (total.writers / ticks).as_secs_f64() * 1e6,
            ((total.room + total.writers) / ticks).as_secs_f64() * 1e6,
            ((total.room + total.writers_cpu) / ticks).as_secs_f64() * 1e6,
            (total.writers_cpu / ticks).as_secs_f64() * 1e6,
            per(total.snapshots as f64) / clients as f64,
            per(total.encodes as f64),
            per(total.views as f64),
            per(total.chunks as f64),
            per((bench.transitions() - transitions0) as f64),
        );
    }
    group.finish();
}

criterion_group!(benches, big_world);
criterion_main!(benches);
