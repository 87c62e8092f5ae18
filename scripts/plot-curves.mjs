// `node scripts/plot-curves.mjs --out curve.png [--metric eval_return] [--x step] [--title T]
//   [--every N] [--ref "label=value"]... <label>=<run folder or metrics.jsonl>[,<another>...] ...`
// Draws one learning curve per label from metrics.jsonl files (only the rows where the metric was
// measured) into a PNG (SVG rendered by sharp), with axes, ticks, a legend and optional
// horizontal reference lines (e.g. a paper's score). A label with several runs (seeds, comma-
// separated) is drawn as their mean with a min-max band over the x values all of them logged.
// `--every N` keeps only rows whose x is a multiple of N (e.g. the evaluation interval, for a
// metric carried forward between measurements). Used for docs/results.md.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const W = 800;
const H = 450;
const PAD = { left: 70, right: 20, top: 40, bottom: 55 };

/** Reads `metric` against `x` from a run folder or a metrics.jsonl; rows without the metric are skipped. */
export function readCurve(source, metric, x = 'step') {
  const file = statSync(source).isDirectory() ? join(source, 'metrics.jsonl') : source;
  // The same limits as the trainer's own reader (src/train/runner.ts MAX_METRICS_BYTES): a regular file of at most 512 MiB.
  const st = statSync(file);
  if (!st.isFile() || st.size > 512 * 1024 * 1024) throw new Error(`plot-curves: expected a regular metrics.jsonl of at most 512 MiB, received ${JSON.stringify(file)} (${st.isFile() ? `${st.size} bytes` : 'not a regular file'})`);
  const points = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let row;
    try {
      row = JSON.parse(line);
    } catch {
      continue; // a torn last line of a running training
    }
    const vx = row[x];
    const vy = row[metric];
    if (typeof vx === 'number' && typeof vy === 'number' && Number.isFinite(vx) && Number.isFinite(vy)) points.push([vx, vy]);
  }
  return points;
}

/**
 * Several runs' curves as one: the mean and the min-max band at the x values every run has
 * (runs of one setting log at the same steps); `n` is the number of runs.
 */
export function meanBand(curves) {
  if (curves.length === 1) return { points: curves[0], band: null, n: 1 };
  const maps = curves.map((c) => new Map(c));
  const xs = curves[0].map((p) => p[0]).filter((x) => maps.every((m) => m.has(x)));
  const points = [];
  const band = [];
  for (const x of xs) {
    const v = maps.map((m) => m.get(x));
    points.push([x, v.reduce((a, b) => a + b, 0) / v.length]);
    band.push([x, Math.min(...v), Math.max(...v)]);
  }
  return { points, band, n: curves.length };
}

/** A round tick step for a span, giving about `n` ticks. */
function tickStep(span, n) {
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
}

