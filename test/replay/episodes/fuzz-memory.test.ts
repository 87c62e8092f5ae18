/**
 * Acceptance fuzz test (issue 14): the episode reader and the policy bundle loader, run in a child
 * process under a memory cap (`--max-old-space-size=512`), over hostile inputs: huge counts and
 * declared sizes, zlib bombs with valid CRCs, truncations, random byte flips of a valid file, NaN
 * weights, `../` paths, /dev/zero through a symlink, FIFOs, sparse files of gigabytes. Every input
 * must end in a named error (class checked), the child must not run out of memory, and it must
 * finish in bounded time.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '../../../games/index.js';
import { make } from '../../../src/envs/registry.js';
import { SeededRng } from '../../../src/envs/rng.js';
import { RecordEpisode, RecordMultiAgentEpisode } from '../../../src/replay/episodes/index.js';
import { makeMultiAgent } from '../../../src/envs/multi/registry.js';
import { basicPolicyFile, writePolicyBundle } from '../../../src/export/export-policy.js';
import { buildQNetwork } from '../../../src/networks/builders.js';
import { hostileEpisodes } from './hostile-episodes.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Input {
  name: string;
  kind: 'episode' | 'bundle';
  path: string;
  verify?: boolean;
  /** Error classes accepted; 'ok' when reading may succeed (a flip inside a free-form string). */
  expect: string[];
}

const SECRET = 'TOP-SECRET-CONTENT';

function recordCatch(dir: string): string {
  const rec = new RecordEpisode(make<unknown, number>('catch'), { dir, keyframeInterval: 4, name: () => 'base' });
  const rng = new SeededRng(5);
  rec.reset({ seed: 5 });
  for (;;) if (rec.step(rng.int(0, 3)).terminated) break;
  rec.close();
  return rec.files[0]!;
}

/** A MinAtar episode storing every frame's observation (for saliency): flips in its obsData must be caught too. */
function recordWithObservations(dir: string): string {
  const rec = new RecordEpisode(make<unknown, number>('minatar/breakout', { maxEpisodeSteps: 30 }), { dir, keyframeInterval: 4, name: () => 'obs', observations: true });
  const rng = new SeededRng(8);
  rec.reset({ seed: 8 });
  for (;;) {
    const r = rec.step(rng.int(0, 3));
    if (r.terminated || r.truncated) break;
  }
  rec.close();
  return rec.files[0]!;
}

/** A Box-action episode (format version 2): flips in its float32 action rows must be caught too. */
function recordPendulum(dir: string): string {
  const env = make<unknown, Float32Array>('pendulum');
  const rec = new RecordEpisode(env, { dir, keyframeInterval: 4, name: () => 'box' });
  const rng = new SeededRng(6);
  rec.reset({ seed: 6 });
  for (let t = 0; t < 24; t++) rec.step(env.actionSpace.sample(rng));
  rec.close();
  return rec.files[0]!;
}

/** A multi-agent tag episode (format version 3): flips in its per-agent rows and annotations must be caught too. */
function recordTag(dir: string): string {
  const env = makeMultiAgent<Uint8Array, number>('tag', { maxSteps: 24 });
  const rec = new RecordMultiAgentEpisode(env, { dir, keyframeInterval: 4, name: () => 'multi', learner: 'evader', controllers: { chaser_0: 'random', chaser_1: 'random', evader: 'runs/x:100' } });
  const rng = new SeededRng(7);
  rec.reset({ seed: 7 });
  for (let t = 0; rec.agents.length > 0; t++) {
    rec.annotateNext('evader', { probs: [0.1, 0.2, 0.3, 0.2, 0.2], value: t / 10 });
    rec.step(Object.fromEntries(rec.agents.map((a) => [a, rng.int(0, 5)])));
  }
  rec.close();
  return rec.files[0]!;
}

