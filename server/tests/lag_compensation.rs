//! A lag-compensated shot through the whole network path: the shooter aims at where the target
//! was drawn several ticks ago and claims that view time; the server rewinds and it hits. The
//! same aim claiming the present misses.

mod common;

use common::*;
use tickwire_arena::{ArenaConfig, ArenaEvent, ArenaInput, ArenaProtocol, ArenaRules, NpcConfig};
use tickwire_protocol::message::{ClientMessage, InputFrame, RoomEvent, ServerMessage, ViewTime};
use tickwire_protocol::{EntityId, GameProtocol, Snapshot, Tick};

fn open_arena() -> ArenaConfig {
    ArenaConfig {
        rules: ArenaRules { walls: Vec::new(), ..ArenaRules::default() },
        npcs: NpcConfig { count: 0, ..NpcConfig::default() },
        ..ArenaConfig::default()
    }
}

/// Fires from `shooter` at where `target` is in `drawn`, claiming `view`, in an input for two
/// ticks after the server's (so that it is never late, however slow the test runs); returns
/// the shot's hit.
async fn shoot(
    a: &mut TestClient,
    server: &tickwire_server::ServerHandle,
    drawn: &Snapshot,
    target: EntityId,
    view: ViewTime,
) -> Option<EntityId> {
    let me = a.welcome.entity;
    let latest = a.latest.clone().expect("snapshots");
    let from = position(&latest, me).expect("shooter body");
    let to = position(drawn, target).expect("target body");
    let aim = (to.1 - from.1).atan2(to.0 - from.0);
    let fire = ArenaInput { aim, ..ArenaInput::IDLE }.firing(true);
    let now = server.rooms().into_iter().find(|r| r.name == "lobby").map(|r| Tick(r.tick));
    let input = InputFrame {
        tick: now.unwrap_or(latest.tick()).offset(2),
        last_snapshot: Some(latest.tick()),
        view,
        payload: ArenaProtocol::schema().encode_input(&fire),
    };
    a.events.clear();
    a.send(ClientMessage::Input(input)).await;
    for _ in 0..200 {
        a.step().await;
        for e in &a.events {
            if let ServerMessage::Event(ev) = e
                && let RoomEvent::Game { kind, payload } = &ev.event
                && let Ok(ArenaEvent::Shot { shooter, hit, .. }) =
                    ArenaProtocol::schema().decode_event(*kind, payload)
                && shooter == me
            {
                return hit;
            }
        }
    }
    panic!("no shot event for the shooter");
}

#[tokio::test]
async fn shot_at_the_drawn_past_hits_only_with_lag_compensation() {
    let server = server_with(open_arena(), |_| {}).await;
    let addr = server.handle.addr();
    let mut a = TestClient::join(addr, "lobby", "shooter").await;
    let mut b = TestClient::join(addr, "lobby", "target").await;
    let target = b.welcome.entity;
    let start = position(&b.next_snapshot().await, target).expect("target body");
    let move_y = if start.1 > 500.0 { -127 } else { 127 };
    let strafe = ArenaInput { move_y, ..ArenaInput::IDLE };

    a.catch_up(&server.handle).await;
    b.catch_up(&server.handle).await;
    let mut history: Vec<Snapshot> = Vec::new();
    let handle = server.handle.clone();
    // `ticks` of strafing, then the shooter reads every snapshot up to the server's tick (on a
    // busy machine the test may fall behind; its input must not arrive late).
    let run = async |a: &mut TestClient,
                     b: &mut TestClient,
                     history: &mut Vec<Snapshot>,
                     ticks: usize| {
        for _ in 0..ticks {
            b.input_and_snapshot(strafe).await;
            history.push(a.next_snapshot().await);
        }
        loop {
            let room = handle.rooms().into_iter().find(|r| r.name == "lobby").map(|r| r.tick);
            let latest = history.last().map(|s| s.tick().0);
            if room.zip(latest).is_some_and(|(now, l)| now.wrapping_sub(l) <= 1) {
                break;
            }
            history.push(a.next_snapshot().await);
        }
    };
    run(&mut a, &mut b, &mut history, 15).await;

    // Without lag compensation: aim at the target as drawn 5 ticks ago, claim the present.
    let drawn = history[history.len() - 6].clone();
    let now = ViewTime { tick: history[history.len() - 1].tick(), fraction: 0 };
    let moved = position(&history[history.len() - 1], target).expect("body").1
        - position(&drawn, target).expect("body").1;
    assert!(moved.abs() > 25.0, "target must be strafing (moved {moved})");
    let miss =
        shoot(&mut a, &handle, &drawn, target, ViewTime { tick: now.tick.offset(2), fraction: 0 })
            .await;
    assert_eq!(miss, None, "judged against the present, the shot misses");

    run(&mut a, &mut b, &mut history, 12).await;
    let drawn = history[history.len() - 6].clone();
    let hit =
        shoot(&mut a, &handle, &drawn, target, ViewTime { tick: drawn.tick(), fraction: 0 }).await;
    assert_eq!(hit, Some(target), "rewound to the shooter's view, the shot hits");
    let metrics = server.handle.metrics().render();
    assert!(
        metrics.contains("tickwire_rewinds_total{game=\"arena\",outcome=\"hit\"} 1"),
        "{metrics}"
    );
    server.stop().await.expect("clean stop");
}
