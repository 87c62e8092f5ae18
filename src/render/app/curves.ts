/**
 * The learning-curve panel of the viewer: one metric of one or several runs, TensorBoard-style
 * smoothing (raw values drawn faintly), and across two or more runs their mean and min-max band
 * (see `aggregate` for how different step grids combine), with axis titles, a hover read-out and a
 * legend. metrics.jsonl is read as a stream and parsed in slices that yield to the page, so a file
 * of a million lines never blocks it; live runs are re-read from the last byte read (`?from=`),
 * the half-written last line kept for the next read. Deep link: `#compare/<metric>/<run,run,...>`.
 */
import { $, el, fmt } from './dom.js';
import { enc } from './net.js';
import { MetricsParser } from './metrics-parse.js';
import { aggregate, downsampleMinMax, finitePoints, nearestIndex, type Series } from './curve-math.js';

/** What the panel knows of a run from `/api/runs`. */
export interface CurveRunInfo {
  name: string;
  metrics: boolean;
  game?: string;
  agent?: string;
  seed?: number;
  status?: 'running' | 'finished' | 'interrupted';
}

/** Bytes of metrics.jsonl read at most per run (memory is bounded by the parser's cells, time by this). */
const MAX_METRICS_BYTES = 1024 * 1024 * 1024;
/** Parsing gives the page back after this long (ms), so no task blocks input for long. */
const SLICE_MS = 8;
/** Bytes parsed between clock checks. */
const SLICE_BYTES = 64 * 1024;
/** While a file loads, the chart is redrawn at most this often (ms). */
const LOADING_REDRAW_MS = 250;
/** Runs not plotted whose parsed metrics are kept (the oldest beyond are dropped). */
const KEEP_IDLE_RUNS = 4;
/** Runs drawn at once (one colour each). */
export const MAX_COMPARED = 16;
const COLORS = ['#8fd3ff', '#f0b429', '#7bd88f', '#ff7a90', '#c792ea', '#ffcb6b', '#5ccfe6', '#f78c6c', '#a3be8c', '#d08770', '#b48ead', '#88c0d0', '#ebcb8b', '#bf616a', '#81a1c1', '#e5c07b'];
const PREFERRED = ['eval_return', 'mean_return', 'return_mean', 'mean_return_100', 'episode_return', 'valAccuracy', 'loss'];
const W = 720;
const H = 260;
const PAD = { l: 64, r: 12, t: 10, b: 40 };
const SVG_NS = 'http://www.w3.org/2000/svg';

const sleep0 = (): Promise<void> => new Promise((ok) => setTimeout(ok, 0));

/** One run's metrics.jsonl as read so far (exported for its unit test). */
export class RunMetrics {
  parser = new MetricsParser();
  /** Bytes of the file consumed (the next read starts here). */
  offset = 0;
  /** The file's identity at the last read: another one means it was replaced (a resume rewrites it). */
  fileId: string | null = null;
  loading: Promise<void> | null = null;
  error: string | null = null;
  missing = false;
  cut = false;
  /** Bumped whenever rows are added (series caches key on it). */
  version = 0;
  private cache = new Map<string, { version: number; rows: number; x: Float64Array; y: Float64Array; n: number }>();

  constructor(readonly name: string) {}

  reset(): void {
    this.parser = new MetricsParser();
    this.offset = 0;
    this.fileId = null;
    this.cut = false;
    this.version++;
    this.cache.clear();
    this.smoothCache.clear();
  }

  /** Per metric: the EMA state after the first n points (dropped whenever the series is rebuilt rather than appended to). */
  private smoothCache = new Map<string, { w: number; n: number; last: number; debias: number; out: Float64Array }>();

  /**
   * TensorBoard smoothing of the metric's points (as emaSmooth), extended over the appended points
   * only while the series just grew; recomputed after a rebuild or for another weight.
   */
  smoothed(metric: string, s: Series, w: number): Float64Array {
    let c = this.smoothCache.get(metric);
    const n = s.y.length;
    if (!c || c.w !== w || n < c.n) {
      c = { w, n: 0, last: 0, debias: 1, out: new Float64Array(Math.max(1024, n)) };
      this.smoothCache.set(metric, c);
    }
    if (c.out.length < n) {
      const out = new Float64Array(Math.max(n, c.out.length * 2));
      out.set(c.out.subarray(0, c.n));
      c.out = out;
    }
    if (!(w > 0)) c.out.set(s.y.subarray(c.n), c.n);
    else {
      for (let i = c.n; i < n; i++) {
        c.last = c.last * w + (1 - w) * s.y[i]!;
        c.debias *= w;
        c.out[i] = c.last / (1 - c.debias);
      }
    }
    c.n = n;
    return c.out.subarray(0, n);
  }

