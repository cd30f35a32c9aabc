//! The plugin with a game of its own (defined here, served by an in-process server): what the
//! built-in games do not exercise.
//!
//! - A component the server **removes** disappears from the Bevy entity (`Replicated<Lit>`
//!   comes and goes with the `Toggle` command), and comes back.
//! - A game that predicts nothing (`no_prediction!`) draws its own entity interpolated: it is
//!   the `LocalPlayer`, placed by its positioned component, with no predicted position.
//! - A position mapping for a type that is not one of the game's components is refused when
//!   the app is built, naming the type and the game's components.

#![allow(elided_lifetimes_in_paths, unreachable_pub)] // Bevy system parameters; test-game items

mod common;

use std::time::Duration;

use bevy::prelude::*;
use client_bevy::{
    LocalPlayer, NetStatus, NextInput, Replicated, TickwireConnection, TickwirePlugin,
};
use tickwire_protocol::game::{GameProtocol, Protocol};
use tickwire_protocol::{EntityId, component, input, messages};
use tickwire_server::{Server, ServerConfig};
use tickwire_sim::hecs::{Entity, World};
use tickwire_sim::{Ctx, Game, Inputs, JoinRefusal, JoinRequest, LeaveReason, PlayerRef};

use common::run_until;

component! {
    /// Where a lamp stands.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Spot as "spot" {
        /// x.
        pub x: f32 = fixed(0.0, 255.0, 1.0),
        /// y.
        pub y: f32 = fixed(0.0, 255.0, 1.0),
    }
}

component! {
    /// A lamp that is on (absent: off).
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Lit as "lit" {
        /// Brightness.
        pub level: u8 = uint(3),
    }
}

input! {
    /// Walk left or right.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Walk {
        /// Direction.
        pub dx: i8 = int(-1, 1),
    }
}

messages! {
    /// Events.
    #[derive(Debug, Clone, PartialEq)]
    pub enum LampEvent {
        /// A lamp was switched.
        Switched {
            /// The lamp.
            lamp: EntityId = entity(),
        },
    }
}

messages! {
    /// Commands.
    #[derive(Debug, Clone, PartialEq)]
    pub enum LampCommand {
        /// Switch my lamp on or off.
        Toggle {},
    }
}

/// The protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct LampProtocol;

impl Protocol for LampProtocol {
    type Input = Walk;
    type Event = LampEvent;
    type Command = LampCommand;
}

impl GameProtocol for LampProtocol {
    const NAME: &'static str = "lamps";
    const VERSION: u32 = 1;
    type Components = (Spot, Lit);
}

tickwire_sim::no_prediction!(LampProtocol);

/// The game: each player is a lamp that walks and switches.
#[derive(Debug)]
pub struct Lamps;

impl Game for Lamps {
    type Protocol = LampProtocol;
    type Config = ();
    type Error = std::convert::Infallible;

    fn tick_rate(_: &()) -> u16 {
        30
    }

    fn create(
        _: &(),
        _: u64,
        _: &mut World,
        _: &mut Ctx<'_, LampProtocol>,
    ) -> Result<Self, Self::Error> {
        Ok(Lamps)
    }

    fn join(
        &mut self,
        world: &mut World,
        _: &JoinRequest<'_>,
        ctx: &mut Ctx<'_, LampProtocol>,
    ) -> Result<Entity, JoinRefusal> {
        Ok(world.spawn((ctx.new_id(), Spot { x: 100.0, y: 50.0 })))
    }

    fn leave(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        _: LeaveReason,
        _: &mut Ctx<'_, LampProtocol>,
    ) {
        let _ = world.despawn(player.entity);
    }

    fn command(
        &mut self,
        world: &mut World,
        player: PlayerRef,
        _: LampCommand,
        _: &mut Ctx<'_, LampProtocol>,
    ) {
        if world.remove_one::<Lit>(player.entity).is_err() {
            let _ = world.insert_one(player.entity, Lit { level: 2 });
        }
    }

    fn step(
        &mut self,
        world: &mut World,
        inputs: &Inputs<'_, Walk>,
        _: &mut Ctx<'_, LampProtocol>,
    ) {
        for input in inputs {
            if let Ok(mut spot) = world.get::<&mut Spot>(input.entity) {
                spot.x = (spot.x + f32::from(input.input.dx)).clamp(0.0, 255.0);
            }
        }
    }
}

/// Bevy's world (the hecs `World` above is the server game's).
type World2 = bevy::ecs::world::World;

fn lit(w: &mut World2) -> Option<u8> {
    w.query_filtered::<&Replicated<Lit>, With<LocalPlayer>>().single(w).ok().map(|l| l.level)
}

#[test]
fn removed_components_leave_and_unpredicted_players_are_interpolated() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt
        .block_on(Server::builder(ServerConfig::for_tests()).game::<Lamps>(()).spawn())
        .expect("server");
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(
        TickwirePlugin::<LampProtocol>::new(server.handle.ws_url(), "room", "lamp")
            .position::<Spot>(|s| Vec2::new(s.x, s.y)),
    );
    run_until(&mut app, "our lamp", |w| {
        w.query_filtered::<&Transform, With<LocalPlayer>>()
            .single(w)
            .is_ok_and(|t| t.translation.truncate() == Vec2::new(100.0, 50.0))
    });
    assert_eq!(lit(app.world_mut()), None, "off at first");

    // Walking: the local lamp moves, interpolated (no prediction for this game).
    app.world_mut().resource_mut::<NextInput<Walk>>().0 = Walk { dx: 1 };
    run_until(&mut app, "the lamp to walk", |w| {
        w.query_filtered::<(&Transform, &Replicated<Spot>), With<LocalPlayer>>()
            .single(w)
            .is_ok_and(|(t, s)| t.translation.x > 110.0 && t.translation.x == s.x)
    });
    assert_eq!(app.world().resource::<NetStatus>().predicted, None, "nothing is predicted");

    // The component comes and goes with the server's world.
    let toggle = |app: &mut App| {
        app.world()
            .resource::<TickwireConnection<LampProtocol>>()
            .command(&LampCommand::Toggle {})
            .expect("sent");
    };
    toggle(&mut app);
    run_until(&mut app, "the lamp lit", |w| lit(w) == Some(2));
    // One command a tenth of a second at most (the client's throttle).
    std::thread::sleep(Duration::from_millis(150));
    toggle(&mut app);
    run_until(&mut app, "the lamp off", |w| lit(w).is_none());
    std::thread::sleep(Duration::from_millis(150));
    toggle(&mut app);
    run_until(&mut app, "the lamp lit again", |w| lit(w) == Some(2));
    rt.block_on(server.stop()).expect("stops");
}

component! {
    /// A component of no game here.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Elsewhere as "elsewhere" {
        /// x.
        pub x: f32 = fixed(0.0, 1.0, 0.5),
    }
}

#[test]
#[should_panic(expected = "is not a replicated component of the game `lamps`")]
fn a_mapping_for_another_component_is_refused() {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(
        TickwirePlugin::<LampProtocol>::manual().position::<Elsewhere>(|e| Vec2::new(e.x, 0.0)),
    );
}
