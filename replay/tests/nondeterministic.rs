//! `verify` catches a game that breaks the determinism rules (`docs/determinism.md` rule 5: no
//! state outside the world and the game value) at the tick where it mattered.
//!
//! `Leaky` is tag with one bug: at tick [`K`] its step reads a thread-local counter of the
//! rooms that reached that tick in this thread, and nudges a runner when it is not the first.
//! The recording (the first room) is not nudged; its re-simulation (the second) is.

mod common;

use std::cell::Cell;

use tickwire_protocol::game::GameProtocol;
use tickwire_protocol::{Snapshot, Tick};
use tickwire_replay::resim::diff::Change;
use tickwire_replay::resim::verify::{Cause, DiffSource, Steps, Verdict, verify};
use tickwire_replay::resim::{Registry, RoomSetup};
use tickwire_sim::hecs::{Entity, World};
use tickwire_sim::{Ctx, Game, Inputs, JoinRefusal, JoinRequest, LeaveReason, NetId, PlayerRef};
use tickwire_tag::{BadConfig, Run, Runner, Tag, TagCommand, TagConfig, TagProtocol};

thread_local! {
    /// Rooms of `Leaky` that have stepped tick `K` in this thread: the bug.
    static ROOMS_AT_K: Cell<u32> = const { Cell::new(0) };
}

/// Tag with a determinism bug (see the module docs).
struct Leaky {
    tag: Tag,
    k: u32,
}

type Cx<'a> = Ctx<'a, TagProtocol>;

impl Game for Leaky {
    type Protocol = TagProtocol;
    type Config = LeakyConfig;
    type Error = BadConfig;

    fn tick_rate(_: &LeakyConfig) -> u16 {
        30
    }

    fn create(
        c: &LeakyConfig,
        seed: u64,
        w: &mut World,
        cx: &mut Cx<'_>,
    ) -> Result<Self, BadConfig> {
        Ok(Leaky { tag: Tag::create(&c.tag, seed, w, cx)?, k: c.k })
    }

    fn join(
        &mut self,
        w: &mut World,
        who: &JoinRequest<'_>,
        cx: &mut Cx<'_>,
    ) -> Result<Entity, JoinRefusal> {
        self.tag.join(w, who, cx)
    }

    fn leave(&mut self, w: &mut World, p: PlayerRef, why: LeaveReason, cx: &mut Cx<'_>) {
        self.tag.leave(w, p, why, cx);
    }

    fn command(&mut self, w: &mut World, p: PlayerRef, c: TagCommand, cx: &mut Cx<'_>) {
        self.tag.command(w, p, c, cx);
    }

    fn step(&mut self, world: &mut World, inputs: &Inputs<'_, Run>, ctx: &mut Cx<'_>) {
        self.tag.step(world, inputs, ctx);
        if ctx.tick() != Tick(self.k) {
            return;
        }
        let earlier_rooms = ROOMS_AT_K.with(|n| n.replace(n.get() + 1));
        if earlier_rooms > 0 {
            let first =
                world.query::<(Entity, &NetId)>().iter().min_by_key(|(_, id)| id.0).map(|(e, _)| e);
            if let Some(mut r) = first.and_then(|e| world.get::<&mut Runner>(e).ok()) {
                // One grid step right (or left at the edge): on the codec's grid, so it shows.
                r.x += if r.x < 500.0 { 0.0625 } else { -0.0625 };
            }
        }
    }
}

/// Tag's config and the tick of the bug.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct LeakyConfig {
    tag: TagConfig,
    k: u32,
}

/// Records `ticks` ticks of `Leaky` with its bug at tick `k` into a file, then verifies it;
/// returns the verdict and the recorded snapshots.
fn record_and_verify(k: u32, ticks: u32, keyframe_interval: u32) -> (Verdict, Vec<Snapshot>) {
    ROOMS_AT_K.with(|n| n.set(0));
    let config = LeakyConfig { tag: TagConfig::default(), k };
    let session = common::record::<Leaky>(&config, 9, 3, ticks, keyframe_interval, |t, p| Run {
        x: ((t / 7 + p) % 3) as i8 - 1,
        y: ((t / 11 + p) % 3) as i8 - 1,
    });
    let file = std::fs::File::open(session.file(&format!("leaky-{k}.twr"))).expect("written");
    let mut reader =
        tickwire_replay::reader::Reader::new(std::io::BufReader::new(file)).expect("a header");
    let header = reader.header().clone();
    let mut registry = Registry::empty();
    registry.register::<Leaky>();
    let mut room = registry.open(&RoomSetup::of(&header)).expect("opens");
    let schema = <TagProtocol as GameProtocol>::schema().components();
    let verdict = verify(room.as_mut(), Steps::new(reader.by_ref(), schema)).expect("replays");
    (verdict, session.snapshots)
}

#[test]
fn verify_fails_at_the_tick_of_the_bug_and_diffs_at_the_next_keyframe() {
    let (Verdict::Diverged(counts, d), _) = record_and_verify(47, 120, 30) else {
        panic!("a leaky game verified")
    };
    assert_eq!((d.tick, counts.ticks), (Tick(47), 47));
    assert!(matches!(d.cause, Cause::Checksum { .. }), "{:?}", d.cause);
    assert_eq!(d.source, DiffSource::LaterKeyframe(Tick(60)));
    assert!(
        d.differences
            .iter()
            .any(|x| matches!(x.change, Change::Field { component: "runner", field: "x", .. })),
        "{:?}",
        d.differences
    );
}

#[test]
fn on_a_keyframe_the_diff_is_the_nudge_itself() {
    let (Verdict::Diverged(_, d), recorded_snapshots) = record_and_verify(90, 120, 30) else {
        panic!("a leaky game verified")
    };
    assert_eq!((d.tick, &d.source), (Tick(90), &DiffSource::Keyframe(Tick(90))));
    let [x] = d.differences.as_slice() else { panic!("one difference: {:?}", d.differences) };
    let Change::Field { component: "runner", field: "x", recorded, replayed } = &x.change else {
        panic!("{x}")
    };
    let (r, p) = (recorded.as_f64().expect("a number"), replayed.as_f64().expect("a number"));
    assert_eq!((p - r).abs(), 0.0625, "{x}");
    // The recorded value is the recording's own state at tick 90.
    let schema = <TagProtocol as GameProtocol>::schema().components();
    let runner = recorded_snapshots[89]
        .get(x.entity)
        .and_then(|e| e.get::<Runner>(schema, 0))
        .expect("recorded");
    assert_eq!(r, f64::from(runner.x));
}

#[test]
fn the_same_game_without_reaching_the_bug_verifies() {
    let (verdict, _) = record_and_verify(1000, 120, 30);
    assert!(matches!(verdict, Verdict::Ok(c) if c.ticks == 120 && c.keyframes == 4), "{verdict:?}");
}
