//! Snapshot fan-out is shared: clients with the same baseline get the same encoded bytes, so the
//! server encodes about once per tick, not once per client. And 60 Hz works.

mod common;

use common::*;

#[tokio::test]
async fn clients_with_the_same_baseline_share_one_encoding() {
    let mut arena = small_arena();
    arena.npcs.count = 200;
    let server = server_with(arena, |_| {}).await;
    let addr = server.handle.addr();
    let mut clients = Vec::new();
    for i in 0..8 {
        clients.push(TestClient::join(addr, "lobby", &format!("p{i}")).await);
    }
    for c in &mut clients {
        c.catch_up(&server.handle).await;
    }
    for _ in 0..30 {
        for c in &mut clients {
            c.next_snapshot().await;
        }
    }
    let text = server.handle.metrics().render();
    let encodes = metric(&text, "tickwire_snapshot_encodes_total");
    let sent: usize = clients.iter().map(|c| c.snapshots).sum();
    assert!(sent >= 240, "{sent} snapshots received");
    // One encode per tick for everyone in step (plus a few full ones while joining), far below
    // one per client per tick.
    assert!(encodes * 3.0 < sent as f64, "{encodes} encodes for {sent} snapshots sent");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn sixty_hertz_rooms_tick_and_replicate() {
    let server =
        server_with(tickwire_arena::ArenaConfig { tick_rate: 60, ..small_arena() }, |_| {}).await;
    let mut c = TestClient::join(server.handle.addr(), "lobby", "fast").await;
    assert_eq!(c.welcome.tick_rate, 60);
    c.catch_up(&server.handle).await;
    let start = std::time::Instant::now();
    let first = c.next_snapshot().await.tick();
    let mut last = first;
    for _ in 0..60 {
        last = c.next_snapshot().await.tick();
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = f64::from(last.diff(first) as u32) / secs;
    // Loose bounds: shared CI machines are noisy; 30 Hz would be far outside them.
    assert!((45.0..=80.0).contains(&rate), "{rate:.1} ticks/s");
    server.stop().await.expect("clean stop");
}
