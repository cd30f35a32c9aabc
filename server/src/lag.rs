//! The runtime's lag: how late the server's async runtime wakes a task that is ready.
//!
//! A probe task sleeps [`PROBE_EVERY`] at a time and records how much later than asked it
//! woke, in `tickwire_runtime_lag_seconds`. It waits in the same run queue as every session and
//! room, so its lag is the time a ready task waits for a worker: a millisecond or less on a
//! server with room to spare, tens of milliseconds when the workers are saturated. Then inputs
//! sit in their sockets past the tick they were for (the room repeats the player's last input
//! and their client corrects its prediction), and snapshots leave late. It is the figure to
//! watch before adding rooms to a server; Node's event-loop lag is the same measure.
//!
//! A lag of more than [`WARN_OVER`] is also logged (at most one warning a second, as the
//! server's other warnings).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

use crate::ServerCtx;

/// How long the probe sleeps between samples.
pub const PROBE_EVERY: Duration = Duration::from_millis(10);
/// A lag longer than this is logged (rate-limited with the metrics' other warnings).
pub const WARN_OVER: Duration = Duration::from_millis(100);

/// Samples the runtime's lag into the metrics until the server shuts down.
pub async fn probe(ctx: Arc<ServerCtx>) {
    loop {
        let asleep = Instant::now();
        tokio::select! {
            () = tokio::time::sleep(PROBE_EVERY) => {}
            () = ctx.shutdown.cancelled() => return,
        }
        let late = asleep.elapsed().saturating_sub(PROBE_EVERY);
        ctx.metrics.runtime_lag.observe(late.as_secs_f64());
        if late > WARN_OVER && ctx.metrics.warn_allowed(ctx.uptime_ms()) {
            warn!(
                lag_ms = late.as_millis() as u64,
                "the runtime woke a ready task late: its workers are saturated"
            );
        }
    }
}
