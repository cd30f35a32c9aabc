//! The race's committed prediction parity vectors (`parity.json`, read by
//! `web/test/parity.test.mjs`) are what `KartProtocol::step` gives today; after a deliberate
//! change to the physics, `TICKWIRE_BLESS=1 cargo test -p tickwire-kart --test parity`
//! rewrites them (and the JavaScript port in `web/kart.js` must follow).

#[path = "../examples/kart_parity_vectors/recipe.rs"]
mod recipe;

use std::path::Path;

use tickwire_sim::parity::Origin;

#[test]
fn the_committed_vectors_are_the_step() {
    let vectors = recipe::record(30, 13).expect("records");
    let play = vectors.cases.iter().filter(|c| c.origin == Origin::Play).count();
    assert!(play >= 150, "{play} cases from play");
    let bounced = |c: &&tickwire_sim::parity::ParityCase| {
        let sign = |v: &serde_json::Value| v.as_i64().map(i64::signum);
        sign(&c.state["vx"]) == sign(&c.next["vx"]).map(|s| -s) && c.state["vx"] != 0
    };
    assert!(vectors.cases.iter().any(|c| bounced(&c)), "some karts bounce off a wall");
    assert!(vectors.cases.iter().any(|c| c.state["heading"] != c.next["heading"]), "some turn");
    let path =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("parity.json");
    vectors.check_file(&path).expect("parity.json holds the step's vectors");
}
