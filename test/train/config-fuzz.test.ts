/**
 * Fuzz test of the config loader (issue 14 acceptance): hostile config files (size bombs, special
 * files, deep nesting, huge numbers, wrong types, random mutations of a valid config) are read and
 * resolved in a child process capped at 256 MB of V8 heap. Every input must end in a named one-line
 * error, quickly, and the child must not die of an out-of-memory abort. A few also go through the
 * CLI, which must exit 2 with one line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/envs/rng.js';

const ROOT = resolve(__dirname, '../..');
const HEAP_MB = 256;
/** Per-input bound (ms) on a loaded 2-core machine; the loader's own work takes a few ms. */
const PER_INPUT_MS = 3000;

/** A valid DQN config for catch: the base of the random mutations. */
const VALID = {
  steps: 1000,
  seed: 3,
  envs: 2,
  evalEpisodes: 5,
  bufferSize: 5000,
  batchSize: 32,
  learningStarts: 100,
  network: { kind: 'mlp', hidden: [32, 32] },
  optimizer: { kind: 'adam', learningRate: 0.001 },
  prioritized: { alpha: 0.6, betaStart: 0.4, betaSteps: 1000, epsilon: 1e-6 },
  lstmUnits: 0,
  gamma: 0.99,
};

/** Values a mutation puts somewhere (raw JSON text, so that 1e999 = Infinity and huge literals survive). */
const HOSTILE_VALUES = ['1e9', '1e999', '-1e999', '-1', '0', '1e308', '5e-324', '9007199254740993', '"x"', '""', 'null', 'true', '[]', '{}', '[1e6, 1e6]', '{"kind": "mlp", "hidden": [1e6, 1e6]}', '{"kind": "mlp", "hidden": [65536, 65536, 65536]}', '{"__proto__": {"x": 1}}', '[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]', `"${'a'.repeat(5000)}"`, '{"kind": "adam", "learningRate": 1e30}', '0.5', '100000000'];
const KEYS = [...Object.keys(VALID), 'network.hidden', 'network.kind', 'network.evil', 'optimizer.learningRate', 'optimizer.foo', 'prioritized.alpha', 'prioritized.betaSteps', 'agent', 'preset', 'evalEpisodes', 'envs', 'lstmUnits', 'seqLength', 'burnIn', 'nStep', 'frameStack', 'numSteps', 'mlpHidden', 'lr'];

/** Random mutations of VALID as JSON text; `steps` is forced to 0 so that no mutation is a valid run. */
function mutations(count: number, seed: number): string[] {
  const rng = new SeededRng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const cfg: Record<string, unknown> = JSON.parse(JSON.stringify(VALID));
    const placeholders: string[] = [];
    const edits = 1 + rng.int(0, 3);
    for (let e = 0; e < edits; e++) {
      const key = KEYS[rng.int(0, KEYS.length)]!;
      const value = HOSTILE_VALUES[rng.int(0, HOSTILE_VALUES.length)]!;
      const mark = `@@${placeholders.length}@@`;
      placeholders.push(value);
      const [head, tail] = key.split('.') as [string, string | undefined];
      if (tail === undefined) cfg[head] = mark;
      else {
        const obj = cfg[head] && typeof cfg[head] === 'object' && !Array.isArray(cfg[head]) ? (cfg[head] as Record<string, unknown>) : {};
        obj[tail] = mark;
        cfg[head] = obj;
      }
    }
    if (rng.random() < 0.25) cfg.agent = 'ppo';
    cfg.steps = 0;
    let text = JSON.stringify(cfg);
    placeholders.forEach((v, j) => (text = text.replace(`"@@${j}@@"`, v)));
    out.push(text);
  }
  return out;
}

interface Outcome {
  path: string;
  ms: number;
  name: string;
  named: boolean;
  message: string;
}

