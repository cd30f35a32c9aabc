//! Inputs move the player on a real server, and the client's prediction converges to the
//! server's position.

mod common;

use std::time::Duration;

use common::{server, wait_until};
use glam::Vec2;
use tickwire_arena::{ArenaInput, BODY, Body, schema};
use tickwire_client::connect;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_move_the_player_and_the_prediction_converges() {
    let server = server().await;
    let handle = server.handle.clone();
    let client = connect(common::arena(handle.ws_url(), "lobby", "mover")).await.expect("connects");
    let me = client.welcome().entity;
    let server_pos = || {
        let snap = handle.snapshot("lobby")?;
        snap.get(me)?.get::<Body>(schema(), BODY).map(|b| b.pos())
    };
    wait_until("the player in a snapshot", || server_pos().is_some()).await;
    let start = server_pos().expect("present");

    // Walls may block one direction; across four, the player must get somewhere.
    let mut furthest = 0.0f32;
    for dir in [Vec2::X, Vec2::Y, Vec2::NEG_X, Vec2::NEG_Y] {
        client.set_input(ArenaInput::toward(dir));
        tokio::time::sleep(Duration::from_millis(400)).await;
        furthest = furthest.max(server_pos().expect("present").distance(start));
        let predicted = client.with_state(|s| s.predicted().map(|p| p.pos)).expect("predicting");
        let behind = predicted.distance(server_pos().expect("present"));
        // The prediction leads the server by about a round trip of inputs, never by seconds.
        assert!(behind < 60.0, "prediction {behind} units from the server");
    }
    assert!(furthest > 40.0, "the player moved {furthest} units");

    client.set_input(ArenaInput::IDLE);
    wait_until("the prediction equals the server's position", || {
        let predicted = client.with_state(|s| s.predicted().map(|p| p.pos));
        predicted.is_some() && predicted == server_pos()
    })
    .await;
    let stats = client.stats();
    assert!(stats.prediction_checks > 30, "{stats:?}");
    assert!(stats.mispredictions * 10 <= stats.prediction_checks, "{stats:?}");
    assert!(stats.inputs_late * 10 <= stats.inputs_sent, "{stats:?}");
    drop(client);
    server.stop().await.expect("server stops");
}
