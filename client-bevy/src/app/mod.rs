//! What both game clients share, on top of the `client-bevy` plugin: the status panel and the
//! connection banner ([`hud`]), the room feed (joins, leaves, chat, and the lines each game
//! adds), the session keys (R reconnects, Esc leaves), the replay keys on a server replaying a
//! recording (P pauses or plays, `[` `]` step by keyframe, `-` `=` halve or double the speed)
//! and the screenshot ([`capture`]).
//!
//! Each game is a module with its own plugin: [`arena`] (top-down shooter) and [`kart`] (the
//! race). They configure the `TickwirePlugin` for their protocol (which component places an
//! entity, what the prediction moves) and add their scene, visuals, controls and HUD.

pub(crate) mod arena;
mod capture;
pub(crate) mod hud;
pub(crate) mod kart;

use bevy::prelude::*;
use client_bevy::tickwire_client::Event;
use client_bevy::{
    ClientConfig, Connect, NetProtocol, ReplayControl, ReplayControlPlugin, ServerEvent,
    TickwireConnection,
};

pub(crate) use capture::Capture;

/// Colours both games use (the rendered tests look for some of them by value).
pub(crate) mod palette {
    use bevy::prelude::Color;

    /// Outside the playing field.
    pub(crate) const BACKGROUND: Color = Color::srgb_u8(14, 16, 22);
    /// The local player.
    pub(crate) const LOCAL: Color = Color::srgb_u8(60, 220, 255);
    /// Other players.
    pub(crate) const PLAYER: Color = Color::srgb_u8(240, 140, 40);
    /// Text.
    pub(crate) const TEXT: Color = Color::srgb_u8(220, 225, 235);
    /// Warnings (disconnect banner).
    pub(crate) const WARN: Color = Color::srgb_u8(255, 110, 90);
}

/// The shared parts, for game `P` (see the module docs).
pub(crate) struct Shared<P: NetProtocol> {
    /// What R reconnects with.
    pub(crate) reconnect: ClientConfig<P>,
    /// Take a screenshot and exit.
    pub(crate) capture: Option<Capture>,
    /// The controls, as the status panel shows them.
    pub(crate) hint: &'static str,
}

impl<P: NetProtocol> Plugin for Shared<P> {
    fn build(&self, app: &mut App) {
        app.insert_resource(ClearColor(palette::BACKGROUND))
            .insert_resource(Reconnect(self.reconnect.clone()))
            .insert_resource(hud::Hint(self.hint))
            .add_plugins(ReplayControlPlugin::new(&self.reconnect.url, self.reconnect.tls.clone()))
            .add_plugins(hud::plugin)
            .add_systems(Update, (session_keys::<P>, replay_keys, room_feed::<P>));
        if let Some(capture) = &self.capture {
            app.insert_resource(capture.clone()).add_plugins(capture::plugin);
        }
    }
}

/// The configuration to reconnect with (the one the app started with).
#[derive(Resource, Clone)]
struct Reconnect<P: NetProtocol>(ClientConfig<P>);

/// R reconnects, Esc leaves the session.
fn session_keys<P: NetProtocol>(
    keys: Res<ButtonInput<KeyCode>>,
    conn: Res<TickwireConnection<P>>,
    reconnect: Res<Reconnect<P>>,
    mut connect: MessageWriter<Connect<P>>,
) {
    if keys.just_pressed(KeyCode::Escape) {
        conn.leave();
    }
    if keys.just_pressed(KeyCode::KeyR) {
        connect.write(Connect(reconnect.0.clone()));
    }
}

/// On a replay: P pauses or plays, `[` and `]` step by keyframe, `-` and `=` change the speed.
fn replay_keys(keys: Res<ButtonInput<KeyCode>>, mut replay: ResMut<ReplayControl>) {
    if !replay.available() {
        return;
    }
    if keys.just_pressed(KeyCode::KeyP) {
        replay.toggle();
    }
    for (key, back) in [(KeyCode::BracketLeft, true), (KeyCode::BracketRight, false)] {
        if keys.just_pressed(key) {
            replay.step_keyframe(back);
        }
    }
    for (key, slower) in [(KeyCode::Minus, true), (KeyCode::Equal, false)] {
        if keys.just_pressed(key) {
            replay.change_speed(slower);
        }
    }
}

/// Joins, leaves and chat lines into the feed (each game adds its own events' lines).
fn room_feed<P: NetProtocol>(
    mut events: MessageReader<ServerEvent<P::Event>>,
    mut feed: ResMut<hud::Feed>,
) {
    for e in events.read() {
        match &e.event {
            Event::Joined { name, .. } => feed.push(format!("{name} joined")),
            Event::Left { name, .. } => feed.push(format!("{name} left")),
            Event::Chat { name, text, .. } => feed.push(format!("{name}: {text}")),
            Event::Game(_) => {}
        }
    }
}