let dir: string;
const cases: Array<{ label: string; path: string }> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-config-fuzz-'));
  const file = (label: string, content: string | Buffer): void => {
    const path = join(dir, `${cases.length}.json`);
    writeFileSync(path, content);
    cases.push({ label, path });
  };
  cases.push({ label: '/dev/zero', path: '/dev/zero' });
  const fifo = join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  cases.push({ label: 'FIFO', path: fifo });
  mkdirSync(join(dir, 'folder.json'));
  cases.push({ label: 'folder', path: join(dir, 'folder.json') });
  cases.push({ label: 'missing', path: join(dir, 'missing.json') });
  file('2 MiB of spaces', '{' + ' '.repeat(2 << 20) + '}');
  file('1 MiB of unknown keys', '{' + Array.from({ length: 60_000 }, (_, i) => `"k${i}": ${i}`).join(',') + '}');
  file('a 900 kB key', `{"${'k'.repeat(900_000)}": 1}`);
  file('deep nesting', '{"network": ' + '['.repeat(400_000) + ']'.repeat(400_000) + '}');
  file('empty', '');
  file('binary', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  file('BOM then garbage', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{steps: 1}')]));
  file('null', 'null');
  file('array', '[]');
  file('bufferSize 1e9', '{"bufferSize": 1e9}');
  file('hidden [1e6, 1e6]', '{"network": {"kind": "mlp", "hidden": [1e6, 1e6]}}');
  file('hidden [65536, 65536]', '{"network": {"kind": "mlp", "hidden": [65536, 65536]}}');
  file('lstmUnits 1e6', '{"lstmUnits": 1e6}');
  file('lstmUnits 8192, ppo, 4096 envs', '{"agent": "ppo", "lstmUnits": 8192, "envs": 4096, "numSteps": 100000}');
  file('evalEpisodes 1e9', '{"evalEpisodes": 1e9}');
  file('envs 1e9', '{"envs": 1e9}');
  file('learningRate 1e30', '{"optimizer": {"learningRate": 1e30}}');
  file('learningRate Infinity', '{"optimizer": {"learningRate": 1e999}}');
  file('prioritized.alpha Infinity', '{"prioritized": {"alpha": 1e999}}');
  file('prioritized []', '{"prioritized": []}');
  file('nested unknown keys', '{"network": {"kind": "mlp", "hidden": [8], "evil": 1}, "optimizer": {"foo": 1}}');
  file('wrong types', '{"steps": "10", "batchSize": true, "network": "mlp", "optimizer": null}');
  file('__proto__', '{"__proto__": {"bufferSize": 1e9}}');
  file('preset constructor', '{"preset": "constructor"}');
  file('huge integer', '{"steps": 1e308, "seed": 1e308, "batchSize": 1e308}');
  mutations(80, 14).forEach((text, i) => file(`mutation ${i}`, text));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config loader fuzz, in a child capped at 256 MB of heap', () => {
  it('ends every hostile config in a named one-line error, fast, without running out of memory', () => {
    const script = `
      const root = ${JSON.stringify(ROOT)};
      const { readConfigFile, resolveRunConfig } = await import(root + '/dist/src/train/run-config.js');
      const { NpcforgeError } = await import(root + '/dist/src/errors.js');
      await import(root + '/dist/games/index.js');
      const paths = JSON.parse(process.argv[1]);
      for (const path of paths) {
        const t0 = performance.now();
        let out;
        try {
          resolveRunConfig({ game: 'catch', file: readConfigFile(path) });
          out = { name: 'none', named: false, message: 'accepted' };
        } catch (err) {
          out = { name: err?.constructor?.name ?? typeof err, named: err instanceof NpcforgeError, message: String(err?.message ?? err) };
        }
        process.stdout.write(JSON.stringify({ path, ms: performance.now() - t0, ...out, message: out.message.slice(0, 2000) }) + '\\n');
      }
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--input-type=module', '-e', script, JSON.stringify(cases.map((c) => c.path))], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, NPCFORGE_BACKEND: 'cpu' } });
    // No V8 out-of-memory abort (signal or exit 134) and no crash: the child ran to its end.
    expect(child.stderr).not.toMatch(/heap out of memory|FATAL ERROR/);
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    const outcomes = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome);
    expect(outcomes).toHaveLength(cases.length);
    outcomes.forEach((o, i) => {
      const label = `${cases[i]!.label}: ${o.message.slice(0, 300)}`;
      expect(o.named, label).toBe(true);
      expect(o.name, label).toBe('InvalidConfigError');
      expect(o.message, label).toMatch(/^\[[^\]]+\] expected .*, received .*; fix: [^\n]*$/);
      expect(o.message.split('; fix:'), label).toHaveLength(2);
      expect(o.message.length, label).toBeLessThan(2000);
      expect(o.ms, label).toBeLessThan(PER_INPUT_MS);
    });
    // Hostile keys and values never come back at full length (the message names, it does not quote).
    expect(outcomes.find((o) => o.path === cases.find((c) => c.label === 'a 900 kB key')!.path)!.message).not.toContain('k'.repeat(100));
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 150_000);

  it('the CLI exits 2 with one line for size bombs and special files', () => {
    const bad = ['/dev/zero', 'FIFO', 'bufferSize 1e9', 'hidden [1e6, 1e6]', 'hidden [65536, 65536]', 'BOM then garbage'];
    for (const label of bad) {
      const { path } = cases.find((c) => c.label === label)!;
      const started = Date.now();
      const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, join(ROOT, 'bin/npcforge.js'), 'train', 'catch', '--config', path, '--out', join(dir, 'runs'), '--no-progress'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NPCFORGE_BACKEND: 'cpu' } });
      expect(r.status, `${label}: ${r.stderr}`).toBe(2);
      const lines = r.stderr.trim().split('\n').filter((l) => !/^npcforge: backend /.test(l));
      expect(lines, label).toHaveLength(1);
      expect(lines[0], label).toMatch(/^npcforge: \[(--config|train config)\] expected /);
      expect(Date.now() - started, label).toBeLessThan(30_000);
    }
  }, 240_000);
});
