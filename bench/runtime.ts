/**
 * Runtime benchmark: the minified browser bundle of src/runtime (tfjs external), and `act()`
 * latency (median, p99, ms per call, batch 1, greedy) of the MinAtar net (10x10x4 -> 6) and the
 * Nature net (84x84x4 -> 6) in Node (the backend `initBackend()` picks, and cpu) and in Chromium (cpu and webgl).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { basicPolicyFile, writePolicyBundle } from '../src/export/export-policy.js';
import { initBackend } from '../src/networks/backend.js';
import { buildQNetwork } from '../src/networks/builders.js';
import type { EncoderSpec } from '../src/networks/specs.js';
import { loadPolicy } from '../src/runtime/index.js';
import { openBenchPage } from './browser-page.js';
import { machine, median, numberFlag, printTable, writeJson, type Bench, type BenchArgs, repoRoot } from './harness.js';

const NETS: Array<{ name: string; shape: number[]; encoder: EncoderSpec; calls: number }> = [
  { name: 'minatar-cnn', shape: [10, 10, 4], encoder: { kind: 'minatar-cnn' }, calls: 2000 },
  { name: 'nature-cnn', shape: [84, 84, 4], encoder: { kind: 'nature-cnn' }, calls: 200 },
];


function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

interface LatencyRow {
  net: string;
  where: string;
  backend: string;
  calls: number;
  median_ms: number;
  p99_ms: number;
}

async function nodeLatency(dir: string, net: string, calls: number): Promise<LatencyRow> {
  const policy = await loadPolicy(dir);
  const size = policy.file.observation.shape.reduce((a, b) => a * b, 1);
  const obs = new Uint8Array(size);
  for (let i = 0; i < size; i++) obs[i] = (i * 7919) % 2;
  for (let i = 0; i < 50; i++) await policy.act(obs);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    obs[i % size] = obs[i % size]! ^ 1;
    const t0 = performance.now();
    await policy.act(obs);
    times.push(performance.now() - t0);
  }
  policy.dispose();
  return { net, where: 'node', backend: tf.getBackend(), calls, median_ms: median(times), p99_ms: percentile(times, 0.99) };
}

async function chromiumLatency(root: string, tmp: string, nets: Array<{ name: string; calls: number }>, backends: string[]): Promise<LatencyRow[]> {
  const { page, base, close } = await openBenchPage(join(root, 'bench', 'runtime-page.ts'), tmp, 'benchAct');
  const rows: LatencyRow[] = [];
  try {
    for (const backend of backends) {
      for (const n of nets) {
        const calls = backend === 'webgl' || n.name === 'nature-cnn' ? Math.min(n.calls, 200) : n.calls;
        const r = await page.evaluate(
          ([url, b, c]) => (globalThis as unknown as { benchAct: (u: string, b: string, c: number, w: number) => Promise<{ backend: string; times: number[] }> }).benchAct(url, b, c, 30),
          [`${base}${n.name}/`, backend, calls] as [string, string, number],
        );
        rows.push({ net: n.name, where: 'chromium', backend: r.backend, calls, median_ms: median(r.times), p99_ms: percentile(r.times, 0.99) });
      }
    }
  } finally {
    await close();
  }
  return rows;
}

/** Measures bundle size and act() latency; prints a table, writes --json when asked. */
export async function run(args: BenchArgs): Promise<unknown> {
  const root = repoRoot();
  const scale = numberFlag(args, 'scale', 1);
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-bench-runtime-'));
  try {
    const { bundle } = (await import(pathToFileURL(join(root, 'scripts', 'bundle-runtime.mjs')).href)) as { bundle: (root: string, o: { outFile: string }) => Promise<{ bytes: number }> };
    const size = await bundle(root, { outFile: join(tmp, 'npcforge-runtime.js') });
    const rows: LatencyRow[] = [];
    // The project's default backend choice first, then plain cpu if that was something else.
    const chosen = await initBackend({ quiet: true });
    for (const n of NETS) {
      const model = buildQNetwork({ inputShape: n.shape, numActions: 6, encoder: n.encoder, head: { kind: 'q' }, seed: 1 });
      await writePolicyBundle(join(tmp, n.name), basicPolicyFile({ game: 'bench', observation: { shape: n.shape, dtype: 'uint8', high: 1 }, actions: ['a', 'b', 'c', 'd', 'e', 'f'] }), model);
      model.dispose();
    }
    for (const backend of chosen === 'cpu' ? ['cpu'] : [chosen, 'cpu']) {
      await tf.setBackend(backend);
      for (const n of NETS) rows.push(await nodeLatency(join(tmp, n.name), n.name, Math.max(20, Math.round(n.calls * scale))));
    }
    if (args.flags['no-browser'] !== 'true') {
      rows.push(...(await chromiumLatency(root, tmp, NETS.map((n) => ({ name: n.name, calls: Math.max(20, Math.round(n.calls * scale)) })), ['cpu', 'webgl'])));
    }
    process.stdout.write(`runtime bundle (minified, tfjs external): ${size.bytes} bytes\n`);
    printTable(['net', 'where', 'backend', 'calls', 'median ms', 'p99 ms'], rows.map((r) => [r.net, r.where, r.backend, String(r.calls), r.median_ms.toFixed(3), r.p99_ms.toFixed(3)]));
    const result = { bundle_bytes: size.bytes, latency: rows, machine: machine() };
    writeJson(args, 'runtime', result);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const bench: Bench = {
  description: 'policy runtime: browser bundle size, act() latency (MinAtar and Nature nets, Node and Chromium)',
  run,
};
