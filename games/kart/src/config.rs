//! Kart configuration: the rules clients share ([`KartRules`], with the [`Track`]), the barrel
//! load ([`BarrelConfig`]), the room settings ([`KartConfig`]) and their validation
//! ([`ConfigError`]).
//!
//! A host passes it as JSON (`tickwire-server --game-config 'kart={"barrels":{"count":500}}'`):
//! every field has a default and unknown fields are refused. Every quantity is an integer in the
//! units the simulation computes in (see the [crate docs](crate#units)): sizes in world units,
//! speeds in grid steps (1/16 unit) per tick, accelerations in grid steps per tick per tick,
//! turning in heading units (1/65536 of a turn) per tick, fractions in 1/256.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::track::Track;

/// Grid steps per world unit: positions and velocities are integers of 1/16 unit.
pub const GRID_PER_UNIT: i32 = 16;
/// One grid step, in world units.
pub const GRID: f32 = 1.0 / 16.0;
/// Largest coordinate the position codec carries (`2047 + 15/16`).
pub const MAX_COORD: f32 = 2047.0 + 15.0 / 16.0;
/// Largest velocity component the velocity codec carries, in units per tick (`31 + 15/16`).
pub const MAX_VELOCITY: f32 = 31.0 + 15.0 / 16.0;
/// Largest velocity component, in grid steps per tick (the codec's `-512..=511`).
pub const MAX_SPEED: i32 = 511;
/// Largest world side, in units (positions must fit the codec).
pub const MAX_WORLD: u16 = 2047;
/// Most barrels a track may hold.
pub const MAX_BARRELS: u32 = 20_000;
/// Highest supported tick rate, in ticks per second.
pub const MAX_TICK_RATE: u16 = 240;

/// The race's rules: what clients need too, to predict their kart ([`crate::physics`]) and to
/// draw the track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KartRules {
    /// The track: a rectangular ring.
    pub track: Track,
    /// Kart radius, units.
    pub kart_radius: u16,
    /// Barrel radius, units.
    pub barrel_radius: u16,
    /// Top speed on full throttle, grid steps per tick.
    pub max_speed: u16,
    /// Top speed while boosting.
    pub boost_speed: u16,
    /// Top speed in reverse.
    pub reverse_speed: u16,
    /// Acceleration on full throttle, grid steps per tick per tick.
    pub accel: u16,
    /// Acceleration on full throttle while boosting.
    pub boost_accel: u16,
    /// Deceleration on full reverse throttle while still rolling forward.
    pub brake: u16,
    /// Speed lost per tick without throttle (and by speed above the top speed).
    pub coast: u16,
    /// Turning on full steering at or above [`turn_speed`](Self::turn_speed), heading units
    /// (1/65536 turn) per tick; slower karts turn proportionally less, a standing one not at all.
    pub turn_rate: u16,
    /// Speed from which steering is at its full rate, grid steps per tick.
    pub turn_speed: u16,
    /// Sideways velocity kept each tick, in 1/256 (0: on rails; 256: on ice).
    pub slip: u16,
    /// Sideways velocity kept each tick while the drift button is held.
    pub drift_slip: u16,
    /// Velocity kept (and reversed) when bouncing off a wall, in 1/256.
    pub wall_bounce: u16,
    /// A full boost meter.
    pub boost_max: u8,
    /// Boost meter spent per tick of boosting (at most 8).
    pub boost_drain: u8,
    /// Boost meter regained per tick without boosting (at most 7).
    pub boost_recharge: u8,
    /// Speed a barrel is kicked away with when a kart hits it, grid steps per tick (on top of the
    /// kart's velocity).
    pub kick: u16,
    /// Laps to win a race (the race then restarts: every lap count goes back to 0); 0: endless.
    pub laps: u8,
    /// Least time between two honks of one kart, milliseconds.
    pub honk_cooldown_ms: u32,
    /// Least time between two `Bump` events of one kart, milliseconds.
    pub bump_cooldown_ms: u32,
}

