/**
 * Bag-of-n-grams features for the linear text models: word unigrams and bigrams (same word split
 * as the tokenizer), a document-frequency vocabulary fitted on the training texts, and one of three
 * term weightings, rows L2-normalised. Rows are sparse (CSR in typed arrays): a sentence touches a
 * few dozen of tens of thousands of columns.
 */
import { CheckpointError, InvalidConfigError, UnsupportedVersionError, describe, formatError } from '../../errors.js';
import { splitWords } from './tokenizer.js';

/**
 * How a term's count becomes its value: `count` = raw count (bag of words), `tfidf` = sublinear
 * tf times smoothed idf, `binary` = presence (the input of NB weighting, Wang & Manning 2012).
 */
export type TermWeighting = 'count' | 'tfidf' | 'binary';

/** Vectorizer settings. */
export interface NgramConfig {
  /** Longest n-gram, words (1 = unigrams, 2 = unigrams + bigrams). */
  maxN: number;
  /** Terms in fewer training texts than this are dropped. */
  minDf: number;
  /** Largest vocabulary (most frequent terms by document frequency kept). */
  maxFeatures: number;
  weighting: TermWeighting;
}

export const DEFAULT_NGRAM_CONFIG: NgramConfig = { maxN: 2, minDf: 1, maxFeatures: 200_000, weighting: 'tfidf' };

/** Rows of a sparse matrix: row i holds `indices/values[indptr[i] .. indptr[i+1])`, columns ascending. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** Saved form of a vectorizer. */
export interface NgramVectorizerJson {
  format: 'npcforge-ngram-vectorizer';
  version: 1;
  config: NgramConfig;
  vocab: string[];
  /** Per-term idf (tfidf weighting only). */
  idf: number[] | null;
}

/** Resolves vectorizer settings, reporting every bad field at once. */
export function resolveNgramConfig(partial: Partial<NgramConfig> = {}): NgramConfig {
  const c = { ...DEFAULT_NGRAM_CONFIG, ...partial };
  const bad: string[] = [];
  if (!(Number.isInteger(c.maxN) && c.maxN >= 1 && c.maxN <= 3)) bad.push(`maxN=${describe(c.maxN)} (1, 2 or 3)`);
  if (!(Number.isInteger(c.minDf) && c.minDf >= 1)) bad.push(`minDf=${describe(c.minDf)} (an integer >= 1)`);
  if (!(Number.isInteger(c.maxFeatures) && c.maxFeatures >= 1 && c.maxFeatures <= 5_000_000)) bad.push(`maxFeatures=${describe(c.maxFeatures)} (1..5000000)`);
  if (!['count', 'tfidf', 'binary'].includes(c.weighting)) bad.push(`weighting=${describe(c.weighting)} ('count', 'tfidf' or 'binary')`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('NgramConfig', 'valid n-gram settings', bad.join('; '), 'fix the listed fields'));
  return c;
}

/** The n-grams (1..maxN words, joined by a space) of a text, in order, repeats kept. */
export function textNgrams(text: string, maxN: number): string[] {
  const words = splitWords(text);
  const out: string[] = [...words];
  for (let n = 2; n <= maxN; n++) for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(' '));
  return out;
}

/** Turns texts into L2-normalised sparse rows over a vocabulary fitted on training texts. */
export class NgramVectorizer {
  private readonly index: Map<string, number>;

  private constructor(readonly config: NgramConfig, readonly vocab: string[], readonly idf: Float64Array | null) {
    this.index = new Map(vocab.map((t, i) => [t, i]));
  }

  /** Fits the vocabulary (document frequency descending, ties alphabetical: deterministic) and the idf. */
  static fit(texts: string[], partial: Partial<NgramConfig> = {}): NgramVectorizer {
    const config = resolveNgramConfig(partial);
    const df = new Map<string, number>();
    for (const t of texts) for (const g of new Set(textNgrams(t, config.maxN))) df.set(g, (df.get(g) ?? 0) + 1);
    const kept = [...df.entries()].filter(([, n]) => n >= config.minDf).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, config.maxFeatures);
    // Smoothed idf as in scikit-learn: ln((1 + n) / (1 + df)) + 1, so a term in every text keeps weight 1.
    const idf = config.weighting === 'tfidf' ? Float64Array.from(kept, ([, d]) => Math.log((1 + texts.length) / (1 + d)) + 1) : null;
    return new NgramVectorizer(config, kept.map(([t]) => t), idf);
  }

  /** Restores a vectorizer saved with `toJSON` (untrusted: every field checked). */
  static fromJSON(json: NgramVectorizerJson, source = 'the vectorizer'): NgramVectorizer {
    const fix = 'refit the run with `npcforge fit text`';
    if (json?.format !== 'npcforge-ngram-vectorizer') throw new CheckpointError(formatError('NgramVectorizer.fromJSON', "format 'npcforge-ngram-vectorizer'", `${describe(json?.format)} in ${source}`, fix));
    if (json.version !== 1) throw new UnsupportedVersionError(formatError('NgramVectorizer.fromJSON', 'version 1', `${describe(json.version)} in ${source}`, 'upgrade npcforge'));
    const config = resolveNgramConfig(json.config);
    if (!Array.isArray(json.vocab) || json.vocab.length > config.maxFeatures || !json.vocab.every((t) => typeof t === 'string')) {
      throw new CheckpointError(formatError('NgramVectorizer.fromJSON', `a vocabulary of at most ${config.maxFeatures} strings`, `${Array.isArray(json.vocab) ? `${json.vocab.length} entries` : describe(json.vocab)} in ${source}`, fix));
    }
    let idf: Float64Array | null = null;
    if (config.weighting === 'tfidf') {
      if (!Array.isArray(json.idf) || json.idf.length !== json.vocab.length || !json.idf.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new CheckpointError(formatError('NgramVectorizer.fromJSON', `${json.vocab.length} finite idf values`, `${Array.isArray(json.idf) ? `${json.idf.length} values` : describe(json.idf)} in ${source}`, fix));
      }
      idf = Float64Array.from(json.idf);
    }
    return new NgramVectorizer(config, json.vocab, idf);
  }

  get numFeatures(): number {
    return this.vocab.length;
  }

  /** Sparse rows of `texts` (unknown n-grams ignored; an empty row stays all zero). */
  transform(texts: string[]): CsrMatrix {
    const indptr = new Int32Array(texts.length + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    const counts = new Map<number, number>();
    texts.forEach((t, r) => {
      counts.clear();
      for (const g of textNgrams(t, this.config.maxN)) {
        const j = this.index.get(g);
        if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
      }
      const js = [...counts.keys()].sort((a, b) => a - b);
      const row = js.map((j) => {
        const n = counts.get(j)!;
        if (this.config.weighting === 'binary') return 1;
        if (this.config.weighting === 'count') return n;
        return (1 + Math.log(n)) * this.idf![j]!;
      });
      const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
      for (let k = 0; k < js.length; k++) {
        cols.push(js[k]!);
        vals.push(norm > 0 ? row[k]! / norm : 0);
      }
      indptr[r + 1] = cols.length;
    });
    return { rows: texts.length, cols: this.vocab.length, indptr, indices: Int32Array.from(cols), values: Float64Array.from(vals) };
  }

  toJSON(): NgramVectorizerJson {
    return { format: 'npcforge-ngram-vectorizer', version: 1, config: { ...this.config }, vocab: [...this.vocab], idf: this.idf === null ? null : Array.from(this.idf) };
  }
}
