//! Arena snapshots round-trip through the protocol's codec, full and as deltas, bit for bit.

mod common;

use common::{Cmd, Harness};
use glam::Vec2;
use tickwire_arena::{
    ArenaConfig, ArenaInput, BODY, Body, HEADING, Heading, NPC, Npc, PLAYER, Player, schema,
};
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{Snapshot, SnapshotEncoder};

#[test]
fn full_and_delta_round_trip() {
    let mut h = Harness::new(&ArenaConfig::default());
    let players: Vec<_> = (0..8).map(|i| h.join(&format!("p{i}"))).collect();
    let mut enc = SnapshotEncoder::new();
    let limits = DecodeLimits::default();
    let mut client: Option<Snapshot> = None;
    let mut history: Vec<Snapshot> = Vec::new();
    for t in 0..90u32 {
        let cmds: Vec<_> = players
            .iter()
            .enumerate()
            .map(|(i, &player)| Cmd {
                player,
                input: ArenaInput {
                    move_x: (i as i8).wrapping_mul(37).wrapping_add(t as i8).max(-127),
                    move_y: 127 - (i as i8) * 15,
                    aim: t as f32 * 0.1,
                    ..ArenaInput::IDLE
                },
                view: None,
            })
            .collect();
        h.step(&cmds);
        let snap = h.snapshot();
        // Full.
        let bytes = enc.encode(schema(), None, &snap);
        let full = decode(schema(), None, snap.tick(), &bytes, &limits).expect("decodes");
        assert_eq!(full, snap);
        // Delta against what the client has (sometimes a few ticks old).
        if let Some(base) = client.as_ref() {
            let bytes = enc.encode(schema(), Some(base), &snap);
            let got = decode(schema(), Some(base), snap.tick(), &bytes, &limits).expect("decodes");
            assert_eq!(got, snap);
        }
        if t % 3 == 0 {
            client = Some(snap.clone());
        }
        history.push(snap);
    }
    // What the client decodes is exactly the simulated state.
    let snap = history.last().expect("ticks ran");
    assert_eq!(snap.len(), h.sim.entity_count());
    assert_eq!(snap.tick(), h.tick());
    for &id in &players {
        let view = h.player(id);
        let e = snap.get(id).expect("replicated");
        let body: Body = e.get(schema(), BODY).expect("body");
        assert_eq!((body.pos(), body.velocity()), (view.pos, view.velocity));
        let p: Player = e.get(schema(), PLAYER).expect("player");
        assert_eq!((p.health, p.score, p.alive), (view.health, view.score, view.alive));
        let heading: Heading = e.get(schema(), HEADING).expect("heading");
        let err = (heading.angle - view.aim).rem_euclid(std::f32::consts::TAU);
        assert!(err.min(std::f32::consts::TAU - err) < 0.004, "10-bit heading");
        assert!(!e.has(NPC));
    }
    let npc = snap.entity(0).expect("NPC 0");
    assert!(npc.has(NPC) && !npc.has(PLAYER));
    assert!(npc.get::<Npc>(schema(), NPC).is_some_and(|n| n.kind <= 3));
}

#[test]
fn snapshot_reuses_and_tracks_players() {
    let mut config = ArenaConfig::default();
    config.npcs.count = 10;
    let mut h = Harness::new(&config);
    let a = h.join("a");
    let b = h.join("b");
    assert_eq!((a.0, b.0), (10, 11), "ids continue after the NPCs");
    let snap = h.snapshot();
    assert_eq!(snap.ids().len(), 12);
    h.leave(a);
    let c = h.join("c");
    assert_eq!(c.0, 12, "ids are never reused");
    let snap = h.sim.snapshot(snap).expect("unique ids");
    assert_eq!(snap.len(), 12);
    assert!(snap.get(a).is_none() && snap.get(c).is_some());
    assert_eq!(snap.ids(), {
        let mut ids = snap.ids().to_vec();
        ids.sort();
        ids
    });
    assert_eq!(h.sim.entity_count(), 12);
    assert_eq!(h.arena().player_count(), 2);
    let pos = h.player(c).pos;
    assert!(h.arena().spawn_points().contains(&pos));
    assert!(!h.place(c, Vec2::new(230.0, 300.0)), "inside a wall");
    assert!(h.place(c, Vec2::new(100.01, 100.0)));
    assert_eq!(h.player(c).pos, Vec2::new(100.0, 100.0));
}

#[test]
fn grid_values_quantize_exactly() {
    use tickwire_protocol::Replicate;
    use tickwire_protocol::schema::{FieldReader, FieldWriter};
    let fields = &schema().fields()[0..4];
    let body = Body { x: tickwire_arena::MAX_COORD, y: 0.031_25, vx: -64.0, vy: 3.34375 };
    let mut q = [0u32; 4];
    body.write(&mut FieldWriter::new(fields, &mut q));
    assert_eq!(q, [262_143, 1, 0, 2155]);
    assert_eq!(Body::read(&mut FieldReader::new(fields, &q)), body);
}
