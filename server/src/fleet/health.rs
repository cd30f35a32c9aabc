//! [`Liveness`]: health pings are driven by the rooms' tick loops. A room whose tick has not
//! advanced for [`WEDGED_AFTER`] is wedged (a game's step that never returns, a deadlock), and
//! while one is, the server withholds its health pings so that the orchestrator marks the
//! process unhealthy and replaces it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// How long a room's tick may stand still before the room counts as wedged.
pub const WEDGED_AFTER: Duration = Duration::from_secs(3);

/// The last tick seen of each room, and when it changed.
#[derive(Debug, Default)]
pub struct Liveness {
    seen: HashMap<Arc<str>, (u32, Instant)>,
}

impl Liveness {
    /// Notes every open room's tick (`(name, tick)`) at `now`; `Err(name)` names a wedged
    /// room. Rooms no longer given are forgotten.
    pub fn check(
        &mut self,
        rooms: impl IntoIterator<Item = (Arc<str>, u32)>,
        now: Instant,
    ) -> Result<(), Arc<str>> {
        let rooms: Vec<(Arc<str>, u32)> = rooms.into_iter().collect();
        self.seen.retain(|name, _| rooms.iter().any(|(n, _)| n == name));
        let mut wedged = None;
        for (name, tick) in rooms {
            let entry = self.seen.entry(name.clone()).or_insert((tick, now));
            if entry.0 != tick {
                *entry = (tick, now);
            } else if now.duration_since(entry.1) >= WEDGED_AFTER {
                wedged = Some(name);
            }
        }
        wedged.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rooms(list: &[(&str, u32)]) -> Vec<(Arc<str>, u32)> {
        list.iter().map(|(n, t)| (Arc::from(*n), *t)).collect()
    }

    #[test]
    fn a_room_whose_tick_stands_still_is_wedged_until_it_moves() {
        let t0 = Instant::now();
        let mut live = Liveness::default();
        let s = Duration::from_secs(1);
        assert_eq!(live.check(rooms(&[("a", 1), ("b", 1)]), t0), Ok(()));
        assert_eq!(live.check(rooms(&[("a", 30), ("b", 1)]), t0 + 2 * s), Ok(()), "not yet");
        assert_eq!(live.check(rooms(&[("a", 60), ("b", 1)]), t0 + 3 * s), Err(Arc::from("b")));
        assert_eq!(live.check(rooms(&[("a", 90), ("b", 2)]), t0 + 4 * s), Ok(()), "moves again");
    }

    #[test]
    fn new_rooms_get_time_and_closed_rooms_are_forgotten() {
        let t0 = Instant::now();
        let mut live = Liveness::default();
        let s = Duration::from_secs(1);
        assert_eq!(live.check(rooms(&[("a", 5)]), t0), Ok(()));
        assert_eq!(live.check(rooms(&[("a", 9), ("new", 0)]), t0 + 10 * s), Ok(()));
        assert_eq!(live.check(rooms(&[("a", 12)]), t0 + 20 * s), Ok(()), "`new` closed");
        assert_eq!(live.seen.len(), 1);
    }
}