const fmt = (v) => (Math.abs(v) >= 1e6 ? `${+(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(2)}`);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The chart as SVG text: `series` [{label, points}], `refs` [{label, value}]. */
export function curveSvg({ series, refs = [], title = '', xLabel = 'step', yLabel = 'value' }) {
  const all = series.flatMap((s) => [...s.points, ...(s.band ?? []).flatMap((b) => [[b[0], b[1]], [b[0], b[2]]])]);
  if (all.length === 0) throw new Error('plot-curves: no points to draw (is the metric written in these runs?)');
  const xs = all.map((p) => p[0]);
  const ys = [...all.map((p) => p[1]), ...refs.map((r) => r.value)];
  const [x0, x1] = [Math.min(0, ...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const yPad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - yPad, y1 + yPad];
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const sx = (v) => PAD.left + ((v - x0) / (x1 - x0 || 1)) * pw;
  const sy = (v) => PAD.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  const xt = tickStep(x1 - x0 || 1, 8);
  for (let v = Math.ceil(x0 / xt) * xt; v <= x1 + 1e-9; v += xt) out.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${PAD.top}" y2="${PAD.top + ph}" stroke="#eee"/><text x="${sx(v)}" y="${PAD.top + ph + 16}" text-anchor="middle">${fmt(v)}</text>`);
  const yt = tickStep(y1 - y0, 6);
  for (let v = Math.ceil(y0 / yt) * yt; v <= y1 + 1e-9; v += yt) out.push(`<line x1="${PAD.left}" x2="${PAD.left + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/><text x="${PAD.left - 6}" y="${sy(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  out.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${PAD.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${PAD.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  refs.forEach((r) => out.push(`<line x1="${PAD.left}" x2="${PAD.left + pw}" y1="${sy(r.value)}" y2="${sy(r.value)}" stroke="#666" stroke-dasharray="6 4"/><text x="${PAD.left + pw - 4}" y="${sy(r.value) - 4}" text-anchor="end" fill="#444">${esc(r.label)}</text>`));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.band && s.band.length) {
      const upper = s.band.map((b, j) => `${j ? 'L' : 'M'}${sx(b[0]).toFixed(1)} ${sy(b[2]).toFixed(1)}`).join(' ');
      const lower = [...s.band].reverse().map((b) => `L${sx(b[0]).toFixed(1)} ${sy(b[1]).toFixed(1)}`).join(' ');
      out.push(`<path class="band" d="${upper} ${lower} Z" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    }
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    out.push(`<rect x="${PAD.left + 10}" y="${PAD.top + 8 + i * 18}" width="14" height="3" fill="${color}"/><text x="${PAD.left + 30}" y="${PAD.top + 13 + i * 18}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function parseArgs(argv) {
  const o = { metric: 'eval_return', x: 'step', title: '', refs: [], runs: [], out: null, every: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`plot-curves: ${a} needs a value`);
      return argv[++i];
    };
    if (a === '--out') o.out = next();
    else if (a === '--metric') o.metric = next();
    else if (a === '--x') o.x = next();
    else if (a === '--title') o.title = next();
    else if (a === '--every') {
      o.every = Number(next());
      if (!Number.isFinite(o.every) || o.every <= 0) throw new Error('plot-curves: --every wants a positive number');
    }
    else if (a === '--ref') {
      const [label, value] = next().split('=');
      if (!label || !Number.isFinite(Number(value))) throw new Error('plot-curves: --ref wants "label=number"');
      o.refs.push({ label, value: Number(value) });
    } else if (a === '--help') o.help = true;
    else {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new Error(`plot-curves: expected <label>=<run folder or metrics.jsonl>, received ${JSON.stringify(a)}`);
      o.runs.push({ label: a.slice(0, eq), sources: a.slice(eq + 1).split(',').filter(Boolean) });
    }
  }
  return o;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    const o = parseArgs(process.argv.slice(2));
    if (o.help || !o.out || o.runs.length === 0) {
      process.stdout.write('usage: node scripts/plot-curves.mjs --out curve.png [--metric eval_return] [--x step] [--title T] [--every N] [--ref "label=value"]... <label>=<run folder or metrics.jsonl>[,<more runs: mean and min-max band>]...\n');
      process.exit(o.help ? 0 : 2);
    }
    const series = o.runs.map((r) => {
      const curves = r.sources.map((src) => readCurve(src, o.metric, o.x).filter((p) => !o.every || p[0] % o.every === 0));
      const m = meanBand(curves);
      return { label: m.n > 1 ? `${r.label} (mean of ${m.n}, min-max band)` : r.label, points: m.points, band: m.band };
    });
    const svg = curveSvg({ series, refs: o.refs, title: o.title, xLabel: o.x === 'step' ? 'frames (env steps)' : o.x, yLabel: o.metric });
    const { default: sharp } = await import('sharp');
    if (o.out.endsWith('.svg')) writeFileSync(o.out, svg);
    else await sharp(Buffer.from(svg)).png().toFile(o.out);
    process.stdout.write(`plot-curves: wrote ${o.out} (${series.map((s) => `${s.label}: ${s.points.length} points`).join(', ')})\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