function episodeInputs(): Input[] {
  const dir = join(tmp, 'episodes');
  mkdirSync(dir, { recursive: true });
  const inputs: Input[] = [];
  const add = (name: string, bytes: Uint8Array | null, expect: string[], verify = false): string => {
    const path = join(dir, `${inputs.length}.npcep`);
    if (bytes) writeFileSync(path, bytes);
    inputs.push({ name, kind: 'episode', path, verify, expect });
    return path;
  };
  for (const h of hostileEpisodes()) add(h.name, h.bytes, [h.expect], h.verify);
  const good = new Uint8Array(readFileSync(recordCatch(join(tmp, 'rec'))));
  add('the valid base recording', good, ['ok'], true);
  const rng = new SeededRng(14);
  for (let i = 0; i < 40; i++) add(`truncated to ${Math.floor((good.length * i) / 40)} bytes`, good.subarray(0, Math.floor((good.length * i) / 40)), ['EpisodeFormatError']);
  for (let i = 0; i < 120; i++) {
    const bytes = good.slice();
    for (let j = 0; j < 1 + (i % 4); j++) {
        const at = rng.int(0, bytes.length);
        bytes[at] = bytes[at]! ^ (1 << rng.int(0, 8));
      }
    add(`byte flips #${i}`, bytes, ['EpisodeFormatError', 'UnsupportedVersionError', 'ok']);
  }
  const withObs = new Uint8Array(readFileSync(recordWithObservations(join(tmp, 'rec'))));
  add('the valid recording with observations', withObs, ['ok'], true);
  for (let i = 0; i < 20; i++) add(`with observations truncated to ${Math.floor((withObs.length * i) / 20)} bytes`, withObs.subarray(0, Math.floor((withObs.length * i) / 20)), ['EpisodeFormatError']);
  for (let i = 0; i < 60; i++) {
    const bytes = withObs.slice();
    for (let j = 0; j < 1 + (i % 4); j++) {
      const at = rng.int(0, bytes.length);
      bytes[at] = bytes[at]! ^ (1 << rng.int(0, 8));
    }
    add(`with observations byte flips #${i}`, bytes, ['EpisodeFormatError', 'UnsupportedVersionError', 'ok']);
  }
  const box = new Uint8Array(readFileSync(recordPendulum(join(tmp, 'rec'))));
  add('the valid Box-action recording', box, ['ok'], true);
  for (let i = 0; i < 60; i++) {
    const bytes = box.slice();
    for (let j = 0; j < 1 + (i % 4); j++) {
        const at = rng.int(0, bytes.length);
        bytes[at] = bytes[at]! ^ (1 << rng.int(0, 8));
      }
    add(`Box-action byte flips #${i}`, bytes, ['EpisodeFormatError', 'UnsupportedVersionError', 'ok']);
  }
  const multi = new Uint8Array(readFileSync(recordTag(join(tmp, 'rec'))));
  add('the valid multi-agent recording', multi, ['ok'], true);
  for (let i = 0; i < 30; i++) add(`multi-agent truncated to ${Math.floor((multi.length * i) / 30)} bytes`, multi.subarray(0, Math.floor((multi.length * i) / 30)), ['EpisodeFormatError']);
  for (let i = 0; i < 60; i++) {
    const bytes = multi.slice();
    for (let j = 0; j < 1 + (i % 4); j++) {
      const at = rng.int(0, bytes.length);
      bytes[at] = bytes[at]! ^ (1 << rng.int(0, 8));
    }
    // A flip inside a free-form string (a controller label, meta) may still read; verify then re-simulates it.
    add(`multi-agent byte flips #${i}`, bytes, ['EpisodeFormatError', 'UnsupportedVersionError', 'InvalidConfigError', 'ok']);
  }
  for (let i = 0; i < 40; i++) add(`random bytes #${i}`, Uint8Array.from({ length: rng.int(1, 4000) }, () => rng.int(0, 256)), ['EpisodeFormatError']);
  execFileSync('mkfifo', [add('a FIFO', null, ['InvalidConfigError'])]);
  mkdirSync(add('a folder', null, ['InvalidConfigError']));
  symlinkSync('/dev/zero', add('a symlink to /dev/zero', null, ['InvalidConfigError']));
  add('a missing file', null, ['InvalidConfigError']);
  const sparse = add('a sparse 4 GiB file', new Uint8Array(0), ['EpisodeFormatError']);
  truncateSync(sparse, 4 * 1024 ** 3);
  return inputs;
}

