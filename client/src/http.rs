//! Plain HTTP requests to the server a client plays on, over the same TCP (and TLS, for `wss://`
//! servers, with the same trust) as its WebSocket: [`fetch_rules`] reads the game's
//! configuration from `/rules.json?game=NAME`, so that prediction steps with the rules the
//! server plays by ([`ClientConfig::fetch_rules`] does it on every connect); [`get`] is the
//! request itself (the bots read `/games`, `/schema.json` and `/metrics` with it); [`post`]
//! sends a body-less POST (the Bevy client drives a served replay's `/replay` with it).
//!
//! Bounded: one request per connection, a body of at most [`MAX_BODY`] bytes, within a
//! timeout; any status but 2xx is [`ClientError::Http`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tickwire_sim::Predict;
use tokio::net::TcpStream;

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::tls::{self, TlsOptions};
use crate::ws::{self, Target};

/// Largest response body read, bytes.
pub const MAX_BODY: usize = 4 << 20;

/// How long [`fetch_rules`] waits for the answer.
pub const RULES_TIMEOUT: Duration = Duration::from_secs(5);

/// GETs `url` (`http://` or `https://host[:port]/path`, trusting what `tls` says) within
/// `timeout`, and returns the body as text.
pub async fn get(url: &str, tls: &TlsOptions, timeout: Duration) -> Result<String, ClientError> {
    let target = parse(url)?;
    tokio::time::timeout(timeout, send(Method::GET, &target, url, tls))
        .await
        .map_err(|_| ClientError::Timeout("waiting for an HTTP answer"))?
}

/// POSTs to `url` with an empty body (parameters in the query), like [`get`].
pub async fn post(url: &str, tls: &TlsOptions, timeout: Duration) -> Result<String, ClientError> {
    let target = parse(url)?;
    tokio::time::timeout(timeout, send(Method::POST, &target, url, tls))
        .await
        .map_err(|_| ClientError::Timeout("waiting for an HTTP answer"))?
}

/// `http[s]://host:port{path}` on the server of the WebSocket URL `ws_url`.
pub fn server_url(ws_url: &str, path: &str) -> Result<String, ClientError> {
    let t = ws::parse_url(ws_url)?;
    let scheme = if t.secure { "https" } else { "http" };
    Ok(format!("{scheme}://{}{path}", t.authority))
}

/// The game's rules as the server plays them: its `/rules.json?game=NAME` (on the host of
/// `config.url`), read by [`Predict::rules_from_config`].
pub async fn fetch_rules<P: Predict>(config: &ClientConfig<P>) -> Result<P::Rules, ClientError> {
    let url = rules_url(&config.url, config.schema.name())?;
    let text = get(&url, &config.tls, RULES_TIMEOUT).await?;
    let bad = |e: serde_json::Error| ClientError::Rules { url: url.clone(), why: e.to_string() };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    P::rules_from_config(&json["config"]).map_err(bad)
}

/// `http[s]://host:port/rules.json?game=NAME` for the WebSocket URL `ws_url`.
pub fn rules_url(ws_url: &str, game: &str) -> Result<String, ClientError> {
    server_url(ws_url, &format!("/rules.json?game={game}"))
}

/// `url` as a connection target (`http://` or `https://`).
fn parse(url: &str) -> Result<Target, ClientError> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let ws = match scheme {
        "http" => "ws",
        "https" => "wss",
        _ => {
            let why = "the scheme must be http:// or https://";
            return Err(ClientError::InvalidUrl { url: url.to_owned(), why });
        }
    };
    ws::parse_url(&format!("{ws}://{rest}"))
}

async fn send(
    method: Method,
    target: &Target,
    url: &str,
    options: &TlsOptions,
) -> Result<String, ClientError> {
    let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
    if target.secure {
        let stream = tls::handshake(options, &target.host, stream).await?;
        request(TokioIo::new(stream), method, target, url).await
    } else {
        request(TokioIo::new(stream), method, target, url).await
    }
}

async fn request<I>(
    io: I,
    method: Method,
    target: &Target,
    url: &str,
) -> Result<String, ClientError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let failed = |e: &dyn std::fmt::Display| {
        ClientError::Io(std::io::Error::other(format!("{method} {url}: {e}")))
    };
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| failed(&e))?;
    let conn = tokio::spawn(conn);
    let req = Request::builder()
        .method(method.clone())
        .uri(target.path.as_str())
        .header(hyper::header::HOST, target.authority.as_str())
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(&e))?;
    let resp = sender.send_request(req).await.map_err(|e| failed(&e))?;
    let status = resp.status();
    let body = Limited::new(resp.into_body(), MAX_BODY).collect().await.map_err(|e| failed(&e))?;
    conn.abort();
    if !status.is_success() {
        return Err(ClientError::Http { url: url.to_owned(), status: status.as_u16() });
    }
    Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_live_beside_the_websocket() {
        assert_eq!(
            rules_url("ws://127.0.0.1:7777/ws", "kart").expect("valid"),
            "http://127.0.0.1:7777/rules.json?game=kart"
        );
        assert_eq!(
            rules_url("wss://play.example:443/ws", "tag").expect("valid"),
            "https://play.example:443/rules.json?game=tag"
        );
        assert!(matches!(rules_url("http://x/ws", "tag"), Err(ClientError::InvalidUrl { .. })));
        assert_eq!(
            server_url("ws://127.0.0.1:7777/ws", "/replay").expect("valid"),
            "http://127.0.0.1:7777/replay"
        );
        assert!(matches!(parse("ftp://x/"), Err(ClientError::InvalidUrl { .. })));
        let t = parse("http://[::1]:8080/rules.json?game=a").expect("valid");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str(), t.secure),
            ("::1", 8080, "/rules.json?game=a", false)
        );
    }
}
