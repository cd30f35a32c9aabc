//! Tag's golden vectors (`games/tag/vectors.json`), for clients in other languages: its
//! description and one payload of each shape. `TICKWIRE_BLESS=1 cargo test -p tickwire-tag
//! --test vectors` rewrites the file after a deliberate change.

use tickwire_protocol::EntityId;
use tickwire_protocol::game::{GameProtocol, GameVectors};
use tickwire_tag::{Run, TagCommand, TagEvent, TagProtocol};

#[test]
fn the_committed_vectors_are_the_codec_s() {
    let vectors = GameVectors::of(TagProtocol::schema())
        .input("input_still", &Run { x: 0, y: 0 })
        .input("input_down_left", &Run { x: -1, y: -1 })
        .input("input_up_right", &Run { x: 1, y: 1 })
        .event("event_tagged", &TagEvent::Tagged { by: EntityId(3), it: EntityId(70_000) })
        .event("event_waved", &TagEvent::Waved { who: EntityId(0) })
        .command("command_wave", &TagCommand::Wave {})
        .done();
    let path = std::path::Path::new(
        &std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("vectors.json");
    tickwire_sim::check_vectors(&vectors, &path).unwrap_or_else(|e| panic!("{e}"));
}
