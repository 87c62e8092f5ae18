import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupervisedRun, fitTask } from '../../src/supervised/run.js';
import { readWordVectors } from '../../src/supervised/text/glove.js';
import { nearestWords } from '../../src/supervised/text/nearest.js';
import { WordTokenizer, fnv1a } from '../../src/supervised/text/tokenizer.js';
import { SeededRng } from '../../src/envs/rng.js';
import { DatasetError, InvalidConfigError } from '../../src/errors.js';
import { runCli } from '../helpers/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'npcforge-ebag-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const POSITIVE = ['good', 'great', 'fine'];
const NEGATIVE = ['bad', 'awful', 'poor'];
const FILLER = ['the', 'movie', 'was', 'it', 'really', 'so'];

/**
 * A corpus built so the neighbours are known: every text is three filler words (the same in both
 * classes) and one class word, so the class words of one class get the same gradient and end up
 * each other's nearest neighbours, and the fillers carry no signal.
 */
beforeAll(() => {
  const rng = new SeededRng(1);
  for (const split of ['train', 'test']) {
    for (const [label, words] of [['positive', POSITIVE], ['negative', NEGATIVE]] as const) {
      mkdirSync(join(root, 'tiny', split, label), { recursive: true });
      for (let i = 0; i < (split === 'train' ? 90 : 12); i++) {
        const text = [0, 1, 2].map(() => FILLER[rng.int(0, FILLER.length)]!);
        text.splice(rng.int(0, 4), 0, words[i % 3]!);
        writeFileSync(join(root, 'tiny', split, label, `${i}.txt`), text.join(' '));
      }
    }
  }
});

const tinyFit = (out: string, extra: Partial<Parameters<typeof fitTask>[0]> = {}) =>
  fitTask({ task: 'text', data: join(root, 'tiny'), model: 'embedding-bag', out, seed: 2, epochs: 15, maxLen: 8, network: { dim: 8, bigramBuckets: 32 }, fit: { patience: 0 }, progress: null, ...extra });

describe('tokenizer with hashed bigrams', () => {
  it('appends bigram ids after the word ids (FNV-1a bucket past the vocabulary), version 2 on disk', () => {
    const t = WordTokenizer.fit(['a b c'], { maxLen: 4, bigramBuckets: 7 });
    const v = t.vocabSize; // <pad>, <oov>, a, b, c
    expect(Array.from(t.encode('a b zz'))).toEqual([2, 3, 1, 0, v + (fnv1a('a b') % 7), v + (fnv1a('b zz') % 7), 0, 0]);
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c); // the published FNV-1a test vector
    const json = t.toJSON();
    expect(json.version).toBe(2);
    expect(Array.from(WordTokenizer.fromJSON(json).encode('a b zz'))).toEqual(Array.from(t.encode('a b zz')));
    expect(WordTokenizer.fit(['a'], {}).toJSON().version).toBe(1);
  });
});

