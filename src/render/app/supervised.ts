/**
 * The page of a supervised run (`npcforge fit` + `npcforge evaluate`): per-epoch loss and accuracy
 * (train and validation), the confusion matrix as a heat map (counts or row-normalised), per-class
 * precision / recall / F1, and the misclassified examples evaluation.json keeps (images drawn from
 * their inline pixels, texts quoted). The data comes checked from `/api/runs/<run>/supervised`.
 */
import type { EpochPoint, MisclassifiedView, SupervisedView } from '../supervised-view.js';
import { $, el, fmt } from './dom.js';
import { enc, getJson } from './net.js';

const SVG = 'http://www.w3.org/2000/svg';
const TRAIN_COLOUR = '#8fd3ff';
const VAL_COLOUR = '#f0b429';

/** What the page shows, for the test hook. */
export interface SupervisedStatus {
  run: string;
  classes: string[];
  /** The confusion matrix as drawn (the counts in the cells), or null without evaluation.json. */
  confusion: number[][] | null;
  mode: 'counts' | 'normalised';
  examples: number;
  problems: string[];
}

let status: SupervisedStatus | null = null;
let loadToken = 0;

export function supervisedStatus(): SupervisedStatus | null {
  return status;
}

function svgEl(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A small line chart of train and validation series over epochs, with axis titles and a legend. */
function epochChart(title: string, history: EpochPoint[], train: (p: EpochPoint) => number, val: (p: EpochPoint) => number | null): HTMLElement {
  const box = el('figure', 'sup-chart');
  box.append(el('figcaption', '', title));
  const W = 420;
  const H = 200;
  const pad = { l: 52, r: 10, t: 10, b: 36 };
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title }) as SVGSVGElement;
  const series: Array<{ name: string; colour: string; pts: Array<[number, number]> }> = [
    { name: 'train', colour: TRAIN_COLOUR, pts: history.map((p) => [p.epoch, train(p)]) },
    { name: 'validation', colour: VAL_COLOUR, pts: history.flatMap((p) => (val(p) === null ? [] : [[p.epoch, val(p)!] as [number, number]])) },
  ];
  const all = series.flatMap((s) => s.pts);
  if (all.length) {
    const x0 = Math.min(...all.map((p) => p[0]));
    const x1 = Math.max(...all.map((p) => p[0]));
    const y0 = Math.min(...all.map((p) => p[1]));
    const y1 = Math.max(...all.map((p) => p[1]));
    const sx = (x: number): number => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
    const sy = (y: number): number => H - pad.b - ((y - y0) / (y1 - y0 || 1)) * (H - pad.t - pad.b);
    const axis = { stroke: '#3a404b' };
    const label = { fill: '#9aa3b2', 'font-size': 11 };
    svg.append(
      svgEl('line', { x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b, ...axis }),
      svgEl('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b, ...axis }),
      svgEl('text', { x: pad.l - 4, y: pad.t + 10, 'text-anchor': 'end', ...label }, fmt(y1)),
      svgEl('text', { x: pad.l - 4, y: H - pad.b, 'text-anchor': 'end', ...label }, fmt(y0)),
      svgEl('text', { x: pad.l, y: H - pad.b + 14, ...label }, fmt(x0)),
      svgEl('text', { x: W - pad.r, y: H - pad.b + 14, 'text-anchor': 'end', ...label }, fmt(x1)),
      svgEl('text', { x: (pad.l + W - pad.r) / 2, y: H - 4, 'text-anchor': 'middle', ...label }, 'epoch'),
      svgEl('text', { x: 12, y: (pad.t + H - pad.b) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(pad.t + H - pad.b) / 2})`, ...label }, title),
    );
    for (const s of series) {
      if (!s.pts.length) continue;
      const line = svgEl('polyline', { points: s.pts.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' '), fill: 'none', stroke: s.colour, 'stroke-width': 1.5 });
      line.dataset.series = s.name;
      svg.append(line);
      // Single epochs show as dots (a one-point polyline draws nothing).
      for (const p of s.pts) svg.append(svgEl('circle', { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, fill: s.colour }));
    }
  }
  const legend = el('div', 'sup-legend');
  for (const s of series) {
    const item = el('span', 'sup-legend-item', `${s.name}${s.pts.length ? '' : ' (none)'}`);
    item.style.setProperty('--swatch', s.colour);
    legend.append(item);
  }
  box.append(svg, legend);
  return box;
}

/** The confusion matrix as a table: rows = true class, columns = predicted class, cells shaded by the row fraction. */
function confusionTable(classes: string[], confusion: number[][], mode: 'counts' | 'normalised'): HTMLTableElement {
  const table = document.createElement('table');
  table.id = 'confusion';
  const head = document.createElement('tr');
  const corner = el('th', 'corner', 'true \\ predicted');
  head.append(corner, ...classes.map((c) => el('th', 'pred', c)));
  table.append(head);
  confusion.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const tr = document.createElement('tr');
    tr.append(el('th', 'true', classes[t]!));
    row.forEach((n, p) => {
      const frac = total > 0 ? n / total : 0;
      const td = el('td', p === t ? 'cell diag' : 'cell', mode === 'counts' ? String(n) : `${(frac * 100).toFixed(1)}%`);
      td.dataset.count = String(n);
      td.dataset.fraction = frac.toFixed(6);
      // Shade by the row fraction in both modes: rows of different sizes compare fairly.
      td.style.background = `rgba(${p === t ? '91, 141, 239' : '230, 90, 90'}, ${(0.08 + 0.85 * frac).toFixed(3)})`;
      td.title = `true ${classes[t]}, predicted ${classes[p]}: ${n} of ${total} (${(frac * 100).toFixed(1)}%)`;
      tr.append(td);
    });
    table.append(tr);
  });
  return table;
}

function exampleCard(m: MisclassifiedView): HTMLElement {
  const card = el('figure', 'sup-example');
  if (m.image) {
    const { width, height, channels } = m.image;
    const raw = atob(m.image.pixels);
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const scale = Math.max(1, Math.floor(96 / Math.max(width, height)));
    canvas.style.width = `${width * scale}px`;
    canvas.style.height = `${height * scale}px`;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(width, height);
    for (let i = 0; i < width * height; i++) {
      for (let c = 0; c < 3; c++) img.data[i * 4 + c] = raw.charCodeAt(i * channels + (channels === 1 ? 0 : c));
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    card.append(canvas);
  }
  if (m.text !== null) card.append(el('blockquote', 'sup-text', m.text));
  const cap = el('figcaption', '');
  cap.append(el('span', 'sup-true', m.true), document.createTextNode(' predicted as '), el('span', 'sup-pred', m.predicted), document.createTextNode(m.confidence !== null ? ` (p = ${m.confidence.toFixed(2)})` : ''));
  if (m.file) cap.append(el('div', 'meta', m.file));
  card.append(cap);
  return card;
}

/** Loads and draws the page of supervised run `run` into #supervised. */
export async function showSupervised(run: string): Promise<void> {
  const token = ++loadToken;
  const root = $('supervised');
  status = null;
  root.replaceChildren(el('div', 'meta', `Loading ${run} ...`));
  let view: SupervisedView | { error: string };
  try {
    view = await getJson<SupervisedView | { error: string }>(`api/runs/${enc(run)}/supervised`);
  } catch (err) {
    view = { error: (err as Error).message };
  }
  if (token !== loadToken) return;
  if ('error' in view) {
    root.replaceChildren(el('div', 'sup-problem', `Could not read the supervised run "${run}": ${view.error}`));
    status = { run, classes: [], confusion: null, mode: 'counts', examples: 0, problems: [view.error] };
    return;
  }
  const v = view;
  const last = v.history[v.history.length - 1];
  const summary = el(
    'div',
    'sup-summary',
    `${v.task} classifier (${v.model}), ${v.classes.length} classes, ${v.history.length} epoch${v.history.length === 1 ? '' : 's'}` +
      `${v.bestEpoch ? `, best epoch ${v.bestEpoch}` : ''}${v.stoppedEarly ? ' (stopped early)' : ''}${v.complete === false ? ', still training or interrupted' : ''}` +
      `${v.trainSamples !== null ? `; ${v.trainSamples} training / ${v.validationSamples ?? 0} validation samples` : ''}` +
      `${last ? `; last epoch: loss ${last.loss.toFixed(4)}, accuracy ${(last.accuracy * 100).toFixed(1)}%` : ''}`,
  );
  const parts: HTMLElement[] = [el('h2', '', `Supervised run ${run}`), summary];
  for (const p of v.problems) parts.push(el('div', 'sup-problem', p));
  const charts = el('div', 'sup-charts');
  charts.append(
    epochChart('loss', v.history, (p) => p.loss, (p) => p.valLoss),
    epochChart('accuracy', v.history, (p) => p.accuracy, (p) => p.valAccuracy),
  );
  parts.push(el('h3', '', 'Per epoch'), charts);
  const ev = v.evaluation;
  status = { run, classes: v.classes, confusion: null, mode: 'counts', examples: 0, problems: v.problems };
  if (!ev) {
    parts.push(el('div', 'sup-note', `No evaluation yet: run \`npcforge evaluate <run>\` to score the test split (confusion matrix, per-class metrics and misclassified examples appear here).`));
    root.replaceChildren(...parts);
    return;
  }
  const heading = el('h3', '', `Test split: accuracy ${(ev.accuracy * 100).toFixed(2)}% on ${ev.samples} samples`);
  const modes = el('div', 'sup-modes');
  const matrixBox = el('div', 'sup-matrix');
  const draw = (mode: 'counts' | 'normalised'): void => {
    matrixBox.replaceChildren(el('div', 'axis-title', 'rows: true class; columns: predicted class'), confusionTable(v.classes, ev.confusion, mode));
    for (const b of modes.querySelectorAll('button')) b.classList.toggle('active', b.dataset.mode === mode);
    const cells = [...matrixBox.querySelectorAll<HTMLElement>('td.cell')].map((td) => Number(td.dataset.count));
    status = { run, classes: v.classes, confusion: v.classes.map((_, t) => cells.slice(t * v.classes.length, (t + 1) * v.classes.length)), mode, examples: ev.misclassified.length, problems: v.problems };
  };
  for (const [mode, label] of [['counts', 'counts'], ['normalised', 'row-normalised']] as const) {
    const b = el('button', '', label);
    b.dataset.mode = mode;
    b.addEventListener('click', () => draw(mode));
    modes.append(b);
  }
  const per = document.createElement('table');
  per.id = 'per-class';
  const hr = document.createElement('tr');
  hr.append(...['class', 'precision', 'recall', 'F1', 'support'].map((h) => el('th', '', h)));
  per.append(hr);
  for (const c of ev.perClass) {
    const tr = document.createElement('tr');
    tr.append(el('td', 'name', c.name), el('td', 'num', c.precision.toFixed(3)), el('td', 'num', c.recall.toFixed(3)), el('td', 'num', c.f1.toFixed(3)), el('td', 'num', String(c.support)));
    per.append(tr);
  }
  const examples = el('div', 'sup-examples');
  examples.id = 'misclassified';
  examples.append(...ev.misclassified.map(exampleCard));
  parts.push(
    heading,
    el('h3', '', 'Confusion matrix'),
    modes,
    matrixBox,
    el('h3', '', 'Per class'),
    per,
    el('h3', '', `Misclassified examples (${ev.misclassified.length}${ev.misclassified.length ? '' : ': none kept; evaluation.json from an older npcforge, or no mistakes'})`),
    examples,
  );
  root.replaceChildren(...parts);
  draw('counts');
}
