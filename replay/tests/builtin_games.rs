//! Each built-in game (arena, kart, tag), played headless for a few seconds of game time by
//! four players with changing inputs (moving, aiming, firing, boosting, drifting, honking),
//! recorded as the room records, verifies with the `tickwire-replay` binary; and its export
//! has a row per entity per tick.
//!
//! Four seconds each, not thirty: CI's budget. The served variant (bots on a real server
//! with `--record`) is `served.rs`.

mod common;

use std::process::Command;

use tickwire_arena::{Arena, ArenaConfig, ArenaInput};
use tickwire_kart::{KartConfig, KartInput, Race};
use tickwire_sim::Game;
use tickwire_tag::{Run, Tag, TagConfig};

/// Seconds of game time per game.
const SECONDS: u32 = 4;

fn verify(session: &common::Session, name: &str) {
    let path = session.file(name);
    let o = Command::new(env!("CARGO_BIN_EXE_tickwire-replay"))
        .args(["verify", path.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    let ticks = session.snapshots.len();
    assert!(out.contains(&format!("ok: {ticks} ticks re-simulated; {ticks} checksums")), "{out}");
}

fn ticks<G: Game>(config: &G::Config) -> u32 {
    u32::from(G::tick_rate(config)) * SECONDS
}

#[test]
fn arena_verifies() {
    let config = ArenaConfig::default();
    let session = common::record::<Arena>(&config, 21, 4, ticks::<Arena>(&config), 30, |t, p| {
        let phase = (t / 9 + p * 5) % 16;
        ArenaInput {
            move_x: [127, 0, -127, 90][(phase % 4) as usize],
            move_y: [0, 127, -90, -127][(phase / 4) as usize],
            aim: (t + p * 40) as f32 * 0.05,
            buttons: u8::from((t + p) % 5 == 0),
        }
    });
    verify(&session, "arena.twr");
}

#[test]
fn kart_verifies() {
    let config = KartConfig::default();
    let session =
        common::record::<Race>(&config, 22, 4, ticks::<Race>(&config), 30, |t, p| KartInput {
            throttle: if (t / 40 + p) % 4 == 3 { -40 } else { 64 },
            steer: [0, 64, -64, 32, -20][((t / 15 + p) % 5) as usize],
            buttons: (((t / 10 + p) % 8) as u8) & 0b111,
        });
    verify(&session, "kart.twr");
}

#[test]
fn tag_verifies() {
    let config = TagConfig::default();
    let session = common::record::<Tag>(&config, 23, 4, ticks::<Tag>(&config), 30, |t, p| Run {
        x: ((t / 6 + p) % 3) as i8 - 1,
        y: ((t / 17 + 2 * p) % 3) as i8 - 1,
    });
    verify(&session, "tag.twr");
}
