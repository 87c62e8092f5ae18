/**
 * Opt-in profile of a training loop by phase (`train({ phases })`, the `dqn-frame` benchmark):
 * wall and CPU time between consecutive `lap` calls, charged to the phase named by the lap.
 * The loop calls `phases?.lap(...)`, so a run without a timer pays one optional-chain test per lap.
 */

/** Phases of a training frame. `other` is whatever a lap does not name more precisely (bookkeeping, progress). */
export const PHASES = ['env', 'act', 'replayAdd', 'sample', 'update', 'targetSync', 'metrics', 'eval', 'checkpoint', 'other'] as const;
export type Phase = (typeof PHASES)[number];

export class PhaseTimer {
  /** Wall ms charged to each phase. */
  readonly wallMs: Record<Phase, number>;
  /** CPU ms (user + system, this process) charged to each phase. */
  readonly cpuMs: Record<Phase, number>;
  private lastWall = 0;
  private lastCpu = 0;

  constructor() {
    this.wallMs = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    this.cpuMs = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    this.mark();
  }

  /** Starts a new lap without charging the time since the last one to any phase. */
  mark(): void {
    this.lastCpu = cpuNowMs();
    this.lastWall = performance.now();
  }

  /** Charges the time since the last lap (or mark) to `phase` and starts the next lap. */
  lap(phase: Phase): void {
    // CPU first: reading it is a system call, and a process the scheduler wants to preempt is
    // switched out on its way back; read in this order, the wait goes to the phase that ran
    // before it, not to the next phase (on a loaded machine the reverse order charged seconds of
    // the update's waits to the empty target-sync lap).
    const cpu = cpuNowMs();
    const wall = performance.now();
    this.wallMs[phase] += wall - this.lastWall;
    this.cpuMs[phase] += cpu - this.lastCpu;
    this.lastWall = wall;
    this.lastCpu = cpu;
  }
}

function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
