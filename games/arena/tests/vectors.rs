//! The arena's golden vectors (`games/arena/vectors.json`): its description and one payload of
//! every input shape and event, checked byte for byte here and by the web SDK's tests
//! (`web/test/games.test.mjs`). `TICKWIRE_BLESS=1 cargo test -p tickwire-arena --test vectors`
//! rewrites the file after a deliberate change.

use tickwire_arena::{ArenaEvent, ArenaInput, ArenaProtocol, MAX_COORD};
use tickwire_protocol::EntityId;
use tickwire_protocol::game::{GameProtocol, GameVectors};

#[test]
fn the_committed_vectors_are_the_codec_s() {
    let schema = ArenaProtocol::schema();
    let shot = |hit| ArenaEvent::Shot {
        shooter: EntityId(1000),
        from_x: 100.5,
        from_y: 200.25,
        to_x: 612.0,
        to_y: MAX_COORD,
        hit,
    };
    let vectors = GameVectors::of(schema)
        .input("input_idle", &ArenaInput::IDLE)
        .input(
            "input_up_left_firing",
            &ArenaInput { move_x: -127, move_y: 127, aim: 2.356_194_5, buttons: 1 },
        )
        .input("input_analog_right", &ArenaInput { move_x: 90, move_y: -3, aim: 6.0, buttons: 0 })
        .event("event_shot_hit", &shot(Some(EntityId(1001))))
        .event("event_shot_miss", &shot(None))
        .event(
            "event_hit",
            &ArenaEvent::Hit {
                shooter: EntityId(1000),
                target: EntityId(1001),
                damage: 25,
                rewind_ms: 117,
            },
        )
        .event("event_kill", &ArenaEvent::Kill { killer: EntityId(1000), victim: EntityId(1001) })
        .done();
    let path = std::path::Path::new(
        &std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("vectors.json");
    tickwire_sim::check_vectors(&vectors, &path).unwrap_or_else(|e| panic!("{e}"));
}
