/**
 * PPO throughput on the active tfjs backend: env steps/s while collecting a rollout (acting +
 * env steps), PPO gradient steps/s and rollout updates/s, and the overall training rate, for a
 * grid game (MinAtar CNN) and 84x84x4 pixels (Nature CNN), each with and without an LSTM.
 * The grid case uses MinAtar Breakout when it is registered, else `catch` (10x5x1 0/1 grid).
 * Run: `node dist/bench/ppo.js [--rollouts N] [--warmup 0] [--only <case substring>] [--json f]`.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/networks/backend.js';
import '../games/index.js';
import { isRegistered, make } from '../src/envs/registry.js';
import type { Env, ObsArray } from '../src/envs/env.js';
import { FrameStack, GrayScale, PixelObservation, Resize } from '../src/envs/wrappers/index.js';
import { SyncVectorEnv } from '../src/envs/vector/sync-vector-env.js';
import { PolicyGradientAgent } from '../src/agents/pg/learner.js';
import type { PgConfig } from '../src/agents/pg/config.js';
import { parseBenchArgs, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

interface Case {
  name: string;
  makeEnv: () => Env<ObsArray, number>;
  config: Partial<PgConfig>;
  numEnvs: number;
}

function cases(): Case[] {
  const grid = isRegistered('minatar/breakout') ? 'minatar/breakout' : 'catch';
  const pixels = (): Env<ObsArray, number> => new FrameStack(new Resize(new GrayScale(new PixelObservation(make('catch'))), { height: 84, width: 84 }), { k: 4 }) as Env<ObsArray, number>;
  const out: Case[] = [];
  for (const lstm of [0, 128]) {
    out.push({ name: `${grid} grid, minatar-cnn${lstm ? ' + lstm' : ''}`, makeEnv: () => make(grid), config: { encoder: 'minatar-cnn', numSteps: 32, minibatches: 4, epochs: 4, lstmUnits: lstm }, numEnvs: 8 });
  }
  for (const lstm of [0, 128]) {
    out.push({ name: `84x84x4 pixels, nature-cnn${lstm ? ' + lstm' : ''}`, makeEnv: pixels, config: { encoder: 'nature-cnn', numSteps: 32, minibatches: 4, epochs: 4, lstmUnits: lstm }, numEnvs: 8 });
  }
  return out;
}

export interface PpoBenchRow {
  case: string;
  envs: number;
  rolloutSteps: number;
  /** Env steps/s while collecting (acting + env step). */
  collectStepsPerSec: number;
  /** PPO gradient steps (minibatches) per second. */
  gradStepsPerSec: number;
  /** Rollout updates (all epochs) per second of update time. */
  updatesPerSec: number;
  /** Env steps/s over collection + update. */
  trainStepsPerSec: number;
}

async function measure(c: Case, rollouts: number, warmup: number): Promise<PpoBenchRow> {
  const venv = new SyncVectorEnv(c.makeEnv, c.numEnvs);
  const N = c.numEnvs;
  const agent = new PolicyGradientAgent({ config: { ...c.config, algorithm: 'ppo' }, observationSpace: venv.singleObservationSpace, actionSpace: venv.singleActionSpace, numEnvs: N, seed: 0 });
  const T = agent.config.numSteps;
  let obs = (await venv.reset({ seed: 0 })).obs;
  let collectMs = 0;
  let updateMs = 0;
  let grads = 0;
  // The first `warmup` rollouts (JIT, kernel setup) are not counted.
  for (let k = 1 - warmup; k <= rollouts; k++) {
    const t0 = performance.now();
    let t1 = t0;
    for (let t = 0; t < T; t++) {
      const a = await agent.act(obs, { numEnvs: N, mode: 'train' });
      const r = venv.stepSync(a.actions);
      const step = { obs, actions: a.actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) };
      obs = r.obs;
      // The last observe of a rollout runs the update: timed apart from collection.
      if (t === T - 1) t1 = performance.now();
      await agent.observe(step);
    }
    const t2 = performance.now();
    if (k > 0) {
      collectMs += t1 - t0;
      updateMs += t2 - t1;
      grads += agent.config.epochs * agent.config.minibatches;
    }
  }
  agent.dispose();
  await venv.close();
  const steps = rollouts * T * N;
  return {
    case: c.name,
    envs: N,
    rolloutSteps: T,
    collectStepsPerSec: steps / (collectMs / 1000),
    gradStepsPerSec: grads / (updateMs / 1000),
    updatesPerSec: rollouts / (updateMs / 1000),
    trainStepsPerSec: steps / ((collectMs + updateMs) / 1000),
  };
}

/** Measures every case; prints the table and returns the rows. */
export async function runPpoBench(args: BenchArgs): Promise<PpoBenchRow[]> {
  // The backend training uses (wasm with our kernels here), not tfjs' default cpu backend.
  await initBackend();
  const rollouts = numberFlag(args, 'rollouts', 2);
  const warmup = args.flags.warmup === '0' ? 0 : 1;
  const only = args.flags.only;
  await tf.ready();
  process.stdout.write(`tfjs backend: ${tf.getBackend()}\n`);
  const rows: PpoBenchRow[] = [];
  for (const c of cases()) {
    if (only && !c.name.includes(only)) continue;
    const row = await measure(c, rollouts, warmup);
    rows.push(row);
    process.stdout.write(`${row.case}: ${row.trainStepsPerSec.toFixed(1)} train steps/s\n`);
  }
  printTable(
    ['case', 'envs x T', 'collect steps/s', 'grad steps/s', 'updates/s', 'train steps/s'],
    rows.map((r) => [r.case, `${r.envs}x${r.rolloutSteps}`, r.collectStepsPerSec.toFixed(1), r.gradStepsPerSec.toFixed(2), r.updatesPerSec.toFixed(3), r.trainStepsPerSec.toFixed(1)]),
  );
  writeJson(args, 'ppo', { backend: tf.getBackend(), rows });
  return rows;
}

export const bench: Bench = {
  description: 'PPO env steps/s and updates/s: grid (MinAtar CNN) and 84x84x4 pixels (Nature CNN), with and without LSTM',
  run: runPpoBench,
};

/** Entry point for `node dist/bench/ppo.js ...`. */
export async function run(argv: string[]): Promise<PpoBenchRow[]> {
  return runPpoBench(parseBenchArgs(argv));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run(process.argv.slice(2));