impl Default for KartRules {
    fn default() -> Self {
        Self {
            track: Track::default(),
            kart_radius: 12,
            barrel_radius: 8,
            max_speed: 160,
            boost_speed: 240,
            reverse_speed: 64,
            accel: 8,
            boost_accel: 14,
            brake: 16,
            coast: 3,
            turn_rate: 1100,
            turn_speed: 64,
            slip: 40,
            drift_slip: 230,
            wall_bounce: 128,
            boost_max: 255,
            boost_drain: 3,
            boost_recharge: 1,
            kick: 48,
            laps: 3,
            honk_cooldown_ms: 2000,
            bump_cooldown_ms: 250,
        }
    }
}

/// Barrels: physics objects on the track, knocked about by karts (the load of the game).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BarrelConfig {
    /// How many barrels the track holds.
    pub count: u32,
    /// Fraction of them that roll at a constant speed from the start (bouncing off the walls),
    /// `0..=1`; the others stand until a kart kicks them.
    pub moving_fraction: f32,
    /// Speed of a rolling barrel, grid steps per tick.
    pub speed: u16,
}

impl Default for BarrelConfig {
    fn default() -> Self {
        Self { count: 200, moving_fraction: 0.25, speed: 48 }
    }
}

/// Everything needed to build a [`Race`](crate::Race) (with the server's seed, which places the
/// barrels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KartConfig {
    /// The rules.
    pub rules: KartRules,
    /// The barrels.
    pub barrels: BarrelConfig,
    /// Most karts in one room; more joins are refused as full.
    pub max_racers: u32,
    /// Ticks per second (1..=240).
    pub tick_rate: u16,
}

impl Default for KartConfig {
    fn default() -> Self {
        Self {
            rules: KartRules::default(),
            barrels: BarrelConfig::default(),
            max_racers: 1024,
            tick_rate: 30,
        }
    }
}

/// Why a config is refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// The tick rate is outside `1..=240`.
    #[error("tick rate {rate} is outside 1..={MAX_TICK_RATE}")]
    TickRate {
        /// The rate asked for.
        rate: u16,
    },
    /// The track does not fit the codec or leaves no lane to drive in.
    #[error("track {width}x{height} with a {lane}-unit lane: {why}")]
    Track {
        /// Track width.
        width: u16,
        /// Track height.
        height: u16,
        /// Lane width.
        lane: u16,
        /// What is wrong.
        why: &'static str,
    },
    /// A setting is out of its range.
    #[error("{what} = {value}: {why}")]
    BadValue {
        /// The setting.
        what: &'static str,
        /// Its value.
        value: i64,
        /// The range it must be in.
        why: &'static str,
    },
    /// The moving fraction is outside `0..=1`.
    #[error("moving fraction {fraction} is outside 0..=1")]
    MovingFraction {
        /// The fraction asked for.
        fraction: f32,
    },
    /// Too many barrels.
    #[error("{count} barrels, at most {MAX_BARRELS} are supported")]
    TooManyBarrels {
        /// The count asked for.
        count: u32,
    },
}

impl KartConfig {
    /// Checks every setting (see [`ConfigError`]).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_TICK_RATE).contains(&self.tick_rate) {
            return Err(ConfigError::TickRate { rate: self.tick_rate });
        }
        let r = &self.rules;
        let radius = r.kart_radius.max(r.barrel_radius);
        r.track.validate(radius)?;
        range("kart_radius", r.kart_radius.into(), 1, 64)?;
        range("barrel_radius", r.barrel_radius.into(), 1, 64)?;
        for (what, v) in [
            ("max_speed", r.max_speed),
            ("boost_speed", r.boost_speed),
            ("reverse_speed", r.reverse_speed),
            ("barrels.speed", self.barrels.speed),
        ] {
            range(what, v.into(), 0, MAX_SPEED.into())?;
        }
        for (what, v) in [("accel", r.accel), ("boost_accel", r.boost_accel), ("brake", r.brake)] {
            range(what, v.into(), 0, 64)?;
        }
        range("coast", r.coast.into(), 0, 64)?;
        range("boost_drain", r.boost_drain.into(), 0, 8)?;
        range("boost_recharge", r.boost_recharge.into(), 0, 7)?;
        range("kick", r.kick.into(), 0, MAX_SPEED.into())?;
        range("turn_rate", r.turn_rate.into(), 0, 16_384)?;
        range("turn_speed", r.turn_speed.into(), 1, MAX_SPEED.into())?;
        for (what, v) in
            [("slip", r.slip), ("drift_slip", r.drift_slip), ("wall_bounce", r.wall_bounce)]
        {
            range(what, v.into(), 0, 256)?;
        }
        let f = self.barrels.moving_fraction;
        if !(0.0..=1.0).contains(&f) {
            return Err(ConfigError::MovingFraction { fraction: f });
        }
        if self.barrels.count > MAX_BARRELS {
            return Err(ConfigError::TooManyBarrels { count: self.barrels.count });
        }
        range("max_racers", self.max_racers.into(), 1, 60_000)
    }

    /// Whole ticks covering `ms` milliseconds (rounded up).
    pub fn ticks_for_ms(&self, ms: u32) -> u32 {
        (u64::from(ms) * u64::from(self.tick_rate)).div_ceil(1000) as u32
    }
}

