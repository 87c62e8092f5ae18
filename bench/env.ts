/**
 * Env throughput: steps per second of every registered game (games registered later are covered
 * automatically; games with an `obsType` option run as 'grid' and 'rgb'), with uniform random
 * actions. Modes: the env from `make` alone, under a typical training wrapper stack, and
 * WorkerVectorEnv with 1 and 2 workers. Median of several repeats.
 */
import type { Env, ObsArray } from '../src/envs/env.js';
import { listEnvs, make } from '../src/envs/registry.js';
import { SeededRng } from '../src/envs/rng.js';
import { Box, type Space } from '../src/envs/spaces.js';
import { WorkerVectorEnv } from '../src/envs/vector/worker-vector-env.js';
import { ClipReward, FrameStack, GrayScale, RecordEpisodeStatistics, Resize, StickyActions } from '../src/envs/wrappers/index.js';
import { formatRate, measureRate, median, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

/**
 * The stack a training run would use: sticky actions (unless the game has its own, as MinAtar),
 * grayscale + 84x84 for RGB frames, 4 stacked frames, clipped rewards, episode stats.
 */
export function typicalStack(env: Env<ObsArray, number>): Env<ObsArray, number> {
  const ownSticky = env.spec.options !== undefined && 'stickyActionProb' in env.spec.options;
  let e: Env<ObsArray, number> = ownSticky ? env : new StickyActions(env, { p: 0.25 });
  const box = e.observationSpace as Box;
  if (box.dtype === 'uint8' && box.shape.length === 3 && box.shape[2] === 3) {
    e = new Resize(new GrayScale(e as Env<Uint8Array, number>), { height: 84, width: 84 });
  }
  return new RecordEpisodeStatistics(new ClipReward(new FrameStack(e, { k: 4 })));
}
const STACK = 'sticky(0.25) unless the game has its own, +gray+resize84 for rgb, +stack4 +clip +stats';

/** Steps a single env with random actions; resets at episode ends (counted as part of the cost). */
function singleBatch(env: Env<ObsArray, number>, rng: SeededRng, steps: number): () => number {
  const space = env.actionSpace as Space<number>;
  env.reset({ seed: 0 });
  return () => {
    for (let t = 0; t < steps; t++) {
      const r = env.step(space.sample(rng));
      if (r.terminated || r.truncated) env.reset();
    }
    return steps;
  };
}

interface Row {
  game: string;
  obsType: string | null;
  mode: string;
  numEnvs: number;
  numWorkers: number | null;
  stepsPerSec: number;
  runs: number[];
}

async function run(args: BenchArgs): Promise<unknown> {
  const seconds = numberFlag(args, 'seconds', 0.5);
  const repeats = Math.round(numberFlag(args, 'repeats', 5));
  const numEnvs = Math.round(numberFlag(args, 'envs', 8));
  const only = args.flags.games?.split(',');
  const rows: Row[] = [];
  const variants = listEnvs()
    .filter((e) => !only || only.includes(e.id))
    .flatMap((e) => ('obsType' in (e.options ?? {}) ? ['grid', 'rgb'].map((t) => ({ id: e.id, obsType: t as string | null })) : [{ id: e.id, obsType: null }]));
  for (const { id, obsType } of variants) {
    const options = obsType ? { obsType } : {};
    const label = { game: id, obsType };
    for (const [mode, build] of [
      ['raw', () => make<ObsArray, number>(id, options)],
      ['wrapped', () => typicalStack(make<ObsArray, number>(id, options))],
    ] as const) {
      const env = build();
      const runs = await measureRate(singleBatch(env, new SeededRng(1), 1000), { seconds, repeats });
      env.close();
      rows.push({ ...label, mode, numEnvs: 1, numWorkers: null, stepsPerSec: median(runs), runs });
      process.stderr.write(`  ${id}${obsType ? `/${obsType}` : ''} ${mode}: ${formatRate(median(runs))} steps/s\n`);
    }
    for (const numWorkers of [1, 2]) {
      const v = await WorkerVectorEnv.create({ id, options, numEnvs, numWorkers });
      const rng = new SeededRng(2);
      const space = v.singleActionSpace as Space<number>;
      const actions = new Int32Array(numEnvs);
      await v.reset({ seed: 0 });
      const runs = await measureRate(async () => {
        for (let t = 0; t < 50; t++) {
          for (let i = 0; i < numEnvs; i++) actions[i] = space.sample(rng);
          await v.step(actions);
        }
        return 50 * numEnvs;
      }, { seconds, repeats });
      await v.close();
      rows.push({ ...label, mode: `workers${numWorkers}`, numEnvs, numWorkers, stepsPerSec: median(runs), runs });
      process.stderr.write(`  ${id}${obsType ? `/${obsType}` : ''} ${numWorkers} worker(s): ${formatRate(median(runs))} steps/s\n`);
    }
  }
  const modes = ['raw', 'wrapped', 'workers1', 'workers2'];
  const keys = [...new Set(rows.map((r) => `${r.game}${r.obsType ? `/${r.obsType}` : ''}`))];
  process.stdout.write(`\nenv steps/s, random actions, median of ${repeats} x ${seconds} s; wrapped = ${STACK}; workers = WorkerVectorEnv, ${numEnvs} envs\n`);
  printTable(
    ['game', 'raw', 'wrapped', `${numEnvs} envs / 1 worker`, `${numEnvs} envs / 2 workers`],
    keys.map((k) => [k, ...modes.map((m) => formatRate(rows.find((r) => `${r.game}${r.obsType ? `/${r.obsType}` : ''}` === k && r.mode === m)!.stepsPerSec))]),
  );
  const result = { seconds, repeats, numEnvs, stack: STACK, rows };
  writeJson(args, 'env', result);
  return result;
}

export const bench: Bench = {
  description: 'steps/s per registered game: raw, typical wrapper stack, WorkerVectorEnv with 1 and 2 workers',
  run,
};
