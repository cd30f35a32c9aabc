//! The WebSocket transport: URL parsing, TLS for `wss://` ([`crate::tls`]), and the HTTP/1.1
//! upgrade with fastwebsockets' client handshake on hyper 1, then the socket split into a
//! reading and a writing half.
//!
//! The upgrade is written once, generic over the stream (`upgrade`): hyper's boxed `Upgraded`
//! is downcast back to the stream it wraps, with any bytes hyper had already read replayed in
//! front of the read half. A plain `TcpStream` is split with `into_split` (two owned halves, no
//! lock between them); a TLS stream, whose reads and writes share one rustls session, with
//! `tokio::io::split` (a lock taken per read or write call, never across an `.await`). Each
//! connection then costs one 8 KiB read buffer and a 4 KiB write buffer, and no per-frame
//! locking on plain TCP: cheap enough for thousands of connections in one process.

use std::future::Future;
use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use fastwebsockets::{Role, WebSocketRead, WebSocketWrite, after_handshake_split, handshake};
use http_body_util::Empty;
use hyper::Request;
use hyper::header::{
    AUTHORIZATION, CONNECTION, HOST, HeaderValue, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, BufWriter, Chain, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_rustls::client::TlsStream;

use crate::error::ClientError;
use crate::tls::{self, TlsOptions};

/// The subprotocol offered when [`ClientConfig::offer_subprotocol`] is set.
///
/// [`ClientConfig::offer_subprotocol`]: crate::ClientConfig::offer_subprotocol
pub const SUBPROTOCOL: &str = "tickwire.v1";

/// Capacity of the write buffer: a tick's messages (an input, maybe a pong) leave in one write.
const WRITE_BUFFER: usize = 4096;

/// The reading half of a client WebSocket.
pub(crate) type WsReader = WebSocketRead<Chain<Cursor<Bytes>, ReadHalf>>;
/// The writing half of a client WebSocket (buffered: flush after writing).
pub(crate) type WsWriter = WebSocketWrite<BufWriter<WriteHalf>>;

/// A parsed `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `wss://`: TLS before the upgrade.
    pub(crate) secure: bool,
    /// Host name or address, without brackets (also the TLS server name).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host:port` as given (for the `Host` header).
    pub(crate) authority: String,
    /// Path and query (at least `/`).
    pub(crate) path: String,
}

/// Parses `ws://host[:port][/path]` (port 80 by default) or `wss://...` (443).
pub(crate) fn parse_url(url: &str) -> Result<Target, ClientError> {
    let bad = |why| ClientError::InvalidUrl { url: url.to_owned(), why };
    let uri: hyper::Uri = url.parse().map_err(|_| bad("not a URL"))?;
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => return Err(bad("the scheme must be ws:// or wss://")),
    };
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let path = if path.is_empty() { "/".to_owned() } else { path };
    Ok(Target {
        secure,
        host,
        port: authority.port_u16().unwrap_or(if secure { 443 } else { 80 }),
        authority: authority.to_string(),
        path,
    })
}

/// Opens a TCP connection to `target` (with TLS for `wss://`) and upgrades it to a WebSocket,
/// offering the subprotocol if asked and presenting `token` as `Authorization: Bearer` (servers
/// with join tokens check it before upgrading).
pub(crate) async fn open(
    target: &Target,
    tls_options: &TlsOptions,
    offer_subprotocol: bool,
    token: Option<&str>,
) -> Result<(WsReader, WsWriter), ClientError> {
    let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
    stream.set_nodelay(true)?;
    let req = request(target, offer_subprotocol, token)?;
    let (read, write, replay) = if target.secure {
        let stream = tls::handshake(tls_options, &target.host, stream).await?;
        let (stream, replay) = upgrade(stream, req).await?;
        let (read, write) = tokio::io::split(stream);
        (ReadHalf::Tls(read), WriteHalf::Tls(write), replay)
    } else {
        let (stream, replay) = upgrade(stream, req).await?;
        let (read, write) = stream.into_split();
        (ReadHalf::Plain(read), WriteHalf::Plain(write), replay)
    };
    let read = Cursor::new(replay).chain(read);
    let (mut reader, writer) =
        after_handshake_split(read, BufWriter::with_capacity(WRITE_BUFFER, write), Role::Client);
    // Close and ping frames are handled by the client itself (its reader cannot write).
    reader.set_auto_close(false);
    reader.set_auto_pong(false);
    reader.set_max_message_size(tickwire_protocol::SERVER_MESSAGE_LIMIT + 16);
    Ok((reader, writer))
}

/// The upgrade request.
fn request(
    target: &Target,
    offer_subprotocol: bool,
    token: Option<&str>,
) -> Result<Request<Empty<Bytes>>, ClientError> {
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
    req.body(Empty::<Bytes>::new()).map_err(|_| ClientError::InvalidUrl {
        url: format!(
            "{}://{}{}",
            if target.secure { "wss" } else { "ws" },
            target.authority,
            target.path
        ),
        why: "cannot form an HTTP request from it",
    })
}

/// The WebSocket upgrade over any stream: returns the stream back with the bytes hyper read
/// past the response (to be replayed before the first frame).
async fn upgrade<S>(stream: S, req: Request<Empty<Bytes>>) -> Result<(S, Bytes), ClientError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (ws, _response) = handshake::client(&SpawnExecutor, req, stream).await?;
    let upgraded = ws.into_inner().into_inner();
    let parts = upgraded.downcast::<TokioIo<S>>().map_err(|_| {
        ClientError::Io(std::io::Error::other("upgraded connection is not the stream given"))
    })?;
    Ok((parts.io.into_inner(), parts.read_buf))
}

/// The reading half of the socket, plain or TLS.
#[derive(Debug)]
pub(crate) enum ReadHalf {
    /// `ws://`: an owned TCP half.
    Plain(OwnedReadHalf),
    /// `wss://`: one side of the shared TLS session.
    Tls(tokio::io::ReadHalf<TlsStream<TcpStream>>),
}

/// The writing half of the socket, plain or TLS.
#[derive(Debug)]
pub(crate) enum WriteHalf {
    /// `ws://`: an owned TCP half.
    Plain(OwnedWriteHalf),
    /// `wss://`: the other side of the shared TLS session.
    Tls(tokio::io::WriteHalf<TlsStream<TcpStream>>),
}

impl AsyncRead for ReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
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
        assert!(!t.secure);
        let t = parse_url("ws://example.com").expect("valid");
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = parse_url("wss://localhost:9443/ws").expect("valid");
        assert!(t.secure);
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("localhost", 9443, "/ws"));
        assert_eq!(parse_url("wss://example.com").expect("valid").port, 443);
        let t = parse_url("ws://[::1]:9000/ws?x=1").expect("valid");
        assert_eq!((t.host.as_str(), t.path.as_str()), ("::1", "/ws?x=1"));
        for bad in ["http://h/ws", "https://h/ws", "ws://", "not a url", "h:1/ws"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
