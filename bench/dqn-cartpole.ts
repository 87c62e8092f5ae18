/**
 * CartPole learning benchmark (too slow for the test suite on the cpu backend): trains the
 * default cartpole DQN settings and evaluates 100 greedy episodes.
 * Usage: node dist/bench/dqn-cartpole.js [--steps N] [--seed S] [--json f]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import '../games/index.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { train } from '../src/train/runner.js';

export interface CartpoleBenchResult {
  steps: number;
  seed: number;
  evalEpisodes: number;
  evalMeanReturn: number | null;
  wallTimeS: number;
  runDir: string;
}

/** Trains and evaluates; prints one line; returns the figures. */
export async function run(args: string[] = []): Promise<CartpoleBenchResult> {
  let steps: number | undefined;
  let seed = 0;
  let json: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--steps') steps = Number(args[++i]);
    else if (args[i] === '--seed') seed = Number(args[++i]);
    else if (args[i] === '--json') json = args[++i];
  }
  const t0 = Date.now();
  const config = resolveRunConfig({ game: 'cartpole', flags: { steps, seed, evalEpisodes: 100, evalEvery: 0, checkpointEvery: 0 } });
  const res = await train({ config, outDir: mkdtempSync(join(tmpdir(), 'npcforge-cartpole-')), progress: null });
  const result: CartpoleBenchResult = { steps: res.step, seed, evalEpisodes: res.lastEval?.episodes ?? 0, evalMeanReturn: res.lastEval?.mean_return ?? null, wallTimeS: (Date.now() - t0) / 1000, runDir: res.runDir };
  process.stdout.write(`dqn-cartpole: ${result.steps} steps, seed ${seed}: eval mean return ${result.evalMeanReturn} over ${result.evalEpisodes} episodes, ${result.wallTimeS.toFixed(0)} s\n`);
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
