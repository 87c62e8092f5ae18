/**
 * Reads word vectors in the GloVe text format (`word v1 v2 ... vd` per line, space separated; a
 * word2vec-style first line `count dim` is skipped) for the words of a vocabulary only. The file is
 * the user's and untrusted: a regular file within `maxBytes`, read in chunks with a cap on the line
 * length (a file without newlines cannot fill the memory), every vector checked (width, finite
 * numbers). Memory: the kept rows, vocabulary x dim floats, plus one line.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DatasetError, formatError } from '../../errors.js';

/** Limits of `readWordVectors`. */
export interface WordVectorLimits {
  /** Largest file, bytes (GloVe 840B, 300d, is 5.6 GB). */
  maxBytes: number;
  /** Longest line, bytes (a 300-d GloVe line is about 3 KB). */
  maxLineBytes: number;
  /** Widest vector. */
  maxDim: number;
}

export const DEFAULT_WORD_VECTOR_LIMITS: WordVectorLimits = { maxBytes: 8 * 1024 ** 3, maxLineBytes: 256 * 1024, maxDim: 1024 };

/** Vectors of the vocabulary words found in a file. */
export interface WordVectors {
  dim: number;
  /** Row-major [vocab.length, dim]; rows of words not in the file are zero. */
  vectors: Float32Array;
  /** 1 where the word's row came from the file. */
  found: Uint8Array;
  /** Lines with a vector read (all of them, not only the kept ones). */
  lines: number;
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Reads the vectors of `vocab`'s words from `path`; the first occurrence of a word wins. */
export async function readWordVectors(path: string, vocab: readonly string[], partialLimits: Partial<WordVectorLimits> = {}): Promise<WordVectors> {
  const limits = { ...DEFAULT_WORD_VECTOR_LIMITS, ...partialLimits };
  const fail = (expected: string, received: string, fix = 'pass a GloVe text file: one `word v1 ... vd` line per word'): never => {
    throw new DatasetError(formatError('readWordVectors', expected, received, fix));
  };
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    return fail('an existing embedding file', `${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, 'check the --embeddings path');
  }
  if (!st.isFile()) fail('a regular file', `${JSON.stringify(path)}, which is not one`, 'check the --embeddings path');
  if (st.size > limits.maxBytes) fail(`a file of at most ${limits.maxBytes} bytes`, `${JSON.stringify(path)} of ${st.size} bytes`, 'keep only the words you need in the file');
  const index = new Map<string, number>();
  vocab.forEach((w, i) => {
    if (!index.has(w)) index.set(w, i);
  });
  let dim = 0;
  let vectors = new Float32Array(0);
  const found = new Uint8Array(vocab.length);
  let lineNo = 0;
  let lines = 0;
  const where = () => `${JSON.stringify(path)} line ${lineNo}`;
  const parseLine = (line: string): void => {
    lineNo++;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    const parts = text.trim().split(/[ \t]+/);
    if (lineNo === 1 && parts.length === 2 && /^\d+$/.test(parts[0]!) && /^\d+$/.test(parts[1]!)) return; // word2vec header
    if (dim === 0) {
      dim = parts.length - 1;
      if (dim < 1 || dim > limits.maxDim) fail(`a word and 1..${limits.maxDim} numbers per line`, `${parts.length - 1} numbers in ${where()}`);
      vectors = new Float32Array(vocab.length * dim);
    }
    if (parts.length !== dim + 1) fail(`${dim} numbers after the word (the width of the first vector)`, `${parts.length - 1} in ${where()}`);
    lines++;
    const row = index.get(parts[0]!);
    const values = new Float32Array(dim);
    for (let j = 0; j < dim; j++) {
      const tok = parts[j + 1]!;
      const v = Number(tok);
      if (!NUMBER.test(tok) || !Number.isFinite(v) || !Number.isFinite(Math.fround(v))) fail('finite decimal numbers', `a non-number at column ${j + 2} of ${where()}`);
      values[j] = v;
    }
    if (row === undefined || found[row]) return;
    vectors.set(values, row * dim);
    found[row] = 1;
  };
  // Lines are cut from raw chunks so a line is held at most once, and never beyond maxLineBytes.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        const end = nl < 0 ? chunk.length : nl;
        pendingBytes += end - start;
        if (pendingBytes > limits.maxLineBytes) fail(`lines of at most ${limits.maxLineBytes} bytes`, `a longer line at ${JSON.stringify(path)} line ${lineNo + 1}`);
        pending.push(chunk.subarray(start, end));
        if (nl < 0) break;
        parseLine(Buffer.concat(pending).toString('utf8'));
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
      }
    }
  } finally {
    stream.destroy();
  }
  if (pendingBytes > 0) parseLine(Buffer.concat(pending).toString('utf8'));
  if (lines === 0) fail('at least one word vector', `none in ${JSON.stringify(path)}`);
  return { dim, vectors, found, lines };
}
