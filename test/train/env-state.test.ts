import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { listEnvs, make, register } from '../../src/envs/registry.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { Wrapper, type Env, type ObsArray, type StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { CheckpointError, EnvStateError } from '../../src/errors.js';
import { ClipReward, Flicker, FrameSkip, FrameStack, GrayScale, PixelObservation, RecordEpisodeStatistics, Resize, StickyActions, TimeLimit } from '../../src/envs/wrappers/index.js';
import { ENV_CHAIN_SNAPSHOT_VERSION, restoreEnvChain, snapshotEnvChain, type EnvChainSnapshot } from '../../src/envs/env-state.js';

type AnyEnv = Env<ObsArray, number>;

/** One step as compared between the original and the restored env (obs as a plain array). */
function trace(r: { obs: ObsArray; reward?: number; terminated?: boolean; truncated?: boolean }): unknown {
  return { obs: Array.from(r.obs), reward: r.reward, terminated: r.terminated, truncated: r.truncated };
}

/**
 * Steps `a` with random actions, snapshots it (through JSON, as checkpoints store it), restores the
 * snapshot into `b` (built the same way), then steps both with the same actions, resetting both
 * without a seed when an episode ends, and expects every result to be identical.
 */
function expectExactResume(build: () => AnyEnv, seed: number, warmup: number, steps: number): void {
  const a = build();
  const actions = new SeededRng(seed + 1000);
  // Any action space (Discrete, Box, ...): draws from the space with a seeded RNG.
  const sample = (): unknown => (a.actionSpace as unknown as { sample(rng: SeededRng): unknown }).sample(actions);
  a.reset({ seed });
  for (let t = 0; t < warmup; t++) {
    const r = a.step(sample() as never);
    if (r.terminated || r.truncated) a.reset();
  }
  const snap = JSON.parse(JSON.stringify(snapshotEnvChain(a as Env<unknown, unknown>))) as EnvChainSnapshot;
  expect(snap).not.toBeNull();
  const b = build();
  b.reset({ seed: seed + 77 }); // a different state first: the restore must overwrite all of it
  const other = new SeededRng(seed + 2000);
  for (let t = 0; t < 3; t++) b.step((b.actionSpace as unknown as { sample(rng: SeededRng): unknown }).sample(other) as never);
  restoreEnvChain(b as Env<unknown, unknown>, snap);
  let episodes = 0;
  for (let t = 0; t < steps; t++) {
    const act = sample() as never;
    const ra = a.step(act);
    const rb = b.step(act);
    expect(trace(rb), `step ${t} after restore`).toEqual(trace(ra));
    if (ra.terminated || ra.truncated) {
      episodes++;
      expect(trace(b.reset()), `reset after step ${t}`).toEqual(trace(a.reset()));
    }
  }
  // Later episodes must match too (RNG streams restored, not only the current episode).
  expect(episodes).toBeGreaterThan(0);
}

describe('env chain snapshots: exact resume', () => {
  const ids = listEnvs().map((e) => e.id);

  it('covers every registered game', () => {
    expect(ids).toEqual(expect.arrayContaining(['catch', 'catch/flicker', 'cartpole', 'memory-maze', 'snake', 'pong']));
    expect(ids.filter((id) => id.startsWith('minatar/')).length).toBeGreaterThanOrEqual(5);
  });

  for (const id of ids) {
    it(`${id}: restored from a JSON snapshot, steps identically for 600 steps and across episodes`, () => {
      // A short episode cap makes every game end episodes (and reset streams) within the test.
      expectExactResume(() => make(id, { maxEpisodeSteps: 60 }), 11, 37, 600);
    });
  }

  it('catch/flicker: the Flicker RNG is part of the snapshot (blanked frames match)', () => {
    const env = make('catch/flicker');
    env.reset({ seed: 3 });
    env.step(1);
    const snap = snapshotEnvChain(env as Env<unknown, unknown>)!;
    expect(snap.version).toBe(ENV_CHAIN_SNAPSHOT_VERSION);
    const flicker = snap.wrappers.find((w) => w.wrapper === 'FlickerCatch');
    expect(flicker?.state).toEqual({ rng: expect.objectContaining({ kind: 'alea' }) });
    expectExactResume(() => make('catch/flicker'), 5, 23, 400);
  });

  it('every stateful wrapper round-trips: pixels, gray, resize, frame stack, sticky actions, frame skip, stats, clip, flicker', () => {
    const build = (): AnyEnv => {
      let e: AnyEnv = make('catch', { orderEnforcing: false }) as AnyEnv;
      e = new StickyActions(e, { p: 0.3 });
      e = new FrameSkip(e, { k: 2, maxPoolLast2: true });
      e = new PixelObservation(e) as unknown as AnyEnv;
      e = new GrayScale(e as Env<Uint8Array, number>) as unknown as AnyEnv;
      e = new Resize(e, { height: 12, width: 8 });
      e = new Flicker(e, { p: 0.3 });
      e = new FrameStack(e, { k: 3 });
      e = new ClipReward(e);
      e = new RecordEpisodeStatistics(e);
      e = new TimeLimit(e, 25);
      return e;
    };
    expectExactResume(build, 2, 19, 300);
    const snap = snapshotEnvChain(build() as Env<unknown, unknown>)!;
    expect(snap.wrappers.map((w) => [w.wrapper, w.state === null])).toEqual([
      ['TimeLimit', false],
      ['RecordEpisodeStatistics', false],
      ['ClipReward', true],
      ['FrameStack', false],
      ['Flicker', false],
      ['Resize', true],
      ['GrayScale', true],
      ['PixelObservation', true],
      ['FrameSkip', true],
      ['StickyActions', false],
    ]);
  });

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
});

