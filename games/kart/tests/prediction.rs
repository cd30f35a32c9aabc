//! A driver's prediction is the server's step: stepping the state a client reads from a
//! snapshot (after the wire) with the game's `Predict::step` gives exactly the next snapshot's
//! state, tick after tick, whatever the inputs (walls, boost, drift, reverse, barrels kicked),
//! as long as no other kart touches it.

use proptest::prelude::*;
use tickwire_kart::{KartConfig, KartInput, KartProtocol, Race};
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{ClientId, EntityId, GameProtocol, Snapshot, SnapshotEncoder};
use tickwire_sim::{Playtest, Predict};

/// The snapshot as a client decodes it (full, through the codec).
fn over_the_wire(snap: &Snapshot) -> Snapshot {
    let schema = KartProtocol::schema().components();
    let bytes = SnapshotEncoder::new().encode(schema, None, snap);
    decode(schema, None, snap.tick(), &bytes, &DecodeLimits { max_entities: 65_536 })
        .expect("decodes")
}

fn state(snap: &Snapshot, id: EntityId) -> <KartProtocol as Predict>::State {
    let e = snap.get(id).expect("the kart is replicated");
    KartProtocol::read_state(KartProtocol::schema().components(), e).expect("a kart")
}

/// Runs `inputs` (each held for `hold` ticks) and checks every tick's prediction.
fn check(inputs: &[(i8, i8, u8, u8)], barrels: u32) {
    let mut config = KartConfig::default();
    config.barrels.count = barrels;
    let rules = config.rules.clone();
    let mut play: Playtest<Race> = Playtest::new(&config, 3).expect("valid");
    let who: ClientId = play.join("solo").expect("joins");
    let id = play.entity_id(who);
    let mut before = state(&over_the_wire(&play.snapshot()), id);
    for &(throttle, steer, buttons, hold) in inputs {
        let input = KartInput { throttle, steer, buttons };
        for _ in 0..hold {
            let predicted = KartProtocol::step(&rules, &before, &input, config.tick_rate);
            play.step(&[(who, input)]);
            let after = state(&over_the_wire(&play.snapshot()), id);
            assert_eq!(predicted, after, "tick {:?}, input {input:?}", play.sim().tick());
            before = after;
        }
    }
}

#[test]
fn a_lap_of_hard_driving_is_predicted_exactly() {
    let script = [
        (64, 0, 0, 30),
        (64, 0, 1, 40),
        (64, 64, 2, 25),
        (64, -30, 0, 40),
        (-64, 10, 0, 30),
        (-64, -64, 0, 20),
        (64, 64, 3, 60),
        (0, 0, 4, 30),
    ];
    check(&script, 1000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_driving_is_predicted_exactly(
        inputs in prop::collection::vec((-64i8..=64, -64i8..=64, 0u8..8, 1u8..20), 1..40),
    ) {
        check(&inputs, 300);
    }
}

/// A kart the server has no input for (its client stalled past the server's repeats) coasts
/// exactly as the client predicts it, with `Predict::step_without_input`.
#[test]
fn a_kart_without_input_coasts_as_predicted() {
    let mut config = KartConfig::default();
    config.barrels.count = 0;
    let rules = config.rules.clone();
    let mut play: Playtest<Race> = Playtest::new(&config, 3).expect("valid");
    let who: ClientId = play.join("solo").expect("joins");
    let id = play.entity_id(who);
    let full = KartInput { throttle: 64, steer: 20, buttons: 0 };
    for _ in 0..25 {
        play.step(&[(who, full)]);
    }
    let mut predicted = state(&over_the_wire(&play.snapshot()), id);
    assert!(predicted.vx != 0 || predicted.vy != 0, "moving when the input stops");
    for _ in 0..40 {
        play.step(&[]);
        predicted = KartProtocol::step_without_input(&rules, &predicted, config.tick_rate);
        assert_eq!(
            predicted,
            state(&over_the_wire(&play.snapshot()), id),
            "{:?}",
            play.sim().tick()
        );
    }
    assert_eq!((predicted.vx, predicted.vy), (0, 0), "coasted to a stop");
}
