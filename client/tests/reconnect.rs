//! Automatic reconnection against a real in-process server over real sockets: a dropped
//! connection comes back as the same player; an expired session comes back as a new one; a
//! server that is gone makes the client give up after its limit with a clear reason; leaving
//! while reconnecting stops at once.

mod common;

use std::time::Duration;

use common::wait_until;
use tickwire_arena::{ArenaEvent, ArenaProtocol};
use tickwire_client::{
    Client, ClientConfig, ClientEvent, Connection, EndReason, Outage, ReconnectPolicy, connect,
};
use tickwire_server::ServerConfig;

fn config(url: String, policy: ReconnectPolicy) -> ClientConfig<ArenaProtocol> {
    ClientConfig { reconnect: policy, ..common::arena(url, "lobby", "flaky") }
}

fn quick(max_attempts: u32) -> ReconnectPolicy {
    ReconnectPolicy {
        max_attempts,
        initial_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        seed: Some(1),
        ..ReconnectPolicy::default()
    }
}

/// The next event that is not a game event, within 10 s.
async fn next_status(client: &mut Client<ArenaProtocol>) -> ClientEvent<ArenaEvent> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), client.next_event())
            .await
            .expect("an event in time")
            .expect("the session is still running");
        if !matches!(event, ClientEvent::Event(_)) {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_comes_back_as_the_same_player() {
    let server = common::server().await;
    let mut client = connect(config(server.handle.ws_url(), quick(5))).await.expect("connects");
    let first = client.welcome();
    wait_until("snapshots", || client.stats().snapshots >= 5).await;
    assert_eq!(client.connection(), Connection::Connected);

    client.drop_connection();
    match next_status(&mut client).await {
        ClientEvent::Reconnecting {
            outage: Outage { attempt: 1, max_attempts: 5, cause },
            delay,
        } => {
            assert_eq!(cause, EndReason::ConnectionLost);
            assert!(delay <= Duration::from_millis(50), "{delay:?}");
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    let back = match next_status(&mut client).await {
        ClientEvent::Resumed(w) => w,
        other => panic!("expected Resumed, got {other:?}"),
    };
    assert_eq!((back.client_id, back.entity), (first.client_id, first.entity));
    assert!(back.resumed);
    assert_eq!(client.welcome(), back);
    assert_eq!(client.connection(), Connection::Connected);
    let before = client.stats();
    wait_until("snapshots after the resume", || client.stats().snapshots >= before.snapshots + 10)
        .await;
    let stats = client.stats();
    assert_eq!((stats.resumes, stats.sessions_lost, stats.reconnect_attempts), (1, 0, 1));
    assert_eq!(stats.full_snapshots, 2, "one full snapshot per connection");
    let mut samples = tickwire_client::Samples::default();
    client.take_samples(&mut samples);
    assert_eq!(samples.outage_us.len(), 1, "the outage is measured");
    assert!(samples.outage_us[0] < 5_000_000, "{:?}", samples.outage_us);
    assert_eq!(stats.decode_errors, 0);
    let metrics = server.handle.metrics().render();
    assert!(metrics.contains("tickwire_resumes_total{outcome=\"resumed\"} 1"), "{metrics}");
    assert_eq!(client.close().await, EndReason::Left);
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_comes_back_as_a_new_player() {
    let cfg = ServerConfig { resume_grace_ms: 50, ..ServerConfig::for_tests() };
    let server = common::spawn(cfg).await;
    // The first attempt waits longer than the server keeps the player.
    let policy = ReconnectPolicy {
        initial_delay: Duration::from_millis(600),
        max_delay: Duration::from_millis(600),
        seed: Some(2),
        ..ReconnectPolicy::default()
    };
    let mut client = connect(config(server.handle.ws_url(), policy)).await.expect("connects");
    let first = client.welcome();
    client.drop_connection();
    assert!(matches!(next_status(&mut client).await, ClientEvent::Reconnecting { .. }));
    // The resume is refused (ResumeFailed); the next attempt, at once, joins afresh.
    match next_status(&mut client).await {
        ClientEvent::Reconnecting { outage: Outage { attempt: 2, .. }, delay } => {
            assert_eq!(delay, Duration::ZERO)
        }
        other => panic!("expected a second attempt, got {other:?}"),
    }
    let again = match next_status(&mut client).await {
        ClientEvent::Rejoined(w) => w,
        other => panic!("expected Rejoined, got {other:?}"),
    };
    assert!(!again.resumed);
    assert_ne!(again.client_id, first.client_id, "a new session");
    assert_eq!(client.welcome().entity, again.entity);
    let stats = client.stats();
    assert_eq!((stats.resumes, stats.sessions_lost), (0, 1));
    wait_until("the new player is replicated", || {
        client.with_state(|s| s.latest_snapshot().is_some_and(|l| l.get(again.entity).is_some()))
    })
    .await;
    assert_eq!(client.close().await, EndReason::Left);
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_server_makes_the_client_give_up_after_its_limit() {
    let server = common::server().await;
    let policy = ReconnectPolicy { initial_delay: Duration::from_millis(300), ..quick(3) };
    let mut client = connect(config(server.handle.ws_url(), policy)).await.expect("connects");
    client.drop_connection();
    assert!(matches!(
        next_status(&mut client).await,
        ClientEvent::Reconnecting { outage: Outage { attempt: 1, .. }, .. }
    ));
    server.stop().await.expect("server stops"); // before the first attempt
    let mut attempts = 1;
    let end = loop {
        match next_status(&mut client).await {
            ClientEvent::Reconnecting { outage: Outage { attempt, .. }, .. } => {
                attempts += 1;
                assert_eq!(attempt, attempts);
            }
            ClientEvent::Ended(reason) => break reason,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(attempts, 3);
    match &end {
        EndReason::GaveUp { attempts: 3, last_error } => {
            assert!(last_error.contains("refused") || last_error.contains("i/o"), "{last_error}")
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert_eq!(end.label(), "reconnect_failed");
    assert_eq!(client.connection(), Connection::Ended(end.clone()));
    assert_eq!(client.end_reason(), Some(end.clone()));
    assert_eq!(client.closed().await, end);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_while_reconnecting_stops_at_once() {
    let server = common::server().await;
    let policy = ReconnectPolicy { initial_delay: Duration::from_secs(30), ..quick(3) };
    let mut client = connect(config(server.handle.ws_url(), policy)).await.expect("connects");
    client.drop_connection();
    assert!(matches!(next_status(&mut client).await, ClientEvent::Reconnecting { .. }));
    assert!(matches!(client.connection(), Connection::Reconnecting(Outage { attempt: 1, .. })));
    let ended = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
    assert_eq!(ended.expect("does not wait for the backoff"), EndReason::Left);
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reconnect_disabled_a_drop_ends_the_session() {
    let server = common::server().await;
    let url = server.handle.ws_url();
    let mut client = connect(config(url, ReconnectPolicy::disabled())).await.expect("connects");
    client.drop_connection();
    assert_eq!(next_status(&mut client).await, ClientEvent::Ended(EndReason::ConnectionLost));
    server.stop().await.expect("server stops");
}
