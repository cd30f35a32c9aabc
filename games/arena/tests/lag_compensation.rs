//! The lag-compensation scenario: a target strafes at full speed; a shooter whose screen shows
//! the world 150 ms in the past aims exactly at the target as drawn.

mod common;

use common::{Cmd, Harness, Step};
use glam::Vec2;
use tickwire_arena::{ArenaConfig, ArenaEvent, ArenaInput, ArenaRules, BODY, Body, Wall, schema};
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{EntityId, Snapshot, Tick};
use tickwire_sim::Shape;

const SHOOTER_AT: Vec2 = Vec2::new(200.0, 500.0);

/// A running scenario, as the shooter's client sees it: every snapshot so far.
struct Scene {
    h: Harness,
    shooter: EntityId,
    target: EntityId,
    snapshots: Vec<Snapshot>,
}

impl Scene {
    fn new(tick_rate: u16, walls: Vec<Wall>) -> Self {
        let mut config = ArenaConfig { tick_rate, ..ArenaConfig::default() };
        config.npcs.count = 0;
        config.rules = ArenaRules { walls, ..ArenaRules::default() };
        let mut h = Harness::new(&config);
        let shooter = h.join("shooter");
        let target = h.join("target");
        assert!(h.place(shooter, SHOOTER_AT));
        assert!(h.place(target, Vec2::new(600.0, 300.0)));
        let snapshots = vec![h.snapshot()];
        let mut scene = Self { h, shooter, target, snapshots };
        // One second of strafing fills the history.
        for _ in 0..tick_rate {
            scene.step(None);
        }
        scene
    }

    /// One tick: the target strafes; the shooter stands still and maybe fires.
    fn step(&mut self, shot: Option<(Vec2, Option<ViewTime>)>) -> Step {
        let strafe = ArenaInput { move_y: 127, ..ArenaInput::IDLE };
        let mut cmds = vec![Cmd { player: self.target, input: strafe, view: None }];
        if let Some((aim_at, view)) = shot {
            let input = ArenaInput::IDLE.aiming(SHOOTER_AT, aim_at).firing(true);
            cmds.push(Cmd { player: self.shooter, input, view });
        }
        let out = self.h.step(&cmds);
        self.snapshots.push(self.h.snapshot());
        out
    }

    /// The view time `ticks_back` before the tick the next step produces.
    fn view_back(&self, ticks_back: f32) -> ViewTime {
        let whole = ticks_back.ceil();
        let fraction = ((whole - ticks_back) * 256.0).round() as u8;
        ViewTime { tick: self.h.tick().next().offset(-(whole as i32)), fraction }
    }

    /// Where the client drew the target at `view`: interpolated between two decoded snapshots.
    fn drawn(&self, view: ViewTime) -> Vec2 {
        let at = |tick: Tick| {
            let snap = &self.snapshots[tick.0 as usize];
            assert_eq!(snap.tick(), tick);
            let body: Body =
                snap.get(self.target).and_then(|e| e.get(schema(), BODY)).expect("body");
            body.pos()
        };
        let pos = at(view.tick).lerp(at(view.tick.next()), f32::from(view.fraction) / 256.0);
        // The room recorded what the client drew (as far back as its history reaches: the
        // rewind window and a frame).
        if view.tick.diff(self.h.tick()) > -(self.h.sim.lag().history().capacity() as i32) + 1 {
            let recorded = self.h.sim.lag().history().shape_at(self.target, view);
            assert_eq!(recorded, Some(Shape::Circle { center: pos, radius: 12.0 }));
        }
        pos
    }

    fn target_now(&self) -> Vec2 {
        self.h.player(self.target).pos
    }
}

fn shot_hit(out: &Step) -> Option<EntityId> {
    let [ArenaEvent::Shot { hit, .. }, ..] = out.events.as_slice() else {
        panic!("no shot fired: {:?}", out.events);
    };
    assert_eq!(out.rewinds.len(), 1);
    assert_eq!(out.rewinds[0].hit, hit.is_some());
    *hit
}

