//! Tag played headless ([`Playtest`]): the first runner is "it", touching passes it on (not
//! straight back), a wave is heard, and "it" leaving hands it to the oldest runner.

use tickwire_protocol::ClientId;
use tickwire_sim::{PlayerRef, Playtest};
use tickwire_tag::{Run, Runner, Tag, TagCommand, TagConfig, TagEvent};

fn runner(play: &Playtest<Tag>, who: ClientId) -> Runner {
    let entity = play.joined(who).expect("joined").entity;
    *play.sim().world().get::<&Runner>(entity).expect("a runner")
}

/// Puts `who` at `(x, y)`.
fn place(play: &mut Playtest<Tag>, who: ClientId, x: f32, y: f32) {
    let entity = play.joined(who).expect("joined").entity;
    let (_, world) = play.sim_mut().parts_mut();
    let mut r = world.get::<&mut Runner>(entity).expect("a runner");
    (r.x, r.y) = (x, y);
}

#[test]
fn touching_passes_it_on_but_not_straight_back() {
    let mut play: Playtest<Tag> = Playtest::new(&TagConfig::default(), 7).expect("valid");
    let (a, b) = (play.join("a").expect("joins"), play.join("b").expect("joins"));
    assert!(runner(&play, a).it && !runner(&play, b).it, "the first runner is it");
    place(&mut play, a, 100.0, 100.0);
    place(&mut play, b, 140.0, 100.0);
    let right = Run { x: 1, y: 0 };
    let (ia, ib) = (play.entity_id(a), play.entity_id(b));
    let mut ticks = 0;
    let tagged = loop {
        ticks += 1;
        assert!(ticks < 10, "a reaches b within 10 ticks at 4 units a tick");
        let events = play.step(&[(a, right)]);
        if !events.is_empty() {
            break events.into_iter().map(|e| e.event).collect::<Vec<_>>();
        }
    };
    assert_eq!(tagged, [TagEvent::Tagged { by: ia, it: ib }]);
    assert!(!runner(&play, a).it && runner(&play, b).it);
    // Still touching: no tag back within the second (30 ticks) of immunity, then tagged back.
    let events: Vec<_> = (0..29).flat_map(|_| play.step(&[])).collect();
    assert!(events.is_empty(), "{events:?}");
    let back: Vec<_> = play.step(&[]).into_iter().map(|e| e.event).collect();
    assert_eq!(back, [TagEvent::Tagged { by: ib, it: ia }]);
}

#[test]
fn runners_stay_in_the_field() {
    let config = TagConfig { size: 50.0, ..TagConfig::default() };
    let mut play: Playtest<Tag> = Playtest::new(&config, 1).expect("valid");
    let a = play.join("a").expect("joins");
    for _ in 0..40 {
        play.step(&[(a, Run { x: 1, y: -1 })]);
    }
    let r = runner(&play, a);
    assert_eq!((r.x, r.y), (50.0, 0.0));
}

#[test]
fn a_wave_is_heard_and_it_leaving_hands_it_on() {
    let mut play: Playtest<Tag> = Playtest::new(&TagConfig::default(), 3).expect("valid");
    let ids: Vec<ClientId> = (0..3).map(|i| play.join(&format!("r{i}")).expect("joins")).collect();
    play.command(ids[2], &TagCommand::Wave {});
    let who = play.entity_id(ids[2]);
    assert_eq!(
        play.step(&[]).into_iter().map(|e| e.event).collect::<Vec<_>>(),
        [TagEvent::Waved { who }]
    );
    play.leave(ids[0]);
    assert!(runner(&play, ids[1]).it, "the oldest runner left is it");
    assert_eq!(play.snapshot().len(), 2);
    let _: Option<PlayerRef> = play.sim().player(ids[1]);
}

#[test]
fn configs_that_would_leave_the_grid_are_refused() {
    for bad in [
        TagConfig { size: 2000.0, ..TagConfig::default() },
        TagConfig { size: 100.01, ..TagConfig::default() },
        TagConfig { speed: 0.1, ..TagConfig::default() },
        TagConfig { speed: 0.0, ..TagConfig::default() },
        TagConfig { reach: f32::NAN, ..TagConfig::default() },
    ] {
        let refused = Playtest::<Tag>::new(&bad, 1).err().map(|e| e.to_string());
        assert!(refused.is_some(), "{bad:?} was accepted");
    }
}
