import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/errors.js';
import { SeededRng } from '../../src/envs/rng.js';
import { exportImageDataset } from '../../src/supervised/data/image-datasets.js';
import { augmentImage, decodeImage, listImageFolder } from '../../src/supervised/image/loader.js';
import { SupervisedRun, fitTask } from '../../src/supervised/run.js';
import { main } from '../../src/cli/main.js';
import { initBackend } from '../../src/networks/backend.js';
import { readRunScalars } from '../../src/train/tensorboard.js';

let root: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  root = await mkdtemp(join(tmpdir(), 'npcforge-img-'));
  // 40 real digits per class: 300 for training (30 of them validation), 100 held out.
  await exportImageDataset('mnist', { out: join(root, 'mnist'), seed: 1, limitPerClass: 40, testCount: 100 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function png(path: string, value: number, size = 4): Promise<void> {
  await sharp(Buffer.alloc(size * size, value), { raw: { width: size, height: size, channels: 1 } }).png().toFile(path);
}

describe('image directory loader', () => {
  it('lists classes in order, decodes to [0,1] HWC and streams every file once per epoch', async () => {
    const src = await listImageFolder(join(root, 'mnist', 'train'), { height: 28, width: 28, channels: 1 });
    expect(src.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(src.size).toBe(300);
    const px = await decodeImage(src.files[0]!, src.format);
    expect(px.length).toBe(784);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    expect(Math.max(...px)).toBeGreaterThan(0.5);
    let seen = 0;
    const counts = new Array(10).fill(0);
    for await (const b of src.batches(64, new SeededRng(3))) {
      expect(b.x.shape.slice(1)).toEqual([28, 28, 1]);
      seen += b.labels.length;
      b.labels.forEach((l) => counts[l]++);
      b.x.dispose();
    }
    expect(seen).toBe(300);
    expect(counts).toEqual(new Array(10).fill(30));
    const rgb = await decodeImage(src.files[0]!, { height: 14, width: 10, channels: 3 });
    expect(rgb.length).toBe(14 * 10 * 3);
  });

  it('augmentation shifts with zero fill and flips', () => {
    const fmt = { height: 2, width: 3, channels: 1 as const };
    const img = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const flipped = augmentImage(img, fmt, { maxShift: 0, horizontalFlip: true, verticalFlip: false }, { random: () => 0.1, int: () => 0 } as never);
    expect(Array.from(flipped)).toEqual([3, 2, 1, 6, 5, 4]);
    const shifted = augmentImage(img, fmt, { maxShift: 1, horizontalFlip: false, verticalFlip: false }, { random: () => 0.9, int: () => 1 } as never);
    expect(Array.from(shifted)).toEqual([0, 0, 0, 0, 1, 2]);
  });

  it('errors: empty folder, class without files, unreadable image', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(listImageFolder(empty)).rejects.toThrow(DatasetError);
    await expect(listImageFolder(empty)).rejects.toThrow(/\[listImageFolder\] expected at least one class sub-folder, received an empty folder/);
    const noFiles = join(root, 'nofiles');
    await mkdir(join(noFiles, 'cat'), { recursive: true });
    await mkdir(join(noFiles, 'dog'), { recursive: true });
    await png(join(noFiles, 'cat', 'a.png'), 10);
    await expect(listImageFolder(noFiles)).rejects.toThrow(/none in .*dog/);
    const broken = join(root, 'broken');
    await mkdir(join(broken, 'cat'), { recursive: true });
    await writeFile(join(broken, 'cat', 'bad.png'), 'not a png');
    // Found when the folder is listed (data-files.test.ts has the cases), and by the decoder itself.
    await expect(listImageFolder(broken)).rejects.toThrow(/\[listImageFolder\] expected a PNG or JPEG image, received neither a PNG nor a JPEG signature in .*bad\.png/);
    const format = { height: 4, width: 4, channels: 1 as const };
    await expect(decodeImage(join(broken, 'cat', 'bad.png'), format)).rejects.toThrow(DatasetError);
    await expect(decodeImage(join(broken, 'cat', 'bad.png'), format)).rejects.toThrow(/expected a readable PNG or JPEG file, received .*bad\.png/);
    await expect(listImageFolder(join(root, 'missing'))).rejects.toThrow(/run `npcforge data/);
  });
});

describe('image CNN', () => {
  it('learns real MNIST digits well above chance, saves, reloads and predicts without leaks', async () => {
    const out = join(root, 'run');
    const { result, run } = await fitTask({
      task: 'image',
      data: join(root, 'mnist'),
      out,
      epochs: 5,
      seed: 2,
      image: { height: 14, width: 14 },
      augment: null,
      // Small on purpose: tfjs' cpu backend computes conv gradients with plain loops.
      network: { blockFilters: [4, 8], denseUnits: [32], dropout: 0.1 },
      fit: { batchSize: 16, learningRate: 3e-3, classWeights: 'balanced' },
      progress: null,
    });
    expect(result.history.length).toBeGreaterThan(0);
    expect(run.classes.length).toBe(10);
    const loaded = await SupervisedRun.load(out);
    const report = await loaded.evaluate();
    expect(report.samples).toBe(100);
    expect(report.accuracy).toBeGreaterThan(0.5); // chance is 0.1
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(100);
    const file = join(root, 'mnist', 'test', '7', (await readdir(join(root, 'mnist', 'test', '7')))[0]!);
    const p1 = await loaded.predict(file);
    await loaded.predict(file);
    const before = tf.memory().numTensors;
    const p2 = await loaded.predict(file);
    expect(tf.memory().numTensors).toBe(before);
    expect(p2.probabilities).toEqual(p1.probabilities);
    expect(Object.values(p1.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    loaded.dispose();
    // Metrics of every epoch are in the run folder.
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.length).toBe(result.history.length);
    // The same epochs as TensorBoard scalars (step = epoch, every record's CRCs checked) and as metrics.csv rows.
    const scalars = readRunScalars(out);
    for (const m of result.history) {
      for (const tag of ['loss', 'accuracy', 'seconds'] as const) expect(scalars.find((s) => s.step === m.epoch && s.tag === tag)?.value).toBe(Math.fround(m[tag]));
    }
    expect(scalars.some((s) => s.tag === 'epoch')).toBe(false);
    const csv = (await readFile(join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,loss,accuracy,valLoss,valAccuracy,seconds');
    expect(csv.slice(1).map((r) => Number(r.split(',')[1]))).toEqual(result.history.map((m) => m.loss));
    // CLI: evaluate --json gives accuracy, per_class, confusion.
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['evaluate', out, '--json']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const json = JSON.parse(chunks.join(''));
    expect(json.accuracy).toBeCloseTo(report.accuracy, 10);
    expect(Object.keys(json.per_class)).toHaveLength(10);
    expect(json.confusion).toHaveLength(10);
  }, 400_000);

  it('fitting leaks no tensors and the CLI rejects bad input with exit code 2', async () => {
    const before = tf.memory().numTensors;
    await fitTask({ task: 'image', data: join(root, 'mnist'), out: join(root, 'leak'), epochs: 1, limitPerClass: 5, image: { height: 8, width: 8 }, network: { blockFilters: [4], denseUnits: [8] }, progress: null });
    expect(tf.memory().numTensors).toBe(before);
    // The viewer's running/finished/interrupted (train writes the same file).
    expect(JSON.parse(await readFile(join(root, 'leak', 'status.json'), 'utf8'))).toMatchObject({ format: 'npcforge-run-status', state: 'finished', pid: process.pid });
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['fit', 'video', '--data', root])).toBe(2);
      expect(await main(['fit', 'image', '--data', join(root, 'mnist'), '--model', 'transformer'])).toBe(2);
      expect(await main(['fit', 'image', '--data', join(root, 'nowhere'), '--epochs', '1'])).toBe(2);
      expect(await main(['evaluate', join(root, 'nowhere')])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/task 'image', 'speech' or 'text'/);
    expect(err.join('')).toMatch(/a image model \(cnn\)/);
  }, 200_000);
});
