import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { InvalidConfigError, SpaceMismatchError } from '../../src/errors.js';
import type { Env, ObsArray, ResetArgs, StepResult } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { restoreEnvChain, snapshotEnvChain } from '../../src/envs/env-state.js';
import {
  ClipReward,
  Flicker,
  FrameSkip,
  FrameStack,
  GrayScale,
  PixelObservation,
  RecordEpisodeStatistics,
  Resize,
  StickyActions,
} from '../../src/envs/wrappers/index.js';

/** Test env: obs filled with the step count (or `frames` given up front), reward = action, ends after `length` steps. */
class ScriptEnv implements Env<ObsArray, number> {
  readonly actionSpace = new Discrete(4);
  readonly observationSpace: Box;
  readonly spec = { id: 'script', actionNames: ['a', 'b', 'c', 'd'] };
  readonly executed: number[] = [];
  rewards: number[] | null = null;
  frames: ObsArray[] | null = null;
  private t = 0;

  constructor(readonly shape: number[] = [2, 2, 1], readonly length = 100, readonly dtype: 'uint8' | 'float32' = 'uint8') {
    this.observationSpace = new Box({ shape, dtype, low: 0, high: 255 });
  }
  private obs(): ObsArray {
    if (this.frames) return this.frames[this.t]!.slice();
    const o = this.dtype === 'uint8' ? new Uint8Array(this.observationSpace.size) : new Float32Array(this.observationSpace.size);
    return o.fill(this.t);
  }
  reset(_args?: ResetArgs) {
    this.t = 0;
    return { obs: this.obs(), info: { at: 'reset' } };
  }
  step(action: number): StepResult<ObsArray> {
    this.executed.push(action);
    this.t++;
    const reward = this.rewards ? this.rewards[this.t - 1]! : action;
    return { obs: this.obs(), reward, terminated: this.t >= this.length, truncated: false, info: { t: this.t } };
  }
  render() {
    return { width: 1, height: 1, data: new Uint8Array(3) };
  }
  close() {}
}

describe('TimeLimit', () => {
  it('truncates at the cap without marking termination', () => {
    const env = make('catch', { maxEpisodeSteps: 4 });
    env.reset({ seed: 0 });
    for (let t = 0; t < 3; t++) expect(env.step(1).truncated).toBe(false);
    const r = env.step(1);
    expect(r.truncated).toBe(true);
    expect(r.terminated).toBe(false);
  });

  it('leaves a game-ended episode terminated and not truncated when the cap is not reached', () => {
    const env = make('catch', { maxEpisodeSteps: 20 });
    env.reset({ seed: 0 });
    let r!: StepResult<unknown>;
    for (let t = 0; t < 9; t++) r = env.step(1);
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
  });
});

describe('RecordEpisodeStatistics', () => {
  it('reports return, length and time on the last step only', () => {
    let now = 1000;
    const env = new RecordEpisodeStatistics(make('catch'), { clock: () => now });
    env.reset({ seed: 2 });
    let total = 0;
    for (let t = 1; t <= 9; t++) {
      now += 250;
      const r = env.step(t % 3);
      total += r.reward;
      if (t < 9) expect(r.info.episode).toBeUndefined();
      else expect(r.info.episode).toEqual({ return: total, length: 9, time: 2.25 });
    }
  });

  it('counts a truncated episode through TimeLimit', () => {
    const env = new RecordEpisodeStatistics(make('cartpole', { maxEpisodeSteps: 5 }));
    env.reset({ seed: 0 });
    let r!: StepResult<unknown>;
    for (let t = 0; t < 5; t++) r = env.step(t % 2);
    expect(r.truncated).toBe(true);
    expect(r.terminated).toBe(false);
    expect((r.info.episode as { return: number; length: number }).length).toBe(5);
    expect((r.info.episode as { return: number }).return).toBe(5);
  });
});

