// Client forensics: per tick, the input this client sent, what it predicted for its own
// entity and what the server said it was, one JSON object a line (JSONL), the same lines the
// Rust client writes (client/src/forensics.rs; the format is docs/client-forensics.md).
// `tickwire-replay align LOG RECORDING` lines such a log up with the server's recording of the
// room and names the first misprediction and its cause.
//
// Opt-in: TickwireClient's (or Session's) `forensics` option is a function that receives each
// line as a string. A header line at every welcome says who the client is from then on; the
// predictor hands over each tick it resolves (predict.js's `onResolved`). States are whatever
// the page's prediction hooks read and step (`{ x, y, alive }` for the arena): the shape
// `Predict::state_json` gives in Rust, so logs from both clients read alike.
// `forensicsCollector()` keeps the lines in memory (bounded) and makes a downloadable Blob.

/** The format's version, in every header line. */
export const FORMAT_VERSION = 1;
/** Most lines a collector keeps by default (the oldest are dropped and counted). */
export const DEFAULT_MAX_LINES = 200_000;

/** The header line of a welcome (game, schema hash, room, client id, entity, tick rate). */
export function headerLine(schema, welcome) {
  return JSON.stringify({
    forensics: FORMAT_VERSION,
    game: schema.game,
    schema_hash: schema.hashHex,
    room: welcome.room,
    client: welcome.client_id,
    entity: welcome.entity,
    tick_rate: welcome.tick_rate,
    resumed: welcome.resumed,
  });
}

/** The line of one resolved tick (predict.js's `onResolved` record). */
export function tickLine(schema, r) {
  const payload = r.input === null ? null : schema.input.encode(r.input);
  return JSON.stringify({
    tick: r.tick,
    sent: r.sent,
    input: r.input,
    payload: payload === null ? null : hex(payload),
    predicted: r.predicted ?? null,
    base: r.predicted === null ? null : r.base ?? null,
    server: r.server ?? null,
  });
}

/** Lowercase hex of bytes. */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Collects lines in memory: `log` is the `forensics` option; `text()` the log, `blob()` it as
 * a Blob (`application/x-ndjson`), `download(name)` saves it from a page.
 * @param {number} [maxLines] most lines kept (the oldest are dropped, counted in `dropped`)
 */
export function forensicsCollector(maxLines = DEFAULT_MAX_LINES) {
  const lines = [];
  const collector = {
    lines,
    dropped: 0,
    log: (line) => {
      if (lines.length === maxLines) {
        lines.shift();
        collector.dropped++;
      }
      lines.push(line);
    },
    text: () => (lines.length ? `${lines.join('\n')}\n` : ''),
    blob: () => new Blob([collector.text()], { type: 'application/x-ndjson' }),
    download: (name = 'tickwire-forensics.jsonl', doc = globalThis.document) => {
      const url = URL.createObjectURL(collector.blob());
      const a = doc.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 0);
    },
  };
  return collector;
}
