/**
 * Transformer encoder building blocks as serialisable tfjs custom layers (registered with
 * `tf.serialization.registerClass`, so `tf.loadLayersModel` restores them):
 * - `TokenPositionEmbedding`: token embedding scaled by sqrt(dim) plus fixed sinusoidal positions
 *   (Vaswani et al. 2017, sec. 3.5).
 * - `TransformerEncoderLayer`: post-norm encoder block: multi-head scaled dot-product
 *   self-attention with a key padding mask, residual + layer norm, ReLU feed-forward, residual +
 *   layer norm. Inputs `[x, tokenIds]`; positions whose id is 0 (the padding id) are never attended to.
 * - `MaskedMeanPooling`: mean over the non-padding positions. Inputs `[x, tokenIds]`.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';
import { tfjsSeed, type DropoutSeedable } from './seeding.js';

type Kwargs = { training?: boolean };
type Shape = (number | null)[];

/** Id reserved for padding in every tokenizer of the project. */
export const PAD_ID = 0;

function firstShape(s: Shape | Shape[]): Shape {
  return Array.isArray(s[0]) || s[0] === undefined ? ((s as Shape[])[0] ?? []) : (s as Shape);
}

function asList(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(inputs) ? inputs : [inputs];
}

/**
 * Embedding lookup whose gradient is a scatter-add (`scatterND` sums duplicate ids). tfjs' own
 * `gather` gradient goes through `unsortedSegmentSum`, which the cpu backend computes with one
 * mask per vocabulary entry: O(vocab x tokens x dim) per step, minutes per epoch for a real vocabulary.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const [vocab, dim] = table.shape;
  const lookup = tf.customGrad(((t: tf.Tensor, i: tf.Tensor, save: tf.GradSaveFunc) => {
    save([i]);
    return {
      value: tf.gather(t, i as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const idx = saved[0]!;
        return [tf.scatterND(tf.reshape(idx, [-1, 1]), dy as tf.Tensor, [vocab, dim]), tf.zerosLike(idx)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return lookup(table, ids) as tf.Tensor2D;
}

/** Sinusoidal position table [maxLen, dim]: sin on even, cos on odd features. */
export function sinusoidalPositions(maxLen: number, dim: number): Float32Array {
  const out = new Float32Array(maxLen * dim);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < dim; i++) {
      const angle = p / 10000 ** ((2 * Math.floor(i / 2)) / dim);
      out[p * dim + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

/** Config of `TokenPositionEmbedding`. */
export interface TokenPositionEmbeddingArgs {
  /** Vocabulary size including the padding and OOV ids. */
  vocabSize: number;
  /** Longest sequence, tokens. */
  maxLen: number;
  /** Embedding width. */
  dim: number;
  /** Seed of the initialiser (omitted: unseeded). */
  seed?: number;
  name?: string;
}

/** Token embedding + sinusoidal positions; input int32 ids [batch, time], output [batch, time, dim]. */
export class TokenPositionEmbedding extends tf.layers.Layer {
  static className = 'NpcforgeTokenPositionEmbedding';
  readonly vocabSize: number;
  readonly maxLen: number;
  readonly dim: number;
  private readonly seed: number | undefined;
  private embeddings!: tf.LayerVariable;
  private positions: tf.Tensor2D | null = null;

  constructor(args: TokenPositionEmbeddingArgs) {
    super({ name: args.name });
    if (!(Number.isInteger(args.vocabSize) && args.vocabSize > 1 && Number.isInteger(args.maxLen) && args.maxLen > 0 && Number.isInteger(args.dim) && args.dim > 0)) {
      throw new InvalidConfigError(formatError('TokenPositionEmbedding', 'positive integer vocabSize (> 1), maxLen, dim', describe(args), 'fix the layer config'));
    }
    this.vocabSize = args.vocabSize;
    this.maxLen = args.maxLen;
    this.dim = args.dim;
    this.seed = args.seed;
  }

  override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.vocabSize, this.dim], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: 1 / Math.sqrt(this.dim), seed: this.seed === undefined ? undefined : tfjsSeed(this.seed) }));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = firstShape(inputShape);
    return [s[0] ?? null, s[1] ?? null, this.dim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = tf.cast(asList(inputs)[0]!, 'int32') as tf.Tensor2D;
      const [b, t] = ids.shape;
      if (t > this.maxLen) throw new InvalidConfigError(formatError('TokenPositionEmbedding', `at most ${this.maxLen} tokens`, `${t}`, 'truncate the input'));
      if (this.positions === null) this.positions = tf.keep(tf.tensor2d(sinusoidalPositions(this.maxLen, this.dim), [this.maxLen, this.dim]));
      const emb = tf.reshape(embeddingLookup(this.embeddings.read() as tf.Tensor2D, tf.reshape(ids, [-1]) as tf.Tensor1D), [b, t, this.dim]);
      const pos = tf.slice(this.positions, [0, 0], [t, this.dim]);
      return tf.add(tf.mul(emb, Math.sqrt(this.dim)), pos);
    });
  }

  override dispose(): tf.serialization.ConfigDict & { refCountAfterDispose: number; numDisposedVariables: number } {
    this.positions?.dispose();
    this.positions = null;
    return super.dispose() as never;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), vocabSize: this.vocabSize, maxLen: this.maxLen, dim: this.dim };
  }
}

