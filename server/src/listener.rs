//! The accept loop: connection caps, per-IP caps, HTTP/1 with a header timeout, upgrades.
//!
//! Each accepted TCP connection holds a [`ConnGuard`] (a global semaphore permit) for its whole
//! life, HTTP and WebSocket, and an [`IpSlot`] under the per-IP cap: a direct peer's for the
//! connection's life, taken at accept time; behind a trusted proxy, the client's, taken once the
//! proxy has named it (PROXY header or forwarding header, see [`crate::proxy`]). Over the global
//! cap the connection gets a bare 503, over the per-IP cap a 429, both written without reading
//! the request (behind a trusted proxy without the PROXY protocol, the 429 answers the request). An `accept` error
//! (such as running out of file descriptors) is counted, logged at most once a second, and
//! retried after a short pause: it is never fatal.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, warn};

use crate::ServerCtx;
use crate::proxy::{self, ClientAddr, forwarded, v2};

/// Open-connection accounting shared by the listener and the guards.
#[derive(Debug)]
pub(crate) struct Admission {
    permits: Arc<Semaphore>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_per_ip: usize,
}

impl Admission {
    pub(crate) fn new(max: usize, max_per_ip: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            per_ip: Mutex::new(HashMap::new()),
            max_per_ip,
        }
    }
}

/// Held by a connection for its whole life: its slot under the global cap.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    ctx: Arc<ServerCtx>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.ctx.metrics.connections.dec();
    }
}

/// A slot under the per-IP cap, released on drop. Held for a connection's life, or behind a
/// trusted proxy for a request's (see [`crate::proxy`]).
#[derive(Debug)]
pub(crate) struct IpSlot {
    ctx: Arc<ServerCtx>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.ctx.admission.per_ip.lock();
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Why a connection or a request is refused before any session exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The global cap: 503.
    ServerFull,
    /// The per-IP cap: 429.
    IpLimit,
    /// A trusted proxy's forwarding header names no client: 400.
    Forwarded,
}

impl Refusal {
    /// The metrics label (`tickwire_http_rejected_total{reason}`).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::ServerFull => "server_full",
            Self::IpLimit => "ip_limit",
            Self::Forwarded => "forwarded_malformed",
        }
    }

    /// The HTTP status.
    pub(crate) fn status(self) -> hyper::StatusCode {
        match self {
            Self::ServerFull => hyper::StatusCode::SERVICE_UNAVAILABLE,
            Self::IpLimit => hyper::StatusCode::TOO_MANY_REQUESTS,
            Self::Forwarded => hyper::StatusCode::BAD_REQUEST,
        }
    }
}

fn admit(ctx: &Arc<ServerCtx>) -> Result<ConnGuard, Refusal> {
    let permit =
        ctx.admission.permits.clone().try_acquire_owned().map_err(|_| Refusal::ServerFull)?;
    ctx.metrics.connections.inc();
    Ok(ConnGuard { ctx: ctx.clone(), _permit: permit })
}

fn admit_ip(ctx: &Arc<ServerCtx>, ip: IpAddr) -> Result<IpSlot, Refusal> {
    // A mapped address (`::ffff:1.2.3.4`) is the IPv4 client it maps.
    let ip = ip.to_canonical();
    let mut map = ctx.admission.per_ip.lock();
    let n = map.entry(ip).or_insert(0);
    if *n >= ctx.admission.max_per_ip {
        return Err(Refusal::IpLimit);
    }
    *n += 1;
    Ok(IpSlot { ctx: ctx.clone(), ip })
}

/// A served connection: its global slot, and whom its requests are accounted to.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The TCP peer.
    peer: SocketAddr,
    clients: Clients,
    _guard: ConnGuard,
}

/// Whose requests a connection carries.
#[derive(Debug)]
enum Clients {
    /// One client's, admitted under the per-IP cap for the connection's life: an untrusted
    /// peer (`trusted: false`, forwarding headers ignored and counted), or the client a
    /// trusted proxy's PROXY header named (`trusted: true`, forwarding headers ignored).
    One { addr: ClientAddr, trusted: bool, _slot: IpSlot },
    /// A trusted proxy's, without the PROXY protocol: each request names its client in its
    /// forwarding header and takes its own per-IP slot.
    PerRequest,
}

