//! Simulation: one `Arena::step`, one history frame, one lag-compensated shot.
//!
//! - `sim/step/arena-1k+64p`, `sim/step/arena-10k+64p`: a step with 1,000 or 10,000 NPCs (25%
//!   moving) and 64 scripted players, all moving, an eighth of them firing on each tick
//!   (`tickwire_benches::script`). The commands are built outside the timed region (that is the
//!   sessions' work, not the step's); only `step_into` is timed. Throughput: entities.
//! - `sim/history/record-64p`: `LagHistory::record` of 64 players' hit records into a full ring
//!   (the arena does this inside every step, after querying the world for the records).
//! - `sim/lagcomp/shot-64p/*`: `lagcomp::judge_shot` against 64 players with a full history:
//!   plan the rewind, rewind the 64 targets to the view time, cast the ray against the walls and
//!   the circles. `rewind-3.5` uses a view time 3.5 ticks back (two recorded frames
//!   interpolated), `present` judges against the present (no rewind), for contrast.
//!
//! Why `judge_shot` directly rather than a step with one firing command: a step with 1,000 NPCs
//! costs tens of microseconds, and the shot is a small part of it; the difference of two such
//! noisy measurements cannot resolve it. `judge_shot` is exactly what the step's fire phase
//! calls per shot, on the same history, so timing it alone measures the per-shot cost (the step
//! adds only collecting the 64 present records once per tick and applying damage).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tickwire_benches::scenario::warmup_ticks;
use tickwire_benches::script::{commands, view_for};
use tickwire_benches::{Scenario, script};
use tickwire_protocol::{EntityId, Tick};
use tickwire_sim::history::{HitRecord, LagHistory};
use tickwire_sim::lagcomp::{Shot, judge_shot};
use tickwire_sim::{Arena, PlayerCommand, StepOutput};

/// Players in every simulation bench.
const PLAYERS: usize = 64;

/// An arena with `scenario`'s NPCs and 64 scripted players, stepped until its history is full.
fn arena_with_players(scenario: Scenario) -> (Arena, Vec<EntityId>) {
    let mut arena = scenario.arena().expect("valid scenario");
    let players: Vec<EntityId> =
        (0..PLAYERS).map(|i| arena.add_player(&format!("bot{i}"))).collect();
    // At least one full history (31 frames at 30 Hz), whatever the build.
    let ticks = warmup_ticks().max(arena.config().history_ticks() as u32 + 1);
    let mut cmds = Vec::new();
    for _ in 0..ticks {
        commands(&arena, &players, &mut cmds);
        arena.step(&cmds);
    }
    (arena, players)
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim/step");
    for scenario in [Scenario::new(1_000, 0.25), Scenario::new(10_000, 0.25)] {
        let (mut arena, players) = arena_with_players(scenario);
        group.throughput(Throughput::Elements(arena.entity_count() as u64));
        let mut cmds: Vec<PlayerCommand> = Vec::new();
        let mut out = StepOutput::default();
        let mut shots = 0usize;
        let mut steps = 0usize;
        let name = format!("{}+{PLAYERS}p", scenario.world_label());
        group.bench_function(name.as_str(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    commands(&arena, &players, &mut cmds);
                    let started = Instant::now();
                    arena.step_into(black_box(&cmds), &mut out);
                    total += started.elapsed();
                    shots += out.rewinds.len();
                    steps += 1;
                }
                total
            });
        });
        println!(
            "sim/step/{name}: {} entities, {:.1} shots per step on average",
            arena.entity_count(),
            shots as f64 / steps.max(1) as f64
        );
    }
    group.finish();
}

fn history(c: &mut Criterion) {
    let (arena, _) = arena_with_players(Scenario::new(0, 0.0));
    let newest = arena.history().newest().expect("recorded");
    let records: Vec<HitRecord> = arena.history().frame(newest).expect("newest frame").to_vec();
    assert_eq!(records.len(), PLAYERS);
    let mut ring = LagHistory::new(arena.config().history_ticks(), PLAYERS);
    let mut tick = Tick(0);
    for _ in 0..ring.capacity() {
        ring.record(tick, records.iter().copied());
        tick = tick.next();
    }
    let mut group = c.benchmark_group("sim/history");
    group.throughput(Throughput::Elements(PLAYERS as u64));
    group.bench_function(format!("record-{PLAYERS}p"), |b| {
        b.iter(|| {
            ring.record(tick, black_box(&records).iter().copied());
            tick = tick.next();
        });
    });
    group.finish();
}

fn lagcomp(c: &mut Criterion) {
    let (mut arena, players) = arena_with_players(Scenario::new(0, 0.0));
    // The fire phase of the step producing `now` sees the history up to `now − 1` and the
    // players' present (post-movement) records of `now`.
    let history = arena.history().clone();
    let mut cmds = Vec::new();
    script::commands(&arena, &players, &mut cmds);
    arena.step(&cmds);
    let now = arena.tick();
    let present: Vec<HitRecord> = arena.history().frame(now).expect("present").to_vec();
    let rules = arena.rules().clone();
    let max_rewind = arena.config().max_rewind_ticks();
    // The first pair of players with a clear line of fire: the shooter aims at the target as
    // drawn at the view time (3.5 ticks back), as a client does, and the shot hits.
    let view = view_for(now);
    let mut scratch = Vec::with_capacity(PLAYERS);
    let aimed = |shooter: &HitRecord, target: &HitRecord| {
        let seen = history.position_at(target.id, view)?;
        let d = seen - shooter.pos;
        Some(Shot {
            shooter: shooter.id,
            origin: shooter.pos,
            aim: d.y.atan2(d.x),
            view: Some(view),
        })
    };
    let shot = present
        .iter()
        .flat_map(|s| present.iter().filter(move |t| t.id != s.id).map(move |t| (s, t)))
        .filter_map(|(s, t)| Some((aimed(s, t)?, t.id)))
        .find(|(shot, target)| {
            let (outcome, _) =
                judge_shot(&history, &present, now, shot, max_rewind, &rules, &mut scratch);
            outcome.hit == Some(*target)
        })
        .map(|(shot, _)| shot)
        .expect("some player has a clear shot at another");
    let mut group = c.benchmark_group(format!("sim/lagcomp/shot-{PLAYERS}p"));
    group.throughput(Throughput::Elements(PLAYERS as u64));
    for (name, view) in [("rewind-3.5", Some(view)), ("present", None)] {
        let shot = Shot { view, ..shot };
        let (outcome, plan) =
            judge_shot(&history, &present, now, &shot, max_rewind, &rules, &mut scratch);
        println!(
            "sim/lagcomp/shot-{PLAYERS}p/{name}: rewound {} ticks, hit {:?}",
            plan.applied_ticks, outcome.hit
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                judge_shot(
                    &history,
                    black_box(&present),
                    now,
                    black_box(&shot),
                    max_rewind,
                    &rules,
                    &mut scratch,
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, step, history, lagcomp);
criterion_main!(benches);
