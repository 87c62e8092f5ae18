/**
 * Word-level tokenizer: lowercases, splits into words/numbers (apostrophes kept inside words),
 * maps words to ids by training-set frequency. Id 0 = padding, id 1 = out-of-vocabulary.
 * Serialises to JSON so a run reloads exactly the vocabulary its model was trained with.
 */
import { InvalidConfigError, UnsupportedVersionError, describe, formatError } from '../../errors.js';

export const PAD_TOKEN = '<pad>';
export const OOV_TOKEN = '<oov>';

/** Tokenizer settings. */
export interface TokenizerConfig {
  /** Largest vocabulary including `<pad>` and `<oov>`. */
  maxVocab: number;
  /** Words seen fewer times than this in training map to `<oov>`. */
  minCount: number;
  /** Sequence length after padding/truncation, tokens. */
  maxLen: number;
  /** Where padding goes: `post` (after the text; Transformer) or `pre` (before; RNN final state). */
  padding: 'pre' | 'post';
  /** Which end is cut when a text is too long. */
  truncation: 'pre' | 'post';
  /**
   * Hashed word-bigram buckets (fastText's "wordNgrams 2"); 0 = none. When set, a sequence is
   * `maxLen` word ids followed by `maxLen` bigram ids, bigram ids in `[vocabSize, vocabSize + buckets)`.
   */
  bigramBuckets: number;
}

export const DEFAULT_TOKENIZER_CONFIG: TokenizerConfig = { maxVocab: 10000, minCount: 1, maxLen: 64, padding: 'post', truncation: 'post', bigramBuckets: 0 };

/** FNV-1a 32-bit hash of a string's UTF-16 code units: stable across runs and platforms. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Saved form of a tokenizer. */
export interface TokenizerJson {
  format: 'npcforge-tokenizer';
  /** 2 when bigram buckets are used (older readers would drop them silently), else 1. */
  version: 1 | 2;
  config: TokenizerConfig;
  vocab: string[];
}

/** Splits text into lowercase word tokens. */
export function splitWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?|[!?$]/g) ?? [];
}

/** Resolves tokenizer settings, reporting every bad field at once. */
export function resolveTokenizerConfig(partial: Partial<TokenizerConfig> = {}): TokenizerConfig {
  const c = { ...DEFAULT_TOKENIZER_CONFIG, ...partial };
  const bad: string[] = [];
  if (!(Number.isInteger(c.maxVocab) && c.maxVocab >= 3)) bad.push(`maxVocab=${describe(c.maxVocab)} (>= 3)`);
  if (!(Number.isInteger(c.minCount) && c.minCount >= 1)) bad.push(`minCount=${describe(c.minCount)} (>= 1)`);
  if (!(Number.isInteger(c.maxLen) && c.maxLen >= 1)) bad.push(`maxLen=${describe(c.maxLen)} (>= 1)`);
  if (c.padding !== 'pre' && c.padding !== 'post') bad.push(`padding=${describe(c.padding)}`);
  if (c.truncation !== 'pre' && c.truncation !== 'post') bad.push(`truncation=${describe(c.truncation)}`);
  if (!(Number.isInteger(c.bigramBuckets) && c.bigramBuckets >= 0 && c.bigramBuckets <= 10_000_000)) bad.push(`bigramBuckets=${describe(c.bigramBuckets)} (0..10000000)`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('TokenizerConfig', 'valid tokenizer settings', bad.join('; '), 'fix the listed fields'));
  return c;
}

/** Word-level tokenizer with a fixed vocabulary. */
export class WordTokenizer {
  private readonly index: Map<string, number>;

  private constructor(readonly config: TokenizerConfig, readonly vocab: string[]) {
    this.index = new Map(vocab.map((w, i) => [w, i]));
  }

  /** Builds the vocabulary from training texts (most frequent first, ties alphabetical). */
  static fit(texts: string[], partial: Partial<TokenizerConfig> = {}): WordTokenizer {
    const config = resolveTokenizerConfig(partial);
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of splitWords(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts.entries()].filter(([, n]) => n >= config.minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, config.maxVocab - 2).map(([w]) => w);
    return new WordTokenizer(config, [PAD_TOKEN, OOV_TOKEN, ...words]);
  }

  /** Restores a tokenizer saved with `toJSON`. */
  static fromJSON(json: TokenizerJson): WordTokenizer {
    if (json?.format !== 'npcforge-tokenizer') throw new InvalidConfigError(formatError('WordTokenizer.fromJSON', "format 'npcforge-tokenizer'", describe(json?.format), 'load a tokenizer.json written by npcforge'));
    if (json.version !== 1 && json.version !== 2) throw new UnsupportedVersionError(formatError('WordTokenizer.fromJSON', 'version 1 or 2', describe(json.version), 'upgrade npcforge'));
    const config = resolveTokenizerConfig({ ...json.config, bigramBuckets: json.version === 2 ? json.config?.bigramBuckets : 0 });
    if (!Array.isArray(json.vocab) || json.vocab.length > config.maxVocab || !json.vocab.every((w) => typeof w === 'string')) {
      throw new InvalidConfigError(formatError('WordTokenizer.fromJSON', `a vocabulary of at most ${config.maxVocab} strings`, Array.isArray(json.vocab) ? `${json.vocab.length} entries` : describe(json.vocab), 'load a tokenizer.json written by npcforge'));
    }
    return new WordTokenizer(config, json.vocab);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Ids per encoded text: `maxLen`, doubled with bigram buckets. */
  get sequenceLength(): number {
    return this.config.bigramBuckets > 0 ? 2 * this.config.maxLen : this.config.maxLen;
  }

  /** Id of a word (`<oov>`'s 1 when unknown). */
  idOf(word: string): number {
    return this.index.get(word) ?? 1;
  }

  /** Ids of a text's words, unpadded (unknown words -> 1). */
  tokenize(text: string): number[] {
    return splitWords(text).map((w) => this.index.get(w) ?? 1);
  }

  /** Fixed-length ids of one text (padded/truncated per the config). */
  encode(text: string): Int32Array {
    const { maxLen, padding, truncation, bigramBuckets } = this.config;
    let words = splitWords(text);
    if (words.length > maxLen) words = truncation === 'post' ? words.slice(0, maxLen) : words.slice(words.length - maxLen);
    const ids = words.map((w) => this.index.get(w) ?? 1);
    const out = new Int32Array(this.sequenceLength);
    out.set(ids, padding === 'post' ? 0 : maxLen - ids.length);
    if (bigramBuckets > 0) {
      // Bigrams of the words themselves (an unknown pair of known words still gets its bucket).
      const bigrams = words.slice(1).map((w, i) => this.vocab.length + (fnv1a(`${words[i]} ${w}`) % bigramBuckets));
      out.set(bigrams, maxLen + (padding === 'post' ? 0 : maxLen - bigrams.length));
    }
    return out;
  }

  /** Ids of many texts, row-major [texts, sequenceLength]. */
  encodeBatch(texts: string[]): Int32Array {
    const n = this.sequenceLength;
    const out = new Int32Array(texts.length * n);
    texts.forEach((t, i) => out.set(this.encode(t), i * n));
    return out;
  }

  toJSON(): TokenizerJson {
    return { format: 'npcforge-tokenizer', version: this.config.bigramBuckets > 0 ? 2 : 1, config: { ...this.config }, vocab: [...this.vocab] };
  }
}
