//! The race through the public API, as the server hosts it ([`Playtest`]): laps, a win,
//! commands, honks, bumps, barrels, determinism.

use tickwire_kart::physics::KartState;
use tickwire_kart::{
    Autopilot, HORN, Kart, KartCommand, KartConfig, KartEvent, KartInput, Race, RacerView,
};
use tickwire_protocol::{ClientId, EntityId};
use tickwire_sim::{Audience, Playtest};

const SEED: u64 = 0x6a27_5eed;

fn race(config: &KartConfig) -> Playtest<Race> {
    Playtest::new(config, SEED).expect("a valid config")
}

fn view(play: &Playtest<Race>, who: ClientId) -> RacerView {
    play.game().racer(play.sim().world(), who).expect("a racer")
}

fn no_barrels() -> KartConfig {
    let mut c = KartConfig::default();
    c.barrels.count = 0;
    c
}

/// Drives `who` with an autopilot for `ticks`; returns every event.
fn autopilot(play: &mut Playtest<Race>, who: ClientId, ticks: usize) -> Vec<KartEvent> {
    let mut pilot = Autopilot::new();
    let track = play.game().config().rules.track;
    let mut events = Vec::new();
    for _ in 0..ticks {
        let input = pilot.drive(&track, &view(play, who).kart);
        events.extend(play.step(&[(who, input)]).into_iter().map(|e| e.event));
    }
    events
}

#[test]
fn the_autopilot_laps_and_wins_and_the_race_restarts() {
    let mut config = no_barrels();
    config.rules.laps = 2;
    let mut play = race(&config);
    let who = play.join("pilot").expect("joins");
    let id = play.entity_id(who);
    let events = autopilot(&mut play, who, 30 * 60);
    let laps: Vec<(u8, u32)> = events
        .iter()
        .filter_map(|e| match *e {
            KartEvent::Lap { racer, lap, time_ms } if racer == id => Some((lap, time_ms)),
            _ => None,
        })
        .collect();
    assert!(laps.len() >= 2, "{laps:?}");
    assert_eq!((laps[0].0, laps[1].0), (1, 2));
    assert!(laps.iter().all(|l| (5_000..60_000).contains(&l.1)), "lap times {laps:?}");
    let won = events.iter().position(|e| *e == KartEvent::Won { racer: id, laps: 2 });
    assert!(won.is_some(), "{events:?}");
    assert!(view(&play, who).racer.lap < 2, "lap counts went back to 0 after the win");
}

#[test]
fn paint_and_reset_commands() {
    let mut play = race(&no_barrels());
    let who = play.join("p").expect("joins");
    let start = view(&play, who).kart;
    play.command(who, &KartCommand::Paint { color: 5 });
    assert_eq!(view(&play, who).racer.color, 5);
    autopilot(&mut play, who, 90);
    let moved = view(&play, who).kart;
    assert!(moved.x != start.x && (moved.vx, moved.vy) != (0, 0), "{moved:?}");
    play.command(who, &KartCommand::Reset {});
    let reset = view(&play, who).kart;
    assert_eq!((reset.vx, reset.vy, reset.heading), (0, 0, 0), "standing, facing the race");
    assert_eq!((reset.x, reset.y), (start.x, start.y), "the first free grid slot");
    assert_eq!(view(&play, who).racer.checkpoint, 0);
}

#[test]
fn a_horn_press_honks_once_then_waits_for_the_cooldown() {
    let mut play = race(&no_barrels());
    let who = play.join("p").expect("joins");
    let horn = KartInput { buttons: HORN, ..KartInput::default() };
    let honks = |events: Vec<tickwire_sim::Emitted<KartEvent>>| {
        events
            .iter()
            .filter(|e| matches!(e.event, KartEvent::Honk { .. }) && e.audience == Audience::All)
            .count()
    };
    assert_eq!(honks(play.step(&[(who, horn)])), 1);
    assert_eq!(honks(play.step(&[(who, horn)])), 0, "held, not pressed again");
    play.step(&[(who, KartInput::default())]);
    assert_eq!(honks(play.step(&[(who, horn)])), 0, "within the 2 s cooldown");
    for _ in 0..60 {
        play.step(&[(who, KartInput::default())]);
    }
    assert_eq!(honks(play.step(&[(who, horn)])), 1);
}

