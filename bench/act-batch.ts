/**
 * `npm run bench -- act-batch`: one `actBatch` for 64 NPCs vs 64 separate `act()` calls (median
 * ms per call and per NPC) for an arena-like MLP ([32] -> [64, 64] -> 9 logits) and a small CNN
 * (MinAtar net, 10x10x4 -> 6 Q-values), and a real exported policy (`--policy <bundle>`, default
 * the arena example's examples/arena/npc, fed the arena's own observations: N NPCs in one arena),
 * in Node (the backend `initBackend()` picks) and in Chromium (cpu and webgl).
 * Flags: --npcs N (64), --scale f (rounds), --policy dir, --no-browser, --json out.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { basicPolicyFile, writePolicyBundle } from '../src/export/export-policy.js';
import { initBackend } from '../src/networks/backend.js';
import { SeededRng } from '../src/envs/rng.js';
import { InvalidConfigError, formatError } from '../src/errors.js';
import { buildQNetwork } from '../src/networks/builders.js';
import type { QNetworkSpec } from '../src/networks/specs.js';
import { loadPolicy } from '../src/runtime/index.js';
import { batchTimes, type BatchTimes } from './act-batch-timing.js';
import { openBenchPage } from './browser-page.js';
import { machine, median, numberFlag, printTable, writeJson, type Bench, type BenchArgs, repoRoot } from './harness.js';

interface NetCase {
  name: string;
  /** A network to build (synthetic weights), or absent for an exported bundle copied in. */
  spec?: QNetworkSpec;
  output: 'q' | 'logits';
  dtype: 'uint8' | 'float32';
  /** Rounds in Node at --scale 1 (the browser runs at most 100, webgl at most 50). */
  calls: number;
  /** Observations to start from (one per NPC), else synthetic ones. */
  observations?: number[][];
}

/** What this bench uses of the arena example's rules (examples/arena/arena-core.mjs: plain JS, no types). */
interface ArenaCore {
  OBS_SIZE: number;
  createWorld(o: { npcCount: number }): { npcCount: number; npc: Float64Array; player: Float64Array };
  spawnDisc(pos: Float64Array, i: number, random: () => number, awayX?: number, awayY?: number, minDistance?: number): void;
  observe(world: ReturnType<ArenaCore['createWorld']>, npcIndex: number, out: Float32Array): void;
}

/** What the arena page feeds its policy: `npcs` NPCs spread over one arena around the player. */
async function arenaObservations(root: string, npcs: number): Promise<number[][]> {
  const core = (await import(pathToFileURL(join(root, 'examples', 'arena', 'arena-core.mjs')).href)) as ArenaCore;
  const rng = new SeededRng(64);
  const random = (): number => rng.random();
  const world = core.createWorld({ npcCount: npcs });
  core.spawnDisc(world.player, 0, random);
  for (let i = 0; i < npcs; i++) core.spawnDisc(world.npc, 2 * i, random);
  return Array.from({ length: npcs }, (_, i) => {
    const out = new Float32Array(core.OBS_SIZE);
    core.observe(world, i, out);
    return Array.from(out);
  });
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


/** Builds both bundles, measures, prints the table; writes --json when asked. */
export async function run(args: BenchArgs): Promise<unknown> {
  const root = repoRoot();
  const npcs = Math.round(numberFlag(args, 'npcs', 64));
  const scale = numberFlag(args, 'scale', 1);
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-bench-act-batch-'));
  try {
    const backend = await initBackend({ quiet: true });
    const nets = [...NETS];
    const policyDir = args.flags.policy ?? join(root, 'examples', 'arena', 'npc');
    if (existsSync(join(policyDir, 'policy.json'))) {
      const game = (JSON.parse(readFileSync(join(policyDir, 'policy.json'), 'utf8')) as { game: { id: string } }).game.id;
      const name = game === 'arena' ? 'arena-policy' : 'policy';
      // Copied next to the synthetic bundles so the browser page loads it from the same server.
      cpSync(policyDir, join(tmp, name), { recursive: true });
      nets.push({ name, output: 'logits', dtype: 'float32', calls: 200, ...(game === 'arena' ? { observations: await arenaObservations(root, npcs) } : {}) });
    } else if (args.flags.policy) {
      throw new InvalidConfigError(formatError('bench act-batch --policy', 'a policy bundle folder with policy.json', args.flags.policy, 'pass the folder written by npcforge export'));
    }
    for (const n of nets) {
      if (!n.spec) continue;
      const model = buildQNetwork(n.spec);
      const actions = Array.from({ length: n.spec.numActions }, (_, i) => `a${i}`);
      await writePolicyBundle(join(tmp, n.name), basicPolicyFile({ game: 'bench', agent: n.output === 'q' ? 'dqn' : 'ppo', output: n.output, observation: { shape: n.spec.inputShape, dtype: n.dtype, high: 1 }, actions }), model);
      model.dispose();
    }
    const rows: Row[] = [];
    for (const n of nets) {
      const policy = await loadPolicy(join(tmp, n.name));
      rows.push(row(n.name, 'node', backend, npcs, await batchTimes(policy, { npcs, calls: Math.max(10, Math.round(n.calls * scale)), warmup: 5, observations: n.observations })));
      policy.dispose();
    }
    if (args.flags['no-browser'] !== 'true') {
      const { page, base, close } = await openBenchPage(join(root, 'bench', 'act-batch-page.ts'), tmp, 'benchActBatch');
      try {
        for (const b of ['cpu', 'webgl']) {
          for (const n of nets) {
            const calls = Math.max(10, Math.round(Math.min(n.calls, b === 'webgl' ? 50 : 100) * scale));
            const t = await page.evaluate(
              ([url, be, k, c, o]) => (globalThis as unknown as { benchActBatch: (u: string, b: string, n: number, c: number, w: number, o?: number[][]) => Promise<BatchTimes & { backend: string }> }).benchActBatch(url, be, k, c, 5, o ?? undefined),
              [`${base}${n.name}/`, b, npcs, calls, n.observations ?? null] as [string, string, number, number, number[][] | null],
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
