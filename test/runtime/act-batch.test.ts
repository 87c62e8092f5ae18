/**
 * Runtime for many NPCs: `actBatch` equals `act()` per NPC (one reference policy per NPC, so
 * frame stacks and LSTM states stay apart) for every kind of bundle; the controller's decision
 * period repeats each action exactly k-1 frames; no tensor leaks; bad inputs name the NPC.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, InvalidConfigError, SpaceMismatchError } from '../../src/errors.js';
import { dictLayout } from '../../src/envs/dict-obs.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Dict } from '../../src/envs/spaces.js';
import { basicPolicyFile, writePolicyBundle } from '../../src/export/export-policy.js';
import { buildQNetwork } from '../../src/networks/builders.js';
import { writeLstmBundle, writePixelCnnBundle } from '../helpers/policy-bundles.js';
import { loadPolicy, type Policy, type PolicyAction, type PolicyFile, type PolicyObservation } from '../../src/runtime/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-act-batch-'));
beforeAll(async () => {
  await tf.ready();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function bundle(name: string, model: tf.LayersModel, file: PolicyFile, edit?: (p: PolicyFile) => void): Promise<string> {
  const dir = join(tmp, name);
  edit?.(file);
  await writePolicyBundle(dir, file, model);
  model.dispose();
  return dir;
}

const MLP_OBS = 12;
/** Discrete MLP [32, 32] over a vector observation, logits head. */
function mlpBundle(name: string): Promise<string> {
  const model = buildQNetwork({ inputShape: [MLP_OBS], numActions: 5, encoder: { kind: 'mlp', hidden: [32, 32] }, head: { kind: 'q' }, seed: 11 });
  return bundle(name, model, basicPolicyFile({ game: 'arena', agent: 'ppo', output: 'logits', observation: { shape: [MLP_OBS], dtype: 'float32', low: -1, high: 1 }, actions: ['stay', 'n', 's', 'e', 'w'] }));
}

/** Pixel CNN: RGB 20x20 frames -> grayscale -> resize 10x10 -> stack 4 -> minatar-cnn -> Q. */
function cnnBundle(name: string): Promise<string> {
  return writePixelCnnBundle(join(tmp, name));
}

/** One-step LSTM policy: inputs [obs, h, c], outputs [logits, h', c']. */
function lstmBundle(name: string): Promise<string> {
  return writeLstmBundle(join(tmp, name));
}

const DICT_SPACE = new Dict({ grid: new Box({ shape: [4, 4, 2], dtype: 'uint8', low: 0, high: 1 }), offset: new Box({ shape: [2], dtype: 'float32', low: -1, high: 1 }) });
const LAYOUT = dictLayout(DICT_SPACE);
/** Dict observation {grid: [4,4,2] uint8, offset: [2]} through the project's dict encoder. */
function dictBundle(name: string): Promise<string> {
  const model = buildQNetwork({ inputShape: [LAYOUT.size], numActions: 4, encoder: { kind: 'dict', keys: { grid: { kind: 'mlp', hidden: [16] }, offset: { kind: 'mlp', hidden: [8] } }, hidden: [16] }, layout: LAYOUT, head: { kind: 'q' }, seed: 5 });
  return bundle(name, model, basicPolicyFile({ game: 'beacon-like', agent: 'ppo', output: 'logits', observation: { shape: [LAYOUT.size], dtype: 'float32', low: -1, high: 1 }, actions: ['n', 's', 'e', 'w'] }), (p) => {
    p.version = 2;
    p.observation.dict = LAYOUT.entries;
  });
}

/** Box (Gaussian mean) or MultiDiscrete head over an MLP. */
function mlpActionBundle(name: string, kind: 'box' | 'multi'): Promise<string> {
  const width = kind === 'box' ? 2 : 10;
  const model = buildQNetwork({ inputShape: [MLP_OBS], numActions: width, encoder: { kind: 'mlp', hidden: [16] }, head: { kind: 'q' }, seed: kind === 'box' ? 7 : 8 });
  return bundle(name, model, basicPolicyFile({ game: 'tank-like', agent: 'ppo', output: 'logits', observation: { shape: [MLP_OBS], dtype: 'float32' }, actions: [] }), (p) => {
    p.version = 2;
    if (kind === 'box') {
      p.output = 'mean';
      // Narrow bounds so some actions clip.
      p.action = { type: 'Box', shape: [2], low: [-0.1, -1], high: [0.1, 1] };
    } else {
      const names = [['m0', 'm1', 'm2', 'm3', 'm4'], ['t0', 't1', 't2'], ['f0', 'f1']];
      p.action = { type: 'MultiDiscrete', nvec: [5, 3, 2], names };
      p.actions = names.flat();
    }
  });
}

