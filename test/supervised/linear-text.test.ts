import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTextDataset, loadSentimentSentences } from '../../src/supervised/data/text-datasets.js';
import { SupervisedRun, TASK_MODELS, fitTask } from '../../src/supervised/run.js';
import { NgramVectorizer, textNgrams } from '../../src/supervised/text/ngram-features.js';
import { fitBinaryLogistic, nbLogCountRatio } from '../../src/supervised/text/logistic.js';
import { LinearTextModel } from '../../src/supervised/text/linear-model.js';
import { CheckpointError, InvalidConfigError, UnsupportedVersionError } from '../../src/errors.js';
import { runCli } from '../helpers/run-cli.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'npcforge-linear-'));
  await exportTextDataset(await loadSentimentSentences(), { out: join(root, 'sent'), seed: 0 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('n-gram features', () => {
  it('unigrams + bigrams, df-ordered vocabulary, sublinear tf x smoothed idf, L2 rows (hand-computed)', () => {
    expect(textNgrams('A b, a', 2)).toEqual(['a', 'b', 'a', 'a b', 'b a']);
    const v = NgramVectorizer.fit(['a b', 'a'], { weighting: 'tfidf', maxN: 2 });
    expect(v.vocab).toEqual(['a', 'a b', 'b']); // df 2 first; ties alphabetical
    const idfB = Math.log(3 / 2) + 1;
    expect(Array.from(v.idf!)).toEqual([1, idfB, idfB]);
    const x = v.transform(['a b a', 'zzz']);
    // row 0: a: tf 2 -> (1 + ln 2) * 1; "a b": 1 * idfB; b: 1 * idfB; "b a" unknown.
    const raw = [1 + Math.log(2), idfB, idfB];
    const norm = Math.hypot(...raw);
    expect(Array.from(x.indptr)).toEqual([0, 3, 3]);
    expect(Array.from(x.indices)).toEqual([0, 1, 2]);
    raw.forEach((r, k) => expect(x.values[k]).toBeCloseTo(r / norm, 12));
    const counts = NgramVectorizer.fit(['a b', 'a'], { weighting: 'count', maxN: 1 }).transform(['a a b']);
    expect(Array.from(counts.values)).toEqual([2 / Math.sqrt(5), 1 / Math.sqrt(5)]);
  });
});

describe('logistic regression (L-BFGS)', () => {
  it('one always-on feature, 3 positives and 1 negative: bias ln 3, weight 0 (the L2 term pins it)', () => {
    const x = { rows: 4, cols: 1, indptr: Int32Array.from([0, 1, 2, 3, 4]), indices: new Int32Array(4), values: new Float64Array(4).fill(1) };
    const fit = fitBinaryLogistic(x, Int8Array.from([1, 1, 1, -1]), { c: 1 });
    expect(fit.bias).toBeCloseTo(Math.log(3), 4);
    expect(fit.weights[0]).toBeCloseTo(0, 4);
  });

  it('NB log-count ratio with alpha 1 (Wang & Manning 2012), hand-computed', () => {
    // feature 0 only in the positive row, feature 1 in both.
    const x = { rows: 2, cols: 2, indptr: Int32Array.from([0, 2, 3]), indices: Int32Array.from([0, 1, 1]), values: Float64Array.from([1, 1, 1]) };
    const r = nbLogCountRatio(x, Int8Array.from([1, -1]), 1);
    // p = [2, 2] (|p| 4), q = [1, 2] (|q| 3)
    expect(r[0]).toBeCloseTo(Math.log(2 / 4 / (1 / 3)), 12);
    expect(r[1]).toBeCloseTo(Math.log(2 / 4 / (2 / 3)), 12);
  });
});

describe('fit text --model nb-tfidf | tfidf | bow', () => {
  it('the default text model is nb-tfidf; it scores >= 85% on the sentiment test split (seed 0), reloads and predicts', async () => {
    expect(TASK_MODELS.text[0]).toBe('nb-tfidf');
    const out = join(root, 'nb');
    const { run: info } = await fitTask({ task: 'text', data: join(root, 'sent'), out, seed: 0, progress: null });
    expect(info.model).toBe('nb-tfidf');
    expect(info.history).toHaveLength(5); // one line per C of the grid
    const run = await SupervisedRun.load(out);
    expect(run.model).toBeNull();
    const report = await run.evaluate();
    expect(report.samples).toBe(600);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.85);
    const p = await run.predict('the food was cold and the waiter was rude');
    expect(p.label).toBe('negative');
    expect(p.probabilities.negative! + p.probabilities.positive!).toBeCloseTo(1, 6);
    expect((await run.predict('great phone, I love it')).label).toBe('positive');
  }, 300_000);

  it('the same seed gives byte-identical model files; bow and tfidf round-trip too', async () => {
    const fit = (model: 'bow' | 'tfidf' | 'nb-tfidf', out: string, seed: number) => fitTask({ task: 'text', data: join(root, 'sent'), model, out, seed, limitPerClass: 300, progress: null });
    await fit('nb-tfidf', join(root, 'd1'), 3);
    await fit('nb-tfidf', join(root, 'd2'), 3);
    for (const f of ['model/weights.bin', 'model/linear.json']) expect(Buffer.compare(await readFile(join(root, 'd1', f)), await readFile(join(root, 'd2', f)))).toBe(0);
    for (const model of ['bow', 'tfidf'] as const) {
      const out = join(root, model);
      await fit(model, out, 0);
      const run = await SupervisedRun.load(out);
      expect(run.info.model).toBe(model);
      expect(run.linear!.kind).toBe(model);
      const report = await run.evaluate();
      expect(report.accuracy).toBeGreaterThan(0.7); // chance 0.5; 600 training sentences
      const direct = run.linear!.probabilities(['not good at all']);
      expect(Object.values((await run.predict('not good at all')).probabilities)).toEqual(Array.from(direct));
    }
  }, 300_000);

  it('more than two classes: one classifier per class against the rest, probabilities normalised, saved and reloaded', async () => {
    const words: Record<string, string[]> = { cats: ['meow', 'purr', 'whiskers'], dogs: ['bark', 'woof', 'fetch'], birds: ['tweet', 'wings', 'nest'] };
    for (const split of ['train', 'test']) {
      for (const [label, ws] of Object.entries(words)) {
        await mkdir(join(root, 'three', split, label), { recursive: true });
        for (let i = 0; i < 12; i++) await writeFile(join(root, 'three', split, label, `${i}.txt`), `my pet likes to ${ws[i % 3]} a lot ${i}`);
      }
    }
    const out = join(root, 'three-run');
    const { run: info } = await fitTask({ task: 'text', data: join(root, 'three'), model: 'tfidf', out, progress: null });
    expect(info.classes).toEqual(['birds', 'cats', 'dogs']);
    const run = await SupervisedRun.load(out);
    expect(run.linear!.outputs).toBe(3);
    expect((await readFile(join(out, 'model', 'weights.bin'))).length).toBe(3 * run.linear!.vectorizer.numFeatures * 4);
    expect((await run.evaluate()).accuracy).toBe(1);
    const p = await run.predict('it will woof');
    expect(p.label).toBe('dogs');
    expect(Object.values(p.probabilities).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
    expect(p.probabilities.dogs!).toBeGreaterThan(0.5);
  }, 300_000);

  it('rejects class weights, unknown settings and broken model files, one line each', async () => {
    await expect(fitTask({ task: 'text', data: join(root, 'sent'), model: 'tfidf', fit: { classWeights: 'balanced' }, out: join(root, 'cw'), progress: null })).rejects.toThrow(/\[fit\] expected no class weights for the linear tfidf model \(tfjs text models take them\), received classWeights "balanced"/);
    await expect(fitTask({ task: 'text', data: join(root, 'sent'), model: 'tfidf', network: { cGrid: [-1], colour: 1 }, out: join(root, 'bad'), progress: null })).rejects.toThrow(/colour \(unknown.*cGrid=array\(1\) \(positive numbers\)/);
    const dir = join(root, 'bow', 'model');
    const good = await readFile(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin'), good.subarray(0, good.length - 4));
    await expect(LinearTextModel.load(dir)).rejects.toThrow(CheckpointError);
    await writeFile(join(dir, 'weights.bin'), Buffer.concat([good, Buffer.alloc(4)]));
    await expect(LinearTextModel.load(dir)).rejects.toThrow(/at most \d+ bytes/);
    const nan = Buffer.from(good);
    nan.writeFloatLE(Number.NaN, 0);
    await writeFile(join(dir, 'weights.bin'), nan);
    await expect(LinearTextModel.load(dir)).rejects.toThrow(/finite weights/);
    await writeFile(join(dir, 'weights.bin'), good);
    const json = JSON.parse(await readFile(join(dir, 'linear.json'), 'utf8'));
    await writeFile(join(dir, 'linear.json'), JSON.stringify({ ...json, version: 2 }));
    await expect(LinearTextModel.load(dir)).rejects.toThrow(UnsupportedVersionError);
    await writeFile(join(dir, 'linear.json'), JSON.stringify({ ...json, vectorizer: { ...json.vectorizer, vocab: 'x' } }));
    await expect(LinearTextModel.load(dir)).rejects.toThrow(/at most 200000 strings, received "x"/);
    await writeFile(join(dir, 'linear.json'), JSON.stringify({ ...json, bias: [1, 2] }));
    await expect(LinearTextModel.load(dir)).rejects.toThrow(/1 finite biases, received 2 values/);
    await writeFile(join(dir, 'linear.json'), JSON.stringify(json));
    expect((await LinearTextModel.load(dir)).numClasses).toBe(2);
  }, 300_000);

  it('the CLI trains, evaluates and predicts with the default model; fit --help lists the text models', async () => {
    const out = join(root, 'cli');
    const fit = await runCli(['fit', 'text', '--data', join(root, 'sent'), '--limit-per-class', '200', '--out', out, '--quiet', '--json']);
    expect(fit.code).toBe(0);
    expect(JSON.parse(fit.out).model).toBe('nb-tfidf');
    const human = await runCli(['fit', 'text', '--data', join(root, 'sent'), '--limit-per-class', '200', '--model', 'bow', '--out', join(root, 'cli-bow'), '--quiet']);
    expect(human.out).toMatch(/^trained bow on 360 samples \(40 validation\), best C (1|3|10|30|100), val_acc [\d.]+%\n/);
    const ev = await runCli(['evaluate', out, '--json']);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.out).samples).toBe(600);
    const pr = await runCli(['predict', out, 'awful, just awful', '--json']);
    expect(JSON.parse(pr.out).label).toBe('negative');
    const help = await runCli(['fit', '--help']);
    expect(help.out).toMatch(/nb-tfidf \(default\),\s+tfidf,\s+bow,\s+embedding-bag,\s+transformer,\s+lstm,\s+gru/);
    expect(help.out).toContain('--embeddings <file>');
  }, 300_000);
});
