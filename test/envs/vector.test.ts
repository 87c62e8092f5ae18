import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { InvalidConfigError, SpaceMismatchError, WorkerError } from '../../src/errors.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import { WorkerVectorEnv } from '../../src/envs/vector/worker-vector-env.js';
import type { VectorEnv, VectorStepResult } from '../../src/envs/vector/types.js';

const faulty = fileURLToPath(new URL('../fixtures/faulty-games.mjs', import.meta.url));
const open: VectorEnv[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((v) => v.close()));
});

async function worker(config: Parameters<typeof WorkerVectorEnv.create>[0]): Promise<WorkerVectorEnv> {
  const v = await WorkerVectorEnv.create(config);
  open.push(v);
  return v;
}

describe('SyncVectorEnv', () => {
  it('keeps the final observation of a truncated episode and resets in the same step', async () => {
    const single = make('cartpole', { maxEpisodeSteps: 3 });
    single.reset({ seed: 7 });
    single.step(1);
    single.step(1);
    const last = single.step(1);
    const v = new SyncVectorEnv(() => make('cartpole', { maxEpisodeSteps: 3 }), 2);
    open.push(v);
    await v.reset({ seed: 7 });
    await v.step([1, 1]);
    await v.step([1, 1]);
    const r = await v.step([1, 1]);
    expect(Array.from(r.truncated)).toEqual([1, 1]);
    expect(Array.from(r.terminated)).toEqual([0, 0]);
    expect(Array.from(r.infos[0]!.finalObs as Float32Array)).toEqual(Array.from(last.obs as Float32Array));
    // Row 0 now holds the first observation of the next episode, not the final one.
    expect(Array.from(r.obs.subarray(0, 4))).not.toEqual(Array.from(last.obs as Float32Array));
  });

  it('marks a game-ended episode terminated, not truncated', async () => {
    const v = new SyncVectorEnv(() => make('catch'), 1);
    open.push(v);
    await v.reset({ seed: 1 });
    let r!: VectorStepResult;
    for (let t = 0; t < 9; t++) r = await v.step([1]);
    expect(r.terminated[0]).toBe(1);
    expect(r.truncated[0]).toBe(0);
    expect((r.infos[0]!.finalObs as Uint8Array).length).toBe(50);
  });
});

async function rollout(v: VectorEnv, steps: number, seed: number): Promise<string[]> {
  const rng = new SeededRng(seed);
  const trace: string[] = [];
  const r0 = await v.reset({ seed });
  trace.push(Array.from(r0.obs).join(','));
  for (let t = 0; t < steps; t++) {
    const actions = Array.from({ length: v.numEnvs }, () => v.singleActionSpace.sample(rng) as number);
    const r = await v.step(actions);
    const finals = r.infos.map((info) => (info.finalObs ? Array.from(info.finalObs as ArrayLike<number>).join(',') : '-'));
    trace.push([Array.from(r.obs).join(','), Array.from(r.rewards).join(','), Array.from(r.terminated).join(''), Array.from(r.truncated).join(''), finals.join('|')].join(' / '));
  }
  return trace;
}

