//! Simulation: one arena step, one history frame, one lag-compensated shot.
//!
//! - `sim/step/arena-1k+64p`, `sim/step/arena-10k+64p`: a step with 1,000 or 10,000 NPCs (25%
//!   moving) and 64 scripted players, all moving, an eighth of them firing on each tick
//!   (`tickwire_benches::script`), through [`Simulation::step`] (the game's step, its events,
//!   and the room's recording of the hit shapes). The inputs are built outside the timed region
//!   (that is the sessions' work, not the step's). Throughput: entities.
//! - `sim/step/kart-1000b+64p`: a step of the kart race with 1,000 barrels (25% rolling) and 64
//!   racers driven by the game's autopilot (inputs built outside the timed region), from
//!   the start grid, a second into the race.
//! - `sim/history/record-64p`: `LagHistory::record` of 64 players' hit shapes into a full ring
//!   (the room does this after every step).
//! - `sim/lagcomp/shot-64p/*`: one lag-compensated raycast against 64 players with a full
//!   history, as [`LagCompensation::raycast`] does it: plan the rewind, rewind the 64 shapes to
//!   the view time, cast the ray against the circles. `rewind-3.5` uses a view time 3.5 ticks
//!   back (two recorded frames interpolated), `present` judges against the present, for
//!   contrast.
//!
//! Why the raycast's parts directly rather than a step with one firing input: a step with 1,000
//! NPCs costs tens of microseconds, and the shot is a small part of it; the difference of two
//! such noisy measurements cannot resolve it.
//!
//! [`LagCompensation::raycast`]: tickwire_sim::LagCompensation::raycast

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use glam::Vec2;
use tickwire_arena::Arena;
use tickwire_benches::Scenario;
use tickwire_benches::scenario::warmup_ticks;
use tickwire_benches::script::{self, Scripted, view_for};
use tickwire_kart::{Autopilot, KartConfig, KartInput, Race};
use tickwire_protocol::ClientId;
use tickwire_protocol::Tick;
use tickwire_sim::history::LagHistory;
use tickwire_sim::lagcomp::{HitShape, Ray, Shape, cast, plan_rewind, rewound_shapes};
use tickwire_sim::{Game, PlayerInput, Playtest, Simulation};

/// Players in every simulation bench.
const PLAYERS: usize = 64;

/// An arena with `scenario`'s NPCs and 64 scripted players, stepped until its history is full.
fn arena_with_players(scenario: Scenario) -> (Simulation<Arena>, Vec<Scripted>) {
    let mut sim = scenario.arena().expect("valid scenario");
    let players = script::join(&mut sim, PLAYERS);
    let ticks = warmup_ticks().max(sim.lag().history().capacity() as u32 + 1);
    let mut inputs = Vec::new();
    for _ in 0..ticks {
        script::inputs(&sim, &players, &mut inputs);
        sim.step(&inputs);
        sim.drain_events().for_each(drop);
        sim.drain_rewinds().for_each(drop);
    }
    (sim, players)
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim/step");
    for scenario in [Scenario::new(1_000, 0.25), Scenario::new(10_000, 0.25)] {
        let (mut sim, players) = arena_with_players(scenario);
        group.throughput(Throughput::Elements(sim.entity_count() as u64));
        let mut inputs = Vec::new();
        let mut shots = 0usize;
        let mut steps = 0usize;
        let name = format!("{}+{PLAYERS}p", scenario.world_label());
        group.bench_function(name.as_str(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    script::inputs(&sim, &players, &mut inputs);
                    let started = Instant::now();
                    sim.step(black_box(&inputs));
                    total += started.elapsed();
                    sim.drain_events().for_each(drop);
                    shots += sim.drain_rewinds().count();
                    steps += 1;
                }
                total
            });
        });
        println!(
            "sim/step/{name}: {} entities, {:.1} shots per step on average",
            sim.entity_count(),
            shots as f64 / steps.max(1) as f64
        );
    }
    group.finish();
}

