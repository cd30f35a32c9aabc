//! The operator console: a page at `/console` (`web/console.html` and `web/console/`) and the
//! JSON API it polls under `/admin/api/`. **Off unless `--admin-token` is set**: without it
//! every console and admin path answers 404, as if it did not exist.
//!
//! | method | path | answer |
//! | --- | --- | --- |
//! | GET | `/admin/api/overview` | server totals and every room ([`view::overview`]) |
//! | GET | `/admin/api/rooms/{room}/players` | a room's players ([`view::players`]) |
//! | POST | `/admin/api/rooms/{room}/players/{client}/kick` | ends that player's session with `Kicked` (4005) |
//! | POST | `/admin/api/rooms/{room}/close` | ends every session of the room with `RoomClosed` (4003) and closes it |
//! | POST | `/admin/api/drain` | stops accepting and ends every session with `ServerShutdown` (1001), as SIGTERM does |
//!
//! Every API request is checked in this order: a foreign `Origin` (a browser page of another
//! site; neither this server's own origin nor one of `--allowed-origins`) → 403, then a missing
//! or wrong `Authorization: Bearer TOKEN` → 401 (compared in constant time). Refusals are
//! counted in `tickwire_http_rejected_total` (`admin_origin`, `admin_unauthorized`). Request
//! bodies are never read: an action is named by its method and path alone. The page itself
//! holds no secret (it asks for the token and keeps it in `sessionStorage`), and it is served
//! with the same Content-Security-Policy as every page (scripts from `'self'` only).

mod process;
pub mod view;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};
use tickwire_protocol::ClientId;
use tickwire_protocol::message::hello::valid_room;
use tracing::info;

use crate::ServerCtx;
use crate::web;

/// Shortest admin token accepted at start-up.
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest admin token accepted at start-up (and compared).
pub const MAX_TOKEN_LEN: usize = 512;

type Resp = Response<Full<Bytes>>;

/// What the admin API was asked to do, parsed from the method and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action<'a> {
    Overview,
    Players { room: &'a str },
    Kick { room: &'a str, client: ClientId },
    Close { room: &'a str },
    Drain,
}

/// Why a request got no action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotFound,
    MethodNotAllowed,
}

/// Parses `rest` (the path after `/admin/api/`): known shapes only, room names as a hello's,
/// client ids as decimal `u32`.
fn parse<'a>(method: &Method, rest: &'a str) -> Result<Action<'a>, Refusal> {
    let parts: Vec<&str> = rest.split('/').collect();
    let (action, wants) = match parts.as_slice() {
        ["overview"] => (Action::Overview, Method::GET),
        ["drain"] => (Action::Drain, Method::POST),
        ["rooms", room, "players"] if valid_room(room) => (Action::Players { room }, Method::GET),
        ["rooms", room, "close"] if valid_room(room) => (Action::Close { room }, Method::POST),
        ["rooms", room, "players", client, "kick"] if valid_room(room) => {
            let client = client.parse::<u32>().map_err(|_| Refusal::NotFound)?;
            (Action::Kick { room, client: ClientId(client) }, Method::POST)
        }
        _ => return Err(Refusal::NotFound),
    };
    if *method == wants { Ok(action) } else { Err(Refusal::MethodNotAllowed) }
}

/// Whether `path` is one of the console's: `/console`, `/console.html`, `/console/…`, or the
/// API under `/admin/`.
pub(crate) fn owns(path: &str) -> bool {
    path == "/console"
        || path == "/console.html"
        || path.starts_with("/console/")
        || path == "/admin"
        || path.starts_with("/admin/")
}

