//! A session against a real in-process server over real sockets on 127.0.0.1, port 0: welcome,
//! snapshots that reconstruct the server's world exactly, RTT, rejects and shutdown.

mod common;

use std::time::Duration;

use common::{server, wait_until};
use tickwire_client::{ClientError, EndReason, LinkConfig, connect};
use tickwire_protocol::message::{DisconnectReason, RejectReason};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_then_snapshots_that_equal_the_servers_world() {
    let server = server().await;
    let handle = server.handle.clone();
    let client = connect(common::arena(handle.ws_url(), "lobby", "ada")).await.expect("connects");
    assert_eq!(client.welcome().room, "lobby");
    assert_eq!(client.welcome().tick_rate, 30);

    // Compare five of the server's published snapshots with the client's reconstruction of
    // the same tick.
    let mut compared = 0;
    while compared < 5 {
        let Some(published) = handle.snapshot("lobby") else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let tick = published.tick();
        wait_until("the client receives the tick", || {
            client
                .with_state(|s| s.latest_snapshot().is_some_and(|l| !tick.is_newer_than(l.tick())))
        })
        .await;
        let held = client.with_state(|s| s.snapshot(tick).cloned());
        if let Some(held) = held {
            assert_eq!(held, published, "tick {tick}");
            assert!(held.get(client.welcome().entity).is_some(), "the player is replicated");
            compared += 1;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let stats = client.stats();
    assert!(stats.snapshots >= 5 && stats.full_snapshots == 1, "{stats:?}");
    assert_eq!(stats.decode_errors, 0);
    assert_eq!(client.close().await, EndReason::Left);
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtt_is_measured_both_ways_and_the_link_conditioner_adds_latency() {
    let server = server().await;
    let url = server.handle.ws_url();
    let mut config = common::arena(url.clone(), "lobby", "rtt");
    config.tuning.ping_interval = Duration::from_millis(100);
    let client = connect(config).await.expect("connects");
    wait_until("own pings answered and server pings seen", || {
        client.with_state(|s| s.rtt().is_some() && s.stats().pongs_received >= 2)
    })
    .await;
    let direct = client.with_state(|s| s.rtt_estimator().last()).expect("a sample");
    assert!(direct < Duration::from_millis(50), "loopback RTT {direct:?}");

    let mut slow = common::arena(url, "lobby", "slow");
    slow.tuning.ping_interval = Duration::from_millis(100);
    slow.link = LinkConfig { latency: Duration::from_millis(30), jitter: Duration::ZERO, seed: 1 };
    let slow = connect(slow).await.expect("connects");
    wait_until("pongs through the conditioner", || {
        slow.with_state(|s| s.stats().pongs_received >= 2)
    })
    .await;
    let rtt = slow.with_state(|s| s.rtt_estimator().last()).expect("a sample");
    assert!(rtt >= Duration::from_millis(60), "two 30 ms legs: {rtt:?}");
    assert!(rtt < Duration::from_millis(150), "{rtt:?}");
    // The server measures us too (its pings every second, answered with our held time).
    wait_until("the server's RTT report", || slow.with_state(|s| s.server_rtt().is_some())).await;
    let report = slow.with_state(|s| s.server_rtt()).expect("report");
    assert!(report.rtt_us >= 55_000, "{report:?}");
    drop((client, slow));
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_schema_hash_is_a_typed_reject() {
    let server = server().await;
    let mut config = common::arena(server.handle.ws_url(), "lobby", "old-build");
    config.schema_hash ^= 1;
    let err = connect(config).await.expect_err("refused");
    assert!(
        matches!(err, ClientError::Rejected(RejectReason::SchemaMismatch { server })
            if server == <tickwire_arena::ArenaProtocol as tickwire_protocol::GameProtocol>::schema().hash()),
        "{err:?}"
    );
    assert_eq!(err.label(), "rejected_schema_mismatch");
    let bad_url = connect(common::arena("http://127.0.0.1:1/ws", "lobby", "x")).await;
    assert!(matches!(bad_url, Err(ClientError::InvalidUrl { .. })));
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_shutdown_is_a_disconnect_reason() {
    let server = server().await;
    let mut client =
        connect(common::arena(server.handle.ws_url(), "lobby", "last")).await.expect("connects");
    wait_until("a snapshot", || client.stats().snapshots > 0).await;
    let stopping = tokio::spawn(server.stop());
    let reason = tokio::time::timeout(Duration::from_secs(10), client.closed())
        .await
        .expect("the session ends");
    assert_eq!(reason, EndReason::Server(DisconnectReason::ServerShutdown));
    assert_eq!(client.end_reason(), Some(reason));
    stopping.await.expect("joined").expect("server stops");
}
