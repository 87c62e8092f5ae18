import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseTextRuns } from '../../bench/text-models.js';

const root = mkdtempSync(join(tmpdir(), 'npcforge-textbench-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bench text-models summary', () => {
  it('groups runs by set and model: every seed, mean, min-max, sample std (hand-computed); unfinished runs left out', () => {
    const run = (name: string, accuracy: number | null, seconds?: number) => {
      mkdirSync(join(root, name), { recursive: true });
      if (accuracy !== null) writeFileSync(join(root, name, 'evaluation.json'), JSON.stringify({ accuracy }));
      if (seconds !== undefined) writeFileSync(join(root, name, 'seconds.txt'), String(seconds));
    };
    run('sentiment-nb-tfidf-s1', 0.86, 12);
    run('sentiment-nb-tfidf-s0', 0.865, 11);
    run('sentiment-nb-tfidf-s2', 0.855);
    run('sentiment-nb-tfidf-s3', null); // interrupted: no evaluation.json
    run('spam-embedding-bag-s0', 0.98);
    const rows = summariseTextRuns(root);
    expect(rows.map((r) => `${r.set}/${r.model}`)).toEqual(['sentiment/nb-tfidf', 'spam/embedding-bag']);
    const nb = rows[0]!;
    expect(nb.seeds).toEqual([0, 1, 2]);
    expect(nb.accuracy.map((a) => +a.toFixed(6))).toEqual([86.5, 86, 85.5]);
    expect(nb.mean).toBeCloseTo(86, 9);
    expect([nb.min, nb.max]).toEqual([85.5, 86.5]);
    expect(nb.std).toBeCloseTo(0.5, 9); // sqrt((0.25 + 0 + 0.25) / 2)
    expect(nb.seconds).toEqual([11, 12, null]);
    expect(rows[1]!.std).toBe(0);
  });

  it('--help prints the usage and runs nothing', () => {
    const out = execFileSync(process.execPath, ['dist/bench/text-models.js', '--help', '--dir', join(root, 'never')], { encoding: 'utf8' });
    expect(out).toMatch(/^usage: node dist\/bench\/text-models\.js \[--dir/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});
