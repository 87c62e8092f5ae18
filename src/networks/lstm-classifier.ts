/** Recurrent classifiers: LSTM/GRU over feature sequences (speech) or token ids (text). */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';

type Init = ReturnType<typeof tf.initializers.glorotUniform>;

/** Architecture of a recurrent sequence classifier over feature frames. */
export interface SequenceClassifierConfig {
  /** Input [time steps, features per step]. */
  inputShape: [number, number];
  numClasses: number;
  /** Recurrent cell. */
  cell: 'lstm' | 'gru';
  /** Units of the recurrent layer. */
  units: number;
  /** Filters of the 1-D conv front end (0 = none); it is followed by max-pooling over `poolSize` steps. */
  convFilters: number;
  /** Conv kernel width, time steps. */
  convKernel: number;
  /** Time pooling after the conv front end, steps (shortens the sequence the RNN unrolls over). */
  poolSize: number;
  /** Dropout before the logits. */
  dropout: number;
  /** Seed of the weight initialisers (omitted: unseeded). */
  seed?: number;
}

export const DEFAULT_SEQUENCE_CLASSIFIER = { cell: 'gru' as const, units: 96, convFilters: 64, convKernel: 5, poolSize: 3, dropout: 0.3 };

/** Initialiser options of layer `k` for a seeded build (the same seed gives the same weights), or none. */
function seeded(seed: number | undefined, k: number): { kernelInitializer?: Init; recurrentInitializer?: Init; embeddingsInitializer?: Init } {
  if (seed === undefined) return {};
  const s = seed * 7919 + k * 104729;
  return { kernelInitializer: tf.initializers.glorotUniform({ seed: s }), recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: s + 1 }), embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: s + 2 }) };
}

function recurrent(cell: 'lstm' | 'gru', units: number, seed: number | undefined): tf.layers.Layer {
  if (cell !== 'lstm' && cell !== 'gru') throw new InvalidConfigError(formatError('recurrent classifier', "cell 'lstm' or 'gru'", describe(cell), 'pick one of them'));
  const { kernelInitializer, recurrentInitializer } = seeded(seed, 1);
  const init = seed === undefined ? {} : { kernelInitializer, recurrentInitializer };
  return cell === 'lstm' ? tf.layers.lstm({ units, ...init }) : tf.layers.gru({ units, ...init });
}

/** [optional conv1d + pool] -> LSTM/GRU -> dropout -> logits. */
export function buildSequenceClassifier(partial: Pick<SequenceClassifierConfig, 'inputShape' | 'numClasses'> & Partial<SequenceClassifierConfig>): tf.LayersModel {
  const c: SequenceClassifierConfig = { ...DEFAULT_SEQUENCE_CLASSIFIER, ...partial };
  const input = tf.input({ shape: c.inputShape });
  let x: tf.SymbolicTensor = input;
  if (c.convFilters > 0) {
    const init = c.seed === undefined ? {} : { kernelInitializer: seeded(c.seed, 0).kernelInitializer };
    x = tf.layers.conv1d({ filters: c.convFilters, kernelSize: c.convKernel, padding: 'same', activation: 'relu', ...init }).apply(x) as tf.SymbolicTensor;
    if (c.poolSize > 1) x = tf.layers.maxPooling1d({ poolSize: c.poolSize, strides: c.poolSize }).apply(x) as tf.SymbolicTensor;
  }
  x = recurrent(c.cell, c.units, c.seed).apply(x) as tf.SymbolicTensor;
  if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  const dense = c.seed === undefined ? {} : { kernelInitializer: seeded(c.seed, 2).kernelInitializer };
  const logits = tf.layers.dense({ units: c.numClasses, ...dense }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

/** Architecture of the recurrent text classifier (the Transformer's baseline). */
export interface TokenRnnClassifierConfig {
  vocabSize: number;
  maxLen: number;
  numClasses: number;
  cell: 'lstm' | 'gru';
  /** Embedding width. */
  embeddingDim: number;
  /** Units of the recurrent layer. */
  units: number;
  dropout: number;
  /** Seed of the weight initialisers (omitted: unseeded). */
  seed?: number;
}

export const DEFAULT_TOKEN_RNN_CLASSIFIER = { cell: 'lstm' as const, embeddingDim: 64, units: 64, dropout: 0.3 };

/**
 * Embedding -> LSTM/GRU -> dropout -> logits. Expects pre-padded ids (padding before the text), so
 * the final state is reached right after the last real token without relying on masks.
 */
export function buildTokenRnnClassifier(partial: Pick<TokenRnnClassifierConfig, 'vocabSize' | 'maxLen' | 'numClasses'> & Partial<TokenRnnClassifierConfig>): tf.LayersModel {
  const c: TokenRnnClassifierConfig = { ...DEFAULT_TOKEN_RNN_CLASSIFIER, ...partial };
  const ids = tf.input({ shape: [c.maxLen], dtype: 'int32', name: 'token_ids' });
  const emb = c.seed === undefined ? {} : { embeddingsInitializer: seeded(c.seed, 0).embeddingsInitializer };
  let x = tf.layers.embedding({ inputDim: c.vocabSize, outputDim: c.embeddingDim, ...emb }).apply(ids) as tf.SymbolicTensor;
  x = recurrent(c.cell, c.units, c.seed).apply(x) as tf.SymbolicTensor;
  if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  const dense = c.seed === undefined ? {} : { kernelInitializer: seeded(c.seed, 2).kernelInitializer };
  const logits = tf.layers.dense({ units: c.numClasses, ...dense }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: ids, outputs: logits });
}
