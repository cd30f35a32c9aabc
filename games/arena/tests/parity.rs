//! The arena's committed prediction parity vectors (`parity.json`, read by
//! `web/test/parity.test.mjs`) are what `ArenaProtocol::step` gives today; after a deliberate
//! change to the movement, `TICKWIRE_BLESS=1 cargo test -p tickwire-arena --test parity`
//! rewrites them (and the JavaScript port must follow).

#[path = "../examples/arena_parity_vectors/recipe.rs"]
mod recipe;

use std::path::Path;

use tickwire_sim::parity::Origin;

#[test]
fn the_committed_vectors_are_the_step() {
    let vectors = recipe::record(30, 13).expect("records");
    let play = vectors.cases.iter().filter(|c| c.origin == Origin::Play).count();
    assert!(play >= 150, "{play} cases from play");
    assert!(vectors.cases.iter().any(|c| c.state["alive"] == false), "some dead players");
    assert!(vectors.cases.iter().any(|c| c.state == c.next && c.values[..2] != [Some(127); 2]));
    let path =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("parity.json");
    vectors.check_file(&path).expect("parity.json holds the step's vectors");
}
