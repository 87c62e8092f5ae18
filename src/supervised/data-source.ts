/** Batch sources for training: a common interface over streamed (image files) and in-memory data. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../envs/rng.js';

/** One mini-batch. The consumer owns `x` and must dispose it. */
export interface Batch {
  x: tf.Tensor;
  /** Class index of each sample. */
  labels: Int32Array;
}

/** Anything `fitClassifier` can iterate over, epoch after epoch. */
export interface BatchSource {
  /** Samples per epoch. */
  readonly size: number;
  /** Class index of every sample, in storage order (for class weights). */
  readonly labels: Int32Array;
  /** Yields the batches of one epoch; shuffles with `rng` when given, storage order otherwise. */
  batches(batchSize: number, rng?: Rng): AsyncIterable<Batch>;
}

/** Fisher-Yates permutation of 0..n-1 drawn from `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx;
}

/** Batches from features already in memory (speech features, token ids). */
export class ArraySource implements BatchSource {
  readonly size: number;
  private readonly sampleSize: number;

  /** `data` holds `labels.length` samples of shape `sampleShape`, row-major, back to back. */
  constructor(
    /** Samples back to back (exposed so pipelines can standardise features in place). */
    readonly data: Float32Array | Int32Array,
    private readonly sampleShape: number[],
    readonly labels: Int32Array,
  ) {
    this.size = labels.length;
    this.sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  }

  /** A source over a subset of this one's samples (copies them). */
  subset(indices: ArrayLike<number>): ArraySource {
    const Ctor = this.data instanceof Int32Array ? Int32Array : Float32Array;
    const data = new Ctor(indices.length * this.sampleSize);
    const labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const s = indices[i]!;
      data.set(this.data.subarray(s * this.sampleSize, (s + 1) * this.sampleSize), i * this.sampleSize);
      labels[i] = this.labels[s]!;
    }
    return new ArraySource(data, this.sampleShape, labels);
  }

  async *batches(batchSize: number, rng?: Rng): AsyncIterable<Batch> {
    const order = rng ? permutation(this.size, rng) : Int32Array.from({ length: this.size }, (_, i) => i);
    const Ctor = this.data instanceof Int32Array ? Int32Array : Float32Array;
    for (let start = 0; start < this.size; start += batchSize) {
      const n = Math.min(batchSize, this.size - start);
      const buf = new Ctor(n * this.sampleSize);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const s = order[start + i]!;
        buf.set(this.data.subarray(s * this.sampleSize, (s + 1) * this.sampleSize), i * this.sampleSize);
        labels[i] = this.labels[s]!;
      }
      const x = tf.tensor(buf, [n, ...this.sampleShape], buf instanceof Int32Array ? 'int32' : 'float32');
      yield { x, labels };
    }
  }
}

/** Stratified split of sample indices: `fraction` of each class goes to the second part. */
export function stratifiedSplit(labels: ArrayLike<number>, fraction: number, rng: Rng): { first: number[]; second: number[] } {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const first: number[] = [];
  const second: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(c)!;
    const perm = permutation(idx.length, rng);
    const nSecond = Math.round(idx.length * fraction);
    for (let i = 0; i < idx.length; i++) (i < nSecond ? second : first).push(idx[perm[i]!]!);
  }
  first.sort((a, b) => a - b);
  second.sort((a, b) => a - b);
  return { first, second };
}

/**
 * Random oversampling for imbalanced training sets: indices of every sample, plus copies of the
 * smaller classes' samples until each class has as many as the largest. A class of n samples that
 * needs m more gets floor(m / n) extra copies of each sample and m mod n more drawn without
 * replacement from `rng`, so no sample is repeated more than one time above another of its class.
 * Returned sorted (the batches are shuffled anyway).
 */
export function oversampleIndices(labels: ArrayLike<number>, rng: Rng): number[] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const largest = Math.max(0, ...[...byClass.values()].map((v) => v.length));
  const out = Array.from({ length: labels.length }, (_, i) => i);
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(c)!;
    const missing = largest - idx.length;
    for (let k = 0; k < Math.floor(missing / idx.length); k++) out.push(...idx);
    const perm = permutation(idx.length, rng);
    for (let k = 0; k < missing % idx.length; k++) out.push(idx[perm[k]!]!);
  }
  return out.sort((a, b) => a - b);
}
