//! [`AgonesSdk`]: the Agones SDK sidecar's REST gateway (grpc-gateway over the SDK's gRPC
//! service), spoken with the server's own hyper client: no protoc, no second HTTP stack.
//!
//! One request per connection to `127.0.0.1:$AGONES_SDK_HTTP_PORT` (default 9358), each
//! within [`REQUEST_TIMEOUT`], with a bounded answer ([`MAX_BODY`]). The gateway renders int64
//! values as JSON strings; [`int`] reads both forms. A call that cannot reach the sidecar (it
//! may start after the server) is [`SdkError::Unreachable`] and the caller retries.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

/// The REST port when `AGONES_SDK_HTTP_PORT` is unset (Agones' default).
pub const DEFAULT_HTTP_PORT: u16 = 9358;
/// Longest wait for one answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest answer read, bytes (a GameServer record is a few KiB).
pub const MAX_BODY: usize = 256 << 10;

/// Why a sidecar call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    /// Nothing answers on the port, or the connection broke (the sidecar may not be up yet).
    #[error("the Agones SDK sidecar is unreachable: {0}")]
    Unreachable(String),
    /// No answer within [`REQUEST_TIMEOUT`].
    #[error("the Agones SDK sidecar did not answer in time")]
    Timeout,
    /// The sidecar refused the call (unknown counter or list, count out of range, list full,
    /// duplicate or missing value, ...): its HTTP status and message.
    #[error("the Agones SDK sidecar refused {path}: HTTP {status}: {message}")]
    Refused {
        /// The path called.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The gateway's `message`, or the body.
        message: String,
    },
    /// The answer was not the JSON expected.
    #[error("the Agones SDK sidecar answered {path} with unexpected data: {0}", path = .1)]
    BadAnswer(String, String),
}

/// A client of one sidecar.
#[derive(Debug, Clone)]
pub struct AgonesSdk {
    port: u16,
}

impl AgonesSdk {
    /// The sidecar on `127.0.0.1:port`.
    pub fn new(port: u16) -> Self {
        Self { port }
    }

    /// The sidecar of `AGONES_SDK_HTTP_PORT` (default [`DEFAULT_HTTP_PORT`]).
    pub fn from_env() -> Self {
        let port = std::env::var("AGONES_SDK_HTTP_PORT").ok().and_then(|p| p.parse().ok());
        Self::new(port.unwrap_or(DEFAULT_HTTP_PORT))
    }

    /// The REST port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `POST /ready`: the server can take players.
    pub async fn ready(&self) -> Result<(), SdkError> {
        self.call(Method::POST, "/ready", Some(json!({}))).await.map(drop)
    }

    /// `POST /health`: one health ping.
    pub async fn health(&self) -> Result<(), SdkError> {
        self.call(Method::POST, "/health", Some(json!({}))).await.map(drop)
    }

    /// `POST /shutdown`: the server is done; Agones deletes the GameServer.
    pub async fn shutdown(&self) -> Result<(), SdkError> {
        self.call(Method::POST, "/shutdown", Some(json!({}))).await.map(drop)
    }

    /// `PUT /metadata/label`: stored as `agones.dev/sdk-KEY`.
    pub async fn set_label(&self, key: &str, value: &str) -> Result<(), SdkError> {
        let body = json!({ "key": key, "value": value });
        self.call(Method::PUT, "/metadata/label", Some(body)).await.map(drop)
    }

    /// `GET /gameserver`: the GameServer record.
    pub async fn game_server(&self) -> Result<Value, SdkError> {
        self.call(Method::GET, "/gameserver", None).await
    }

    /// `GET /v1beta1/counters/NAME`: the counter's count.
    pub async fn counter(&self, name: &str) -> Result<i64, SdkError> {
        let path = format!("/v1beta1/counters/{name}");
        let v = self.call(Method::GET, &path, None).await?;
        int(&v["count"]).ok_or_else(|| SdkError::BadAnswer(v.to_string(), path))
    }

    /// `PATCH /v1beta1/counters/NAME` with `countDiff`: the new count.
    pub async fn add_to_counter(&self, name: &str, diff: i64) -> Result<i64, SdkError> {
        let path = format!("/v1beta1/counters/{name}");
        let body = json!({ "countDiff": diff.to_string() });
        let v = self.call(Method::PATCH, &path, Some(body)).await?;
        int(&v["count"]).ok_or_else(|| SdkError::BadAnswer(v.to_string(), path))
    }

    /// `GET /v1beta1/lists/NAME`: the list's values.
    pub async fn list(&self, name: &str) -> Result<Vec<String>, SdkError> {
        let path = format!("/v1beta1/lists/{name}");
        let v = self.call(Method::GET, &path, None).await?;
        let values = v.get("values").cloned().unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(values).map_err(|e| SdkError::BadAnswer(e.to_string(), path))
    }

    /// `POST /v1beta1/lists/NAME:addValue`.
    pub async fn add_list_value(&self, name: &str, value: &str) -> Result<(), SdkError> {
        let path = format!("/v1beta1/lists/{name}:addValue");
        self.call(Method::POST, &path, Some(json!({ "value": value }))).await.map(drop)
    }

    /// `POST /v1beta1/lists/NAME:removeValue`.
    pub async fn remove_list_value(&self, name: &str, value: &str) -> Result<(), SdkError> {
        let path = format!("/v1beta1/lists/{name}:removeValue");
        self.call(Method::POST, &path, Some(json!({ "value": value }))).await.map(drop)
    }

    /// One request, bounded in time and size.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, SdkError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.send(method, path, body))
            .await
            .map_err(|_| SdkError::Timeout)?
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, SdkError> {
        let unreachable = |e: &dyn std::fmt::Display| SdkError::Unreachable(e.to_string());
        let tcp =
            TcpStream::connect(("127.0.0.1", self.port)).await.map_err(|e| unreachable(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(conn);
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, format!("127.0.0.1:{}", self.port))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(bytes))
            .map_err(|e| SdkError::BadAnswer(e.to_string(), path.to_owned()))?;
        let response = sender.send_request(request).await.map_err(|e| unreachable(&e))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| unreachable(&e))?
            .to_bytes();
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !status.is_success() {
            let message = value["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(SdkError::Refused {
                path: path.to_owned(),
                status: status.as_u16(),
                message,
            });
        }
        Ok(value)
    }
}

/// An int64 as the gateway renders it (a JSON string) or as a number.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_values_are_read_as_strings_or_numbers() {
        assert_eq!(int(&json!("12")), Some(12));
        assert_eq!(int(&json!(-3)), Some(-3));
        assert_eq!(int(&json!("x")), None);
        assert_eq!(int(&Value::Null), None);
    }

    #[tokio::test]
    async fn a_missing_sidecar_is_unreachable() {
        // A port nothing listens on: bind, note, drop.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let err = AgonesSdk::new(port).ready().await;
        assert!(matches!(err, Err(SdkError::Unreachable(_))), "{err:?}");
    }
}
