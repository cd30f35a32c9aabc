//! Session recording (`--record`): its cost on the server tick, and its size.
//!
//! - `recording/arena-1k/<n>-clients/{off,on}`: `Room::tick(true)` of the arena with 1,000 NPCs
//!   (25% moving) and `n` clients sending a scripted input every tick (moving, aiming, firing:
//!   `tickwire_benches::script`), without and with the room recorded. Only the room's tick is
//!   timed: with recording on, that includes noting every input and handing the record to the
//!   writer's channel; the writer thread (checksum, keyframes, zstd, file writes) runs beside
//!   it, as on a server. The clients' outboxes are drained between ticks, untimed, and ticks
//!   are paced (untimed) at 30x real time (10x at 1,000 clients) so that the writer is not
//!   outrun by a loop no server runs; the bench fails if the recording stopped.
//! - After the timings, one simulated minute (1,800 ticks at 30 Hz) per client count is
//!   recorded to a file, and its size is printed: as written (zstd level 3 blocks, keyframes
//!   every 300 ticks), and re-encoded raw (no compression) and with zstd at other levels.
//!
//! `cargo bench -p tickwire-benches --bench recording`; `TICKWIRE_BENCH_PERIOD_US=33333` paces
//! the ticks at real time (30 Hz) instead.

mod common;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tickwire_arena::{Arena, ArenaProtocol};
use tickwire_benches::Scenario;
use tickwire_benches::scenario::SEED;
use tickwire_benches::script::{player_input, view_for};
use tickwire_protocol::message::InputFrame;
use tickwire_protocol::{ClientId, EntityId, GameProtocol};
use tickwire_recording::format::{Header, Record};
use tickwire_recording::reader::{Tail, read_all};
use tickwire_recording::writer::{Compression, Writer, WriterOptions};
use tickwire_server::recording::{Recorder, RecordingConfig};
use tickwire_server::room::link::{ClientLink, Outgoing};
use tickwire_server::room::task::Room;

struct Bench {
    room: Room<Arena>,
    /// Least wall time between two ticks' starts (untimed waiting): a real room ticks at
    /// 30 Hz, and an unpaced loop (hundreds of times faster) would outrun any writer and stop
    /// the recording, measuring nothing.
    period: Duration,
    last: Instant,
    links: Vec<Arc<ClientLink>>,
    players: Vec<EntityId>,
    outgoing: Outgoing,
}

