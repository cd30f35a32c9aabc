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
//! - `recording/arena-1k/<n>-clients/{off,on}-cpu`: the same ticks, timed by the CPU time of the
//!   thread that runs them (`CLOCK_THREAD_CPUTIME_ID`) instead of the wall clock: what the room's
//!   thread pays, unaffected by other processes taking the cores (the wall time is not: on a
//!   shared 2-core machine it is noisy), though not by what the writer thread costs the caches.
//! - Then, per client count, a paired comparison printed as text: two rooms, one recorded,
//!   ticked in turns of 50 ticks, 40 rounds; the overhead is the median over rounds of the
//!   ratio of their median ticks (thread CPU and wall), with its quartiles. This is the figure
//!   to quote on a shared machine: the criterion ids run one after the other, minutes apart
//!   under whatever else the machine does.
//! - After the timings, one simulated minute (1,800 ticks at 30 Hz) per client count is
//!   recorded to a file, and its size is printed: as written (zstd level 3 blocks, keyframes
//!   every 300 ticks), and re-encoded raw (no compression) and with zstd at other levels.
//!
//! `cargo bench -p tickwire-benches --bench recording`; `TICKWIRE_BENCH_PERIOD_US=33333` paces
//! the ticks at real time (30 Hz) instead; `TICKWIRE_BENCH_SIZES=0` skips the sizes,
//! `TICKWIRE_BENCH_PAIRED=0` the paired comparison. A room is
//! built only if a filter selects one of its ids:
//! `cargo bench -p tickwire-benches --bench recording -- 1000-clients/on-cpu`.

mod common;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tickwire_arena::{Arena, ArenaProtocol};
use tickwire_benches::Scenario;
use tickwire_benches::scenario::SEED;
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
    fn tick(&mut self) -> Timed {
        common::push_inputs(&self.room, self.links.iter().map(|l| &**l), &self.players);
        if let Some(wait) = self.period.checked_sub(self.last.elapsed()) {
            std::thread::sleep(wait);
        }
        let cpu = thread_cpu_time();
        let started = Instant::now();
        self.last = started;
        self.room.tick(true);
        let wall = started.elapsed();
        let cpu = thread_cpu_time().saturating_sub(cpu);
        drain(&self.links, &mut self.outgoing);
        Timed { wall, cpu }
    }
}

/// One tick's wall and thread CPU time.
#[derive(Clone, Copy)]
struct Timed {
    wall: Duration,
    cpu: Duration,
}

/// The CPU time the calling thread has used so far.
fn thread_cpu_time() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
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

/// The median of `values` (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The median and the quartiles of `values`, as percent changes from ratios.
fn spread(mut ratios: Vec<f64>) -> String {
    ratios.sort_by(f64::total_cmp);
    let at = |q: usize| (ratios[(ratios.len() - 1) * q / 4] - 1.0) * 100.0;
    format!("{:+.1}% (quartiles {:+.1}%..{:+.1}%)", at(2), at(1), at(3))
}

/// Two rooms, one recorded, ticked in turns of `block` ticks for `rounds` rounds (which goes
/// first alternates): both see the same load from the rest of the machine, which on a shared
/// machine drifts more than the recording costs. Prints the median tick (thread CPU and wall)
/// of each, and the overhead: the median over rounds of (the recorded room's median tick) /
/// (the other's), with its quartiles.
fn paired(clients: usize, rounds: usize, block: usize) {
    let dir = temp_dir(&format!("paired-{clients}"));
    let mut off = Bench::new(clients, None);
    let mut on = Bench::new(clients, Some(&dir));
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    let mut all: [Vec<Timed>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut times: [Vec<Timed>; 2] = [Vec::new(), Vec::new()];
        for first in [round % 2, 1 - round % 2] {
            let bench = if first == 0 { &mut off } else { &mut on };
            times[first] = (0..block).map(|_| bench.tick()).collect();
        }
        let med = |t: &[Timed], f: fn(&Timed) -> Duration| {
            median(&mut t.iter().map(|x| f(x).as_secs_f64()).collect::<Vec<_>>())
        };
        cpu.push(med(&times[1], |t| t.cpu) / med(&times[0], |t| t.cpu));
        wall.push(med(&times[1], |t| t.wall) / med(&times[0], |t| t.wall));
        for (a, t) in all.iter_mut().zip(times) {
            a.extend(t);
        }
    }
    assert!(on.room.is_recording(), "the recording kept up");
    let us = |i: usize, f: fn(&Timed) -> Duration| {
        median(&mut all[i].iter().map(|x| f(x).as_secs_f64() * 1e6).collect::<Vec<_>>())
    };
    println!(
        "recording/arena-1k/{clients}-clients paired ({rounds} rounds of {block} ticks each): \
         thread CPU off {:.1} µs, on {:.1} µs, overhead {}; wall off {:.1} µs, on {:.1} µs, \
         overhead {}",
        us(0, |t| t.cpu),
        us(1, |t| t.cpu),
        spread(cpu),
        us(0, |t| t.wall),
        us(1, |t| t.wall),
        spread(wall),
    );
    drop((off, on));
    let _ = std::fs::remove_dir_all(&dir);
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
            // Built by the first id that runs (a filter may select neither).
            let mut bench = None;
            let mut setup = || Bench::new(clients, on.then_some(dir.as_path()));
            let name = format!("{clients}-clients/{}", if on { "on" } else { "off" });
            group.throughput(Throughput::Elements(clients as u64));
            group.bench_function(name.as_str(), |b| {
                let bench = bench.get_or_insert_with(&mut setup);
                b.iter_custom(|iters| (0..iters).map(|_| bench.tick().wall).sum());
            });
            group.bench_function(format!("{name}-cpu"), |b| {
                let bench = bench.get_or_insert_with(&mut setup);
                b.iter_custom(|iters| (0..iters).map(|_| bench.tick().cpu).sum());
            });
            if let Some(bench) = bench {
                assert!(!on || bench.room.is_recording(), "the recording kept up");
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    group.finish();

    // Paired: off and on side by side (`TICKWIRE_BENCH_PAIRED=0`: skipped).
    if std::env::var_os("TICKWIRE_BENCH_PAIRED").is_none_or(|v| v != "0") {
        let (rounds, block) = if cfg!(debug_assertions) { (2, 4) } else { (40, 50) };
        for &clients in &counts {
            paired(clients, rounds, block);
        }
    }

    // Size: one simulated minute per client count (`TICKWIRE_BENCH_SIZES=0`: skipped, e.g. to
    // profile the ticks alone).
    if std::env::var_os("TICKWIRE_BENCH_SIZES").is_some_and(|v| v == "0") {
        return;
    }
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
