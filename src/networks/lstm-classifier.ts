/** Recurrent classifiers: LSTM/GRU over feature sequences (speech) or token ids (text). */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';

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
}

export const DEFAULT_SEQUENCE_CLASSIFIER = { cell: 'gru' as const, units: 96, convFilters: 64, convKernel: 5, poolSize: 3, dropout: 0.3 };

function recurrent(cell: 'lstm' | 'gru', units: number): tf.layers.Layer {
  if (cell !== 'lstm' && cell !== 'gru') throw new InvalidConfigError(formatError('recurrent classifier', "cell 'lstm' or 'gru'", describe(cell), 'pick one of them'));
  return cell === 'lstm' ? tf.layers.lstm({ units }) : tf.layers.gru({ units });
}

/** [optional conv1d + pool] -> LSTM/GRU -> dropout -> logits. */
export function buildSequenceClassifier(partial: Pick<SequenceClassifierConfig, 'inputShape' | 'numClasses'> & Partial<SequenceClassifierConfig>): tf.LayersModel {
  const c: SequenceClassifierConfig = { ...DEFAULT_SEQUENCE_CLASSIFIER, ...partial };
  const input = tf.input({ shape: c.inputShape });
  let x: tf.SymbolicTensor = input;
  if (c.convFilters > 0) {
    x = tf.layers.conv1d({ filters: c.convFilters, kernelSize: c.convKernel, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
    if (c.poolSize > 1) x = tf.layers.maxPooling1d({ poolSize: c.poolSize, strides: c.poolSize }).apply(x) as tf.SymbolicTensor;
  }
  x = recurrent(c.cell, c.units).apply(x) as tf.SymbolicTensor;
  if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: c.numClasses }).apply(x) as tf.SymbolicTensor;
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
}

export const DEFAULT_TOKEN_RNN_CLASSIFIER = { cell: 'lstm' as const, embeddingDim: 64, units: 64, dropout: 0.3 };

/**
 * Embedding -> LSTM/GRU -> dropout -> logits. Expects pre-padded ids (padding before the text), so
 * the final state is reached right after the last real token without relying on masks.
 */
export function buildTokenRnnClassifier(partial: Pick<TokenRnnClassifierConfig, 'vocabSize' | 'maxLen' | 'numClasses'> & Partial<TokenRnnClassifierConfig>): tf.LayersModel {
  const c: TokenRnnClassifierConfig = { ...DEFAULT_TOKEN_RNN_CLASSIFIER, ...partial };
  const ids = tf.input({ shape: [c.maxLen], dtype: 'int32', name: 'token_ids' });
  let x = tf.layers.embedding({ inputDim: c.vocabSize, outputDim: c.embeddingDim }).apply(ids) as tf.SymbolicTensor;
  x = recurrent(c.cell, c.units).apply(x) as tf.SymbolicTensor;
  if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: c.numClasses }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: ids, outputs: logits });
}
