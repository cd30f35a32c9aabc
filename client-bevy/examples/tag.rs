//! Tag (the guide's game) in a Bevy app, headless: the plugin replicates the runners, the app
//! runs right, waves once connected, and prints where everyone is and what happens.
//!
//! ```text
//! cargo run -p tickwire-tag --example serve                        # a tag server
//! cargo run -p client-bevy --no-default-features --example tag     # this client
//! ```
//!
//! `TICKWIRE_URL` overrides the server (`ws://127.0.0.1:7777/ws`).

// Bevy system parameters (`Res<T>`, `Query<D>`) carry lifetimes that Bevy code always elides.
#![allow(elided_lifetimes_in_paths)]

use std::time::Duration;

use bevy::app::ScheduleRunnerPlugin;
use bevy::prelude::*;
use client_bevy::tickwire_client::Event;
use client_bevy::{
    Connected, LocalPlayer, NextInput, Replicated, ServerEvent, TickwireConnection, TickwirePlugin,
};
use tickwire_tag::{Run, Runner, TagCommand, TagEvent, TagProtocol};

fn main() {
    let url = std::env::var("TICKWIRE_URL").unwrap_or_else(|_| "ws://127.0.0.1:7777/ws".into());
    let frame = Duration::from_secs_f64(1.0 / 60.0);
    App::new()
        .add_plugins(MinimalPlugins.set(ScheduleRunnerPlugin::run_loop(frame)))
        .add_plugins(
            TickwirePlugin::<TagProtocol>::new(url, "lobby", "bevy")
                .position::<Runner>(|r| Vec2::new(r.x, r.y)),
        )
        .add_systems(Update, (run_right, wave_once_connected, print_events, print_runners))
        .run();
}

/// The input for the next tick: run right.
fn run_right(mut input: ResMut<NextInput<Run>>) {
    input.0 = Run { x: 1, y: 0 };
}

/// A command is one call.
fn wave_once_connected(
    mut connected: MessageReader<Connected>,
    conn: Res<TickwireConnection<TagProtocol>>,
) {
    if connected.read().next().is_some()
        && let Err(e) = conn.command(&TagCommand::Wave {})
    {
        eprintln!("not sent: {e}");
    }
}

/// The game's events, as Bevy messages.
fn print_events(mut events: MessageReader<ServerEvent<TagEvent>>) {
    for e in events.read() {
        match &e.event {
            Event::Game(TagEvent::Tagged { by, it }) => println!("{by:?} tagged {it:?}"),
            Event::Game(TagEvent::Waved { who }) => println!("{who:?} waved"),
            Event::Joined { name, .. } => println!("{name} joined"),
            _ => {}
        }
    }
}

/// Every runner (`Transform` placed by the plugin), once a second.
fn print_runners(
    time: Res<Time>,
    mut next: Local<f32>,
    runners: Query<(&Transform, &Replicated<Runner>, Has<LocalPlayer>)>,
) {
    if time.elapsed_secs() < *next {
        return;
    }
    *next = time.elapsed_secs() + 1.0;
    for (at, runner, me) in &runners {
        let who = if me { "me" } else { "runner" };
        let it = if runner.it { " (it)" } else { "" };
        println!("{who} at {:.0},{:.0}{it}", at.translation.x, at.translation.y);
    }
}