/// A kart race with 1,000 barrels and 64 autopiloted racers, a second into the race.
fn kart_step(c: &mut Criterion) {
    let mut config = KartConfig::default();
    config.barrels.count = 1_000;
    let track = config.rules.track;
    let mut play: Playtest<Race> = Playtest::new(&config, 1).expect("valid");
    let racers: Vec<ClientId> =
        (0..PLAYERS).map(|i| play.join(&format!("r{i}")).expect("joins")).collect();
    let mut pilots: Vec<Autopilot> = racers.iter().map(|_| Autopilot::honking_every(97)).collect();
    let mut inputs = Vec::new();
    let mut build = |play: &Playtest<Race>, inputs: &mut Vec<PlayerInput<KartInput>>| {
        inputs.clear();
        let next = play.sim().tick().next();
        for (who, pilot) in racers.iter().zip(&mut pilots) {
            let (Some(view), Some(joined)) =
                (play.game().racer(play.sim().world(), *who), play.joined(*who))
            else {
                continue;
            };
            let input = pilot.drive(&track, &view.kart);
            inputs.push(PlayerInput {
                player: *who,
                entity: joined.entity,
                input,
                repeated: false,
                view: view_for(next),
                view_corrected: false,
            });
        }
    };
    for _ in 0..warmup_ticks().max(30) {
        build(&play, &mut inputs);
        play.sim_mut().step(&inputs);
        play.sim_mut().drain_events().for_each(drop);
    }
    let mut group = c.benchmark_group("sim/step");
    group.throughput(Throughput::Elements(play.sim().entity_count() as u64));
    group.bench_function(format!("kart-1000b+{PLAYERS}p"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                build(&play, &mut inputs);
                let started = Instant::now();
                play.sim_mut().step(black_box(&inputs));
                total += started.elapsed();
                play.sim_mut().drain_events().for_each(drop);
            }
            total
        });
    });
    group.finish();
}

/// The players' hit shapes now.
fn shapes(sim: &Simulation<Arena>) -> Vec<HitShape> {
    let mut out = Vec::new();
    Arena::hit_shapes(sim.world(), &mut out);
    out.sort_unstable_by_key(|s| s.id);
    out
}

fn history(c: &mut Criterion) {
    let (sim, _) = arena_with_players(Scenario::new(0, 0.0));
    let records = shapes(&sim);
    assert_eq!(records.len(), PLAYERS);
    let mut ring = LagHistory::new(sim.lag().history().capacity(), PLAYERS);
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

fn center(s: &HitShape) -> Vec2 {
    match s.shape {
        Shape::Circle { center, .. } => center,
        Shape::Aabb { min, max } => (min + max) / 2.0,
    }
}

fn lagcomp(c: &mut Criterion) {
    let (mut sim, players) = arena_with_players(Scenario::new(0, 0.0));
    // A raycast during the step producing `now` sees the history up to `now − 1` and the
    // players' present (post-movement) shapes of `now`.
    let history = sim.lag().history().clone();
    let max_rewind = sim.lag().max_rewind_ticks();
    let mut inputs = Vec::new();
    script::inputs(&sim, &players, &mut inputs);
    sim.step(&inputs);
    let now = sim.tick();
    let present = shapes(&sim);
    // The first pair of players with a clear line of fire: the shooter aims at the target as
    // drawn at the view time (3.5 ticks back), as a client does, and the ray hits.
    let view = view_for(now);
    let mut scratch = Vec::with_capacity(PLAYERS);
    let judge = |ray: &Ray, shooter, view, scratch: &mut Vec<HitShape>| {
        let plan = plan_rewind(now, view, max_rewind, &history);
        rewound_shapes(&history, &present, now, plan.applied_ticks, scratch);
        (cast(ray, scratch, |id| id != shooter), plan)
    };
    let aimed = |shooter: &HitShape, target: &HitShape| {
        let seen = history.shape_at(target.id, view)?;
        let Shape::Circle { center: seen, .. } = seen else { return None };
        let origin = center(shooter);
        Some(Ray { origin, dir: (seen - origin).normalize_or_zero(), length: 1500.0 })
    };
    let (ray, shooter) = present
        .iter()
        .flat_map(|s| present.iter().filter(move |t| t.id != s.id).map(move |t| (s, t)))
        .filter_map(|(s, t)| Some((aimed(s, t)?, s.id, t.id)))
        .find(|(ray, shooter, target)| {
            judge(ray, *shooter, Some(view), &mut scratch).0.map(|(id, _)| id) == Some(*target)
        })
        .map(|(ray, shooter, _)| (ray, shooter))
        .expect("some player has a clear shot at another");
    let mut group = c.benchmark_group(format!("sim/lagcomp/shot-{PLAYERS}p"));
    group.throughput(Throughput::Elements(PLAYERS as u64));
    for (name, view) in [("rewind-3.5", Some(view)), ("present", None)] {
        let (hit, plan) = judge(&ray, shooter, view, &mut scratch);
        println!(
            "sim/lagcomp/shot-{PLAYERS}p/{name}: rewound {} ticks, hit {:?}",
            plan.applied_ticks,
            hit.map(|(id, _)| id)
        );
        group.bench_function(name, |b| {
            b.iter(|| judge(black_box(&ray), shooter, view, &mut scratch));
        });
    }
    group.finish();
}

criterion_group!(benches, step, kart_step, history, lagcomp);
criterion_main!(benches);
