//! The arena's own HUD: the scoreboard (top right) and the kill lines of the feed.

use std::fmt::Write as _;

use bevy::prelude::*;
use client_bevy::tickwire_client::Event;
use client_bevy::{NetEntities, PlayerName, Replicated, ServerEvent};
use tickwire_arena::{ArenaEvent, Player};
use tickwire_protocol::EntityId;

use super::palette;
use crate::app::hud::{Feed, PANEL, corner, name_of, text};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, setup).add_systems(Update, (scoreboard, kills));
}

#[derive(Component)]
struct ScoreText;

fn setup(mut commands: Commands) {
    commands.spawn((
        ScoreText,
        text(16.0, palette::TEXT),
        corner(Some(8.0), None, Some(8.0), None),
        PANEL,
    ));
}

fn scoreboard(
    players: Query<(&PlayerName, &Replicated<Player>)>,
    mut q: Single<&mut Text, With<ScoreText>>,
) {
    let mut rows: Vec<_> = players.iter().collect();
    rows.sort_by(|a, b| b.1.score.cmp(&a.1.score).then_with(|| a.0.0.cmp(&b.0.0)));
    let mut s = String::from("score  hp  player");
    for (name, p) in rows.iter().take(12) {
        let hp = if p.alive { p.health.to_string() } else { "dead".into() };
        let _ = write!(s, "\n{:>5} {:>4}  {}", p.score, hp, name.0);
    }
    if q.0 != s {
        q.0 = s;
    }
}

fn kills(
    mut events: MessageReader<ServerEvent<ArenaEvent>>,
    mut feed: ResMut<Feed>,
    entities: Res<NetEntities>,
    names: Query<&PlayerName>,
) {
    let name = |id: EntityId| name_of(&entities, &names, id);
    for e in events.read() {
        if let Event::Game(ArenaEvent::Kill { killer, victim }) = &e.event {
            feed.push(format!("{} killed {}", name(*killer), name(*victim)));
        }
    }
}
