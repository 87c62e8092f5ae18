/**
 * `metrics.csv` beside `metrics.jsonl`: the same lines as a table for spreadsheets and pandas.
 * The columns are fixed when the run starts (the metrics line's fields, plus `clipped_actions` for
 * Box-action games and `elo`, `opponent`, `pool_size` for self-play), so a field that is not
 * measured on a line (e.g. `eval_return` between evaluations) is an empty cell, never a carried value.
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CheckpointError, formatError } from '../errors.js';
import { writeFileAtomic, writeRunFile, type WriteAtomicOptions } from './run-folder.js';

export const METRICS_CSV = 'metrics.csv';
const BASE_COLUMNS = ['step', 'episodes', 'mean_return_100', 'eval_return', 'loss', 'epsilon', 'updates', 'env_steps_per_s', 'updates_per_s', 'wall_time_s', 'tensors'];
/** Same limit as metrics.jsonl's reader. */
const MAX_CSV_BYTES = 512 * 1024 * 1024;

/** The columns of a run's metrics.csv. */
export function metricsColumns(o: { boxActions: boolean; selfplay: boolean }): string[] {
  return [...BASE_COLUMNS, ...(o.boxActions ? ['clipped_actions'] : []), ...(o.selfplay ? ['elo', 'opponent', 'pool_size'] : [])];
}

/** One CSV cell (RFC 4180 quoting): numbers as JSON writes them, null/undefined empty. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? JSON.stringify(v) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export class MetricsCsv {
  constructor(readonly path: string, readonly columns: string[]) {
    // A new run writes the header; a resumed run's file keeps its own (cut to the checkpoint).
    if (!existsSync(path)) this.write(() => writeFileSync(path, columns.join(',') + '\n', { flag: 'wx' }));
  }

  append(line: Record<string, unknown>): void {
    this.write(() => appendFileSync(this.path, this.columns.map((c) => cell(line[c])).join(',') + '\n'));
  }

  private write(fn: () => void): void {
    writeRunFile('metrics', `write ${JSON.stringify(this.path)}`, fn);
  }
}

/**
 * A resumed run: keeps the header and the rows up to `step` (the first column), as
 * `truncateMetrics` does for metrics.jsonl; written beside and renamed over, so a kill loses nothing.
 */
export function truncateMetricsCsv(path: string, step: number, options: WriteAtomicOptions = {}): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (!st.isFile() || st.size > MAX_CSV_BYTES) throw new CheckpointError(formatError('metrics', `metrics.csv to be a regular file of at most ${MAX_CSV_BYTES} bytes`, `${JSON.stringify(path)} that is not`, 'remove it or move it away, then continue with --resume'));
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').filter((l) => l.length);
  const [header, ...rows] = lines;
  const keep = rows.filter((r) => {
    const s = Number(r.slice(0, r.indexOf(',')));
    return Number.isFinite(s) && s <= step;
  });
  const next = header === undefined ? '' : [header, ...keep].join('\n') + '\n';
  if (next !== text) writeFileAtomic(path, next, options);
}