describe('env chain snapshots: failing loudly', () => {
  /** Keeps a counter between steps but declares nothing: the kind of wrapper reflection used to half-save. */
  class CountingWrapper extends Wrapper<ObsArray, number> {
    private count = new Map<string, number>();
    override step(action: number): StepResult<ObsArray> {
      this.count.set('n', (this.count.get('n') ?? 0) + 1);
      return this.env.step(action);
    }
  }
  /** Extends a stateless wrapper without declaring again: it may have added state, so it must say. */
  class ClipWithMemory extends ClipReward<ObsArray, number> {}

  it('refuses a wrapper that declares neither getWrapperState/setWrapperState nor stateless', () => {
    for (const env of [new CountingWrapper(make('catch')), new ClipWithMemory(make('catch'))]) {
      env.reset({ seed: 1 });
      expect(() => snapshotEnvChain(env as Env<unknown, unknown>)).toThrow(EnvStateError);
      expect(() => snapshotEnvChain(env as Env<unknown, unknown>)).toThrow(/^\[env state\] expected every wrapper to declare its state .*, received (CountingWrapper|ClipWithMemory), which declares neither; fix: /);
    }
  });

  it('a game with such a wrapper is refused when the run is configured, before any training', () => {
    register('test/undeclared-wrapper', () => new CountingWrapper(make('catch', { orderEnforcing: false })));
    expect(() => resolveRunConfig({ game: 'test/undeclared-wrapper' })).toThrow(EnvStateError);
    expect(() => resolveRunConfig({ game: 'test/undeclared-wrapper' })).toThrow(/received CountingWrapper, which declares neither/);
  });

  it('refuses a snapshot of another wrapper chain or a malformed wrapper state, with CheckpointError', () => {
    const a = make('catch/flicker');
    a.reset({ seed: 1 });
    const snap = snapshotEnvChain(a)!;
    expect(() => restoreEnvChain(make('catch'), snap)).toThrow(CheckpointError);
    expect(() => restoreEnvChain(make('catch/flicker', { maxEpisodeSteps: 9 }), snap)).toThrow(/\[env state\] expected wrapper TimeLimit at layer 2/);
    const bad = JSON.parse(JSON.stringify(snap)) as EnvChainSnapshot;
    bad.wrappers[1]!.state = { rng: null };
    expect(() => restoreEnvChain(make('catch/flicker'), bad)).toThrow(/\[Flicker.setWrapperState\] expected a state with its RNG/);
  });

  it('restores TimeLimit and OrderEnforcing from an unversioned (reflected) snapshot, refuses Flicker from one', () => {
    const a = make('cartpole', { maxEpisodeSteps: 30 });
    a.reset({ seed: 5 });
    for (let i = 0; i < 20; i++) a.step(i % 2);
    const v2 = snapshotEnvChain(a)!;
    const legacy = { wrappers: [{ state: 'running' }, { elapsed: 20, maxEpisodeSteps: 30 }], inner: v2.inner };
    const b = make('cartpole', { maxEpisodeSteps: 30 });
    restoreEnvChain(b, legacy as never);
    expect(snapshotEnvChain(b)).toEqual(v2);
    const f = make('catch/flicker');
    f.reset({ seed: 1 });
    const fsnap = snapshotEnvChain(f)!;
    expect(() => restoreEnvChain(make('catch/flicker'), { wrappers: [{ state: 'running' }, { p: 0.5 }], inner: fsnap.inner } as never)).toThrow(/a checkpoint from an older npcforge that did not save them/);
  });

  it('returns null for a game without getState', () => {
    const env = make('catch');
    const inner = (env as unknown as { unwrapped: { getState?: unknown } }).unwrapped;
    Object.defineProperty(inner, 'getState', { value: undefined });
    expect(snapshotEnvChain(env)).toBeNull();
  });
});
