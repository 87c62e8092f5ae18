/**
 * The same seed gives the same run: two `fit`s of each task on the same small data, with dropout
 * and (images) augmentation on, write byte-identical weights and the same metrics. Seed 0 is the
 * default and the case tfjs treated as "unseeded" in its normal initialisers.
 */
import sharp from 'sharp';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/envs/rng.js';
import { fitTask, type FitTaskOptions } from '../../src/supervised/run.js';
import { writeWav } from '../../src/supervised/speech/wav.js';
import { runCli } from '../helpers/run-cli.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'npcforge-repro-'));
  const rng = new SeededRng(7);
  // Images: two classes of noisy 12x12 squares, dark and bright.
  for (const [c, base] of [['dark', 40], ['bright', 200]] as const) {
    await mkdir(join(root, 'img', 'train', c), { recursive: true });
    for (let i = 0; i < 8; i++) {
      const px = Buffer.from(Array.from({ length: 144 }, () => Math.min(255, Math.max(0, base + rng.int(-40, 41)))));
      await sharp(px, { raw: { width: 12, height: 12, channels: 1 } }).png().toFile(join(root, 'img', 'train', c, `${i}.png`));
    }
  }
  // Speech: a low and a high tone with noise, 4 "voices" (the validation split is by voice).
  for (const [c, hz] of [['low', 300], ['high', 1500]] as const) {
    await mkdir(join(root, 'wav', 'train', c), { recursive: true });
    for (let v = 0; v < 4; v++) {
      for (let t = 0; t < 2; t++) {
        const samples = Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (hz + 20 * v) * i) / 16000) + 0.05 * (rng.random() - 0.5));
        await writeWav(join(root, 'wav', 'train', c, `v${v}__${t}.wav`), { sampleRate: 16000, samples });
      }
    }
  }
  // Text: short positive and negative sentences.
  const words = { positive: ['good', 'great', 'fine', 'lovely', 'nice'], negative: ['bad', 'awful', 'poor', 'broken', 'sad'] };
  for (const [c, list] of Object.entries(words)) {
    await mkdir(join(root, 'txt', 'train', c), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const text = Array.from({ length: 4 + rng.int(0, 4) }, () => (rng.random() < 0.6 ? list[rng.int(0, list.length)] : ['the', 'movie', 'was', 'it', 'a'][rng.int(0, 5)])).join(' ');
      await writeFile(join(root, 'txt', 'train', c, `${i}.txt`), text);
    }
  }
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

/** Fits twice with the same options into two folders; returns both weights files and histories. */
async function fitTwice(name: string, opts: Omit<FitTaskOptions, 'out'>): Promise<{ weights: Buffer[]; histories: unknown[] }> {
  const weights: Buffer[] = [];
  const histories: unknown[] = [];
  for (const k of [1, 2]) {
    const out = join(root, `${name}-${k}`);
    const { run } = await fitTask({ ...opts, out, progress: null });
    weights.push(await readFile(join(out, 'model', 'weights.bin')));
    // Everything but the wall-clock time of each epoch.
    histories.push(run.history.map(({ seconds: _s, ...m }) => m));
  }
  return { weights, histories };
}

describe('the same seed gives the same run', () => {
  it.each([0, 3])('image CNN (dropout 0.3, shift augmentation), seed %i', async (seed) => {
    const { weights, histories } = await fitTwice(`img-s${seed}`, {
      task: 'image',
      data: join(root, 'img'),
      seed,
      epochs: 2,
      validationFraction: 0.25,
      image: { height: 12, width: 12 },
      augment: { maxShift: 2, horizontalFlip: true, verticalFlip: false },
      network: { blockFilters: [4], denseUnits: [8], dropout: 0.3 },
      fit: { batchSize: 4 },
    });
    expect(weights[0]!.length).toBeGreaterThan(0);
    expect(weights[0]!.equals(weights[1]!)).toBe(true);
    expect(histories[1]).toEqual(histories[0]);
  }, 120_000);

  it('speech GRU (dropout 0.3), seed 0', async () => {
    const { weights, histories } = await fitTwice('wav', {
      task: 'speech',
      data: join(root, 'wav'),
      seed: 0,
      epochs: 2,
      validationFraction: 0.25,
      features: { hopLength: 640, numMels: 16 },
      network: { units: 8, convFilters: 8, poolSize: 4, dropout: 0.3 },
      fit: { batchSize: 4 },
    });
    expect(weights[0]!.equals(weights[1]!)).toBe(true);
    expect(histories[1]).toEqual(histories[0]);
  }, 120_000);

  it.each(['transformer', 'lstm'] as const)('text %s (dropout 0.3), seed 0', async (model) => {
    const { weights, histories } = await fitTwice(`txt-${model}`, {
      task: 'text',
      data: join(root, 'txt'),
      model,
      seed: 0,
      epochs: 2,
      validationFraction: 0.25,
      maxLen: 8,
      network: model === 'transformer' ? { dim: 8, numHeads: 2, ffDim: 16, dropout: 0.3 } : { units: 8, embeddingDim: 8, dropout: 0.3 },
      fit: { batchSize: 4 },
    });
    expect(weights[0]!.equals(weights[1]!)).toBe(true);
    expect(histories[1]).toEqual(histories[0]);
  }, 120_000);

  it('`npcforge fit image` twice with the default model, augmentation and seed: same weights, same metrics.jsonl but for seconds', async () => {
    const outs = [join(root, 'cli-1'), join(root, 'cli-2')];
    for (const out of outs) {
      const r = await runCli(['fit', 'image', '--data', join(root, 'img'), '--epochs', '2', '--batch-size', '4', '--val', '0.25', '--out', out, '--quiet']);
      expect(r.code, r.err).toBe(0);
    }
    const [a, b] = await Promise.all(outs.map((o) => readFile(join(o, 'model', 'weights.bin'))));
    expect(a!.equals(b!)).toBe(true);
    const metrics = await Promise.all(outs.map(async (o) => (await readFile(join(o, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => ({ ...JSON.parse(l), seconds: 0 }))));
    expect(metrics[0]).toHaveLength(2);
    expect(metrics[1]).toEqual(metrics[0]);
  }, 120_000);

  it('a different seed gives different weights (the comparison can fail)', async () => {
    const a = await readFile(join(root, 'img-s0-1', 'model', 'weights.bin'));
    const b = await readFile(join(root, 'img-s3-1', 'model', 'weights.bin'));
    expect(a.equals(b)).toBe(false);
  });
});
