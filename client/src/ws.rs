//! The WebSocket transport: URL parsing and the HTTP/1.1 upgrade with fastwebsockets' client
//! handshake on hyper 1, then the socket split into a reading and a writing half.
//!
//! After the upgrade, hyper's boxed `Upgraded` stream is downcast back to the `TcpStream` it
//! wraps and split with `into_split` (two owned halves, no lock between them), with any bytes
//! hyper had already read replayed in front of the read half. Each connection then costs one
//! 8 KiB read buffer and a 4 KiB write buffer, and no per-frame locking: cheap enough for
//! thousands of connections in one process.

use std::future::Future;
use std::io::Cursor;

use bytes::Bytes;
use fastwebsockets::{Role, WebSocketRead, WebSocketWrite, after_handshake_split, handshake};
use http_body_util::Empty;
use hyper::Request;
use hyper::header::{
    AUTHORIZATION, CONNECTION, HOST, HeaderValue, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, BufWriter, Chain};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::error::ClientError;

/// The subprotocol offered when [`ClientConfig::offer_subprotocol`] is set.
///
/// [`ClientConfig::offer_subprotocol`]: crate::ClientConfig::offer_subprotocol
pub const SUBPROTOCOL: &str = "tickwire.v1";

/// Capacity of the write buffer: a tick's messages (an input, maybe a pong) leave in one write.
const WRITE_BUFFER: usize = 4096;

/// The reading half of a client WebSocket.
pub(crate) type WsReader = WebSocketRead<Chain<Cursor<Bytes>, OwnedReadHalf>>;
/// The writing half of a client WebSocket (buffered: flush after writing).
pub(crate) type WsWriter = WebSocketWrite<BufWriter<OwnedWriteHalf>>;

/// A parsed `ws://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Host name or address, without brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host:port` as given (for the `Host` header).
    pub(crate) authority: String,
    /// Path and query (at least `/`).
    pub(crate) path: String,
}

/// Parses `ws://host[:port][/path]`.
pub(crate) fn parse_url(url: &str) -> Result<Target, ClientError> {
    let bad = |why| ClientError::InvalidUrl { url: url.to_owned(), why };
    let uri: hyper::Uri = url.parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some("ws") => {}
        Some("wss") => return Err(bad("wss:// is not supported (terminate TLS in a proxy)")),
        _ => return Err(bad("the scheme must be ws://")),
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let path = if path.is_empty() { "/".to_owned() } else { path };
    Ok(Target {
        host,
        port: authority.port_u16().unwrap_or(80),
        authority: authority.to_string(),
        path,
    })
}

/// Opens a TCP connection to `target` and upgrades it to a WebSocket, offering the
/// subprotocol if asked and presenting `token` as `Authorization: Bearer` (servers with join
/// tokens check it before upgrading).
pub(crate) async fn open(
    target: &Target,
    offer_subprotocol: bool,
    token: Option<&str>,
) -> Result<(WsReader, WsWriter), ClientError> {
    let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
    stream.set_nodelay(true)?;
    let mut req = Request::builder()
        .method("GET")
        .uri(target.path.as_str())
        .header(HOST, target.authority.as_str())
        .header(UPGRADE, "websocket")
        .header(CONNECTION, "upgrade")
        .header("Sec-WebSocket-Key", handshake::generate_key())
        .header("Sec-WebSocket-Version", "13");
    if offer_subprotocol {
        req = req.header(SEC_WEBSOCKET_PROTOCOL, SUBPROTOCOL);
    }
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientError::InvalidToken)?;
        req = req.header(AUTHORIZATION, value);
    }
    let req = req.body(Empty::<Bytes>::new()).map_err(|_| ClientError::InvalidUrl {
        url: format!("ws://{}{}", target.authority, target.path),
        why: "cannot form an HTTP request from it",
    })?;
    let (ws, _response) = handshake::client(&SpawnExecutor, req, stream).await?;
    let upgraded = ws.into_inner().into_inner();
    let parts = upgraded.downcast::<TokioIo<TcpStream>>().map_err(|_| {
        ClientError::Io(std::io::Error::other("upgraded connection is not a TcpStream"))
    })?;
    let (read, write) = parts.io.into_inner().into_split();
    let read = Cursor::new(parts.read_buf).chain(read);
    let (mut reader, writer) =
        after_handshake_split(read, BufWriter::with_capacity(WRITE_BUFFER, write), Role::Client);
    // Close and ping frames are handled by the client itself (its reader cannot write).
    reader.set_auto_close(false);
    reader.set_auto_pong(false);
    reader.set_max_message_size(tickwire_protocol::SERVER_MESSAGE_LIMIT + 16);
    Ok((reader, writer))
}

/// Runs hyper's connection futures on tokio.
struct SpawnExecutor;

impl<Fut> hyper::rt::Executor<Fut> for SpawnExecutor
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn execute(&self, fut: Fut) {
        tokio::spawn(fut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ws_urls() {
        let t = parse_url("ws://127.0.0.1:7777/ws").expect("valid");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("127.0.0.1", 7777, "/ws"));
        assert_eq!(t.authority, "127.0.0.1:7777");
        let t = parse_url("ws://example.com").expect("valid");
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = parse_url("ws://[::1]:9000/ws?x=1").expect("valid");
        assert_eq!((t.host.as_str(), t.path.as_str()), ("::1", "/ws?x=1"));
        for bad in ["http://h/ws", "wss://h/ws", "ws://", "not a url", "h:1/ws"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