describe('nearest words', () => {
  it('ranks by cosine similarity (hand-computed), skips <pad>/<oov> and the word itself', () => {
    const vocab = ['<pad>', '<oov>', 'a', 'b', 'c', 'd'];
    // rows: pad, oov (identical to a: must never be returned), a=(1,0), b=(1,1), c=(-1,0), d=(0,2)
    const table = Float32Array.from([1, 0, 1, 0, 1, 0, 1, 1, -1, 0, 0, 2]);
    const near = nearestWords(table, 2, vocab, 'A', 3);
    expect(near.map((n) => n.word)).toEqual(['b', 'd', 'c']);
    expect(near[0]!.similarity).toBeCloseTo(Math.SQRT1_2, 6);
    expect(near[1]!.similarity).toBeCloseTo(0, 6);
    expect(near[2]!.similarity).toBeCloseTo(-1, 6);
    expect(() => nearestWords(table, 2, vocab, 'zebra', 3)).toThrow(InvalidConfigError);
    expect(() => nearestWords(table, 2, vocab, 'zebra', 3)).toThrow(/\[embeddings nearest\] expected a word of the run's vocabulary \(4 words seen in training\), received "zebra", which is not in it/);
    expect(() => nearestWords(table, 2, vocab, '<oov>', 3)).toThrow(InvalidConfigError);
  });
});

describe('fit text --model embedding-bag', () => {
  it('learns the tiny corpus; each class word has the other two as nearest neighbours; reloads, predicts without leaks', async () => {
    const out = join(root, 'bag');
    const { run: info } = await tinyFit(out);
    expect(info.network).toMatchObject({ dim: 8, bigramBuckets: 32 });
    const run = await SupervisedRun.load(out);
    expect((await run.evaluate()).accuracy).toBeGreaterThan(0.85); // chance 0.5; one class word among three fillers
    for (const group of [POSITIVE, NEGATIVE]) {
      for (const w of group) {
        const near = await run.nearestWords(w, 2);
        expect(new Set(near.map((n) => n.word))).toEqual(new Set(group.filter((x) => x !== w)));
      }
    }
    await run.predict('so great');
    const before = tf.memory().numTensors;
    const p = await run.predict('the movie was awful');
    await run.nearestWords('good', 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(p.label).toBe('negative');
    run.dispose();
  }, 300_000);

  it('the same seed gives byte-identical weights', async () => {
    await tinyFit(join(root, 'd1'), { epochs: 3 });
    await tinyFit(join(root, 'd2'), { epochs: 3 });
    expect(Buffer.compare(readFileSync(join(root, 'd1', 'model', 'weights.bin')), readFileSync(join(root, 'd2', 'model', 'weights.bin')))).toBe(0);
    expect(readFileSync(join(root, 'd1', 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.e-]+/g, '')).toBe(readFileSync(join(root, 'd2', 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.e-]+/g, ''));
  }, 300_000);

  it('--embeddings initialises the word vectors from a GloVe file (its width sets dim); nearest then follows the file', async () => {
    const glove = join(root, 'vectors.txt');
    // good ~ fine, great ~ bad in the file: the opposite of what the corpus teaches.
    const rows: Record<string, number[]> = { good: [1, 0, 0, 0.1], fine: [0.9, 0.1, 0, 0.1], great: [0, 1, 0, 0.1], bad: [0.1, 0.9, 0, 0.1], awful: [0, 0, 1, 0], poor: [0, 0, 0.9, 0.2] };
    FILLER.forEach((f, i) => (rows[f] = [-1, -1, -1, -1 - i]));
    writeFileSync(glove, '2 4\r\n' + Object.entries(rows).map(([w, v]) => `${w} ${v.join(' ')}`).join('\r\n') + '\r\nunused 1 2 3 4\r\n');
    const out = join(root, 'glove');
    // A step too small to move the vectors: the neighbours are the file's.
    const { run: info } = await tinyFit(out, { epochs: 1, embeddings: glove, network: { bigramBuckets: 32 }, fit: { learningRate: 1e-9 } });
    expect(info.network).toMatchObject({ dim: 4, embeddings: { file: resolve(glove), wordsFound: 12, fileVectors: 13 } });
    const cli = await runCli(['embeddings', out, 'nearest', 'good', '--k', '1', '--json']);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.out)[0].word).toBe('fine');
    expect((await runCli(['embeddings', out, 'nearest', 'great', '--k', '1', '--json'])).out).toContain('"bad"');
    await expect(tinyFit(join(root, 'g2'), { embeddings: glove, network: { dim: 8 } })).rejects.toThrow(/network dim\) equal to the file's 4, received 8/);
    await expect(fitTask({ task: 'text', data: join(root, 'tiny'), model: 'tfidf', embeddings: glove, progress: null })).rejects.toThrow(/--embeddings with --model embedding-bag/);
    const cliWrong = await runCli(['fit', 'text', '--data', join(root, 'tiny'), '--model', 'tfidf', '--embeddings', glove]);
    expect(cliWrong.code).toBe(2);
    expect(cliWrong.err).toMatch(/^npcforge: \[fit\] expected --embeddings with --model embedding-bag, received --model tfidf; fix: [^\n]+\n$/);
    const cliBad = await runCli(['fit', 'text', '--data', join(root, 'tiny'), '--model', 'embedding-bag', '--embeddings', join(root, 'no-such.txt'), '--out', join(root, 'g3')]);
    expect(cliBad.code).toBe(2);
    expect(cliBad.err).toMatch(/^npcforge: \[readWordVectors\] expected an existing embedding file, received ".*no-such\.txt": ENOENT; fix: check the --embeddings path\n$/);
  }, 300_000);

  it('`embeddings nearest` with an unknown word, another action or a non-bag run: one line, exit 2; --help documents it', async () => {
    const unknown = await runCli(['embeddings', join(root, 'bag'), 'nearest', 'zebra']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^(npcforge: compute backend[^\n]*\n)?npcforge: \[embeddings nearest\] expected a word of the run's vocabulary \(\d+ words seen in training\), received "zebra", which is not in it; fix: [^\n]+\n$/);
    const action = await runCli(['embeddings', join(root, 'bag'), 'farthest', 'good']);
    expect(action.code).toBe(2);
    expect(action.err).toContain("expected the action 'nearest', received \"farthest\"");
    await fitTask({ task: 'text', data: join(root, 'tiny'), model: 'bow', out: join(root, 'bow'), progress: null });
    const bow = await runCli(['embeddings', join(root, 'bow'), 'nearest', 'good']);
    expect(bow.code).toBe(2);
    expect(bow.err).toContain('expected a run of `fit text --model embedding-bag`');
    const help = await runCli(['embeddings', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: npcforge embeddings [options] <run> <action> <word>');
    expect(help.out).toContain('--k <n>');
  }, 300_000);
});

describe('readWordVectors (untrusted GloVe files)', () => {
  const vocab = ['<pad>', '<oov>', 'cat', 'dog'];
  const file = (name: string, text: string | Buffer) => {
    const p = join(root, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads the vocabulary rows only, first occurrence wins; rejects bad files with one line naming file and line', async () => {
    const ok = await readWordVectors(file('ok.txt', 'dog 1 2\ncat 3 4e-1\ndog 9 9\nbird 0 0'), vocab);
    expect(ok.dim).toBe(2);
    expect(Array.from(ok.vectors)).toEqual([0, 0, 0, 0, 3, Math.fround(0.4), 1, 2]);
    expect(Array.from(ok.found)).toEqual([0, 0, 1, 1]);
    expect(ok.lines).toBe(4);
    const cases: [string, string | Buffer, RegExp][] = [
      ['ragged.txt', 'cat 1 2\ndog 1 2 3', /expected 2 numbers after the word \(the width of the first vector\), received 3 in ".*ragged\.txt" line 2/],
      ['nan.txt', 'cat 1 NaN', /expected finite decimal numbers, received a non-number at column 3 of ".*nan\.txt" line 1/],
      ['inf.txt', 'cat 1 1e999', /finite decimal numbers/],
      ['hex.txt', 'cat 0x10 1', /finite decimal numbers/],
      ['word-only.txt', 'cat\n', /a word and 1\.\.1024 numbers per line, received 0 numbers/],
      ['empty.txt', '\n\n', /at least one word vector, received none/],
      ['binary.txt', Buffer.from([0, 1, 2, 255, 254, 10, 0]), /numbers per line|finite decimal/],
    ];
    for (const [name, text, re] of cases) {
      const err = await readWordVectors(file(name, text), vocab).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(DatasetError);
      expect((err as Error).message, name).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    }
    await expect(readWordVectors(root, vocab)).rejects.toThrow(/a regular file/);
    await expect(readWordVectors(join(root, 'missing.txt'), vocab)).rejects.toThrow(/ENOENT/);
    await expect(readWordVectors(file('big.txt', 'cat 1 2\n'.repeat(100)), vocab, { maxBytes: 100 })).rejects.toThrow(/at most 100 bytes, received ".*big\.txt" of 800 bytes/);
    await expect(readWordVectors(file('long.txt', 'cat' + ' 1'.repeat(100)), vocab, { maxLineBytes: 64 })).rejects.toThrow(/lines of at most 64 bytes, received a longer line at ".*long\.txt" line 1/);
    await expect(readWordVectors(file('wide.txt', 'cat' + ' 1'.repeat(20)), vocab, { maxDim: 8 })).rejects.toThrow(/1\.\.8 numbers per line, received 20/);
  });

  it('fuzz: mutated files either read or fail with one DatasetError line that quotes nothing from the file', async () => {
    const rng = new SeededRng(7);
    const base = Buffer.from('cat 0.5 -1.25 3e2\nSECRETWORD 1 2 3\ndog 4 5 6\n');
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(base);
      const n = rng.int(1, 6);
      for (let k = 0; k < n; k++) b[rng.int(0, b.length)] = rng.int(0, 256);
      const p = file('fuzz.txt', rng.random() < 0.2 ? b.subarray(0, rng.int(0, b.length)) : b);
      try {
        const r = await readWordVectors(p, vocab);
        expect(r.vectors.every(Number.isFinite)).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(DatasetError);
        expect((err as Error).message).not.toMatch(/\n|SECRET/);
      }
    }
  });

  it('under a 48 MB heap: a 64 MB file without newlines fails fast, 64 MB of other words reads in bounded memory', () => {
    const noNewline = join(root, 'one-line.txt');
    const many = join(root, 'many.txt');
    for (const [p, chunk] of [[noNewline, Buffer.alloc(1 << 20, '1 ')], [many, Buffer.from('zzz 0.1 0.2 0.3\n'.repeat(65536))]] as const) {
      const fd = openSync(p, 'w');
      for (let written = 0; written < 64 << 20; written += chunk.length) writeSync(fd, chunk);
      closeSync(fd);
    }
    const script = `
      const { readWordVectors } = await import(${JSON.stringify(resolve('dist/src/supervised/text/glove.js'))});
      const vocab = ['<pad>', '<oov>', 'cat'];
      const a = await readWordVectors(${JSON.stringify(noNewline)}, vocab).then(() => 'read', (e) => e.name + ': ' + e.message);
      const b = await readWordVectors(${JSON.stringify(many)}, vocab).then((r) => 'lines ' + r.lines, (e) => e.message);
      console.log(JSON.stringify({ a, b, heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20) }));`;
    const res = JSON.parse(execFileSync(process.execPath, ['--max-old-space-size=48', '--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(res.a).toMatch(/^DatasetError: \[readWordVectors\] expected lines of at most 262144 bytes, received a longer line at ".*one-line\.txt" line 1/);
    expect(res.b).toBe(`lines ${(64 << 20) / 16}`);
  }, 300_000);
});
