/**
 * Image directory loader in the style of Keras' `flow_from_directory`: one sub-folder per class,
 * PNG/JPEG decoded with sharp, resized, grayscale or RGB, scaled to [0, 1], optionally augmented,
 * streamed from disk in shuffled batches (only the file list is held in memory).
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { DatasetError, InvalidConfigError, describe, formatError } from '../../errors.js';
import type { Rng } from '../../envs/rng.js';
import { permutation, stratifiedSplit, type Batch, type BatchSource } from '../data-source.js';
import { MAX_SAMPLE_BYTES, listClassFiles, readSampleEnds, readSampleFile } from '../data-files.js';

/** Random augmentation applied to training images. */
export interface AugmentConfig {
  /** Largest shift in pixels along each axis (uniform in [-maxShift, maxShift], zero fill). */
  maxShift: number;
  /** Mirror left-right with probability 0.5 (off for digits, where it changes meaning). */
  horizontalFlip: boolean;
  /** Mirror top-bottom with probability 0.5. */
  verticalFlip: boolean;
}

/** How images are decoded. */
export interface ImageFormat {
  /** Height after resizing, pixels. */
  height: number;
  /** Width after resizing, pixels. */
  width: number;
  /** 1 = grayscale, 3 = RGB. */
  channels: 1 | 3;
}

export const DEFAULT_IMAGE_FORMAT: ImageFormat = { height: 28, width: 28, channels: 1 };

/** File extensions read as images. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

/** Checks an image format, reporting every bad field at once. */
export function resolveImageFormat(partial: Partial<ImageFormat> = {}): ImageFormat {
  const f = { ...DEFAULT_IMAGE_FORMAT, ...partial };
  const bad: string[] = [];
  if (!(Number.isInteger(f.height) && f.height >= 1 && f.height <= 4096)) bad.push(`height=${describe(f.height)}`);
  if (!(Number.isInteger(f.width) && f.width >= 1 && f.width <= 4096)) bad.push(`width=${describe(f.width)}`);
  if (f.channels !== 1 && f.channels !== 3) bad.push(`channels=${describe(f.channels)} (1 or 3)`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('ImageFormat', 'integer sizes in [1, 4096] and 1 or 3 channels', bad.join('; '), 'fix the listed fields'));
  return f;
}

/** Decodes one image file into a fresh HWC Float32Array scaled to [0, 1]. */
export async function decodeImage(path: string, format: ImageFormat): Promise<Float32Array> {
  // Read through the checked reader: sharp(path) would block on a FIFO and read any size.
  const bytes = await readSampleFile(path, MAX_SAMPLE_BYTES.image, 'decodeImage');
  let data: Buffer;
  let channels: number;
  try {
    let pipeline = sharp(bytes).resize(format.width, format.height, { fit: 'fill' });
    pipeline = format.channels === 1 ? pipeline.toColourspace('b-w') : pipeline.removeAlpha().toColourspace('srgb');
    const out = await pipeline.raw().toBuffer({ resolveWithObject: true });
    data = out.data;
    channels = out.info.channels;
  } catch (err) {
    throw new DatasetError(formatError('decodeImage', 'a readable PNG or JPEG file', `${path}: ${(err as Error).message}`, 'delete or replace the broken file'), { cause: err });
  }
  const n = format.height * format.width;
  const pixels = new Float32Array(n * format.channels);
  // sharp may keep a channel count different from the request (e.g. a grey PNG forced to sRGB); copy per pixel.
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < format.channels; c++) pixels[p * format.channels + c] = data[p * channels + Math.min(c, channels - 1)]! / 255;
  }
  return pixels;
}

/** Applies a random shift and flips in place-free fashion; returns a new array. */
export function augmentImage(pixels: Float32Array, format: ImageFormat, aug: AugmentConfig, rng: Rng): Float32Array {
  const { height: h, width: w, channels: c } = format;
  const dy = aug.maxShift > 0 ? rng.int(-aug.maxShift, aug.maxShift + 1) : 0;
  const dx = aug.maxShift > 0 ? rng.int(-aug.maxShift, aug.maxShift + 1) : 0;
  const flipX = aug.horizontalFlip && rng.random() < 0.5;
  const flipY = aug.verticalFlip && rng.random() < 0.5;
  const out = new Float32Array(pixels.length);
  for (let y = 0; y < h; y++) {
    const sy0 = y - dy;
    if (sy0 < 0 || sy0 >= h) continue;
    const sy = flipY ? h - 1 - sy0 : sy0;
    for (let x = 0; x < w; x++) {
      const sx0 = x - dx;
      if (sx0 < 0 || sx0 >= w) continue;
      const sx = flipX ? w - 1 - sx0 : sx0;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = pixels[(sy * w + sx) * c + k]!;
    }
  }
  return out;
}

/** A list of image files with class labels; streams batches from disk. */
export class ImageFileSource implements BatchSource {
  readonly size: number;

