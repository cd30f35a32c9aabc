//! The track (asphalt ring, grass infield, start line) and the camera, which follows the local
//! kart at one world unit per pixel (before it exists: the whole track).
//!
//! The track is not replicated: it is part of the rules the client read from the server's
//! `/rules.json` (the plugin's `fetch_rules`), the same rules the prediction steps with; it is
//! drawn when a session opens (again after a reconnect, in case the server changed).

use bevy::camera::ScalingMode;
use bevy::prelude::*;
use client_bevy::{Connected, LocalPlayer, TickwireConnection};
use tickwire_kart::{KartConfig, KartProtocol, Track};

use super::{layer, palette};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, setup)
        .add_systems(Update, draw_track)
        .add_systems(PostUpdate, follow.before(TransformSystems::Propagate));
}

/// A sprite of the drawn track.
#[derive(Component)]
struct TrackPart;

fn center(track: &Track) -> Vec2 {
    Vec2::new(f32::from(track.width), f32::from(track.height)) / 2.0
}

/// The camera, over the default track until the session's track is known.
fn setup(mut commands: Commands) {
    let size = 2.0 * center(&KartConfig::default().rules.track);
    commands.spawn((
        Camera2d,
        Projection::Orthographic(OrthographicProjection {
            scaling_mode: ScalingMode::AutoMin {
                min_width: size.x + 80.0,
                min_height: size.y + 80.0,
            },
            ..OrthographicProjection::default_2d()
        }),
        Transform::from_xyz(size.x / 2.0, size.y / 2.0, 0.0),
    ));
}

/// Draws the session's track when it opens.
fn draw_track(
    mut commands: Commands,
    mut connected: MessageReader<Connected>,
    conn: Res<TickwireConnection<KartProtocol>>,
    old: Query<Entity, With<TrackPart>>,
) {
    if connected.read().last().is_none() {
        return;
    }
    let Some(track) = conn.handle().map(|h| h.with_state(|s| s.rules().track)) else {
        return;
    };
    for e in &old {
        commands.entity(e).despawn();
    }
    let (c, lane) = (center(&track), f32::from(track.lane));
    let sprite = |name: &'static str, color: Color, size: Vec2, at: Vec3| {
        (
            TrackPart,
            Name::new(name),
            Sprite::from_color(color, size),
            Transform::from_translation(at),
        )
    };
    commands.spawn(sprite("track", palette::TRACK, 2.0 * c, c.extend(layer::TRACK)));
    commands.spawn(sprite(
        "infield",
        palette::INFIELD,
        2.0 * c - 2.0 * lane,
        c.extend(layer::INFIELD),
    ));
    let start = Vec3::new(c.x, lane / 2.0, layer::INFIELD);
    commands.spawn(sprite("start line", palette::START, Vec2::new(6.0, lane), start));
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
