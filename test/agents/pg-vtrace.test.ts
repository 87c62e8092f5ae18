/**
 * V-trace (`vtrace` in src/agents/pg/math.ts) against a naive reference written here straight from
 * the paper's definition (Espeholt et al. 2018, eq. 1: a sum over the n-step window, products of c's
 * written out), on random inputs with terminations, truncations bootstrapped from V(finalObs) and a
 * segment end bootstrapped from V(x_T); and the on-policy case, where v_s is GAE(lambda) + V(x_s).
 */
import { describe, expect, it } from 'vitest';
import { gae, vtrace } from '../../src/agents/pg/math.js';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidConfigError } from '../../src/errors.js';

interface Case {
  T: number;
  N: number;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  truncValues: Float32Array;
  values: Float32Array;
  lastValues: Float32Array;
  logRhos: Float32Array;
}

function randomCase(seed: number, T: number, N: number, offPolicy: boolean): Case {
  const rng = new SeededRng(seed);
  const f = (n: number, g: () => number) => Float32Array.from({ length: n }, g);
  const terminated = new Uint8Array(T * N);
  const truncated = new Uint8Array(T * N);
  for (let i = 0; i < T * N; i++) {
    const u = rng.random();
    if (u < 0.1) terminated[i] = 1;
    else if (u < 0.2) truncated[i] = 1;
    // Both flags at once: a termination at the time limit (no bootstrap).
    else if (u < 0.23) terminated[i] = truncated[i] = 1;
  }
  return {
    T,
    N,
    rewards: f(T * N, () => rng.random() * 2 - 1),
    terminated,
    truncated,
    truncValues: f(T * N, () => rng.random() * 4 - 2),
    values: f(T * N, () => rng.random() * 4 - 2),
    lastValues: f(N, () => rng.random() * 4 - 2),
    // Ratios from about 0.2 to 5: both sides of rho_bar and c_bar.
    logRhos: f(T * N, () => (offPolicy ? rng.random() * 3.2 - 1.6 : 0)),
  };
}

/**
 * The paper's definition, one (s, e) at a time:
 * v_s = V(x_s) + sum_{t=s}^{s+n-1} gamma^{t-s} (prod_{i=s}^{t-1} c_i) delta_t V,
 * where the window ends at the episode's end inside the segment or at the segment's end,
 * V(x_{t+1}) is 0 after a termination, V(finalObs) after a truncation, V(x_T) after the segment.
 */
function naive(c: Case, gamma: number, lambda: number, rhoBar: number, cBar: number): { vs: number[]; adv: number[] } {
  const { T, N } = c;
  const V = (t: number, e: number) => c.values[t * N + e]!;
  const ratio = (t: number, e: number) => Math.exp(c.logRhos[t * N + e]!);
  const ended = (t: number, e: number) => c.terminated[t * N + e] === 1 || c.truncated[t * N + e] === 1;
  const nextV = (t: number, e: number) => {
    const i = t * N + e;
    if (c.terminated[i]) return 0;
    if (c.truncated[i]) return c.truncValues[i]!;
    return t === T - 1 ? c.lastValues[e]! : V(t + 1, e);
  };
  const vsOf = (s: number, e: number): number => {
    let sum = 0;
    for (let t = s; t < T; t++) {
      let prodC = 1;
      for (let i = s; i < t; i++) prodC *= lambda * Math.min(cBar, ratio(i, e));
      const rho = Math.min(rhoBar, ratio(t, e));
      const delta = rho * (c.rewards[t * N + e]! + gamma * nextV(t, e) - V(t, e));
      sum += gamma ** (t - s) * prodC * delta;
      if (ended(t, e)) break;
    }
    return V(s, e) + sum;
  };
  const vs: number[] = new Array(T * N);
  const adv: number[] = new Array(T * N);
  for (let e = 0; e < N; e++) {
    for (let s = 0; s < T; s++) {
      vs[s * N + e] = vsOf(s, e);
      // v_{s+1}: the next state's target inside the episode, else the bootstrap value itself.
      const vNext = ended(s, e) || s === T - 1 ? nextV(s, e) : vsOf(s + 1, e);
      adv[s * N + e] = Math.min(rhoBar, ratio(s, e)) * (c.rewards[s * N + e]! + gamma * vNext - V(s, e));
    }
  }
  return { vs, adv };
}

