//! The camera (fitting the whole arena in the window), the floor and the walls.
//!
//! The walls are not replicated: every server plays by `ArenaRules::default()`, as the
//! client library's prediction assumes too.

use bevy::camera::ScalingMode;
use bevy::prelude::*;
use tickwire_arena::ArenaRules;

use super::{layer, palette};

/// Room around the arena, world units.
const MARGIN: f32 = 40.0;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, setup);
}

fn setup(mut commands: Commands) {
    let rules = ArenaRules::default();
    let world = Vec2::new(rules.world.x, rules.world.y);
    let center = world / 2.0;
    commands.spawn((
        Camera2d,
        Projection::Orthographic(OrthographicProjection {
            scaling_mode: ScalingMode::AutoMin {
                min_width: world.x + 2.0 * MARGIN,
                min_height: world.y + 2.0 * MARGIN,
            },
            ..OrthographicProjection::default_2d()
        }),
        Transform::from_xyz(center.x, center.y, 0.0),
    ));
    commands.spawn((
        Name::new("floor"),
        Sprite::from_color(palette::FLOOR, world),
        Transform::from_xyz(center.x, center.y, layer::FLOOR),
    ));
    for (i, wall) in rules.walls.iter().enumerate() {
        let (min, max) = (Vec2::new(wall.min.x, wall.min.y), Vec2::new(wall.max.x, wall.max.y));
        let mid = (min + max) / 2.0;
        commands.spawn((
            Name::new(format!("wall {i}")),
            Sprite::from_color(palette::WALL, max - min),
            Transform::from_xyz(mid.x, mid.y, layer::WALL),
        ));
    }
}
