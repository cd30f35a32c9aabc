//! Round-trip time estimation from ping/pong, with the server's clock only.
//!
//! The estimator is RFC 6298's: `srtt ← 7/8·srtt + 1/8·r`, `rttvar ← 3/4·rttvar + 1/4·|srtt − r|`,
//! the first sample initialising `srtt = r`, `rttvar = r/2`. Samples are the time between sending
//! a ping and receiving its pong, minus the time the client says it held the ping.

use std::time::Duration;

/// Smoothed RTT and its variation (jitter).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
}

impl RttEstimator {
    /// Adds one RTT sample.
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let dev = srtt.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + dev) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
    }

    /// The smoothed RTT, if any sample arrived.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The smoothed variation.
    pub fn jitter(&self) -> Duration {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_and_tracks_jitter() {
        let mut e = RttEstimator::default();
        assert_eq!(e.srtt(), None);
        e.sample(Duration::from_millis(100));
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.jitter(), Duration::from_millis(50));
        for _ in 0..100 {
            e.sample(Duration::from_millis(40));
        }
        let srtt = e.srtt().expect("sampled");
        assert!(srtt.abs_diff(Duration::from_millis(40)) < Duration::from_millis(1), "{srtt:?}");
        assert!(e.jitter() < Duration::from_millis(1));
        for i in 0..100 {
            e.sample(Duration::from_millis(if i % 2 == 0 { 20 } else { 60 }));
        }
        assert!(e.jitter() > Duration::from_millis(15), "{:?}", e.jitter());
    }
}
