//! The `--directory` mode: bots ask a fleet's directory where their room is (`POST /join`),
//! connect to the server it names with the token it minted, and when a session ends in a way
//! that means "your server is gone" (resume refused or impossible, the room is elsewhere, the
//! server shut down), ask again and rejoin, with backoff, until a deadline.
//!
//! The requests are plain HTTP/1.1 on a fresh loopback connection, bounded: a
//! [`REQUEST_TIMEOUT`] for the whole exchange and an answer of at most [`MAX_ANSWER`] bytes.
//! Every URL the directory hands out is checked to be a loopback address before a bot
//! connects to it (load tests only ever target this machine).

use std::time::Duration;

use serde::Deserialize;
use tickwire_client::EndReason;
use tickwire_protocol::message::{DisconnectReason, RejectReason};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::args::ensure_loopback;

/// Time allowed for one request to the directory, connect to last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest answer read from the directory, bytes (headers and body).
pub const MAX_ANSWER: usize = 1 << 20;
/// First pause between two attempts to route and connect; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Where the directory is and what to ask it.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectoryTarget {
    /// `http://host:port` of the directory (loopback).
    pub url: String,
    /// Its API key (`Authorization: Bearer`), when it has one.
    pub key: Option<String>,
    /// The game named in every join (a new room goes to a server hosting it).
    pub game: Option<String>,
    /// How long a bot keeps trying to get back into its room after its session ended, before
    /// the session counts as lost.
    pub rejoin_deadline: Duration,
}

/// Hides the API key.
impl std::fmt::Debug for DirectoryTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryTarget")
            .field("url", &self.url)
            .field("key", &self.key.as_ref().map(|_| "<set>"))
            .field("game", &self.game)
            .field("rejoin_deadline", &self.rejoin_deadline)
            .finish()
    }
}

/// The directory's answer to a join.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Route {
    /// The server holding the room.
    pub server: String,
    /// Where to connect.
    pub ws_url: String,
    /// The join token, bound to that server.
    pub token: String,
    /// Whether the directory created the room for this join.
    #[serde(default)]
    pub created: bool,
}

/// Why asking the directory failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// It answered with an error (`code` from its JSON body, e.g. `no_capacity`).
    #[error("directory refused ({status}): {code}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error's stable code.
        code: String,
    },
    /// It could not be reached or the exchange failed.
    #[error("directory unreachable: {0}")]
    Unreachable(String),
    /// No complete answer within [`REQUEST_TIMEOUT`].
    #[error("directory timed out")]
    Timeout,
    /// The answer is not HTTP with the expected JSON, or too large.
    #[error("bad answer from the directory")]
    BadAnswer,
    /// It named a server that is not on this machine.
    #[error("the directory named a non-loopback server: {0}")]
    NotLoopback(String),
}

impl AskError {
    /// A stable label (the report's connect-error and disconnect tallies).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "directory_refused",
            Self::Unreachable(_) => "directory_unreachable",
            Self::Timeout => "directory_timeout",
            Self::BadAnswer => "directory_bad_answer",
            Self::NotLoopback(_) => "directory_not_loopback",
        }
    }
}

/// Whether a session that ended with `reason` should be routed again through the directory:
/// the server is gone (reconnecting failed), no longer holds the session, holds no longer the
/// room, or is shutting down. Leaving, protocol errors and refusals of the hello itself are
/// final.
pub fn rejoinable(reason: &EndReason) -> bool {
    match reason {
        EndReason::GaveUp { .. }
        | EndReason::Closed
        | EndReason::ConnectionLost
        | EndReason::Timeout => true,
        EndReason::Server(r) => matches!(
            r,
            DisconnectReason::ServerShutdown
                | DisconnectReason::RoomClosed
                | DisconnectReason::Timeout
        ),
        EndReason::Rejected(r) => matches!(
            r,
            RejectReason::ResumeFailed | RejectReason::RoomElsewhere | RejectReason::ShuttingDown
        ),
        _ => false,
    }
}

