//! The race's golden vectors (`games/kart/vectors.json`): its description and one payload of
//! every input shape, event and command, checked byte for byte here and by the web SDK's tests
//! (`web/test/games.test.mjs`). `TICKWIRE_BLESS=1 cargo test -p tickwire-kart --test vectors`
//! rewrites the file after a deliberate change.

use tickwire_kart::{BOOST, DRIFT, HORN, KartCommand, KartEvent, KartInput, KartProtocol};
use tickwire_protocol::EntityId;
use tickwire_protocol::game::{GameProtocol, GameVectors};

#[test]
fn the_committed_vectors_are_the_codec_s() {
    let schema = KartProtocol::schema();
    let vectors = GameVectors::of(schema)
        .input("input_idle", &KartInput::default())
        .input("input_full_boost_right", &KartInput { throttle: 64, steer: 64, buttons: BOOST })
        .input(
            "input_reverse_left_drift_horn",
            &KartInput { throttle: -64, steer: -17, buttons: DRIFT | HORN },
        )
        .event("event_lap", &KartEvent::Lap { racer: EntityId(1201), lap: 3, time_ms: 41_733 })
        .event(
            "event_bump_kart",
            &KartEvent::Bump { kart: EntityId(1201), other: Some(EntityId(1202)), speed: 80 },
        )
        .event(
            "event_bump_wall",
            &KartEvent::Bump { kart: EntityId(1201), other: None, speed: 1023 },
        )
        .event("event_honk", &KartEvent::Honk { racer: EntityId(7) })
        .event("event_won", &KartEvent::Won { racer: EntityId(1201), laps: 3 })
        .command("command_paint", &KartCommand::Paint { color: 6 })
        .command("command_reset", &KartCommand::Reset {})
        .done();
    let path = std::path::Path::new(
        &std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("vectors.json");
    tickwire_sim::check_vectors(&vectors, &path).unwrap_or_else(|e| panic!("{e}"));
}
