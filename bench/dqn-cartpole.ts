/**
 * CartPole learning benchmark: trains with the default cartpole settings (`npcforge train cartpole`),
 * then plays 100 greedy episodes with the weights `npcforge eval` would load (the best-evaluated ones).
 * Usage: node dist/bench/dqn-cartpole.js [--steps N] [--seed S] [--json f]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import '../games/index.js';
import type { Env, ObsArray } from '../src/envs/env.js';
import { make } from '../src/envs/registry.js';
import { evaluate, summarise } from '../src/train/evaluate.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { loadRunAgent, train } from '../src/train/runner.js';

export interface CartpoleBenchResult {
  steps: number;
  seed: number;
  stoppedEarly: boolean;
  bestEval: number | null;
  /** Step of the weights evaluated. */
  evalWeightsStep: number;
  evalEpisodes: number;
  evalMeanReturn: number;
  trainWallTimeS: number;
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
  const config = resolveRunConfig({ game: 'cartpole', flags: { steps, seed } });
  const res = await train({ config, outDir: mkdtempSync(join(tmpdir(), 'npcforge-cartpole-')), progress: null });
  const trainWall = (Date.now() - t0) / 1000;
  const { agent, step } = await loadRunAgent(res.runDir);
  let s;
  try {
    s = summarise(await evaluate(agent, { makeEnv: () => make('cartpole') as Env<ObsArray, number>, episodes: 100, baseSeed: 12345, epsilon: 0 }));
  } finally {
    agent.dispose();
  }
  const result: CartpoleBenchResult = { steps: res.step, seed, stoppedEarly: res.stoppedEarly, bestEval: res.bestEval, evalWeightsStep: step, evalEpisodes: s.episodes, evalMeanReturn: s.mean_return, trainWallTimeS: trainWall, wallTimeS: (Date.now() - t0) / 1000, runDir: res.runDir };
  process.stdout.write(`dqn-cartpole: seed ${seed}, trained ${result.steps} steps${result.stoppedEarly ? ' (stopAtEval reached)' : ''} in ${trainWall.toFixed(0)} s; weights of step ${step}: eval mean return ${s.mean_return.toFixed(1)} over ${s.episodes} episodes (min ${s.min_return}); total ${result.wallTimeS.toFixed(0)} s\n`);
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