/// One `POST /join` for `player` in `room`.
pub async fn ask(target: &DirectoryTarget, room: &str, player: &str) -> Result<Route, AskError> {
    let mut body = serde_json::json!({ "room": room, "player": player });
    if let Some(game) = &target.game {
        body["game"] = serde_json::Value::String(game.clone());
    }
    let (status, answer) =
        request(&target.url, "POST", "/join", target.key.as_deref(), &body.to_string()).await?;
    if status != 200 {
        let code = serde_json::from_str::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".to_owned());
        return Err(AskError::Refused { status, code });
    }
    let route: Route = serde_json::from_str(&answer).map_err(|_| AskError::BadAnswer)?;
    if ensure_loopback(&route.ws_url).is_err() {
        return Err(AskError::NotLoopback(route.ws_url));
    }
    Ok(route)
}

/// The HTTP base (`http_url`) of one live server, from `GET /servers`: where the bots read
/// the game's description and the metrics in directory mode.
pub async fn a_server_base(target: &DirectoryTarget) -> Result<String, AskError> {
    let (status, answer) = request(&target.url, "GET", "/servers", None, "").await?;
    if status != 200 {
        return Err(AskError::Refused { status, code: "servers".into() });
    }
    let v: serde_json::Value = serde_json::from_str(&answer).map_err(|_| AskError::BadAnswer)?;
    let base = v["servers"]
        .as_array()
        .and_then(|s| s.iter().find_map(|s| s["http_url"].as_str().filter(|u| !u.is_empty())))
        .ok_or(AskError::Refused { status: 503, code: "no_live_server".into() })?;
    if ensure_loopback(base).is_err() {
        return Err(AskError::NotLoopback(base.to_owned()));
    }
    Ok(base.trim_end_matches('/').to_owned())
}

/// The pause before attempt `n` (0-based) after a failure, ending no later than `deadline`.
pub fn backoff(attempt: u32, deadline: Instant) -> Option<Duration> {
    let step = FIRST_BACKOFF.saturating_mul(1 << attempt.min(10)).min(MAX_BACKOFF);
    let left = deadline.checked_duration_since(Instant::now())?;
    (!left.is_zero()).then(|| step.min(left))
}

/// One request on a fresh connection: (status, body).
async fn request(
    base: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> Result<(u16, String), AskError> {
    tokio::time::timeout(REQUEST_TIMEOUT, exchange(base, method, path, key, body))
        .await
        .map_err(|_| AskError::Timeout)?
}

async fn exchange(
    base: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> Result<(u16, String), AskError> {
    let uri: hyper::Uri = base.parse().map_err(|_| AskError::Unreachable(base.to_owned()))?;
    let authority = uri.authority().ok_or_else(|| AskError::Unreachable(base.to_owned()))?;
    let host = authority.as_str();
    let addr = if authority.port().is_some() { host.to_owned() } else { format!("{host}:80") };
    let mut stream =
        TcpStream::connect(&addr).await.map_err(|e| AskError::Unreachable(e.to_string()))?;
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let io = |e: std::io::Error| AskError::Unreachable(e.to_string());
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(body.as_bytes()).await.map_err(io)?;
    let mut raw = Vec::new();
    (&mut stream).take(MAX_ANSWER as u64 + 1).read_to_end(&mut raw).await.map_err(io)?;
    if raw.len() > MAX_ANSWER {
        return Err(AskError::BadAnswer);
    }
    let text = String::from_utf8(raw).map_err(|_| AskError::BadAnswer)?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or(AskError::BadAnswer)?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(AskError::BadAnswer)?;
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_gone_reasons_rejoin_and_others_do_not() {
        let gave_up = EndReason::GaveUp { attempts: 3, last_error: "refused".into() };
        assert!(rejoinable(&gave_up));
        assert!(rejoinable(&EndReason::Rejected(RejectReason::ResumeFailed)));
        assert!(rejoinable(&EndReason::Rejected(RejectReason::RoomElsewhere)));
        assert!(rejoinable(&EndReason::Server(DisconnectReason::ServerShutdown)));
        assert!(!rejoinable(&EndReason::Left));
        assert!(!rejoinable(&EndReason::Rejected(RejectReason::Unauthorized)));
        assert!(!rejoinable(&EndReason::Server(DisconnectReason::Kicked)));
    }

    #[tokio::test]
    async fn backoff_doubles_and_stops_at_the_deadline() {
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(backoff(0, far), Some(FIRST_BACKOFF));
        assert_eq!(backoff(1, far), Some(FIRST_BACKOFF * 2));
        assert_eq!(backoff(20, far), Some(MAX_BACKOFF));
        assert_eq!(backoff(0, Instant::now()), None);
    }
}
