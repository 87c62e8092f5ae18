import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { MountainCarContinuousEnv, resolveMountainCarContinuousConfig } from '../../games/mountain-car-continuous/index.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { listEnvs, make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';

const act = (a: number): Float32Array => Float32Array.of(a);
const f32 = Math.fround;
type Game = { position: number; velocity: number };

describe('mountain-car-continuous (Gymnasium MountainCarContinuous-v0)', () => {
  it('follows the published equations, step by step (hand-computed)', () => {
    const env = new MountainCarContinuousEnv();
    expect(Array.from(env.reset({ options: { state: [-0.5, 0] } }).obs)).toEqual([-0.5, 0]);

    // Step 1, action 1: velocity = 0 + 1 * 0.0015 - 0.0025 * cos(3 * -0.5) = 0.0015 - 0.0025 * 0.0707372017 = 0.00132315700
    // position = -0.5 + 0.00132315700 = -0.49867684300; reward = -0.1 * 1^2 = -0.1; state stored as float32.
    let r = env.step(act(1));
    expect(r.reward).toBeCloseTo(-0.1, 15);
    expect(env.getState().game).toEqual({ position: f32(-0.49867684300416926), velocity: f32(0.0013231569958307428) });
    expect(Array.from(r.obs)).toEqual([f32(-0.49867684300416926), f32(0.0013231569958307428)]);
    expect(r.terminated).toBe(false);

    // Step 2, action 2: the force is clipped to 1 but the energy cost uses the action as given: -0.1 * 2^2 = -0.4.
    // velocity = 0.00132315699 + 0.0015 - 0.0025 * cos(3 * -0.49867683649) = 0.00132315699 + 0.0015 - 0.0025 * 0.07469618087 = 0.00263641654
    // position = -0.49867683649 + 0.00263641654 = -0.49604041995
    r = env.step(act(2));
    expect(r.reward).toBeCloseTo(-0.4, 15);
    const g = env.getState().game as Game;
    expect(g.velocity).toBe(f32(0.0026364165379274985));
    expect(g.position).toBe(f32(-0.4960404199527036));

    // Step 3, action -3: force -1, cost -0.1 * 9 = -0.9.
    expect(env.step(act(-3)).reward).toBeCloseTo(-0.9, 15);
  });

  it('stops at the left wall, caps the speed and ends at the goal with +100', () => {
    const env = new MountainCarContinuousEnv();
    // velocity = -0.02 - 0.0015 - 0.0025 * cos(-3.57) = -0.0215 + 0.0025 * 0.90962853 = -0.01922593
    // position = -1.19 - 0.01922593 = -1.20922593 -> clipped to -1.2; at the wall with velocity < 0 -> velocity = 0
    env.reset({ options: { state: [-1.19, -0.02] } });
    let r = env.step(act(-1));
    expect(Array.from(r.obs)).toEqual([f32(-1.2), 0]);
    expect(env.observationSpace.contains(r.obs)).toBe(true);

    // velocity = 0.07 + 0.0015 - 0.0025 * cos(-3) = 0.0715 + 0.0025 * 0.98999250 = 0.07397498 -> capped to 0.07
    // position = -1 + 0.07 = -0.93
    env.reset({ options: { state: [-1.0, 0.07] } });
    r = env.step(act(1));
    expect(Array.from(r.obs)).toEqual([f32(-0.93), f32(0.07)]);

    // velocity = 0.02 + 0.5 * 0.0015 - 0.0025 * cos(1.32) = 0.02075 - 0.0025 * 0.24817545 = 0.02012956; position = 0.46012956 >= 0.45
    // reward = 100 - 0.1 * 0.5^2 = 99.975
    env.reset({ options: { state: [0.44, 0.02] } });
    r = env.step(act(0.5));
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
    expect(r.reward).toBeCloseTo(99.975, 12);
    expect(r.obs[0]).toBe(f32(0.4601295613708691));

    // goalVelocity 0.05: the same step reaches the position but is too slow to finish.
    const strict = new MountainCarContinuousEnv({ goalVelocity: 0.05 });
    strict.reset({ options: { state: [0.44, 0.02] } });
    r = strict.step(act(0.5));
    expect(r.terminated).toBe(false);
    expect(r.reward).toBeCloseTo(-0.025, 15);
  });

  it('resets position ~ U(-0.6, -0.4), velocity 0, from the seeded RNG', () => {
    const env = new MountainCarContinuousEnv();
    const rng = new SeededRng(4);
    const position = -0.6 + 0.2 * rng.random();
    const { obs } = env.reset({ seed: 4 });
    expect(env.getState().game).toEqual({ position, velocity: 0 });
    expect(Array.from(obs)).toEqual([f32(position), 0]);
    for (let i = 0; i < 200; i++) {
      env.reset();
      const g = env.getState().game as Game;
      expect(g.position).toBeGreaterThanOrEqual(-0.6);
      expect(g.position).toBeLessThan(-0.4);
      expect(g.velocity).toBe(0);
    }
  });

  it('registers with a 999-step TimeLimit and Gymnasium spaces (float32 bounds)', () => {
    const entry = listEnvs().find((e) => e.id === 'mountain-car-continuous');
    expect(entry?.maxEpisodeSteps).toBe(999);
    expect(entry?.rewardThreshold).toBe(90);
    const env = make<Float32Array, Float32Array>('mountain-car-continuous');
    expect(env.observationSpace.toJSON()).toEqual({ type: 'Box', shape: [2], dtype: 'float32', low: [f32(-1.2), f32(-0.07)], high: [f32(0.6), f32(0.07)] });
    expect(env.actionSpace.toJSON()).toEqual({ type: 'Box', shape: [1], dtype: 'float32', low: [-1], high: [1] });
    expect(env.spec.actionNames).toEqual(['force']);
    env.reset({ seed: 0 });
    let n = 0;
    let r;
    do {
      r = env.step(act(0)); // no force: the car rocks in the valley and never reaches the goal
      n++;
    } while (!r.terminated && !r.truncated);
    expect(n).toBe(999);
    expect(r.truncated).toBe(true);
    expect(r.terminated).toBe(false);
  });

  it('reaches the goal with a bang-bang controller that pushes along the velocity', () => {
    const env = make<Float32Array, Float32Array>('mountain-car-continuous');
    let { obs } = env.reset({ seed: 1 });
    let ret = 0;
    let r;
    do {
      r = env.step(act(obs[1]! >= 0 ? 1 : -1));
      obs = r.obs;
      ret += r.reward;
    } while (!r.terminated && !r.truncated);
    expect(r.terminated).toBe(true);
    expect(ret).toBeGreaterThan(80);
  });

  it('passes checkEnv and is deterministic under a seed', () => {
    expect(() => checkEnv(() => make('mountain-car-continuous'), { steps: 300 })).not.toThrow();
    const run = (seed: number): number[] => {
      const env = make<Float32Array, Float32Array>('mountain-car-continuous');
      const out = Array.from(env.reset({ seed }).obs);
      for (let t = 0; t < 60; t++) {
        const r = env.step(act(Math.sin(t / 5) * 1.5));
        out.push(...r.obs, r.reward);
      }
      return out;
    };
    expect(run(2)).toEqual(run(2));
    expect(run(2)).not.toEqual(run(3));
  });

  it('restores a snapshot exactly, also through JSON, RNG included', () => {
    const env = new MountainCarContinuousEnv();
    env.reset({ seed: 8 });
    for (let t = 0; t < 25; t++) env.step(act(Math.cos(t / 3)));
    const snap = JSON.parse(JSON.stringify(env.getState()));
    const tail = (e: MountainCarContinuousEnv): number[] => {
      const out: number[] = [];
      for (let t = 0; t < 40; t++) {
        const r = e.step(act(t % 7 < 3 ? -1 : 1));
        out.push(...r.obs, r.reward);
      }
      out.push(...e.reset().obs);
      return out;
    };
    const expected = tail(env);
    const restored = new MountainCarContinuousEnv();
    restored.reset({ seed: 77 });
    restored.setState(snap);
    expect(tail(restored)).toEqual(expected);
    expect(restored.render().data).toEqual(env.render().data);
    expect(() => restored.setState({ game: null })).toThrow(InvalidConfigError);
  });

  it('clips out-of-bounds actions and rejects non-finite or misshapen ones', () => {
    const env = new MountainCarContinuousEnv();
    env.reset({ options: { state: [-0.5, 0] } });
    const r = env.step(act(50));
    expect(r.reward).toBeCloseTo(-250, 10); // -0.1 * 50^2
    expect((env.getState().game as Game).velocity).toBe(f32(0.0013231569958307428)); // same as force 1
    expect(() => env.step(act(Number.NaN))).toThrowError(/\[mountain-car-continuous\.step\] expected a finite action in \[-1, 1\], received NaN; fix: /);
    expect(() => env.step(act(-Infinity))).toThrowError(InvalidActionError);
    expect(() => env.step(new Float32Array(0))).toThrowError(InvalidActionError);
  });

  it('rejects bad options, all at once', () => {
    expect(() => resolveMountainCarContinuousConfig({ goalVelocity: Infinity, renderSize: 1.5, power: 2 } as never)).toThrowError(
      /\[mountain-car-continuous\] expected .*received unknown options power; goalVelocity Infinity; renderSize 1\.5; fix: /,
    );
    expect(() => new MountainCarContinuousEnv().reset({ options: { state: ['a', 0] } })).toThrowError(InvalidConfigError);
    expect(() => new MountainCarContinuousEnv({ renderSize: 4097 })).toThrowError(/renderSize 4097: rendered frame 4097x4097/);
  });

  it('renders a 64x64 RGB frame where the car moves with the position', () => {
    const env = new MountainCarContinuousEnv();
    env.reset({ options: { state: [-1.0, 0] } });
    const left = env.render();
    expect([left.width, left.height, left.data.length]).toEqual([64, 64, 64 * 64 * 3]);
    env.reset({ options: { state: [0.3, 0] } });
    const right = env.render();
    const carColumns = (f: typeof left): number[] => {
      const xs = new Set<number>();
      for (let i = 0; i < f.data.length; i += 3) if (f.data[i] === 60 && f.data[i + 2] === 200) xs.add((i / 3) % 64);
      return [...xs];
    };
    expect(Math.max(...carColumns(left))).toBeLessThan(Math.min(...carColumns(right)));
  });
});