async function bundleInputs(): Promise<Input[]> {
  const base = join(tmp, 'bundles', 'base');
  const model = buildQNetwork({ inputShape: [10, 10, 4], numActions: 6, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 3 });
  await writePolicyBundle(base, basicPolicyFile({ game: 'minatar/breakout', observation: { shape: [10, 10, 4], dtype: 'uint8' }, actions: ['noop', 'left', 'right', 'up', 'down', 'fire'] }), model);
  model.dispose();
  writeFileSync(join(tmp, 'bundles', 'secret.bin'), SECRET.repeat(1000));
  const inputs: Input[] = [];
  const variant = (name: string, edit: (dir: string) => void, expect = ['CheckpointError']): void => {
    const dir = join(tmp, 'bundles', `v${inputs.length}`);
    cpSync(base, dir, { recursive: true });
    edit(dir);
    inputs.push({ name, kind: 'bundle', path: dir, expect });
  };
  const editJson = (dir: string, file: string, f: (j: any) => void): void => {
    const j = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    f(j);
    writeFileSync(join(dir, file), JSON.stringify(j));
  };
  variant('the valid base bundle', () => {}, ['ok']);
  variant('weights path ../secret.bin', (d) => editJson(d, 'model.json', (m) => (m.weightsManifest[0].paths = ['../secret.bin'])));
  variant('weights path /etc/passwd', (d) => editJson(d, 'model.json', (m) => (m.weightsManifest[0].paths = ['/etc/passwd'])));
  variant('model.topology ../secret.bin', (d) => editJson(d, 'policy.json', (p) => (p.model.topology = '../secret.bin')));
  variant('weights.bin -> /etc/passwd', (d) => (rmSync(join(d, 'weights.bin')), symlinkSync('/etc/passwd', join(d, 'weights.bin'))));
  variant('weights.bin -> /dev/zero', (d) => (rmSync(join(d, 'weights.bin')), symlinkSync('/dev/zero', join(d, 'weights.bin'))));
  variant('model.json -> ../secret.bin', (d) => (rmSync(join(d, 'model.json')), symlinkSync(join(tmp, 'bundles', 'secret.bin'), join(d, 'model.json'))));
  variant('weights.bin is a FIFO', (d) => (rmSync(join(d, 'weights.bin')), execFileSync('mkfifo', [join(d, 'weights.bin')])));
  variant('policy.json is a FIFO', (d) => (rmSync(join(d, 'policy.json')), execFileSync('mkfifo', [join(d, 'policy.json')])));
  variant('policy.json is a folder', (d) => (rmSync(join(d, 'policy.json')), mkdirSync(join(d, 'policy.json'))));
  variant('NaN weights', (d) => {
    const b = readFileSync(join(d, 'weights.bin'));
    b.writeFloatLE(NaN, 8);
    writeFileSync(join(d, 'weights.bin'), b);
  });
  variant('Infinity weights', (d) => {
    const b = readFileSync(join(d, 'weights.bin'));
    b.writeFloatLE(Infinity, b.length - 4);
    writeFileSync(join(d, 'weights.bin'), b);
  });
  variant('truncated weights', (d) => truncateSync(join(d, 'weights.bin'), 100));
  variant('weights declared 4 TB', (d) => editJson(d, 'model.json', (m) => (m.weightsManifest[0].weights[0].shape = [1e6, 1e6])));
  variant('weights.bin sparse 4 GiB', (d) => truncateSync(join(d, 'weights.bin'), 4 * 1024 ** 3));
  variant('model.json sparse 4 GiB', (d) => truncateSync(join(d, 'model.json'), 4 * 1024 ** 3));
  variant('policy.json sparse 4 GiB', (d) => truncateSync(join(d, 'policy.json'), 4 * 1024 ** 3));
  variant('model.json truncated', (d) => truncateSync(join(d, 'model.json'), 200));
  variant('model.json not a model', (d) => writeFileSync(join(d, 'model.json'), `{"secret": "${SECRET}"}`));
  variant('dtype int64 weights', (d) => editJson(d, 'model.json', (m) => (m.weightsManifest[0].weights[0].dtype = 'int64')));
  variant('policy.json missing', (d) => rmSync(join(d, 'policy.json')));
  // The critic (policy.json valueModel, read by the viewer's saliency panel) goes through the same loader.
  const withValue = (d: string, topology: string): void => editJson(d, 'policy.json', (p) => (p.valueModel = { topology }));
  variant('valueModel.topology ../secret.bin', (d) => withValue(d, '../secret.bin'));
  variant('valueModel: the policy network (6 outputs, not 1)', (d) => withValue(d, 'model.json'), ['SpaceMismatchError']);
  variant('value.json -> /dev/zero', (d) => (withValue(d, 'value.json'), symlinkSync('/dev/zero', join(d, 'value.json'))));
  variant('value.json sparse 4 GiB', (d) => (withValue(d, 'value.json'), writeFileSync(join(d, 'value.json'), ''), truncateSync(join(d, 'value.json'), 4 * 1024 ** 3)));
  variant('value.json missing', (d) => withValue(d, 'value.json'));
  variant('valueModel.topology a number', (d) => editJson(d, 'policy.json', (p) => (p.valueModel = { topology: 7 })));
  // Layer sizes live in the topology, which tfjs builds (allocating every weight) before it sees the weights.
  for (const units of [1e5, 1e9]) {
    variant(`a dense layer of ${units} units in the topology`, (d) =>
      editJson(d, 'model.json', (m) => {
        const layers = m.modelTopology.model_config?.config?.layers ?? m.modelTopology.config?.layers;
        const dense = layers.find((l: { config: { units?: number } }) => l.config.units !== undefined);
        dense.config.units = units;
      }),
    );
  }
  return inputs;
}

