//! Keyboard and mouse into the plugin's [`PlayerIntent`]: WASD or arrows move, the cursor aims
//! (from the local player's drawn position), the left button fires while held. R reconnects,
//! Esc leaves the session.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use client_bevy::{Connect, LocalPlayer, NetBody, PlayerIntent, TickwireConnection};

/// The configuration to reconnect with (the one the app started with).
#[derive(Resource, Clone)]
pub(crate) struct Reconnect(pub(crate) client_bevy::Config);

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, (movement_and_fire, aim, session_keys));
}

fn movement_and_fire(
    keys: Res<ButtonInput<KeyCode>>,
    mouse: Res<ButtonInput<MouseButton>>,
    mut intent: ResMut<PlayerIntent>,
) {
    let pressed = |a: KeyCode, b: KeyCode| keys.pressed(a) || keys.pressed(b);
    let mut dir = Vec2::ZERO;
    if pressed(KeyCode::KeyW, KeyCode::ArrowUp) {
        dir.y += 1.0;
    }
    if pressed(KeyCode::KeyS, KeyCode::ArrowDown) {
        dir.y -= 1.0;
    }
    if pressed(KeyCode::KeyA, KeyCode::ArrowLeft) {
        dir.x -= 1.0;
    }
    if pressed(KeyCode::KeyD, KeyCode::ArrowRight) {
        dir.x += 1.0;
    }
    intent.movement = dir;
    intent.fire = mouse.pressed(MouseButton::Left);
}

fn aim(
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Camera, &GlobalTransform)>,
    me: Query<&NetBody, With<LocalPlayer>>,
    mut intent: ResMut<PlayerIntent>,
) {
    let (camera, camera_transform) = *camera;
    let Some(cursor) = window.cursor_position() else {
        return;
    };
    let (Ok(target), Ok(me)) = (camera.viewport_to_world_2d(camera_transform, cursor), me.single())
    else {
        return;
    };
    intent.aim_at(me.position, target);
}

fn session_keys(
    keys: Res<ButtonInput<KeyCode>>,
    conn: Res<TickwireConnection>,
    reconnect: Option<Res<Reconnect>>,
    mut connect: MessageWriter<Connect>,
) {
    if keys.just_pressed(KeyCode::Escape) {
        conn.leave();
    }
    if keys.just_pressed(KeyCode::KeyR)
        && let Some(r) = reconnect
    {
        connect.write(Connect(r.0.clone()));
    }
}
