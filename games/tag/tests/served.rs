//! Tag served by a real server (as `examples/serve.rs` does, on port 0) and played by the
//! bots' schema-driven random players, which know nothing of tag but its `/schema.json`: every
//! bot connects and plays, inputs and `Wave` commands are accepted, and the room holds one
//! runner per bot, exactly one of them "it". And by the Rust client, as the guide shows it.

use std::time::Duration;

use tickwire_bots::{Players, Swarm, SwarmConfig, game};
use tickwire_client::{ClientConfig, ClientEvent, Event, connect};
use tickwire_protocol::GameProtocol;
use tickwire_protocol::game::Dynamic;
use tickwire_server::{Server, ServerConfig};
use tickwire_tag::{Run, Runner, Tag, TagCommand, TagConfig, TagEvent, TagProtocol};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bots_play_tag_from_its_description_alone() {
    let config = TagConfig { size: 64.0, ..TagConfig::default() };
    let server = Server::builder(ServerConfig::for_tests())
        .game::<Tag>(config)
        .spawn()
        .await
        .expect("starts");
    let handle = server.handle.clone();
    let base = format!("http://{}", handle.addr());
    let schema = game::fetch_schema(&base, "tag", &Default::default()).await.expect("described");
    assert_eq!(schema.hash(), TagProtocol::schema().hash(), "the description is the game");
    let players = Players::<Dynamic>::generic(schema, "random").expect("random players");

    let mut swarm = SwarmConfig::new(handle.ws_url(), 6, Duration::from_secs(5));
    swarm.ramp_up = Duration::from_millis(300);
    swarm.rooms = vec!["field".to_owned()];
    let running = Swarm::start(swarm, players);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let snap = handle.snapshot("field").expect("the room publishes");
    let runners: Vec<Runner> = snap
        .iter()
        .filter_map(|e| e.get::<Runner>(TagProtocol::schema().components(), 0))
        .collect();
    assert_eq!(runners.len(), 6, "one runner per bot");
    assert_eq!(runners.iter().filter(|r| r.it).count(), 1, "exactly one is it");
    let outcome = running.finish().await.expect("the run ends");
    assert_eq!((outcome.connected, outcome.errors()), (6, 0), "{:?}", outcome.disconnects);

    let metrics = handle.metrics().render();
    let counted = |name: &str| {
        metrics.lines().any(|l| {
            l.starts_with(name)
                && l.contains("game=\"tag\"")
                && l.contains("accepted")
                && !l.ends_with(" 0")
        })
    };
    assert!(counted("tickwire_inputs_total") && counted("tickwire_commands_total"), "{metrics}");
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_runs_waves_and_hears_the_wave() {
    let server = Server::builder(ServerConfig::for_tests())
        .game::<Tag>(TagConfig::default())
        .spawn()
        .await
        .expect("starts");
    let config = ClientConfig::<TagProtocol>::new(server.handle.ws_url(), "lobby", "ada");
    let mut client = connect(config).await.expect("connects");
    let me = client.welcome().entity;
    client.set_input(Run { x: 1, y: 0 });
    client.command(&TagCommand::Wave {}).expect("sent");
    let waved = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = client.next_event().await {
            if let ClientEvent::Event(e) = event
                && e.event == Event::Game(TagEvent::Waved { who: me })
            {
                return;
            }
        }
        panic!("the session ended first");
    });
    waved.await.expect("the wave within 10 s");
    let x = || {
        let snap = server.handle.snapshot("lobby")?;
        snap.get(me)?.get::<Runner>(TagProtocol::schema().components(), 0).map(|r| r.x)
    };
    let start = x().expect("my runner");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(x().expect("my runner") > start || start == TagConfig::default().size, "it runs right");
    client.close().await;
    server.stop().await.expect("stops");
}