  /**
   * The metric's finite points. While the file only grows in x (the usual case) the rows added
   * since the last call are appended, so redrawing a growing million-line file costs only the new
   * lines here; otherwise the whole column is sorted again.
   */
  series(metric: string): Series | null {
    const col = this.parser.column(metric);
    if (!col) return null;
    let c = this.cache.get(metric);
    if (c && c.version === this.version) return { x: c.x.subarray(0, c.n), y: c.y.subarray(0, c.n) };
    if (!c || !this.parser.monotonic || c.rows > col.x.length) {
      const s = finitePoints(col.x, col.y, this.parser.monotonic);
      c = { version: this.version, rows: col.x.length, x: s.x, y: s.y, n: s.x.length };
      // Rebuilt, not appended to: its smoothing starts over.
      this.smoothCache.delete(metric);
    } else {
      let add = 0;
      for (let i = c.rows; i < col.x.length; i++) if (Number.isFinite(col.y[i]!)) add++;
      if (c.n + add > c.x.length) {
        const cap = Math.max(c.n + add, c.x.length * 2, 1024);
        const x = new Float64Array(cap);
        const y = new Float64Array(cap);
        x.set(c.x.subarray(0, c.n));
        y.set(c.y.subarray(0, c.n));
        c.x = x;
        c.y = y;
      }
      for (let i = c.rows; i < col.x.length; i++) {
        const v = col.y[i]!;
        if (!Number.isFinite(v)) continue;
        c.x[c.n] = col.x[i]!;
        c.y[c.n++] = v;
      }
      c.rows = col.x.length;
      c.version = this.version;
    }
    this.cache.set(metric, c);
    return { x: c.x.subarray(0, c.n), y: c.y.subarray(0, c.n) };
  }
}

/** One run as shown by the `curves()` test hook. */
export interface CurveRunStatus {
  name: string;
  /** Rows parsed, and finite points of the shown metric. */
  rows: number;
  points: number;
  lastStep: number | null;
  /** Last raw value of the shown metric. */
  lastValue: number | null;
  /** Values of the shown metric that were not numbers (strings, objects, NaN/Infinity text), and nulls. */
  nonNumeric: number;
  nulls: number;
  /** Lines that were not JSON objects, half-written ones included once the run ended. */
  badLines: number;
  bytes: number;
  /** Bytes of the parsed columns kept in memory. */
  columnBytes: number;
  loading: boolean;
  status: string | null;
}

/** What the `curves()` hook returns. */
export interface CurvesStatus {
  metric: string | null;
  xField: string;
  smoothing: number;
  runs: CurveRunStatus[];
  /** Run names in the legend, in order. */
  legend: string[];
  /** Whether the mean line and min-max band are drawn (two or more runs with points). */
  band: boolean;
  /** SVG points drawn (all curves), and the number of redraws. */
  drawnPoints: number;
  draws: number;
  /** ms from the start of the newest load to the first draw with points (null before). */
  firstCurveMs: number | null;
  /** Longest redraw (ms). */
  maxDrawMs: number;
  /** performance.now() when the newest load started (the benchmark splits long tasks at it). */
  loadStartMs: number;
  /** Runs whose parsed metrics are in memory (plotted ones and up to KEEP_IDLE_RUNS others). */
  keptRuns: number;
}

export class CurvePanel {
  private readonly runs = new Map<string, RunMetrics>();
  private info = new Map<string, CurveRunInfo>();
  /** Runs ticked for comparison; with none, the focused run is shown. */
  readonly checked = new Set<string>();
  private focus: string | null = null;
  private metric: string | null = null;
  private smoothing = 0.6;
  private drawPending = false;
  private lastDraw = 0;
  private stats = { drawnPoints: 0, draws: 0, band: false, legend: [] as string[] };
  private loadStart = 0;
  /** Longest redraw so far (ms): the benchmark's view of what a draw costs. */
  private maxDrawMs = 0;
  private lastDrawMs = 0;
  private firstCurveMs: number | null = null;
  /** What was drawn last (hover reads it). */
  private drawn: { runs: Array<{ name: string; color: string; s: Series; smooth: Float64Array }>; sx: (x: number) => number; ix: (px: number) => number } | null = null;

