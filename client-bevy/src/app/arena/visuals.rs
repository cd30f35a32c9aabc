//! How replicated entities look: a disc per entity (colour by kind; the local player brighter,
//! ringed and on top), a name label and a health bar over players, a heading tick, and tracers
//! for the `Shot` events.

use std::time::Duration;

use bevy::prelude::*;
use bevy::sprite::Anchor;
use client_bevy::tickwire_client::Event;
use client_bevy::{LocalPlayer, NetEntities, NextInput, PlayerName, Replicated, ServerEvent};
use tickwire_arena::{ArenaEvent, ArenaInput, ArenaRules, Heading, Npc, Player};

use super::{layer, palette};

/// How long a tracer stays on screen.
const TRACER_LIFE: Duration = Duration::from_millis(250);
/// Most tracers drawn at once (a burst of shots beyond this drops the oldest).
const MAX_TRACERS: usize = 256;
/// Health bar size, world units.
const BAR: Vec2 = Vec2::new(28.0, 4.0);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Tracers>()
        .add_systems(Startup, load_assets)
        // Chained: the children `dress_players` spawns exist (commands applied) before the
        // updates look for them.
        .add_systems(Update, ((dress_npcs, dress_players), (update_players, update_labels)).chain())
        .add_systems(Update, (collect_tracers, draw_tracers).chain())
        .add_systems(Update, draw_headings);
}

/// Shared meshes and materials.
#[derive(Resource)]
struct Assets2d {
    player: Handle<Mesh>,
    npc: Handle<Mesh>,
    ring: Handle<Mesh>,
    player_color: Handle<ColorMaterial>,
    local_color: Handle<ColorMaterial>,
    dead_color: Handle<ColorMaterial>,
    ring_color: Handle<ColorMaterial>,
    npc_colors: Vec<Handle<ColorMaterial>>,
}

fn load_assets(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
) {
    let rules = ArenaRules::default();
    let r = rules.player_radius;
    commands.insert_resource(Assets2d {
        player: meshes.add(Circle::new(r)),
        npc: meshes.add(Circle::new(rules.npc_radius)),
        ring: meshes.add(Annulus::new(r + 2.0, r + 5.0)),
        player_color: materials.add(palette::PLAYER),
        local_color: materials.add(palette::LOCAL),
        dead_color: materials.add(palette::DEAD),
        ring_color: materials.add(Color::WHITE),
        npc_colors: palette::NPC.iter().map(|&c| materials.add(c)).collect(),
    });
}

/// The health bar's fill, a child of a player.
#[derive(Component)]
struct HealthFill;

/// The bar's background.
#[derive(Component)]
struct HealthBack;

/// The name label, a child of a player.
#[derive(Component)]
struct NameLabel;

fn dress_npcs(
    mut commands: Commands,
    assets: Res<Assets2d>,
    added: Query<(Entity, &Replicated<Npc>, &Transform), Added<Replicated<Npc>>>,
) {
    for (e, npc, t) in &added {
        let color = &assets.npc_colors[usize::from(npc.kind) % assets.npc_colors.len()];
        commands.entity(e).insert((
            Mesh2d(assets.npc.clone()),
            MeshMaterial2d(color.clone()),
            Transform::from_translation(t.translation.with_z(layer::NPC)),
        ));
    }
}

fn dress_players(
    mut commands: Commands,
    assets: Res<Assets2d>,
    added: Query<(Entity, &Transform, Has<LocalPlayer>), Added<Replicated<Player>>>,
) {
    for (e, t, local) in &added {
        let (color, z) = if local {
            (assets.local_color.clone(), layer::LOCAL)
        } else {
            (assets.player_color.clone(), layer::PLAYER)
        };
        let mut player = commands.entity(e);
        player.insert((
            Mesh2d(assets.player.clone()),
            MeshMaterial2d(color),
            Transform::from_translation(t.translation.with_z(z)),
        ));
        let label_color = if local { palette::LOCAL } else { palette::TEXT };
        player.with_children(|p| {
            p.spawn((
                NameLabel,
                Text2d::new(""),
                TextFont::from_font_size(20.0),
                TextColor(label_color),
                Anchor::BOTTOM_CENTER,
                Transform::from_xyz(0.0, 26.0, layer::LABEL),
            ));
            p.spawn((
                HealthBack,
                Sprite::from_color(Color::srgba(0.0, 0.0, 0.0, 0.7), BAR + 2.0),
                Transform::from_xyz(0.0, 20.0, layer::LABEL),
            ));
            p.spawn((
                HealthFill,
                Sprite::from_color(Color::srgb(0.3, 0.9, 0.3), BAR),
                Anchor::CENTER_LEFT,
                Transform::from_xyz(-BAR.x / 2.0, 20.0, layer::LABEL + 0.1),
            ));
            if local {
                p.spawn((
                    Mesh2d(assets.ring.clone()),
                    MeshMaterial2d(assets.ring_color.clone()),
                    Transform::from_xyz(0.0, 0.0, -0.1),
                ));
            }
        });
    }
}

