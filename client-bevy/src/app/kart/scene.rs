//! The track (asphalt ring, grass infield, start line) and the camera, which follows the local
//! kart at one world unit per pixel (before it exists: the whole track).
//!
//! The track is not replicated: the client draws `KartConfig::default()`'s, the track the
//! prediction assumes too (a server with another track needs the same configuration here).

use bevy::camera::ScalingMode;
use bevy::prelude::*;
use client_bevy::LocalPlayer;
use tickwire_kart::KartConfig;

use super::{layer, palette};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, setup)
        .add_systems(PostUpdate, follow.before(TransformSystems::Propagate));
}

fn setup(mut commands: Commands) {
    let track = KartConfig::default().rules.track;
    let size = Vec2::new(f32::from(track.width), f32::from(track.height));
    let lane = f32::from(track.lane);
    let center = size / 2.0;
    commands.spawn((
        Camera2d,
        Projection::Orthographic(OrthographicProjection {
            scaling_mode: ScalingMode::AutoMin {
                min_width: size.x + 80.0,
                min_height: size.y + 80.0,
            },
            ..OrthographicProjection::default_2d()
        }),
        Transform::from_xyz(center.x, center.y, 0.0),
    ));
    commands.spawn((
        Name::new("track"),
        Sprite::from_color(palette::TRACK, size),
        Transform::from_xyz(center.x, center.y, layer::TRACK),
    ));
    commands.spawn((
        Name::new("infield"),
        Sprite::from_color(palette::INFIELD, size - 2.0 * lane),
        Transform::from_xyz(center.x, center.y, layer::INFIELD),
    ));
    commands.spawn((
        Name::new("start line"),
        Sprite::from_color(palette::START, Vec2::new(6.0, lane)),
        Transform::from_xyz(center.x, lane / 2.0, layer::INFIELD),
    ));
}

/// Once the local kart exists, the camera zooms to one unit per pixel and follows it.
fn follow(
    me: Query<&Transform, (With<LocalPlayer>, Without<Camera2d>)>,
    mut camera: Single<(&mut Transform, &mut Projection), With<Camera2d>>,
) {
    let Ok(me) = me.single() else {
        return;
    };
    let (t, projection) = &mut *camera;
    if let Projection::Orthographic(o) = &mut **projection
        && !matches!(o.scaling_mode, ScalingMode::WindowSize)
    {
        o.scaling_mode = ScalingMode::WindowSize;
    }
    t.translation.x = me.translation.x;
    t.translation.y = me.translation.y;
}