  constructor(private readonly onChange: () => void) {
    const slider = $<HTMLInputElement>('smoothing');
    slider.value = String(this.smoothing);
    slider.addEventListener('input', () => {
      this.smoothing = Math.min(0.999, Math.max(0, Number(slider.value) || 0));
      this.scheduleDraw(true);
    });
    $<HTMLSelectElement>('metric').addEventListener('change', () => {
      this.metric = $<HTMLSelectElement>('metric').value;
      // At once, not on the next frame: the chart answers the pick before anything reads it.
      this.drawNow();
      this.onChange();
    });
    const svg = $('curve-svg');
    svg.addEventListener('mousemove', (e) => this.hover(e as MouseEvent));
    svg.addEventListener('mouseleave', () => this.hover(null));
  }

  /** The runs plotted: the ticked ones, else the focused run. */
  shown(): string[] {
    const list = this.checked.size ? [...this.checked] : this.focus ? [this.focus] : [];
    return list.slice(0, MAX_COMPARED);
  }

  get currentMetric(): string | null {
    return this.metric;
  }

  /** Updates what the panel knows of the runs (a new listing). */
  setRunInfo(runs: readonly CurveRunInfo[]): void {
    this.info = new Map(runs.map((r) => [r.name, r]));
  }

  /** The run picked in the list (shown when none is ticked). */
  setFocus(run: string | null): void {
    this.focus = run;
    this.update();
  }

  /** Ticks or unticks a run for comparison. */
  toggle(run: string, on: boolean): void {
    if (on) this.checked.add(run);
    else this.checked.delete(run);
    this.update();
  }

  /** Shows exactly these runs (and this metric, when given). */
  compare(runs: readonly string[], metric?: string): void {
    this.checked.clear();
    for (const r of runs.slice(0, MAX_COMPARED)) this.checked.add(r);
    if (metric) this.metric = metric;
    this.update();
  }

  private update(): void {
    this.loadStart = performance.now();
    this.firstCurveMs = null;
    this.evict();
    for (const r of this.shown()) void this.load(r);
    this.scheduleDraw(true);
    this.onChange();
  }

  /** Runs no longer plotted give their columns back (the newest few are kept for switching back); a run still loading goes once it is done. */
  private evict(): void {
    const shown = this.shown();
    const idle = [...this.runs.keys()].filter((n) => !shown.includes(n));
    for (const n of idle.slice(0, Math.max(0, idle.length - KEEP_IDLE_RUNS))) if (!this.runs.get(n)!.loading) this.runs.delete(n);
  }

  /** Reads what was appended to the shown runs' metrics since the last read (the live refresh). */
  async refresh(): Promise<void> {
    await Promise.all(this.shown().map((r) => this.load(r)));
  }

  /** Reads run `name`'s metrics.jsonl from the last offset; concurrent calls share one read. */
  load(name: string): Promise<void> {
    let m = this.runs.get(name);
    if (!m) {
      m = new RunMetrics(name);
      this.runs.set(name, m);
    }
    if (m.loading) return m.loading;
    const run = m;
    run.loading = this.read(run)
      .catch((err: unknown) => {
        run.error = (err as Error).message;
      })
      .finally(() => {
        run.loading = null;
        this.evict();
        this.scheduleDraw(true);
      });
    return run.loading;
  }