/// Colour for alive/dead, health bar length and colour.
fn update_players(
    assets: Res<Assets2d>,
    mut players: Query<
        (&Replicated<Player>, Has<LocalPlayer>, &mut MeshMaterial2d<ColorMaterial>, &Children),
        Changed<Replicated<Player>>,
    >,
    mut fills: Query<(&mut Sprite, &mut Visibility), (With<HealthFill>, Without<HealthBack>)>,
    mut backs: Query<&mut Visibility, (With<HealthBack>, Without<HealthFill>)>,
) {
    let max = f32::from(ArenaRules::default().max_health.max(1));
    for (p, local, mut material, children) in &mut players {
        let alive_color = if local { &assets.local_color } else { &assets.player_color };
        material.0 = if p.alive { alive_color.clone() } else { assets.dead_color.clone() };
        let shown = if p.alive { Visibility::Inherited } else { Visibility::Hidden };
        for child in children.iter() {
            if let Ok((mut sprite, mut vis)) = fills.get_mut(child) {
                let frac = (f32::from(p.health) / max).clamp(0.0, 1.0);
                sprite.custom_size = Some(Vec2::new(BAR.x * frac, BAR.y));
                sprite.color = Color::srgb(1.0 - frac * 0.7, 0.3 + frac * 0.6, 0.3);
                *vis = shown;
            } else if let Ok(mut vis) = backs.get_mut(child) {
                *vis = shown;
            }
        }
    }
}

/// Name labels follow [`PlayerName`] (and show the score).
fn update_labels(
    players: Query<
        (&PlayerName, &Replicated<Player>, &Children),
        Or<(Changed<PlayerName>, Changed<Replicated<Player>>)>,
    >,
    mut labels: Query<&mut Text2d, With<NameLabel>>,
) {
    for (name, p, children) in &players {
        for child in children.iter() {
            if let Ok(mut text) = labels.get_mut(child) {
                text.0 = format!("{} {}", name.0, p.score);
            }
        }
    }
}

/// Short heading ticks: where players aim (the local player: where the mouse aims now) and
/// NPCs go.
fn draw_headings(
    mut gizmos: Gizmos,
    input: Res<NextInput<ArenaInput>>,
    q: Query<(&Transform, &Replicated<Heading>, Option<&Replicated<Player>>, Has<LocalPlayer>)>,
) {
    for (at, heading, player, local) in &q {
        let (len, color) = match player {
            Some(p) if !p.alive => continue,
            Some(_) => (22.0, palette::TEXT),
            None => (12.0, palette::TEXT.with_alpha(0.35)),
        };
        let angle = if local { input.aim } else { heading.angle };
        let pos = at.translation.truncate();
        gizmos.line_2d(pos, pos + Vec2::from_angle(angle) * len, color);
    }
}

struct Tracer {
    from: Vec2,
    to: Vec2,
    born: Duration,
}

/// Tracers on screen, oldest first.
#[derive(Resource, Default)]
struct Tracers(Vec<Tracer>);

fn collect_tracers(
    time: Res<Time<Real>>,
    mut events: MessageReader<ServerEvent<ArenaEvent>>,
    mut tracers: ResMut<Tracers>,
    entities: Res<NetEntities>,
    bodies: Query<&Transform, With<LocalPlayer>>,
) {
    let now = time.elapsed();
    tracers.0.retain(|t| now.saturating_sub(t.born) < TRACER_LIFE);
    for e in events.read() {
        if let Event::Game(ArenaEvent::Shot { shooter, from_x, from_y, to_x, to_y, .. }) = &e.event
        {
            // Our own shots start at the drawn (predicted) muzzle, not the server's past one.
            let own = entities.get(*shooter).and_then(|s| bodies.get(s).ok());
            let from = own.map_or(Vec2::new(*from_x, *from_y), |t| t.translation.truncate());
            if tracers.0.len() == MAX_TRACERS {
                tracers.0.remove(0);
            }
            tracers.0.push(Tracer { from, to: Vec2::new(*to_x, *to_y), born: now });
        }
    }
}

fn draw_tracers(time: Res<Time<Real>>, tracers: Res<Tracers>, mut gizmos: Gizmos) {
    let now = time.elapsed();
    for t in &tracers.0 {
        let age = now.saturating_sub(t.born).as_secs_f32() / TRACER_LIFE.as_secs_f32();
        let color = palette::TRACER.with_alpha((1.0 - age).clamp(0.0, 1.0));
        gizmos.line_2d(t.from, t.to, color);
    }
}
