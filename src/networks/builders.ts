/**
 * Q-network builders: typed spec -> tf.LayersModel made only of stock layers, so a saved model
 * loads with stock `tf.loadLayersModel`. The encoder comes from the one builder (`encoders.ts`);
 * initialisers are seeded from the spec.
 */
import * as tf from '@tensorflow/tfjs';
import { InitSeeds, buildEncoder } from './encoders.js';
import { checkQNetworkSpec, type HeadSpec, type QNetworkSpec } from './specs.js';

/**
 * Fixed (non-trainable) kernel mapping [V, A_1..A_n] to Q_i = V + A_i - mean(A): the dueling
 * combination expressed as a stock Dense layer.
 */
function duelingKernel(n: number): Float32Array {
  const k = new Float32Array((n + 1) * n);
  for (let i = 0; i < n; i++) {
    k[i] = 1;
    for (let j = 0; j < n; j++) k[(1 + j) * n + i] = (i === j ? 1 : 0) - 1 / n;
  }
  return k;
}

function headLayers(features: tf.SymbolicTensor, numActions: number, head: HeadSpec, seeds: InitSeeds): tf.SymbolicTensor {
  if (head.kind === 'q') return tf.layers.dense({ units: numActions, kernelInitializer: seeds.kernel(), biasInitializer: 'zeros' }).apply(features) as tf.SymbolicTensor;
  const value = tf.layers.dense({ units: 1, kernelInitializer: seeds.kernel(), biasInitializer: 'zeros' }).apply(features) as tf.SymbolicTensor;
  const adv = tf.layers.dense({ units: numActions, kernelInitializer: seeds.kernel(), biasInitializer: 'zeros' }).apply(features) as tf.SymbolicTensor;
  const both = tf.layers.concatenate().apply([value, adv]) as tf.SymbolicTensor;
  const combine = tf.layers.dense({ units: numActions, useBias: false, trainable: false, kernelInitializer: 'zeros' });
  const output = combine.apply(both) as tf.SymbolicTensor;
  const kernel = tf.tensor2d(duelingKernel(numActions), [numActions + 1, numActions]);
  combine.setWeights([kernel]);
  kernel.dispose();
  return output;
}

/** Builds a Q-network (input: float32 observations; output: one Q-value per action). The caller owns the model. */
export function buildQNetwork(spec: QNetworkSpec): tf.LayersModel {
  checkQNetworkSpec(spec);
  const seeds = new InitSeeds(spec.seed);
  const input = tf.input({ shape: spec.inputShape, dtype: 'float32' });
  const features = buildEncoder(input, spec.encoder, { seeds, layout: spec.layout });
  return tf.model({ inputs: input, outputs: headLayers(features, spec.numActions, spec.head, seeds) });
}

/**
 * The two halves of a Q-network built separately, for a recurrent core between them (DRQN):
 * encoder (observations -> features) and head (a `headInput`-sized vector -> Q-values). Same
 * layers and seeding as `buildQNetwork`. The caller owns both models.
 */
export function buildQNetworkParts(spec: QNetworkSpec, headInput: number | 'features'): { encoder: tf.LayersModel; head: tf.LayersModel; featureSize: number } {
  checkQNetworkSpec(spec);
  const seeds = new InitSeeds(spec.seed);
  const input = tf.input({ shape: spec.inputShape, dtype: 'float32' });
  const features = buildEncoder(input, spec.encoder, { seeds, layout: spec.layout });
  const featureSize = features.shape[features.shape.length - 1] as number;
  const encoder = tf.model({ inputs: input, outputs: features });
  const headIn = tf.input({ shape: [headInput === 'features' ? featureSize : headInput], dtype: 'float32' });
  const head = tf.model({ inputs: headIn, outputs: headLayers(headIn, spec.numActions, spec.head, seeds) });
  return { encoder, head, featureSize };
}

/** Copies every weight of `from` into `to` (same architecture), e.g. online -> target network. */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  const src = from.weights;
  const dst = to.weights;
  for (let i = 0; i < src.length; i++) dst[i]!.write(src[i]!.read());
}

/** Polyak averaging: target <- tau * online + (1 - tau) * target, trainable weights only. */
export function polyakUpdate(from: tf.LayersModel, to: tf.LayersModel, tau: number): void {
  tf.tidy(() => {
    const src = from.trainableWeights;
    const dst = to.trainableWeights;
    for (let i = 0; i < src.length; i++) dst[i]!.write(tf.add(tf.mul(src[i]!.read(), tau), tf.mul(dst[i]!.read(), 1 - tau)));
  });
}