  private async read(m: RunMetrics, again = true): Promise<void> {
    if (m.cut) return;
    const info = this.info.get(m.name);
    if (info && !info.metrics) {
      m.missing = true;
      return;
    }
    const abort = new AbortController();
    const r = await fetch(`api/runs/${enc(m.name)}/metrics?from=${m.offset}`, { signal: abort.signal });
    m.error = null;
    if (r.status === 404) {
      m.missing = true;
      return;
    }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    m.missing = false;
    const id = r.headers.get('x-npcforge-file-id');
    const size = Number(r.headers.get('x-npcforge-file-size'));
    // Replaced or shrunk (a resume rewrites metrics.jsonl up to its checkpoint): read it again from the start.
    if ((m.fileId !== null && id !== m.fileId) || size < m.offset) {
      abort.abort();
      m.reset();
      if (again) return this.read(m, false);
      return;
    }
    m.fileId = id;
    const reader = r.body!.getReader();
    let sliceStart = performance.now();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let o = 0; o < value.length; o += SLICE_BYTES) {
        let part = value.subarray(o, Math.min(value.length, o + SLICE_BYTES));
        if (m.offset + part.length > MAX_METRICS_BYTES) {
          part = part.subarray(0, MAX_METRICS_BYTES - m.offset);
          m.cut = true;
        }
        if (m.parser.push(part) > 0) m.version++;
        m.offset += part.length;
        if (m.cut) break;
        if (performance.now() - sliceStart > SLICE_MS) {
          this.scheduleDraw(false);
          await sleep0();
          sliceStart = performance.now();
        }
      }
      if (m.cut) {
        abort.abort();
        break;
      }
    }
    this.finishIfEnded(m);
  }

  /** A run that is not running any more has written its last line: parse it even without a newline. */
  private finishIfEnded(m: RunMetrics): void {
    if (this.info.get(m.name)?.status === 'running') return;
    if (m.parser.end() > 0) m.version++;
  }

  /** Redraws on the next frame; while loading (`urgent` false) at most every LOADING_REDRAW_MS. */
  private scheduleDraw(urgent: boolean): void {
    if (this.drawPending) return;
    // While loading, drawing takes at most ~10% of the main thread however long a draw of the file gets.
    if (!urgent && performance.now() - this.lastDraw < Math.max(LOADING_REDRAW_MS, 10 * this.lastDrawMs)) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.drawNow();
    });
  }

  private drawNow(): void {
    this.lastDraw = performance.now();
    this.draw();
    this.lastDrawMs = performance.now() - this.lastDraw;
    this.maxDrawMs = Math.max(this.maxDrawMs, this.lastDrawMs);
  }

  private draw(): void {
    const names = this.shown();
    const loaded = names.map((n) => this.runs.get(n)).filter((m): m is RunMetrics => m !== undefined);
    this.fillMetricSelect(loaded);
    const metric = this.metric;
    const svg = $('curve-svg');
    const note = $('curve-note');
    const legend = $('curve-legend');
    svg.replaceChildren();
    this.stats = { drawnPoints: 0, draws: this.stats.draws + 1, band: false, legend: [] };
    this.drawn = null;
    if (!names.length) {
      note.textContent = '';
      legend.replaceChildren();
      return;
    }
    if (names.length === 1) {
      const m = loaded[0];
      if (!m || m.missing) {
        note.textContent = m?.missing ? 'This run has no metrics.jsonl.' : 'Loading metrics.jsonl ...';
        legend.replaceChildren();
        if (m?.missing) return;
      }
      if (m?.error) {
        note.textContent = `Could not load metrics.jsonl: ${m.error}`;
        return;
      }
    }
    const xField = this.xField(loaded);
    const curves = loaded.map((m, i) => {
      const s = metric ? m.series(metric) : null;
      return { m, name: m.name, color: COLORS[i % COLORS.length]!, s, smooth: s && metric ? m.smoothed(metric, s, this.smoothing) : null };
    });
    const withPoints = curves.filter((c) => c.s && c.s.x.length > 0) as Array<(typeof curves)[number] & { s: Series; smooth: Float64Array }>;
    note.textContent = this.noteText(curves, xField);
    this.drawLegend(curves);
    if (!metric || !withPoints.length) return;
    if (this.firstCurveMs === null) this.firstCurveMs = performance.now() - this.loadStart;

    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const c of withPoints) {
      x0 = Math.min(x0, c.s.x[0]!);
      x1 = Math.max(x1, c.s.x[c.s.x.length - 1]!);
    }
    if (x0 === x1) (x0 -= 1), (x1 += 1);
    const plotW = W - PAD.l - PAD.r;
    // One pass per curve: the per-column minima and maxima are also the y range (a smoothed value,
    // a weighted mean of raw ones, never leaves the raw range).
    const reduced = withPoints.map((c) => {
      const raw = downsampleMinMax(c.s.x, c.s.y, x0, x1, plotW);
      for (const v of raw.y) (y0 = Math.min(y0, v)), (y1 = Math.max(y1, v));
      return { raw, smooth: downsampleMinMax(c.s.x, c.smooth, x0, x1, plotW) };
    });
    if (y0 === y1) (y0 -= 1), (y1 += 1);
    const plotH = H - PAD.t - PAD.b;
    const sx = (x: number): number => PAD.l + ((x - x0) / (x1 - x0)) * plotW;
    const sy = (y: number): number => H - PAD.b - ((y - y0) / (y1 - y0)) * plotH;
    const ix = (px: number): number => x0 + ((px - PAD.l) / plotW) * (x1 - x0);
    const mk = (name: string, attrs: Record<string, string>, text?: string): SVGElement => {
      const e = document.createElementNS(SVG_NS, name);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const poly = (xs: ArrayLike<number>, ys: ArrayLike<number>): string => points(downsampleMinMax(xs, ys, x0, x1, plotW));
    const points = (d: { x: number[]; y: number[] }): string => {
      this.stats.drawnPoints += d.x.length;
      let out = '';
      for (let i = 0; i < d.x.length; i++) out += `${sx(d.x[i]!).toFixed(1)},${sy(d.y[i]!).toFixed(1)} `;
      return out.trim();
    };
    const parts: SVGElement[] = [];
    // Axes, ticks and titles.
    parts.push(mk('line', { x1: String(PAD.l), y1: String(H - PAD.b), x2: String(W - PAD.r), y2: String(H - PAD.b), stroke: '#3a404b' }));
    parts.push(mk('line', { x1: String(PAD.l), y1: String(PAD.t), x2: String(PAD.l), y2: String(H - PAD.b), stroke: '#3a404b' }));
    for (let t = 0; t <= 4; t++) {
      const xv = x0 + ((x1 - x0) * t) / 4;
      const yv = y0 + ((y1 - y0) * t) / 4;
      parts.push(mk('text', { x: sx(xv).toFixed(1), y: String(H - PAD.b + 14), fill: '#9aa3b2', 'font-size': '11', 'text-anchor': t === 0 ? 'start' : t === 4 ? 'end' : 'middle' }, fmt(Number(xv.toPrecision(6)))));
      parts.push(mk('text', { x: String(PAD.l - 4), y: (sy(yv) + 4).toFixed(1), fill: '#9aa3b2', 'font-size': '11', 'text-anchor': 'end' }, fmt(Number(yv.toPrecision(4)))));
    }
    parts.push(mk('text', { class: 'axis-title x-title', x: String(PAD.l + plotW / 2), y: String(H - 6), fill: '#c9d1dc', 'font-size': '12', 'text-anchor': 'middle' }, xField));
    parts.push(mk('text', { class: 'axis-title y-title', x: '12', y: String(PAD.t + plotH / 2), fill: '#c9d1dc', 'font-size': '12', 'text-anchor': 'middle', transform: `rotate(-90 12 ${PAD.t + plotH / 2})` }, metric));
    // The band under the runs' lines, the mean over them.
    const means: SVGElement[] = [];
    if (withPoints.length >= 2) {
      const agg = aggregate(withPoints.map((c) => ({ x: c.s.x, y: c.smooth })));
      // Only where at least two runs have points: one run is not a spread.
      for (const [a, b] of segments(agg.count, 2)) {
        const top = poly(agg.x.subarray(a, b), agg.max.subarray(a, b));
        const bottom = poly(agg.x.subarray(a, b), agg.min.subarray(a, b)).split(' ').reverse().join(' ');
        parts.push(mk('polygon', { class: 'band', points: `${top} ${bottom}`, fill: '#e6e6e6', 'fill-opacity': '0.16', stroke: 'none' }));
        means.push(mk('polyline', { class: 'mean', points: poly(agg.x.subarray(a, b), agg.mean.subarray(a, b)), fill: 'none', stroke: '#e6e6e6', 'stroke-width': '2', 'stroke-dasharray': '5 3' }));
        this.stats.band = true;
      }
    }
    withPoints.forEach((c, i) => {
      // Raw values faintly, the smoothed curve on top (as TensorBoard draws them).
      parts.push(mk('polyline', { class: 'raw', 'data-run': c.name, points: points(reduced[i]!.raw), fill: 'none', stroke: c.color, 'stroke-opacity': '0.25', 'stroke-width': '1' }));
      parts.push(mk('polyline', { class: 'smooth', 'data-run': c.name, points: points(reduced[i]!.smooth), fill: 'none', stroke: c.color, 'stroke-width': '1.6' }));
    });
    parts.push(...means);
    parts.push(mk('line', { id: 'curve-cursor', x1: '0', x2: '0', y1: String(PAD.t), y2: String(H - PAD.b), stroke: '#9aa3b2', 'stroke-dasharray': '2 2', visibility: 'hidden' }));
    svg.append(...parts);
    this.drawn = { runs: withPoints.map((c) => ({ name: c.name, color: c.color, s: c.s, smooth: c.smooth })), sx, ix };
    // A read-out open over the chart follows the redraw (new points, other smoothing).
    if (this.pointer) this.hover(this.pointer);
  }

  private xField(loaded: RunMetrics[]): string {
    const f = loaded.map((m) => m.parser.xField).find((x) => x !== undefined);
    return f ?? 'line';
  }

  /** Fills the metric menu with the numeric fields of the shown runs (keeps the choice). */
  private fillMetricSelect(loaded: RunMetrics[]): void {
    const select = $<HTMLSelectElement>('metric');
    const fields = [...new Set(loaded.flatMap((m) => m.parser.fields()))];
    if (this.metric === null || (!fields.includes(this.metric) && fields.length && !loaded.some((m) => m.loading))) {
      const initial = PREFERRED.find((p) => fields.includes(p)) ?? fields[0] ?? null;
      if (initial !== null && this.metric !== initial) {
        this.metric = initial;
        this.onChange();
      }
    }
    const options = this.metric && !fields.includes(this.metric) ? [...fields, this.metric] : fields;
    const current = Array.from(select.options, (o) => o.value);
    if (current.length !== options.length || current.some((v, i) => v !== options[i])) {
      select.replaceChildren(
        ...options.map((f) => {
          const o = document.createElement('option');
          o.value = f;
          o.textContent = f;
          return o;
        }),
      );
    }
    if (this.metric !== null) select.value = this.metric;
  }

  private noteText(curves: Array<{ m: RunMetrics; s: Series | null }>, xField: string): string {
    const metric = this.metric ?? '-';
    const each = curves.map(({ m, s }) => {
      const p = m.parser;
      const c = this.metric ? p.counts.get(this.metric) : undefined;
      const bits = [`${s?.x.length ?? 0} points`];
      if (p.badLines) bits.push(`${p.badLines} unreadable line${p.badLines === 1 ? '' : 's'} skipped`);
      if (c?.nonNumeric) bits.push(`${c.nonNumeric} non-numeric value${c.nonNumeric === 1 ? '' : 's'} skipped`);
      if (p.noX) bits.push(`${p.noX} line${p.noX === 1 ? '' : 's'} without ${xField}`);
      if (p.droppedLines) bits.push(`${p.droppedLines} lines past the viewer's limit not read`);
      let text = bits.join(', ');
      if (m.cut) text += `; only the first ${MAX_METRICS_BYTES / (1024 * 1024)} MiB of metrics.jsonl read`;
      if (m.missing) text = 'no metrics.jsonl';
      if (m.error) text = `could not load metrics.jsonl: ${m.error}`;
      return curves.length === 1 ? text : `${m.name}: ${text}`;
    });
    const combine = curves.length > 1 ? `. Mean and band: smoothed values aligned on ${xField} (linear between logged points, each run within its own range), where two or more runs have points.` : '';
    return `${metric} vs ${xField}: ${each.join('; ')}${combine}`;
  }

  private drawLegend(curves: Array<{ name: string; color: string; m: RunMetrics; s: Series | null; smooth: Float64Array | null }>): void {
    const legend = $('curve-legend');
    this.stats.legend = curves.map((c) => c.name);
    legend.replaceChildren(
      ...curves.map((c) => {
        const row = el('div', 'legend-entry');
        row.dataset.run = c.name;
        const sw = el('span', 'swatch');
        sw.style.background = c.color;
        const info = this.info.get(c.name);
        const last = c.smooth && c.smooth.length ? fmt(Number(c.smooth[c.smooth.length - 1]!.toPrecision(6))) : '-';
        row.append(sw, el('span', 'legend-name', c.name), el('span', 'legend-meta', `${info?.seed !== undefined ? `seed ${info.seed} · ` : ''}last ${last}`));
        if (info?.status) row.append(el('span', `run-status ${info.status}`, info.status));
        if (c.m.loading) row.append(el('span', 'legend-meta', 'loading ...'));
        return row;
      }),
      ...(curves.length >= 2 ? [legendMean()] : []),
    );
  }

  /** The last pointer position over the chart (null once it left). */
  private pointer: MouseEvent | null = null;

  private hover(e: MouseEvent | null): void {
    this.pointer = e;
    const box = $('curve-hover');
    const cursor = document.getElementById('curve-cursor');
    const d = this.drawn;
    if (!e || !d) {
      box.hidden = true;
      cursor?.setAttribute('visibility', 'hidden');
      return;
    }
    const svg = $('curve-svg');
    const rect = svg.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * W;
    const x = d.ix(px);
    const lines = d.runs.map((r) => {
      const i = nearestIndex(r.s.x, x);
      return { name: r.name, color: r.color, x: r.s.x[i]!, smooth: r.smooth[i]!, raw: r.s.y[i]! };
    });
    const step = lines.reduce((best, l) => (Math.abs(l.x - x) < Math.abs(best - x) ? l.x : best), lines[0]!.x);
    cursor?.setAttribute('x1', d.sx(step).toFixed(1));
    cursor?.setAttribute('x2', d.sx(step).toFixed(1));
    cursor?.setAttribute('visibility', 'visible');
    box.replaceChildren(
      el('div', 'hover-step', `${this.xField([...this.runs.values()])} ${fmt(step)}`),
      ...lines.map((l) => {
        const row = el('div', 'hover-row');
        const sw = el('span', 'swatch');
        sw.style.background = l.color;
        row.append(sw, el('span', 'hover-name', l.name), el('span', 'hover-value', `${fmt(Number(l.smooth.toPrecision(6)))} (raw ${fmt(Number(l.raw.toPrecision(6)))}${l.x !== step ? ` at ${fmt(l.x)}` : ''})`));
        return row;
      }),
    );
    box.hidden = false;
    // Right of the pointer, or left of it where the box would leave the chart.
    const at = e.clientX - rect.left;
    box.style.left = `${at + 14 + box.offsetWidth <= rect.width ? at + 14 : Math.max(0, at - 14 - box.offsetWidth)}px`;
    box.style.top = `${e.clientY - rect.top + 10}px`;
  }

  /** For the test hook and the benchmark. */
  status(): CurvesStatus {
    const names = this.shown();
    return {
      metric: this.metric,
      xField: this.xField(names.map((n) => this.runs.get(n)).filter((m): m is RunMetrics => m !== undefined)),
      smoothing: this.smoothing,
      runs: names.map((n) => {
        const m = this.runs.get(n);
        const s = m && this.metric ? m.series(this.metric) : null;
        const c = m && this.metric ? m.parser.counts.get(this.metric) : undefined;
        const k = s ? s.x.length : 0;
        return { name: n, rows: m?.parser.rows ?? 0, points: k, lastStep: k ? s!.x[k - 1]! : null, lastValue: k ? s!.y[k - 1]! : null, nonNumeric: c?.nonNumeric ?? 0, nulls: c?.nulls ?? 0, badLines: m?.parser.badLines ?? 0, bytes: m?.offset ?? 0, columnBytes: m?.parser.columnBytes() ?? 0, loading: !!m?.loading, status: this.info.get(n)?.status ?? null };
      }),
      legend: [...this.stats.legend],
      band: this.stats.band,
      drawnPoints: this.stats.drawnPoints,
      draws: this.stats.draws,
      firstCurveMs: this.firstCurveMs,
      maxDrawMs: this.maxDrawMs,
      loadStartMs: this.loadStart,
      keptRuns: this.runs.size,
    };
  }
}

function legendMean(): HTMLElement {
  const row = el('div', 'legend-entry legend-mean');
  const sw = el('span', 'swatch mean');
  row.append(sw, el('span', 'legend-name', 'mean, min-max band'));
  return row;
}

/** [start, end) index ranges where count >= min. */
function segments(count: Uint16Array, min: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let a = -1;
  for (let i = 0; i <= count.length; i++) {
    const ok = i < count.length && count[i]! >= min;
    if (ok && a < 0) a = i;
    if (!ok && a >= 0) {
      out.push([a, i]);
      a = -1;
    }
  }
  return out;
}
