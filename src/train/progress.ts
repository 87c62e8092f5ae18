/** Progress on stderr: a redrawn bar with ETA on a TTY, one plain line per log interval otherwise. */

export interface ProgressInfo {
  step: number;
  total: number;
  meanReturn: number | null;
  evalReturn: number | null;
  /** Mean loss of the interval (null before the first update). */
  loss?: number | null;
  stepsPerSec: number;
}

export interface ProgressOptions {
  /** Progress bar, per-interval lines and the start line (false = `--no-progress`). Default true. */
  progress?: boolean;
  /**
   * Step counts shown in per-interval lines are rounded down to this interval (the metrics
   * interval), so `--envs 3` shows `step 1000`, not `step 1002`. Default 1.
   */
  stepInterval?: number;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The one number format of training output (returns, evaluations, losses): 4 significant digits,
 * no exponent for the magnitudes training produces, trailing zeros dropped, `-` for none.
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

export class Progress {
  private lastDraw = 0;
  private readonly showProgress: boolean;
  private readonly stepInterval: number;
  /**
   * @param out stream of every line (stderr in the CLI)
   * @param enabled false = print nothing at all (library callers that pass `progress: null`)
   */
  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean },
    private readonly enabled = true,
    options: ProgressOptions = {},
  ) {
    this.showProgress = options.progress ?? true;
    this.stepInterval = Math.max(1, options.stepInterval ?? 1);
  }

  private get tty(): boolean {
    return this.enabled && this.showProgress && (this.out as { isTTY?: boolean }).isTTY === true;
  }

  /** Called every loop iteration; redraws at most 5 times a second on a TTY. */
  tick(p: ProgressInfo): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 200 && p.step < p.total) return;
    this.lastDraw = now;
    const frac = Math.min(1, p.step / p.total);
    const width = 24;
    const filled = Math.round(frac * width);
    const eta = p.stepsPerSec > 0 ? (p.total - p.step) / p.stepsPerSec : Infinity;
    this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${p.step}/${p.total} return ${formatNumber(p.meanReturn)} eval ${formatNumber(p.evalReturn)} loss ${formatNumber(p.loss)} ${Math.round(p.stepsPerSec)} steps/s ETA ${fmtTime(eta)}   `);
  }

  /** Called once per metrics interval. */
  line(p: ProgressInfo): void {
    if (!this.enabled || !this.showProgress || this.tty) return;
    // The last line of a run keeps its exact step; the others show the interval they close.
    const step = p.step >= p.total ? p.step : Math.floor(p.step / this.stepInterval) * this.stepInterval;
    this.out.write(`step ${step}/${p.total} return ${formatNumber(p.meanReturn)} eval ${formatNumber(p.evalReturn)} loss ${formatNumber(p.loss)} ${Math.round(p.stepsPerSec)} steps/s\n`);
  }

  /** Prints an informational line (start of a run) on its own line; hidden by `--no-progress`. */
  message(text: string): void {
    if (!this.showProgress) return;
    this.notice(text);
  }

  /** Prints a line the user must see even with `--no-progress` (warnings, repairs, the final line). */
  notice(text: string): void {
    if (!this.enabled) return;
    if (this.tty) this.out.write('\n');
    this.out.write(text + '\n');
  }
}
