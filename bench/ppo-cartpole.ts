/**
 * CartPole PPO learning benchmark (too slow for the test suite on the cpu backend): trains the
 * cartpole PPO preset (`npcforge train cartpole --agent ppo`) and evaluates 100 greedy episodes.
 * Usage: node dist/bench/ppo-cartpole.js [--steps N] [--seed S] [--json f]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../games/index.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { train } from '../src/train/runner.js';
import { numberFlag, parseBenchArgs, writeJson, type Bench, type BenchArgs } from './harness.js';

export interface PpoCartpoleResult {
  steps: number;
  seed: number;
  evalEpisodes: number;
  evalMeanReturn: number | null;
  wallTimeS: number;
  runDir: string;
}

/** Trains and evaluates; prints one line; returns the figures. */
export async function runPpoCartpole(args: BenchArgs): Promise<PpoCartpoleResult> {
  const steps = args.flags.steps ? numberFlag(args, 'steps', 150_000) : undefined;
  const seed = args.flags.seed ? Number(args.flags.seed) : 0;
  const t0 = Date.now();
  const config = resolveRunConfig({ game: 'cartpole', agent: 'ppo', flags: { steps, seed, evalEpisodes: 100 } });
  const res = await train({ config, outDir: mkdtempSync(join(tmpdir(), 'npcforge-ppo-cartpole-')), progress: null });
  const result: PpoCartpoleResult = { steps: res.step, seed, evalEpisodes: res.lastEval?.episodes ?? 0, evalMeanReturn: res.lastEval?.mean_return ?? null, wallTimeS: (Date.now() - t0) / 1000, runDir: res.runDir };
  process.stdout.write(`ppo-cartpole: ${result.steps} steps, seed ${seed}: eval mean return ${result.evalMeanReturn} over ${result.evalEpisodes} episodes, ${result.wallTimeS.toFixed(0)} s\n`);
  writeJson(args, 'ppo-cartpole', result);
  return result;
}

export const bench: Bench = { description: 'PPO cartpole preset: greedy eval over 100 episodes (target >= 475)', run: runPpoCartpole };

/** Entry point for `node dist/bench/ppo-cartpole.js ...`. */
export async function run(argv: string[]): Promise<PpoCartpoleResult> {
  return runPpoCartpole(parseBenchArgs(argv));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run(process.argv.slice(2));
