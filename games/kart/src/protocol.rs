//! The race's wire protocol: [`KartProtocol`], its input, events and commands, and prediction
//! of the local kart.
//!
//! | payload | fields | bits |
//! | --- | --- | --- |
//! | input | `throttle`: int -64..=64 (negative brakes, then reverses); `steer`: int -64..=64 (positive turns clockwise); `buttons`: 3 buttons ([`BOOST`], [`DRIFT`], [`HORN`]) | 19 (3 bytes) |
//! | `Lap` | `racer`: entity; `lap`: uint 255; `time_ms`: uint 3,600,000 | 62 |
//! | `Bump` | `kart`: entity; `other`: optional entity (absent: a wall); `speed`: uint 1023 (grid steps per tick) | 43 or 75 |
//! | `Honk` | `racer`: entity | 32 |
//! | `Won` | `racer`: entity; `laps`: uint 255 | 40 |
//! | command `Paint` | `color`: uint 7 | 3 |
//! | command `Reset` | (none): back to the start grid, standing | 0 |

use tickwire_protocol::game::{GameProtocol, Protocol};
use tickwire_protocol::snapshot::EntityRef;
use tickwire_protocol::{EntityId, Schema, input, messages};
use tickwire_sim::Predict;

use crate::components::{Barrel, Kart, Racer};
use crate::config::KartRules;
use crate::physics::{KartState, drive};
use crate::{KART, RACER};

input! {
    /// What a driver does in one tick.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct KartInput {
        /// Throttle, `-64..=64`: positive accelerates, negative brakes and then reverses.
        pub throttle: i8 = int(-64, 64),
        /// Steering, `-64..=64`: positive turns clockwise (right, with y up).
        pub steer: i8 = int(-64, 64),
        /// Buttons: [`BOOST`], [`DRIFT`], [`HORN`].
        pub buttons: u8 = buttons(3),
    }
}

/// Button bit: boost (faster, drains the meter; needs throttle).
pub const BOOST: u8 = 1;
/// Button bit: drift (the kart slides sideways).
pub const DRIFT: u8 = 2;
/// Button bit: horn (a press honks, everyone hears).
pub const HORN: u8 = 4;

impl KartInput {
    /// Whether boost is held.
    pub fn boost(&self) -> bool {
        self.buttons & BOOST != 0
    }

    /// Whether drift is held.
    pub fn drift(&self) -> bool {
        self.buttons & DRIFT != 0
    }

    /// Whether the horn is held.
    pub fn horn(&self) -> bool {
        self.buttons & HORN != 0
    }
}

messages! {
    /// What happens in a race, as its players are told.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum KartEvent {
        /// A racer finished a lap (everyone).
        Lap {
            /// The racer's kart.
            racer: EntityId = entity(),
            /// Laps completed now.
            lap: u8 = uint(255),
            /// The lap's time, milliseconds (at most an hour).
            time_ms: u32 = uint(3_600_000),
        },
        /// A kart hit something (told to its driver, and to the other kart's).
        Bump {
            /// The kart.
            kart: EntityId = entity(),
            /// What it hit: a kart or a barrel; absent: a wall.
            other: Option<EntityId> = entity().optional(),
            /// Impact speed, grid steps per tick.
            speed: u16 = uint(1023),
        },
        /// A racer honked (everyone).
        Honk {
            /// The racer's kart.
            racer: EntityId = entity(),
        },
        /// A racer won the race; every lap count goes back to 0 (everyone).
        Won {
            /// The winner's kart.
            racer: EntityId = entity(),
            /// Laps it took.
            laps: u8 = uint(255),
        },
    }
}

messages! {
    /// What a driver asks for besides driving.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum KartCommand {
        /// Repaint my kart.
        Paint {
            /// The colour, `0..=7`.
            color: u8 = uint(7),
        },
        /// Put my kart back on the start grid, standing (the current lap starts over).
        Reset {},
    }
}

/// The race's protocol (the marker its server, clients and tools share).
#[derive(Debug, Clone, Copy, Default)]
pub struct KartProtocol;

impl Protocol for KartProtocol {
    type Input = KartInput;
    type Event = KartEvent;
    type Command = KartCommand;
}

impl GameProtocol for KartProtocol {
    const NAME: &'static str = "kart";
    const VERSION: u32 = 1;
    type Components = (Kart, Racer, Barrel);
}

impl Predict for KartProtocol {
    type State = KartState;
    type Rules = KartRules;

    fn read_state(schema: &Schema, entity: EntityRef<'_>) -> Option<KartState> {
        let kart: Kart = entity.get(schema, KART)?;
        let racer: Racer = entity.get(schema, RACER)?;
        Some(kart.state(&racer))
    }

    fn step(rules: &KartRules, state: &KartState, input: &KartInput, _tick_rate: u16) -> KartState {
        drive(rules, state, input).state
    }

    fn distance(a: &KartState, b: &KartState) -> f32 {
        let (dx, dy) = (f64::from(a.x - b.x), f64::from(a.y - b.y));
        (dx.hypot(dy) / f64::from(crate::GRID_PER_UNIT)) as f32
    }

    /// `{"x", "y", "vx", "vy", "heading", "boost"}` in grid steps (what `web/kart.js`'s
    /// `prediction.state` reads).
    fn state_json(s: &KartState) -> tickwire_sim::serde_json::Value {
        tickwire_sim::serde_json::json!({
            "x": s.x, "y": s.y, "vx": s.vx, "vy": s.vy, "heading": s.heading, "boost": s.boost
        })
    }
}
