/**
 * fastText-style text classifier (Joulin et al. 2017, "Bag of Tricks for Efficient Text
 * Classification"): the mean of the embeddings of a text's words and hashed word bigrams, then one
 * linear layer. No hidden layer, no order beyond bigrams: fast, and its word vectors can be
 * inspected (`npcforge embeddings <run> nearest <word>`).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';
import { MaskedMeanPooling } from './transformer.js';

/** Name of the embedding layer, so tools can find the word vectors in a saved model. */
export const EMBEDDING_BAG_LAYER = 'word_embeddings';

/** Architecture of the embedding-bag classifier. */
export interface EmbeddingBagConfig {
  /** Rows of the embedding table: word vocabulary plus bigram buckets. */
  vocabSize: number;
  /** Ids per text (words, then bigrams; 0 = padding). */
  sequenceLength: number;
  numClasses: number;
  /** Embedding width. */
  dim: number;
  /** Initial vectors, row-major [vocabSize, dim] (e.g. rows from a GloVe file); null = uniform(-1/dim, 1/dim) as fastText. */
  initialEmbeddings: Float32Array | null;
  /** Seed of the weight initialisers (omitted: unseeded). */
  seed?: number;
}

export const DEFAULT_EMBEDDING_BAG = { dim: 64, initialEmbeddings: null };

/** Embedding -> masked mean over the ids -> logits. */
export function buildEmbeddingBagClassifier(partial: Pick<EmbeddingBagConfig, 'vocabSize' | 'sequenceLength' | 'numClasses'> & Partial<EmbeddingBagConfig>): tf.LayersModel {
  const c: EmbeddingBagConfig = { ...DEFAULT_EMBEDDING_BAG, ...partial };
  if (!(Number.isInteger(c.dim) && c.dim >= 1 && c.dim <= 4096)) throw new InvalidConfigError(formatError('buildEmbeddingBagClassifier', 'dim in 1..4096', describe(c.dim), 'pass a smaller --network dim'));
  if (c.initialEmbeddings !== null && c.initialEmbeddings.length !== c.vocabSize * c.dim) {
    throw new InvalidConfigError(formatError('buildEmbeddingBagClassifier', `${c.vocabSize} x ${c.dim} initial embeddings`, `${c.initialEmbeddings.length} values`, 'build the table for this vocabulary'));
  }
  const ids = tf.input({ shape: [c.sequenceLength], dtype: 'int32', name: 'token_ids' });
  const seed = (k: number) => (c.seed === undefined ? {} : { seed: c.seed * 7919 + k });
  const table = tf.layers.embedding({
    name: EMBEDDING_BAG_LAYER,
    inputDim: c.vocabSize,
    outputDim: c.dim,
    embeddingsInitializer: tf.initializers.randomUniform({ minval: -1 / c.dim, maxval: 1 / c.dim, ...seed(1) }),
  });
  const x = table.apply(ids) as tf.SymbolicTensor;
  const pooled = new MaskedMeanPooling().apply([x, ids]) as tf.SymbolicTensor;
  // fastText starts its output layer at zero; glorot (seeded) learns the same here and keeps the layer's usual init.
  const logits = tf.layers.dense({ units: c.numClasses, kernelInitializer: tf.initializers.glorotUniform(seed(2)) }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: ids, outputs: logits });
  if (c.initialEmbeddings !== null) {
    const init = tf.tensor2d(c.initialEmbeddings, [c.vocabSize, c.dim]);
    table.setWeights([init]); // copies into the layer's variable
    init.dispose();
  }
  return model;
}
