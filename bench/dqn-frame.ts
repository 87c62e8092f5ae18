/**
 * Where a DQN training frame goes: runs the real training loop (`train`, the CLI's run settings)
 * on a MinAtar game with the `minatar` preset and prints wall and CPU ms per frame by phase (env
 * step, act, replay add, sample, update, target sync, metrics, eval, checkpoint, other).
 * `--no-phases` runs without the profile and reports only the totals (for A/B runs of two builds).
 * The CPU clock (process.cpuUsage) is the whole process's and here lags by up to ~0.2 ms, so a
 * short phase right after a long one (target sync after update) shows some of the long one's
 * CPU; the wall column and the CPU total are exact.
 * Usage: node dist/bench/dqn-frame.js [--game breakout] [--frames 20000] [--seed 0] [--no-phases] [--json f]
 * `--frames` counts frames after `learningStarts` (5,000 with the preset), so every one of them trains.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../src/errors.js';
import '../games/index.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { train } from '../src/train/runner.js';
import { PHASES, PhaseTimer, type Phase } from '../src/train/phases.js';
import { printTable } from './harness.js';

export interface DqnFrameResult {
  game: string;
  frames: number;
  wallS: number;
  cpuS: number;
  framesPerS: number;
  /** Frames per CPU second (what one idle core would do). */
  framesPerCpuS: number;
  loadAvg: number[];
  eval: number | null;
  /** Per phase, ms per frame (absent with --no-phases). */
  phases?: Record<Phase, { wallMs: number; cpuMs: number }>;
}

/** Runs the profile; prints the table and returns the figures. */
export async function run(args: string[] = []): Promise<DqnFrameResult> {
  let game = 'breakout';
  let frames = 20_000;
  let seed = 0;
  let profile = true;
  let json: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--game') game = args[++i]!;
    else if (a === '--frames') frames = Number(args[++i]);
    else if (a === '--seed') seed = Number(args[++i]);
    else if (a === '--no-phases') profile = false;
    else if (a === '--json') json = args[++i];
  }
  if (!Number.isInteger(frames) || frames < 1) throw new InvalidConfigError(formatError('dqn-frame', '--frames as a positive integer', describe(frames), 'pass e.g. --frames 20000'));
  const id = game.startsWith('minatar/') ? game : `minatar/${game}`;
  const probe = resolveRunConfig({ game: id, preset: 'minatar', flags: { steps: 1, seed } });
  const steps = (probe.agentConfig.learningStarts as number) + frames;
  const config = resolveRunConfig({ game: id, preset: 'minatar', flags: { steps, seed } });
  const outDir = mkdtempSync(join(tmpdir(), 'npcforge-dqn-frame-'));
  const phases = profile ? new PhaseTimer() : undefined;
  try {
    const load0 = loadavg();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await train({ config, outDir, phases, progress: null, recordEvalEpisodes: 0 });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const load1 = loadavg();
    const result: DqnFrameResult = {
      game: id,
      frames: res.step,
      wallS,
      cpuS,
      framesPerS: res.step / wallS,
      framesPerCpuS: res.step / cpuS,
      loadAvg: load0.map((l, i) => (l + load1[i]!) / 2),
      eval: res.lastEval?.mean_return ?? null,
    };
    const rows: string[][] = [];
    if (phases) {
      result.phases = Object.fromEntries(PHASES.map((p) => [p, { wallMs: phases.wallMs[p] / res.step, cpuMs: phases.cpuMs[p] / res.step }])) as Record<Phase, { wallMs: number; cpuMs: number }>;
      const cpuTotal = PHASES.reduce((a, p) => a + phases.cpuMs[p], 0);
      for (const p of PHASES) rows.push([p, result.phases[p].wallMs.toFixed(3), result.phases[p].cpuMs.toFixed(3), `${((100 * phases.cpuMs[p]) / cpuTotal).toFixed(1)}%`]);
    }
    rows.push(['total (process)', ((1000 * wallS) / res.step).toFixed(3), ((1000 * cpuS) / res.step).toFixed(3), '']);
    process.stdout.write(`dqn-frame ${id} minatar preset, ${res.step} frames (${frames} training), seed ${seed}, load average ${result.loadAvg.map((l) => l.toFixed(2)).join(' ')}\n`);
    printTable(['phase', 'wall ms/frame', 'cpu ms/frame', 'cpu share'], rows);
    process.stdout.write(`frames/s ${result.framesPerS.toFixed(0)} (wall), ${result.framesPerCpuS.toFixed(0)} per CPU second; final eval ${result.eval}\n`);
    if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await run(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
