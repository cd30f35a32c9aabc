//! The directory's Prometheus metrics (`GET /metrics`): joins by outcome, Redis round trips by
//! operation and result, and the time a join takes.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

/// Every metric, registered once; cheap to update from any task.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `tickwire_directory_joins_total{outcome}`: `created`, `existing`, or an error's code.
    joins: Family<Labels, Counter>,
    /// `tickwire_directory_redis_calls_total{op,result}`: one per round trip to Redis.
    redis_calls: Family<Labels, Counter>,
    /// `tickwire_directory_join_duration_seconds`: a join, from parsed body to answer.
    join_duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers the metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tickwire_directory");
        let joins = Family::<Labels, Counter>::default();
        registry.register("joins", "Joins answered, by outcome", joins.clone());
        let redis_calls = Family::<Labels, Counter>::default();
        registry.register(
            "redis_calls",
            "Round trips to Redis, by operation and result",
            redis_calls.clone(),
        );
        // 50 µs .. ~1.6 s.
        let join_duration = Histogram::new(exponential_buckets(50e-6, 2.0, 16));
        registry.register(
            "join_duration_seconds",
            "Time to answer a join (Redis round trips and signing)",
            join_duration.clone(),
        );
        Self { registry, joins, redis_calls, join_duration }
    }

    /// Counts one join answered with `outcome`, which took `seconds`.
    pub fn join(&self, outcome: &'static str, seconds: f64) {
        self.joins.get_or_create(&vec![("outcome", outcome)]).inc();
        self.join_duration.observe(seconds);
    }

    /// Counts one Redis round trip.
    pub fn redis(&self, op: &'static str, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.redis_calls.get_or_create(&vec![("op", op), ("result", result)]).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // invariant: writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_label() {
        let m = Metrics::new();
        m.join("created", 0.001);
        m.redis("claim", true);
        let text = m.render();
        assert!(text.contains("tickwire_directory_joins_total{outcome=\"created\"} 1"), "{text}");
        assert!(
            text.contains("tickwire_directory_redis_calls_total{op=\"claim\",result=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("tickwire_directory_join_duration_seconds_count 1"), "{text}");
    }
}
