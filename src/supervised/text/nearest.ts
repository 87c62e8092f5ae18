/** Nearest words by cosine similarity in a learned embedding table (`npcforge embeddings <run> nearest <word>`). */
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { splitWords } from './tokenizer.js';

/** One neighbour. */
export interface Neighbour {
  word: string;
  /** Cosine similarity in [-1, 1]. */
  similarity: number;
}

/**
 * The `k` words of `vocab` whose rows of `table` ([rows >= vocab.length, dim], row-major) are most
 * cosine-similar to `word`'s, best first (ties: vocabulary order). `<pad>`/`<oov>` (ids 0, 1) and
 * the word itself are never returned.
 */
export function nearestWords(table: Float32Array, dim: number, vocab: readonly string[], word: string, k: number): Neighbour[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new InvalidConfigError(formatError('embeddings nearest', '--k a positive integer', describe(k), 'pass e.g. --k 10'));
  const tokens = splitWords(word);
  const id = tokens.length === 1 ? vocab.indexOf(tokens[0]!) : -1;
  if (id < 2) {
    throw new InvalidConfigError(formatError('embeddings nearest', `a word of the run's vocabulary (${Math.max(0, vocab.length - 2)} words seen in training)`, `${describe(word)}, which is not in it`, 'pick a word from the training texts (lowercase)'));
  }
  const norm = (i: number): number => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += table[i * dim + j]! ** 2;
    return Math.sqrt(s);
  };
  const n0 = norm(id);
  const out: Neighbour[] = [];
  for (let i = 2; i < vocab.length; i++) {
    if (i === id) continue;
    let d = 0;
    for (let j = 0; j < dim; j++) d += table[id * dim + j]! * table[i * dim + j]!;
    const ni = norm(i);
    out.push({ word: vocab[i]!, similarity: n0 > 0 && ni > 0 ? d / (n0 * ni) : 0 });
  }
  // Stable sort: equal similarities keep vocabulary order.
  return out.sort((a, b) => b.similarity - a.similarity).slice(0, k);
}
