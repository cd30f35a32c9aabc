//! HTTP routes on the game port: `/ws` (WebSocket upgrade), `/healthz`, `/metrics`
//! (Prometheus/OpenMetrics text), `/rooms` (JSON); and the browser client (`web.rs`): `/` (the
//! demo page), every module under `web/`, `/games`, `/schema.json` and `/rules.json`.
//!
//! The upgrade is checked before it happens, since fastwebsockets leaves these to the caller:
//! not an upgrade or a WebSocket version other than 13 → 426 with `Sec-WebSocket-Version: 13`;
//! an `Origin` outside the configured allowlist → 403; shutting down → 503; a refused join
//! token or resume ticket → 401. A plain GET of `/ws` on a token server whose credentials would
//! be refused is answered 401 before the 426, without using a good token up: a browser cannot
//! read the status of a failed upgrade, so its client asks this way (that 401 is readable by
//! a page of any allowed origin: CORS). The subprotocol
//! `tickwire.v1` is echoed when the client offers it (browsers drop a connection whose offered
//! subprotocol is not echoed).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tracing::debug;

use crate::ServerCtx;
use crate::listener::{Conn, RequestClient};
use crate::session::Authorized;

// The embedded browser client is part of the HTTP surface, so it lives under this module.
use crate::web;

/// The WebSocket subprotocol a Tickwire client may offer.
pub const SUBPROTOCOL: &str = "tickwire.v1";

type Resp = Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, body: &'static str) -> Resp {
    respond(status, "text/plain; charset=utf-8", body)
}

/// Routes one request.
pub(crate) async fn handle(
    req: Request<Incoming>,
    ctx: Arc<ServerCtx>,
    conn: Arc<Conn>,
) -> Result<Resp, Infallible> {
    // Behind a trusted proxy, the client is known (and admitted under the per-IP cap) only
    // now that the headers are read: crate::proxy.
    let client = match conn.client_of(&ctx, req.headers()) {
        Ok(client) => client,
        Err(refusal) => {
            let mut r = reject(&ctx, refusal.status(), refusal.label(), "refused\n");
            r.headers_mut().insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
            return Ok(r);
        }
    };
    let resp = match (req.method(), req.uri().path()) {
        // The operator console and its API (off without --admin-token): crate::admin.
        (method, path) if crate::admin::owns(path) => {
            crate::admin::handle(&ctx, method, path, req.headers()).await
        }
        (method, path) if let Some(route) = crate::route::find(&ctx.routes, path) => {
            crate::route::serve(&ctx, route, method, req.uri(), req.headers())
        }
        (&Method::GET, "/ws") => upgrade(req, ctx, client, conn),
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/metrics") => respond(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ctx.metrics.render(),
        ),
        (&Method::GET, "/rooms") => {
            let body = serde_json::json!({ "rooms": ctx.rooms.summaries() }).to_string();
            respond(StatusCode::OK, "application/json", body)
        }
        (&Method::GET, "/schema.json") => {
            web::schema_json(&ctx.rooms, req.uri().query().unwrap_or(""), req.headers())
        }
        (&Method::GET, "/rules.json") => {
            web::rules_json(&ctx.rooms, req.uri().query().unwrap_or(""), req.headers())
        }
        (&Method::GET, "/games") => {
            let routes: Vec<&str> = ctx.routes.iter().map(|(p, _)| p.as_str()).collect();
            web::games_json(&ctx.rooms, &routes, req.headers())
        }
        (
            _,
            "/ws" | "/healthz" | "/metrics" | "/rooms" | "/schema.json" | "/rules.json" | "/games",
        ) => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        (&Method::GET | &Method::HEAD, path) => match web::find(path) {
            Some(asset) => web::serve(asset, req.headers()),
            None => text(StatusCode::NOT_FOUND, "not found\n"),
        },
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(resp)
}

fn reject(ctx: &ServerCtx, status: StatusCode, reason: &'static str, body: &'static str) -> Resp {
    ctx.metrics.http_rejected.get_or_create(&[("reason", reason)]).inc();
    debug!(reason, "websocket upgrade refused");
    text(status, body)
}

