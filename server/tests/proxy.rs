//! Behind a proxy or load balancer (`--trusted-proxies`, `--proxy-protocol`): the per-IP cap
//! and the logs use the client a trusted proxy names, and nobody else can name one. Real
//! sockets on port 0, then a real nginx (Debian's, `scripts/install-test-deps.sh fleet`)
//! terminating TLS in front of a server, running the block of `deploy/README.md`.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{WAIT, hello, metric};
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use tickwire_arena::ArenaProtocol;
use tickwire_client::{ClientEvent, connect};
use tickwire_protocol::codec::{decode_server, encode_client};
use tickwire_protocol::message::{ClientMessage, ServerMessage, Welcome};
use tickwire_server::RunningServer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const README: &str = include_str!("../../deploy/README.md");

/// Says hello on `ws`; the welcome, once three snapshots followed it (the session plays).
async fn plays<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    name: &str,
) -> Welcome {
    let hello = encode_client(&ClientMessage::Hello(hello("lobby", name)));
    ws.send(Message::Binary(hello.into())).await.expect("send the hello");
    let (mut welcome, mut snapshots) = (None, 0);
    while snapshots < 3 {
        let frame = tokio::time::timeout(WAIT, ws.next()).await.expect("in time");
        let Some(Ok(Message::Binary(b))) = frame else {
            panic!("{name}: the session ended: {frame:?}");
        };
        match decode_server(&b).expect("decodes") {
            ServerMessage::Welcome(w) => welcome = Some(w),
            ServerMessage::Snapshot(_) if welcome.is_some() => snapshots += 1,
            ServerMessage::Reject(r) => panic!("{name}: rejected: {r:?}"),
            _ => {}
        }
    }
    welcome.expect("welcomed")
}

/// Opens `/ws` on `stream` with `headers`; the socket, or the HTTP status it was refused with
/// (0: closed without an answer).
async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    url: &str,
    headers: &[(&'static str, &str)],
) -> Result<WebSocketStream<S>, u16> {
    let mut request = url.into_client_request().expect("a request");
    for (name, value) in headers {
        request.headers_mut().append(*name, value.parse().expect("a header value"));
    }
    match tokio_tungstenite::client_async(request, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(r)) => Err(r.status().as_u16()),
        Err(_) => Err(0),
    }
}

