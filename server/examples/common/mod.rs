//! What the WebSocket examples (`ws_echo`, `floor`) share: the accept loop and the upgrade of
//! any path, on the server's own stack (hyper HTTP/1, fastwebsockets' upgrade). Each example
//! says what to do with an upgraded connection.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming as Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Accepts connections forever; each WebSocket upgrade (any path) is handed to `on_upgrade` on
/// a task of its own, anything else gets 426. `nodelay` sets `TCP_NODELAY` on every connection.
pub(crate) async fn serve<F, Fut>(
    listener: TcpListener,
    nodelay: bool,
    on_upgrade: F,
) -> anyhow::Result<()>
where
    F: Fn(TokioIo<Upgraded>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let on_upgrade = Arc::new(on_upgrade);
    loop {
        let (stream, _) = listener.accept().await.context("accept")?;
        if nodelay {
            stream.set_nodelay(true)?;
        }
        let on_upgrade = on_upgrade.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| upgrade(req, on_upgrade.clone()));
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            let _ = conn.with_upgrades().await;
        });
    }
}

async fn upgrade<F, Fut>(
    mut req: Request<Body>,
    on_upgrade: Arc<F>,
) -> anyhow::Result<Response<Empty<Bytes>>>
where
    F: Fn(TokioIo<Upgraded>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        let mut resp = Response::new(Empty::new());
        *resp.status_mut() = StatusCode::UPGRADE_REQUIRED;
        return Ok(resp);
    }
    let (resp, fut) = fastwebsockets::upgrade::upgrade(&mut req)?;
    tokio::spawn(async move {
        if let Ok(ws) = fut.await {
            on_upgrade(ws.into_inner()).await;
        }
    });
    Ok(resp)
}
