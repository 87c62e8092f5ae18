import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { PendulumEnv, angleNormalize, resolvePendulumConfig } from '../../games/pendulum/index.js';
import { checkEnv } from '../../src/envs/check-env.js';
import { listEnvs, make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidActionError, InvalidConfigError } from '../../src/errors.js';

const act = (u: number): Float32Array => Float32Array.of(u);
const f32 = Math.fround;

describe('pendulum (Gymnasium Pendulum-v1)', () => {
  it('follows the published equations, step by step (hand-computed)', () => {
    const env = new PendulumEnv();
    const { obs } = env.reset({ options: { state: [1.0, 0.5] } });
    expect(Array.from(obs)).toEqual([f32(Math.cos(1)), f32(Math.sin(1)), 0.5]);

    // Step 1, u = 1.5 (inside the bounds); g = 10, m = l = 1, dt = 0.05.
    // cost = angle_normalize(1)^2 + 0.1 * 0.5^2 + 0.001 * 1.5^2 = 1 + 0.025 + 0.00225 = 1.02725
    // newthdot = 0.5 + (3*10/2 * sin(1) + 3/1 * 1.5) * 0.05 = 0.5 + (12.6220647721 + 4.5) * 0.05 = 1.35610323861
    // newth = 1 + 1.35610323861 * 0.05 = 1.06780516193
    let r = env.step(act(1.5));
    expect(r.reward).toBeCloseTo(-1.02725, 12);
    let g = env.getState().game as { th: number; thdot: number };
    expect(g.thdot).toBeCloseTo(1.3561032386059226, 12);
    expect(g.th).toBeCloseTo(1.0678051619302962, 12);
    expect(r.obs[0]).toBeCloseTo(0.4820483922958374, 6); // cos(1.06780516193)
    expect(r.obs[1]).toBeCloseTo(0.8761445879936218, 6); // sin(1.06780516193)
    expect(r.obs[2]).toBe(f32(1.3561032386059226));
    expect(r.terminated).toBe(false);
    expect(r.truncated).toBe(false);

    // Step 2, u = 5 is clipped to 2 (no error).
    // cost = 1.06780516193^2 + 0.1 * 1.35610323861^2 + 0.001 * 4 = 1.14020786384 + 0.18390159938 + 0.004 = 1.32810946322
    // newthdot = 1.35610323861 + (15 * sin(1.06780516193) + 6) * 0.05 = 1.35610323861 + (15 * 0.87614459731 + 6) * 0.05 = 2.31321168659
    // newth = 1.06780516193 + 2.31321168659 * 0.05 = 1.18346574626
    r = env.step(act(5));
    expect(r.reward).toBeCloseTo(-1.328109463220733, 12);
    g = env.getState().game as { th: number; thdot: number };
    expect(g.thdot).toBeCloseTo(2.313211686588682, 12);
    expect(g.th).toBeCloseTo(1.1834657462597302, 12);

    // Step 3, u = -3 is clipped to -2.
    // cost = 1.18346574626^2 + 0.1 * 2.31321168659^2 + 0.001 * 4 = 1.40059117257 + 0.53509483070 + 0.004 = 1.93968600327
    // newthdot = 2.31321168659 + (15 * 0.92592064565 - 6) * 0.05 = 2.70765217083
    // newth = 1.18346574626 + 2.70765217083 * 0.05 = 1.31884835480
    r = env.step(act(-3));
    expect(r.reward).toBeCloseTo(-1.9396860032671457, 12);
    g = env.getState().game as { th: number; thdot: number };
    expect(g.thdot).toBeCloseTo(2.7076521708269152, 12);
    expect(g.th).toBeCloseTo(1.318848354801076, 12);
  });

  it('clips the angular speed to 8 and wraps the angle in the cost', () => {
    const env = new PendulumEnv();
    // thdot = 7.9 + (15 * sin(0) + 3 * 2) * 0.05 = 8.2 -> clipped to 8; th = 0 + 8 * 0.05 = 0.4
    // cost = 0 + 0.1 * 7.9^2 + 0.001 * 2^2 = 6.241 + 0.004 = 6.245
    env.reset({ options: { state: [0, 7.9] } });
    const r = env.step(act(2));
    expect(r.reward).toBeCloseTo(-6.245, 12);
    expect(r.obs[2]).toBe(8);
    expect((env.getState().game as { th: number }).th).toBeCloseTo(0.4, 12);

    // angle_normalize(4) = ((4 + pi) mod 2pi) - pi = 4 - 2pi = -2.28318530718; cost = 2.28318530718^2 = 5.21293514692
    env.reset({ options: { state: [4, 0] } });
    expect(env.step(act(0)).reward).toBeCloseTo(-5.212935146920741, 12);
    env.reset({ options: { state: [-4, 0] } });
    expect(env.step(act(0)).reward).toBeCloseTo(-5.212935146920741, 12);
    expect(angleNormalize(4)).toBeCloseTo(4 - 2 * Math.PI, 15);
    expect(angleNormalize(-4)).toBeCloseTo(2 * Math.PI - 4, 15);
    // Python's modulo: (pi + pi) % 2pi = 0 -> -pi, and -pi stays -pi.
    expect(angleNormalize(Math.PI)).toBe(-Math.PI);
    expect(angleNormalize(-Math.PI)).toBe(-Math.PI);
  });

  it('resets th ~ U(-pi, pi), thdot ~ U(-1, 1) from the seeded RNG', () => {
    const env = new PendulumEnv();
    const rng = new SeededRng(11);
    const th = -Math.PI + 2 * Math.PI * rng.random();
    const thdot = -1 + 2 * rng.random();
    env.reset({ seed: 11 });
    expect(env.getState().game).toEqual({ th, thdot, lastU: null });
    let minTh = Infinity;
    let maxTh = -Infinity;
    for (let i = 0; i < 300; i++) {
      env.reset();
      const s = env.getState().game as { th: number; thdot: number };
      expect(Math.abs(s.thdot)).toBeLessThanOrEqual(1);
      minTh = Math.min(minTh, s.th);
      maxTh = Math.max(maxTh, s.th);
    }
    expect(minTh).toBeGreaterThanOrEqual(-Math.PI);
    expect(maxTh).toBeLessThanOrEqual(Math.PI);
    expect(maxTh - minTh).toBeGreaterThan(5.5); // covers most of the circle
  });

  it('registers with a 200-step TimeLimit: truncated, never terminated; Box spaces as Gymnasium', () => {
    expect(listEnvs().find((e) => e.id === 'pendulum')?.maxEpisodeSteps).toBe(200);
    const env = make<Float32Array, Float32Array>('pendulum');
    expect(env.observationSpace.toJSON()).toEqual({ type: 'Box', shape: [3], dtype: 'float32', low: [-1, -1, -8], high: [1, 1, 8] });
    expect(env.actionSpace.toJSON()).toEqual({ type: 'Box', shape: [1], dtype: 'float32', low: [-2], high: [2] });
    expect(env.spec.actionNames).toEqual(['torque']);
    env.reset({ seed: 0 });
    let n = 0;
    let r;
    do {
      r = env.step(act(n % 2 ? 2 : -2));
      n++;
      expect(r.terminated).toBe(false);
    } while (!r.truncated);
    expect(n).toBe(200);
  });

  it('passes checkEnv and is deterministic under a seed', () => {
    expect(() => checkEnv(() => make('pendulum'), { steps: 450 })).not.toThrow();
    const run = (seed: number): number[] => {
      const env = make<Float32Array, Float32Array>('pendulum');
      const out = Array.from(env.reset({ seed }).obs);
      for (let t = 0; t < 50; t++) {
        const r = env.step(act(Math.sin(t) * 3));
        out.push(...r.obs, r.reward);
      }
      return out;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('restores a snapshot exactly, also through JSON, RNG included', () => {
    const env = new PendulumEnv();
    env.reset({ seed: 3 });
    for (let t = 0; t < 17; t++) env.step(act(Math.cos(t) * 2.5));
    const snap = JSON.parse(JSON.stringify(env.getState()));
    const tail = (e: PendulumEnv): number[] => {
      const out: number[] = [];
      for (let t = 0; t < 30; t++) {
        const r = e.step(act(t / 10 - 1.5));
        out.push(...r.obs, r.reward);
      }
      out.push(...e.reset().obs); // draws from the RNG: it must have been restored too
      return out;
    };
    const expected = tail(env);
    const restored = new PendulumEnv();
    restored.reset({ seed: 999 });
    restored.setState(snap);
    expect(tail(restored)).toEqual(expected);
    expect(restored.render().data).toEqual(env.render().data);
    expect(() => restored.setState({ game: { th: 'x' } })).toThrow(InvalidConfigError);
  });

  it('clips out-of-bounds actions and rejects non-finite or misshapen ones', () => {
    const a = new PendulumEnv();
    const b = new PendulumEnv();
    a.reset({ options: { state: [0.3, -0.2] } });
    b.reset({ options: { state: [0.3, -0.2] } });
    expect(a.step(act(-100))).toEqual(b.step(act(-2)));
    expect(() => a.step(act(Number.NaN))).toThrowError(InvalidActionError);
    expect(() => a.step(act(Number.NaN))).toThrowError(/\[pendulum\.step\] expected a finite action in \[-2, 2\], received NaN; fix: /);
    expect(() => a.step(act(Infinity))).toThrowError(InvalidActionError);
    expect(() => a.step(Float32Array.of(1, 1))).toThrowError(/expected an action of 1 number.*received Float32Array\(2\)/);
    expect(() => a.step(1 as unknown as Float32Array)).toThrowError(InvalidActionError);
  });

  it('rejects bad options, all at once', () => {
    expect(() => resolvePendulumConfig({ g: Number.NaN, renderSize: 3, colour: 1 } as never)).toThrowError(
      /\[pendulum\] expected .*received unknown options colour; g NaN; renderSize 3; fix: /,
    );
    expect(() => make('pendulum', { g: 'x' })).toThrowError(InvalidConfigError);
    expect(() => new PendulumEnv({ renderSize: 5000 })).toThrowError(/renderSize 5000: rendered frame 5000x5000 \(at most 4096 pixels a side\)/);
    expect(make('pendulum', { g: 9.81 }).spec.options).toEqual({ g: 9.81, renderSize: 64 });
    expect(() => new PendulumEnv().reset({ options: { state: [1] } })).toThrowError(InvalidConfigError);
  });

  it('renders a 64x64 RGB rod that follows the angle', () => {
    const env = new PendulumEnv();
    env.reset({ options: { state: [0, 0] } });
    const up = env.render();
    expect([up.width, up.height, up.data.length]).toEqual([64, 64, 64 * 64 * 3]);
    const px = (f: typeof up, x: number, y: number): number[] => Array.from(f.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
    // Upright: rod pixels above the centre, none below it.
    expect(px(up, 32, 15)).not.toEqual([255, 255, 255]);
    expect(px(up, 32, 48)).toEqual([255, 255, 255]);
    env.reset({ options: { state: [Math.PI, 0] } });
    const down = env.render();
    expect(px(down, 32, 48)).not.toEqual([255, 255, 255]);
    expect(px(down, 32, 15)).toEqual([255, 255, 255]);
  });
});
