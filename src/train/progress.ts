/** Progress on stderr: a redrawn bar with ETA on a TTY, one plain line per log interval otherwise. */

export interface ProgressInfo {
  step: number;
  total: number;
  meanReturn: number | null;
  evalReturn: number | null;
  stepsPerSec: number;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const num = (v: number | null): string => (v === null ? '-' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));

export class Progress {
  private lastDraw = 0;
  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean },
    private readonly enabled = true,
  ) {}

  private get tty(): boolean {
    return this.enabled && (this.out as { isTTY?: boolean }).isTTY === true;
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
    this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${p.step}/${p.total} return ${num(p.meanReturn)} eval ${num(p.evalReturn)} ${Math.round(p.stepsPerSec)} steps/s ETA ${fmtTime(eta)}   `);
  }

  /** Called once per metrics interval. */
  line(p: ProgressInfo): void {
    if (!this.enabled || this.tty) return;
    this.out.write(`step ${p.step}/${p.total} return ${num(p.meanReturn)} eval ${num(p.evalReturn)} ${Math.round(p.stepsPerSec)} steps/s\n`);
  }

  /** Prints a message on its own line (ends a TTY bar first). */
  message(text: string): void {
    if (!this.enabled) return;
    if (this.tty) this.out.write('\n');
    this.out.write(text + '\n');
  }
}
