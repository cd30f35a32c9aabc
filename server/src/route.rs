//! A host's own HTTP endpoints on the game port ([`ServerBuilder::route`]).
//!
//! A tool or a host adds a small control or status endpoint next to the game without a second
//! listener: `tickwire-replay serve` answers `/replay` (playback control) this way. A route
//! owns a path and everything under it (`/replay` and `/replay/...`). It is synchronous and
//! sees the method, the path and the query string; the request body is never read (pass
//! parameters in the query), so a route adds no unbounded read.
//!
//! The server guards every route the same way: a method other than `GET` or `HEAD` from a page
//! of a foreign `Origin` is refused with 403 before the route sees it (a page of another site
//! cannot drive the endpoint), counted in `tickwire_http_rejected_total{reason="route_origin"}`.
//! A route cannot take a path the server already serves.
//!
//! [`ServerBuilder::route`]: crate::ServerBuilder::route

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Method, Response, StatusCode, Uri};

use crate::ServerCtx;

/// A request, as a [`Route`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path, starting with the route's own (`/replay/seek`).
    pub path: &'a str,
    /// The query string without the `?` (empty when there is none), not percent-decoded.
    pub query: &'a str,
}

impl RouteRequest<'_> {
    /// The value of `key` in the query string (`a=1&b=2`), as it is written.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }
}

/// A route's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl RouteResponse {
    /// `200` with a JSON body.
    pub fn json(value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|e| e.to_string().into_bytes());
        Self { status: 200, content_type: "application/json", body }
    }

    /// A plain-text answer (`400` with why a parameter is refused, say).
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into().into_bytes();
        body.push(b'\n');
        Self { status, content_type: "text/plain; charset=utf-8", body }
    }
}

/// A host's HTTP endpoint (see the module docs).
pub trait Route: Send + Sync + std::fmt::Debug + 'static {
    /// Answers one request under the route's path.
    fn handle(&self, request: &RouteRequest<'_>) -> RouteResponse;
}

/// The route serving `path`, if any.
pub(crate) fn find<'a>(
    routes: &'a [(String, Arc<dyn Route>)],
    path: &str,
) -> Option<&'a Arc<dyn Route>> {
    routes.iter().find(|(prefix, _)| matches(prefix, path)).map(|(_, r)| r)
}

/// Answers a request with `route`, after the origin check (see the module docs).
pub(crate) fn serve(
    ctx: &ServerCtx,
    route: &Arc<dyn Route>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response<Full<Bytes>> {
    let safe = matches!(*method, Method::GET | Method::HEAD);
    let answer = if !safe && !crate::admin::origin_allowed(ctx, headers) {
        ctx.metrics.http_rejected.get_or_create(&[("reason", "route_origin")]).inc();
        RouteResponse::text(403, "origin not allowed")
    } else {
        let request = RouteRequest { method, path: uri.path(), query: uri.query().unwrap_or("") };
        route.handle(&request)
    };
    let mut r = Response::new(Full::new(Bytes::from(answer.body)));
    *r.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    r.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

/// Whether `path` is `prefix` or under it.
pub(crate) fn matches(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Why a route's path is refused by [`ServerBuilder::route`](crate::ServerBuilder::route).
pub(crate) fn check_path(path: &str) -> anyhow::Result<()> {
    const TAKEN: &[&str] = &[
        "/ws",
        "/healthz",
        "/metrics",
        "/rooms",
        "/schema.json",
        "/rules.json",
        "/games",
        "/console",
        "/admin",
    ];
    let well_formed = path.len() > 1
        && path.starts_with('/')
        && !path.ends_with('/')
        && path[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
    anyhow::ensure!(well_formed, "route `{path}`: expected a path like `/replay`");
    anyhow::ensure!(
        !TAKEN.iter().any(|t| matches(t, path) || matches(path, t))
            && !crate::web::serves_under(path),
        "route `{path}`: the server already serves that path"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_owns_its_path_and_what_is_under_it_only() {
        assert!(matches("/replay", "/replay"));
        assert!(matches("/replay", "/replay/seek"));
        assert!(!matches("/replay", "/replayer"));
        assert!(!matches("/replay", "/"));
    }

    #[test]
    fn a_route_cannot_take_a_served_or_malformed_path() {
        assert!(check_path("/replay").is_ok());
        let taken = ["/ws", "/admin/x", "/metrics", "/sdk", "/page", "/arena.js", "/index.html"];
        let malformed = ["/", "replay", "/replay/", "/re play"];
        for bad in taken.into_iter().chain(malformed) {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn params_are_read_as_written() {
        let get = Method::GET;
        let r = RouteRequest { method: &get, path: "/replay/seek", query: "tick=90&x=2" };
        assert_eq!(r.param("tick"), Some("90"));
        assert_eq!(r.param("x"), Some("2"));
        assert_eq!(r.param("t"), None);
    }
}
