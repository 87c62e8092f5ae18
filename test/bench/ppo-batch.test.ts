import { describe, expect, it } from 'vitest';
import { bench, type PpoBatchCell } from '../../bench/ppo-batch.js';
import { parseBenchArgs } from '../../bench/harness.js';
import { InvalidConfigError } from '../../src/errors.js';

describe('bench ppo-batch', () => {
  it('trains each cell in a child process for whole rollouts and reports the same final loss for sync and workers', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    let result: { cells: PpoBatchCell[] };
    try {
      // 1000 frames round up to one rollout of 8 envs x 128 steps.
      result = (await bench.run(parseBenchArgs(['--envs', '8', '--games', 'breakout', '--frames-breakout', '1000']))) as { cells: PpoBatchCell[] };
    } finally {
      process.stdout.write = write;
    }
    expect(result.cells.map((c) => [c.game, c.envs, c.mode, c.frames])).toEqual([
      ['breakout', 8, 'sync', 1024],
      ['breakout', 8, 'workers', 1024],
    ]);
    for (const c of result.cells) expect(c.framesPerS).toBeGreaterThan(0);
    // 8 envs over workers are not double-buffered (halves of 4): the very same computation.
    expect(result.cells[1]!.loss).toBe(result.cells[0]!.loss);
    expect(out.join('')).toMatch(/game\s+envs\s+vector env\s+frames\s+wall s\s+frames\/s\s+vs sync\s+final loss/);
  }, 120_000);

  it('rejects an unknown game or mode by name', async () => {
    await expect(bench.run(parseBenchArgs(['--games', 'tetris']))).rejects.toThrow(InvalidConfigError);
    await expect(bench.run(parseBenchArgs(['--modes', 'threads']))).rejects.toThrow(/\[bench ppo-batch\] expected --modes from sync, workers, received "threads"/);
  });
});
