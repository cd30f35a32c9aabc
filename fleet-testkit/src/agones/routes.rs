//! The gateway's routes (`google.api.http` options in `proto/sdk/{sdk,beta}.proto`) and what
//! each does to the GameServer.
//!
//! Routing follows grpc-gateway's mux: a path no route has is 404 `Not Found`; a path a route
//! has under another method is 501 `Method Not Allowed`. `POST /health` with an empty body is
//! answered 400 with an empty body before the mux (the sdk-server's `healthCheckWrapper`).

use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};

use super::config::GameServerState;
use super::counts::{self, CounterUpdate};
use super::error::{GatewayError, GrpcCode};
use super::state::{GameServer, MetaKind};
use super::wire;

/// One gateway route, with its path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Ready,
    Allocate,
    Shutdown,
    Health,
    Reserve,
    GetGameServer,
    WatchGameServer,
    SetLabel,
    SetAnnotation,
    GetCounter(String),
    UpdateCounter(String),
    GetList(String),
    UpdateList(String),
    AddListValue(String),
    RemoveListValue(String),
}

/// Every route a path may name, with the method each needs.
fn candidates(path: &str) -> Vec<(Method, Route)> {
    let fixed = match path {
        "/ready" => Some((Method::POST, Route::Ready)),
        "/allocate" => Some((Method::POST, Route::Allocate)),
        "/shutdown" => Some((Method::POST, Route::Shutdown)),
        "/health" => Some((Method::POST, Route::Health)),
        "/reserve" => Some((Method::POST, Route::Reserve)),
        "/gameserver" => Some((Method::GET, Route::GetGameServer)),
        "/watch/gameserver" => Some((Method::GET, Route::WatchGameServer)),
        "/metadata/label" => Some((Method::PUT, Route::SetLabel)),
        "/metadata/annotation" => Some((Method::PUT, Route::SetAnnotation)),
        _ => None,
    };
    if let Some(f) = fixed {
        return vec![f];
    }
    if let Some(name) = segment(path, "/v1beta1/counters/") {
        return vec![
            (Method::GET, Route::GetCounter(name.clone())),
            (Method::PATCH, Route::UpdateCounter(name)),
        ];
    }
    let Some(last) = segment(path, "/v1beta1/lists/") else { return Vec::new() };
    let mut out = vec![
        (Method::GET, Route::GetList(last.clone())),
        (Method::PATCH, Route::UpdateList(last.clone())),
    ];
    // A verb suffix (`:addValue`) belongs to the POST routes; the GET and PATCH routes take
    // the whole segment as the name, as the gateway's pattern matcher does.
    if let Some((name, verb)) = last.rsplit_once(':').filter(|(n, _)| !n.is_empty()) {
        match verb {
            "addValue" => out.push((Method::POST, Route::AddListValue(name.to_owned()))),
            "removeValue" => out.push((Method::POST, Route::RemoveListValue(name.to_owned()))),
            _ => {}
        }
    }
    out
}

/// The single, non-empty segment after `prefix`, percent-decoded.
fn segment(path: &str, prefix: &str) -> Option<String> {
    let rest = path.strip_prefix(prefix)?;
    (!rest.is_empty() && !rest.contains('/')).then(|| percent_decode(rest))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Finds the route for a request, or the mux's refusal.
pub(crate) fn route(method: &Method, path: &str) -> Result<Route, GatewayError> {
    let found = candidates(path);
    if found.is_empty() {
        return Err(GatewayError::no_route());
    }
    found
        .into_iter()
        .find(|(m, _)| m == method)
        .map(|(_, r)| r)
        .ok_or_else(GatewayError::wrong_method)
}

/// Runs a routed call against the GameServer and returns the answer body.
pub(crate) fn handle(
    gs: &mut GameServer,
    route: Route,
    body: &[u8],
    now: Duration,
) -> Result<Value, GatewayError> {
    gs.settle(now);
    match route {
        Route::Health => {
            let pings = wire::message_count(body)?;
            gs.ping(pings, now);
            Ok(json!({}))
        }
        Route::GetGameServer => Ok(gs.to_json()),
        Route::WatchGameServer => Err(GatewayError {
            code: GrpcCode::Unimplemented,
            message: "WatchGameServer is not implemented by the mock; poll GET /gameserver".into(),
        }),
        other => handle_unary(gs, other, &wire::object(body)?, now),
    }
}

fn handle_unary(
    gs: &mut GameServer,
    route: Route,
    body: &wire::Object,
    now: Duration,
) -> Result<Value, GatewayError> {
    match route {
        Route::Ready => gs.request(GameServerState::Ready, now),
        Route::Allocate => gs.request(GameServerState::Allocated, now),
        Route::Shutdown => gs.request(GameServerState::Shutdown, now),
        Route::Reserve => gs.reserve(wire::int64(body, &["seconds"])?.unwrap_or(0), now),
        Route::SetLabel | Route::SetAnnotation => {
            let kind =
                if route == Route::SetLabel { MetaKind::Label } else { MetaKind::Annotation };
            let key = wire::string(body, &["key"])?;
            gs.set_metadata(kind, &key, &wire::string(body, &["value"])?)?;
        }
        Route::GetCounter(name) => {
            return Ok(counts::counter_json(&name, counts::get_counter(&gs.counters, &name)?));
        }
        Route::UpdateCounter(name) => {
            let c = counts::update_counter(&mut gs.counters, &name, CounterUpdate::parse(body)?)?;
            return Ok(counts::counter_json(&name, c));
        }
        Route::GetList(name) => {
            return Ok(counts::list_json(&name, counts::get_list(&gs.lists, &name)?));
        }
        Route::UpdateList(name) => {
            counts::update_list(&mut gs.lists, &name, body)?;
            // The real sidecar answers an empty List here.
            return Ok(json!({"name": "", "capacity": "0", "values": []}));
        }
        Route::AddListValue(name) => {
            let list = counts::add_value(&mut gs.lists, &name, wire::string(body, &["value"])?)?;
            return Ok(counts::list_json(&name, list));
        }
        Route::RemoveListValue(name) => {
            let list =
                counts::remove_value(&mut gs.lists, &name, &wire::string(body, &["value"])?)?;
            return Ok(counts::list_json(&name, list));
        }
        Route::Health | Route::GetGameServer | Route::WatchGameServer => {}
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_matches_the_gateway() {
        assert_eq!(route(&Method::POST, "/ready"), Ok(Route::Ready));
        assert_eq!(route(&Method::GET, "/ready"), Err(GatewayError::wrong_method()));
        assert_eq!(route(&Method::GET, "/nope"), Err(GatewayError::no_route()));
        assert_eq!(
            route(&Method::PATCH, "/v1beta1/counters/rooms"),
            Ok(Route::UpdateCounter("rooms".into()))
        );
        assert_eq!(
            route(&Method::POST, "/v1beta1/counters/rooms"),
            Err(GatewayError::wrong_method())
        );
        assert_eq!(
            route(&Method::POST, "/v1beta1/lists/players:addValue"),
            Ok(Route::AddListValue("players".into()))
        );
        assert_eq!(
            route(&Method::POST, "/v1beta1/lists/players:bogus"),
            Err(GatewayError::wrong_method())
        );
        assert_eq!(route(&Method::GET, "/v1beta1/lists/a%20b"), Ok(Route::GetList("a b".into())));
        assert_eq!(route(&Method::GET, "/v1beta1/lists/"), Err(GatewayError::no_route()));
    }
}
