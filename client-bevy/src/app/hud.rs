//! The heads-up display both games share: connection state, RTT and ticks (top left), the
//! feed (bottom left: joins, leaves, chat and each game's own lines), and a banner in the
//! middle while connecting, reconnecting, or after a refusal or a disconnect, saying why. The
//! games add their own panels with [`text`] and [`corner`].

use std::collections::VecDeque;
use std::fmt::Write as _;

use bevy::prelude::*;
use client_bevy::{ConnectionState, NetEntities, NetStatus, PlayerName, ReplayControl, SessionEnd};
use tickwire_protocol::EntityId;

use super::palette;

/// Lines kept in the feed.
const FEED_LINES: usize = 5;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Feed>()
        .add_systems(Startup, setup)
        .add_systems(Update, (status_text, show_feed, banner));
}

/// The controls, shown at the bottom of the status panel (`\n` breaks lines).
#[derive(Resource)]
pub(crate) struct Hint(pub(crate) &'static str);

/// The feed's newest lines.
#[derive(Resource, Default)]
pub(crate) struct Feed(VecDeque<String>);

impl Feed {
    /// Adds a line (the oldest goes when the feed is full).
    pub(crate) fn push(&mut self, line: String) {
        if self.0.len() == FEED_LINES {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }
}

/// A player's name for the feed: its entity's [`PlayerName`], else `#id`.
pub(crate) fn name_of(entities: &NetEntities, names: &Query<&PlayerName>, id: EntityId) -> String {
    entities
        .get(id)
        .and_then(|e| names.get(e).ok())
        .map_or_else(|| format!("#{}", id.0), |n| n.0.clone())
}

#[derive(Component)]
struct StatusText;

#[derive(Component)]
struct FeedText;

#[derive(Component)]
struct Banner;

/// A text of `size` in `color` (empty until a system fills it).
pub(crate) fn text(size: f32, color: Color) -> (Text, TextFont, TextColor) {
    (Text::new(""), TextFont::from_font_size(size), TextColor(color))
}

/// A panel pinned to the window's corner by the given offsets, pixels.
pub(crate) fn corner(
    top: Option<f32>,
    left: Option<f32>,
    right: Option<f32>,
    bottom: Option<f32>,
) -> Node {
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

/// The translucent panel behind HUD texts.
pub(crate) const PANEL: BackgroundColor = BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.55));

fn setup(mut commands: Commands) {
    commands.spawn((
        StatusText,
        text(16.0, palette::TEXT),
        corner(Some(8.0), Some(8.0), None, None),
        PANEL,
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
    hint: Res<Hint>,
    replay: Res<ReplayControl>,
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
    match replay.status().filter(|_| replay.available()) {
        Some(r) => {
            let what = if r.error.is_some() {
                "stopped"
            } else if r.seeking {
                "seeking"
            } else if r.ended {
                "ended"
            } else if r.paused {
                "paused"
            } else {
                "playing"
            };
            let _ = writeln!(s, "REPLAY tick {}/{} | {what} | {}x", r.tick, r.last_tick, r.speed);
            let _ = write!(s, "P play/pause | [ ] keyframe | - = speed | R reconnect | Esc leave");
        }
        None => {
            let _ = write!(s, "{}\nR reconnect | Esc leave", hint.0);
        }
    }
    if q.0 != s {
        q.0 = s;
    }
}

fn show_feed(feed: Res<Feed>, mut q: Single<&mut Text, With<FeedText>>) {
    if feed.is_changed() {
        q.0 = feed.0.iter().map(String::as_str).collect::<Vec<_>>().join("\n");
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
