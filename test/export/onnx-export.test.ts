/**
 * ONNX export parity: short runs of each agent and head kind are exported with `--format all`;
 * onnxruntime-node runs policy.onnx beside the tfjs runtime (`loadPolicy` on the same bundle) over
 * recorded episodes (the recurrent state carried by both), and every output equals the runtime's
 * within 1e-5 with identical greedy actions. Each file also passes the ONNX checker when python3
 * with the `onnx` module is present (Debian: python3-onnx; the test says so when it is not).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { UnsupportedLayerError } from '../../src/errors.js';
import { basicPolicyFile, checkExportFormat, exportPolicy } from '../../src/export/export-policy.js';
import { ONNX_OPSET, policyToOnnx } from '../../src/export/onnx-export.js';
import { decodeModel } from '../../src/export/onnx-proto.js';
import { MaskedMeanPooling } from '../../src/networks/transformer.js';
import { loadPolicy, type Policy } from '../../src/runtime/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { runCli } from '../helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-onnx-'));
// The backend the setup registered (wasm) initialises asynchronously; the file tests build models at once.
beforeAll(() => tf.ready());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TOL = 1e-5;
const run = { evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 1000 };

/** A python3 that imports `onnx` (PATH first, then Debian's), or null. */
function pythonWithOnnx(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}
const PYTHON = pythonWithOnnx();
if (!PYTHON) process.stdout.write('onnx-export.test: the ONNX checker is skipped: no python3 with the onnx module (apt-get install python3-onnx)\n');

