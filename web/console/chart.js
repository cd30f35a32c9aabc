// A small canvas chart of one room's tick time over time: p50 and p99 lines, a grid with the
// scale in milliseconds. No library: a few paths on a 2D context.

export const COLORS = { p50: '#3fb950', p99: '#f0883e', grid: '#30363d', text: '#8b949e', bg: '#0d1117' };

/** Draws `points` (`[{ p50_ms, p99_ms }]`, oldest first, at most `capacity`) on `canvas`. */
export function drawTickChart(canvas, points, capacity) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const pad = { left: 48, right: 8, top: 8, bottom: 8 };
  ctx.fillStyle = COLORS.bg;
  ctx.fillRect(0, 0, w, h);
  const max = niceMax(Math.max(0.05, ...points.map((p) => p.p99_ms)));
  const x = (i) => pad.left + ((w - pad.left - pad.right) * (capacity - points.length + i)) / Math.max(1, capacity - 1);
  const y = (ms) => h - pad.bottom - ((h - pad.top - pad.bottom) * ms) / max;
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const ms = (max * k) / 4;
    ctx.strokeStyle = COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(pad.left, Math.round(y(ms)) + 0.5);
    ctx.lineTo(w - pad.right, Math.round(y(ms)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = COLORS.text;
    ctx.fillText(`${ms.toFixed(ms < 1 ? 2 : 1)} ms`, 4, y(ms) + 4);
  }
  for (const [key, color] of [['p50_ms', COLORS.p50], ['p99_ms', COLORS.p99]]) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 3;
    ctx.beginPath();
    points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(i), y(p[key])) : ctx.lineTo(x(i), y(p[key]))));
    if (points.length === 1) ctx.lineTo(x(0) - 6, y(points[0][key]));
    ctx.stroke();
  }
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}