fn upgrade(
    mut req: Request<Incoming>,
    ctx: Arc<ServerCtx>,
    client: RequestClient,
    conn: Arc<Conn>,
) -> Resp {
    let headers = req.headers();
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        // A browser cannot read the status of a failed upgrade, so a client asks with a plain
        // GET of the same URL: the credentials are checked as the upgrade would (never using a
        // token up), and a refused one is answered 401 before the 426.
        if let Err(r) = authorize(&ctx, req.uri().query().unwrap_or(""), headers, Use::Check) {
            return readable_by_origin(&ctx, headers.get(hyper::header::ORIGIN), *r);
        }
        let mut r = reject(
            &ctx,
            StatusCode::UPGRADE_REQUIRED,
            "not_upgrade",
            "WebSocket upgrade required\n",
        );
        r.headers_mut().insert(hyper::header::UPGRADE, HeaderValue::from_static("websocket"));
        return r;
    }
    if headers.get("sec-websocket-version").map(HeaderValue::as_bytes) != Some(b"13") {
        let mut r = reject(
            &ctx,
            StatusCode::UPGRADE_REQUIRED,
            "bad_version",
            "unsupported WebSocket version\n",
        );
        r.headers_mut().insert("sec-websocket-version", HeaderValue::from_static("13"));
        return r;
    }
    let allowed = &ctx.config.allowed_origins;
    let origin = headers.get(hyper::header::ORIGIN);
    if let Some(origin) = origin.filter(|_| !allowed.is_empty())
        && !allowed.iter().any(|a| a.as_bytes() == origin.as_bytes())
    {
        return reject(&ctx, StatusCode::FORBIDDEN, "origin", "origin not allowed\n");
    }
    if ctx.shutdown.is_cancelled() {
        return reject(&ctx, StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "shutting down\n");
    }
    let auth = match authorize(&ctx, req.uri().query().unwrap_or(""), headers, Use::Spend) {
        Ok(auth) => auth,
        Err(r) => return *r,
    };
    let offers_subprotocol = headers
        .get_all(hyper::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.split(',').any(|p| p.trim() == SUBPROTOCOL)));
    let (resp, fut) = match fastwebsockets::upgrade::upgrade(&mut req) {
        Ok(x) => x,
        Err(_) => {
            return reject(
                &ctx,
                StatusCode::BAD_REQUEST,
                "bad_handshake",
                "bad WebSocket handshake\n",
            );
        }
    };
    let session_ctx = ctx.clone();
    // The session holds the connection's slots (and the request's own per-IP slot behind a
    // trusted proxy) until it ends.
    ctx.tracker.spawn(async move {
        let peer = client.addr;
        match fut.await {
            Ok(ws) => crate::session::run(ws.into_inner(), session_ctx, peer, auth).await,
            Err(e) => debug!(%peer, "upgrade failed: {e}"),
        }
        drop((client, conn));
    });
    let (mut parts, _) = resp.into_parts();
    if offers_subprotocol {
        parts
            .headers
            .insert(hyper::header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(SUBPROTOCOL));
    }
    Response::from_parts(parts, Full::new(Bytes::new()))
}

/// Lets a page of an allowed origin read `r` (CORS): the answer to a client asking why its
/// upgrade failed, when the page comes from another origin than this server (a game site).
/// Any origin when no allowlist is configured, else the request's origin if it is listed.
fn readable_by_origin(ctx: &ServerCtx, origin: Option<&HeaderValue>, mut r: Resp) -> Resp {
    let allowed = &ctx.config.allowed_origins;
    let value = match origin {
        _ if allowed.is_empty() => HeaderValue::from_static("*"),
        Some(o) if allowed.iter().any(|a| a.as_bytes() == o.as_bytes()) => o.clone(),
        _ => return r,
    };
    r.headers_mut().insert(hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    r.headers_mut().insert(hyper::header::VARY, HeaderValue::from_static("origin"));
    r
}

/// What `authorize` does with a good join token.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Use {
    /// An upgrade: the token is used up (single use).
    Spend,
    /// A plain GET asking whether the upgrade would be refused: the token stays usable.
    Check,
}

/// Checks the join token, or for a resuming client on a token server the resume ticket that
/// replaces its spent token (PROTOCOL.md §1, §1.3); 401 when neither is valid. Checking a
/// resume ticket never uses it up (the hello redeems it).
fn authorize(
    ctx: &ServerCtx,
    query: &str,
    headers: &hyper::HeaderMap,
    usage: Use,
) -> Result<Authorized, Box<Resp>> {
    let Some(verifier) = &ctx.auth else {
        return Ok(Authorized::Open);
    };
    let token = query_param(query, "token").or_else(|| bearer(headers));
    if token.is_none()
        && let Some(resume) = query_param(query, "resume")
    {
        return match tickwire_protocol::message::ResumeTicket::from_query(resume) {
            Some(ticket) if ctx.tickets.check(&ticket).is_some() => Ok(Authorized::Resume(ticket)),
            _ => {
                let r = reject(ctx, StatusCode::UNAUTHORIZED, "resume_invalid", "unauthorized\n");
                Err(Box::new(with_body(
                    r,
                    "unauthorized: unknown or expired session to resume\n".into(),
                )))
            }
        };
    }
    let room = query_param(query, "room");
    // The game the request is for: named, or the one the named room already hosts (a token
    // bound to a game is refused for another).
    let hosted = room.and_then(|r| ctx.rooms.get(r)).map(|r| r.game.name);
    let scope = crate::auth::Scope { room, game: query_param(query, "game").or(hosted) };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let verdict = match usage {
        Use::Spend => verifier.verify(token, scope, now),
        Use::Check => verifier.check(token, scope, now),
    };
    match verdict {
        Ok(claims) => Ok(Authorized::Token(claims)),
        Err(e) => {
            let r = reject(ctx, StatusCode::UNAUTHORIZED, e.label(), "unauthorized\n");
            Err(Box::new(with_body(r, format!("unauthorized: {e}\n"))))
        }
    }
}

fn with_body(mut r: Resp, body: String) -> Resp {
    *r.body_mut() = Full::new(Bytes::from(body));
    r
}

/// The value of `key` in a query string. Tokens (base64url and dots) and room names
/// (`[A-Za-z0-9_-]`) never need percent-encoding, so none is decoded.
fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &hyper::HeaderMap) -> Option<&str> {
    headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}