describe('fuzz under a memory cap: episode reader and bundle loader', () => {
  it('every hostile input ends in a named error, in a 512 MB heap, in bounded time', async () => {
    await tf.ready();
    const inputs = [...episodeInputs(), ...(await bundleInputs())];
    const list = join(tmp, 'inputs.json');
    writeFileSync(list, JSON.stringify(inputs));
    const t0 = Date.now();
    const child = spawnSync(process.execPath, ['--max-old-space-size=512', join(import.meta.dirname, 'fuzz-child.mjs'), list], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 24 });
    const seconds = (Date.now() - t0) / 1000;
    expect(child.error, String(child.error)).toBeUndefined();
    expect(child.signal, child.stderr.slice(-2000)).toBeNull();
    expect(child.status, child.stderr.slice(-2000)).toBe(0);
    const lines = child.stdout.split('\n');
    const results = lines.filter((l) => l.startsWith('FUZZ ')).map((l) => JSON.parse(l.slice(5)) as { name: string; error: string | null; named: boolean; oneLine: boolean; ms: number });
    const done = JSON.parse(lines.find((l) => l.startsWith('FUZZ-DONE '))!.slice(10)) as { maxRssMb: number };
    console.log(`[fuzz] ${results.length} inputs in ${seconds.toFixed(1)} s, child peak RSS ${done.maxRssMb} MB, slowest ${Math.max(...results.map((r) => r.ms))} ms`);
    expect(results).toHaveLength(inputs.length);
    results.forEach((r, i) => {
      const want = inputs[i]!;
      expect(r.name).toBe(want.name);
      expect(want.expect, `${r.name}: ${r.error ?? 'ok'}`).toContain(r.error ?? 'ok');
      if (r.error) {
        expect(r.named, r.name).toBe(true);
        expect(r.oneLine, r.name).toBe(true);
      }
      expect(r.ms, r.name).toBeLessThan(10_000);
    });
    // The heap cap does not cover typed arrays: the process as a whole stays well under a gigabyte.
    expect(done.maxRssMb).toBeLessThan(1024);
  });
});
