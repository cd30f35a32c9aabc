//! The accept loop: connection caps, per-IP caps, HTTP/1 with a header timeout, upgrades.
//!
//! Each accepted TCP connection holds a [`ConnGuard`] (a global semaphore permit and a per-IP
//! count) for its whole life, HTTP and WebSocket. Over the global cap the connection gets a bare
//! 503, over the per-IP cap a 429, both written without reading the request. An `accept` error
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

/// Held by a connection for its whole life; releases its slot on drop.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    ctx: Arc<ServerCtx>,
    ip: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut map = self.ctx.admission.per_ip.lock();
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
        self.ctx.metrics.connections.dec();
    }
}

fn admit(ctx: &Arc<ServerCtx>, ip: IpAddr) -> Result<ConnGuard, &'static str> {
    let permit = ctx.admission.permits.clone().try_acquire_owned().map_err(|_| "server_full")?;
    let mut map = ctx.admission.per_ip.lock();
    let n = map.entry(ip).or_insert(0);
    if *n >= ctx.admission.max_per_ip {
        return Err("ip_limit");
    }
    *n += 1;
    drop(map);
    ctx.metrics.connections.inc();
    Ok(ConnGuard { ctx: ctx.clone(), ip, _permit: permit })
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
        match admit(&ctx, peer.ip()) {
            Ok(guard) => match ctx.tls.as_ref().map(|t| t.0.clone()) {
                None => {
                    ctx.tracker.spawn(serve_connection(stream, peer, ctx.clone(), guard));
                }
                Some(tls) => {
                    let ctx = ctx.clone();
                    ctx.tracker.clone().spawn(async move {
                        match tokio::time::timeout(
                            ctx.config.handshake_timeout(),
                            tls.accept(stream),
                        )
                        .await
                        {
                            Ok(Ok(stream)) => serve_connection(stream, peer, ctx, guard).await,
                            Ok(Err(e)) => {
                                ctx.metrics
                                    .http_rejected
                                    .get_or_create(&[("reason", "tls_handshake")])
                                    .inc();
                                debug!(%peer, "TLS handshake failed: {e}");
                            }
                            Err(_) => {
                                ctx.metrics
                                    .http_rejected
                                    .get_or_create(&[("reason", "tls_timeout")])
                                    .inc();
                                debug!(%peer, "TLS handshake timed out");
                            }
                        }
                    });
                }
            },
            Err(reason) => {
                ctx.metrics.http_rejected.get_or_create(&[("reason", reason)]).inc();
                ctx.tracker.spawn(refuse(stream, reason));
            }
        }
    }
}

async fn refuse(mut stream: TcpStream, reason: &'static str) {
    let status =
        if reason == "ip_limit" { "429 Too Many Requests" } else { "503 Service Unavailable" };
    let response = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, ctx: Arc<ServerCtx>, guard: ConnGuard)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let guard = Arc::new(guard);
    let service_ctx = ctx.clone();
    let service =
        service_fn(move |req| crate::http::handle(req, service_ctx.clone(), peer, guard.clone()));
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