/** The per-action numbers a result carries (probs, q or mean). */
function numbers(r: PolicyAction): Float32Array {
  return (r.probs ?? r.q ?? r.mean)!;
}

function expectSame(batch: PolicyAction, single: PolicyAction, where: string): number {
  expect(batch.actionName, where).toEqual(single.actionName);
  if (typeof single.action === 'number') expect(batch.action, where).toBe(single.action);
  else {
    expect(batch.action.constructor, where).toBe(single.action.constructor);
    // Box: the clipped mean, compared within the tolerance; indices exactly.
    if (single.action instanceof Float32Array) Array.from(single.action).forEach((v, i) => expect(Math.abs((batch.action as Float32Array)[i]! - v), where).toBeLessThan(1e-5));
    else expect(Array.from(batch.action as ArrayLike<number>), where).toEqual(Array.from(single.action as ArrayLike<number>));
  }
  const x = numbers(batch);
  const y = numbers(single);
  expect(x.length, where).toBe(y.length);
  let d = 0;
  for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  expect(d, where).toBeLessThan(1e-5);
  return d;
}

/**
 * N NPCs for `steps` frames: one `actBatch` with a state per NPC vs N reference policies each
 * stepped with `act()`. NPC k resets at the steps in `resets[k]`. Returns the largest difference
 * of the per-action numbers and the set of actions seen.
 */
async function parity(dir: string, n: number, steps: number, makeObs: (rng: SeededRng) => PolicyObservation, resets: number[][] = []): Promise<{ maxDiff: number; actions: Set<string> }> {
  const policy = await loadPolicy(dir);
  const refs: Policy[] = [];
  for (let k = 0; k < n; k++) refs.push(await loadPolicy(dir));
  const states = refs.map(() => policy.createState());
  const rng = new SeededRng(21);
  let maxDiff = 0;
  const actions = new Set<string>();
  try {
    for (let t = 0; t < steps; t++) {
      for (let k = 0; k < n; k++) {
        if (resets[k]?.includes(t)) {
          states[k]!.reset();
          refs[k]!.reset();
        }
      }
      const obs = Array.from({ length: n }, () => makeObs(rng));
      const batch = await policy.actBatch(obs, states);
      expect(batch).toHaveLength(n);
      for (let k = 0; k < n; k++) {
        const single = await refs[k]!.act(obs[k]!);
        maxDiff = Math.max(maxDiff, expectSame(batch[k]!, single, `step ${t} NPC ${k}`));
        actions.add(String(single.action));
      }
    }
  } finally {
    policy.dispose();
    for (const r of refs) r.dispose();
  }
  return { maxDiff, actions };
}

const vec = (size: number) => (rng: SeededRng) => Float32Array.from({ length: size }, () => rng.random() * 4 - 2);
const pixels = (rng: SeededRng) => Uint8Array.from({ length: 20 * 20 * 3 }, () => (rng.random() < 0.3 ? 255 : rng.int(0, 60)));