describe('WorkerVectorEnv', () => {
  it.each([
    ['catch', 5, 2],
    ['cartpole', 3, 2],
    ['cartpole', 2, 1],
  ])('gives the same results as SyncVectorEnv for %s (%i envs, %i workers)', async (id, numEnvs, numWorkers) => {
    const options = id === 'cartpole' ? { maxEpisodeSteps: 40 } : {};
    const w = await worker({ id, options, numEnvs, numWorkers });
    const s = new SyncVectorEnv(() => make(id, options), numEnvs);
    open.push(s);
    expect(w.singleObservationSpace.toJSON()).toEqual(s.singleObservationSpace.toJSON());
    expect(w.spec.id).toBe(id);
    const a = await rollout(w, 120, 11);
    const b = await rollout(s, 120, 11);
    expect(a).toEqual(b);
    // Both final-observation paths were exercised.
    expect(a.some((line) => line.split(' / ')[4] !== Array(numEnvs).fill('-').join('|'))).toBe(true);
  });

  it('returns fresh arrays that later steps do not overwrite', async () => {
    const w = await worker({ id: 'catch', numEnvs: 2, numWorkers: 1 });
    const first = (await w.reset({ seed: 3 })).obs;
    const copy = Array.from(first);
    await w.step([0, 2]);
    await w.step([0, 2]);
    expect(Array.from(first)).toEqual(copy);
    expect(first.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  it('surfaces an error thrown in a worker as a WorkerError naming game, step and message', async () => {
    const w = await worker({ id: 'fixture/throw', options: { failAt: 4 }, numEnvs: 2, numWorkers: 2, modules: [faulty] });
    await w.reset();
    for (let t = 1; t < 4; t++) await w.step([0, 0]);
    const err = await w.step([0, 0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as Error).message).toMatch(/WorkerVectorEnv\(fixture\/throw\)/);
    expect((err as Error).message).toMatch(/at step 4 \(sub-env \d\)/);
    expect((err as Error).message).toMatch(/Error: boom at t=4/);
    // The env stays failed: later calls report the same error instead of running on bad state.
    await expect(w.step([0, 0])).rejects.toBe(err);
  });

  it('rejects the pending step when a worker exits instead of hanging', async () => {
    const w = await worker({ id: 'fixture/exit', options: { failAt: 3 }, numEnvs: 2, numWorkers: 2, modules: [faulty] });
    await w.reset();
    await w.step([0, 0]);
    await w.step([0, 0]);
    const err = await w.step([0, 0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as Error).message).toMatch(/exited with code 3 at step 3/);
    await w.close();
    await w.close();
  }, 20_000);

  it('rejects a step left pending by close() instead of hanging', async () => {
    const w = await worker({ id: 'catch', numEnvs: 2, numWorkers: 2 });
    await w.reset();
    const pending = w.step([0, 1]);
    await w.close();
    // Either the step finished before the workers stopped, or it is rejected: it never hangs.
    const outcome = await pending.then(() => 'done', (e: unknown) => e);
    if (outcome !== 'done') expect(outcome).toBeInstanceOf(WorkerError);
    await expect(w.step([0, 1])).rejects.toThrow(/closed/);
  });

  it('delivers non-empty step infos from every worker', async () => {
    const w = await worker({ id: 'fixture/info', numEnvs: 3, numWorkers: 2, modules: [faulty] });
    const r0 = await w.reset();
    expect(r0.infos).toEqual([{}, {}, {}]);
    await w.step([0, 1, 0]);
    const r = await w.step([1, 1, 0]);
    expect(r.infos.map((i) => i.t)).toEqual([2, 2, 2]);
    expect(Array.from(r.infos[2]!.tag as Uint8Array)).toEqual([2, 7]);
    expect(Array.from(r.obs)).toEqual([2, 2, 2]);
  });

  it('reports an unknown game id from the worker', async () => {
    const err = await WorkerVectorEnv.create({ id: 'no-such-game', numEnvs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as Error).message).toMatch(/no-such-game/);
    expect((err as Error).message).toMatch(/catch/);
  });

  it('validates its config, listing every bad field', async () => {
    const err = await WorkerVectorEnv.create({ id: '', numEnvs: 0, numWorkers: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as Error).message).toMatch(/id = ""/);
    expect((err as Error).message).toMatch(/numEnvs = 0/);
    expect((err as Error).message).toMatch(/numWorkers = -1/);
  });

  it('rejects a wrong number of actions', async () => {
    const w = await worker({ id: 'catch', numEnvs: 2, numWorkers: 1 });
    await w.reset();
    await expect(w.step([0])).rejects.toThrow(/2 actions/);
    await expect(w.step([0, 7])).rejects.toThrow(/7 at index 1/);
  });

  it('steps worker blocks separately (one while the other is in flight) with the results of one whole step', async () => {
    const options = { maxEpisodeSteps: 7 };
    const w = await worker({ id: 'cartpole', options, numEnvs: 5, numWorkers: 2 });
    const s = new SyncVectorEnv(() => make('cartpole', options), 5);
    open.push(s);
    expect(w.firsts).toEqual([0, 3]);
    await w.reset({ seed: 11 });
    await s.reset({ seed: 11 });
    for (let t = 0; t < 20; t++) {
      const actions = Int32Array.from({ length: 5 }, (_, i) => (t + i) % 2);
      // Both blocks in flight at once, the second started first.
      const [b, a] = await Promise.all([w.stepBlock(3, actions.subarray(3)), w.stepBlock(0, actions.subarray(0, 3))]);
      const whole = await s.step(actions);
      expect([...a.obs, ...b.obs]).toEqual([...whole.obs]);
      expect([...a.rewards, ...b.rewards]).toEqual([...whole.rewards]);
      expect([...a.truncated, ...b.truncated]).toEqual([...whole.truncated]);
      const finals = [...a.infos, ...b.infos].map((i) => (i.finalObs ? Array.from(i.finalObs as Float32Array) : null));
      expect(finals).toEqual(whole.infos.map((i) => (i.finalObs ? Array.from(i.finalObs as Float32Array) : null)));
    }
    await expect(w.stepBlock(1, [0, 1])).rejects.toThrow(/expected actions for whole worker blocks \(0\.\.2, 3\.\.4\), received 2 actions from sub-env 1/);
  });

  it('snapshots and restores its sub-envs in the workers; a null state resets with the given seed', async () => {
    const w = await worker({ id: 'cartpole', options: { maxEpisodeSteps: 50 }, numEnvs: 3, numWorkers: 2 });
    await w.reset({ seed: 5 });
    for (let t = 0; t < 4; t++) await w.step([1, 0, 1]);
    const states = await w.getStates();
    expect(states.every((x) => x !== null)).toBe(true);
    const trace = async (): Promise<number[][]> => {
      const out: number[][] = [];
      for (let t = 0; t < 6; t++) out.push([...(await w.step([0, 1, 1])).obs]);
      return out;
    };
    const first = await trace();
    const obs = await w.setStates([states[0]!, null, states[2]!], [0, 77, 0]);
    const again = await trace();
    const fresh = make('cartpole', { maxEpisodeSteps: 50 }).reset({ seed: 77 }).obs as Float32Array;
    expect([...obs.subarray(4, 8)]).toEqual([...fresh]);
    // Sub-envs 0 and 2 replay exactly; sub-env 1 started over.
    for (let t = 0; t < 6; t++) {
      expect(again[t]!.slice(0, 4)).toEqual(first[t]!.slice(0, 4));
      expect(again[t]!.slice(8)).toEqual(first[t]!.slice(8));
    }
    expect(again[0]!.slice(4, 8)).not.toEqual(first[0]!.slice(4, 8));
  });
});

describe('SyncVectorEnv: observations that break the declared space', () => {
  /** A one-step game whose observe() returns `bad` from step `from` on (0 = already at reset). */
  const gameWith = (bad: () => unknown, from: number): Env<ObsArray, number> => {
    let t = 0;
    const space = new Box({ shape: [4], dtype: 'float32', low: -1, high: 1 });
    const obs = () => (t >= from ? bad() : new Float32Array(4));
    return {
      spec: { id: 'test/bad-obs' } as never,
      observationSpace: space,
      actionSpace: new Discrete(2),
      reset: () => ((t = 0), { obs: obs() as ObsArray, info: {} }),
      step: () => ((t += 1), { obs: obs() as ObsArray, reward: 0, terminated: t >= 3, truncated: false, info: {} }),
      close: () => undefined,
    } as unknown as Env<ObsArray, number>;
  };
  const cases: Array<[string, () => unknown, number, RegExp]> = [
    ['too short at reset', () => new Float32Array(3), 0, /received Float32Array\(3\)/],
    ['wrong dtype in a step', () => new Uint8Array(4), 1, /received Uint8Array\(4\)/],
    ['a plain array', () => [0, 0, 0, 0], 1, /received /],
    ['out of bounds at a reset', () => Float32Array.of(0, 2, 0, 0), 0, /received values outside its bounds/],
    ['NaN at a reset', () => Float32Array.of(0, NaN, 0, 0), 0, /received values outside its bounds/],
  ];
  for (const [what, bad, from, message] of cases) {
    it(`names the game and the space: ${what}`, () => {
      const venv = new SyncVectorEnv(() => gameWith(bad, from), 2);
      const run = async () => {
        await venv.reset({ seed: 0 });
        for (let i = 0; i < 3; i++) venv.stepSync(Int32Array.of(0, 1));
      };
      return expect(run()).rejects.toThrow(SpaceMismatchError).then(() => expect(run()).rejects.toThrow(new RegExp(`\\[game "test/bad-obs"\\] expected observations in its observationSpace \\(Float32Array\\(4\\)\\), ${message.source}`)));
    });
  }
  it('accepts observations that match the space, also after an autoreset', async () => {
    const venv = new SyncVectorEnv(() => gameWith(() => new Float32Array(4), 0), 2);
    await venv.reset({ seed: 0 });
    for (let i = 0; i < 5; i++) expect(venv.stepSync(Int32Array.of(0, 1)).obs).toHaveLength(8);
  });
});
