//! Shared helpers of the client's end-to-end tests.

use std::time::Duration;

use tickwire_server::{RunningServer, ServerConfig};

/// A server on 127.0.0.1, port 0, with the test configuration.
pub(crate) async fn server() -> RunningServer {
    tickwire_server::spawn(ServerConfig::for_tests()).await.expect("server starts")
}

/// Polls `cond` every 5 ms until it holds; panics after 10 s with `what`.
pub(crate) async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tick.tick().await;
    }
}
