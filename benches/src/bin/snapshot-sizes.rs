//! `snapshot-sizes`: prints a markdown table of snapshot sizes for every codec scenario
//! (arena-1k and arena-10k at 0/25/100% moving), with and without linear prediction, next to
//! plain bincode. Times are criterion's job (`cargo bench -p tickwire-benches --bench codec`).
//!
//! ```sh
//! cargo run --release -p tickwire-benches --bin snapshot-sizes [-- TICKS]
//! ```
//!
//! `TICKS` (default 300) consecutive ticks are measured after a 90-tick warm-up.

use anyhow::Context;
use tickwire_benches::CODEC_SCENARIOS;
use tickwire_benches::sizes::{markdown, measure};

/// Ticks measured when no count is given.
const DEFAULT_TICKS: usize = 300;
/// Ticks run first: the NPCs' initial runs last up to 3 s.
const WARMUP_TICKS: u32 = 90;

fn main() -> anyhow::Result<()> {
    let ticks = match std::env::args().nth(1) {
        Some(arg) => arg.parse().with_context(|| format!("TICKS must be a count, not {arg:?}"))?,
        None => DEFAULT_TICKS,
    };
    let rows = CODEC_SCENARIOS
        .iter()
        .map(|&s| measure(s, WARMUP_TICKS, ticks).with_context(|| s.label()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    print!("{}", markdown(&rows));
    Ok(())
}