describe('policy.actBatch equals act() per NPC', () => {
  it('Discrete MLP: probabilities within 1e-5, identical actions', async () => {
    const { maxDiff, actions } = await parity(await mlpBundle('mlp'), 7, 6, vec(MLP_OBS));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(actions.size).toBeGreaterThan(1);
  });

  it('pixel CNN with a frame stack: each NPC stacks its own frames (resets included)', async () => {
    const { maxDiff, actions } = await parity(await cnnBundle('cnn'), 4, 8, pixels, [[], [3], [5, 6], []]);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(actions.size).toBeGreaterThan(1);
  });

  it('LSTM: per-NPC states kept apart over several steps with resets', async () => {
    const { maxDiff, actions } = await parity(await lstmBundle('lstm'), 5, 10, vec(4), [[], [4], [2, 7], [], [9]]);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(actions.size).toBeGreaterThan(1);
  });

  it('LSTM: a shared or missing state would change the answers (the test can fail)', async () => {
    const dir = await lstmBundle('lstm-check');
    const policy = await loadPolicy(dir);
    const ref = await loadPolicy(dir);
    const rng = new SeededRng(4);
    const a = vec(4)(rng);
    const b = vec(4)(rng);
    const states = [policy.createState(), policy.createState()];
    // NPC 0 sees a then b; NPC 1 sees b twice. If states leaked between NPCs, NPC 1's second answer would be ref's after [a, b].
    await policy.actBatch([a, b], states);
    const second = await policy.actBatch([b, b], states);
    await ref.act(b);
    const refSecond = await ref.act(b);
    expectSame(second[1]!, refSecond, 'NPC 1');
    ref.reset();
    await ref.act(a);
    const crossed = await ref.act(b);
    expect(Math.max(...[0, 1, 2].map((i) => Math.abs(crossed.probs![i]! - second[1]!.probs![i]!)))).toBeGreaterThan(1e-4);
    policy.dispose();
    ref.dispose();
  });

  it('Dict: the Dict object or the flat array, per NPC', async () => {
    let flip = false;
    const dictObs = (rng: SeededRng): PolicyObservation => {
      flip = !flip;
      const grid = Uint8Array.from({ length: 32 }, () => (rng.random() < 0.4 ? 1 : 0));
      const offset = Float32Array.from([rng.random() * 2 - 1, rng.random() * 2 - 1]);
      if (flip) return { grid, offset };
      const flat = new Float32Array(LAYOUT.size);
      flat.set(grid, 0);
      flat.set(offset, 32);
      return flat;
    };
    const { maxDiff, actions } = await parity(await dictBundle('dict'), 5, 6, dictObs);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(actions.size).toBeGreaterThan(1);
  });

  it('Box: Float32Array actions (the mean clipped) and means within 1e-5', async () => {
    const { maxDiff, actions } = await parity(await mlpActionBundle('box', 'box'), 6, 5, vec(MLP_OBS));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(actions.size).toBeGreaterThan(1);
  });

  it('MultiDiscrete: one Int32Array per NPC, per-part probabilities within 1e-5', async () => {
    const { maxDiff, actions } = await parity(await mlpActionBundle('multi', 'multi'), 6, 5, vec(MLP_OBS));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(actions.size).toBeGreaterThan(1);
  });

  it('feed-forward without a frame stack: states are optional; a 1-NPC and an empty batch work', async () => {
    const policy = await loadPolicy(await mlpBundle('mlp-stateless'));
    const rng = new SeededRng(2);
    const obs = [vec(MLP_OBS)(rng), vec(MLP_OBS)(rng)];
    const batch = await policy.actBatch(obs);
    expectSame(batch[1]!, await policy.act(obs[1]!), 'stateless');
    expect(await policy.actBatch([])).toEqual([]);
    expect(await policy.actBatch([obs[0]!])).toHaveLength(1);
    // Sampling draws from the rng in NPC order: the same seed gives the same actions as act() one by one.
    const r1 = new SeededRng(9);
    const r2 = new SeededRng(9);
    const sampled = await policy.actBatch([obs[0]!, obs[1]!, obs[0]!], null, { greedy: false, rng: r1 });
    const one = [await policy.act(obs[0]!, { greedy: false, rng: r2 }), await policy.act(obs[1]!, { greedy: false, rng: r2 }), await policy.act(obs[0]!, { greedy: false, rng: r2 })];
    expect(sampled.map((r) => r.action)).toEqual(one.map((r) => r.action));
    policy.dispose();
  });
});

