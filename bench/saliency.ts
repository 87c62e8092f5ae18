/**
 * Saliency benchmark: ms per map (median) of `computeSaliency` for the MinAtar net (10x10x4 -> 6)
 * and the Nature net (84x84x4 -> 6), gradient and Greydanus perturbation with the default
 * parameters, on tfjs's `cpu` backend: the one the viewer page computes on (same code, so the
 * page's cost is about the same, plus the page's own load).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { basicPolicyFile } from '../src/export/export-policy.js';
import { buildQNetwork } from '../src/networks/builders.js';
import type { EncoderSpec } from '../src/networks/specs.js';
import { computeSaliency, type SaliencyOptions } from '../src/runtime/saliency.js';
import { median, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

const NETS: Array<{ name: string; shape: [number, number, number]; encoder: EncoderSpec }> = [
  { name: 'minatar-cnn', shape: [10, 10, 4], encoder: { kind: 'minatar-cnn' } },
  { name: 'nature-cnn', shape: [84, 84, 4], encoder: { kind: 'nature-cnn' } },
];

interface Row {
  net: string;
  method: string;
  grid: string;
  maps: number;
  median_ms: number;
}

async function run(args: BenchArgs): Promise<Row[]> {
  await tf.setBackend('cpu');
  const reps = numberFlag(args, 'reps', 5);
  const rows: Row[] = [];
  for (const n of NETS) {
    const model = buildQNetwork({ inputShape: n.shape, numActions: 6, encoder: n.encoder, head: { kind: 'q' }, seed: 1 });
    const file = basicPolicyFile({ game: 'bench', observation: { shape: n.shape, dtype: 'uint8', high: 255 }, inputScale: 1 / 255, actions: ['a', 'b', 'c', 'd', 'e', 'f'] });
    const size = n.shape[0] * n.shape[1] * n.shape[2];
    const obs = Uint8Array.from({ length: size }, (_, i) => (i * 7919) % 256);
    for (const options of [{ method: 'gradient' }, { method: 'perturbation' }] as SaliencyOptions[]) {
      const times: number[] = [];
      let grid = '';
      for (let r = 0; r <= reps; r++) {
        const t0 = performance.now();
        const map = await computeSaliency({ file, model }, obs, { kind: 'action', action: 2 }, options);
        if (r > 0) times.push(performance.now() - t0); // the first call builds the kernels
        grid = `${map.rows}x${map.cols}`;
      }
      rows.push({ net: n.name, method: options.method, grid, maps: reps, median_ms: median(times) });
    }
    model.dispose();
  }
  printTable(['net', 'method', 'grid', 'maps', 'median ms'], rows.map((r) => [r.net, r.method, r.grid, String(r.maps), r.median_ms.toFixed(1)]));
  process.stdout.write(`backend cpu, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  writeJson(args, 'saliency', { rows, loadavg: loadavg() });
  return rows;
}

export const bench: Bench = {
  description: 'saliency maps: ms per gradient and perturbation map (MinAtar and Nature nets, cpu backend as in the viewer)',
  run,
};
