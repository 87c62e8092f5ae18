import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTextDataset, loadSentimentSentences, loadSpamAssassin } from '../../src/supervised/data/text-datasets.js';
import { SupervisedRun, fitTask } from '../../src/supervised/run.js';
import { DatasetError } from '../../src/errors.js';
import { loadTextFolder } from '../../src/supervised/text/loader.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'npcforge-text-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('text data sets', () => {
  it('reads 3,000 sentiment sentences (empty last records dropped) and the spam corpus', async () => {
    const s = await loadSentimentSentences();
    expect(s).toHaveLength(3000);
    expect(s.every((x) => x.text.length > 0)).toBe(true);
    expect(s.filter((x) => x.label === 'positive')).toHaveLength(1500);
    const spam = await loadSpamAssassin();
    expect(spam.length).toBeGreaterThan(6000);
    expect(new Set(spam.map((x) => x.label))).toEqual(new Set(['ham', 'spam']));
  });

  it('exports an 80/20 stratified split, one .txt per sample', async () => {
    const summary = await exportTextDataset(await loadSentimentSentences(), { out: join(root, 'sent'), seed: 0 });
    expect(summary).toEqual({ train: 2400, test: 600, classes: ['negative', 'positive'] });
    const test = await loadTextFolder(join(root, 'sent', 'test'));
    expect(test.labels.filter((l) => l === 1)).toHaveLength(300);
    await expect(loadTextFolder(join(root, 'none'))).rejects.toThrow(DatasetError);
  });
});

describe('text Transformer', () => {
  it('learns sentiment from a subset well above chance; run reloads with its tokenizer; predict leaks nothing', async () => {
    const out = join(root, 'run');
    await fitTask({
      task: 'text',
      data: join(root, 'sent'),
      model: 'transformer',
      out,
      seed: 4,
      epochs: 4,
      limitPerClass: 400,
      maxLen: 32,
      // Dropout 0 and seeded weights: the same accuracy on every run (dropout masks are unseeded).
      network: { dim: 32, numHeads: 2, ffDim: 64, dropout: 0 },
      fit: { batchSize: 32, learningRate: 2e-3, patience: 2 },
      progress: null,
    });
    const tok = JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8'));
    expect(tok.format).toBe('npcforge-tokenizer');
    expect(tok.config.maxLen).toBe(32);
    const run = await SupervisedRun.load(out);
    const report = await run.evaluate();
    expect(report.samples).toBe(600);
    expect(report.accuracy).toBeGreaterThan(0.6); // chance is 0.5
    const a = await run.predict('This movie was great, I loved it');
    await run.predict('terrible waste of money');
    const before = tf.memory().numTensors;
    const b = await run.predict('This movie was great, I loved it');
    expect(tf.memory().numTensors).toBe(before);
    expect(b).toEqual(a);
    run.dispose();
  }, 900_000);

  it('the LSTM baseline trains and round-trips through its run folder', async () => {
    const out = join(root, 'lstm');
    const { run: info } = await fitTask({ task: 'text', data: join(root, 'sent'), model: 'lstm', out, epochs: 1, limitPerClass: 100, maxLen: 16, network: { units: 8, embeddingDim: 8 }, progress: null });
    expect(info.model).toBe('lstm');
    const run = await SupervisedRun.load(out);
    expect(run.tokenizer!.config.padding).toBe('pre');
    const p = await run.predict('good');
    expect(Object.values(p.probabilities).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    run.dispose();
  }, 200_000);
});
