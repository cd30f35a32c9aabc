//! Interest: cells with hysteresis, keys, filtering, transitions, event coverage.

use glam::Vec2;
use tickwire_protocol::schema::Replicate;
use tickwire_protocol::snapshot::SnapshotBuilder;
use tickwire_protocol::{ClientId, EntityId, Schema, Snapshot, Tick};

use super::*;

tickwire_protocol::component! {
    /// A value, so that rows differ.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Spot as "spot" {
        /// Anything.
        pub x: f32 = fixed(0.0, 1023.5, 0.5),
    }
}

fn schema() -> Schema {
    Schema::new("interest-test", &[Spot::DEF]).expect("a schema")
}

const GRID: InterestGrid = InterestGrid { cell: 100.0, radius: 1, hysteresis: 10.0 };

fn world(schema: &Schema, ids: &[u32]) -> Snapshot {
    let mut b = SnapshotBuilder::new(schema, Tick(1), Snapshot::default());
    for &id in ids {
        b.entity(EntityId(id)).set(0, &Spot { x: id as f32 });
    }
    b.finish().expect("unique")
}

fn at(x: f32, y: f32) -> Viewpoint {
    Viewpoint::At { point: Vec2::new(x, y), team: None }
}

fn ids(s: &Snapshot) -> Vec<u32> {
    s.ids().iter().map(|i| i.0).collect()
}

/// The tick's views of `full` for `viewers`, each with its snapshot cut.
fn views_of(
    interest: &mut Interest,
    full: &Snapshot,
    schema: &Schema,
    viewers: &[Viewer],
) -> (Views, Vec<(ViewKey, Snapshot)>) {
    let views = interest.views(full, viewers);
    let cut =
        views.views.iter().map(|v| (v.key, interest.view_snapshot(v.key, full, schema))).collect();
    (views, cut)
}

#[test]
fn a_grid_is_checked() {
    assert!(GRID.validate().is_ok());
    let bad = |g: InterestGrid| g.validate().is_err();
    assert!(bad(InterestGrid { cell: 0.0, ..GRID }));
    assert!(bad(InterestGrid { cell: f32::NAN, ..GRID }));
    assert!(bad(InterestGrid { radius: MAX_RADIUS + 1, ..GRID }));
    assert!(bad(InterestGrid { hysteresis: 50.0, ..GRID }));
    assert!(bad(InterestGrid { hysteresis: -1.0, ..GRID }));
}

#[test]
fn cells_change_only_past_the_hysteresis() {
    let c = GRID.cell_of(Vec2::new(99.0, 5.0));
    assert_eq!(c, Cell(0, 0));
    assert_eq!(GRID.cell_of(Vec2::new(-0.5, 0.0)), Cell(-1, 0));
    // Across the border by less than the hysteresis: stays; further: moves.
    assert_eq!(GRID.cell_after(c, Vec2::new(109.0, 5.0)), Cell(0, 0));
    assert_eq!(GRID.cell_after(c, Vec2::new(110.5, 5.0)), Cell(1, 0));
    assert_eq!(GRID.cell_after(c, Vec2::new(50.0, -9.0)), Cell(0, 0));
    assert_eq!(GRID.cell_after(c, Vec2::new(50.0, -10.5)), Cell(0, -1));
    assert!(GRID.covers(Cell(0, 0), Cell(1, -1)));
    assert!(!GRID.covers(Cell(0, 0), Cell(2, 0)));
}

