import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataProgress } from '../../src/cli/commands/data.js';
import { exportImageDataset } from '../../src/supervised/data/image-datasets.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A stream that records what was written, and a clock the test moves by hand. */
function fakeOut(isTTY: boolean): { out: { write(s: string): boolean; isTTY: boolean }; text: () => string } {
  let text = '';
  return { out: { isTTY, write: (s: string) => ((text += s), true) }, text: () => text };
}

describe('npcforge data progress (fashion-mnist and speech take minutes)', () => {
  it('redraws a counter at most 5 times a second on a terminal and clears it at the end', () => {
    let t = 0;
    const { out, text } = fakeOut(true);
    const p = dataProgress({ out, label: 'npcforge data fashion-mnist', now: () => t });
    p.update(1, 70_000); // within 200 ms of the start: nothing yet
    t = 250;
    p.update(700, 70_000);
    t = 300;
    p.update(800, 70_000); // 50 ms after the last draw: skipped
    t = 500;
    p.update(35_000, 70_000);
    p.done();
    expect(text()).toBe('\rnpcforge data fashion-mnist: 700/70000 files (1%)\rnpcforge data fashion-mnist: 35000/70000 files (50%)\r\x1b[K');
  });

  it('prints one plain line per 10 s when stderr is not a terminal, nothing for a short export', () => {
    let t = 0;
    const { out, text } = fakeOut(false);
    const p = dataProgress({ out, label: 'npcforge data speech', now: () => t });
    t = 9_000;
    p.update(100, 3600);
    t = 10_500;
    p.update(1200, 3600);
    t = 15_000;
    p.update(1800, 3600);
    t = 21_000;
    p.update(3600, 3600); // the last file: the summary line follows, no progress line
    p.done();
    expect(text()).toBe('npcforge data speech: 1200/3600 files (33%)\n');
  });

  it('exportImageDataset reports every written file to onProgress', async () => {
    const calls: Array<[number, number]> = [];
    const out = join(tmp, 'mnist');
    const summary = await exportImageDataset('mnist', { out, seed: 0, limitPerClass: 3, testCount: 10, onProgress: (d, n) => calls.push([d, n]) });
    expect(summary.train + summary.test).toBe(30);
    expect(calls).toEqual(Array.from({ length: 30 }, (_, i) => [i + 1, 30]));
    const files = ['train', 'test'].flatMap((s) => readdirSync(join(out, s)).flatMap((c) => readdirSync(join(out, s, c))));
    expect(files).toHaveLength(30);
  });

  it('a set cut by --limit-per-class keeps a 1/7 test share (not everything in test)', async () => {
    const summary = await exportImageDataset('fashion-mnist', { out: join(tmp, 'fm'), seed: 0, limitPerClass: 7 });
    expect(summary).toMatchObject({ train: 60, test: 10 });
  });
});
