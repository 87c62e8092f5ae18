/** The summary table of a sweep: one line per run, then the mean and spread of each grid point over its seeds. */
import { gridPoints, settingsLabel, type SweepSpec } from './sweep-spec.js';
import type { SweepRow } from './sweep-queue.js';

export interface PointSummary {
  point: number;
  settings: Record<string, number | string | boolean>;
  /** Seeds finished / asked. */
  done: number;
  seeds: number;
  /** Over the finished seeds' last evaluation means (null when none finished with an evaluation). */
  meanLastEval: number | null;
  stdLastEval: number | null;
  minLastEval: number | null;
  maxLastEval: number | null;
  meanBestEval: number | null;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export function summarisePoints(spec: SweepSpec, rows: SweepRow[]): PointSummary[] {
  return gridPoints(spec.grid).map((settings, point) => {
    const mine = rows.filter((r) => r.job.point === point);
    const last = mine.flatMap((r) => (r.result?.lastEval != null ? [r.result.lastEval] : []));
    const best = mine.flatMap((r) => (r.result?.bestEval != null ? [r.result.bestEval] : []));
    const m = last.length ? mean(last) : null;
    return {
      point,
      settings,
      done: mine.filter((r) => r.result !== null).length,
      seeds: mine.length,
      meanLastEval: m,
      stdLastEval: m === null ? null : Math.sqrt(mean(last.map((x) => (x - m) * (x - m)))),
      minLastEval: last.length ? Math.min(...last) : null,
      maxLastEval: last.length ? Math.max(...last) : null,
      meanBestEval: best.length ? mean(best) : null,
    };
  });
}

const f = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(d));

function table(head: string[], body: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)];
}

/** The human summary: every run, then every grid point. */
export function formatSweepSummary(spec: SweepSpec, rows: SweepRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const out = [`sweep ${spec.name}: ${spec.game}${spec.agent ? ` / ${spec.agent}` : ''}, ${rows.length} runs (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')})`, ''];
  out.push(
    ...table(
      ['job', 'settings', 'seed', 'state', 'step', 'last eval', 'best eval', 'wall s', 'run / error'],
      rows.map((r) => [r.job.id, settingsLabel(r.job.settings), String(r.job.seed), r.state, f(r.result?.step), f(r.result?.lastEval), f(r.result?.bestEval), r.result ? r.result.seconds.toFixed(0) : '-', r.result?.runDir ?? r.error ?? '']),
    ),
  );
  out.push('');
  out.push(
    ...table(
      ['settings', 'seeds done', 'last eval mean', 'std', 'min', 'max', 'best eval mean'],
      summarisePoints(spec, rows).map((p) => [settingsLabel(p.settings), `${p.done}/${p.seeds}`, f(p.meanLastEval), f(p.stdLastEval), f(p.minLastEval), f(p.maxLastEval), f(p.meanBestEval)]),
    ),
  );
  return out.join('\n');
}