/// Serves a path [`owns`] says is the console's.
pub(crate) async fn handle(
    ctx: &Arc<ServerCtx>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Resp {
    let Some(token) = ctx.config.admin_token.as_deref() else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let Some(rest) = path.strip_prefix("/admin/api/") else {
        return page(method, path, headers);
    };
    if !origin_allowed(ctx, headers) {
        ctx.metrics.http_rejected.get_or_create(&[("reason", "admin_origin")]).inc();
        return text(StatusCode::FORBIDDEN, "origin not allowed\n");
    }
    if !bearer_matches(headers, token) {
        ctx.metrics.http_rejected.get_or_create(&[("reason", "admin_unauthorized")]).inc();
        let mut r = text(StatusCode::UNAUTHORIZED, "unauthorized: an admin token is required\n");
        r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
        return r;
    }
    match parse(method, rest) {
        Ok(action) => act(ctx, action).await,
        Err(Refusal::NotFound) => text(StatusCode::NOT_FOUND, "not found\n"),
        Err(Refusal::MethodNotAllowed) => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
    }
}

/// The page and its modules, from the embedded `web/`.
fn page(method: &Method, path: &str, headers: &HeaderMap) -> Resp {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let path = if path == "/console" { "/console.html" } else { path };
    match web::find(path) {
        Some(asset) => web::serve(asset, headers),
        None => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

async fn act(ctx: &Arc<ServerCtx>, action: Action<'_>) -> Resp {
    let room = |name: &str| ctx.rooms.get(name);
    let gone = || json(StatusCode::NOT_FOUND, serde_json::json!({ "error": "no such room" }));
    match action {
        Action::Overview => json(StatusCode::OK, view::overview(ctx)),
        Action::Players { room: name } => match room(name) {
            Some(r) => match view::players(ctx, &r).await {
                Some(body) => json(StatusCode::OK, body),
                None => gone(),
            },
            None => gone(),
        },
        Action::Kick { room: name, client } => {
            let Some(r) = room(name) else { return gone() };
            match r.kick(client).await {
                Ok(true) => {
                    info!(room = name, %client, "admin: kicked");
                    let body =
                        serde_json::json!({ "kicked": client.0, "room": name, "reason": "Kicked" });
                    json(StatusCode::OK, body)
                }
                Ok(false) => {
                    json(StatusCode::NOT_FOUND, serde_json::json!({ "error": "no such player" }))
                }
                Err(_) => gone(),
            }
        }
        Action::Close { room: name } => match room(name) {
            Some(r) => match r.close().await {
                Ok(players) => {
                    info!(room = name, players, "admin: room closed");
                    let stays_open = name == ctx.config.default_room;
                    let body = serde_json::json!({
                        "closed": name,
                        "players": players,
                        "reason": "RoomClosed",
                        "stays_open": stays_open,
                    });
                    json(StatusCode::OK, body)
                }
                Err(_) => gone(),
            },
            None => gone(),
        },
        Action::Drain => {
            info!("admin: drain requested; ending every session with ServerShutdown");
            ctx.shutdown.cancel();
            json(
                StatusCode::ACCEPTED,
                serde_json::json!({ "draining": true, "reason": "ServerShutdown" }),
            )
        }
    }
}

/// No `Origin` (a tool, not a browser page), this server's own origin, or one of
/// `--allowed-origins`.
pub(crate) fn origin_allowed(ctx: &ServerCtx, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(hyper::header::ORIGIN) else {
        return true;
    };
    if ctx.config.allowed_origins.iter().any(|a| a.as_bytes() == origin.as_bytes()) {
        return true;
    }
    let Some(host) = headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let scheme = if ctx.tls.is_some() { "https" } else { "http" };
    origin.as_bytes() == format!("{scheme}://{host}").as_bytes()
}

/// Whether `Authorization: Bearer <t>` carries `token`, compared in time independent of where
/// they differ.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    constant_time_eq(given.as_bytes(), token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.len() > MAX_TOKEN_LEN {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn text(status: StatusCode, body: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn json(status: StatusCode, body: serde_json::Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_to_actions_or_refusals() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(parse(&get, "overview"), Ok(Action::Overview));
        assert_eq!(parse(&post, "drain"), Ok(Action::Drain));
        assert_eq!(parse(&get, "rooms/lobby/players"), Ok(Action::Players { room: "lobby" }));
        assert_eq!(parse(&post, "rooms/a-1/close"), Ok(Action::Close { room: "a-1" }));
        assert_eq!(
            parse(&post, "rooms/lobby/players/7/kick"),
            Ok(Action::Kick { room: "lobby", client: ClientId(7) })
        );
        assert_eq!(parse(&get, "drain"), Err(Refusal::MethodNotAllowed));
        assert_eq!(parse(&post, "overview"), Err(Refusal::MethodNotAllowed));
        assert_eq!(parse(&get, "rooms/lobby/players/7/kick"), Err(Refusal::MethodNotAllowed));
        for bad in [
            "",
            "overview/",
            "rooms/lob%20by/players",
            "rooms//close",
            "rooms/lobby/players/-1/kick",
            "rooms/lobby/players/99999999999/kick",
            "rooms/lobby/players/x/kick",
            &format!("rooms/{}/close", "r".repeat(33)),
        ] {
            assert_eq!(parse(&post, bad), Err(Refusal::NotFound), "{bad:?}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!constant_time_eq(b"0123456789abcdef", b"0123456789abcdeF"));
        assert!(!constant_time_eq(b"0123456789abcde", b"0123456789abcdef"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn the_console_owns_only_its_paths() {
        for p in ["/console", "/console.html", "/console/app.js", "/admin/api/overview", "/admin"] {
            assert!(owns(p), "{p}");
        }
        for p in ["/", "/consoles", "/administrator", "/metrics", "/page/shell.js"] {
            assert!(!owns(p), "{p}");
        }
    }
}
