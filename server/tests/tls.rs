//! `--tls-cert`/`--tls-key`: HTTPS and wss on the game port, with a self-signed certificate made
//! in the test.

mod common;

use std::sync::Arc;

use common::*;
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use tickwire_protocol::codec::{decode_server, encode_client};
use tickwire_protocol::message::{ClientMessage, ServerMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn wss_sessions_work_with_a_self_signed_certificate() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!("tickwire-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).expect("write cert");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key");

    let server = server(|c| {
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await;
    assert!(server.handle.ws_url().starts_with("wss://"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).expect("trust the test certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(server.handle.addr()).await.expect("connect");
    let tls = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("TLS handshake");
    let (mut ws, _) =
        tokio_tungstenite::client_async("wss://localhost/ws", tls).await.expect("wss upgrade");
    ws.send(Message::Binary(encode_client(&ClientMessage::Hello(hello("lobby", "secure"))).into()))
        .await
        .expect("send");
    let mut welcomed = false;
    let mut snapshots = 0;
    while snapshots < 3 {
        let Some(Ok(Message::Binary(b))) =
            tokio::time::timeout(WAIT, ws.next()).await.expect("in time")
        else {
            continue;
        };
        match decode_server(&b).expect("decodes") {
            ServerMessage::Welcome(_) => welcomed = true,
            ServerMessage::Snapshot(_) => snapshots += 1,
            _ => {}
        }
    }
    assert!(welcomed);
    // TLS sessions write through their own writer: the room never writes to them (issue 16).
    let direct = metric(&server.handle.metrics().render(), "tickwire_direct_writes_total");
    assert_eq!(direct, 0.0);

    // A plain-text client gets nowhere and is counted.
    let plain = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.handle.addr())).await;
    assert!(plain.is_err());
    server.stop().await.expect("clean stop");
    let _ = std::fs::remove_dir_all(&dir);
}