describe('StickyActions', () => {
  it('never repeats with p = 0 and always repeats the start action with p = 1', () => {
    const a = new ScriptEnv();
    const never = new StickyActions(a, { p: 0 });
    never.reset({ seed: 1 });
    for (const x of [1, 2, 3, 1]) never.step(x);
    expect(a.executed).toEqual([1, 2, 3, 1]);
    const b = new ScriptEnv();
    const always = new StickyActions(b, { p: 1 });
    always.reset({ seed: 1 });
    for (const x of [1, 2, 3]) always.step(x);
    expect(b.executed).toEqual([0, 0, 0]);
  });

  it('repeats about p of the time, reproducibly per seed', () => {
    const run = (seed: number): number[] => {
      const inner = new ScriptEnv([1], 10_000);
      const env = new StickyActions(inner, { p: 0.25 });
      env.reset({ seed });
      for (let t = 0; t < 4000; t++) env.step(t % 2 === 0 ? 1 : 2);
      return inner.executed;
    };
    const a = run(5);
    expect(run(5)).toEqual(a);
    expect(run(6)).not.toEqual(a);
    const repeats = a.filter((x, t) => x !== (t % 2 === 0 ? 1 : 2)).length / a.length;
    expect(repeats).toBeGreaterThan(0.2);
    expect(repeats).toBeLessThan(0.3);
  });

  it('restores its RNG and previous action from getWrapperState', () => {
    const env = new StickyActions(make('catch', { orderEnforcing: false }), { p: 0.5 });
    env.reset({ seed: 9 });
    env.step(0);
    env.step(2);
    const saved = snapshotEnvChain(env);
    const tail = (): string => Array.from({ length: 6 }, (_, t) => {
      const r = env.step(t % 3);
      return `${Array.from(r.obs as Uint8Array).join('')}:${r.reward}`;
    }).join(' ');
    const first = tail();
    restoreEnvChain(env, JSON.parse(JSON.stringify(saved)));
    expect(tail()).toBe(first);
    expect(() => env.setWrapperState({ previous: 1, rng: { kind: 'alea' } })).toThrow(/\[StickyActions.setWrapperState\] expected a state with its RNG/);
  });

  it('rejects a bad probability', () => {
    expect(() => new StickyActions(new ScriptEnv(), { p: 1.5 })).toThrow(InvalidConfigError);
    expect(() => new StickyActions(new ScriptEnv(), { p: 1.5 })).toThrow(/p = 1.5 \(want a probability in \[0, 1\]\)/);
  });
});

describe('FrameSkip', () => {
  it('sums rewards over k steps and returns the last observation', () => {
    const inner = new ScriptEnv();
    inner.rewards = [1, 2, 3, 4, 5, 6, 7, 8];
    const env = new FrameSkip(inner, { k: 3 });
    env.reset();
    const r = env.step(2);
    expect(r.reward).toBe(6);
    expect(Array.from(r.obs)).toEqual([3, 3, 3, 3]);
    expect(r.info.frames).toBe(3);
    expect(inner.executed).toEqual([2, 2, 2]);
  });

  it('stops at the end of the episode', () => {
    const inner = new ScriptEnv([1], 5);
    const env = new FrameSkip(inner, { k: 4 });
    env.reset();
    expect(env.step(1).reward).toBe(4);
    const r = env.step(1);
    expect(r.terminated).toBe(true);
    expect(r.reward).toBe(1);
    expect(r.info.frames).toBe(1);
  });

  it('max-pools the last two observations', () => {
    const inner = new ScriptEnv([3, 1, 1]);
    inner.frames = [new Uint8Array([0, 0, 0]), new Uint8Array([9, 9, 9]), new Uint8Array([5, 0, 7]), new Uint8Array([1, 8, 2])];
    const env = new FrameSkip(inner, { k: 3, maxPoolLast2: true });
    env.reset();
    expect(Array.from(env.step(0).obs)).toEqual([5, 8, 7]);
  });

  it('reports every bad option at once', () => {
    expect(() => new FrameSkip(new ScriptEnv(), { k: 0, maxPoolLast2: 'yes' as unknown as boolean })).toThrow(/k = 0 .*maxPoolLast2 = "yes"/);
  });
});