#[test]
fn each_view_gets_its_block_the_globals_and_its_team() {
    let schema = schema();
    let full = world(&schema, &[1, 2, 3, 4, 5, 6]);
    let mut interest = Interest::new(GRID);
    interest.place(&[
        (EntityId(1), Place::At(Vec2::new(50.0, 50.0))), // cell (0, 0)
        (EntityId(2), Place::At(Vec2::new(150.0, 50.0))), // (1, 0)
        (EntityId(3), Place::At(Vec2::new(350.0, 50.0))), // (3, 0)
        (EntityId(4), Place::Team(7)),
        (EntityId(5), Place::Global),
        // 6 is not listed: global
    ]);
    let a = Viewer { client: ClientId(1), viewpoint: at(50.0, 50.0) };
    let b = Viewer {
        client: ClientId(2),
        viewpoint: Viewpoint::At { point: Vec2::new(260.0, 0.0), team: Some(7) },
    };
    let c = Viewer { client: ClientId(3), viewpoint: at(60.0, 40.0) };
    let d = Viewer { client: ClientId(4), viewpoint: Viewpoint::Nowhere { team: None } };
    let e = Viewer { client: ClientId(5), viewpoint: Viewpoint::Everything };
    let (views, snapshots) = views_of(&mut interest, &full, &schema, &[a, b, c, d, e]);
    assert_eq!(views.of, vec![0, 1, 0, 2, 3], "a and c share a view");
    assert_eq!(views.transitions, 5, "every viewer is new");
    let seen: Vec<Vec<u32>> = snapshots.iter().map(|(_, s)| ids(s)).collect();
    assert_eq!(seen[0], vec![1, 2, 5, 6]);
    assert_eq!(seen[1], vec![2, 3, 4, 5, 6], "(2, 0) sees (1..=3, -1..=1) and team 7");
    assert_eq!(seen[2], vec![5, 6], "nowhere: the globals");
    assert_eq!(seen[3], vec![1, 2, 3, 4, 5, 6]);
    assert!(snapshots.iter().all(|(_, s)| s.tick() == Tick(1)));
    assert_eq!(interest.rows(views.views[3].key), None, "everything: no rows to cut");

    // Next tick: a stays, c moves a little past the border (hysteresis), then far.
    let c2 = Viewer { client: ClientId(3), viewpoint: at(105.0, 40.0) };
    let v = interest.views(&full, &[a, c2]);
    assert_eq!((v.of.clone(), v.transitions), (vec![0, 0], 0));
    let c3 = Viewer { client: ClientId(3), viewpoint: at(115.0, 40.0) };
    let (v, cut) = views_of(&mut interest, &full, &schema, &[a, c3]);
    assert_eq!((v.of.clone(), v.transitions), (vec![0, 1], 1));
    assert_eq!(ids(&cut[1].1), vec![1, 2, 5, 6]);
    // b, d and e were forgotten when they were not given: they come back as transitions.
    let v = interest.views(&full, &[a, b]);
    assert_eq!(v.transitions, 1);
}

#[test]
fn an_entity_place_is_the_last_one_given() {
    let mut interest = Interest::new(GRID);
    let (here, there) = (Place::At(Vec2::new(50.0, 50.0)), Place::At(Vec2::new(350.0, 50.0)));
    interest.place(&[
        (EntityId(3), here),
        (EntityId(1), Place::Global),
        (EntityId(3), there),
        (EntityId(2), Place::Team(7)),
        (EntityId(4), there),
        (EntityId(4), Place::Global),
    ]);
    assert_eq!(interest.place_of_entity(EntityId(1)), Some(Place::Global));
    assert_eq!(interest.place_of_entity(EntityId(2)), Some(Place::Team(7)));
    assert_eq!(interest.place_of_entity(EntityId(3)), Some(there), "listed twice: the last");
    assert_eq!(interest.place_of_entity(EntityId(4)), Some(Place::Global));
    assert_eq!(interest.place_of_entity(EntityId(5)), None, "not listed");
    assert_eq!(interest.place_of_entity(EntityId(0)), None);
    assert_eq!(interest.cell(EntityId(3)), Some(Cell(3, 0)));
}