fn range(what: &'static str, value: i64, lo: i64, hi: i64) -> Result<(), ConfigError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        let why = match (lo, hi) {
            (1, 64) => "must be in 1..=64",
            (0, 64) => "must be in 0..=64",
            (0, 8) => "must be in 0..=8 (the meter's rate field)",
            (0, 7) => "must be in 0..=7 (the meter's rate field)",
            (0, 256) => "must be in 0..=256 (a fraction in 1/256)",
            (0, 16_384) => "must be in 0..=16384 (a quarter turn per tick)",
            (1, 60_000) => "must be in 1..=60000",
            (1, _) => "must be in 1..=511 (the velocity codec's range)",
            _ => "must be in 0..=511 (the velocity codec's range)",
        };
        Err(ConfigError::BadValue { what, value, why })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid() {
        assert_eq!(KartConfig::default().validate(), Ok(()));
        assert_eq!(KartConfig::default().ticks_for_ms(2000), 60);
    }

    #[test]
    fn reads_partial_json_and_refuses_unknown_fields() {
        let c: KartConfig =
            serde_json::from_str(r#"{"barrels":{"count":7},"rules":{"laps":1}}"#).expect("valid");
        assert_eq!((c.barrels.count, c.rules.laps, c.tick_rate), (7, 1, 30));
        assert!(serde_json::from_str::<KartConfig>(r#"{"npcs":{}}"#).is_err());
        assert!(serde_json::from_str::<KartConfig>(r#"{"rules":{"speed":1}}"#).is_err());
    }

    #[test]
    fn refuses_each_bad_setting() {
        let with = |f: &dyn Fn(&mut KartConfig)| {
            let mut c = KartConfig::default();
            f(&mut c);
            c.validate()
        };
        assert_eq!(with(&|c| c.tick_rate = 0), Err(ConfigError::TickRate { rate: 0 }));
        assert!(matches!(with(&|c| c.rules.track.width = 4000), Err(ConfigError::Track { .. })));
        assert!(matches!(with(&|c| c.rules.track.lane = 10), Err(ConfigError::Track { .. })));
        assert!(matches!(
            with(&|c| c.rules.boost_speed = 600),
            Err(ConfigError::BadValue { what: "boost_speed", .. })
        ));
        assert!(matches!(
            with(&|c| c.rules.slip = 300),
            Err(ConfigError::BadValue { what: "slip", .. })
        ));
        assert!(matches!(
            with(&|c| c.rules.turn_speed = 0),
            Err(ConfigError::BadValue { what: "turn_speed", .. })
        ));
        assert!(matches!(
            with(&|c| c.barrels.moving_fraction = 1.5),
            Err(ConfigError::MovingFraction { .. })
        ));
        assert!(matches!(
            with(&|c| c.barrels.count = MAX_BARRELS + 1),
            Err(ConfigError::TooManyBarrels { .. })
        ));
        assert!(matches!(
            with(&|c| c.max_racers = 0),
            Err(ConfigError::BadValue { what: "max_racers", .. })
        ));
    }
}