  constructor(
    readonly files: string[],
    readonly labels: Int32Array,
    readonly classes: string[],
    readonly format: ImageFormat,
    /** Augmentation applied when batches are shuffled (training); null for none. */
    readonly augment: AugmentConfig | null = null,
  ) {
    this.size = files.length;
  }

  /** Source restricted to some of the files. */
  subset(indices: ArrayLike<number>, augment: AugmentConfig | null = this.augment): ImageFileSource {
    const idx = Array.from(indices);
    return new ImageFileSource(idx.map((i) => this.files[i]!), Int32Array.from(idx, (i) => this.labels[i]!), this.classes, this.format, augment);
  }

  private async load(order: Int32Array, start: number, n: number, rng: Rng | undefined): Promise<{ buf: Float32Array; labels: Int32Array }> {
    const per = this.format.height * this.format.width * this.format.channels;
    const buf = new Float32Array(n * per);
    const labels = new Int32Array(n);
    const images = await Promise.all(Array.from({ length: n }, (_, i) => decodeImage(this.files[order[start + i]!]!, this.format)));
    for (let i = 0; i < n; i++) {
      const img = rng && this.augment ? augmentImage(images[i]!, this.format, this.augment, rng) : images[i]!;
      buf.set(img, i * per);
      labels[i] = this.labels[order[start + i]!]!;
    }
    return { buf, labels };
  }

  async *batches(batchSize: number, rng?: Rng): AsyncIterable<Batch> {
    const order = rng ? permutation(this.size, rng) : Int32Array.from({ length: this.size }, (_, i) => i);
    const shape = [this.format.height, this.format.width, this.format.channels];
    // Decode the next batch while the caller trains on the current one.
    let pending: Promise<{ buf: Float32Array; labels: Int32Array }> | null = this.size > 0 ? this.load(order, 0, Math.min(batchSize, this.size), rng) : null;
    for (let start = 0; start < this.size; start += batchSize) {
      const cur = await pending!;
      const next = start + batchSize;
      pending = next < this.size ? this.load(order, next, Math.min(batchSize, this.size - next), rng) : null;
      yield { x: tf.tensor(cur.buf, [cur.labels.length, ...shape], 'float32'), labels: cur.labels };
    }
  }
}

/** Largest decoded image, pixels (sharp's own default limit). */
const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Checks an image file's header without decoding it: PNG signature, IHDR dimensions and the IEND
 * trailer (catches truncated files), or the JPEG start-of-image marker. Run on every file when a
 * folder is listed, so that a broken image stops `fit` before training rather than mid-epoch.
 */
export async function checkImageFile(path: string, component = 'listImageFolder'): Promise<void> {
  const { head, tail } = await readSampleEnds(path, 24, 64, component);
  const broken = (what: string): never => {
    throw new DatasetError(formatError(component, 'a PNG or JPEG image', `${what} in ${path}`, 'delete or replace the broken file'));
  };
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) {
    if (head.length < 24 || head.toString('latin1', 12, 16) !== 'IHDR') broken('a PNG without its IHDR header');
    const width = head.readUInt32BE(16);
    const height = head.readUInt32BE(20);
    if (width === 0 || height === 0 || width * height > MAX_IMAGE_PIXELS) broken(`a PNG of ${width}x${height} pixels (at most ${MAX_IMAGE_PIXELS} pixels)`);
    if (!tail.includes('IEND', 0, 'latin1')) broken('a truncated PNG (no IEND chunk at its end)');
    return;
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return;
  broken(head.length === 0 ? 'an empty file' : 'neither a PNG nor a JPEG signature');
}

/** Lists `<dir>/<class>/*.{png,jpg,jpeg}`; classes sorted by name; every file is checked (see checkImageFile). Throws DatasetError on bad input. */
export async function listImageFolder(dir: string, format: Partial<ImageFormat> = {}): Promise<ImageFileSource> {
  const fmt = resolveImageFormat(format);
  const found = await listClassFiles(dir, {
    extensions: IMAGE_EXTENSIONS,
    maxBytes: MAX_SAMPLE_BYTES.image,
    component: 'listImageFolder',
    classFolder: 'class',
    fix: 'check the --data path (run `npcforge data ...` to create one; images go in <dir>/<class>/*.png)',
    checkContent: (path) => checkImageFile(path),
  });
  const files = found.flatMap((c) => c.files);
  const labels = found.flatMap((c, i) => c.files.map(() => i));
  return new ImageFileSource(files, Int32Array.from(labels), found.map((c) => c.name), fmt);
}

/** Stratified train/validation split of an image folder; augmentation only on the training part. */
export function splitImageSource(source: ImageFileSource, validationFraction: number, rng: Rng, augment: AugmentConfig | null): { train: ImageFileSource; validation: ImageFileSource } {
  if (!(validationFraction >= 0 && validationFraction < 1)) throw new InvalidConfigError(formatError('splitImageSource', 'a validation fraction in [0, 1)', describe(validationFraction), 'pass e.g. 0.1'));
  const { first, second } = stratifiedSplit(source.labels, validationFraction, rng);
  return { train: source.subset(first, augment), validation: source.subset(second, null) };
}
