//! Running out of file descriptors on accept is logged, counted and survived. This file is its
//! own test process because it lowers the process's open-files limit.

mod common;

use std::time::Duration;

use common::*;
use tokio::net::TcpStream;

#[tokio::test]
async fn accept_survives_emfile() {
    let (soft, hard) = rlimit::Resource::NOFILE.get().expect("getrlimit");
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    // Leave a little room above what the runtime and the server already use.
    let in_use = std::fs::read_dir("/proc/self/fd").map(|d| d.count() as u64).unwrap_or(32);
    rlimit::Resource::NOFILE.set(in_use + 24, hard).expect("setrlimit");
    // Each client socket uses one descriptor here and the server's accepted socket another;
    // open until the server can no longer accept.
    let mut conns = Vec::new();
    for _ in 0..40 {
        match TcpStream::connect(addr).await {
            Ok(s) => conns.push(s),
            Err(_) => break,
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while metric(&server.handle.metrics().render(), "tickwire_accept_errors_total") == 0.0 {
        assert!(tokio::time::Instant::now() < deadline, "accept never failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Free descriptors again: the server recovers and serves a real session.
    conns.clear();
    rlimit::Resource::NOFILE.set(soft, hard).expect("restore limit");
    let mut c = TestClient::join(addr, "lobby", "after").await;
    c.next_snapshot().await;
    server.stop().await.expect("clean stop");
}
