//! The track: a rectangular ring (the world minus a rectangular infield), its four sectors
//! (laps are counted by passing them in order) and its start grid.
//!
//! ```text
//!   y ^  +-------------------------------+
//!     |  |            sector 2           |
//!     |  |     +-------------------+     |
//!     |  |  3  |      infield      |  1  |
//!     |  |     +-------------------+     |
//!     |  |  start grid -> | sector 0     |
//!     +  +-------------------------------+--> x
//! ```
//!
//! Karts race counter-clockwise (y up): along +x on the bottom straight, where the start line
//! (`x = width / 2`) is. All coordinates here are in grid steps (1/16 unit), as integers.

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, GRID_PER_UNIT, MAX_WORLD};

/// The track's size, in world units: `0..=width` × `0..=height`, with an infield `lane` units in
/// from every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Track {
    /// World width, units (at most 2047).
    pub width: u16,
    /// World height, units (at most 2047).
    pub height: u16,
    /// Lane width: the infield is this far in from every side, units.
    pub lane: u16,
}

impl Default for Track {
    fn default() -> Self {
        Self { width: 2040, height: 1400, lane: 320 }
    }
}

impl Track {
    /// Width in grid steps.
    pub fn w(&self) -> i32 {
        i32::from(self.width) * GRID_PER_UNIT
    }

    /// Height in grid steps.
    pub fn h(&self) -> i32 {
        i32::from(self.height) * GRID_PER_UNIT
    }

    /// Lane width in grid steps.
    pub fn lane_q(&self) -> i32 {
        i32::from(self.lane) * GRID_PER_UNIT
    }

    pub(crate) fn validate(&self, radius: u16) -> Result<(), ConfigError> {
        let bad = |why| ConfigError::Track {
            width: self.width,
            height: self.height,
            lane: self.lane,
            why,
        };
        if self.width > MAX_WORLD || self.height > MAX_WORLD {
            return Err(bad("a side is larger than the position codec's 2047 units"));
        }
        if u32::from(self.lane) < 4 * u32::from(radius) {
            return Err(bad("the lane must be at least 4 radii wide"));
        }
        if 2 * u32::from(self.lane) >= u32::from(self.width.min(self.height)) {
            return Err(bad(
                "two lanes must be narrower than the track (there must be an infield)",
            ));
        }
        Ok(())
    }

    /// Whether a circle of `radius` at `(x, y)` touches neither the outer wall nor the infield
    /// (the infield is grown by the radius as a square: its corners are a little generous).
    pub fn is_free(&self, x: i32, y: i32, radius: i32) -> bool {
        let (w, h, l) = (self.w(), self.h(), self.lane_q());
        let inside = x >= radius && x <= w - radius && y >= radius && y <= h - radius;
        let infield = x > l - radius && x < w - l + radius && y > l - radius && y < h - l + radius;
        inside && !infield
    }

    /// The sector `(x, y)` is in: 0 bottom, 1 right, 2 top, 3 left (split along the diagonals).
    pub fn sector(&self, x: i32, y: i32) -> u8 {
        let (w, h) = (i64::from(self.w()), i64::from(self.h()));
        let dx = 2 * i64::from(x) - w;
        let dy = 2 * i64::from(y) - h;
        if dx.abs() * h >= dy.abs() * w {
            if dx > 0 { 1 } else { 3 }
        } else if dy < 0 {
            0
        } else {
            2
        }
    }

    /// The start grid for karts of `radius`: slots on the bottom straight behind the start
    /// line, front row first, each row across the lane.
    pub fn start_grid(&self, radius: i32) -> Vec<(i32, i32)> {
        let gap = 3 * radius;
        let lane = self.lane_q();
        let rows = ((lane - 2 * radius) / gap + 1).max(1);
        let mut slots = Vec::new();
        let mut x = self.w() / 2 - gap;
        while x > radius && self.sector(x, lane / 2) == 0 {
            for row in 0..rows {
                let y = radius + row * gap;
                if self.is_free(x, y, radius) && self.sector(x, y) == 0 {
                    slots.push((x, y));
                }
            }
            x -= gap;
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_infield_and_the_outer_wall_are_solid() {
        let t = Track::default();
        let r = 12 * GRID_PER_UNIT;
        assert!(t.is_free(t.w() / 2, r, r), "the bottom straight");
        assert!(!t.is_free(t.w() / 2, r - 1, r), "touching the outer wall");
        assert!(!t.is_free(t.w() / 2, t.h() / 2, r), "the infield");
        assert!(!t.is_free(t.w() / 2, t.lane_q() - r + 1, r), "touching the infield");
        assert!(t.is_free(t.w() / 2, t.lane_q() - r, r));
    }

    #[test]
    fn sectors_go_round_counter_clockwise() {
        let t = Track::default();
        let (w, h, l) = (t.w(), t.h(), t.lane_q());
        assert_eq!(t.sector(w / 2, l / 2), 0);
        assert_eq!(t.sector(w - l / 2, h / 2), 1);
        assert_eq!(t.sector(w / 2, h - l / 2), 2);
        assert_eq!(t.sector(l / 2, h / 2), 3);
    }

    #[test]
    fn the_start_grid_is_on_the_track_behind_the_line() {
        let t = Track::default();
        let r = 12 * GRID_PER_UNIT;
        let grid = t.start_grid(r);
        assert!(grid.len() >= 100, "{} slots", grid.len());
        for &(x, y) in &grid {
            assert!(t.is_free(x, y, r) && x < t.w() / 2 && t.sector(x, y) == 0, "({x}, {y})");
        }
    }
}