/** Config of `TransformerEncoderLayer`. */
export interface TransformerEncoderArgs {
  /** Model width (input and output features). */
  dim: number;
  /** Attention heads; `dim` must be divisible by it. */
  numHeads: number;
  /** Hidden units of the feed-forward block. */
  ffDim: number;
  /** Dropout on attention weights and on each residual branch (0 disables). */
  dropout: number;
  /** Seed of the weight initialisers (omitted: unseeded). */
  seed?: number;
  name?: string;
}

/** Multi-head self-attention + feed-forward encoder block with padding mask. */
export class TransformerEncoderLayer extends tf.layers.Layer implements DropoutSeedable {
  static className = 'NpcforgeTransformerEncoderLayer';
  readonly dim: number;
  readonly numHeads: number;
  readonly ffDim: number;
  readonly dropout: number;
  private readonly seed: number | undefined;
  /** Seed of the next training call's dropout masks (set per step by the training loop). */
  private dropoutSeed: number | undefined;
  private w: Record<string, tf.LayerVariable> = {};

  constructor(args: TransformerEncoderArgs) {
    super({ name: args.name });
    const bad: string[] = [];
    if (!(Number.isInteger(args.dim) && args.dim > 0)) bad.push(`dim=${describe(args.dim)}`);
    if (!(Number.isInteger(args.numHeads) && args.numHeads > 0 && args.dim % args.numHeads === 0)) bad.push(`numHeads=${describe(args.numHeads)} (must divide dim)`);
    if (!(Number.isInteger(args.ffDim) && args.ffDim > 0)) bad.push(`ffDim=${describe(args.ffDim)}`);
    if (!(args.dropout >= 0 && args.dropout < 1)) bad.push(`dropout=${describe(args.dropout)}`);
    if (bad.length > 0) throw new InvalidConfigError(formatError('TransformerEncoderLayer', 'positive sizes, numHeads dividing dim, dropout in [0, 1)', bad.join('; '), 'fix the layer config'));
    this.dim = args.dim;
    this.numHeads = args.numHeads;
    this.ffDim = args.ffDim;
    this.dropout = args.dropout;
    this.seed = args.seed;
  }

  override build(): void {
    const d = this.dim;
    let k = 0;
    const glorot = () => tf.initializers.glorotUniform(this.seed === undefined ? {} : { seed: this.seed + 7919 * k++ });
    const zeros = () => tf.initializers.zeros();
    const ones = () => tf.initializers.ones();
    for (const n of ['q', 'k', 'v', 'o']) {
      this.w[`W${n}`] = this.addWeight(`W${n}`, [d, d], 'float32', glorot());
      this.w[`b${n}`] = this.addWeight(`b${n}`, [d], 'float32', zeros());
    }
    this.w.W1 = this.addWeight('W1', [d, this.ffDim], 'float32', glorot());
    this.w.b1 = this.addWeight('b1', [this.ffDim], 'float32', zeros());
    this.w.W2 = this.addWeight('W2', [this.ffDim, d], 'float32', glorot());
    this.w.b2 = this.addWeight('b2', [d], 'float32', zeros());
    for (const n of ['1', '2']) {
      this.w[`gamma${n}`] = this.addWeight(`ln${n}_gamma`, [d], 'float32', ones());
      this.w[`beta${n}`] = this.addWeight(`ln${n}_beta`, [d], 'float32', zeros());
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return firstShape(inputShape);
  }

  private dense(x2d: tf.Tensor2D, w: string, b: string): tf.Tensor2D {
    return tf.add(tf.matMul(x2d, this.w[w]!.read() as tf.Tensor2D), this.w[b]!.read()) as tf.Tensor2D;
  }

  private layerNorm(x: tf.Tensor2D, n: string): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6)));
    return tf.add(tf.mul(normed, this.w[`gamma${n}`]!.read()), this.w[`beta${n}`]!.read()) as tf.Tensor2D;
  }

  setDropoutSeed(seed: number | undefined): void {
    this.dropoutSeed = seed;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, ids] = asList(inputs) as [tf.Tensor3D, tf.Tensor2D | undefined];
      const [b, t, d] = x.shape;
      const h = this.numHeads;
      const dh = d / h;
      const training = kwargs?.training === true && this.dropout > 0;
      // Each mask of this call gets its own seed (seed + k); unseeded when no training loop set one.
      let maskIndex = 0;
      const drop = <T extends tf.Tensor>(v: T): T => (training ? (tf.dropout(v, this.dropout, undefined, this.dropoutSeed === undefined ? undefined : this.dropoutSeed + maskIndex++) as T) : v);
      const x2 = tf.reshape(x, [b * t, d]) as tf.Tensor2D;
      const heads = (m: tf.Tensor2D) => tf.transpose(tf.reshape(m, [b, t, h, dh]), [0, 2, 1, 3]);
      const q = heads(this.dense(x2, 'Wq', 'bq'));
      const k = heads(this.dense(x2, 'Wk', 'bk'));
      const v = heads(this.dense(x2, 'Wv', 'bv'));
      let scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh));
      if (ids !== undefined) {
        // Additive key mask: padded keys get -1e9 before the softmax, so their weight is 0.
        const keyPad = tf.cast(tf.equal(tf.cast(ids, 'int32'), PAD_ID), 'float32');
        scores = tf.add(scores, tf.reshape(tf.mul(keyPad, -1e9), [b, 1, 1, t]));
      }
      const attn = drop(tf.softmax(scores, -1));
      const ctx = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [b * t, d]) as tf.Tensor2D;
      const y1 = this.layerNorm(tf.add(x2, drop(this.dense(ctx, 'Wo', 'bo'))), '1');
      const ff = this.dense(tf.relu(this.dense(y1, 'W1', 'b1')) as tf.Tensor2D, 'W2', 'b2');
      const y2 = this.layerNorm(tf.add(y1, drop(ff)), '2');
      return tf.reshape(y2, [b, t, d]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, numHeads: this.numHeads, ffDim: this.ffDim, dropout: this.dropout };
  }
}

