import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { generateSpeechDataset, planSpeechClips, resolveSpeechGenConfig } from '../../src/supervised/speech/generate.js';
import { readWav } from '../../src/supervised/speech/wav.js';
import { SupervisedRun, fitTask } from '../../src/supervised/run.js';

let root: string;
const WORDS = ['up', 'down', 'left', 'yes'];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'npcforge-speech-'));
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('speech data generator', () => {
  it('plans clips deterministically from the seed and splits by voice', () => {
    const c = resolveSpeechGenConfig({ out: 'x', words: WORDS, voices: 10, takes: 2, seed: 5 });
    const a = planSpeechClips(c);
    expect(planSpeechClips(c)).toEqual(a);
    expect(planSpeechClips({ ...c, seed: 6 })).not.toEqual(a);
    const trainVoices = new Set(a.filter((x) => x.split === 'train').map((x) => x.voice));
    const testVoices = new Set(a.filter((x) => x.split === 'test').map((x) => x.voice));
    expect(testVoices.size).toBe(2);
    expect([...testVoices].some((v) => trainVoices.has(v))).toBe(false);
    expect(() => resolveSpeechGenConfig({ out: 'x', voices: 1, takes: 0 })).toThrow(InvalidConfigError);
  });

  it('writes 16 kHz mono 1 s WAVs, identical bytes for the same seed', async () => {
    const opts = { words: ['go', 'no'], voices: 2, takes: 1, testVoiceFraction: 0.5, noiseFraction: 1, seed: 3 };
    await generateSpeechDataset({ out: join(root, 'a'), ...opts });
    await generateSpeechDataset({ out: join(root, 'b'), ...opts });
    for (const split of ['train', 'test']) {
      for (const w of ['go', 'no']) {
        const files = await readdir(join(root, 'a', split, w));
        expect(files).toHaveLength(1);
        const a = await readFile(join(root, 'a', split, w, files[0]!));
        const b = await readFile(join(root, 'b', split, w, files[0]!));
        expect(a.equals(b)).toBe(true);
        const wav = await readWav(join(root, 'a', split, w, files[0]!));
        expect(wav.sampleRate).toBe(16000);
        expect(wav.samples.length).toBe(16000);
        expect(Math.max(...wav.samples.map(Math.abs))).toBeGreaterThan(0.05);
      }
    }
  }, 120_000);
});

describe('speech GRU', () => {
  it('recognises four words from voices it never heard, well above chance', async () => {
    const data = join(root, 'words');
    await generateSpeechDataset({ out: data, words: WORDS, voices: 10, takes: 3, testVoiceFraction: 0.2, seed: 11 });
    const out = join(root, 'run');
    await fitTask({
      task: 'speech',
      data,
      out,
      seed: 1,
      epochs: 12,
      validationFraction: 0.15,
      // 20 ms hop, 20 mel bands and a 12-step GRU keep the cpu-backend test short.
      features: { hopLength: 320, numMels: 20 },
      // No dropout: with seeded weights the run is then deterministic (tfjs draws dropout masks unseeded).
      network: { units: 16, convFilters: 16, poolSize: 4, dropout: 0 },
      fit: { batchSize: 16, learningRate: 1e-2, patience: 12 },
      progress: null,
    });
    const run = await SupervisedRun.load(out);
    const report = await run.evaluate();
    expect(report.samples).toBe(2 * 4 * 3);
    expect(report.accuracy).toBeGreaterThan(0.45); // chance is 0.25
    const clip = join(data, 'test', 'left', (await readdir(join(data, 'test', 'left')))[0]!);
    const p = await run.predict(clip);
    expect(Object.keys(p.probabilities).sort()).toEqual([...WORDS].sort());
    run.dispose();
  }, 900_000);
});
