//! `wss://` against a real in-process server with a self-signed certificate made in the test
//! (127.0.0.1, port 0, reached as `localhost` so the certificate's name matches).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{server as plain_server, wait_until};
use tickwire_client::{ClientError, EndReason, connect};
use tickwire_server::{RunningServer, ServerConfig};

/// A TLS server with a fresh self-signed certificate for `localhost`; returns it, its
/// certificate in PEM and the directory to remove.
async fn tls_server() -> (RunningServer, String, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!(
        "tickwire-client-tls-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).expect("write cert");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key");
    let mut config = ServerConfig::for_tests();
    config.tls_cert = Some(cert_path);
    config.tls_key = Some(key_path);
    let server = common::spawn(config).await;
    (server, certified.cert.pem(), dir)
}

/// Distinguishes the directories of tests running in parallel in one process.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn localhost_url(server: &RunningServer) -> String {
    format!("wss://localhost:{}/ws", server.handle.addr().port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_with_the_ca_gets_a_welcome_and_the_servers_snapshots() {
    let (server, pem, dir) = tls_server().await;
    let handle = server.handle.clone();
    assert!(handle.ws_url().starts_with("wss://"));
    let config = common::arena(localhost_url(&server), "lobby", "secure")
        .with_ca_pem(pem.as_bytes())
        .expect("the certificate parses");
    let client = connect(config).await.expect("connects over TLS");
    assert_eq!(client.welcome().room, "lobby");

    let mut compared = 0;
    while compared < 3 {
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
        if let Some(held) = client.with_state(|s| s.snapshot(tick).cloned()) {
            assert_eq!(held, published, "tick {tick}");
            compared += 1;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert_eq!(client.stats().decode_errors, 0);
    assert_eq!(client.close().await, EndReason::Left);
    server.stop().await.expect("server stops");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_without_a_trusted_ca_is_a_typed_tls_error_and_insecure_connects() {
    let (server, _pem, dir) = tls_server().await;
    let url = localhost_url(&server);

    let err = connect(common::arena(url.clone(), "lobby", "untrusting"))
        .await
        .expect_err("a self-signed certificate is not trusted by default");
    assert!(
        matches!(
            err,
            ClientError::Tls(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{err:?}"
    );
    assert_eq!(err.label(), "tls_invalid_certificate");

    // Trusting another certificate is no better.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let config = common::arena(url.clone(), "lobby", "wrong-ca")
        .with_ca_pem(other.cert.pem().as_bytes())
        .expect("parses");
    assert!(matches!(connect(config).await, Err(ClientError::Tls(_))));

    let config = common::arena(url, "lobby", "load-test").with_danger_accept_invalid_certs();
    let client = connect(config).await.expect("connects without verifying the certificate");
    wait_until("a snapshot", || client.stats().snapshots > 0).await;
    assert_eq!(client.close().await, EndReason::Left);

    // A plain ws:// client gets nowhere on a TLS port.
    let plain = format!("ws://127.0.0.1:{}/ws", server.handle.addr().port());
    assert!(connect(common::arena(plain, "lobby", "plain")).await.is_err());
    server.stop().await.expect("server stops");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_to_a_plain_server_fails_without_hanging() {
    let server = plain_server().await;
    let url = format!("wss://localhost:{}/ws", server.handle.addr().port());
    let mut config = common::arena(url, "lobby", "confused").with_danger_accept_invalid_certs();
    config.connect_timeout = Duration::from_secs(5);
    let err = connect(config).await.expect_err("no TLS on the other side");
    assert!(matches!(err, ClientError::Tls(_) | ClientError::Io(_)), "{err:?}");
    server.stop().await.expect("server stops");
}
