//! Arena snapshots round-trip through the protocol's codec, full and as deltas, bit for bit.

use glam::Vec2;
use tickwire_protocol::message::InputFrame;
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{Snapshot, SnapshotEncoder};
use tickwire_sim::arena::{BODY, Body, HEADING, Heading, NPC, Npc, PLAYER, Player};
use tickwire_sim::{Arena, ArenaConfig, PlayerCommand, schema};

#[test]
fn full_and_delta_round_trip() {
    let mut arena = Arena::new(ArenaConfig::default()).expect("valid config");
    let players: Vec<_> = (0..8).map(|i| arena.add_player(&format!("p{i}"))).collect();
    let mut enc = SnapshotEncoder::new();
    let limits = DecodeLimits::default();
    let mut client: Option<Snapshot> = None;
    let mut history: Vec<Snapshot> = Vec::new();
    for t in 0..90u32 {
        let cmds: Vec<_> = players
            .iter()
            .enumerate()
            .map(|(i, &entity)| PlayerCommand {
                entity,
                input: InputFrame {
                    tick: arena.tick().next(),
                    move_x: (i as i8).wrapping_mul(37).wrapping_add(t as i8),
                    move_y: 127 - (i as i8) * 15,
                    aim: (t * 1000) as u16,
                    ..InputFrame::default()
                },
                view: None,
            })
            .collect();
        arena.step(&cmds);
        let snap = arena.snapshot(Snapshot::default());
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
    assert_eq!(snap.len(), arena.entity_count());
    assert_eq!(snap.tick(), arena.tick());
    for &id in &players {
        let view = arena.player(id).expect("player");
        let e = snap.get(id).expect("replicated");
        let body: Body = e.get(schema(), BODY).expect("body");
        assert_eq!((body.pos(), body.velocity()), (view.pos, view.velocity));
        let p: Player = e.get(schema(), PLAYER).expect("player");
        assert_eq!((p.health, p.score, p.alive), (view.health, view.score, view.alive));
        let h: Heading = e.get(schema(), HEADING).expect("heading");
        let err = (h.angle - view.aim).rem_euclid(std::f32::consts::TAU);
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
    let mut arena = Arena::new(config).expect("valid config");
    let a = arena.add_player("a");
    let b = arena.add_player("b");
    assert_eq!((a.0, b.0), (10, 11), "ids continue after the NPCs");
    let snap = arena.snapshot(Snapshot::default());
    assert_eq!(snap.ids().len(), 12);
    assert!(arena.remove_player(a));
    assert!(!arena.remove_player(a));
    let c = arena.add_player("c");
    assert_eq!(c.0, 12, "ids are never reused");
    let snap = arena.snapshot(snap);
    assert_eq!(snap.len(), 12);
    assert!(snap.get(a).is_none() && snap.get(c).is_some());
    assert_eq!(arena.entity_count(), 12);
    assert_eq!(arena.player_count(), 2);
    let pos = arena.player(c).expect("player").pos;
    assert!(arena.spawn_points().contains(&pos));
    assert!(!arena.place_player(c, Vec2::new(230.0, 300.0)), "inside a wall");
    assert!(arena.place_player(c, Vec2::new(100.01, 100.0)));
    assert_eq!(arena.player(c).map(|p| p.pos), Some(Vec2::new(100.0, 100.0)));
}
