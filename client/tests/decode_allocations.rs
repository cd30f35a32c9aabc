//! The snapshot path allocates nothing per snapshot once warmed up: a client that has filled
//! its history decodes each delta into the buffers of the snapshot it forgets, and one that
//! keeps only the newest decodes into that (issue 16: the bots' CPU went to allocating and
//! copying a fresh snapshot every tick). Nor does encoding what it sends (the tick's input)
//! into a buffer it reuses, as the driver does.
//!
//! A counting global allocator counts the allocations made while
//! [`ClientState::handle_message`] handles a snapshot message (built beforehand): moving NPCs,
//! one changed entity, and one despawn plus one spawn every tick, so that the change list and
//! the merge of spawns are on the path too.

use std::alloc::System;
use std::time::Duration;

use glam::Vec2;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tickwire_arena::{ArenaProtocol, BODY, Body, HEADING, Heading, NPC, Npc, PLAYER, Player};
use tickwire_client::{ClientConfig, ClientState, Samples, Tuning};
use tickwire_protocol::message::{ServerMessage, SnapshotMessage, Welcome};
use tickwire_protocol::{
    ClientId, EntityId, GameProtocol, Snapshot, SnapshotBuilder, SnapshotEncoder, Tick,
};

/// Counts every allocation of the process. This file holds one test, so nothing else runs
/// while it counts.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (and reallocations) made while `f` runs.
fn allocations_in(f: impl FnOnce()) -> usize {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    stats.allocations + stats.reallocations
}

const TICK: Duration = Duration::from_millis(33);
const NPCS: u32 = 300;

/// The room at `tick`: the player (entity 1) and `NPCS` NPCs, every third one walking; entity
/// `2 + tick % NPCS` is replaced by a new one each tick (one despawn, one spawn).
fn world(tick: u32) -> Snapshot {
    let schema = tickwire_arena::schema();
    let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
    b.entity(EntityId(1))
        .set(BODY, &Body::at(Vec2::new(100.0, 100.0)))
        .set(HEADING, &Heading::default())
        .set(PLAYER, &Player { health: 100, score: (tick % 7) as u16, alive: true });
    for n in 0..NPCS {
        // Entity ids are never reused: each slot's id grows by NPCS when it is replaced.
        let generation = (tick + NPCS - n) / NPCS;
        let id = 2 + n + generation * NPCS;
        let v = if n % 3 == 0 { 1.0 } else { 0.0 };
        let start = Vec2::new(200.0 + n as f32, 300.0);
        let body = Body { x: start.x + v * tick as f32, y: start.y, vx: v, vy: 0.0 };
        b.entity(EntityId(id)).set(BODY, &body).set(NPC, &Npc { kind: (n % 4) as u8 });
    }
    b.finish().expect("unique ids")
}

fn playing(tuning: Tuning) -> ClientState<ArenaProtocol> {
    let hello = ClientConfig::<ArenaProtocol>::new("ws://127.0.0.1/ws", "lobby", "bot").hello();
    let mut s = ClientState::new(
        hello,
        ArenaProtocol::schema(),
        Default::default(),
        tuning,
        Duration::ZERO,
    )
    .expect("valid hello");
    let welcome = Welcome {
        client_id: ClientId(1),
        entity: EntityId(1),
        tick_rate: 30,
        server_tick: Tick(10),
        room: "lobby".to_owned(),
        max_rewind_ms: 250,
        resumed: false,
        resume_secret: [7; 16],
        resume_grace_ms: 30_000,
    };
    s.handle_message(Duration::ZERO, ServerMessage::Welcome(welcome)).expect("welcome");
    s
}

#[test]
fn a_warm_client_decodes_snapshots_without_allocating() {
    // With the default history, and with a history of one (a bot's: the newest as a replica,
    // and the own entity read from it every snapshot).
    for history_len in [Tuning::default().history_len, 1] {
        decodes_without_allocating(Tuning { history_len, ..Tuning::default() });
    }
}

fn decodes_without_allocating(tuning: Tuning) {
    let schema = tickwire_arena::schema();
    let mut state = playing(tuning);
    let mut encoder = SnapshotEncoder::new();
    let mut samples = Samples::default();
    let mut previous: Option<Snapshot> = None;
    let mut counted = Vec::new();
    let mut encoded = Vec::new();
    let mut out = Vec::new();
    for tick in 11..111u32 {
        let current = world(tick);
        let msg = SnapshotMessage {
            tick: current.tick(),
            baseline: previous.as_ref().map(Snapshot::tick),
            last_input: None,
            payload: encoder.encode(schema, previous.as_ref(), &current),
        };
        let now = TICK * tick;
        let n = allocations_in(|| {
            state.handle_message(now, ServerMessage::Snapshot(msg)).expect("snapshot decodes");
        });
        state.send_input(now, &Default::default());
        let sent = allocations_in(|| {
            while state.poll_transmit_into(now, &mut out) {
                assert!(!out.is_empty());
            }
        });
        // After the history has filled up and the buffers have grown (a few ticks).
        if tick >= 31 {
            counted.push(n);
            encoded.push(sent);
        }
        state.take_samples(&mut samples);
        samples.clear();
        previous = Some(current);
    }
    assert_eq!(state.stats().snapshots, 100);
    assert_eq!(state.history().len(), tuning.history_len.min(100));
    assert_eq!(state.stats().decode_errors, 0);
    assert_eq!(state.latest_snapshot(), Some(&world(110)));
    let total: usize = counted.iter().sum();
    assert_eq!(total, 0, "allocations per snapshot after warm-up ({tuning:?}): {counted:?}");
    assert!(state.stats().inputs_sent >= 80, "{:?}", state.stats());
    let total: usize = encoded.iter().sum();
    assert_eq!(total, 0, "allocations per tick's sending after warm-up: {encoded:?}");
}