/// The client of one request, holding its own per-IP slot when it has one.
#[derive(Debug)]
pub(crate) struct RequestClient {
    /// Who the request is from, for the session and its logs.
    pub(crate) addr: ClientAddr,
    _slot: Option<IpSlot>,
}

impl Conn {
    /// The client of a request with `headers` on this connection, admitted under the per-IP
    /// cap if the request is accounted on its own.
    pub(crate) fn client_of(
        &self,
        ctx: &Arc<ServerCtx>,
        headers: &hyper::HeaderMap,
    ) -> Result<RequestClient, Refusal> {
        let (addr, trusted) = match &self.clients {
            Clients::One { addr, trusted, .. } => (*addr, *trusted),
            Clients::PerRequest => {
                let config = &ctx.config;
                let addr = match forwarded::client(
                    headers,
                    config.forwarded_header,
                    &config.trusted_proxies,
                ) {
                    Ok(Some((ip, port))) => ClientAddr::forwarded(ip, port, self.peer),
                    Ok(None) => ClientAddr::direct(self.peer),
                    Err(e) => {
                        debug!(peer = %self.peer, "trusted proxy's forwarding header refused: {e}");
                        return Err(Refusal::Forwarded);
                    }
                };
                let slot = admit_ip(ctx, addr.ip)?;
                return Ok(RequestClient { addr, _slot: Some(slot) });
            }
        };
        if !trusted && let Some(header) = forwarded::present(headers) {
            ctx.metrics.forwarding_ignored.get_or_create(&[("header", header.name())]).inc();
        }
        Ok(RequestClient { addr, _slot: None })
    }
}

