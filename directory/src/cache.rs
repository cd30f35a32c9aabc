//! A replica's short-lived copy of the live servers' records, for joins only
//! (`servers_cache`, off by default).
//!
//! Reading every record on every join costs two round trips and the records' bytes (each
//! lists its rooms). With the cache, a replica reads them at most once per period and a join
//! is one round trip (the pick-and-claim). Staleness is bounded by the period and is safe where
//! it matters: the script checks that the owner and the chosen candidate still have a record
//! (a dead server is never picked), and an owner missing from the copy is read by itself. What
//! may lag by one period: a new server getting its first rooms, and a server that started
//! draining getting one more.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::record::ServerRecord;

/// The copy and when it was read.
#[derive(Debug, Default)]
pub(crate) struct ServersCache {
    period: Duration,
    held: Mutex<Option<(Instant, Arc<Vec<ServerRecord>>)>>,
}

impl ServersCache {
    /// A cache keeping a copy for `period` (zero: never).
    pub(crate) fn new(period: Duration) -> Self {
        Self { period, held: Mutex::new(None) }
    }

    /// The copy, if one was read less than a period before `now`.
    pub(crate) fn get(&self, now: Instant) -> Option<Arc<Vec<ServerRecord>>> {
        if self.period.is_zero() {
            return None;
        }
        let held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        held.as_ref()
            .filter(|(at, _)| now.duration_since(*at) < self.period)
            .map(|(_, r)| r.clone())
    }

    /// Keeps `records`, read at `at`.
    pub(crate) fn put(&self, at: Instant, records: Arc<Vec<ServerRecord>>) {
        if !self.period.is_zero() {
            *self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some((at, records));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_lives_one_period() {
        let t0 = Instant::now();
        let cache = ServersCache::new(Duration::from_millis(100));
        assert!(cache.get(t0).is_none());
        cache.put(t0, Arc::new(Vec::new()));
        assert!(cache.get(t0 + Duration::from_millis(99)).is_some());
        assert!(cache.get(t0 + Duration::from_millis(100)).is_none());
        let off = ServersCache::new(Duration::ZERO);
        off.put(t0, Arc::new(Vec::new()));
        assert!(off.get(t0).is_none());
    }
}
