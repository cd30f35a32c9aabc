//! The race hosted by a real server (the library, on port 0) and driven by the Rust client
//! over a real socket: the autopilot races from the client's predicted kart with no
//! misprediction on a clean link, its horn is heard as an event, and a `Paint` command
//! repaints its kart in the snapshots.

use std::time::Duration;

use tickwire_client::{ClientConfig, ClientEvent, Event, InputContext, connect_with};
use tickwire_kart::{
    Autopilot, KartCommand, KartConfig, KartEvent, KartInput, KartProtocol, RACER, Race, Racer,
};
use tickwire_protocol::GameProtocol;
use tickwire_server::{Server, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_solo_racer_is_predicted_exactly_and_its_commands_and_events_arrive() {
    let mut race = KartConfig::default();
    race.barrels.count = 500;
    let server = Server::builder(ServerConfig::for_tests())
        .game::<Race>(race.clone())
        .spawn()
        .await
        .expect("starts");
    let mut config = ClientConfig::<KartProtocol>::new(server.handle.ws_url(), "track", "pilot");
    config.rules = race.rules.clone();
    let track = race.rules.track;
    let mut pilot = Autopilot::honking_every(30);
    let drive = move |ctx: &InputContext<'_, KartProtocol>| match ctx.state.predicted() {
        Some(kart) => pilot.drive(&track, kart),
        None => KartInput::default(),
    };
    let mut client = connect_with(config, drive).await.expect("connects");
    let me = client.welcome().entity;

    // Hear our own horn.
    let honk = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match client.next_event().await {
                Some(ClientEvent::Event(e))
                    if e.event == Event::Game(KartEvent::Honk { racer: me }) =>
                {
                    break;
                }
                Some(ClientEvent::Ended(why)) => panic!("ended: {why:?}"),
                None => panic!("no more events"),
                _ => {}
            }
        }
    });
    honk.await.expect("a honk within 10 s");

    client.command(&KartCommand::Paint { color: 3 }).expect("sent");
    let painted = || {
        let snap = server.handle.snapshot("track")?;
        snap.get(me)?.get::<Racer>(KartProtocol::schema().components(), RACER).map(|r| r.color)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while painted() != Some(3) {
        assert!(tokio::time::Instant::now() < deadline, "repainted: {:?}", painted());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    tokio::time::sleep(Duration::from_secs(4)).await;
    let stats = client.stats();
    assert!(stats.prediction_checks > 150, "{stats:?}");
    assert_eq!(stats.mispredictions, 0, "{stats:?}");
    let moved = client.with_state(|s| s.predicted().map(|k| (k.vx, k.vy)));
    assert!(moved.is_some_and(|v| v != (0, 0)), "racing: {moved:?}");
    client.close().await;
    server.stop().await.expect("stops");
}

/// A client told to (`fetch_rules`) reads the rules from the server's `/rules.json` before
/// connecting, so it predicts with a track and speeds the server was configured with; a server
/// that does not host the race answers 404, and the client says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reads_the_rules_the_server_plays_by() {
    let mut race = KartConfig::default();
    race.rules.track.width = 1600;
    race.rules.max_speed += 16;
    race.barrels.count = 0;
    assert_ne!(race.rules, KartConfig::default().rules);
    let server = Server::builder(ServerConfig::for_tests())
        .game::<Race>(race.clone())
        .spawn()
        .await
        .expect("starts");
    let mut config = ClientConfig::<KartProtocol>::new(server.handle.ws_url(), "track", "pilot");
    config.fetch_rules = true;
    let client = tickwire_client::connect(config.clone()).await.expect("connects");
    assert_eq!(client.with_state(|s| s.rules().clone()), race.rules);
    client.close().await;
    server.stop().await.expect("stops");

    // A server hosting another game has no kart rules.
    let other = Server::builder(ServerConfig::for_tests())
        .game::<tickwire_tag::Tag>(tickwire_tag::TagConfig::default())
        .spawn()
        .await
        .expect("starts");
    config.url = other.handle.ws_url();
    match tickwire_client::connect(config).await {
        Err(tickwire_client::ClientError::Http { status: 404, url }) => {
            assert!(url.ends_with("/rules.json?game=kart"), "{url}");
        }
        other => panic!("expected a 404 for the rules, got {:?}", other.map(|_| ())),
    }
    other.stop().await.expect("stops");
}
