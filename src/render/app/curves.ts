/** The learning-curve panel of the viewer: loads a run's metrics.jsonl and plots one metric. */
import { $, fmt } from './dom.js';
import { enc, fetchBounded } from './net.js';

/** Largest metrics.jsonl the page reads (a longer file is cut at a line end, with a note). */
const MAX_METRICS_BYTES = 64 * 1024 * 1024;

interface MetricRow {
  [key: string]: unknown;
}

export async function loadMetrics(run: string, hasMetrics: boolean, current: () => string): Promise<void> {
  const select = $<HTMLSelectElement>('metric');
  const svg = $('curve-svg');
  const note = $('curve-note');
  select.replaceChildren();
  svg.replaceChildren();
  note.textContent = '';
  if (!hasMetrics) {
    note.textContent = 'This run has no metrics.jsonl.';
    return;
  }
  const rows: MetricRow[] = [];
  let skipped = 0;
  let cutAt: number | null = null;
  try {
    const { bytes, truncated } = await fetchBounded(`api/runs/${enc(run)}/metrics`, MAX_METRICS_BYTES, 'metrics.jsonl', true);
    if (truncated) cutAt = MAX_METRICS_BYTES;
    const text = new TextDecoder().decode(bytes);
    // A cut file ends mid-line: drop the partial last line.
    for (const line of (truncated ? text.slice(0, text.lastIndexOf('\n') + 1) : text).split('\n')) {
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) rows.push(v as MetricRow);
        else skipped++;
      } catch {
        skipped++;
      }
    }
  } catch (err) {
    note.textContent = `Could not load metrics.jsonl: ${(err as Error).message}`;
    return;
  }
  if (current() !== run) return;
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] === 'number' && Number.isFinite(r[k]))))];
  const xField = fields.includes('step') ? 'step' : null;
  const yFields = fields.filter((f) => f !== xField);
  if (!yFields.length) {
    note.textContent = 'metrics.jsonl has no numeric fields.';
    return;
  }
  const preferred = ['eval_return', 'mean_return', 'return_mean', 'mean_return_100', 'episode_return', 'loss'];
  const initial = preferred.find((p) => yFields.includes(p)) ?? yFields[0]!;
  select.replaceChildren(
    ...yFields.map((f) => {
      const o = document.createElement('option');
      o.value = f;
      o.textContent = f;
      return o;
    }),
  );
  select.value = initial;
  const draw = (): void => plotCurve(rows, xField, select.value, skipped, cutAt);
  select.onchange = draw;
  draw();
}

function plotCurve(rows: MetricRow[], xField: string | null, yField: string, skipped: number, cutAt: number | null): void {
  const svg = $('curve-svg');
  const ns = 'http://www.w3.org/2000/svg';
  const pts: Array<[number, number]> = [];
  rows.forEach((r, i) => {
    const y = r[yField];
    const x = xField ? r[xField] : i;
    if (typeof y === 'number' && Number.isFinite(y) && typeof x === 'number' && Number.isFinite(x)) pts.push([x, y]);
  });
  svg.replaceChildren();
  $('curve-note').textContent = `${yField} vs ${xField ?? 'line'}: ${pts.length} points${skipped ? `, ${skipped} unreadable line${skipped === 1 ? '' : 's'} skipped` : ''}${cutAt ? `; only the first ${cutAt / (1024 * 1024)} MiB of metrics.jsonl read` : ''}`;
  if (!pts.length) return;
  const W = 640;
  const H = 220;
  const pad = { l: 56, r: 10, t: 10, b: 24 };
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  const sx = (x: number): number => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
  const sy = (y: number): number => H - pad.b - ((y - y0) / (y1 - y0 || 1)) * (H - pad.t - pad.b);
  const el = (name: string, attrs: Record<string, string>, text?: string): SVGElement => {
    const e = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  svg.append(
    el('line', { x1: String(pad.l), y1: String(H - pad.b), x2: String(W - pad.r), y2: String(H - pad.b), stroke: '#3a404b' }),
    el('line', { x1: String(pad.l), y1: String(pad.t), x2: String(pad.l), y2: String(H - pad.b), stroke: '#3a404b' }),
    el('text', { x: String(pad.l - 4), y: String(pad.t + 10), fill: '#9aa3b2', 'font-size': '11', 'text-anchor': 'end' }, fmt(y1)),
    el('text', { x: String(pad.l - 4), y: String(H - pad.b), fill: '#9aa3b2', 'font-size': '11', 'text-anchor': 'end' }, fmt(y0)),
    el('text', { x: String(pad.l), y: String(H - 6), fill: '#9aa3b2', 'font-size': '11' }, fmt(x0)),
    el('text', { x: String(W - pad.r), y: String(H - 6), fill: '#9aa3b2', 'font-size': '11', 'text-anchor': 'end' }, fmt(x1)),
    el('polyline', { points: pts.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' '), fill: 'none', stroke: '#8fd3ff', 'stroke-width': '1.5' }),
  );
}

