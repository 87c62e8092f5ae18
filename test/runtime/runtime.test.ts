/**
 * Runtime: bad bundles fail with named errors, the frame pipeline equals the training wrappers,
 * recurrent state is carried and reset, and act() does not leak tensors.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync, readFileSync, truncateSync, symlinkSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { CheckpointError, SpaceMismatchError, UnsupportedVersionError, InvalidConfigError } from '../../src/errors.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Flicker, FrameStack, GrayScale, PixelObservation, Resize } from '../../src/envs/wrappers/index.js';
import { basicPolicyFile, preprocessChain, writePolicyBundle } from '../../src/export/export-policy.js';
import { buildQNetwork } from '../../src/networks/builders.js';
import { FramePipeline, loadPolicy, type PolicyFile } from '../../src/runtime/index.js';
import { writeLstmBundle } from '../helpers/policy-bundles.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-runtime-'));
beforeAll(async () => {
  await tf.ready();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MINATAR_ACTIONS = ['noop', 'left', 'right', 'up', 'down', 'fire'];

async function minatarBundle(name: string): Promise<string> {
  const dir = join(tmp, name);
  const model = buildQNetwork({ inputShape: [10, 10, 4], numActions: 6, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 3 });
  await writePolicyBundle(dir, basicPolicyFile({ game: 'minatar/breakout', observation: { shape: [10, 10, 4], dtype: 'uint8' }, actions: MINATAR_ACTIONS }), model);
  model.dispose();
  return dir;
}

function editPolicy(dir: string, edit: (p: Record<string, unknown>) => void): void {
  const p = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8'));
  edit(p);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(p));
}

describe('loadPolicy: bad bundles', () => {
  it('rejects a bundle for another game', async () => {
    const dir = await minatarBundle('wrong-game');
    await expect(loadPolicy(dir, { game: 'pong' })).rejects.toThrow(SpaceMismatchError);
    await expect(loadPolicy(dir, { game: 'pong' })).rejects.toThrow(/\[loadPolicy\] expected a policy for game "pong", received a policy for "minatar\/breakout"; fix:/);
  });

  it('rejects an unknown version', async () => {
    const dir = await minatarBundle('version');
    editPolicy(dir, (p) => (p.version = 99));
    await expect(loadPolicy(dir)).rejects.toThrow(UnsupportedVersionError);
    await expect(loadPolicy(dir)).rejects.toThrow(/\[policy.json\] expected version 1 or 2, received 99/);
  });

  it('rejects missing and truncated weights', async () => {
    const dir = await minatarBundle('no-weights');
    truncateSync(join(dir, 'weights.bin'), 100);
    await expect(loadPolicy(dir)).rejects.toThrow(/\[loadPolicy\] expected \d+ bytes of float32 weights, received 100 bytes/);
    unlinkSync(join(dir, 'weights.bin'));
    await expect(loadPolicy(dir)).rejects.toThrow(CheckpointError);
    await expect(loadPolicy(dir)).rejects.toThrow(/expected weights.bin in the policy bundle/);
  });

  it('rejects a corrupt or incomplete policy.json', async () => {
    const dir = await minatarBundle('corrupt');
    writeFileSync(join(dir, 'policy.json'), '{"format": "npcforge-policy", "vers');
    await expect(loadPolicy(dir)).rejects.toThrow(/\[policy.json\] expected valid JSON, received unparsable text/);
    editPolicyText(dir, { format: 'npcforge-policy', version: 1, game: {} });
    await expect(loadPolicy(dir)).rejects.toThrow(/expected a complete policy description, received game.id undefined; output undefined/);
    unlinkSync(join(dir, 'policy.json'));
    await expect(loadPolicy(dir)).rejects.toThrow(/expected policy.json in the policy bundle/);
  });

  it('rejects mismatched observation shapes: in policy.json, vs the model, and at act()', async () => {
    const dir = await minatarBundle('shape');
    await expect(loadPolicy(dir, { frameShape: [10, 10, 7] })).rejects.toThrow(/expected frames of shape \[10,10,4\]/);
    const ok = await loadPolicy(dir);
    await expect(ok.act(new Uint8Array(10))).rejects.toThrow(SpaceMismatchError);
    await expect(ok.act(new Uint8Array(10))).rejects.toThrow(/\[policy.act\] expected a frame of 400 values or an observation of 400 values, received Uint8Array\(10\)/);
    await expect(ok.act(new Uint8Array(400), { greedy: false })).rejects.toThrow(InvalidConfigError);
    ok.dispose();
    editPolicy(dir, (p) => {
      (p.observation as { shape: number[] }).shape = [10, 10, 5];
      (p.frame as { shape: number[] }).shape = [10, 10, 5];
    });
    await expect(loadPolicy(dir)).rejects.toThrow(/expected a model reading observations \[10,10,5\] \(policy.json\), received a model input \[10,10,4\]/);
  });
});

function editModel(dir: string, edit: (m: { weightsManifest: Array<{ paths: string[]; weights: Array<{ shape: number[] }> }> }) => void): void {
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  edit(m);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
}

/** A secret file outside every bundle: its content must never appear in an error. */
const SECRET = 'TOP-SECRET-CONTENT-0123456789';

