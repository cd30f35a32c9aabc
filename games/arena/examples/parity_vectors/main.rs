//! Random prediction parity vectors of the arena (`tickwire_sim::parity`): a play-test's
//! states and random edge walks, each case `ArenaProtocol::step`'s next state, for the web
//! page's JavaScript port (`web/arena.js`, checked by `web/test/parity.test.mjs`).
//!
//! ```text
//! cargo run -q -p tickwire-arena --example parity_vectors -- WALKS SEED > parity-arena.json
//! ```

mod recipe;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let walks: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    print!("{}", recipe::record(walks, seed)?.to_json());
    Ok(())
}
