//! The HTTP side: an accept loop that can be taken down and brought back on the same port
//! (a sidecar that is not up yet refuses connections, as the real one does before it binds),
//! and a per-connection hyper task that routes, answers and records each request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::Call;
use super::error::GatewayError;
use super::routes;
use super::state::GameServer;

/// Largest request body read, bytes (the SDK's bodies are a few dozen bytes).
const MAX_BODY: usize = 64 << 10;
/// Most connections served at once; the accept loop waits for a slot beyond that.
const MAX_CONNECTIONS: usize = 64;
/// Calls kept for a live observer that has fallen behind (it is told how many it missed).
pub(crate) const EVENT_BACKLOG: usize = 1024;

/// What the accept loop and the connections share with the [`MockSidecar`](super::MockSidecar).
#[derive(Debug)]
pub(crate) struct Shared {
    /// `Call::at` and the GameServer's `now` count from here.
    pub(crate) started: Instant,
    /// The GameServer, locked for the few microseconds a call takes, never across `.await`.
    pub(crate) gs: Mutex<GameServer>,
    /// Every call answered, in order.
    pub(crate) calls: Mutex<Vec<Call>>,
    /// Bumped after each call and each change a test makes; `wait_until` awaits it.
    pub(crate) changed: watch::Sender<u64>,
    /// Each call, for live observers (the binary prints them). Bounded by [`EVENT_BACKLOG`];
    /// sending never blocks and is dropped when nobody listens.
    pub(crate) events: broadcast::Sender<Call>,
}

impl Shared {
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

/// The accept loop's inputs.
pub(crate) struct Serve {
    pub(crate) shared: Arc<Shared>,
    /// The address to (re)bind.
    pub(crate) addr: SocketAddr,
    /// `true` while the sidecar should be up; the owner flips it.
    pub(crate) up: watch::Receiver<bool>,
    /// `true` while a listener is bound; the owner awaits it to know a flip took effect.
    pub(crate) bound: watch::Sender<bool>,
    /// Cancelled when the mock is dropped.
    pub(crate) stop: CancellationToken,
}

/// Runs until `stop`: serves while `up`, holds no socket while down.
pub(crate) async fn run(mut serve: Serve, mut first: Option<TcpListener>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let listener = match first.take() {
            Some(l) => l,
            None => match bind_when_up(&mut serve).await {
                Some(l) => l,
                None => return,
            },
        };
        serve.bound.send_replace(true);
        let conns = serve.stop.child_token();
        let keep_going = accept_until_down(&mut serve, &listener, &conns, &slots).await;
        conns.cancel();
        drop(listener);
        serve.bound.send_replace(false);
        if !keep_going {
            return;
        }
    }
}

/// Waits for `up`, then binds (retrying: the port may linger briefly). `None` on stop.
async fn bind_when_up(serve: &mut Serve) -> Option<TcpListener> {
    loop {
        tokio::select! {
            _ = serve.stop.cancelled() => return None,
            r = async { serve.up.wait_for(|up| *up).await.is_ok() } => if !r { return None },
        };
        match TcpListener::bind(serve.addr).await {
            Ok(l) => return Some(l),
            Err(e) => {
                tracing::warn!(addr = %serve.addr, error = %e, "mock sidecar cannot bind yet; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Accepts until the sidecar goes down (`true`) or the mock is dropped (`false`).
async fn accept_until_down(
    serve: &mut Serve,
    listener: &TcpListener,
    conns: &CancellationToken,
    slots: &Arc<Semaphore>,
) -> bool {
    loop {
        tokio::select! {
            _ = serve.stop.cancelled() => return false,
            r = async { serve.up.wait_for(|up| !*up).await.is_ok() } => return r,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let Ok(slot) = Arc::clone(slots).acquire_owned().await else { return false };
                    let (shared, cancel) = (Arc::clone(&serve.shared), conns.clone());
                    tokio::spawn(async move {
                        connection(shared, stream, cancel).await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mock sidecar accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

async fn connection(shared: Arc<Shared>, stream: TcpStream, cancel: CancellationToken) {
    let service = hyper::service::service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(answer(&shared, req).await) }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = cancel.cancelled() => {}
        r = conn => if let Err(e) = r { tracing::debug!(error = %e, "mock sidecar connection ended") },
    }
}

/// Reads, routes, answers and records one request.
async fn answer(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return reply(400, &GatewayError::invalid(format!("reading the body: {e}")).body());
        }
    };
    let (status, response) = if path == "/health" && body.is_empty() {
        // The sdk-server answers an empty health body 400 with no body, before its mux.
        (400, Value::Null)
    } else {
        let now = shared.now();
        let outcome = routes::route(&method, &path)
            .and_then(|route| routes::handle(&mut shared.gs.lock(), route, &body, now));
        match outcome {
            Ok(v) => (200, v),
            Err(e) => (e.code.http_status(), e.body()),
        }
    };
    let call = Call {
        method: method.to_string(),
        path,
        body: request_json(&body),
        at: shared.now(),
        status,
        response: response.clone(),
    };
    shared.calls.lock().push(call.clone());
    // No observer is fine: the call is kept in `calls` regardless.
    let _ = shared.events.send(call);
    shared.bump();
    reply(status, &response)
}

/// The body as JSON for the record: `null` when empty, a string when not JSON.
fn request_json(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn reply(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let bytes = if body.is_null() { Bytes::new() } else { Bytes::from(body.to_string()) };
    let mut resp = Response::new(Full::new(bytes));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !body.is_null() {
        resp.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
    }
    resp
}
