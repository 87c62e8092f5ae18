/**
 * `npm run bench -- act-batch`: one `actBatch` for 64 NPCs vs 64 separate `act()` calls (median
 * ms per call and per NPC) for an arena-like MLP ([32] -> [64, 64] -> 9 logits) and a small CNN
 * (MinAtar net, 10x10x4 -> 6 Q-values), in Node (the backend `initBackend()` picks) and in
 * Chromium (cpu and webgl). Flags: --npcs N (64), --scale f (rounds), --no-browser, --json out.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { basicPolicyFile, writePolicyBundle } from '../src/export/export-policy.js';
import { initBackend } from '../src/networks/backend.js';
import { buildQNetwork } from '../src/networks/builders.js';
import type { QNetworkSpec } from '../src/networks/specs.js';
import { loadPolicy } from '../src/runtime/index.js';
import { batchTimes, type BatchTimes } from './act-batch-timing.js';
import { openBenchPage } from './browser-page.js';
import { machine, median, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

interface NetCase {
  name: string;
  spec: QNetworkSpec;
  output: 'q' | 'logits';
  dtype: 'uint8' | 'float32';
  /** Rounds in Node at --scale 1 (the browser runs at most 100, webgl at most 50). */
  calls: number;
}

const NETS: NetCase[] = [
  { name: 'arena-mlp-64x64', spec: { inputShape: [32], numActions: 9, encoder: { kind: 'mlp', hidden: [64, 64] }, head: { kind: 'q' }, seed: 1 }, output: 'logits', dtype: 'float32', calls: 200 },
  { name: 'minatar-cnn', spec: { inputShape: [10, 10, 4], numActions: 6, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 1 }, output: 'q', dtype: 'uint8', calls: 60 },
];

interface Row {
  net: string;
  where: string;
  backend: string;
  npcs: number;
  calls: number;
  /** Median ms of one actBatch over all NPCs, and per NPC. */
  batch_ms: number;
  batch_ms_per_npc: number;
  /** Median ms of N separate act() calls, and per NPC. */
  single_ms: number;
  single_ms_per_npc: number;
  speedup: number;
  /** Largest |actBatch - act| of the per-action numbers in the last round, and whether the actions matched. */
  max_diff: number;
  same_actions: boolean;
}

function row(net: string, where: string, backend: string, npcs: number, t: BatchTimes): Row {
  const b = median(t.batch);
  const s = median(t.single);
  return { net, where, backend, npcs, calls: t.batch.length, batch_ms: b, batch_ms_per_npc: b / npcs, single_ms: s, single_ms_per_npc: s / npcs, speedup: s / b, max_diff: t.maxDiff, same_actions: t.sameActions };
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** Builds both bundles, measures, prints the table; writes --json when asked. */
export async function run(args: BenchArgs): Promise<unknown> {
  const root = findRoot();
  const npcs = Math.round(numberFlag(args, 'npcs', 64));
  const scale = numberFlag(args, 'scale', 1);
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-bench-act-batch-'));
  try {
    const backend = await initBackend({ quiet: true });
    for (const n of NETS) {
      const model = buildQNetwork(n.spec);
      const actions = Array.from({ length: n.spec.numActions }, (_, i) => `a${i}`);
      await writePolicyBundle(join(tmp, n.name), basicPolicyFile({ game: 'bench', agent: n.output === 'q' ? 'dqn' : 'ppo', output: n.output, observation: { shape: n.spec.inputShape, dtype: n.dtype, high: 1 }, actions }), model);
      model.dispose();
    }
    const rows: Row[] = [];
    for (const n of NETS) {
      const policy = await loadPolicy(join(tmp, n.name));
      rows.push(row(n.name, 'node', backend, npcs, await batchTimes(policy, { npcs, calls: Math.max(10, Math.round(n.calls * scale)), warmup: 5 })));
      policy.dispose();
    }
    if (args.flags['no-browser'] !== 'true') {
      const { page, base, close } = await openBenchPage(join(root, 'bench', 'act-batch-page.ts'), tmp, 'benchActBatch');
      try {
        for (const b of ['cpu', 'webgl']) {
          for (const n of NETS) {
            const calls = Math.max(10, Math.round(Math.min(n.calls, b === 'webgl' ? 50 : 100) * scale));
            const t = await page.evaluate(
              ([url, be, k, c]) => (globalThis as unknown as { benchActBatch: (u: string, b: string, n: number, c: number, w: number) => Promise<BatchTimes & { backend: string }> }).benchActBatch(url, be, k, c, 5),
              [`${base}${n.name}/`, b, npcs, calls] as [string, string, number, number],
            );
            rows.push(row(n.name, 'chromium', t.backend, npcs, t));
          }
        }
      } finally {
        await close();
      }
    }
    const load = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').trim() : 'n/a';
    process.stdout.write(`${npcs} NPCs; loadavg ${load}\n`);
    printTable(
      ['net', 'where', 'backend', 'rounds', `actBatch ms`, 'per NPC', `${npcs} x act ms`, 'per NPC', 'speedup', 'max |diff|', 'same actions'],
      rows.map((r) => [r.net, r.where, r.backend, String(r.calls), r.batch_ms.toFixed(3), r.batch_ms_per_npc.toFixed(4), r.single_ms.toFixed(3), r.single_ms_per_npc.toFixed(4), `${r.speedup.toFixed(1)}x`, r.max_diff.toExponential(1), r.same_actions ? 'yes' : 'NO']),
    );
    const result = { npcs, loadavg: load, rows, tfjs: tf.version.tfjs, machine: machine() };
    writeJson(args, 'act-batch', result);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const bench: Bench = {
  description: 'runtime for many NPCs: one actBatch for 64 NPCs vs 64 act() calls (arena MLP, small CNN; Node and Chromium cpu/webgl)',
  run,
};