/** Mean over time of `x` [batch, time, dim], ignoring positions whose token id is the padding id. */
export class MaskedMeanPooling extends tf.layers.Layer {
  static className = 'NpcforgeMaskedMeanPooling';

  constructor(args: { name?: string } = {}) {
    super({ name: args.name });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = firstShape(inputShape);
    return [s[0] ?? null, s[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, ids] = asList(inputs) as [tf.Tensor3D, tf.Tensor2D | undefined];
      if (ids === undefined) return tf.mean(x, 1);
      const keep = tf.expandDims(tf.cast(tf.notEqual(tf.cast(ids, 'int32'), PAD_ID), 'float32'), -1);
      const total = tf.sum(tf.mul(x, keep), 1);
      return tf.div(total, tf.maximum(tf.sum(keep, 1), 1));
    });
  }
}

tf.serialization.registerClass(TokenPositionEmbedding);
tf.serialization.registerClass(TransformerEncoderLayer);
tf.serialization.registerClass(MaskedMeanPooling);

/** Architecture of the Transformer text classifier. */
export interface TransformerClassifierConfig {
  vocabSize: number;
  maxLen: number;
  numClasses: number;
  /** Model width. */
  dim: number;
  numHeads: number;
  ffDim: number;
  /** Stacked encoder blocks. */
  numLayers: number;
  dropout: number;
  /** Seed of the weight initialisers (omitted: unseeded); dropout masks are seeded per step by the training loop (networks/seeding.ts). */
  seed?: number;
}

export const DEFAULT_TRANSFORMER_CLASSIFIER = { dim: 64, numHeads: 4, ffDim: 128, numLayers: 1, dropout: 0.1 };

/** Embedding + positions -> encoder blocks -> masked mean pooling -> dropout -> logits. */
export function buildTransformerClassifier(partial: Pick<TransformerClassifierConfig, 'vocabSize' | 'maxLen' | 'numClasses'> & Partial<TransformerClassifierConfig>): tf.LayersModel {
  const c: TransformerClassifierConfig = { ...DEFAULT_TRANSFORMER_CLASSIFIER, ...partial };
  if (!(Number.isInteger(c.numLayers) && c.numLayers >= 1) || !(Number.isInteger(c.numClasses) && c.numClasses >= 2)) {
    throw new InvalidConfigError(formatError('buildTransformerClassifier', 'numLayers >= 1 and numClasses >= 2', `numLayers=${describe(c.numLayers)}, numClasses=${describe(c.numClasses)}`, 'fix the config'));
  }
  const ids = tf.input({ shape: [c.maxLen], dtype: 'int32', name: 'token_ids' });
  const seed = (k: number) => (c.seed === undefined ? undefined : c.seed * 104729 + k * 1009);
  let x = new TokenPositionEmbedding({ vocabSize: c.vocabSize, maxLen: c.maxLen, dim: c.dim, seed: seed(0) }).apply(ids) as tf.SymbolicTensor;
  for (let i = 0; i < c.numLayers; i++) {
    x = new TransformerEncoderLayer({ dim: c.dim, numHeads: c.numHeads, ffDim: c.ffDim, dropout: c.dropout, seed: seed(i + 1) }).apply([x, ids]) as tf.SymbolicTensor;
  }
  let pooled = new MaskedMeanPooling().apply([x, ids]) as tf.SymbolicTensor;
  if (c.dropout > 0) pooled = tf.layers.dropout({ rate: c.dropout }).apply(pooled) as tf.SymbolicTensor;
  const dense = c.seed === undefined ? {} : { kernelInitializer: tf.initializers.glorotUniform({ seed: seed(c.numLayers + 1) }) };
  const logits = tf.layers.dense({ units: c.numClasses, ...dense }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: ids, outputs: logits });
}
