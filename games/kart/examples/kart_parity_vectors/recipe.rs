//! The kart race's parity recipe, shared by `examples/kart_parity_vectors` (random vectors for a
//! seed) and `tests/parity.rs` (the committed `parity.json`): what `KartProtocol::step` (the
//! integer [`drive`](tickwire_kart::physics::drive)) is checked on. States from play (karts
//! leaving the start grid together, bumping each other and the barrels) and edge cases: walks
//! from random free spots of the track at any heading (the sine table's every quadrant and the
//! wrap at 65535), standing or at the codec's extreme velocities (into the walls: bounces), with
//! an empty, full or any boost meter.

use rand::Rng;
use tickwire_kart::physics::KartState;
use tickwire_kart::{GRID_PER_UNIT, KartConfig, KartProtocol, KartRules, MAX_SPEED, Race};
use tickwire_sim::Predict as _;
use tickwire_sim::parity::{ParityError, ParityRecorder, ParityVectors};

/// Records the race's vectors: `walks` edge walks and a play-test, from `seed`.
pub(crate) fn record(walks: usize, seed: u64) -> Result<ParityVectors, ParityError> {
    let config = KartConfig::default();
    let mut rec = ParityRecorder::<KartProtocol>::new(
        config.rules.clone(),
        KartProtocol::state_json, // the shape the web page's port reads
        seed,
    )?;
    rec.play::<Race>(&config, 4, 40)?;
    for _ in 0..walks {
        let rules = rec.rules().clone();
        let start = edge_state(rec.rng(), &rules);
        let steps = rec.rng().random_range(1..=20);
        rec.walk(config.tick_rate, &start, steps);
    }
    Ok(rec.finish())
}

/// A kart somewhere free on the track, in any direction, at any speed the codec carries.
fn edge_state(rng: &mut impl Rng, rules: &KartRules) -> KartState {
    let t = &rules.track;
    let radius = i32::from(rules.kart_radius) * GRID_PER_UNIT;
    let (x, y) = loop {
        let (x, y) = (rng.random_range(0..=t.w()), rng.random_range(0..=t.h()));
        if t.is_free(x, y, radius) {
            break (x, y);
        }
    };
    let mut speed = || match rng.random_range(0..4) {
        0 => 0,
        1 => MAX_SPEED * if rng.random_bool(0.5) { 1 } else { -1 },
        _ => rng.random_range(-MAX_SPEED..=MAX_SPEED),
    };
    let (vx, vy) = (speed(), speed());
    let heading = match rng.random_range(0..4) {
        0 => 0,
        1 => u16::MAX - rng.random_range(0..64),
        _ => rng.random(),
    };
    let boost = match rng.random_range(0..3) {
        0 => 0,
        1 => rules.boost_max,
        _ => rng.random_range(0..=rules.boost_max),
    };
    KartState { x, y, vx, vy, heading, boost }
}
