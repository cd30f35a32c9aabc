//! # tickwire-bots
//!
//! A load tester for Tickwire servers: many headless bots, each a full
//! [`tickwire_client`] client (it decodes every snapshot, predicts, answers pings and sends an
//! input every tick), driven from one process. A behaviour that reads remote entities as drawn
//! (the arena's fight) keeps a history to interpolate; the others keep only the newest
//! snapshot, as a replica that a delta updates without a pass over the whole world
//! ([`Players::history`]).
//!
//! - [`args`]: the command line ([`Args`]) and its validation; only loopback targets.
//! - [`players`]: what the bots play: a game and a behaviour ([`Players`]); every game has the
//!   schema-driven **random** and **idle** players ([`random`]), and a game compiled in may
//!   add its own as a plug-in ([`arena`]: wander, fight; [`kart`]: race).
//! - [`game`]: which game the bots play, asked of the server, with its rules.
//! - [`swarm`]: starting the bots over a ramp-up, collecting their samples, stopping them
//!   ([`Swarm`], [`Outcome`]).
//! - [`directory`]: the `--directory` mode: bots ask a fleet's directory where their room is,
//!   and ask again to rejoin when their server is gone ([`DirectoryTarget`]).
//! - [`collect`]: hdrhistogram latencies and counter sums.
//! - [`scrape`]: the server's `/metrics` tick-duration histogram.
//! - [`report`]: the final [`Report`], as a table and as JSON.
//! - [`slo`]: objectives (`--max-rtt-p99`, `--max-snapshot-gap`, `--max-errors`) and their
//!   evaluation; a breach makes the binary exit with [`slo::BREACH_EXIT_CODE`].
//! - [`progress`]: the live progress line.
//!
//! The binary is `main.rs`: parse flags, scrape `/metrics`, run the swarm with live progress,
//! scrape again, print the report, write the JSON, exit by the SLO verdict.

pub mod arena;
pub mod args;
pub mod collect;
pub mod directory;
pub mod game;
pub mod kart;
pub mod players;
pub mod progress;
pub mod random;
pub mod report;
pub mod scrape;
pub mod slo;
pub mod swarm;

pub use args::Args;
pub use directory::DirectoryTarget;
pub use players::Players;
pub use report::{Report, RssSample, ServerTicks};
pub use slo::{Breach, Thresholds};
pub use swarm::{Chaos, Live, Outcome, Swarm, SwarmConfig};

use std::time::Duration;

use scrape::PromHistogram;
use tickwire_client::TlsOptions;

/// The server's tick-duration histogram name.
pub const TICK_HISTOGRAM: &str = "tickwire_tick_duration_seconds";

/// Scrapes the tick-duration histogram at `metrics_url` (`None` when unreachable; `https://`
/// trusts what `tls` says).
pub async fn scrape_ticks(metrics_url: &str, tls: &TlsOptions) -> Option<PromHistogram> {
    let text = scrape::fetch(metrics_url, tls, Duration::from_secs(3)).await.ok()?;
    PromHistogram::parse(&text, TICK_HISTOGRAM)
}

/// The server's resident-memory gauge.
pub const RSS_GAUGE: &str = "tickwire_process_resident_memory_bytes";

/// Scrapes the server's resident memory in bytes at `metrics_url` (`None` when unreachable).
pub async fn scrape_rss(metrics_url: &str, tls: &TlsOptions) -> Option<f64> {
    let text = scrape::fetch(metrics_url, tls, Duration::from_secs(3)).await.ok()?;
    text.lines().find_map(|l| l.strip_prefix(RSS_GAUGE)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The tick duration between two scrapes.
pub fn server_ticks(
    before: Option<&PromHistogram>,
    after: Option<&PromHistogram>,
) -> Option<ServerTicks> {
    let after = after?;
    let window = match before {
        Some(b) => after.since(b),
        None => after.clone(),
    };
    let p99 = window.quantile(0.99)?;
    Some(ServerTicks { ticks: window.count as u64, p99_ms: p99 * 1e3 })
}
