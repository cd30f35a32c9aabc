//! The heads-up display: connection state, RTT and ticks (top left), the scoreboard (top
//! right), a kill feed (bottom left), and a banner in the middle while connecting or after a
//! refusal or disconnect, saying why.

use std::collections::VecDeque;
use std::fmt::Write as _;

use bevy::prelude::*;
use client_bevy::ArenaEvent;
use client_bevy::tickwire_client::Event;
use client_bevy::{
    ConnectionState, NetEntities, NetGameEvent, NetPlayer, NetStatus, PlayerName, SessionEnd,
};
use tickwire_protocol::EntityId;

use super::palette;

/// Lines kept in the kill feed.
const FEED_LINES: usize = 5;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Feed>()
        .add_systems(Startup, setup)
        .add_systems(Update, (status_text, scoreboard, feed, banner));
}

#[derive(Component)]
struct StatusText;

#[derive(Component)]
struct ScoreText;

#[derive(Component)]
struct FeedText;

#[derive(Component)]
struct Banner;

#[derive(Resource, Default)]
struct Feed(VecDeque<String>);

fn text(size: f32, color: Color) -> (Text, TextFont, TextColor) {
    (Text::new(""), TextFont::from_font_size(size), TextColor(color))
}

fn corner(top: Option<f32>, left: Option<f32>, right: Option<f32>, bottom: Option<f32>) -> Node {
    let px = |v: Option<f32>| v.map_or(Val::Auto, Val::Px);
    Node {
        position_type: PositionType::Absolute,
        top: px(top),
        left: px(left),
        right: px(right),
        bottom: px(bottom),
        padding: UiRect::all(Val::Px(6.0)),
        ..default()
    }
}

fn setup(mut commands: Commands) {
    let panel = BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.55));
    commands.spawn((
        StatusText,
        text(16.0, palette::TEXT),
        corner(Some(8.0), Some(8.0), None, None),
        panel,
    ));
    commands.spawn((
        ScoreText,
        text(16.0, palette::TEXT),
        corner(Some(8.0), None, Some(8.0), None),
        panel,
    ));
    commands.spawn((FeedText, text(16.0, palette::TEXT), corner(None, Some(8.0), None, Some(8.0))));
    commands
        .spawn(Node {
            position_type: PositionType::Absolute,
            width: Val::Percent(100.0),
            height: Val::Percent(100.0),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            ..default()
        })
        .with_children(|p| {
            p.spawn((
                Banner,
                text(30.0, palette::WARN),
                TextLayout::justify(Justify::Center),
                Node { padding: UiRect::all(Val::Px(16.0)), ..default() },
                BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.75)),
                Visibility::Hidden,
            ));
        });
}

fn state_label(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Idle => "idle".into(),
        ConnectionState::Connecting => "connecting".into(),
        ConnectionState::Connected => "connected".into(),
        ConnectionState::Reconnecting(o) => {
            format!("reconnecting ({}/{})", o.attempt, o.max_attempts)
        }
        ConnectionState::Disconnected(end) => format!("disconnected ({})", end.label()),
    }
}

fn status_text(
    state: Res<ConnectionState>,
    status: Res<NetStatus>,
    entities: Res<NetEntities>,
    mut q: Single<&mut Text, With<StatusText>>,
) {
    let ms = |d: Option<std::time::Duration>| {
        d.map_or("-".to_string(), |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
    };
    let tick = |t: Option<tickwire_protocol::Tick>| t.map_or("-".to_string(), |t| t.0.to_string());
    let mut s = String::new();
    let _ = writeln!(s, "Tickwire | room {} | {}", status.room, state_label(&state));
    let _ = writeln!(s, "RTT {} (server sees {})", ms(status.rtt), ms(status.server_rtt));
    let _ = writeln!(
        s,
        "server tick {} | snapshot {} | jitter {:.1} ticks",
        tick(status.server_tick),
        tick(status.snapshot_tick),
        status.jitter_ticks
    );
    let _ = writeln!(
        s,
        "entities {} | pending inputs {} | mispredictions {}",
        entities.len(),
        status.pending_inputs,
        status.stats.mispredictions
    );
    let _ = write!(s, "WASD/arrows move | mouse aims | click fires | R reconnect | Esc leave");
    if q.0 != s {
        q.0 = s;
    }
}

fn scoreboard(
    players: Query<(&PlayerName, &NetPlayer)>,
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

fn feed(
    mut events: MessageReader<NetGameEvent>,
    mut lines: ResMut<Feed>,
    entities: Res<NetEntities>,
    names: Query<&PlayerName>,
    mut q: Single<&mut Text, With<FeedText>>,
) {
    let name = |id: EntityId| {
        entities
            .get(id)
            .and_then(|e| names.get(e).ok())
            .map_or_else(|| format!("#{}", id.0), |n| n.0.clone())
    };
    let mut changed = false;
    for NetGameEvent(e) in events.read() {
        let line = match &e.event {
            Event::Game(ArenaEvent::Kill { killer, victim }) => {
                format!("{} killed {}", name(*killer), name(*victim))
            }
            Event::Joined { name, .. } => format!("{name} joined"),
            Event::Left { name, .. } => format!("{name} left"),
            Event::Chat { name, text, .. } => format!("{name}: {text}"),
            Event::Game(ArenaEvent::Shot { .. } | ArenaEvent::Hit { .. }) => continue,
        };
        if lines.0.len() == FEED_LINES {
            lines.0.pop_front();
        }
        lines.0.push_back(line);
        changed = true;
    }
    if changed {
        q.0 = lines.0.iter().map(String::as_str).collect::<Vec<_>>().join("\n");
    }
}

fn banner(state: Res<ConnectionState>, mut q: Single<(&mut Text, &mut Visibility), With<Banner>>) {
    if !state.is_changed() {
        return;
    }
    let (text, vis) = &mut *q;
    let message = match &*state {
        ConnectionState::Idle | ConnectionState::Connected => None,
        ConnectionState::Connecting => Some("Connecting...".to_string()),
        ConnectionState::Reconnecting(o) => Some(format!(
            "Connection lost ({})\nReconnecting, attempt {} of {}...",
            o.cause, o.attempt, o.max_attempts
        )),
        ConnectionState::Disconnected(end) => Some(
            match end {
                SessionEnd::Rejected(r) => format!("The server refused to let us in:\n{r}"),
                SessionEnd::ConnectFailed { message, .. } => {
                    format!("Could not connect:\n{message}")
                }
                SessionEnd::Ended(reason) => format!("Disconnected:\n{reason}"),
            } + "\n\nPress R to reconnect",
        ),
    };
    match message {
        Some(m) => {
            text.0 = m;
            **vis = Visibility::Inherited;
        }
        None => **vis = Visibility::Hidden,
    }
}