describe('loadPolicy: hostile bundles stay inside their folder', () => {
  const secretFile = join(tmp, 'secret.bin');
  beforeAll(() => writeFileSync(secretFile, SECRET.repeat(100)));

  async function rejects(dir: string, pattern: RegExp): Promise<void> {
    const err = await loadPolicy(dir).then(
      (p) => {
        p.dispose();
        return null;
      },
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err!.message).toMatch(/^\[loadPolicy\] expected .*, received .*; fix: /);
    expect(err!.message).toMatch(pattern);
    expect(err!.message).not.toContain('TOP-SECRET');
  }

  it('refuses ../ and absolute paths in weightsManifest.paths and model.topology', async () => {
    const dir = await minatarBundle('dotdot');
    editModel(dir, (m) => (m.weightsManifest[0]!.paths = ['../secret.bin']));
    await rejects(dir, /expected .*weightsManifest paths to name a file inside the bundle folder/);
    editModel(dir, (m) => (m.weightsManifest[0]!.paths = [secretFile]));
    await rejects(dir, /inside the bundle folder/);
    editPolicy(dir, (p) => ((p.model as { topology: string }).topology = '../secret.bin'));
    await rejects(dir, /model.topology to name a file inside the bundle folder/);
  });

  it('refuses symlinks out of the folder (a file, /dev/zero), FIFOs and folders, without reading them', async () => {
    const dir = await minatarBundle('links');
    const size = statSync(join(dir, 'weights.bin')).size;
    unlinkSync(join(dir, 'weights.bin'));
    symlinkSync(secretFile, join(dir, 'weights.bin'));
    await rejects(dir, /expected weights.bin inside the bundle folder, received a link to a file outside it/);
    unlinkSync(join(dir, 'weights.bin'));
    symlinkSync('/dev/zero', join(dir, 'weights.bin'));
    await rejects(dir, /received a link to a file outside it/);
    unlinkSync(join(dir, 'weights.bin'));
    execFileSync('mkfifo', [join(dir, 'weights.bin')]);
    // Opening a FIFO without a writer would block forever: the check happens before any open.
    await rejects(dir, /expected weights.bin to be a regular file, received a FIFO/);
    unlinkSync(join(dir, 'weights.bin'));
    execFileSync('mkdir', [join(dir, 'weights.bin')]);
    await rejects(dir, /received a folder/);
    expect(size).toBeGreaterThan(0);
  });

  it('refuses oversized JSON and weights declared beyond the limit before reading them', async () => {
    const dir = await minatarBundle('big');
    writeFileSync(join(dir, 'model.json'), Buffer.alloc((16 << 20) + 1, 32));
    await rejects(dir, /expected model.json of at most 16777216 bytes, received 16777217 bytes/);
    const dir2 = await minatarBundle('big-manifest');
    editModel(dir2, (m) => (m.weightsManifest[0]!.weights[0]!.shape = [1e6, 1e6]));
    await rejects(dir2, /expected weights of at most 536870912 bytes in all, received more by weight 0/);
  });

  it('refuses policy.json shapes, stacks and action lists it would have to allocate gigabytes for', async () => {
    const dir = await minatarBundle('shapes');
    editPolicy(dir, (p) => {
      (p.frame as { shape: number[] }).shape = [100000, 100000, 3];
      p.preprocess = [{ kind: 'grayscale' }, { kind: 'resize', height: 10, width: 10 }, { kind: 'frameStack', k: 4 }];
    });
    await expect(loadPolicy(dir)).rejects.toThrow(/expected a complete policy description, received frame.shape array\(3\) \(at most 67108864 values\)/);
    editPolicy(dir, (p) => {
      (p.frame as { shape: number[] }).shape = [10, 10, 1];
      p.preprocess = [{ kind: 'frameStack', k: 1e6 }];
    });
    await expect(loadPolicy(dir)).rejects.toThrow(/expected frameStack.k in \[1, 64\], received 1000000/);
    editPolicy(dir, (p) => (p.actions = Array.from({ length: 5000 }, () => 'a')));
    await expect(loadPolicy(dir)).rejects.toThrow(/actions array\(5000\) \(1 to 1024 names\)/);
  });

  it('reports truncated and padded weights as byte counts', async () => {
    const dir = await minatarBundle('counts');
    const size = statSync(join(dir, 'weights.bin')).size;
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([readFileSync(join(dir, 'weights.bin')), Buffer.alloc(8)]));
    await rejects(dir, new RegExp(`expected ${size} bytes of float32 weights, received ${size + 8} bytes in weights.bin`));
  });

  it('refuses NaN and infinite weights', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const dir = await minatarBundle(`nan-${bad}`);
      const bytes = readFileSync(join(dir, 'weights.bin'));
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setFloat32(40, bad, true);
      writeFileSync(join(dir, 'weights.bin'), bytes);
      await rejects(dir, new RegExp(`expected finite weights in weights.bin, received ${bad} in weight 0 \\(shape \\[[0-9,]+\\]\\) at element 10`));
    }
  });

  it('over HTTP: requests stay under the bundle URL and bodies are cut off at the limit', async () => {
    const dir = await minatarBundle('url');
    const files: Record<string, Uint8Array> = {};
    for (const f of ['policy.json', 'model.json', 'weights.bin']) files[f] = new Uint8Array(readFileSync(join(dir, f)));
    const requested: string[] = [];
    const fetchImpl = (async (url: string) => {
      requested.push(String(url));
      const path = new URL(String(url)).pathname;
      const name = path.startsWith('/npc/') ? path.slice(5) : null;
      if (name === 'secret') return new Response(SECRET);
      const body = name !== null ? files[name] : undefined;
      return body ? new Response(body as unknown as BodyInit) : new Response('nope', { status: 404 });
    }) as typeof fetch;
    const ok = await loadPolicy('http://game.local/npc/', { fetch: fetchImpl });
    ok.dispose();
    expect(requested).toEqual(['http://game.local/npc/policy.json', 'http://game.local/npc/model.json', 'http://game.local/npc/weights.bin']);
    const model = JSON.parse(new TextDecoder().decode(files['model.json']));
    for (const escape of ['%2e%2e/secret', '../secret', 'http://evil.example/secret', '//evil.example/npc/x']) {
      model.weightsManifest[0].paths = [escape];
      files['model.json'] = new TextEncoder().encode(JSON.stringify(model));
      requested.length = 0;
      const err = await loadPolicy('http://game.local/npc/', { fetch: fetchImpl }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      expect((err as Error).message).not.toContain('TOP-SECRET');
      // As the server would see them: '..' and '%2e%2e' resolved.
      expect(requested.map((u) => new URL(u).href)).toEqual(['http://game.local/npc/policy.json', 'http://game.local/npc/model.json']);
    }
    // A body far larger than the limit, streamed without a Content-Length: cut off, not buffered whole.
    let sent = 0;
    const endless = (async () => {
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          sent += 1 << 16;
          c.enqueue(new Uint8Array(1 << 16).fill(32));
        },
      });
      return new Response(stream);
    }) as typeof fetch;
    const err = await loadPolicy('http://game.local/npc/', { fetch: endless }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/expected policy.json of at most 1048576 bytes, received more than 1048576 bytes/);
    expect(sent).toBeLessThan(4 << 20);
  });
});