describe('GrayScale', () => {
  it('applies ITU-R 601 luma weights', () => {
    const inner = new ScriptEnv([1, 4, 3]);
    inner.frames = [new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])];
    const env = new GrayScale(inner as unknown as Env<Uint8Array, number>);
    expect(env.observationSpace.shape).toEqual([1, 4, 1]);
    const { obs } = env.reset();
    expect(Array.from(obs)).toEqual([76, 150, 29, 255]);
    expect(env.observationSpace.contains(obs)).toBe(true);
  });

  it('rejects non-RGB observations', () => {
    expect(() => new GrayScale(new ScriptEnv([2, 2, 1]) as unknown as Env<Uint8Array, number>)).toThrow(SpaceMismatchError);
    expect(() => new GrayScale(new ScriptEnv([2, 2, 1]) as unknown as Env<Uint8Array, number>)).toThrow(/\[H, W, 3\].*uint8 \[2, 2, 1\]/);
  });
});

describe('Resize', () => {
  it('averages 2x2 blocks when halving', () => {
    const inner = new ScriptEnv([2, 4, 1]);
    inner.frames = [new Uint8Array([0, 2, 10, 20, 4, 6, 30, 40])];
    const env = new Resize(inner, { height: 1, width: 2 });
    expect(env.observationSpace.shape).toEqual([1, 2, 1]);
    expect(Array.from(env.reset().obs)).toEqual([3, 25]);
  });

  it('weights partially covered pixels by their overlap (3 -> 2) for every channel', () => {
    const inner = new ScriptEnv([1, 3, 2], 10, 'float32');
    inner.frames = [new Float32Array([0, 60, 3, 30, 6, 0])];
    const env = new Resize(inner, { height: 1, width: 2 });
    // out0 = (1 * p0 + 0.5 * p1) / 1.5, out1 = (0.5 * p1 + 1 * p2) / 1.5
    expect(Array.from(env.reset().obs)).toEqual([1, 50, 5, 10]);
    expect(env.observationSpace.shape).toEqual([1, 2, 2]);
  });

  it('replicates pixels when enlarging and keeps the declared space', () => {
    const inner = new ScriptEnv([1, 2, 1]);
    inner.frames = [new Uint8Array([10, 200])];
    const env = new Resize(inner, { height: 2, width: 4 });
    const { obs } = env.reset();
    expect(Array.from(obs)).toEqual([10, 10, 200, 200, 10, 10, 200, 200]);
    expect(env.observationSpace.contains(obs)).toBe(true);
  });

  it('requires height and width', () => {
    expect(() => new Resize(new ScriptEnv(), {} as { height: number; width: number })).toThrow(/missing height; missing width/);
  });
});

