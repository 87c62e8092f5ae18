/**
 * `npm run bench -- onnx-act`: act latency of one exported policy in onnxruntime-node (policy.onnx)
 * vs the tfjs runtime (`loadPolicy` on the same bundle, the backend `initBackend()` picks), for the
 * MinAtar net (10x10x4 -> 6 Q-values) and the Nature net (84x84x4 -> 6 Q-values), batch 1 (`act`)
 * and batch 64 (`actBatch`): median ms per call, side by side in one run, with the largest Q-value
 * difference and whether the greedy actions matched on the last round.
 * Flags: --scale f (rounds), --threads n (onnxruntime intra-op threads; default its own choice),
 * --json out.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { basicPolicyFile, writePolicyBundle } from '../src/export/export-policy.js';
import { writePolicyOnnx } from '../src/export/onnx-export.js';
import { SeededRng } from '../src/envs/rng.js';
import { initBackend } from '../src/networks/backend.js';
import { buildQNetwork } from '../src/networks/builders.js';
import type { QNetworkSpec } from '../src/networks/specs.js';
import { loadPolicy } from '../src/runtime/index.js';
import { machine, median, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

interface NetCase {
  name: string;
  spec: QNetworkSpec;
  /** Rounds per batch size at --scale 1. */
  rounds: { 1: number; 64: number };
}

const NETS: NetCase[] = [
  { name: 'minatar-cnn', spec: { inputShape: [10, 10, 4], numActions: 6, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 1 }, rounds: { 1: 300, 64: 60 } },
  { name: 'nature-cnn', spec: { inputShape: [84, 84, 4], numActions: 6, encoder: { kind: 'nature-cnn' }, head: { kind: 'q' }, seed: 1 }, rounds: { 1: 100, 64: 15 } },
];
const BATCHES = [1, 64] as const;
const WARMUP = 5;

interface Row {
  net: string;
  batch: number;
  rounds: number;
  tfjs_ms: number;
  onnx_ms: number;
  /** tfjs median / onnxruntime median. */
  speedup: number;
  max_diff: number;
  same_actions: boolean;
}

async function timeIt(rounds: number, f: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await f();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Builds the bundle and policy.onnx of each net, times both runtimes, prints the table; writes --json when asked. */
export async function run(args: BenchArgs): Promise<unknown> {
  const scale = numberFlag(args, 'scale', 1);
  const threads = args.flags.threads ? Math.round(numberFlag(args, 'threads', 1)) : undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'npcforge-bench-onnx-act-'));
  try {
    const backend = await initBackend({ quiet: true });
    const rows: Row[] = [];
    for (const n of NETS) {
      const dir = join(tmp, n.name);
      const model = buildQNetwork(n.spec);
      const file = basicPolicyFile({ game: 'bench', observation: { shape: n.spec.inputShape, dtype: 'uint8', high: 255 }, inputScale: 1 / 255, actions: Array.from({ length: n.spec.numActions }, (_, i) => `a${i}`) });
      await writePolicyBundle(dir, file, model);
      await writePolicyOnnx(dir, file, model);
      model.dispose();
      const policy = await loadPolicy(dir);
      const session = await ort.InferenceSession.create(join(dir, 'policy.onnx'), threads ? { intraOpNumThreads: threads } : {});
      const size = n.spec.inputShape.reduce((a, b) => a * b, 1);
      const rng = new SeededRng(7);
      try {
        for (const batch of BATCHES) {
          const observations = Array.from({ length: batch }, () => Uint8Array.from({ length: size }, () => (rng.random() < 0.2 ? 255 : 0)));
          const flat = new Float32Array(batch * size);
          observations.forEach((o, k) => flat.set(o, k * size));
          const rounds = Math.max(5, Math.round(n.rounds[batch] * scale));
          let tfjsQ: Float32Array = new Float32Array(0);
          let tfjsActions: number[] = [];
          const tfjsTimes = await timeIt(rounds, async () => {
            const r = batch === 1 ? [await policy.act(observations[0]!)] : await policy.actBatch(observations);
            tfjsActions = r.map((a) => a.action as number);
            tfjsQ = Float32Array.from(r.flatMap((a) => Array.from(a.q!)));
          });
          let onnxQ: Float32Array = new Float32Array(0);
          let onnxActions: number[] = [];
          // The ONNX side pays for its own input tensor and reads its outputs, as a game would.
          const onnxTimes = await timeIt(rounds, async () => {
            const out = await session.run({ obs: new ort.Tensor('float32', flat, [batch, ...n.spec.inputShape]) });
            onnxQ = out.q!.data as Float32Array;
            onnxActions = Array.from(out.action!.data as BigInt64Array, Number);
          });
          let maxDiff = 0;
          for (let i = 0; i < tfjsQ.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tfjsQ[i]! - onnxQ[i]!));
          const t = median(tfjsTimes);
          const o = median(onnxTimes);
          rows.push({ net: n.name, batch, rounds, tfjs_ms: t, onnx_ms: o, speedup: t / o, max_diff: maxDiff, same_actions: onnxActions.join() === tfjsActions.join() });
        }
      } finally {
        policy.dispose();
        await session.release();
      }
    }
    const load = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').trim() : 'n/a';
    process.stdout.write(`tfjs runtime backend ${backend}; onnxruntime-node ${ort.env.versions.node ?? '?'} (${threads ? `${threads} intra-op threads` : 'default threads'}); loadavg ${load}\n`);
    printTable(
      ['net', 'batch', 'rounds', 'tfjs ms', 'onnxruntime ms', 'tfjs / ort', 'max |q diff|', 'same actions'],
      rows.map((r) => [r.net, String(r.batch), String(r.rounds), r.tfjs_ms.toFixed(3), r.onnx_ms.toFixed(3), `${r.speedup.toFixed(1)}x`, r.max_diff.toExponential(1), r.same_actions ? 'yes' : 'NO']),
    );
    const result = { backend, threads: threads ?? null, loadavg: load, rows, tfjs: tf.version.tfjs, onnxruntime: ort.env.versions.node ?? null, machine: machine() };
    writeJson(args, 'onnx-act', result);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const bench: Bench = {
  description: 'act latency of a policy in onnxruntime-node (policy.onnx) vs the tfjs runtime: MinAtar and Nature nets, batch 1 and 64, medians',
  run,
};
