//! The directory heartbeat: this server's record and room claims, rewritten in Redis every
//! `--heartbeat-ms` ([`super::registry`]), and removed when the server stops.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tracing::{info, warn};

use super::{Registration, ServerRecord, ServerRoom, Throttle};
use crate::ServerCtx;

/// Registers this server every `--heartbeat-ms` until shutdown, then deregisters it.
pub(super) async fn run(ctx: Arc<ServerCtx>, registration: Registration) {
    let mut tick = tokio::time::interval(Duration::from_millis(ctx.config.heartbeat_ms));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut registered: BTreeSet<String> = BTreeSet::new();
    let mut log = Throttle::default();
    loop {
        tokio::select! {
            () = ctx.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let record = record(&ctx);
        let open: BTreeSet<String> = record.rooms.iter().map(|r| r.name.clone()).collect();
        let closed: BTreeSet<String> = registered.difference(&open).cloned().collect();
        match registration.heartbeat(&record, &open, &closed).await {
            Ok(conflicts) => {
                ctx.metrics.fleet_heartbeats.inc();
                for room in conflicts {
                    warn!(%room, "another server of the fleet holds this open room");
                }
                registered = open;
            }
            Err(e) => log.warn(&ctx, "heartbeat", &e),
        }
    }
    let mut all = registered;
    all.extend(record(&ctx).rooms.into_iter().map(|r| r.name));
    match registration.deregister(&all).await {
        Ok(()) => info!(id = %ctx.fleet.id, "left the fleet directory"),
        Err(e) => warn!(error = %e, "could not leave the fleet directory: its keys will expire"),
    }
}

/// This server's record for the directory. The default room is the server's own (every
/// server of a fleet has one, under the same name): it is neither listed nor claimed, and the
/// directory may place `--max-rooms` − 1 rooms here.
fn record(ctx: &ServerCtx) -> ServerRecord {
    let rooms: Vec<ServerRoom> = ctx
        .rooms
        .summaries()
        .into_iter()
        .filter(|r| r.name != ctx.config.default_room)
        .map(|r| ServerRoom { name: r.name, game: r.game.to_owned(), players: r.players as u64 })
        .collect();
    let updated_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    ServerRecord {
        id: ctx.fleet.id.clone(),
        ws_url: ctx.fleet.public_url(),
        http_url: super::http_of(&ctx.fleet.public_url()),
        max_rooms: ctx.config.max_rooms.saturating_sub(1) as u64,
        draining: ctx.rooms.is_draining(),
        games: ctx.rooms.games().into_iter().map(|g| g.name.to_owned()).collect(),
        players: rooms.iter().map(|r| r.players).sum(),
        rooms,
        updated_ms,
    }
}
