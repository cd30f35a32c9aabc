//! Automatic reconnection: [`ReconnectPolicy`] (whether and how often to try) and [`Backoff`]
//! (when), with no I/O, so both are tested with a seeded random source.
//!
//! After a drop that the protocol marks as resumable ([`EndReason::is_resumable`]: the
//! connection failed, the server or this client timed out, or the server found this client too
//! slow; PROTOCOL.md §1.3), the driver waits [`Backoff::next_delay`] and opens a new connection
//! whose hello carries the resume ticket of the last welcome. Delays grow exponentially from
//! [`ReconnectPolicy::initial_delay`] up to [`ReconnectPolicy::max_delay`], each drawn at random
//! between half and all of the current step ("equal jitter"), so that clients dropped together
//! by a server hiccup do not come back in lockstep. After [`ReconnectPolicy::max_attempts`]
//! failed attempts in a row the session ends with [`EndReason::GaveUp`]. A resume the server
//! refuses (`ResumeFailed`: the grace period ended) becomes a fresh join when
//! [`ReconnectPolicy::rejoin_when_expired`] is set: a new player, which the owner learns from
//! [`ClientEvent::Rejoined`](crate::ClientEvent::Rejoined).

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

use crate::error::EndReason;

/// Whether and how a client reconnects after its connection drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Attempts in a row before giving up; 0 never reconnects.
    pub max_attempts: u32,
    /// The first step of the backoff.
    pub initial_delay: Duration,
    /// The largest step of the backoff.
    pub max_delay: Duration,
    /// When the server no longer holds the session (`ResumeFailed`), join again as a new
    /// player instead of giving up.
    pub rejoin_when_expired: bool,
    /// Seed of the jitter (`None`: a different one per client).
    pub seed: Option<u64>,
}

impl Default for ReconnectPolicy {
    /// Eight attempts, from 250 ms doubling up to 5 s (about 20 s in all), rejoining when the
    /// session has expired.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
            rejoin_when_expired: true,
            seed: None,
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect: a drop ends the session.
    pub fn disabled() -> Self {
        Self { max_attempts: 0, ..Self::default() }
    }

    /// Whether the client reconnects at all.
    pub fn is_enabled(&self) -> bool {
        self.max_attempts > 0
    }
}

/// The delays between attempts of one outage (see the module docs).
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: ReconnectPolicy,
    attempt: u32,
    rng: Pcg32,
}

impl Backoff {
    /// A backoff at its first attempt.
    pub fn new(policy: ReconnectPolicy) -> Self {
        let seed = policy.seed.unwrap_or_else(random_seed);
        Self { policy, attempt: 0, rng: Pcg32::seed_from_u64(seed) }
    }

    /// Attempts made so far in this outage.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, or `None` when the policy's attempts are spent.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self.attempt >= self.policy.max_attempts {
            return None;
        }
        let doublings = self.attempt.min(20);
        self.attempt += 1;
        let step =
            self.policy.initial_delay.saturating_mul(1 << doublings).min(self.policy.max_delay);
        let half = step / 2;
        let jitter = self.rng.random_range(0..=half.as_micros() as u64);
        Some(half + Duration::from_micros(jitter))
    }

    /// The outage is over (a welcome arrived): the next one starts from the first step.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x7469_636b_7769_7265);
    h.finish()
}

impl EndReason {
    /// Whether a session that ended this way may be resumed (PROTOCOL.md §1.3): the connection
    /// failed or closed without a reason, either side found the other silent, or the server
    /// found this client too slow.
    pub fn is_resumable(&self) -> bool {
        use tickwire_protocol::message::DisconnectReason;
        matches!(
            self,
            Self::ConnectionLost
                | Self::Closed
                | Self::Timeout
                | Self::Server(DisconnectReason::Timeout | DisconnectReason::TooSlow)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::message::{DisconnectReason, RejectReason};

    #[test]
    fn delays_grow_with_jitter_and_stop_at_the_limit() {
        let policy = ReconnectPolicy { seed: Some(7), ..ReconnectPolicy::default() };
        let mut b = Backoff::new(policy);
        let steps_ms = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000];
        for step in steps_ms {
            let d = b.next_delay().expect("attempts left");
            let step = Duration::from_millis(step);
            assert!(d >= step / 2 && d <= step, "{d:?} outside [{:?}, {step:?}]", step / 2);
        }
        assert_eq!(b.attempts(), 8);
        assert_eq!(b.next_delay(), None, "gives up after max_attempts");
        b.reset();
        assert!(b.next_delay().expect("reset") <= Duration::from_millis(250));
    }

    #[test]
    fn jitter_differs_between_clients() {
        let delays = |seed| {
            let mut b = Backoff::new(ReconnectPolicy { seed: Some(seed), ..Default::default() });
            (0..8).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(1), delays(1), "seeded: reproducible");
        assert_ne!(delays(1), delays(2), "different clients spread out");
    }

    #[test]
    fn disabled_never_retries() {
        assert_eq!(Backoff::new(ReconnectPolicy::disabled()).next_delay(), None);
    }

    #[test]
    fn only_drops_are_resumable() {
        for r in [
            EndReason::ConnectionLost,
            EndReason::Closed,
            EndReason::Timeout,
            EndReason::Server(DisconnectReason::Timeout),
            EndReason::Server(DisconnectReason::TooSlow),
        ] {
            assert!(r.is_resumable(), "{r}");
        }
        for r in [
            EndReason::Left,
            EndReason::Server(DisconnectReason::ServerShutdown),
            EndReason::Server(DisconnectReason::Replaced),
            EndReason::Server(DisconnectReason::RateLimited),
            EndReason::Server(DisconnectReason::ProtocolViolation),
            EndReason::Server(DisconnectReason::RoomClosed),
            EndReason::Server(DisconnectReason::ClientLeft),
            EndReason::Server(DisconnectReason::Kicked),
            EndReason::Rejected(RejectReason::ResumeFailed),
            EndReason::GaveUp { attempts: 3, last_error: "refused".into() },
        ] {
            assert!(!r.is_resumable(), "{r}");
        }
    }
}
