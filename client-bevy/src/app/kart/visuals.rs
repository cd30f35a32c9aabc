//! How the race looks: a kart is a rectangle in its racer's paint, turned to its heading, with
//! its driver's name above it (the local kart ringed in the local colour and drawn on top); a
//! barrel is a brown disc.

use bevy::prelude::*;
use bevy::sprite::Anchor;
use client_bevy::{LocalPlayer, PlayerName, Replicated};
use tickwire_kart::{Barrel, Kart, KartConfig, Racer};

use super::{layer, palette};

/// How far above its kart a label sits, world units.
const LABEL_HEIGHT: f32 = 14.0;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, load_assets)
        // Chained: the children `dress_karts` spawns exist before the labels look for them.
        .add_systems(Update, ((dress_karts, dress_barrels), (turn_karts, paint, label)).chain());
}

/// Shared meshes and materials.
#[derive(Resource)]
struct Assets2d {
    kart: Handle<Mesh>,
    ring: Handle<Mesh>,
    barrel: Handle<Mesh>,
    paints: Vec<Handle<ColorMaterial>>,
    local: Handle<ColorMaterial>,
    barrel_color: Handle<ColorMaterial>,
}

fn load_assets(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let rules = KartConfig::default().rules;
    let r = f32::from(rules.kart_radius);
    commands.insert_resource(Assets2d {
        kart: meshes.add(Rectangle::new(2.4 * r, 1.5 * r)),
        ring: meshes.add(Annulus::new(1.5 * r, 1.5 * r + 3.0)),
        barrel: meshes.add(Circle::new(f32::from(rules.barrel_radius))),
        paints: palette::PAINT.iter().map(|&c| materials.add(c)).collect(),
        local: materials.add(palette::LOCAL),
        barrel_color: materials.add(palette::BARREL),
    });
}

/// The name label, a child of a kart.
#[derive(Component)]
struct NameLabel;

fn dress_karts(
    mut commands: Commands,
    assets: Res<Assets2d>,
    added: Query<(Entity, &Transform, Has<LocalPlayer>), Added<Replicated<Kart>>>,
) {
    for (e, t, local) in &added {
        let z = if local { layer::LOCAL } else { layer::KART };
        let mut kart = commands.entity(e);
        kart.insert((
            Mesh2d(assets.kart.clone()),
            MeshMaterial2d(assets.paints[0].clone()),
            Transform::from_translation(t.translation.with_z(z)),
        ));
        kart.with_children(|k| {
            k.spawn((
                NameLabel,
                Text2d::new(""),
                TextFont::from_font_size(14.0),
                TextColor(if local { palette::LOCAL } else { palette::TEXT }),
                Anchor::BOTTOM_CENTER,
                // Labels stay upright: `turn_karts` turns the kart, `label` turns this back.
                Transform::from_xyz(0.0, LABEL_HEIGHT, layer::LABEL),
            ));
            if local {
                k.spawn((
                    Mesh2d(assets.ring.clone()),
                    MeshMaterial2d(assets.local.clone()),
                    Transform::from_xyz(0.0, 0.0, -0.1),
                ));
            }
        });
    }
}

fn dress_barrels(
    mut commands: Commands,
    assets: Res<Assets2d>,
    added: Query<(Entity, &Transform), Added<Replicated<Barrel>>>,
) {
    for (e, t) in &added {
        commands.entity(e).insert((
            Mesh2d(assets.barrel.clone()),
            MeshMaterial2d(assets.barrel_color.clone()),
            Transform::from_translation(t.translation.with_z(layer::BARREL)),
        ));
    }
}

/// Karts face their heading (the local kart its predicted one).
fn turn_karts(mut karts: Query<(&Replicated<Kart>, &mut Transform), Changed<Replicated<Kart>>>) {
    for (kart, mut t) in &mut karts {
        t.rotation = Quat::from_rotation_z(kart.heading);
    }
}

/// Karts wear their racer's paint.
fn paint(
    assets: Res<Assets2d>,
    mut karts: Query<
        (&Replicated<Racer>, &mut MeshMaterial2d<ColorMaterial>),
        Changed<Replicated<Racer>>,
    >,
) {
    for (racer, mut material) in &mut karts {
        material.0 = assets.paints[usize::from(racer.color) % assets.paints.len()].clone();
    }
}

/// Labels show the driver's name and laps, upright above the kart.
fn label(
    karts: Query<
        (&Transform, Option<&PlayerName>, &Replicated<Racer>, &Children),
        With<Replicated<Kart>>,
    >,
    mut labels: Query<(&mut Text2d, &mut Transform), (With<NameLabel>, Without<Replicated<Kart>>)>,
) {
    for (t, name, racer, children) in &karts {
        for child in children.iter() {
            if let Ok((mut text, mut at)) = labels.get_mut(child) {
                let s = format!("{} L{}", name.map_or("", |n| n.0.as_str()), racer.lap);
                if text.0 != s {
                    text.0 = s;
                }
                // Undo the kart's turn so the label stays upright above it.
                let inverse = t.rotation.inverse();
                at.rotation = inverse;
                at.translation = (inverse * Vec3::new(0.0, LABEL_HEIGHT, 0.0)).with_z(layer::LABEL);
            }
        }
    }
}
