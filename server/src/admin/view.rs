//! The JSON the admin API answers. Counters are cumulative (`bytes_out`, `cpu_seconds`) with
//! the server's `uptime_ms`, so that any poller computes rates over its own interval and two
//! consoles never disturb each other; the server keeps no per-viewer state.

use serde_json::{Value, json};

use super::process;
use crate::ServerCtx;
use crate::room::RoomHandle;

/// `GET /admin/api/overview`:
///
/// ```json
/// { "uptime_ms": 12000,
///   "server": { "connections": 3, "rooms": 1, "players": 2, "cpu_seconds": 0.42,
///               "rss_bytes": 31457280, "bytes_out": 81234, "bytes_in": 4321,
///               "draining": false, "process_source": "/proc/self (Linux)" },
///   "rooms": [ { "name": "lobby", "game": "arena", "players": 2, "entities": 12, "tick": 360,
///                "tick_rate": 30, "tick_time": { "samples": 128, "p50_us": 90, "p99_us": 240,
///                "max_us": 300 }, "bytes_out": 81234 } ] }
/// ```
///
/// `cpu_seconds` and `rss_bytes` are `null` where `/proc/self` does not exist (not Linux).
pub fn overview(ctx: &ServerCtx) -> Value {
    let handles = ctx.rooms.handles();
    let rooms: Vec<Value> = handles.iter().map(room).collect();
    let players: usize = handles.iter().map(|r| r.info().players()).sum();
    let m = &ctx.metrics;
    let direction = |d: &'static str| m.bytes.get_or_create(&[("direction", d)]).get();
    let (bytes_out, bytes_in) = (direction("out"), direction("in"));
    json!({
        "uptime_ms": ctx.uptime_ms(),
        "server": {
            "connections": m.connections.get(),
            "rooms": rooms.len(),
            "players": players,
            "cpu_seconds": process::cpu_seconds(),
            "rss_bytes": process::resident_bytes(),
            "bytes_out": bytes_out,
            "bytes_in": bytes_in,
            "draining": ctx.shutdown.is_cancelled(),
            "process_source": "/proc/self (Linux)",
        },
        "rooms": rooms,
    })
}

fn room(r: &RoomHandle) -> Value {
    let info = r.info();
    json!({
        "name": &*r.name,
        "game": r.game.name,
        "players": info.players(),
        "entities": info.entities(),
        "tick": info.tick().0,
        "tick_rate": r.game.tick_rate,
        "tick_time": info.tick_percentiles(),
        "bytes_out": info.bytes_out(),
    })
}

/// `GET /admin/api/rooms/{room}/players`: the room and its players ([`crate::room::PlayerView`]:
/// `client`, `name`, `state` `attached`/`detached`, `detached_ms`, `rtt_ms`, `jitter_us`,
/// `bytes_out`, `snapshots_dropped`, `inputs_late`, `inputs_accepted`, `input_lead_ticks`).
/// `None` when the room closed while asked.
pub async fn players(ctx: &ServerCtx, r: &RoomHandle) -> Option<Value> {
    let players = r.players().await.ok()?;
    Some(json!({
        "uptime_ms": ctx.uptime_ms(),
        "room": room(r),
        "players": players,
    }))
}