describe('policy.actBatch: memory and bad inputs', () => {
  it('numTensors stays flat over 1,000 actBatch calls (recurrent, with states added and removed)', async () => {
    const policy = await loadPolicy(await lstmBundle('leak'));
    const ff = await loadPolicy(await cnnBundle('leak-cnn'));
    const rng = new SeededRng(1);
    const obs = Array.from({ length: 8 }, () => vec(4)(rng));
    const frames = Array.from({ length: 3 }, () => pixels(rng));
    let states = obs.map(() => policy.createState());
    const ffStates = frames.map(() => ff.createState());
    for (let i = 0; i < 5; i++) {
      await policy.actBatch(obs, states);
      await ff.actBatch(frames, ffStates);
    }
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      await policy.actBatch(obs, states, i % 3 ? {} : { greedy: false, rng });
      if (i % 10 === 0) await ff.actBatch(frames, ffStates);
      if (i % 100 === 50) {
        // An NPC leaves and another joins; one resets.
        states[0]!.dispose();
        states = [...states.slice(1), policy.createState()];
        states[2]!.reset();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    policy.dispose();
    ff.dispose();
    // The policy frees the states still alive with it.
    expect(states.every((s) => s.disposed)).toBe(true);
    expect(ffStates.every((s) => s.disposed)).toBe(true);
  });

  it('wrong length, type, Dict key or state: one-line errors naming the NPC', async () => {
    const policy = await loadPolicy(await mlpBundle('bad'));
    const good = new Float32Array(MLP_OBS);
    const fails = async (p: Promise<unknown>, cls: new (...a: never[]) => Error, message: RegExp): Promise<void> => {
      const err = await p.then(() => null, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(cls);
      expect(err!.message).toMatch(/^\[policy.actBatch\] expected .*, received .*; fix: /);
      expect(err!.message).toMatch(message);
      expect(err!.message.includes('\n')).toBe(false);
    };
    await fails(policy.actBatch([good, good, new Float32Array(5)]), SpaceMismatchError, /expected a frame of 12 values or an observation of 12 values for NPC 2 \(observations\[2\]\), received Float32Array\(5\) with 5 values/);
    await fails(policy.actBatch([good, 'left' as unknown as Float32Array]), SpaceMismatchError, /for NPC 1 \(observations\[1\]\), received "left"/);
    await fails(policy.actBatch([good, null as unknown as Float32Array]), SpaceMismatchError, /for NPC 1/);
    await fails(policy.actBatch(good as unknown as Float32Array[]), SpaceMismatchError, /an array of observations, one per NPC, received Float32Array\(12\)/);
    const s = [policy.createState(), policy.createState()];
    await fails(policy.actBatch([good], s), InvalidConfigError, /one state per observation \(1\), received 2 states/);
    await fails(policy.actBatch([good, good], [s[0]!, s[0]!]), InvalidConfigError, /states\[1\] to be a live state .* received a state already used by an earlier NPC/);
    s[1]!.dispose();
    await fails(policy.actBatch([good, good], s), InvalidConfigError, /states\[1\] .* received a disposed state/);
    const other = await loadPolicy(await mlpBundle('bad-other'));
    await fails(policy.actBatch([good], [other.createState()]), InvalidConfigError, /states\[0\] .* received a state of another policy/);
    other.dispose();
    await fails(policy.actBatch([good], null, { greedy: false }), InvalidConfigError, /an rng with random\(\) when greedy is false/);
    policy.dispose();
    await fails(policy.actBatch([good]), InvalidConfigError, /a live policy, received a disposed one/);

    const rec = await loadPolicy(await lstmBundle('bad-rec'));
    await fails(rec.actBatch([new Float32Array(4)]), InvalidConfigError, /one state per NPC for a policy that is recurrent, received no states/);
    rec.dispose();
    const cnnDir = await cnnBundle('bad-cnn');
    const cnn = await loadPolicy(cnnDir);
    await fails(cnn.actBatch([new Uint8Array(1200)]), InvalidConfigError, /for a policy that stacks frames/);
    // A bad NPC anywhere in the batch fails it before any NPC's frame stack moves.
    const rng = new SeededRng(8);
    const f = Array.from({ length: 4 }, () => pixels(rng));
    const cs = [cnn.createState(), cnn.createState()];
    await cnn.actBatch([f[0]!, f[0]!], cs);
    await fails(cnn.actBatch([f[1]!, new Uint8Array(7)], cs), SpaceMismatchError, /for NPC 1/);
    const after = await cnn.actBatch([f[2]!, f[3]!], cs);
    const ref = await loadPolicy(cnnDir);
    await ref.act(f[0]!);
    expectSame(after[0]!, await ref.act(f[2]!), 'NPC 0 after a failed batch');
    ref.dispose();
    cnn.dispose();
    const dict = await loadPolicy(await dictBundle('bad-dict'));
    await fails(dict.actBatch([{ grid: new Uint8Array(32), offset: new Float32Array(2) }, { grid: new Uint8Array(32) }]), SpaceMismatchError, /2 values at Dict key 2 of 2 \(policy.file.observation.dict order\) for NPC 1 \(observations\[1\]\), received undefined/);
    dict.dispose();
  });
});

describe('decision period', () => {
  it('each NPC decides every k frames and repeats its action exactly k-1 frames; late joiners and resets decide at once', async () => {
    const k = 4;
    const dir = await lstmBundle('period');
    const policy = await loadPolicy(dir);
    const ref = await loadPolicy(dir);
    const ctl = policy.controller({ decisionPeriod: k });
    expect(ctl.decisionPeriod).toBe(k);
    const a = ctl.add();
    const b = ctl.add();
    const rng = new SeededRng(6);
    const observed: Record<number, number[]> = {};
    let c: ReturnType<typeof ctl.add> | null = null;
    const held: Record<number, number> = {};
    const history: Record<number, Array<PolicyAction | null>> = { 0: [], 1: [], 2: [] };
    const aObs: Float32Array[] = [];
    for (let frame = 0; frame < 20; frame++) {
      if (frame === 6) c = ctl.add();
      if (frame === 13) b.reset();
      const decided = await ctl.tick((npc) => {
        (observed[npc.id] ??= []).push(frame);
        const o = vec(4)(rng);
        if (npc === a) aObs.push(o);
        return o;
      });
      expect(decided.every((npc) => observed[npc.id]!.at(-1) === frame)).toBe(true);
      for (const npc of ctl.npcs) {
        history[npc.id]!.push(npc.action);
        held[npc.id] = (held[npc.id] ?? 0) + 1;
      }
    }
    expect(ctl.frame).toBe(20);
    expect(observed[a.id]).toEqual([0, 4, 8, 12, 16]);
    expect(observed[b.id]).toEqual([0, 4, 8, 12, 13, 17]);
    expect(observed[c!.id]).toEqual([6, 10, 14, 18]);
    // Between decisions the action object is the same one: repeated, not recomputed.
    const h = history[a.id]!;
    for (let f = 0; f < 20; f++) {
      if (f % k === 0) expect(h[f]).not.toBe(f > 0 ? h[f - 1] : undefined);
      else expect(h[f]).toBe(h[f - 1]);
    }
    // A's decisions equal act() on its observations, i.e. its LSTM state advanced once per decision.
    for (let i = 0; i < aObs.length; i++) {
      const r = await ref.act(aObs[i]!);
      expectSame(h[i * k]!, r, `decision ${i}`);
    }
    // An NPC added from inside observe decides on the next tick.
    let d: ReturnType<typeof ctl.add> | null = null;
    await ctl.tick(() => {
      d ??= ctl.add();
      return vec(4)(rng);
    });
    expect(d!.action).toBeNull();
    expect((await ctl.tick(() => vec(4)(rng))).includes(d!)).toBe(true);
    ctl.remove(b);
    expect(b.state.disposed).toBe(true);
    expect(() => ctl.remove(b)).toThrow(/an NPC of this controller, received NPC 1, already removed/);
    ctl.dispose();
    policy.dispose();
    ref.dispose();
  });

  it('the bundle sets the default period; bad periods and overlapping ticks are refused', async () => {
    const dir = await mlpBundle('period-file');
    const edit = (v: unknown, version = 2) => {
      const p = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8'));
      p.version = version;
      p.decisionPeriod = v;
      writeFileSync(join(dir, 'policy.json'), JSON.stringify(p));
    };
    edit(3);
    const policy = await loadPolicy(dir);
    expect(policy.file.decisionPeriod).toBe(3);
    expect(policy.controller().decisionPeriod).toBe(3);
    expect(policy.controller({ decisionPeriod: 1 }).decisionPeriod).toBe(1);
    expect(() => policy.controller({ decisionPeriod: 0 })).toThrow(InvalidConfigError);
    expect(() => policy.controller({ decisionPeriod: 2.5 })).toThrow(/\[policy.controller\] expected decisionPeriod an integer from 1 to 600 frames, received 2.5/);
    const ctl = policy.controller();
    ctl.add();
    const first = ctl.tick(() => new Float32Array(MLP_OBS));
    await expect(ctl.tick(() => new Float32Array(MLP_OBS))).rejects.toThrow(/one tick at a time/);
    await first;
    policy.dispose();
    for (const [v, version, message] of [[0, 2, /decisionPeriod 0 \(an integer from 1 to 600 frames\)/], ['secret-text', 2, /decisionPeriod a string of 11 characters/], [2, 1, /decisionPeriod in a version 1 file/]] as const) {
      edit(v, version);
      const err = await loadPolicy(dir).then(() => null, (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(CheckpointError);
      expect(err!.message).toMatch(message);
      expect(err!.message).not.toContain('secret');
    }
  });
});