function editPolicyText(dir: string, obj: unknown): void {
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(obj));
}

/** A dense [4] -> [width] bundle with the given action description (version 2). */
async function actionBundle(name: string, width: number, edit: (p: Record<string, unknown>) => void, bias?: number[]): Promise<string> {
  const dir = join(tmp, name);
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: width, kernelInitializer: 'zeros', biasInitializer: 'zeros' })] });
  if (bias) model.layers[0]!.setWeights([tf.zeros([4, width]), tf.tensor1d(bias)]);
  const file = basicPolicyFile({ game: 'tank', agent: 'ppo', output: 'logits', observation: { shape: [4], dtype: 'float32' }, actions: [] }) as unknown as Record<string, unknown>;
  file.version = 2;
  edit(file);
  await writePolicyBundle(dir, file as unknown as PolicyFile, model);
  model.dispose();
  return dir;
}

const TANK_NAMES = [['m0', 'm1', 'm2', 'm3', 'm4'], ['t0', 't1', 't2'], ['f0', 'f1']];
const multiDiscrete = (p: Record<string, unknown>) => {
  p.action = { type: 'MultiDiscrete', nvec: [5, 3, 2], names: TANK_NAMES };
  p.actions = TANK_NAMES.flat();
};
const box = (p: Record<string, unknown>) => {
  p.output = 'mean';
  p.action = { type: 'Box', shape: [2], low: [-1, -2], high: [1, 2] };
};