#[test]
fn karts_that_meet_bump_and_both_drivers_are_told() {
    let mut play = race(&no_barrels());
    let a = play.join("a").expect("joins");
    let b = play.join("b").expect("joins");
    let (ia, ib) = (play.entity_id(a), play.entity_id(b));
    // Put the second kart behind the first, and drive it into the first.
    let front = view(&play, a).kart;
    let behind = Kart::of(&KartState { x: front.x - 600, ..front });
    let entity = play.joined(b).expect("joined").entity;
    *play.sim_mut().parts_mut().1.get::<&mut Kart>(entity).expect("a kart") = behind;
    let mut bumps = Vec::new();
    for _ in 0..90 {
        let events = play.step(&[(b, KartInput { throttle: 64, ..KartInput::default() })]);
        bumps.extend(
            events
                .into_iter()
                .filter(|e| matches!(e.event, KartEvent::Bump { other: Some(_), .. })),
        );
    }
    let told = |who: ClientId, kart: EntityId, other: EntityId| {
        bumps.iter().any(|e| {
            e.audience == Audience::Only(who) && matches!(e.event, KartEvent::Bump { kart: k, other: Some(o), .. } if k == kart && o == other)
        })
    };
    assert!(told(a, ia, ib) && told(b, ib, ia), "{bumps:?}");
    let (va, vb) = (view(&play, a).kart, view(&play, b).kart);
    let (dx, dy) = (i64::from(va.x - vb.x), i64::from(va.y - vb.y));
    assert!(dx * dx + dy * dy >= 300 * 300, "apart: {va:?} {vb:?}");
}

#[test]
fn barrels_roll_and_a_kart_kicks_them() {
    let mut config = KartConfig::default();
    config.barrels.count = 400;
    let mut play = race(&config);
    let first = play.snapshot();
    assert_eq!(first.len(), 400, "every barrel placed");
    let who = play.join("p").expect("joins");
    let kicks = autopilot(&mut play, who, 30 * 40)
        .into_iter()
        .filter(|e| matches!(e, KartEvent::Bump { other: Some(o), .. } if o.0 < 400))
        .count();
    assert!(kicks > 0, "a lap through 400 barrels kicks some");
    // Barrels stay on the track.
    let track = config.rules.track;
    for b in play.sim().world().query::<&tickwire_kart::Barrel>().iter() {
        let ((x, y), _) = b.steps();
        assert!(track.is_free(x, y, 8 * 16), "({x}, {y})");
    }
}

#[test]
fn the_same_seed_and_inputs_give_the_same_race() {
    let run = |seed: u64| {
        let mut config = KartConfig::default();
        config.barrels.count = 300;
        let mut play: Playtest<Race> = Playtest::new(&config, seed).expect("valid");
        let who: Vec<ClientId> =
            (0..4).map(|i| play.join(&format!("p{i}")).expect("joins")).collect();
        let mut pilots: Vec<Autopilot> = (0..4).map(|_| Autopilot::new()).collect();
        let track = config.rules.track;
        let mut events = Vec::new();
        for _ in 0..600 {
            let inputs: Vec<(ClientId, KartInput)> = who
                .iter()
                .zip(&mut pilots)
                .map(|(&w, p)| (w, p.drive(&track, &view(&play, w).kart)))
                .collect();
            events.extend(play.step(&inputs));
        }
        (play.snapshot(), events)
    };
    let (a, b) = (run(7), run(7));
    assert_eq!(a, b);
    assert_ne!(a.0, run(8).0, "another seed places the barrels elsewhere");
}

#[test]
fn a_full_race_refuses_more_karts() {
    let mut config = no_barrels();
    config.max_racers = 2;
    let mut play = race(&config);
    play.join("a").expect("joins");
    play.join("b").expect("joins");
    assert_eq!(play.join("c"), Err(tickwire_sim::JoinRefusal::Full));
    let a = play.players().next().expect("a");
    play.leave(a);
    assert!(play.join("c").is_ok(), "a seat freed");
}
