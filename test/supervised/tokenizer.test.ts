import { describe, expect, it } from 'vitest';
import { WordTokenizer, splitWords } from '../../src/supervised/text/tokenizer.js';
import { InvalidConfigError, UnsupportedVersionError } from '../../src/errors.js';
import { messageSubjectAndBody } from '../../src/supervised/data/text-datasets.js';

describe('WordTokenizer', () => {
  const tok = WordTokenizer.fit(['the cat sat', 'the dog sat', 'the end'], { maxLen: 4 });

  it('orders the vocabulary by frequency, reserves pad=0 and oov=1', () => {
    expect(tok.vocab.slice(0, 4)).toEqual(['<pad>', '<oov>', 'the', 'sat']);
    expect(splitWords("It's GREAT!")).toEqual(["it's", 'great', '!']);
  });

  it('pads, truncates and maps unknown words to the OOV id', () => {
    expect(Array.from(tok.encode('the zebra'))).toEqual([2, 1, 0, 0]);
    expect(Array.from(tok.encode('the cat sat the dog'))).toEqual([2, tok.vocab.indexOf('cat'), 3, 2]);
    const pre = WordTokenizer.fit(['a b c'], { maxLen: 4, padding: 'pre', truncation: 'pre' });
    expect(Array.from(pre.encode('a b'))).toEqual([0, 0, pre.vocab.indexOf('a'), pre.vocab.indexOf('b')]);
    expect(Array.from(pre.encode('a a b c c'))).toEqual([pre.vocab.indexOf('a'), pre.vocab.indexOf('b'), pre.vocab.indexOf('c'), pre.vocab.indexOf('c')]);
  });

  it('round-trips through JSON and rejects other formats or versions', () => {
    const back = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
    expect(Array.from(back.encode('the dog ran'))).toEqual(Array.from(tok.encode('the dog ran')));
    expect(() => WordTokenizer.fromJSON({ ...tok.toJSON(), version: 3 as 1 })).toThrow(UnsupportedVersionError); // 2 = with bigram buckets (embedding bag)
    expect(() => WordTokenizer.fromJSON({ format: 'x' } as never)).toThrow(InvalidConfigError);
    expect(() => WordTokenizer.fit([], { maxLen: 0 })).toThrow(/maxLen=0/);
  });

  it('keeps the subject and body of an e-mail, dropping routing headers', () => {
    const raw = 'From: a@b\nReceived: x\nSubject: Win\n  money\n\nBody text\n';
    expect(messageSubjectAndBody(raw)).toBe('Win money\nBody text');
  });
});
