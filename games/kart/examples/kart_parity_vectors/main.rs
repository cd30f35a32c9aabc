//! Random prediction parity vectors of the kart race (`tickwire_sim::parity`): a play-test's
//! states and random edge walks, each case `KartProtocol::step`'s next state, for the web
//! page's JavaScript port (`web/kart.js`, checked by `web/test/parity.test.mjs`).
//!
//! ```text
//! cargo run -q -p tickwire-kart --example kart_parity_vectors -- WALKS SEED > parity-kart.json
//! ```

mod recipe;

fn main() -> Result<(), tickwire_sim::parity::ParityError> {
    tickwire_sim::parity::print_from_args(recipe::record)
}
