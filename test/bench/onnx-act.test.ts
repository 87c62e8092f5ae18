/**
 * bench onnx-act at a tiny scale: one row per net and batch size (MinAtar and Nature nets, batch 1
 * and 64), each with both medians, and the parity it reports (the same greedy actions, Q-values
 * within 1e-5) holds. No timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../bench/onnx-act.js';

describe('bench onnx-act', () => {
  it('times tfjs and onnxruntime-node side by side for MinAtar and Nature nets at batch 1 and 64, and finds them equal', async () => {
    const write = process.stdout.write.bind(process.stdout);
    let table = '';
    process.stdout.write = ((s: string) => ((table += s), true)) as typeof process.stdout.write;
    let result: { rows: Array<{ net: string; batch: number; rounds: number; tfjs_ms: number; onnx_ms: number; max_diff: number; same_actions: boolean }> };
    try {
      result = (await run({ flags: { scale: '0.01' } })) as typeof result;
    } finally {
      process.stdout.write = write;
    }
    expect(result.rows.map((r) => [r.net, r.batch, r.rounds])).toEqual([['minatar-cnn', 1, 5], ['minatar-cnn', 64, 5], ['nature-cnn', 1, 5], ['nature-cnn', 64, 5]]);
    for (const r of result.rows) {
      expect(r.tfjs_ms).toBeGreaterThan(0);
      expect(r.onnx_ms).toBeGreaterThan(0);
      expect(r.same_actions).toBe(true);
      expect(r.max_diff).toBeLessThan(1e-5);
    }
    expect(table).toMatch(/tfjs ms +onnxruntime ms/);
    expect(table).toMatch(/loadavg/);
  });
});
