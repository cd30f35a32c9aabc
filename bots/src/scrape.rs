//! The server's `/metrics`: fetching it (with the client library's HTTP GET, over TLS for
//! `https://` with the same trust as the bots' `wss://` connections) and reading a histogram
//! out of the Prometheus text format, to report the server's tick duration.
//!
//! The run's tick-duration p99 comes from the difference of two scrapes (one before the bots
//! connect, one before they leave), so it covers exactly the test window. The quantile is
//! interpolated linearly inside the bucket it falls in, the way PromQL's `histogram_quantile`
//! does; with the server's doubling buckets the answer is within a factor of two by
//! construction, so it is a coarse number.

use std::time::Duration;

use tickwire_client::TlsOptions;

/// Fetches `url` (`http://` or `https://host:port/path`, trusting what `tls` says) within
/// `timeout` and returns the body (the client library's [`tickwire_client::http::get`]).
pub async fn fetch(url: &str, tls: &TlsOptions, timeout: Duration) -> anyhow::Result<String> {
    Ok(tickwire_client::http::get(url, tls, timeout).await?)
}

/// A cumulative histogram: `(upper bound, observations ≤ bound)`, ascending, last `+Inf`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromHistogram {
    /// Cumulative buckets.
    pub buckets: Vec<(f64, f64)>,
    /// Total observations.
    pub count: f64,
}

impl PromHistogram {
    /// Reads histogram `name` from Prometheus text, summing every label set (all rooms).
    pub fn parse(text: &str, name: &str) -> Option<PromHistogram> {
        let bucket = format!("{name}_bucket");
        let count_name = format!("{name}_count");
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        let mut count = None::<f64>;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = match line.rsplit_once(' ') {
                Some((s, v)) => (s.trim(), v.trim()),
                None => continue,
            };
            let Ok(value) = value.parse::<f64>() else { continue };
            let metric = series.split('{').next().unwrap_or(series);
            if metric == bucket {
                let Some(le) = label(series, "le").and_then(parse_bound) else { continue };
                match buckets.iter_mut().find(|(b, _)| *b == le) {
                    Some((_, c)) => *c += value,
                    None => buckets.push((le, value)),
                }
            } else if metric == count_name {
                *count.get_or_insert(0.0) += value;
            }
        }
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let count = count.or_else(|| buckets.last().map(|b| b.1))?;
        Some(PromHistogram { buckets, count })
    }

    /// Observations made after `earlier` (same buckets).
    pub fn since(&self, earlier: &PromHistogram) -> PromHistogram {
        let buckets = self
            .buckets
            .iter()
            .map(|&(le, c)| {
                let before = earlier.buckets.iter().find(|b| b.0 == le).map_or(0.0, |b| b.1);
                (le, (c - before).max(0.0))
            })
            .collect();
        PromHistogram { buckets, count: (self.count - earlier.count).max(0.0) }
    }

    /// The value at quantile `q`, interpolated inside its bucket; `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * self.count;
        let mut prev = (0.0, 0.0);
        for &(le, cum) in &self.buckets {
            if cum >= rank && cum > prev.1 {
                if le.is_infinite() {
                    return Some(prev.0); // beyond the last finite bound: say that bound
                }
                let frac = (rank - prev.1) / (cum - prev.1);
                return Some(prev.0 + (le - prev.0) * frac);
            }
            prev = (le, cum);
        }
        Some(prev.0)
    }
}

/// The value of label `key` in `series` (`name{a="1",le="0.5"}`).
fn label<'a>(series: &'a str, key: &str) -> Option<&'a str> {
    let labels = series.split_once('{')?.1.strip_suffix('}')?;
    labels.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

fn parse_bound(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP tickwire_tick_duration_seconds Duration of one room tick.
# TYPE tickwire_tick_duration_seconds histogram
tickwire_tick_duration_seconds_sum 1.5
tickwire_tick_duration_seconds_count 100
tickwire_tick_duration_seconds_bucket{le="0.001"} 50
tickwire_tick_duration_seconds_bucket{le="0.002"} 90
tickwire_tick_duration_seconds_bucket{le="0.004"} 100
tickwire_tick_duration_seconds_bucket{le="+Inf"} 100
tickwire_other_bucket{le="1"} 7
"#;

    #[test]
    fn parses_and_interpolates() {
        let h = PromHistogram::parse(TEXT, "tickwire_tick_duration_seconds").expect("present");
        assert_eq!(h.count, 100.0);
        assert_eq!(h.buckets.len(), 4);
        assert!((h.quantile(0.5).expect("q") - 0.001).abs() < 1e-12);
        // p99: rank 99 lies in (0.002, 0.004], 9 of its 10 observations in.
        assert!((h.quantile(0.99).expect("q") - 0.0038).abs() < 1e-9);
        assert_eq!(PromHistogram::parse(TEXT, "missing"), None);
    }

    #[test]
    fn differences_cover_the_window_and_labels_are_summed() {
        let before = PromHistogram::parse(TEXT, "tickwire_tick_duration_seconds").expect("present");
        let after_text = r#"
t_bucket{room="a",le="0.001"} 60
t_bucket{room="b",le="0.001"} 40
t_bucket{room="a",le="0.002"} 100
t_bucket{room="b",le="0.002"} 90
t_bucket{room="a",le="0.004"} 100
t_bucket{room="b",le="0.004"} 100
t_bucket{room="a",le="+Inf"} 100
t_bucket{room="b",le="+Inf"} 110
t_count{room="a"} 100
t_count{room="b"} 110
"#;
        let after = PromHistogram::parse(after_text, "t").expect("present");
        assert_eq!(after.count, 210.0);
        let window = after.since(&before);
        assert_eq!(window.count, 110.0);
        // 10 observations above the last finite bound: the p99 says that bound.
        assert_eq!(window.quantile(0.99), Some(0.004));
        assert_eq!(PromHistogram { buckets: vec![], count: 0.0 }.quantile(0.5), None);
    }
}