impl Bench {
    fn new(clients: usize, record: Option<&Path>) -> Self {
        let scenario = Scenario::new(1_000, 0.25);
        let (mut room, game, metrics) = common::arena_room(&scenario, clients);
        if let Some(dir) = record {
            let config =
                RecordingConfig { dir: dir.to_owned(), rooms: vec![], keyframe_interval: 300 };
            let header = Header {
                game: "arena".into(),
                game_version: ArenaProtocol::schema().version(),
                schema_hash: ArenaProtocol::schema().hash(),
                config_json: format!("{{\"npcs\":{{\"count\":{}}}}}", scenario.npcs),
                room: format!("bench{clients}"),
                seed: SEED,
                tick_rate: room.sim().tick_rate(),
                max_rewind_ms: 250,
                first_tick: room.sim().tick(),
                keyframe_interval: 300,
                server_version: "bench".into(),
                started_unix_ms: 0,
            };
            room.record(Recorder::start(&config, header, metrics));
        }
        let mut links = Vec::with_capacity(clients);
        let mut players = Vec::with_capacity(clients);
        let mut outgoing = Outgoing::default();
        for i in 0..clients {
            let link = Arc::new(ClientLink::new(ClientId(i as u32 + 1), game.release_mask.clone()));
            let welcome = room.join(format!("bot{i}"), None, link.clone()).expect("room has space");
            players.push(welcome.entity);
            links.push(link);
            if i % 64 == 63 {
                drain(&links, &mut outgoing);
            }
        }
        drain(&links, &mut outgoing);
        // 30x real time at 100 clients, 10x at 1,000, unless TICKWIRE_BENCH_PERIOD_US says.
        let period = std::env::var("TICKWIRE_BENCH_PERIOD_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if clients >= 1_000 { 3_300 } else { 1_100 });
        let period = Duration::from_micros(period);
        let mut bench = Self { room, period, last: Instant::now(), links, players, outgoing };
        for _ in 0..32 {
            bench.tick();
        }
        bench
    }

    /// Pushes every client's input (untimed), runs the room's tick (timed), drains the
    /// outboxes (untimed).
    fn tick(&mut self) -> Duration {
        let sim = self.room.sim();
        let next = sim.tick().next();
        let schema = ArenaProtocol::schema();
        for (i, link) in self.links.iter().enumerate() {
            let input = player_input(sim, &self.players, i, next);
            let frame = InputFrame {
                tick: next,
                last_snapshot: Some(next.offset(-1)),
                view: view_for(next),
                payload: schema.encode_input(&input),
            };
            link.push_input(&frame, next);
        }
        if let Some(wait) = self.period.checked_sub(self.last.elapsed()) {
            std::thread::sleep(wait);
        }
        let started = Instant::now();
        self.last = started;
        self.room.tick(true);
        let elapsed = started.elapsed();
        drain(&self.links, &mut self.outgoing);
        elapsed
    }
}

fn drain(links: &[Arc<ClientLink>], outgoing: &mut Outgoing) {
    for l in links {
        l.take(outgoing);
        outgoing.batches.clear();
        outgoing.snapshot = None;
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The only file in `dir`, once its writer has ended it.
fn finished(dir: &Path) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let path = std::fs::read_dir(dir).ok().and_then(|mut d| d.next()).and_then(Result::ok);
        if let Some(entry) = path {
            let bytes = std::fs::read(entry.path()).expect("readable");
            if read_all(&bytes).is_ok_and(|r| matches!(r.tail, Tail::Ended(_))) {
                return bytes;
            }
        }
        assert!(Instant::now() < deadline, "the recording never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The recording's size re-encoded with `compression`.
fn reencoded(bytes: &[u8], compression: Compression) -> usize {
    let rec = read_all(bytes).expect("reads");
    let options = WriterOptions { compression, ..WriterOptions::default() };
    let mut w = Writer::new(Vec::new(), &rec.header, options).expect("writer");
    let mut end = None;
    for r in &rec.records {
        match r {
            Record::Tick(t) => w.tick(t).expect("tick"),
            Record::Keyframe(k) => w.keyframe(k).expect("keyframe"),
            Record::End(e) => end = Some(e.clone()),
        }
    }
    w.finish(&end.expect("an end")).expect("finish").len()
}

fn recording(c: &mut Criterion) {
    let mut group = c.benchmark_group("recording/arena-1k");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    let counts = if cfg!(debug_assertions) { vec![10] } else { vec![100, 1_000] };
    for &clients in &counts {
        for on in [false, true] {
            let dir = temp_dir(&format!("tick-{clients}-{on}"));
            let mut bench = Bench::new(clients, on.then_some(dir.as_path()));
            let name = format!("{clients}-clients/{}", if on { "on" } else { "off" });
            group.throughput(Throughput::Elements(clients as u64));
            group.bench_function(name.as_str(), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| bench.tick()).sum());
            });
            assert!(!on || bench.room.is_recording(), "the recording kept up");
            drop(bench);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    group.finish();

    // Size: one simulated minute per client count.
    let minute = if cfg!(debug_assertions) { 40 } else { 1_800 };
    for &clients in &counts {
        let dir = temp_dir(&format!("size-{clients}"));
        let mut bench = Bench::new(clients, Some(&dir));
        for _ in 0..minute {
            bench.tick();
        }
        assert!(bench.room.is_recording(), "the recording kept up");
        drop(bench);
        let bytes = finished(&dir);
        let raw = reencoded(&bytes, Compression::None);
        let z1 = reencoded(&bytes, Compression::Zstd(1));
        let z9 = reencoded(&bytes, Compression::Zstd(9));
        let rec = read_all(&bytes).expect("reads");
        let ticks = rec.records.iter().filter(|r| matches!(r, Record::Tick(_))).count();
        let per_minute = |n: usize| n as f64 * 1_800.0 / ticks as f64 / 1e3;
        println!(
            "recording/arena-1k/{clients}-clients: {ticks} ticks; per minute at 30 Hz: raw {:.0} KB, \
             zstd-1 {:.0} KB, zstd-3 (written) {:.0} KB, zstd-9 {:.0} KB; zstd-3 is {:.1}x smaller \
             than raw",
            per_minute(raw),
            per_minute(z1),
            per_minute(bytes.len()),
            per_minute(z9),
            raw as f64 / bytes.len() as f64,
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

criterion_group!(benches, recording);
criterion_main!(benches);