/** Runs onnx.checker.check_model (with shape inference) on a file; asserts it passes. */
function expectCheckerPasses(path: string): void {
  if (!PYTHON) return;
  const r = spawnSync(PYTHON, ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** Trains a tiny run and exports it with --format all; returns the bundle folder. */
async function exportRun(name: string, game: string, agent: string, file: Record<string, unknown>, flags: Record<string, unknown>): Promise<string> {
  const config = resolveRunConfig({ game, agent, file, flags: { ...run, seed: 3, ...flags } });
  const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
  const out = join(tmp, name);
  const r = await exportPolicy({ runDir: res.runDir, outDir: out, format: 'all' });
  expect(r.onnxBytes).toBe(readFileSync(join(out, 'policy.onnx')).byteLength);
  expectCheckerPasses(join(out, 'policy.onnx'));
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface ParityStats {
  steps: number;
  maxDiff: number;
  actions: Set<string>;
}

/**
 * Plays `steps` steps of the bundle's game (30% random actions so states vary; episodes reset with
 * seeds from 700) with the tfjs runtime and the ONNX session fed the same observations, the ONNX
 * LSTM state carried as h_out -> h_in and zeroed where the runtime resets. Asserts identical greedy
 * actions every step; returns the largest output difference.
 */
async function playBoth(dir: string, steps: number): Promise<ParityStats> {
  const policy = await loadPolicy(dir, {});
  const session = await ort.InferenceSession.create(join(dir, 'policy.onnx'));
  const file = policy.file;
  const env = make(file.game.id, file.game.options) as Env<ObsArray, unknown>;
  const rng = new SeededRng(5);
  const units = file.recurrentState?.shapes[0]?.[0] ?? 0;
  const zero = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(units), [1, units]);
  let h = zero();
  let c = zero();
  let ep = 0;
  let obs = env.reset({ seed: 700 }).obs;
  const stats: ParityStats = { steps: 0, maxDiff: 0, actions: new Set() };
  try {
    for (let t = 0; t < steps; t++) {
      const p = await policy.act(obs);
      const feeds: Record<string, ort.Tensor> = { obs: new ort.Tensor('float32', Float32Array.from(obs as ArrayLike<number>), [1, ...file.observation.shape]) };
      if (units) Object.assign(feeds, { h_in: h, c_in: c });
      const o = await session.run(feeds);
      const type = file.action?.type ?? 'Discrete';
      if (file.output === 'q') stats.maxDiff = Math.max(stats.maxDiff, maxAbsDiff(o.q!.data as Float32Array, p.q!));
      if (file.output === 'logits') stats.maxDiff = Math.max(stats.maxDiff, maxAbsDiff(o.probs!.data as Float32Array, p.probs!));
      if (type === 'Box') {
        stats.maxDiff = Math.max(stats.maxDiff, maxAbsDiff(o.mean!.data as Float32Array, p.mean!), maxAbsDiff(o.action!.data as Float32Array, p.action as Float32Array));
        stats.actions.add(Array.from(o.action!.data as Float32Array, (x) => x.toFixed(3)).join(','));
      } else {
        const onnxAction = Array.from(o.action!.data as BigInt64Array, Number);
        expect(onnxAction).toEqual(type === 'MultiDiscrete' ? Array.from(p.action as Int32Array) : [p.action as number]);
        stats.actions.add(onnxAction.join(','));
      }
      if (units) {
        h = o.h_out!;
        c = o.c_out!;
      }
      stats.steps++;
      const step = env.step(rng.random() < 0.3 ? env.actionSpace.sample(rng) : p.action);
      obs = step.obs;
      if (step.terminated || step.truncated) {
        obs = env.reset({ seed: 700 + ++ep }).obs;
        policy.reset();
        h = zero();
        c = zero();
      }
    }
  } finally {
    env.close();
    policy.dispose();
    await session.release();
  }
  return stats;
}

/** The ONNX session's outputs on a batch of observations equal `actBatch` row by row (feed-forward policies). */
async function batchParity(dir: string, observations: ObsArray[]): Promise<number> {
  const policy: Policy = await loadPolicy(dir, {});
  const session = await ort.InferenceSession.create(join(dir, 'policy.onnx'));
  try {
    const size = observations[0]!.length;
    const flat = new Float32Array(observations.length * size);
    observations.forEach((o, k) => flat.set(o as ArrayLike<number>, k * size));
    const out = await session.run({ obs: new ort.Tensor('float32', flat, [observations.length, ...policy.file.observation.shape]) });
    const rows = await policy.actBatch(observations);
    let m = 0;
    const width = rows[0]!.q?.length ?? rows[0]!.probs!.length;
    rows.forEach((r, k) => {
      const got = (policy.file.output === 'q' ? out.q! : out.probs!).data as Float32Array;
      m = Math.max(m, maxAbsDiff(got.subarray(k * width, (k + 1) * width), r.q ?? r.probs!));
      expect(Number((out.action!.data as BigInt64Array)[k])).toBe(r.action);
    });
    return m;
  } finally {
    policy.dispose();
    await session.release();
  }
}

/** Observations of a few random steps of a game (with its trained options). */
function randomObservations(dir: string, n: number): ObsArray[] {
  const file = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as { game: { id: string; options: Record<string, unknown> } };
  const env = make(file.game.id, file.game.options) as Env<ObsArray, unknown>;
  const rng = new SeededRng(9);
  const out: ObsArray[] = [];
  let obs = env.reset({ seed: 1 }).obs;
  while (out.length < n) {
    out.push(obs);
    const s = env.step(env.actionSpace.sample(rng));
    obs = s.terminated || s.truncated ? env.reset().obs : s.obs;
  }
  env.close();
  return out;
}

const dqnSmall = { learningStarts: 64, batchSize: 8, bufferSize: 1000, targetUpdateEvery: 50, epsilonDecaySteps: 100, trainEvery: 4 };

describe('ONNX export: DQN', () => {
  it('MinAtar CNN (minatar/breakout): Q-values within 1e-5 of the tfjs runtime, identical greedy actions, single and batched', async () => {
    const dir = await exportRun('dqn-minatar', 'minatar/breakout', 'dqn', dqnSmall, { steps: 200 });
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(s.actions.size).toBeGreaterThan(1);
    expect(await batchParity(dir, randomObservations(dir, 64))).toBeLessThan(TOL);
  });

  it('Nature CNN (pong pixels, 40x40): Q-values within 1e-5, identical greedy actions', async () => {
    const dir = await exportRun('dqn-nature', 'pong', 'dqn', { ...dqnSmall, network: { kind: 'nature-cnn' } }, { steps: 120, envOptions: { obsType: 'pixels' } });
    expect(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')).observation.shape).toEqual([40, 40, 1]);
    const s = await playBoth(dir, 50);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(await batchParity(dir, randomObservations(dir, 16))).toBeLessThan(TOL);
  });
});

describe('ONNX export: recurrent DQN', () => {
  it('dqn --recurrent (catch, LSTM 16): Q-values within 1e-5 with h/c carried, identical greedy actions', async () => {
    const dir = await exportRun('drqn-catch', 'catch', 'dqn', { network: { kind: 'mlp', hidden: [16] }, lstmUnits: 16, seqLength: 4, burnIn: 2, learningStarts: 64, batchSize: 8, trainEvery: 4 }, { steps: 200 });
    expect(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')).recurrentState).toEqual({ shapes: [[16], [16]] });
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
  });
});

describe('ONNX export: PPO', () => {
  const ppo = { numSteps: 32, minibatches: 2, epochs: 1 };
  for (const [game, kind] of [['cartpole', 'MLP'], ['minatar/breakout', 'CNN']] as const) {
    for (const lstmUnits of [0, 16]) {
      it(`${kind} (${game})${lstmUnits ? ' with an LSTM, h/c carried' : ''}: probabilities within 1e-5 over 50 steps, identical greedy actions`, async () => {
        const dir = await exportRun(`ppo-${kind}-${lstmUnits}`, game, 'ppo', { ...ppo, lstmUnits }, { steps: 64, envs: 1 });
        const policy = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as { recurrentState: unknown };
        expect(policy.recurrentState).toEqual(lstmUnits ? { shapes: [[16], [16]] } : null);
        const s = await playBoth(dir, 50);
        expect(s.steps).toBe(50);
        expect(s.maxDiff).toBeLessThan(TOL);
      });
    }
  }

  it('small-frame CNN (pong pixels, 40x40, encoder small-cnn): probabilities within 1e-5, single and batched', async () => {
    const dir = await exportRun('ppo-small-cnn', 'pong', 'ppo', { ...ppo, encoder: 'small-cnn' }, { steps: 64, envs: 1, envOptions: { obsType: 'pixels' } });
    expect(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')).observation.shape).toEqual([40, 40, 1]);
    const s = await playBoth(dir, 50);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(await batchParity(dir, randomObservations(dir, 16))).toBeLessThan(TOL);
  });
});

describe('ONNX export: MultiDiscrete and Gaussian heads', () => {
  it('MultiDiscrete (ppo on tank): one probs_k per part, action [N, parts] equal to the runtime over 60 steps', async () => {
    const dir = await exportRun('ppo-tank', 'tank', 'ppo', { numSteps: 32 }, { steps: 64, envs: 1 });
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(s.actions.size).toBeGreaterThan(1);
    const model = decodeModel(readFileSync(join(dir, 'policy.onnx')));
    expect(model.graph.output.map((o) => o.name)).toEqual(['logits', 'logits_0', 'probs_0', 'logits_1', 'probs_1', 'logits_2', 'probs_2', 'probs', 'action']);
  });

  it('Gaussian (ppo on pendulum, normObs in the graph): mean and clipped action within 1e-5', async () => {
    const dir = await exportRun('ppo-pendulum', 'pendulum', 'ppo', { numSteps: 32, minibatches: 2, epochs: 2 }, { steps: 64, envs: 1 });
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
  });

  it('SAC (pendulum): mean and tanh-squashed action within 1e-5', async () => {
    const dir = await exportRun('sac-pendulum', 'pendulum', 'sac', { learningStarts: 32, batchSize: 8 }, { steps: 64, envs: 1 });
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(s.actions.size).toBeGreaterThan(10);
  });
});

describe('ONNX export: Dict observations', () => {
  it('ppo on beacon (per-key encoders: Reshape, Cropping2D, Concatenate) on the flat observation: probabilities within 1e-5', async () => {
    // Glorot init, as the Dict export test: the orthogonal policy head starts near uniform.
    const dir = await exportRun('ppo-beacon', 'beacon', 'ppo', { numSteps: 32, init: 'glorot' }, { steps: 64, envs: 1 });
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(s.actions.size).toBeGreaterThan(1);
  });
});

describe('ONNX export: the file', () => {
  it('states opset 13, names its inputs and outputs, puts 1/255 in the graph and carries the metadata', async () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 2] }), tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' })] });
    const policy = basicPolicyFile({ game: 'pix', frame: { shape: [8, 8, 3], dtype: 'uint8' }, preprocess: [{ kind: 'grayscale' }, { kind: 'resize', height: 4, width: 4 }, { kind: 'frameStack', k: 2 }], observation: { shape: [4, 4, 2], dtype: 'uint8', high: 255 }, inputScale: 1 / 255, actions: ['left', 'stay', 'right'] });
    const before = tf.memory().numTensors;
    const bytes = await policyToOnnx(policy, model);
    await policyToOnnx(policy, model);
    // Reading the weights makes no tensors to leak.
    expect(tf.memory().numTensors).toBe(before);
    const m = decodeModel(bytes);
    // The default domain is '' (proto3 leaves it off the wire).
    expect(m.opsetImport.map((o) => [o.domain ?? '', o.version])).toEqual([['', ONNX_OPSET]]);
    expect(ONNX_OPSET).toBe(13);
    expect(m.graph.input.map((i) => i.name)).toEqual(['obs']);
    expect(m.graph.input[0]!.type.tensorType.shape.dim).toEqual([{ dimParam: 'N' }, { dimValue: 4 }, { dimValue: 4 }, { dimValue: 2 }]);
    expect(m.graph.output.map((o) => o.name)).toEqual(['q', 'action']);
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta['npcforge.game']).toBe('pix');
    expect(JSON.parse(meta['npcforge.action_names']!)).toEqual(['left', 'stay', 'right']);
    expect(JSON.parse(meta['npcforge.preprocess']!)).toEqual(policy.preprocess);
    expect(meta['npcforge.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(JSON.parse(meta['npcforge.observation']!)).toMatchObject({ layout: 'NHWC', inputScale: 1 / 255 });
    // The scaling is a node of the graph: raw 0..255 values in, the same Q-values as the scaled input through tfjs.
    const raw = Float32Array.from({ length: 32 }, (_, i) => (i * 37) % 256);
    const s = await ort.InferenceSession.create(bytes);
    const q = (await s.run({ obs: new ort.Tensor('float32', raw, [1, 4, 4, 2]) })).q!.data as Float32Array;
    const ref = tf.tidy(() => (model.predict(tf.tensor(raw, [1, 4, 4, 2]).mul(1 / 255)) as tf.Tensor).dataSync());
    expect(maxAbsDiff(q, ref)).toBeLessThan(TOL);
    await s.release();
    model.dispose();
  });

  it('layer options beyond the trained nets: same padding with stride, dilation, Activation, Dropout, Dense on a sequence, Concatenate, an LSTM without initial state returning sequences with hard-sigmoid gates', async () => {
    const seed = (k: number) => tf.initializers.glorotUniform({ seed: k });
    const x = tf.input({ shape: [7, 6, 2] });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seed(1), biasInitializer: 'ones' }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, activation: 'tanh', kernelInitializer: seed(2) }).apply(x) as tf.SymbolicTensor;
    const fa = tf.layers.flatten().apply(tf.layers.activation({ activation: 'sigmoid' }).apply(a)) as tf.SymbolicTensor;
    const fb = tf.layers.flatten().apply(tf.layers.dropout({ rate: 0.5 }).apply(b)) as tf.SymbolicTensor;
    const joined = tf.layers.concatenate().apply([fa, fb]) as tf.SymbolicTensor;
    const seq = tf.layers.reshape({ targetShape: [3, 4] }).apply(tf.layers.dense({ units: 12, kernelInitializer: seed(3) }).apply(joined)) as tf.SymbolicTensor;
    const perStep = tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: seed(4), biasInitializer: 'ones' }).apply(seq) as tf.SymbolicTensor;
    const lstm = tf.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'hardSigmoid', kernelInitializer: seed(5), recurrentInitializer: seed(6), biasInitializer: 'ones' }).apply(perStep) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seed(7) }).apply(tf.layers.flatten().apply(lstm)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: out });
    const policy = basicPolicyFile({ game: 'x', observation: { shape: [7, 6, 2], dtype: 'float32' }, actions: ['a', 'b', 'c'] });
    const bytes = await policyToOnnx(policy, model);
    const obs = Float32Array.from({ length: 2 * 84 }, (_, i) => Math.sin(i * 0.7) * 2);
    const s = await ort.InferenceSession.create(bytes);
    const q = (await s.run({ obs: new ort.Tensor('float32', obs, [2, 7, 6, 2]) })).q!.data as Float32Array;
    const ref = tf.tidy(() => (model.predict(tf.tensor(obs, [2, 7, 6, 2])) as tf.Tensor).dataSync());
    expect(maxAbsDiff(q, ref)).toBeLessThan(TOL);
    await s.release();
    model.dispose();
  });

  it('names a layer it cannot export, with its class', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, name: 'hidden' }), tf.layers.batchNormalization({ name: 'bn' }), tf.layers.dense({ units: 2 })] });
    const policy = basicPolicyFile({ game: 'x', observation: { shape: [4], dtype: 'float32' }, actions: ['a', 'b'] });
    const err = await policyToOnnx(policy, model).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect((err as Error).message).toMatch(/^\[export --format onnx\] expected a layer ONNX export supports \(.*\), received layer "bn" \(BatchNormalization\); fix: /);
    const elu = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'elu', name: 'act' })] });
    await expect(policyToOnnx(policy, elu)).rejects.toThrow(/received layer "act" \(Dense\): activation "elu"/);
    // Our own layers (the supervised Transformer's) are named by their registered class.
    const seq = tf.input({ shape: [3, 4] });
    const pooled = tf.model({ inputs: seq, outputs: new MaskedMeanPooling({ name: 'pool' }).apply(seq) as tf.SymbolicTensor });
    await expect(policyToOnnx(basicPolicyFile({ game: 'x', observation: { shape: [3, 4], dtype: 'float32' }, actions: ['a', 'b', 'c', 'd'] }), pooled)).rejects.toThrow(/received layer "pool" \(NpcforgeMaskedMeanPooling\); fix: /);
    model.dispose();
    elu.dispose();
    pooled.dispose();
  });

  it('npcforge export --format onnx writes policy.onnx alone; a bad --format is a usage error', async () => {
    const config = resolveRunConfig({ game: 'cartpole', agent: 'ppo', file: { numSteps: 32 }, flags: { ...run, steps: 32, envs: 1, seed: 1 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, 'cli-onnx');
    const r = await runCli(['export', res.runDir, '--format', 'onnx', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/policy\.onnx \d+ bytes/);
    expect(existsSync(join(out, 'policy.onnx'))).toBe(true);
    expect(existsSync(join(out, 'policy.json'))).toBe(false);
    expectCheckerPasses(join(out, 'policy.onnx'));
    const bad = await runCli(['export', res.runDir, '--format', 'pt']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\[--format\] expected a format, one of tfjs, onnx, all, received "pt"; fix: /);
    expect(() => checkExportFormat('tflite')).toThrow(/\[export\] expected a format/);
  });

  it('npcforge export <bundle folder> --format onnx converts an exported tfjs bundle in place (the committed pong NPC)', async () => {
    const dir = join(tmp, 'pong-bundle');
    cpSync(join(__dirname, '..', '..', 'examples', 'pong', 'npc'), dir, { recursive: true });
    const r = await runCli(['export', dir, '--format', 'onnx']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote .*policy\.onnx \(\d+ bytes\) from the pong dqn bundle\n$/);
    expectCheckerPasses(join(dir, 'policy.onnx'));
    const s = await playBoth(dir, 60);
    expect(s.maxDiff).toBeLessThan(TOL);
    expect(s.actions.size).toBeGreaterThan(1);
    const bad = await runCli(['export', dir, '--format', 'onnx', '--checkpoint', '5']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\[export\] expected a run folder with --checkpoint or --decision-period, received the policy bundle/);
  });
});
