//! Keyboard and mouse into the arena's next input: WASD or arrows move, the cursor aims (from
//! the local player's drawn position), the left button fires while held.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use client_bevy::{LocalPlayer, NextInput};
use tickwire_arena::ArenaInput;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, (movement_and_fire, aim).chain());
}

fn movement_and_fire(
    keys: Res<ButtonInput<KeyCode>>,
    mouse: Res<ButtonInput<MouseButton>>,
    mut input: ResMut<NextInput<ArenaInput>>,
) {
    let pressed = |a: KeyCode, b: KeyCode| keys.pressed(a) || keys.pressed(b);
    let axis = |neg: bool, pos: bool| f32::from(i8::from(pos) - i8::from(neg));
    let dir = glam::Vec2::new(
        axis(
            pressed(KeyCode::KeyA, KeyCode::ArrowLeft),
            pressed(KeyCode::KeyD, KeyCode::ArrowRight),
        ),
        axis(pressed(KeyCode::KeyS, KeyCode::ArrowDown), pressed(KeyCode::KeyW, KeyCode::ArrowUp)),
    );
    let aim = input.aim;
    input.0 =
        ArenaInput { aim, ..ArenaInput::toward(dir) }.firing(mouse.pressed(MouseButton::Left));
}

fn aim(
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Camera, &GlobalTransform)>,
    me: Query<&Transform, With<LocalPlayer>>,
    mut input: ResMut<NextInput<ArenaInput>>,
) {
    let (camera, camera_transform) = *camera;
    let Some(cursor) = window.cursor_position() else {
        return;
    };
    let (Ok(target), Ok(me)) = (camera.viewport_to_world_2d(camera_transform, cursor), me.single())
    else {
        return;
    };
    let d = target - me.translation.truncate();
    if d.length_squared() > f32::EPSILON {
        input.aim = d.y.atan2(d.x);
    }
}
