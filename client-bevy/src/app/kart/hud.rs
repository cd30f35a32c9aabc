//! The race's own HUD: the standings (top right: laps, sector, boost meter, paint), and the
//! race's events in the feed (laps, wins, horns, bumps of the local kart).

use std::fmt::Write as _;

use bevy::prelude::*;
use client_bevy::tickwire_client::Event;
use client_bevy::{LocalPlayer, NetEntities, NetStatus, PlayerName, Replicated, ServerEvent};
use tickwire_kart::{KartEvent, Racer};
use tickwire_protocol::EntityId;

use super::palette;
use crate::app::hud::{Feed, PANEL, corner, name_of, text};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, setup).add_systems(Update, (standings, race_events));
}

#[derive(Component)]
struct Standings;

fn setup(mut commands: Commands) {
    commands.spawn((
        Standings,
        text(16.0, palette::TEXT),
        corner(Some(8.0), None, Some(8.0), None),
        PANEL,
    ));
}

fn standings(
    racers: Query<(&PlayerName, &Replicated<Racer>, Has<LocalPlayer>)>,
    mut q: Single<&mut Text, With<Standings>>,
) {
    let mut rows: Vec<_> = racers.iter().collect();
    rows.sort_by(|a, b| {
        (b.1.lap, b.1.checkpoint).cmp(&(a.1.lap, a.1.checkpoint)).then_with(|| a.0.0.cmp(&b.0.0))
    });
    let mut s = String::from("lap sector boost  racer");
    for (name, r, local) in rows.iter().take(12) {
        let me = if *local { " (you)" } else { "" };
        let _ =
            write!(s, "\n{:>3} {:>6} {:>5}  {}{me}", r.lap, r.checkpoint, r.boost as u32, name.0);
    }
    if q.0 != s {
        q.0 = s;
    }
}

fn race_events(
    mut events: MessageReader<ServerEvent<KartEvent>>,
    mut feed: ResMut<Feed>,
    entities: Res<NetEntities>,
    status: Res<NetStatus>,
    names: Query<&PlayerName>,
) {
    let name = |id: EntityId| name_of(&entities, &names, id);
    for e in events.read() {
        let Event::Game(event) = &e.event else { continue };
        let line = match event {
            KartEvent::Lap { racer, lap, time_ms } => {
                format!(
                    "{} finished lap {lap} in {:.2} s",
                    name(*racer),
                    f64::from(*time_ms) / 1000.0
                )
            }
            KartEvent::Won { racer, laps } => {
                format!("{} won the race in {laps} laps!", name(*racer))
            }
            KartEvent::Honk { racer } => format!("{} honked", name(*racer)),
            KartEvent::Bump { kart, other, speed } if Some(*kart) == status.entity => match other {
                Some(o) => format!("you bumped {} at {speed}", name(*o)),
                None => format!("you hit the wall at {speed}"),
            },
            KartEvent::Bump { .. } => continue,
        };
        feed.push(line);
    }
}
