/** CNN image classifier builder: conv/pool blocks, dropout, dense layers, a logits head. */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';

/** Architecture of a convolutional classifier. */
export interface ConvClassifierConfig {
  /** Input shape [height, width, channels] (NHWC without the batch axis). */
  inputShape: [number, number, number];
  /** Number of output classes (logits units). */
  numClasses: number;
  /** Filters of each block; a block is `convsPerBlock` 3x3 ReLU convolutions then 2x2 max-pooling. */
  blockFilters: number[];
  /** Convolutions per block. */
  convsPerBlock: number;
  /** Square kernel size of each convolution, pixels. */
  kernelSize: number;
  /** Units of the hidden dense layers after flattening. */
  denseUnits: number[];
  /** Dropout rate after the conv stack and after each dense layer (0 disables). */
  dropout: number;
  /** Seed of the weight initialisers (omitted: unseeded); dropout masks are seeded per step by the training loop (networks/seeding.ts). */
  seed?: number;
}

export const DEFAULT_CONV_CLASSIFIER: Omit<ConvClassifierConfig, 'inputShape' | 'numClasses'> = { blockFilters: [32, 64], convsPerBlock: 1, kernelSize: 3, denseUnits: [128], dropout: 0.3 };

/** Builds the model; the output is logits (apply softmax for probabilities). */
export function buildConvClassifier(partial: Pick<ConvClassifierConfig, 'inputShape' | 'numClasses'> & Partial<ConvClassifierConfig>): tf.LayersModel {
  const c: ConvClassifierConfig = { ...DEFAULT_CONV_CLASSIFIER, ...partial };
  const bad: string[] = [];
  if (!(c.inputShape.length === 3 && c.inputShape.every((d) => Number.isInteger(d) && d > 0))) bad.push(`inputShape=${describe(c.inputShape)}`);
  if (!(Number.isInteger(c.numClasses) && c.numClasses >= 2)) bad.push(`numClasses=${describe(c.numClasses)}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) bad.push(`dropout=${describe(c.dropout)}`);
  if (!c.blockFilters.every((f) => Number.isInteger(f) && f > 0)) bad.push(`blockFilters=${describe(c.blockFilters)}`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('buildConvClassifier', 'positive integer shapes, >= 2 classes, dropout in [0, 1)', bad.join('; '), 'fix the listed fields'));
  const input = tf.input({ shape: c.inputShape });
  let layer = 0;
  // Layer k's initialiser: He normal for ReLU layers, Glorot uniform for the logits (tfjs's defaults), seeded when asked.
  const he = () => (c.seed === undefined ? 'heNormal' : tf.initializers.heNormal({ seed: c.seed * 104729 + 1009 * layer++ }));
  const logitsInit = c.seed === undefined ? {} : { kernelInitializer: tf.initializers.glorotUniform({ seed: c.seed * 104729 + 1009 * layer++ }) };
  let x: tf.SymbolicTensor = input;
  for (const filters of c.blockFilters) {
    for (let i = 0; i < c.convsPerBlock; i++) {
      x = tf.layers.conv2d({ filters, kernelSize: c.kernelSize, padding: 'same', activation: 'relu', kernelInitializer: he() }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  for (const units of c.denseUnits) {
    x = tf.layers.dense({ units, activation: 'relu', kernelInitializer: he() }).apply(x) as tf.SymbolicTensor;
    if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  }
  const logits = tf.layers.dense({ units: c.numClasses, ...logitsInit }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}