#[test]
fn entities_keep_their_cell_within_the_hysteresis() {
    let schema = schema();
    let full = world(&schema, &[1]);
    let mut interest = Interest::new(GRID);
    let viewer = [Viewer { client: ClientId(1), viewpoint: at(50.0, 50.0) }];
    interest.place(&[(EntityId(1), Place::At(Vec2::new(199.0, 50.0)))]);
    assert_eq!(interest.cell(EntityId(1)), Some(Cell(1, 0)));
    assert_eq!(ids(&views_of(&mut interest, &full, &schema, &viewer).1[0].1), vec![1]);
    // To 205: within 10 of (1, 0)'s border, it stays in (1, 0), seen from (0, 0).
    interest.place(&[(EntityId(1), Place::At(Vec2::new(205.0, 50.0)))]);
    assert_eq!(interest.cell(EntityId(1)), Some(Cell(1, 0)));
    // To 211: (2, 0), out of sight.
    interest.place(&[(EntityId(1), Place::At(Vec2::new(211.0, 50.0)))]);
    assert_eq!(interest.cell(EntityId(1)), Some(Cell(2, 0)));
    assert!(views_of(&mut interest, &full, &schema, &viewer).1[0].1.is_empty());
    // Back to 195: within the hysteresis of (2, 0), still out of sight; 189: back in (1, 0).
    interest.place(&[(EntityId(1), Place::At(Vec2::new(195.0, 50.0)))]);
    assert_eq!(interest.cell(EntityId(1)), Some(Cell(2, 0)));
    interest.place(&[(EntityId(1), Place::At(Vec2::new(189.0, 50.0)))]);
    assert_eq!(interest.cell(EntityId(1)), Some(Cell(1, 0)));
}

#[test]
fn events_are_covered_by_place_or_entity() {
    let schema = schema();
    let full = world(&schema, &[1, 2]);
    let mut interest = Interest::new(GRID);
    interest.place(&[
        (EntityId(1), Place::At(Vec2::new(50.0, 50.0))),
        (EntityId(2), Place::At(Vec2::new(950.0, 50.0))),
    ]);
    let viewer = [Viewer { client: ClientId(1), viewpoint: at(0.0, 0.0) }];
    let (_, cut) = views_of(&mut interest, &full, &schema, &viewer);
    let (key, snap) = (&cut[0].0, &cut[0].1);
    assert!(covers(&GRID, *key, snap, EventPlace::At(Vec2::new(150.0, 150.0))));
    assert!(!covers(&GRID, *key, snap, EventPlace::At(Vec2::new(250.0, 0.0))));
    assert!(covers(&GRID, *key, snap, EventPlace::Entity(EntityId(1))));
    assert!(!covers(&GRID, *key, snap, EventPlace::Entity(EntityId(2))));
    let nowhere = ViewKey::Nowhere { team: None };
    assert!(!covers(&GRID, nowhere, snap, EventPlace::At(Vec2::ZERO)));
    assert!(covers(&GRID, ViewKey::Everything, snap, EventPlace::Entity(EntityId(2))));
}

#[test]
fn routed_events_reach_exactly_the_views_that_cover_them() {
    let schema = schema();
    let ids: Vec<u32> = (1..=40).collect();
    let full = world(&schema, &ids);
    let mut interest = Interest::new(GRID);
    let spot = |i: u32| Vec2::new((i * 37 % 500) as f32, (i * 53 % 400) as f32);
    let places: Vec<(EntityId, Place)> = ids
        .iter()
        .map(|&i| match i % 7 {
            0 => (EntityId(i), Place::Team(u16::from(i % 2 == 0))),
            1 => (EntityId(i), Place::Global),
            _ => (EntityId(i), Place::At(spot(i))),
        })
        .collect();
    interest.place(&places);
    let viewers: Vec<Viewer> = (0..12u32)
        .map(|c| {
            let viewpoint = match c {
                0 => Viewpoint::Everything,
                1 => Viewpoint::Nowhere { team: Some(1) },
                _ => Viewpoint::At { point: spot(c * 5 + 3), team: Some((c % 2) as u16) },
            };
            Viewer { client: ClientId(c + 1), viewpoint }
        })
        .collect();
    let (_, snapshots) = views_of(&mut interest, &full, &schema, &viewers);
    let events: Vec<Option<EventPlace>> = (0..60u32)
        .map(|k| match k % 4 {
            0 => None,
            1 => Some(EventPlace::At(spot(k + 100))),
            2 => Some(EventPlace::Entity(EntityId(k % 40 + 1))),
            _ => Some(EventPlace::Entity(EntityId(999))), // not in the world: global
        })
        .collect();
    let routes = interest.route(&full, events.iter().copied());
    for (key, snap) in &snapshots {
        let want: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_none_or(|p| covers(&GRID, *key, snap, p)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(routes.for_view(&GRID, *key), want, "{key:?}");
    }
}
