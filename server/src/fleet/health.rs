//! [`Liveness`]: health pings are driven by the rooms' tick loops. A room whose tick has not
//! advanced for [`WEDGED_AFTER`] is wedged (a game's step that never returns, a deadlock), and
//! while one is, the server withholds its health pings so that the orchestrator marks the
//! process unhealthy and replaces it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::room::RoomHandle;

/// How long a room's tick may stand still before the room counts as wedged.
pub const WEDGED_AFTER: Duration = Duration::from_secs(3);

/// The last tick seen of each room, and when it changed.
#[derive(Debug, Default)]
pub struct Liveness {
    seen: HashMap<Arc<str>, (u32, Instant)>,
}

impl Liveness {
    /// Notes every room's tick at `now`; `Err(name)` names a wedged room.
    pub fn check(&mut self, rooms: &[RoomHandle], now: Instant) -> Result<(), Arc<str>> {
        self.seen.retain(|name, _| rooms.iter().any(|r| r.name == *name));
        let mut wedged = None;
        for room in rooms {
            let tick = room.info().tick().0;
            let entry = self.seen.entry(room.name.clone()).or_insert((tick, now));
            if entry.0 != tick {
                *entry = (tick, now);
            } else if now.duration_since(entry.1) >= WEDGED_AFTER {
                wedged = Some(room.name.clone());
            }
        }
        wedged.map_or(Ok(()), Err)
    }
}