describe('V-trace', () => {
  for (const [rhoBar, cBar, lambda] of [
    [1, 1, 1],
    [1, 1, 0.95],
    [2, 0.5, 0.9],
  ] as const) {
    it(`matches the paper's definition off-policy (rho_bar ${rhoBar}, c_bar ${cBar}, lambda ${lambda})`, () => {
      for (const seed of [1, 2, 3]) {
        const c = randomCase(seed, 12, 3, true);
        const got = vtrace({ numSteps: c.T, numEnvs: c.N, rewards: c.rewards, terminated: c.terminated, truncated: c.truncated, truncValues: c.truncValues, values: c.values, lastValues: c.lastValues, logRhos: c.logRhos, gamma: 0.9, lambda, rhoBar, cBar });
        const want = naive(c, 0.9, lambda, rhoBar, cBar);
        // The inputs do exercise every branch.
        expect(c.terminated.some((x) => x)).toBe(true);
        expect(c.truncated.some((x, i) => x && !c.terminated[i])).toBe(true);
        expect(c.logRhos.some((l) => Math.exp(l) > rhoBar)).toBe(true);
        expect(c.logRhos.some((l) => Math.exp(l) < cBar)).toBe(true);
        for (let i = 0; i < c.T * c.N; i++) {
          expect(got.vs[i]).toBeCloseTo(want.vs[i]!, 4);
          expect(got.pgAdvantages[i]).toBeCloseTo(want.adv[i]!, 4);
          expect(got.clippedRhos[i]).toBeCloseTo(Math.min(rhoBar, Math.exp(c.logRhos[i]!)), 5);
        }
      }
    });
  }

  it('on-policy (pi == mu) gives the lambda-return: v_s = GAE(lambda) + V(x_s)', () => {
    for (const seed of [4, 5]) {
      const c = randomCase(seed, 16, 4, false);
      const signals = { numSteps: c.T, numEnvs: c.N, rewards: c.rewards, terminated: c.terminated, truncated: c.truncated, truncValues: c.truncValues, values: c.values, lastValues: c.lastValues, gamma: 0.99 };
      const v = vtrace({ ...signals, logRhos: c.logRhos, lambda: 0.95, rhoBar: 1, cBar: 1 });
      const g = gae({ ...signals, lambda: 0.95 });
      for (let i = 0; i < c.T * c.N; i++) expect(v.vs[i]).toBeCloseTo(g.returns[i]!, 4);
      // The first step of each env's chain differs from its one-step TD error somewhere (the test is not vacuous).
      expect(Array.from(v.vs).some((x, i) => Math.abs(x - (c.values[i]! + v.pgAdvantages[i]!)) > 1e-3)).toBe(true);
    }
  });

  it('an episode end cuts the trace: a reward after it does not reach v_s before it', () => {
    const base = { numSteps: 3, numEnvs: 1, terminated: Uint8Array.from([0, 1, 0]), truncated: new Uint8Array(3), values: new Float32Array(3), lastValues: new Float32Array(1), logRhos: new Float32Array(3), gamma: 1, lambda: 1, rhoBar: 1, cBar: 1 };
    const a = vtrace({ ...base, rewards: Float32Array.from([0, 1, 0]) });
    const b = vtrace({ ...base, rewards: Float32Array.from([0, 1, 100]) });
    expect(Array.from(a.vs)).toEqual([1, 1, 0]);
    expect(b.vs[0]).toBe(1);
    expect(b.vs[2]).toBe(100);
  });

  it('refuses bad truncation levels, every one at once', () => {
    const c = randomCase(9, 2, 1, true);
    const call = () => vtrace({ numSteps: 2, numEnvs: 1, rewards: c.rewards, terminated: c.terminated, truncated: c.truncated, truncValues: c.truncValues, values: c.values, lastValues: c.lastValues, logRhos: c.logRhos, gamma: 0.9, lambda: 2, rhoBar: 1, cBar: 3 });
    expect(call).toThrow(InvalidConfigError);
    expect(call).toThrow(/^\[vtrace\] expected .*received lambda=2 \(want \[0, 1\]\), cBar=3 \(want \(0, rhoBar\]\); fix: /);
  });
});
