import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { InvalidActionError } from '../../src/errors.js';
import { actionAt, actionNamesByPart, actionWidth } from '../../src/envs/actions.js';
import type { Env, EnvSpec, RgbFrame, StepResult } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { Box, Discrete, MultiDiscrete } from '../../src/envs/spaces.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import { evaluate } from '../../src/train/evaluate.js';
import type { Agent } from '../../src/agents/agent.js';

/** Remembers every action it is given; one-step episodes with reward = sum of the action's parts. */
class Recorder implements Env<Float32Array, unknown> {
  readonly observationSpace = new Box({ low: 0, high: 1, shape: [1], dtype: 'float32' });
  readonly spec: EnvSpec = { id: 'recorder', actionNames: [] };
  readonly seen: unknown[] = [];
  constructor(readonly actionSpace: Discrete | MultiDiscrete | Box) {}
  render(): RgbFrame {
    return { width: 1, height: 1, data: new Uint8Array(3) };
  }
  close(): void {}
  reset(): { obs: Float32Array; info: Record<string, unknown> } {
    return { obs: new Float32Array(1), info: {} };
  }
  step(action: unknown): StepResult<Float32Array> {
    this.seen.push(action);
    const parts = typeof action === 'number' ? [action] : Array.from(action as ArrayLike<number>);
    return { obs: new Float32Array(1), reward: parts.reduce((a, b) => a + b, 0), terminated: true, truncated: false, info: {} };
  }
}

describe('action batches (one flat array, a row per sub-env)', () => {
  it('widths: 1 for Discrete, parts for MultiDiscrete, size for Box', () => {
    expect(actionWidth(new Discrete(4))).toBe(1);
    expect(actionWidth(new MultiDiscrete([5, 3, 2]))).toBe(3);
    expect(actionWidth(new Box({ low: -1, high: 1, shape: [2, 3], dtype: 'float32' }))).toBe(6);
  });

  it('actionAt gives a number for Discrete and a fresh row for the others', () => {
    const flat = new Float32Array([1, 2, 3, 4]);
    const row = actionAt(flat, 1, 2, new Box({ low: -5, high: 5, shape: [2], dtype: 'float32' })) as Float32Array;
    expect(Array.from(row)).toEqual([3, 4]);
    row[0] = 9;
    expect(flat[2]).toBe(3);
    expect(actionAt(new Int32Array([3, 1]), 1, 1, new Discrete(4))).toBe(1);
  });

  it('SyncVectorEnv hands each sub-env its row (Box and MultiDiscrete) and checks the length', async () => {
    const box = new SyncVectorEnv(() => new Recorder(new Box({ low: -2, high: 2, shape: [2], dtype: 'float32' })) as never, 3);
    await box.reset();
    const r = await box.step(new Float32Array([0.5, 1, -1, 0, 2, -2]));
    expect(Array.from(r.rewards)).toEqual([1.5, -1, 0]);
    expect(Array.from((box.envs[1] as unknown as Recorder).seen[0] as Float32Array)).toEqual([-1, 0]);
    await expect(box.step(new Float32Array(5))).rejects.toThrow(InvalidActionError);
    await expect(box.step(new Float32Array(5))).rejects.toThrow(/3 x 2 action values/);
    const md = new SyncVectorEnv(() => new Recorder(new MultiDiscrete([5, 3])) as never, 2);
    await md.reset();
    const m = await md.step(new Int32Array([4, 2, 1, 0]));
    expect(Array.from(m.rewards)).toEqual([6, 1]);
    expect((md.envs[0] as unknown as Recorder).seen[0]).toBeInstanceOf(Int32Array);
  });

  it('steps pendulum, a Box-action game, through a vector env', async () => {
    const vec = new SyncVectorEnv(() => make('pendulum') as never, 2);
    await vec.reset({ seed: 1 });
    const r = await vec.step(new Float32Array([2, -2]));
    expect(r.rewards.every((x) => Number.isFinite(x) && x <= 0)).toBe(true);
    await vec.close();
  });

  it('evaluate passes each env its Box row and keeps it in the episode', async () => {
    const agent = {
      kind: 'fixed',
      act: async (_obs: Float32Array, o: { numEnvs: number }) => ({ actions: Float32Array.from({ length: o.numEnvs * 2 }, (_, i) => (i % 2 ? 1 : 0.25)), info: {} }),
    } as unknown as Agent;
    const eps: unknown[][] = [];
    const res = await evaluate(agent, {
      makeEnv: () => new Recorder(new Box({ low: -2, high: 2, shape: [2], dtype: 'float32' })) as never,
      episodes: 3,
      baseSeed: 0,
      epsilon: 0,
      onEpisode: (e) => void eps.push(e.actions),
    });
    expect(res.returns).toEqual([1.25, 1.25, 1.25]);
    expect(Array.from(eps[0]![0] as Float32Array)).toEqual([0.25, 1]);
  });
});

describe('actionNamesByPart', () => {
  it('splits the flat names of a MultiDiscrete spec part by part; missing names are <part>:<index>', () => {
    expect(actionNamesByPart([5, 3, 2], make('tank').spec.actionNames)).toEqual([
      ['move:none', 'move:up', 'move:right', 'move:down', 'move:left'],
      ['turret:left', 'turret:keep', 'turret:right'],
      ['fire:no', 'fire:yes'],
    ]);
    expect(actionNamesByPart([2, 2], ['a', 'b', 'c'])).toEqual([['a', 'b'], ['c', '1:1']]);
  });
});