/// `upgrade` over a new connection to `server`.
async fn ws(
    server: &RunningServer,
    headers: &[(&'static str, &str)],
) -> Result<WebSocketStream<TcpStream>, u16> {
    let tcp = TcpStream::connect(server.handle.addr()).await.expect("connect");
    upgrade(tcp, &format!("ws://{}/ws", server.handle.addr()), headers).await
}

fn xff(value: &str) -> [(&'static str, &str); 1] {
    [("x-forwarded-for", value)]
}

fn metrics(server: &RunningServer) -> String {
    server.handle.metrics().render()
}

#[tokio::test]
async fn an_untrusted_peer_cannot_escape_its_cap_by_spoofing() {
    let server = common::server(|c| {
        c.max_connections_per_ip = 2;
        c.trusted_proxies = vec!["10.0.0.0/8".parse().expect("a network")];
    })
    .await;
    let mut a = ws(&server, &xff("1.2.3.4")).await.expect("first");
    let mut b = ws(&server, &[("forwarded", "for=1.2.3.5")]).await.expect("second");
    plays(&mut a, "a").await;
    plays(&mut b, "b").await;
    // A third "client" from the same peer is refused at accept time, whatever it claims.
    assert_eq!(ws(&server, &xff("1.2.3.6")).await.err(), Some(429));
    let text = metrics(&server);
    assert_eq!(
        metric(&text, "tickwire_forwarding_ignored_total{header=\"x-forwarded-for\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tickwire_forwarding_ignored_total{header=\"forwarded\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(metric(&text, "tickwire_http_rejected_total{reason=\"ip_limit\"}"), 1.0, "{text}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_trusted_proxy_gets_the_cap_applied_per_forwarded_client() {
    let server = common::server(|c| {
        c.max_connections_per_ip = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    })
    .await;
    let mut held = Vec::new();
    for (client, name) in
        [("1.1.1.1", "a1"), ("1.1.1.1", "a2"), ("2001:db8::2", "b1"), ("2001:db8::2", "b2")]
    {
        let mut s = ws(&server, &xff(client)).await.unwrap_or_else(|s| panic!("{name}: {s}"));
        plays(&mut s, name).await;
        held.push(s);
    }
    // N+1 from one forwarded client: 429, also when it prepends a lie or sends another header.
    assert_eq!(ws(&server, &xff("1.1.1.1")).await.err(), Some(429));
    assert_eq!(ws(&server, &xff("9.9.9.9, 1.1.1.1")).await.err(), Some(429));
    assert_eq!(
        ws(&server, &[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=3.3.3.3")]).await.err(),
        Some(429)
    );
    assert_eq!(ws(&server, &xff("[2001:db8::2]:4711")).await.err(), Some(429));
    // A malformed header from a trusted proxy is not guessed at.
    assert_eq!(ws(&server, &xff("1.1.1.1, junk")).await.err(), Some(400));
    // The proxy itself (no header) is a client of its own.
    let mut own = ws(&server, &[]).await.expect("the proxy's own request");
    plays(&mut own, "proxy").await;
    // A session that ends gives its client's slot back.
    drop(held.remove(0));
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut again = loop {
        match ws(&server, &xff("1.1.1.1")).await {
            Ok(s) => break s,
            Err(429) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(s) => panic!("refused: {s}"),
        }
    };
    plays(&mut again, "a3").await;
    let text = metrics(&server);
    assert_eq!(
        metric(&text, "tickwire_forwarding_ignored_total{header=\"forwarded\"}"),
        0.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tickwire_http_rejected_total{reason=\"forwarded_malformed\"}"),
        1.0,
        "{text}"
    );
    server.stop().await.expect("clean stop");
}

/// A PROXY v2 header for a TCP client at `source`.
fn proxy_header(source: SocketAddr) -> Vec<u8> {
    let mut h = tickwire_server::proxy::v2::SIGNATURE.to_vec();
    match source.ip() {
        IpAddr::V4(ip) => {
            h.extend([0x21, 0x11, 0, 12]);
            h.extend(ip.octets());
            h.extend([127, 0, 0, 1]);
        }
        IpAddr::V6(ip) => {
            h.extend([0x21, 0x21, 0, 36]);
            h.extend(ip.octets());
            h.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        }
    }
    h.extend(source.port().to_be_bytes());
    h.extend(443u16.to_be_bytes());
    h
}

/// A new connection to `server` that starts with `prefix`, then `/ws`.
async fn ws_after(
    server: &RunningServer,
    prefix: &[u8],
) -> Result<WebSocketStream<TcpStream>, u16> {
    let mut tcp = TcpStream::connect(server.handle.addr()).await.expect("connect");
    tcp.write_all(prefix).await.expect("write the prefix");
    upgrade(tcp, &format!("ws://{}/ws", server.handle.addr()), &[]).await
}

#[tokio::test]
async fn the_proxy_protocol_names_the_client_and_only_from_trusted_proxies() {
    let trusted = common::server(|c| {
        c.max_connections_per_ip = 1;
        c.trusted_proxies = vec!["127.0.0.0/8".parse().expect("a network")];
        c.proxy_protocol = true;
    })
    .await;
    let v4 = proxy_header("198.51.100.7:50000".parse().expect("addr"));
    let mut a = ws_after(&trusted, &v4).await.expect("the named client");
    plays(&mut a, "a").await;
    let again = proxy_header("198.51.100.7:50001".parse().expect("addr"));
    assert_eq!(ws_after(&trusted, &again).await.err(), Some(429), "its cap is its own");
    let v6 = proxy_header("[2001:db8::7]:50000".parse().expect("addr"));
    let mut b = ws_after(&trusted, &v6).await.expect("another client");
    plays(&mut b, "b").await;
    // A trusted proxy's connection without the header, or with a bad one, is closed.
    assert_eq!(ws_after(&trusted, &[]).await.err(), Some(0));
    let mut oversized = v4.clone();
    oversized[14..16].copy_from_slice(&[0x10, 0x00]);
    assert_eq!(ws_after(&trusted, &oversized).await.err(), Some(0));
    // LOCAL: the proxy's own health check, as itself.
    let mut local = TcpStream::connect(trusted.handle.addr()).await.expect("connect");
    let mut check = tickwire_server::proxy::v2::SIGNATURE.to_vec();
    check.extend([0x20, 0x00, 0, 0]);
    check.extend(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    local.write_all(&check).await.expect("write");
    let mut answer = String::new();
    local.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let text = metrics(&trusted);
    assert_eq!(
        metric(&text, "tickwire_http_rejected_total{reason=\"proxy_header\"}"),
        2.0,
        "{text}"
    );
    trusted.stop().await.expect("clean stop");

    // From a peer not trusted, a PROXY header is a spoofing attempt; plain clients are served.
    let untrusted = common::server(|c| {
        c.trusted_proxies = vec!["10.0.0.0/8".parse().expect("a network")];
        c.proxy_protocol = true;
    })
    .await;
    assert_eq!(ws_after(&untrusted, &v4).await.err(), Some(0));
    assert_eq!(
        ws_after(&untrusted, b"PROXY TCP4 198.51.100.7 127.0.0.1 1 2\r\n").await.err(),
        Some(0)
    );
    let mut plain = ws(&untrusted, &[]).await.expect("a direct client");
    plays(&mut plain, "direct").await;
    let text = metrics(&untrusted);
    assert_eq!(
        metric(&text, "tickwire_forwarding_ignored_total{header=\"proxy-protocol\"}"),
        2.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tickwire_http_rejected_total{reason=\"proxy_header_untrusted\"}"),
        2.0,
        "{text}"
    );
    untrusted.stop().await.expect("clean stop");
}

/// A running nginx, killed (and its directory removed) on drop.
struct Nginx {
    child: std::process::Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const NGINX: &str = "/usr/sbin/nginx";

/// The README's nginx block, with this test's port, certificate and upstream.
fn readme_server_block(port: u16, dir: &Path, upstream: SocketAddr) -> String {
    let block = README
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("deploy/README.md has an nginx block");
    let mut block = block.to_owned();
    for (from, to) in [
        ("listen 443 ssl;", format!("listen 127.0.0.1:{port} ssl;")),
        ("/etc/ssl/certs/game.example.com.pem", dir.join("cert.pem").display().to_string()),
        ("/etc/ssl/private/game.example.com.key", dir.join("key.pem").display().to_string()),
        ("http://127.0.0.1:7777", format!("http://{upstream}")),
    ] {
        assert!(block.contains(from), "the README's nginx block no longer has `{from}`");
        block = block.replace(from, &to);
    }
    block
}

/// Starts nginx in front of `upstream` with the README's block, TLS with `certified`.
async fn nginx(upstream: SocketAddr, certified: &rcgen::CertifiedKey<rcgen::KeyPair>) -> Nginx {
    assert!(
        Path::new(NGINX).exists(),
        "{NGINX} is missing: run scripts/install-test-deps.sh fleet (installs nginx)"
    );
    let dir = std::env::temp_dir().join(format!("tickwire-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).expect("write cert");
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).expect("write key");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let d = dir.display();
    // As root nginx would hand its work to `nobody`; one process, the test's own user.
    let user = if rustix::process::geteuid().is_root() { "user root;" } else { "" };
    let conf = format!(
        "daemon off;\nmaster_process off;\n{user}\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{}\n}}\n",
        readme_server_block(port, &dir, upstream)
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("write the config");
    let child = std::process::Command::new(NGINX)
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx starts");
    let mut nginx = Nginx { child, dir, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
    let deadline = tokio::time::Instant::now() + WAIT;
    while TcpStream::connect(nginx.addr).await.is_err() {
        let exited = nginx.child.try_wait().expect("nginx status");
        if exited.is_some() || tokio::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default();
            panic!("nginx did not start ({exited:?}):\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nginx
}

/// A TLS connection to nginx from the loopback address `source` (any 127/8 address is this
/// machine), then `/ws`.
async fn wss_from(
    source: [u8; 4],
    nginx: &Nginx,
    tls: &tokio_rustls::TlsConnector,
) -> Result<WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>, u16> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((source, 0))).expect("bind the source address");
    let tcp = socket.connect(nginx.addr).await.expect("connect to nginx");
    let name = ServerName::try_from("localhost").expect("name");
    let stream = tls.connect(name, tcp).await.expect("TLS handshake with nginx");
    upgrade(stream, &format!("wss://localhost:{}/ws", nginx.addr.port()), &[]).await
}

/// The server's log, captured (debug) for this binary's tests.
fn capture_logs() -> Arc<parking_lot::Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Sink(Arc<parking_lot::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sink = Sink(logs.clone());
    tracing_subscriber::fmt()
        .with_env_filter("tickwire_server=debug")
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init()
        .expect("the only subscriber of this test binary");
    logs
}

#[tokio::test]
async fn through_nginx_with_tls_caps_apply_per_client_and_sessions_resume() {
    let logs = capture_logs();
    let server = common::server(|c| {
        c.max_connections_per_ip = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
        c.resume_grace_ms = 10_000;
    })
    .await;
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let nginx = nginx(server.handle.addr(), &certified).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).expect("trust the test certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config));

    // Two clients from 127.0.0.2 fill its cap; a third is refused; 127.0.0.3 has its own.
    let mut first = wss_from([127, 0, 0, 2], &nginx, &tls).await.expect("first from .2");
    plays(&mut first, "two-a").await;
    let mut second = wss_from([127, 0, 0, 2], &nginx, &tls).await.expect("second from .2");
    plays(&mut second, "two-b").await;
    assert_eq!(wss_from([127, 0, 0, 2], &nginx, &tls).await.err(), Some(429));
    let mut other = wss_from([127, 0, 0, 3], &nginx, &tls).await.expect("from .3");
    plays(&mut other, "three").await;
    let log = String::from_utf8_lossy(&logs.lock()).into_owned();
    let admitted = |ip: &str| {
        log.lines()
            .filter(|l| {
                l.contains("session admitted") && l.contains(&format!("peer={ip} via 127.0.0.1:"))
            })
            .count()
    };
    assert_eq!(
        (admitted("127.0.0.2"), admitted("127.0.0.3")),
        (2, 1),
        "the log names the clients:\n{log}"
    );

    // The real client, over wss through nginx: it plays, its connection drops, it resumes.
    let url = format!("wss://localhost:{}/ws", nginx.addr.port());
    let config = tickwire_client::ClientConfig::<ArenaProtocol>::new(url, "lobby", "roamer")
        .with_ca_pem(certified.cert.pem().as_bytes())
        .expect("the certificate");
    let mut client = connect(config).await.expect("joins through nginx");
    let handle = client.handle();
    let before = handle.welcome();
    let snapshots = || handle.stats().snapshots;
    let deadline = tokio::time::Instant::now() + WAIT;
    while snapshots() < 10 {
        assert!(tokio::time::Instant::now() < deadline, "no snapshots through nginx");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.drop_connection();
    let resumed = loop {
        match tokio::time::timeout(WAIT, client.next_event()).await.expect("in time") {
            Some(ClientEvent::Resumed(w)) => break w,
            Some(ClientEvent::Rejoined(w)) => panic!("rejoined as a new player: {w:?}"),
            Some(ClientEvent::Ended(e)) => panic!("the session ended: {e:?}"),
            Some(_) => {}
            None => panic!("the client ended"),
        }
    };
    assert_eq!((resumed.client_id, resumed.entity), (before.client_id, before.entity));
    let after_resume = snapshots();
    while snapshots() < after_resume + 10 {
        assert!(tokio::time::Instant::now() < deadline + WAIT, "no snapshots after the resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = metrics(&server);
    assert_eq!(metric(&text, "tickwire_resumes_total{outcome=\"resumed\"}"), 1.0, "{text}");
    assert_eq!(metric(&text, "tickwire_forwarding_ignored_total{header=\"x-forwarded-for\"}"), 0.0);
    drop(client);
    drop(nginx);
    server.stop().await.expect("clean stop");
}