describe('FrameStack', () => {
  it('fills every slot with the first observation on reset and stacks oldest first on the last axis', () => {
    const env = new FrameStack(new ScriptEnv([1, 2, 1]), { k: 3 });
    expect(env.observationSpace.shape).toEqual([1, 2, 3]);
    const r0 = env.reset().obs;
    expect(Array.from(r0)).toEqual([0, 0, 0, 0, 0, 0]);
    const r1 = env.step(0).obs;
    expect(Array.from(r1)).toEqual([0, 0, 1, 0, 0, 1]);
    env.step(0);
    const r3 = env.step(0).obs;
    expect(Array.from(r3)).toEqual([1, 2, 3, 1, 2, 3]);
    // Fresh arrays: earlier results are untouched.
    expect(Array.from(r1)).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('interleaves multi-channel frames per pixel', () => {
    const inner = new ScriptEnv([1, 1, 2]);
    inner.frames = [new Uint8Array([1, 2]), new Uint8Array([3, 4])];
    const env = new FrameStack(inner, { k: 2 });
    env.reset();
    expect(Array.from(env.step(0).obs)).toEqual([1, 2, 3, 4]);
  });

  it('declares a space that holds every stacked observation (cartpole, 1-D)', () => {
    const env = new FrameStack(make('cartpole'), { k: 4 });
    expect((env.observationSpace as Box).shape).toEqual([16]);
    checkEnv(() => new FrameStack(make('cartpole'), { k: 4 }), { steps: 50, skipRender: true });
  });
});

describe('ClipReward', () => {
  it('sign-clips by default and clamps with min/max', () => {
    const mk = (): ScriptEnv => {
      const e = new ScriptEnv();
      e.rewards = [5, -0.5, 0, 0.25];
      return e;
    };
    const sign = new ClipReward(mk());
    sign.reset();
    expect([0, 1, 2, 3].map(() => sign.step(0).reward)).toEqual([1, -1, 0, 1]);
    const clamp = new ClipReward(mk(), { min: -0.2, max: 2 });
    clamp.reset();
    const rs = [0, 1, 2, 3].map(() => clamp.step(0));
    expect(rs.map((r) => r.reward)).toEqual([2, -0.2, 0, 0.25]);
    expect(rs[0]!.info.rawReward).toBe(5);
  });

  it('rejects min without max', () => {
    expect(() => new ClipReward(new ScriptEnv(), { min: -1 })).toThrow(/both min and max/);
  });
});

describe('PixelObservation', () => {
  it('returns the RGB render as a uint8 [h, w, 3] observation', () => {
    const env = new PixelObservation(make('catch'));
    expect((env.observationSpace as Box).shape).toEqual([80, 40, 3]);
    const { obs } = env.reset({ seed: 4 });
    expect(Array.from(obs)).toEqual(Array.from(env.render().data));
    expect(env.observationSpace.contains(obs)).toBe(true);
  });

  it('passes checkEnv under a typical pixel stack', () => {
    const stack = (): Env<ObsArray, number> =>
      new FrameStack(new Resize(new GrayScale(new PixelObservation(make('catch'))), { height: 20, width: 10 }), { k: 4 });
    expect((stack().observationSpace as Box).shape).toEqual([20, 10, 4]);
    checkEnv(stack, { steps: 40 });
  });
});

describe('Flicker', () => {
  it('blanks every observation with p = 1 and none with p = 0', () => {
    const all = new Flicker(new ScriptEnv(), { p: 1 });
    const r0 = all.reset({ seed: 0 });
    expect(r0.info.flickered).toBe(true);
    const r = all.step(0);
    expect(Array.from(r.obs)).toEqual([0, 0, 0, 0]);
    expect(r.info.flickered).toBe(true);
    const none = new Flicker(new ScriptEnv(), { p: 0 });
    none.reset({ seed: 0 });
    const s = none.step(0);
    expect(Array.from(s.obs)).toEqual([1, 1, 1, 1]);
    expect(s.info.flickered).toBe(false);
  });

  it('flickers reproducibly per seed, about p of the time', () => {
    const run = (seed: number): boolean[] => {
      const env = new Flicker(new ScriptEnv([1], 10_000), { p: 0.3 });
      env.reset({ seed });
      return Array.from({ length: 2000 }, () => env.step(0).info.flickered as boolean);
    };
    const a = run(1);
    expect(run(1)).toEqual(a);
    const rate = a.filter(Boolean).length / a.length;
    expect(rate).toBeGreaterThan(0.25);
    expect(rate).toBeLessThan(0.35);
  });

  it('rejects spaces that do not contain zero', () => {
    const inner = new ScriptEnv();
    Object.defineProperty(inner, 'observationSpace', { value: new Box({ shape: [1], dtype: 'uint8', low: 1, high: 5 }) });
    expect(() => new Flicker(inner, { p: 0.5 })).toThrow(SpaceMismatchError);
  });
});
