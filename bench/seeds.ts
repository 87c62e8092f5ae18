/**
 * Seed robustness: trains one game/agent setting with several seeds, each as the user would
 * (`npcforge train <game> --agent A [--recurrent] --seed S ...` in its own process), and prints every
 * seed's final greedy eval return, best eval, eval episode length and wall time, then the checks of
 * issue 17: how many seeds reach `--threshold`, and whether the worst seed is at least half the best.
 *
 * Usage: node dist/bench/seeds.js --game memory-maze --agent ppo --recurrent --seeds 0-4
 *          [--steps N] [--preset P] [--config file.json] [--parallel 2] [--threshold 0.9]
 *          [--out dir] [--json result.json]
 * `--seeds` takes a range (0-4) or a list (0,3,4). `--parallel` runs that many seeds at once (the
 * wall times then include the sharing of cores; the load average is printed beside them).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../src/errors.js';
import { median, numberFlag, parseBenchArgs, printTable, writeJson, type BenchArgs } from './harness.js';

/** One seed's outcome. */
export interface SeedResult {
  seed: number;
  /** Final greedy eval mean return (null when the run failed). */
  evalReturn: number | null;
  /** Best eval mean return of the run. */
  bestEval: number | null;
  /** Mean eval episode length. */
  evalLength: number | null;
  steps: number;
  wallTimeS: number;
  runDir: string | null;
  /** stderr tail when the process failed. */
  error?: string;
}

export interface SeedsResult {
  game: string;
  args: string[];
  threshold: number | null;
  seeds: SeedResult[];
  /** Seeds with eval >= threshold (null without --threshold). */
  atThreshold: number | null;
  worst: number | null;
  best: number | null;
  median: number | null;
  /** Worst >= best / 2 (the Breakout acceptance line). */
  worstAtLeastHalfBest: boolean | null;
  loadAverage: number[];
}

/** "0-4" -> [0..4], "0,3,4" -> [0, 3, 4]. */
export function parseSeeds(spec: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(spec);
  const list = /^\d+(,\d+)*$/.test(spec);
  const seeds = !range && !list ? [] : range ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i) : spec.split(',').map(Number);
  if (seeds.length === 0 || seeds.length > 100 || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new InvalidConfigError(formatError('bench seeds', '--seeds as a range (0-4) or a list (0,3,4) of 1 to 100 non-negative integers', describe(spec), 'pass e.g. --seeds 0-4'));
  }
  return seeds;
}

const here = dirname(fileURLToPath(import.meta.url));
/** bin/npcforge.js from dist/bench (the compiled location) or bench/ (ts sources). */
const cli = resolve(here, here.endsWith(join('dist', 'bench')) ? '../../bin/npcforge.js' : '../bin/npcforge.js');

function trainSeed(game: string, trainArgs: string[], seed: number, outDir: string): Promise<SeedResult> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, 'train', game, ...trainArgs, '--seed', String(seed), '--out', outDir, '--no-progress', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('close', (code) => {
      const wallTimeS = (Date.now() - t0) / 1000;
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        const r = JSON.parse(out.trim().split('\n').pop()!) as { step: number; runDir: string; lastEval: { mean_return: number; mean_length: number } | null; bestEval: number | null };
        done({ seed, evalReturn: r.lastEval?.mean_return ?? null, bestEval: r.bestEval, evalLength: r.lastEval?.mean_length ?? null, steps: r.step, wallTimeS, runDir: r.runDir });
      } catch (e) {
        done({ seed, evalReturn: null, bestEval: null, evalLength: null, steps: 0, wallTimeS, runDir: null, error: `${(e as Error).message}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
      }
    });
  });
}

/** Runs every seed (`--parallel` at a time), prints the table and the checks, returns the figures. */
export async function runSeeds(args: BenchArgs): Promise<SeedsResult> {
  const f = args.flags;
  const game = f.game ?? 'memory-maze';
  const seeds = parseSeeds(f.seeds ?? '0-4');
  const parallel = Math.floor(numberFlag(args, 'parallel', 1));
  const threshold = f.threshold !== undefined ? Number(f.threshold) : null;
  if (threshold !== null && !Number.isFinite(threshold)) throw new InvalidConfigError(formatError('bench seeds', '--threshold to be a number', describe(f.threshold), 'pass e.g. --threshold 0.9'));
  const trainArgs: string[] = [];
  for (const k of ['agent', 'steps', 'preset', 'envs']) if (f[k] !== undefined) trainArgs.push(`--${k}`, f[k]!);
  if (f.config !== undefined) trainArgs.push('--config', resolve(f.config));
  if (f.recurrent === 'true') trainArgs.push('--recurrent');
  const outDir = f.out ? resolve(f.out) : mkdtempSync(join(tmpdir(), 'npcforge-seeds-'));
  process.stdout.write(`seeds: npcforge train ${game} ${trainArgs.join(' ')} --seed {${seeds.join(',')}}, ${parallel} at a time, runs in ${outDir}\n`);
  const results: SeedResult[] = [];
  const queue = [...seeds];
  const lane = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      const r = await trainSeed(game, trainArgs, s, outDir);
      results.push(r);
      process.stdout.write(`  seed ${s}: eval ${r.evalReturn ?? r.error} (${r.wallTimeS.toFixed(0)} s)\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, seeds.length) }, lane));
  results.sort((a, b) => a.seed - b.seed);
  const fmt = (v: number | null, d = 2) => (v === null ? '-' : v.toFixed(d));
  printTable(['seed', 'eval return', 'best eval', 'eval length', 'steps', 'wall s', 'steps/s'], results.map((r) => [String(r.seed), r.error ? `failed: ${r.error.slice(0, 60)}` : fmt(r.evalReturn), fmt(r.bestEval), fmt(r.evalLength, 1), String(r.steps), r.wallTimeS.toFixed(0), r.steps ? String(Math.round(r.steps / r.wallTimeS)) : '-']));
  const finals = results.map((r) => r.evalReturn).filter((v): v is number => v !== null);
  const ok = finals.length === results.length;
  const best = finals.length ? Math.max(...finals) : null;
  const worst = finals.length ? Math.min(...finals) : null;
  const load = loadavg().map((v) => Math.round(v * 100) / 100);
  const result: SeedsResult = {
    game,
    args: trainArgs,
    threshold,
    seeds: results,
    atThreshold: threshold === null ? null : finals.filter((v) => v >= threshold).length,
    worst,
    best,
    median: finals.length ? median(finals) : null,
    // Half the best, on the return scale (best > 0 is assumed: it is a learning check).
    worstAtLeastHalfBest: ok && best !== null && worst !== null ? worst >= best / 2 : null,
    loadAverage: load,
  };
  process.stdout.write(`eval return: worst ${fmt(worst)}, median ${fmt(result.median)}, best ${fmt(best)}; worst >= best / 2: ${result.worstAtLeastHalfBest}` + (threshold === null ? '' : `; ${result.atThreshold} of ${results.length} seeds >= ${threshold}`) + `; load average ${load.join(', ')}\n`);
  writeJson(args, 'seeds', result);
  return result;
}

/** Entry point for `node dist/bench/seeds.js ...`. */
export async function run(argv: string[]): Promise<SeedsResult> {
  return runSeeds(parseBenchArgs(argv));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run(process.argv.slice(2));
