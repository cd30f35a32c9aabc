//! The browser client, embedded: `web/` (the demo page and its SDK modules) is compiled into
//! the binary with `include_bytes!`, so `cargo run` serves a playable page at `/` with no build
//! step and no separate web server. Also the JSON a browser client needs: `/schema.json` (the
//! arena's replicated schema, [`tickwire_protocol::Schema::describe`]) and `/arena.json` (the
//! rules the page predicts movement with, and the tick rate).
//!
//! Every response says `Cache-Control: no-cache` (revalidate each time, so a rebuilt server is
//! never shadowed by a stale module) and carries an `ETag` (the FNV-1a hash of the body), so a
//! revalidation with a matching `If-None-Match` costs a 304 and no body. The page gets a
//! Content-Security-Policy allowing only its own origin (scripts, and the WebSocket back to it).
//!
//! A new file under `web/` that the page imports must be added to `ASSETS`; the test
//! `server/tests/web.rs` fails when an import has no route.

use std::sync::OnceLock;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use hyper::{Response, StatusCode};
use tickwire_protocol::schema::fnv1a64;

use crate::config::ServerConfig;

type Resp = Response<Full<Bytes>>;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const JSON: &str = "application/json";

/// The page's policy: its own scripts and connections only (`'self'` covers `ws://` to the same
/// host); inline styles for the small stylesheet in `index.html`.
const CSP: &str = "default-src 'self'; script-src 'self'; connect-src 'self'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; \
                   frame-ancestors 'none'";

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    /// The URL path it is served at.
    pub(crate) path: &'static str,
    /// Its `Content-Type`.
    pub(crate) content_type: &'static str,
    /// Its bytes.
    pub(crate) body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $file:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../web/", $file)),
        }
    };
}

/// Everything served from `web/`, by URL path.
pub(crate) const ASSETS: &[Asset] = &[
    asset!("/", "index.html", HTML),
    asset!("/index.html", "index.html", HTML),
    asset!("/game.js", "game.js", JS),
    asset!("/arena.js", "arena.js", JS),
    asset!("/sdk/bits.js", "sdk/bits.js", JS),
    asset!("/sdk/codec.js", "sdk/codec.js", JS),
    asset!("/sdk/schema.js", "sdk/schema.js", JS),
    asset!("/sdk/snapshot.js", "sdk/snapshot.js", JS),
    asset!("/sdk/clock.js", "sdk/clock.js", JS),
    asset!("/sdk/interp.js", "sdk/interp.js", JS),
    asset!("/sdk/predict.js", "sdk/predict.js", JS),
    asset!("/sdk/client.js", "sdk/client.js", JS),
    asset!("/sdk/ends.js", "sdk/ends.js", JS),
    asset!("/sdk/reconnect.js", "sdk/reconnect.js", JS),
];

/// The embedded file served at `path`, if any.
pub(crate) fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Serves an embedded file, or a 304 when the client's copy is current.
pub(crate) fn serve(asset: &'static Asset, request: &HeaderMap) -> Resp {
    let mut r = cached(asset.content_type, Bytes::from_static(asset.body), request);
    if asset.content_type == HTML {
        r.headers_mut().insert("content-security-policy", HeaderValue::from_static(CSP));
    }
    r
}

/// `/schema.json`: the arena schema's description (computed once).
pub(crate) fn schema_json(request: &HeaderMap) -> Resp {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| {
        serde_json::to_string(&tickwire_sim::arena::schema().describe())
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    });
    cached(JSON, Bytes::from_static(text.as_bytes()), request)
}

/// `/arena.json`: the rules of this server's rooms and its tick rate, for client prediction.
pub(crate) fn arena_json(config: &ServerConfig, request: &HeaderMap) -> Resp {
    let arena = config.arena();
    let r = &arena.rules;
    let walls: Vec<[f32; 4]> =
        r.walls.iter().map(|w| [w.min.x, w.min.y, w.max.x, w.max.y]).collect();
    let body = serde_json::json!({
        "tick_rate": arena.tick_rate,
        "max_rewind_ms": arena.max_rewind_ms,
        "rules": {
            "world": [r.world.x, r.world.y],
            "walls": walls,
            "player_speed": r.player_speed,
            "player_radius": r.player_radius,
            "npc_radius": r.npc_radius,
            "max_health": r.max_health,
            "damage": r.damage,
            "fire_cooldown_ms": r.fire_cooldown_ms,
            "weapon_range": r.weapon_range,
            "respawn_ms": r.respawn_ms,
        },
    });
    cached(JSON, Bytes::from(body.to_string()), request)
}

/// A 200 with `body`, or a 304 if `If-None-Match` names its ETag; `no-cache` either way.
fn cached(content_type: &'static str, body: Bytes, request: &HeaderMap) -> Resp {
    let etag = format!("\"{:016x}\"", fnv1a64(&body));
    let current = request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut r = if current {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Full::new(body));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let headers = r.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    r
}
