//! An echo endpoint over exactly the server's WebSocket layer, [`tickwire_server::session::ws`],
//! with the server's default limits: what `scripts/autobahn.sh` runs the Autobahn|Testsuite
//! fuzzing client against (docs/rfc6455.md).
//!
//! ```text
//! cargo run -p tickwire-server --example ws_echo -- 127.0.0.1:0
//! ```
//!
//! It prints `listening on ws://ADDR` once bound, then answers every WebSocket upgrade on any
//! path. Per connection it does what a game session does at the WebSocket level: reads through
//! [`WsReader`] with the idle timeout and the message size limit (`--max-message-bytes`,
//! 2048 by default; the `TICKWIRE_*` environment variables apply), answers pings, answers a close with a normal close, and ends a refused
//! stream with the [`SessionEnd`]'s close frame (never 1006). Where a game session applies the
//! game protocol (binary messages only: text ends it with 1003), this echoes text and binary
//! messages, so that the fuzzer's text cases test the layer rather than that policy. It sends
//! no `Disconnect` message (a game protocol message) and has no ping rate limit.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use fastwebsockets::Frame;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tickwire_server::ServerConfig;
use tickwire_server::session::SessionEnd;
use tickwire_server::session::ws::{self, Incoming, WsReader};
use tokio::io::AsyncRead;
use tokio::net::TcpListener;
use tokio::time::timeout;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned())
        .parse()
        .context("usage: ws_echo [ADDR]")?;
    // The server's defaults and `TICKWIRE_*` environment variables: a game session's limits.
    let config = Arc::new(ServerConfig::default());
    let listener = TcpListener::bind(addr).await.with_context(|| format!("bind {addr}"))?;
    println!("listening on ws://{}", listener.local_addr()?);
    common::serve(listener, false, move |io| {
        let config = config.clone();
        async move { echo(io, &config).await }
    })
    .await
}

/// Echoes until the client closes, breaks a rule, falls silent or goes away. The connection is
/// split as a game session splits it (`ws::tcp_halves`), so Autobahn reads through the same path.
async fn echo(io: TokioIo<Upgraded>, config: &ServerConfig) {
    let Ok((r, w)) = ws::tcp_halves(io) else { return };
    let (mut reader, mut writer) = ws::from_halves(r, w, config.max_message_bytes);
    let end = loop {
        match next_reply(&mut reader, config).await {
            Ok(Some(reply)) => {
                if writer.write_frame(reply).await.is_err() || writer.flush().await.is_err() {
                    break SessionEnd::CONNECTION_LOST;
                }
            }
            Ok(None) => {}
            Err(end) => break end,
        }
    };
    if let Some(close) = end.close_frame() {
        let _ = writer.write_frame(close).await;
        let _ = writer.flush().await;
    }
    if end == SessionEnd::TOO_LARGE || end == SessionEnd::FRAGMENTED {
        // The peer may still be sending the message we refused, and closing a socket with
        // unread bytes resets the connection, which can reach the peer before it has read our
        // close frame (Autobahn 9.1.3 saw "no close code" now and then). Give it a moment to
        // read the close first.
        tokio::time::sleep(CLOSE_GRACE).await;
    }
}

/// How long the close of a refused oversized message waits before dropping the connection.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(150);

/// The answer the next frame calls for, if any, or how the connection ends.
async fn next_reply<R: AsyncRead + Unpin>(
    reader: &mut WsReader<R>,
    config: &ServerConfig,
) -> Result<Option<Frame<'static>>, SessionEnd> {
    let incoming = match timeout(config.idle_timeout(), reader.next()).await {
        Err(_) => return Err(SessionEnd::TIMEOUT),
        Ok(Err(e)) => return Err(e.end()),
        Ok(Ok(incoming)) => incoming,
    };
    Ok(match incoming {
        Incoming::Binary(p) => Some(Frame::binary(p.to_vec().into())),
        Incoming::Text(p) => Some(Frame::text(p.to_vec().into())),
        Incoming::Ping(p) => Some(ws::pong(p.to_vec())),
        Incoming::Pong(_) => None,
        Incoming::Close { .. } => return Err(SessionEnd::CLIENT_LEFT),
    })
}
