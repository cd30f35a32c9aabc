//! No allocation per client per tick on the server's hot path (issue 16): a room's tick and
//! every client's writer work (`ClientLink::take` and `Published::render` against the frame the
//! client was sent last) allocate the same whether 100 or 400 clients are attached. What a tick
//! allocates belongs to the room (its snapshot, its events), never to each client.
//!
//! A counting global allocator counts the allocations of 30 ticks after warm-up; the clients
//! are idle, so that the world (1,000 NPCs, 25% moving) does the same work either way.

#[path = "../benches/common/mod.rs"]
#[allow(dead_code)] // the benches' helpers; this test uses `arena_room`
mod common;

use std::alloc::System;
use std::sync::Arc;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tickwire_arena::Arena;
use tickwire_benches::Scenario;
use tickwire_protocol::ClientId;
use tickwire_server::room::Shown;
use tickwire_server::room::link::{ClientLink, Outgoing};
use tickwire_server::room::task::Room;

/// Counts every allocation of the process. This file holds one test, so nothing else runs
/// while it counts.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// One attached client: its link and what its writer keeps between ticks.
struct Client {
    link: Arc<ClientLink>,
    last_sent: Option<Shown>,
    outgoing: Outgoing,
    buf: Vec<u8>,
}

/// The room's tick, then every writer's take and render (the bench `server_tick`'s path).
fn tick(room: &mut Room<Arena>, clients: &mut [Client]) {
    room.tick(true);
    for c in clients {
        c.link.take(&mut c.outgoing);
        c.outgoing.batches.clear();
        if let Some(published) = c.outgoing.snapshot.take() {
            published.render(c.last_sent.as_ref(), &mut c.buf);
            c.last_sent = Some(published.shown);
        }
    }
}

/// Allocations per tick with `n` idle clients, after warm-up.
fn allocations_per_tick(n: usize) -> f64 {
    const TICKS: usize = 30;
    let scenario = Scenario::new(1_000, 0.25);
    let (mut room, game, _metrics) = common::arena_room(&scenario, n);
    let mut clients: Vec<Client> = (0..n)
        .map(|i| {
            let link = Arc::new(ClientLink::new(ClientId(i as u32 + 1), game.release_mask.clone()));
            room.join(format!("bot{i}"), None, link.clone()).expect("room has space");
            Client { link, last_sent: None, outgoing: Outgoing::default(), buf: Vec::new() }
        })
        .collect();
    // Full snapshots first, then deltas; buffers and histories reach their working sizes.
    for _ in 0..64 {
        tick(&mut room, &mut clients);
    }
    let region = Region::new(GLOBAL);
    for _ in 0..TICKS {
        tick(&mut room, &mut clients);
    }
    let stats = region.change();
    (stats.allocations + stats.reallocations) as f64 / TICKS as f64
}

#[test]
fn a_tick_allocates_nothing_per_client() {
    // Both past the thresholds where a room's own buffers change shape (the lag-compensation
    // grid is built from 64 players on), so that only per-client work could differ.
    let few = allocations_per_tick(100);
    let many = allocations_per_tick(400);
    println!("allocations per tick: {few:.1} with 100 clients, {many:.1} with 400");
    // Not one more per tick: even a buffer rebuilt each tick that grows with the clients (a
    // `collect` of them: a reallocation per doubling) shows here.
    assert!(
        many - few < 0.5,
        "{:.1} more allocations per tick with 400 clients than with 100 ({few:.1} and {many:.1})",
        many - few
    );
}