describe('loadPolicy: MultiDiscrete and Box bundles', () => {
  it('MultiDiscrete: one index (Int32Array) and one name per part, argmax of each logits slice', async () => {
    const dir = await actionBundle('md', 10, multiDiscrete, [0, 0, 0, 3, 0, 1, 0, 0, 0, 2]);
    const policy = await loadPolicy(dir);
    const r = await policy.act(new Float32Array(4));
    expect(r.action).toEqual(Int32Array.from([3, 0, 1]));
    expect(r.actionName).toEqual(['m3', 't0', 'f1']);
    // A softmax per part: each part's probabilities sum to 1.
    expect(r.probs!.subarray(0, 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(r.probs!.subarray(8).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const sampled = await policy.act(new Float32Array(4), { greedy: false, rng: new SeededRng(1) });
    expect(sampled.action).toBeInstanceOf(Int32Array);
    policy.dispose();
  });

  it('Box: the mean clipped to the bounds as a Float32Array, no name', async () => {
    const dir = await actionBundle('box', 2, box, [5, -0.5]);
    const policy = await loadPolicy(dir);
    const r = await policy.act(new Float32Array(4));
    expect(r.action).toEqual(Float32Array.from([1, -0.5]));
    expect(r.actionName).toBeNull();
    expect(Array.from(r.mean!)).toEqual([5, -0.5]);
    await expect(policy.act(new Float32Array(4), { greedy: false, rng: new SeededRng(1) })).rejects.toThrow(InvalidConfigError);
    policy.dispose();
  });

  it('squashed-mean (SAC): tanh(mean) scaled to the bounds from the first half of [mean | log-std]', async () => {
    const dir = await actionBundle('squashed', 4, (p) => { box(p); p.output = 'squashed-mean'; }, [0, 100, 7, 7]);
    const policy = await loadPolicy(dir);
    const r = await policy.act(new Float32Array(4));
    // Bounds [-1, 1] and [-2, 2]: tanh(0) -> the middle, tanh(100) -> the top.
    expect(Array.from(r.action as Float32Array)).toEqual([0, 2]);
    expect(Array.from(r.mean!)).toEqual([0, 100]);
    policy.dispose();
    const narrow = await actionBundle('squashed-width', 2, (p) => { box(p); p.output = 'squashed-mean'; });
    await expect(loadPolicy(narrow)).rejects.toThrow(/expected a model with 4 outputs/);
  });

  it('does not leak tensors over many act() calls (MultiDiscrete, Box, squashed-mean)', async () => {
    const policies = [
      await loadPolicy(await actionBundle('leak-md', 10, multiDiscrete)),
      await loadPolicy(await actionBundle('leak-box', 2, box)),
      await loadPolicy(await actionBundle('leak-sq', 4, (p) => { box(p); p.output = 'squashed-mean'; })),
    ];
    const obs = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    for (const p of policies) await p.act(obs);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      for (const p of policies) await p.act(obs);
      await policies[0]!.act(obs, { greedy: false, rng: new SeededRng(i) });
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const p of policies) p.dispose();
  });

  it('inputNorm: observations are normalised and clipped before the network', async () => {
    const dir = join(tmp, 'norm');
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2, kernelInitializer: 'identity', biasInitializer: 'zeros' })] });
    const file = basicPolicyFile({ game: 'pendulum', agent: 'ppo', output: 'logits', observation: { shape: [2], dtype: 'float32' }, actions: [] }) as unknown as Record<string, unknown>;
    Object.assign(file, { version: 2, output: 'mean', action: { type: 'Box', shape: [2], low: [-100, -100], high: [100, 100] }, inputNorm: { mean: [1, -1], var: [4, 0], epsilon: 1e-8, clip: 10 } });
    await writePolicyBundle(dir, file as unknown as PolicyFile, model);
    model.dispose();
    const policy = await loadPolicy(dir);
    const r = await policy.act(Float32Array.from([5, 0]));
    expect((r.action as Float32Array)[0]).toBeCloseTo(2, 5);
    expect((r.action as Float32Array)[1]).toBe(10);
    policy.dispose();
  });

  it('refuses hostile action fields with a named one-line error', async () => {
    const cases: Array<[string, number, (p: Record<string, unknown>) => void, RegExp]> = [
      ['nvec-zero', 10, (p) => { multiDiscrete(p); (p.action as { nvec: number[] }).nvec = [5, 0, 5]; }, /action.nvec of 3 entries \(1 to 64 entries, each 1 to 1024\)/],
      ['nvec-huge', 10, (p) => { multiDiscrete(p); (p.action as { nvec: number[] }).nvec = [1e9]; }, /action.nvec of 1 entries/],
      ['nvec-many', 10, (p) => { multiDiscrete(p); (p.action as { nvec: number[] }).nvec = Array.from({ length: 100000 }, () => 1); }, /action.nvec of 100000 entries/],
      ['nvec-sum', 10, (p) => { multiDiscrete(p); (p.action as { nvec: number[] }).nvec = [1000, 1000]; }, /action.nvec summing to 2000 \(at most 1024\)/],
      ['names', 10, (p) => { multiDiscrete(p); (p.action as { names: unknown }).names = [['a'], 'b', null]; }, /action.names \(one list of nvec\[i\] names/],
      ['names-vs-actions', 10, (p) => { multiDiscrete(p); p.actions = ['a']; }, /action.nvec summing to 10 with 1 action names/],
      ['md-output', 10, (p) => { multiDiscrete(p); p.output = 'q'; }, /output "q" with a MultiDiscrete action/],
      ['box-bounds', 2, (p) => { box(p); (p.action as { low: unknown }).low = [null, 0]; }, /action.low\/high \(2 finite values each\)/],
      ['box-order', 2, (p) => { box(p); (p.action as { low: number[] }).low = [5, 5]; }, /action.low above action.high/],
      ['box-shape', 2, (p) => { box(p); (p.action as { shape: number[] }).shape = [1e6]; }, /action.shape array\(1\) \(at most 64 values\)/],
      ['box-output', 2, (p) => { box(p); p.output = 'logits'; }, /output "logits" with a Box action \(mean or squashed-mean needed\)/],
      ['type', 2, (p) => { p.action = { type: 'Tuple\nline' }; }, /action.type a string of 10 characters \(Discrete, MultiDiscrete or Box\)/],
      ['v1-action', 2, (p) => { box(p); p.version = 1; }, /action in a version 1 file/],
      ['mean-no-action', 2, (p) => { p.output = 'mean'; p.actions = ['a', 'b']; }, /action absent with output "mean"/],
      ['norm', 2, (p) => { box(p); p.inputNorm = { mean: [0, 0], var: [1, 1, 1, 1], epsilon: 1e-8, clip: 10 }; }, /inputNorm \(mean and var of one finite value per observation value/],
    ];
    for (const [name, width, edit, message] of cases) {
      const dir = await actionBundle(`hostile-${name}`, width, edit);
      const err = await loadPolicy(dir).then(() => null, (e: unknown) => e as Error);
      expect(err, name).toBeInstanceOf(CheckpointError);
      expect(err!.message, name).toMatch(message);
      expect(err!.message, name).toMatch(/^\[policy.json\] expected a complete policy description, received .*; fix: /);
      expect(err!.message.includes('\n'), name).toBe(false);
      expect(err!.message.includes('Tuple'), name).toBe(false);
    }
    // An infinite bound written as JSON text (1e400 parses to Infinity).
    const dir = await actionBundle('hostile-inf', 2, box);
    writeFileSync(join(dir, 'policy.json'), readFileSync(join(dir, 'policy.json'), 'utf8').replace(/"high": \[\s*1,/, '"high": [1e400,'));
    await expect(loadPolicy(dir)).rejects.toThrow(/action.low\/high \(2 finite values each\)/);
  });

  it('refuses a model whose output width does not match the action description', async () => {
    const dir = await actionBundle('md-width', 9, multiDiscrete);
    await expect(loadPolicy(dir)).rejects.toThrow(SpaceMismatchError);
    await expect(loadPolicy(dir)).rejects.toThrow(/\[loadPolicy\] expected a model with 10 outputs \(the logits of every part\), received output shape \[,9\]/);
  });
});

describe('FramePipeline', () => {
  it('equals GrayScale -> Resize -> FrameStack on rendered catch frames, and preprocessChain reads the chain', () => {
    const inner = make('catch');
    const env = new FrameStack(new Resize(new GrayScale(new PixelObservation(inner)), { height: 21, width: 17 }), { k: 3 }) as unknown as Env<ObsArray, number>;
    const { steps, frame } = preprocessChain(env as Env<unknown, unknown>);
    expect(steps).toEqual([{ kind: 'grayscale' }, { kind: 'resize', height: 21, width: 17 }, { kind: 'frameStack', k: 3 }]);
    // Flicker is a training-time perturbation: never part of the exported chain.
    const flickered = new FrameStack(new Flicker(new GrayScale(new PixelObservation(make('catch'))), { p: 0.5 }), { k: 2 }) as unknown as Env<unknown, unknown>;
    expect(preprocessChain(flickered).steps).toEqual([{ kind: 'grayscale' }, { kind: 'frameStack', k: 2 }]);
    const raw = new PixelObservation(make('catch'));
    expect(frame.shape).toEqual([...raw.observationSpace.shape]);
    const policy: PolicyFile = basicPolicyFile({ game: 'catch', frame, preprocess: steps, observation: { shape: [21, 17, 3], dtype: 'uint8' }, actions: ['a', 'b', 'c'] });
    const pipe = new FramePipeline(policy);
    const rng = new SeededRng(5);
    for (let ep = 0; ep < 2; ep++) {
      let obs = env.reset({ seed: 40 + ep }).obs;
      let rawObs = raw.reset({ seed: 40 + ep }).obs;
      pipe.reset();
      for (let t = 0; t < 15; t++) {
        expect(Array.from(pipe.process(rawObs))).toEqual(Array.from(obs));
        const a = rng.int(0, 3);
        const r = env.step(a);
        const rr = raw.step(a);
        if (r.terminated || r.truncated) break;
        obs = r.obs;
        rawObs = rr.obs;
      }
    }
  });
});

describe('Policy', () => {
  it('does not leak tensors over many act() calls (feed-forward and recurrent)', async () => {
    const ff = await loadPolicy(await minatarBundle('leak'));
    const rec = await loadPolicy(await lstmBundle('leak-lstm'));
    const obs = new Uint8Array(400).map((_, i) => i % 2);
    const recObs = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    for (let i = 0; i < 5; i++) {
      await ff.act(obs);
      await rec.act(recObs);
    }
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      await ff.act(obs);
      await rec.act(recObs, { greedy: false, rng: new SeededRng(i) });
      if (i % 50 === 0) rec.reset();
    }
    expect(tf.memory().numTensors).toBe(before);
    ff.dispose();
    rec.dispose();
  });

  it('carries the LSTM state between calls and zeroes it on reset (equals threading the state by hand)', async () => {
    const dir = await lstmBundle('lstm');
    const policy = await loadPolicy(dir);
    const reference = await tf.loadLayersModel(tf.io.fromMemory(await memoryArtifacts(dir)));
    const rng = new SeededRng(9);
    const seq = Array.from({ length: 12 }, () => Float32Array.from({ length: 4 }, () => rng.random() * 2 - 1));
    let h = tf.zeros([1, 8]);
    let c = tf.zeros([1, 8]);
    const expected: Float32Array[] = [];
    for (const x of seq) {
      const [logits, h2, c2] = reference.predict([tf.tensor(x, [1, 4]), h, c]) as tf.Tensor[];
      expected.push((await tf.softmax(logits!).data()) as Float32Array);
      h = h2!;
      c = c2!;
    }
    for (let pass = 0; pass < 2; pass++) {
      policy.reset();
      for (let t = 0; t < seq.length; t++) {
        const r = await policy.act(seq[t]!);
        for (let i = 0; i < 3; i++) expect(Math.abs(r.probs![i]! - expected[t]![i]!)).toBeLessThan(1e-5);
      }
    }
    // Without the carried state the answers differ: the test would catch a runtime that drops it.
    policy.reset();
    await policy.act(seq[0]!);
    policy.reset();
    const stateless = await policy.act(seq[1]!);
    expect(Math.max(...[0, 1, 2].map((i) => Math.abs(stateless.probs![i]! - expected[1]![i]!)))).toBeGreaterThan(1e-4);
    policy.dispose();
    reference.dispose();
  });
});

async function memoryArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const w = readFileSync(join(dir, 'weights.bin'));
  return { modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) };
}

/** A one-step LSTM policy: inputs [obs, h, c], outputs [logits, h', c']. */
function lstmBundle(name: string): Promise<string> {
  return writeLstmBundle(join(tmp, name));
}