#[test]
fn compensated_shot_hits_what_the_shooter_saw() {
    for tick_rate in [30u16, 60] {
        let back = 0.150 * f32::from(tick_rate); // 150 ms: 4.5 ticks at 30 Hz, 9 at 60 Hz
        let mut scene = Scene::new(tick_rate, vec![]);
        let view = scene.view_back(back);
        let drawn = scene.drawn(view);
        let out = scene.step(Some((drawn, Some(view))));
        assert!(scene.target_now().distance(drawn) > 25.0, "the target has moved on");
        assert_eq!(shot_hit(&out), Some(scene.target), "at {tick_rate} Hz");
        let r = out.rewinds[0];
        assert_eq!((r.requested_ticks, r.applied_ticks, r.clamped), (back, back, false));
        assert!(out.events.contains(&ArenaEvent::Hit {
            shooter: scene.shooter,
            target: scene.target,
            damage: 25,
            rewind_ms: 150,
        }));
        // Damage lands in the present.
        assert_eq!(scene.h.player(scene.target).health, 75);
    }
}

#[test]
fn the_same_shot_without_compensation_misses() {
    let mut scene = Scene::new(30, vec![]);
    let view = scene.view_back(4.5);
    let drawn = scene.drawn(view);
    let out = scene.step(Some((drawn, None)));
    assert_eq!(shot_hit(&out), None);
    let r = out.rewinds[0];
    assert_eq!((r.requested_ticks, r.applied_ticks, r.clamped), (0.0, 0.0, false));
    assert_eq!(scene.h.player(scene.target).health, 100);
}

#[test]
fn claims_older_than_the_window_are_clamped() {
    let scene = Scene::new(30, vec![]);
    let max = scene.h.sim.lag().max_rewind_ticks();
    assert_eq!(max, 7.5, "the default 250 ms window at 30 Hz");
    // Aiming where the target was 20 ticks ago (behind the window) misses...
    let mut scene = Scene::new(30, vec![]);
    let old = scene.view_back(20.0);
    let out = scene.step(Some((scene.drawn(old), Some(old))));
    let r = out.rewinds[0];
    assert_eq!((r.requested_ticks, r.applied_ticks, r.clamped), (20.0, max, true));
    assert_eq!(shot_hit(&out), None);
    // ...because the shot is judged at the edge of the window, where this one hits.
    let mut scene = Scene::new(30, vec![]);
    let old = scene.view_back(20.0);
    let edge = scene.drawn(scene.view_back(max));
    let out = scene.step(Some((edge, Some(old))));
    assert_eq!(shot_hit(&out), Some(scene.target));
    assert_eq!(out.rewinds[0].applied_ticks, max);
}

#[test]
fn a_spot_the_target_never_occupied_misses() {
    let mut scene = Scene::new(30, vec![]);
    let view = scene.view_back(4.5);
    // Ahead of the target on its path: where it will be, not where it was or is.
    let ahead = scene.drawn(view) + Vec2::new(0.0, 60.0);
    let out = scene.step(Some((ahead, Some(view))));
    assert_eq!(shot_hit(&out), None);
    // Nor does a view time in the future help.
    let mut scene = Scene::new(30, vec![]);
    let future = ViewTime { tick: scene.h.tick().offset(5), fraction: 0 };
    let out = scene.step(Some((ahead, Some(future))));
    assert_eq!(shot_hit(&out), None);
    assert!(out.rewinds[0].clamped && out.rewinds[0].applied_ticks == 0.0);
}

#[test]
fn walls_block_compensated_shots() {
    let wall = Wall::new(Vec2::new(400.0, 0.0), Vec2::new(410.0, 1000.0));
    let mut scene = Scene::new(30, vec![wall]);
    let view = scene.view_back(4.5);
    let out = scene.step(Some((scene.drawn(view), Some(view))));
    assert_eq!(shot_hit(&out), None);
    let ArenaEvent::Shot { to_x, .. } = out.events[0] else { panic!("no shot") };
    assert!((to_x - 400.0).abs() < 1e-3, "tracer ends on the wall: {to_x}");
}
