/** Answers to class imbalance: `--oversample` (random oversampling of the training part) and its exclusion with `--class-weights`. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidConfigError } from '../../src/errors.js';
import { oversampleIndices } from '../../src/supervised/data-source.js';
import { fitTask } from '../../src/supervised/run.js';
import { runCli } from '../helpers/run-cli.js';

function counts(labels: ArrayLike<number>, indices: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const i of indices) m.set(labels[i]!, (m.get(labels[i]!) ?? 0) + 1);
  return m;
}

describe('oversampleIndices', () => {
  const labels = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1];
  it('brings every class to the largest class, keeps every sample, repeats samples evenly', () => {
    const idx = oversampleIndices(labels, new SeededRng(1));
    expect(counts(labels, idx)).toEqual(new Map([[0, 7], [1, 7], [2, 7]]));
    for (let i = 0; i < labels.length; i++) expect(idx).toContain(i);
    // Class 1 (samples 7, 8, 10) needs 4 more: one extra copy of each and one more drawn: 2, 2 and 3 in total.
    const perSample = [7, 8, 10].map((s) => idx.filter((i) => i === s).length).sort();
    expect(perSample).toEqual([2, 2, 3]);
    expect(idx.filter((i) => i === 9)).toHaveLength(7);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  });

  it('is deterministic under the seed; a balanced set is left as it is', () => {
    expect(oversampleIndices(labels, new SeededRng(1))).toEqual(oversampleIndices(labels, new SeededRng(1)));
    expect(oversampleIndices([0, 1, 1, 0], new SeededRng(1))).toEqual([0, 1, 2, 3]);
  });
});

describe('fit --oversample', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'npcforge-imbalance-'));
    // 12 "good" and 3 "bad" texts: 4 to 1.
    for (const [c, n, word] of [['good', 12, 'great'], ['bad', 3, 'awful']] as const) {
      await mkdir(join(root, 'data', 'train', c), { recursive: true });
      for (let i = 0; i < n; i++) await writeFile(join(root, 'data', 'train', c, `${i}.txt`), `${word} film number ${i}`);
    }
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('trains on a balanced training part, validation untouched, and says so in run.json', async () => {
    const out = join(root, 'over');
    const { run } = await fitTask({ task: 'text', data: join(root, 'data'), model: 'lstm', out, epochs: 1, validationFraction: 0.34, oversample: true, maxLen: 4, network: { units: 4, embeddingDim: 4 }, progress: null });
    // Stratified split: 8 good + 2 bad train, 4 good + 1 bad validation; the 2 bad become 8.
    expect(run.validationSamples).toBe(5);
    expect(run.trainSamples).toBe(16);
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).oversample).toBe(true);
    const { run: plain } = await fitTask({ task: 'text', data: join(root, 'data'), model: 'lstm', out: join(root, 'plain'), epochs: 1, validationFraction: 0.34, maxLen: 4, network: { units: 4, embeddingDim: 4 }, progress: null });
    expect(plain.trainSamples).toBe(10);
    expect(plain.oversample).toBe(false);
  }, 120_000);

  it('oversamples the linear text models too (they take sample indices)', async () => {
    const { run } = await fitTask({ task: 'text', data: join(root, 'data'), model: 'nb-tfidf', out: join(root, 'over-linear'), validationFraction: 0.34, oversample: true, progress: null });
    expect(run.validationSamples).toBe(5);
    expect(run.trainSamples).toBe(16);
    const { run: plain } = await fitTask({ task: 'text', data: join(root, 'data'), model: 'nb-tfidf', out: join(root, 'plain-linear'), validationFraction: 0.34, progress: null });
    expect(plain.trainSamples).toBe(10);
  });

  it('refuses --oversample with --class-weights: one line, exit 2', async () => {
    await expect(fitTask({ task: 'text', data: join(root, 'data'), oversample: true, fit: { classWeights: 'balanced' }, progress: null })).rejects.toThrow(InvalidConfigError);
    const r = await runCli(['fit', 'text', '--data', join(root, 'data'), '--oversample', '--class-weights', 'balanced', '--out', join(root, 'both')]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('npcforge: [fit] expected one answer to class imbalance, received both oversampling and class weights (together they correct twice); fix: pass either --oversample or --class-weights\n');
  });
});
