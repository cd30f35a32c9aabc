//! The keyboard into the race's next input, and its commands: W/S (or the arrows) throttle and
//! brake, A/D steer, Space boosts, Shift drifts, H honks; the digits 1 to 8 repaint the kart
//! (`Paint`), Backspace puts it back on the start grid (`Reset`).

use bevy::prelude::*;
use client_bevy::{NextInput, TickwireConnection};
use tickwire_kart::{BOOST, DRIFT, HORN, KartCommand, KartInput, KartProtocol};

use crate::app::hud::Feed;

/// The digit keys, by paint colour.
const PAINT_KEYS: [KeyCode; 8] = [
    KeyCode::Digit1,
    KeyCode::Digit2,
    KeyCode::Digit3,
    KeyCode::Digit4,
    KeyCode::Digit5,
    KeyCode::Digit6,
    KeyCode::Digit7,
    KeyCode::Digit8,
];

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, (drive, commands));
}

fn drive(keys: Res<ButtonInput<KeyCode>>, mut input: ResMut<NextInput<KartInput>>) {
    let pressed = |a: KeyCode, b: KeyCode| keys.pressed(a) || keys.pressed(b);
    let axis = |neg: bool, pos: bool| 64 * (i8::from(pos) - i8::from(neg));
    let button = |key: KeyCode, bit: u8| if keys.pressed(key) { bit } else { 0 };
    input.0 = KartInput {
        throttle: axis(
            pressed(KeyCode::KeyS, KeyCode::ArrowDown),
            pressed(KeyCode::KeyW, KeyCode::ArrowUp),
        ),
        steer: axis(
            pressed(KeyCode::KeyA, KeyCode::ArrowLeft),
            pressed(KeyCode::KeyD, KeyCode::ArrowRight),
        ),
        buttons: button(KeyCode::Space, BOOST)
            | button(KeyCode::ShiftLeft, DRIFT)
            | button(KeyCode::ShiftRight, DRIFT)
            | button(KeyCode::KeyH, HORN),
    };
}

fn commands(
    keys: Res<ButtonInput<KeyCode>>,
    conn: Res<TickwireConnection<KartProtocol>>,
    mut feed: ResMut<Feed>,
) {
    let mut send = |command: KartCommand| {
        if let Err(e) = conn.command(&command) {
            feed.push(format!("not sent: {e}"));
        }
    };
    for (color, key) in (0u8..).zip(PAINT_KEYS) {
        if keys.just_pressed(key) {
            send(KartCommand::Paint { color });
        }
    }
    if keys.just_pressed(KeyCode::Backspace) {
        send(KartCommand::Reset {});
    }
}
