import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { restoreEnvChain, snapshotEnvChain } from '../../src/train/env-state.js';

describe('env chain snapshots', () => {
  it('restores game, RNG and wrapper state (TimeLimit elapsed) exactly', () => {
    const a = make('cartpole', { maxEpisodeSteps: 30 });
    a.reset({ seed: 5 });
    for (let i = 0; i < 20; i++) a.step(i % 2);
    const snap = JSON.parse(JSON.stringify(snapshotEnvChain(a)!));
    const b = make('cartpole', { maxEpisodeSteps: 30 });
    restoreEnvChain(b, snap);
    for (let i = 0; i < 10; i++) {
      const ra = a.step(1 - (i % 2));
      const rb = b.step(1 - (i % 2));
      expect(Array.from(rb.obs)).toEqual(Array.from(ra.obs));
      expect([rb.terminated, rb.truncated]).toEqual([ra.terminated, ra.truncated]);
      if (ra.terminated || ra.truncated) break;
    }
    // After the episode, both continue the same RNG stream.
    expect(Array.from(b.reset().obs)).toEqual(Array.from(a.reset().obs));
  });

  it('returns null for a game without getState', () => {
    const env = make('catch');
    const inner = (env as unknown as { unwrapped: { getState?: unknown } }).unwrapped;
    Object.defineProperty(inner, 'getState', { value: undefined });
    expect(snapshotEnvChain(env)).toBeNull();
  });
});
