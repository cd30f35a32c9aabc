//! Random prediction parity vectors of the arena (`tickwire_sim::parity`): a play-test's
//! states and random edge walks, each case `ArenaProtocol::step`'s next state, for the web
//! page's JavaScript port (`web/arena.js`, checked by `web/test/parity.test.mjs`).
//!
//! ```text
//! cargo run -q -p tickwire-arena --example arena_parity_vectors -- WALKS SEED > parity-arena.json
//! ```

mod recipe;

fn main() -> Result<(), tickwire_sim::parity::ParityError> {
    tickwire_sim::parity::print_from_args(recipe::record)
}
