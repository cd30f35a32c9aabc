//! A link conditioner: artificial latency and jitter on this client's traffic, so that a client
//! on loopback experiences a real network path (the bots' `--latency` and `--jitter`).
//!
//! Sans-IO like the rest of the core: [`LinkConditioner`] says when a message that arrives (or
//! is sent) at `now` should be delivered, and [`DelayQueue`] holds messages until then. Each
//! direction gets `latency ± jitter` (uniform, seeded), but never delivers a message before the
//! one ahead of it: the transport is TCP, which keeps order, so jitter shows up as bunching,
//! as it does on a real path. The async driver applies it to both directions.

use std::collections::VecDeque;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

/// Latency and jitter to add, each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkConfig {
    /// Delay added to every message, each way.
    pub latency: Duration,
    /// Each message's delay varies uniformly within `latency ± jitter` (never below zero).
    pub jitter: Duration,
    /// Seed of the jitter's random stream.
    pub seed: u64,
}

impl LinkConfig {
    /// Whether this conditioner changes anything.
    pub fn is_active(&self) -> bool {
        !self.latency.is_zero() || !self.jitter.is_zero()
    }
}

/// When to deliver delayed messages (see the module docs).
#[derive(Debug, Clone)]
pub struct LinkConditioner {
    config: LinkConfig,
    rng: Pcg32,
    last_in: Duration,
    last_out: Duration,
}

impl LinkConditioner {
    /// A conditioner for `config`.
    pub fn new(config: LinkConfig) -> Self {
        Self {
            config,
            rng: Pcg32::seed_from_u64(config.seed),
            last_in: Duration::ZERO,
            last_out: Duration::ZERO,
        }
    }

    /// The configuration.
    pub fn config(&self) -> LinkConfig {
        self.config
    }

    /// When a message received from the network at `now` reaches the client.
    pub fn incoming(&mut self, now: Duration) -> Duration {
        let due = (now + self.delay()).max(self.last_in);
        self.last_in = due;
        due
    }

    /// When a message the client sends at `now` reaches the network.
    pub fn outgoing(&mut self, now: Duration) -> Duration {
        let due = (now + self.delay()).max(self.last_out);
        self.last_out = due;
        due
    }

    /// One delay sample: `latency ± jitter`, clamped at zero.
    pub fn delay(&mut self) -> Duration {
        let jitter = self.config.jitter.as_secs_f64();
        let offset = if jitter > 0.0 { self.rng.random_range(-jitter..=jitter) } else { 0.0 };
        Duration::from_secs_f64((self.config.latency.as_secs_f64() + offset).max(0.0))
    }
}

/// Messages waiting for their delivery time, in delivery order (times never decrease, see
/// [`LinkConditioner`]). Bounded by `capacity`: when full, [`push`](Self::push) refuses.
#[derive(Debug)]
pub struct DelayQueue<T> {
    items: VecDeque<(Duration, T)>,
    capacity: usize,
}

impl<T> DelayQueue<T> {
    /// An empty queue of at most `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Self { items: VecDeque::new(), capacity }
    }

    /// Queues `item` for `due`; gives it back if the queue is full.
    pub fn push(&mut self, due: Duration, item: T) -> Result<(), T> {
        if self.items.len() >= self.capacity {
            return Err(item);
        }
        self.items.push_back((due, item));
        Ok(())
    }

    /// The next message due by `now`.
    pub fn pop_due(&mut self, now: Duration) -> Option<T> {
        if self.items.front()?.0 <= now {
            self.items.pop_front().map(|(_, item)| item)
        } else {
            None
        }
    }

    /// When the next message is due.
    pub fn next_due(&self) -> Option<Duration> {
        self.items.front().map(|(due, _)| *due)
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_stay_within_latency_plus_minus_jitter_and_keep_order() {
        let mut c = LinkConditioner::new(LinkConfig { latency: MS * 50, jitter: MS * 10, seed: 7 });
        let mut last = Duration::ZERO;
        let (mut min, mut max) = (Duration::MAX, Duration::ZERO);
        for i in 0..1000u32 {
            let d = c.delay();
            min = min.min(d);
            max = max.max(d);
            let now = MS * i;
            let due = c.incoming(now);
            assert!(
                due >= last && due >= now + MS * 40,
                "order kept, never under latency − jitter"
            );
            last = due;
        }
        assert!(min >= MS * 40 && max <= MS * 60, "{min:?}..{max:?}");
        assert!(max - min > MS * 15, "jitter is used: {min:?}..{max:?}");
    }

    #[test]
    fn zero_config_is_inactive_and_immediate() {
        let mut c = LinkConditioner::new(LinkConfig::default());
        assert!(!c.config().is_active());
        assert_eq!(c.outgoing(MS * 3), MS * 3);
        let big = LinkConfig { latency: MS, jitter: MS * 5, seed: 1 };
        let mut c = LinkConditioner::new(big);
        for _ in 0..100 {
            let _ = c.delay(); // never panics below zero
        }
    }

    #[test]
    fn queue_releases_in_time_and_is_bounded() {
        let mut q = DelayQueue::new(2);
        assert_eq!(q.push(MS * 10, 'a'), Ok(()));
        assert_eq!(q.push(MS * 20, 'b'), Ok(()));
        assert_eq!(q.push(MS * 30, 'c'), Err('c'));
        assert_eq!(q.next_due(), Some(MS * 10));
        assert_eq!(q.pop_due(MS * 9), None);
        assert_eq!(q.pop_due(MS * 25), Some('a'));
        assert_eq!(q.pop_due(MS * 25), Some('b'));
        assert!(q.is_empty());
    }
}