/// Accepts connections until shutdown.
pub(crate) async fn serve(listener: TcpListener, ctx: Arc<ServerCtx>) {
    loop {
        let accepted = tokio::select! {
            () = ctx.shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                ctx.metrics.accept_errors.inc();
                if ctx.metrics.warn_allowed(ctx.uptime_ms()) {
                    warn!("accept failed (retrying): {e}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if ctx.config.send_buffer_bytes > 0 {
            let _ =
                socket2::SockRef::from(&stream).set_send_buffer_size(ctx.config.send_buffer_bytes);
        }
        let admitted = admit(&ctx).and_then(|guard| {
            if proxy::is_trusted(&ctx.config.trusted_proxies, peer.ip()) {
                return Ok((guard, None));
            }
            let clients = Clients::One {
                addr: ClientAddr::direct(peer),
                trusted: false,
                _slot: admit_ip(&ctx, peer.ip())?,
            };
            Ok((guard, Some(clients)))
        });
        match admitted {
            Ok((guard, None)) => {
                ctx.tracker.spawn(from_proxy(stream, peer, ctx.clone(), guard));
            }
            Ok((guard, Some(clients))) => {
                let conn = Conn { peer, clients, _guard: guard };
                ctx.tracker.spawn(from_peer(stream, conn, ctx.clone()));
            }
            Err(reason) => {
                ctx.metrics.http_rejected.get_or_create(&[("reason", reason.label())]).inc();
                ctx.tracker.spawn(refuse(stream, reason));
            }
        }
    }
}

/// An untrusted peer's connection, already admitted under the per-IP cap. With
/// `--proxy-protocol`, one that starts with a PROXY header is a spoofing attempt: refused.
async fn from_peer(stream: TcpStream, conn: Conn, ctx: Arc<ServerCtx>) {
    if ctx.config.proxy_protocol {
        let mut first = [0u8; v2::SIGNATURE.len()];
        let peeked = tokio::time::timeout(ctx.config.handshake_timeout(), stream.peek(&mut first));
        let refused = match peeked.await {
            Ok(Ok(0) | Err(_)) => return, // closed or failed before its first byte
            Ok(Ok(n)) if v2::looks_like_header(&first[..n]) => {
                let header = [("header", "proxy-protocol")];
                ctx.metrics.forwarding_ignored.get_or_create(&header).inc();
                "proxy_header_untrusted"
            }
            Ok(Ok(_)) => return secure_and_serve(stream, conn, ctx).await,
            Err(_) => "handshake_timeout",
        };
        ctx.metrics.http_rejected.get_or_create(&[("reason", refused)]).inc();
        debug!(peer = %conn.peer, reason = refused, "connection refused");
        return;
    }
    secure_and_serve(stream, conn, ctx).await;
}

/// A trusted proxy's connection: with `--proxy-protocol`, its PROXY header names the client,
/// admitted under the per-IP cap here; without, each request names its own.
async fn from_proxy(
    mut stream: TcpStream,
    peer: SocketAddr,
    ctx: Arc<ServerCtx>,
    guard: ConnGuard,
) {
    if !ctx.config.proxy_protocol {
        let conn = Conn { peer, clients: Clients::PerRequest, _guard: guard };
        return secure_and_serve(stream, conn, ctx).await;
    }
    let header =
        match tokio::time::timeout(ctx.config.handshake_timeout(), v2::read(&mut stream)).await {
            Ok(Ok(header)) => header,
            Ok(Err(e)) => {
                ctx.metrics.http_rejected.get_or_create(&[("reason", "proxy_header")]).inc();
                debug!(%peer, "trusted proxy's PROXY header refused: {e}");
                return;
            }
            Err(_) => {
                ctx.metrics.http_rejected.get_or_create(&[("reason", "handshake_timeout")]).inc();
                debug!(%peer, "trusted proxy's PROXY header timed out");
                return;
            }
        };
    let addr = match header.source() {
        Some(source) => ClientAddr::forwarded(source.ip(), Some(source.port()), peer),
        None => ClientAddr::direct(peer), // LOCAL: the proxy's own health check
    };
    match admit_ip(&ctx, addr.ip) {
        Ok(slot) => {
            let clients = Clients::One { addr, trusted: true, _slot: slot };
            secure_and_serve(stream, Conn { peer, clients, _guard: guard }, ctx).await;
        }
        Err(reason) => {
            ctx.metrics.http_rejected.get_or_create(&[("reason", reason.label())]).inc();
            refuse(stream, reason).await;
        }
    }
}

/// Runs the TLS handshake, if configured, within the handshake timeout; then serves HTTP.
async fn secure_and_serve(stream: TcpStream, conn: Conn, ctx: Arc<ServerCtx>) {
    let Some(tls) = ctx.tls.as_ref().map(|t| t.0.clone()) else {
        return serve_connection(stream, conn, ctx).await;
    };
    let peer = conn.peer;
    match tokio::time::timeout(ctx.config.handshake_timeout(), tls.accept(stream)).await {
        Ok(Ok(stream)) => serve_connection(stream, conn, ctx).await,
        Ok(Err(e)) => {
            ctx.metrics.http_rejected.get_or_create(&[("reason", "tls_handshake")]).inc();
            debug!(%peer, "TLS handshake failed: {e}");
        }
        Err(_) => {
            ctx.metrics.http_rejected.get_or_create(&[("reason", "tls_timeout")]).inc();
            debug!(%peer, "TLS handshake timed out");
        }
    }
}

async fn refuse(mut stream: TcpStream, reason: Refusal) {
    let status = reason.status();
    let response = format!(
        "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn serve_connection<S>(stream: S, conn: Conn, ctx: Arc<ServerCtx>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let peer = conn.peer;
    let conn = Arc::new(conn);
    let service_ctx = ctx.clone();
    let service =
        service_fn(move |req| crate::http::handle(req, service_ctx.clone(), conn.clone()));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(ctx.config.handshake_timeout())
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                debug!(%peer, "http connection ended: {e}");
            }
        }
        () = ctx.shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
        }
    }
}
