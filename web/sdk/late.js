// The input margin a client adds after its inputs arrive late (the Rust client's
// `client::late::LateMargin`, with the same constants).
//
// The margin the clock gives (arrival jitter and RTT variation) follows the link's average and
// misses bursts: a server busy for a moment, a link that stalls. Inputs sent then arrive after
// their tick was simulated; the server repeats the previous input and the prediction is
// corrected. The snapshots say so: a snapshot of a tick this client sent an input for, whose
// `last_input` is older, means that input was late. Each late input adds STEP_TICKS to the
// margin (at most `maxLateMarginTicks`, MAX_TICKS by default; 0 turns it off), and the margin
// decays by DECAY_TICKS_PER_SEC, so input latency is traded for fewer corrections only while
// inputs actually come late.

/** Ticks added to the margin per late input. */
export const STEP_TICKS = 1;
/** The most this margin adds by default, in ticks (`maxLateMarginTicks`). */
export const MAX_TICKS = 4;
/** How fast the margin falls back while no input is late, in ticks per second. */
export const DECAY_TICKS_PER_SEC = 0.5;

/** Input margin earned by late inputs. Times are milliseconds on any fixed clock. */
export class LateMargin {
  #ticks = 0;
  #at = 0;

  /** The margin at `nowMs`, in ticks. */
  ticks(nowMs) {
    const elapsed = Math.max(0, nowMs - this.#at) / 1000;
    return Math.max(0, this.#ticks - elapsed * DECAY_TICKS_PER_SEC);
  }

  /** An input was late: the margin grows by STEP_TICKS, up to `max` ticks. */
  late(nowMs, max) {
    this.#ticks = Math.min(this.ticks(nowMs) + STEP_TICKS, Math.max(0, max));
    this.#at = nowMs;
  }
}
