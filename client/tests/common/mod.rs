//! Shared helpers of the client's end-to-end tests.

use std::time::Duration;

use tickwire_arena::{Arena, ArenaConfig};
use tickwire_server::{RunningServer, Server, ServerConfig};

/// A server on 127.0.0.1, port 0, with the test configuration, hosting the arena (50 NPCs).
pub(crate) async fn server() -> RunningServer {
    spawn(ServerConfig::for_tests()).await
}

/// A server with `config`, hosting the arena (50 NPCs).
pub(crate) async fn spawn(config: ServerConfig) -> RunningServer {
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 50;
    Server::builder(config).game::<Arena>(arena).spawn().await.expect("server starts")
}

/// A client configuration for the arena.
pub(crate) fn arena(
    url: impl Into<String>,
    room: &str,
    name: &str,
) -> tickwire_client::ClientConfig<tickwire_arena::ArenaProtocol> {
    tickwire_client::ClientConfig::new(url, room, name)
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
