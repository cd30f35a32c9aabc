//! The HTTP API on hyper 1: `POST /join`, `GET /rooms`, `GET /servers`, `GET /healthz`,
//! `GET /metrics`. Errors are JSON `{"error", "code"}` ([`DirectoryError`]).
//!
//! Hostile input: at most `max_connections` connections served at once (a semaphore; the
//! rest wait in the accept queue), headers within `request_timeout`, a body of at most
//! [`MAX_BODY`] bytes received within `request_timeout`, the API key compared in constant
//! time and checked before the body is read.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use subtle::ConstantTimeEq as _;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::error::DirectoryError;
use crate::join::{Directory, JoinRequest};

/// Largest `POST /join` body, bytes.
pub const MAX_BODY: usize = 4096;

type Resp = Response<Full<Bytes>>;

/// Serves `directory` on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, directory: Arc<Directory>, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(directory.config().max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                warn!("accept failed (retrying): {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let directory = directory.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let timeout = directory.config().request_timeout;
            let service = service_fn(move |req| handle(req, directory.clone()));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .max_buf_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r { debug!(%peer, "connection: {e}") },
                () = shutdown.cancelled() => {}
            }
            drop(permit);
        });
    }
}

/// Routes one request.
pub async fn handle(req: Request<Incoming>, directory: Arc<Directory>) -> Result<Resp, Infallible> {
    let result = match (req.method(), req.uri().path()) {
        (&Method::POST, "/join") => join(req, &directory).await,
        (&Method::GET, "/rooms") => directory
            .rooms()
            .await
            .map(|rooms| json(StatusCode::OK, serde_json::json!({ "rooms": rooms }).to_string())),
        (&Method::GET, "/servers") => directory.servers().await.map(|servers| {
            json(StatusCode::OK, serde_json::json!({ "servers": servers }).to_string())
        }),
        (&Method::GET, "/healthz") => {
            directory.healthy().await.map(|()| text(StatusCode::OK, "ok\n".into()))
        }
        (&Method::GET, "/metrics") => Ok(text(StatusCode::OK, directory.metrics().render())),
        (_, "/join" | "/rooms" | "/servers" | "/healthz" | "/metrics") => {
            Err(DirectoryError::MethodNotAllowed)
        }
        _ => Err(DirectoryError::NotFound),
    };
    Ok(result.unwrap_or_else(|e| json(e.status(), e.body())))
}

async fn join(req: Request<Incoming>, directory: &Directory) -> Result<Resp, DirectoryError> {
    if let Some(key) = &directory.config().api_key {
        check_api_key(req.headers(), key)?;
    }
    let body = read_body(req, directory.config().request_timeout).await?;
    // serde also reads a struct from a JSON array: only an object is a join.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(DirectoryError::BadRequest("not a JSON object"));
    }
    let join: JoinRequest =
        serde_json::from_slice(&body).map_err(|_| DirectoryError::BadRequest("not a join"))?;
    let answer = directory.join(&join).await?;
    let body = serde_json::to_string(&answer).map_err(|_| DirectoryError::Internal)?;
    Ok(json(StatusCode::OK, body))
}

/// `Authorization: Bearer <key>`, compared in constant time.
fn check_api_key(headers: &hyper::HeaderMap, key: &str) -> Result<(), DirectoryError> {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .ok_or(DirectoryError::Unauthorized)?;
    if bool::from(presented.ct_eq(key.as_bytes())) {
        Ok(())
    } else {
        Err(DirectoryError::Unauthorized)
    }
}

/// The body, at most [`MAX_BODY`] bytes, within `timeout`.
async fn read_body(
    req: Request<Incoming>,
    timeout: std::time::Duration,
) -> Result<Bytes, DirectoryError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(DirectoryError::BodyTooLarge);
    }
    let collecting = Limited::new(req.into_body(), MAX_BODY).collect();
    match tokio::time::timeout(timeout, collecting).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(DirectoryError::BodyTooLarge)
        }
        Ok(Err(_)) => Err(DirectoryError::BadRequest("body not received")),
        Err(_) => Err(DirectoryError::BadRequest("body not received in time")),
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json(status: StatusCode, body: String) -> Resp {
    respond(status, "application/json", body)
}

fn text(status: StatusCode, body: String) -> Resp {
    respond(status, "text/plain; charset=utf-8", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_must_match_exactly() {
        let mut h = hyper::HeaderMap::new();
        assert_eq!(check_api_key(&h, "k3y"), Err(DirectoryError::Unauthorized));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer k3y"));
        assert_eq!(check_api_key(&h, "k3y"), Ok(()));
        assert_eq!(check_api_key(&h, "k3"), Err(DirectoryError::Unauthorized));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic k3y"));
        assert_eq!(check_api_key(&h, "k3y"), Err(DirectoryError::Unauthorized));
    }
}
