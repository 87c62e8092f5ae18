import sharp from 'sharp';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/errors.js';
import { MAX_SAMPLE_BYTES, readSampleFile } from '../../src/supervised/data-files.js';
import { listImageFolder } from '../../src/supervised/image/loader.js';
import { loadSpeechFolder } from '../../src/supervised/speech/loader.js';
import { encodeWav } from '../../src/supervised/speech/wav.js';
import { resolveFeatureConfig } from '../../src/supervised/speech/features.js';
import { loadTextFolder } from '../../src/supervised/text/loader.js';
import { runCli } from '../helpers/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'npcforge-datafiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let goodPng: Buffer;
beforeAll(async () => {
  goodPng = await sharp(Buffer.alloc(16, 200), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer();
});

/** A data folder `<name>/train/{a,b}/` with one good sample per class; returns its train folder. */
function dataFolder(name: string, ext: string, good: Buffer | string): string {
  const train = join(root, name, 'train');
  for (const c of ['a', 'b']) {
    mkdirSync(join(train, c), { recursive: true });
    writeFileSync(join(train, c, `ok${ext}`), good);
  }
  return train;
}

const cli = runCli;

describe('text folders: regular files only, checked when listed', () => {
  it('refuses a .txt symlinked to /dev/zero, naming the file (no hang, no stack)', async () => {
    const train = dataFolder('zero', '.txt', 'fine text');
    symlinkSync('/dev/zero', join(train, 'a', 'zero.txt'));
    await expect(loadTextFolder(train)).rejects.toThrow(DatasetError);
    await expect(loadTextFolder(train)).rejects.toThrow(/\[loadTextFolder\] expected a regular file, received a device at .*zero\.txt; fix: /);
  });

  it('refuses a folder named x.txt and a FIFO', async () => {
    const train = dataFolder('dirtxt', '.txt', 'fine text');
    mkdirSync(join(train, 'b', 'x.txt'));
    await expect(loadTextFolder(train)).rejects.toThrow(/received a folder at .*x\.txt/);
    const fifo = dataFolder('fifo', '.txt', 'fine text');
    execFileSync('mkfifo', [join(fifo, 'a', 'pipe.txt')]);
    await expect(loadTextFolder(fifo)).rejects.toThrow(/received a FIFO at .*pipe\.txt/);
  });

  it('refuses a sample over the size limit before reading it', async () => {
    const train = dataFolder('big', '.txt', 'fine text');
    const big = join(train, 'a', 'big.txt');
    writeFileSync(big, '');
    // A sparse file: the size is checked, not the bytes.
    execFileSync('truncate', ['-s', String(MAX_SAMPLE_BYTES.text + 1), big]);
    await expect(loadTextFolder(train)).rejects.toThrow(/expected a sample file of at most 8 MiB \(8388608 bytes\), received 8388609 bytes in .*big\.txt/);
    await expect(readSampleFile(big, MAX_SAMPLE_BYTES.text, 'x')).rejects.toThrow(DatasetError);
  });

  it('`npcforge fit text` prints one line naming the file, exit 2', async () => {
    const data = join(root, 'clidir');
    const train = dataFolder('clidir', '.txt', 'fine text');
    mkdirSync(join(train, 'a', 'x.txt'));
    const r = await cli(['fit', 'text', '--data', data, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^npcforge: \[loadTextFolder\] expected a regular file, received a folder at .*x\.txt; fix: [^\n]*\n$/);
  });
});

describe('image folders: every header checked when listed', () => {
  it('accepts real PNG files', async () => {
    const train = join(root, 'img-ok', 'train');
    dataFolder('img-ok', '.png', goodPng);
    const src = await listImageFolder(train);
    expect(src.size).toBe(2);
  });

  it.each([
    ['a text file named .png', () => Buffer.from('not a png'), /neither a PNG nor a JPEG signature in .*broken\.png/],
    ['a truncated PNG', () => goodPng.subarray(0, goodPng.length - 20), /a truncated PNG \(no IEND chunk at its end\) in .*broken\.png/],
    ['an empty file', () => Buffer.alloc(0), /an empty file in .*broken\.png/],
    ['a PNG claiming 0 pixels', () => Buffer.concat([goodPng.subarray(0, 16), Buffer.alloc(8), goodPng.subarray(24)]), /a PNG of 0x0 pixels/],
  ])('refuses %s before any training', async (name, bytes, message) => {
    const folder = `img-${name.replace(/\W+/g, '-')}`;
    const train = dataFolder(folder, '.png', goodPng);
    writeFileSync(join(train, 'b', 'broken.png'), bytes());
    await expect(listImageFolder(train)).rejects.toThrow(DatasetError);
    await expect(listImageFolder(train)).rejects.toThrow(message);
  });

  it('refuses a folder named x.png and a FIFO', async () => {
    const train = dataFolder('img-dir', '.png', goodPng);
    mkdirSync(join(train, 'a', 'x.png'));
    await expect(listImageFolder(train)).rejects.toThrow(/\[listImageFolder\] expected a regular file, received a folder at .*x\.png/);
    const fifo = dataFolder('img-fifo', '.png', goodPng);
    execFileSync('mkfifo', [join(fifo, 'a', 'p.png')]);
    await expect(listImageFolder(fifo)).rejects.toThrow(/received a FIFO at .*p\.png/);
  });
});

describe('speech folders: WAV headers checked when listed', () => {
  it('refuses a file without a RIFF/WAVE header, and a WAV with 0 channels', async () => {
    const wav = Buffer.from(encodeWav({ sampleRate: 16000, samples: new Float32Array(1600) }));
    const config = resolveFeatureConfig({});
    const train = dataFolder('wav', '.wav', wav);
    expect((await loadSpeechFolder(train, config)).classes).toEqual(['a', 'b']);
    writeFileSync(join(train, 'a', 'bad.wav'), 'hello, not a wav');
    await expect(loadSpeechFolder(train, config)).rejects.toThrow(/\[loadSpeechFolder\] expected a WAV file \(RIFF\/WAVE header\), received no RIFF\/WAVE header in .*bad\.wav/);
    const zero = Buffer.from(wav);
    zero.writeUInt16LE(0, 22); // fmt channels
    writeFileSync(join(train, 'a', 'bad.wav'), zero);
    await expect(loadSpeechFolder(train, config)).rejects.toThrow(/\[readWav\] expected a PCM or float WAV file, received .*bad\.wav: 0 channels of 16 bits/);
  });
});

describe('readSampleFile', () => {
  it('reads a regular file whole', async () => {
    const p = join(root, 'plain.txt');
    writeFileSync(p, 'hello');
    expect((await readSampleFile(p, 10, 'x')).toString()).toBe('hello');
    expect(readFileSync(p, 'utf8')).toBe('hello');
  });
});
