/**
 * Synthesises a spoken-commands data set with espeak-ng: every word in many voices (accent +
 * voice variant), speeds and pitches, converted by sox to 16 kHz mono 16-bit, padded/trimmed to
 * 1 s, with noise (drawn from the seeded Rng) mixed in by sox for a fraction of the clips. The split
 * is by voice: test voices are never heard in training. All random choices are drawn up front from
 * one seeded Rng, so the output depends only on the seed, not on process scheduling.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DatasetError, InvalidConfigError, describe, formatError } from '../../errors.js';
import { SeededRng } from '../../envs/rng.js';
import { permutation } from '../data-source.js';
import { mapLimit, type ExportSummary } from '../data/image-datasets.js';
import { writeWav } from './wav.js';

const run = promisify(execFile);

/** The twenty words of the task: ten digits and ten game commands. */
export const SPEECH_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'up', 'down', 'left', 'right', 'jump', 'fire', 'stop', 'go', 'yes', 'no'];
/** espeak-ng English accents used as voice bases. */
export const SPEECH_ACCENTS = ['en-us', 'en', 'en-gb-scotland', 'en-gb-x-rp', 'en-029', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd'];
/** espeak-ng voice variants combined with each accent. */
export const SPEECH_VARIANTS = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'klatt', 'klatt2', 'klatt3', 'croak', 'Alex', 'Annie', 'belinda', 'david', 'grandma', 'john', 'linda', 'max', 'steph'];

/** Options of the generator. */
export interface SpeechGenConfig {
  /** Output folder; clips go to `<out>/{train,test}/<word>/<voice>__<take>.wav`. */
  out: string;
  /** Words to synthesise. */
  words: string[];
  /** Number of distinct voices (accent+variant pairs), drawn without replacement. */
  voices: number;
  /** Fraction of the voices held out for the test split. */
  testVoiceFraction: number;
  /** Renditions per word and voice, each with its own speed and pitch. */
  takes: number;
  /** Speaking rate range, words per minute. */
  speed: [number, number];
  /** espeak-ng pitch range (0-99). */
  pitch: [number, number];
  /** Fraction of clips with noise mixed in. */
  noiseFraction: number;
  /** Noise amplitude range (standard deviation of the white noise, full scale = 1). */
  noiseLevel: [number, number];
  /** Seed of every random choice. */
  seed: number;
  /** Clips synthesised concurrently (child processes). */
  concurrency: number;
}

export const DEFAULT_SPEECH_GEN: Omit<SpeechGenConfig, 'out'> = { words: SPEECH_WORDS, voices: 60, testVoiceFraction: 0.2, takes: 3, speed: [120, 210], pitch: [25, 75], noiseFraction: 0.3, noiseLevel: [0.005, 0.03], seed: 0, concurrency: 4 };

const SAMPLE_RATE = 16000;

/** Checks a generator config, reporting every bad field at once. */
export function resolveSpeechGenConfig(partial: Partial<SpeechGenConfig> & { out: string }): SpeechGenConfig {
  const c = { ...DEFAULT_SPEECH_GEN, ...partial };
  const bad: string[] = [];
  const maxVoices = SPEECH_ACCENTS.length * SPEECH_VARIANTS.length;
  if (!(Number.isInteger(c.voices) && c.voices >= 2 && c.voices <= maxVoices)) bad.push(`voices=${describe(c.voices)} (2..${maxVoices})`);
  if (!(c.testVoiceFraction > 0 && c.testVoiceFraction < 1)) bad.push(`testVoiceFraction=${describe(c.testVoiceFraction)} (0..1 exclusive)`);
  if (!(Number.isInteger(c.takes) && c.takes >= 1)) bad.push(`takes=${describe(c.takes)}`);
  if (!(c.words.length >= 2 && c.words.every((w) => /^[a-z]+$/.test(w)))) bad.push(`words=${describe(c.words)} (>= 2 lowercase words)`);
  if (!(c.noiseFraction >= 0 && c.noiseFraction <= 1)) bad.push(`noiseFraction=${describe(c.noiseFraction)}`);
  if (!(Number.isInteger(c.concurrency) && c.concurrency >= 1)) bad.push(`concurrency=${describe(c.concurrency)}`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('SpeechGenConfig', 'valid generator settings', bad.join('; '), 'fix the listed fields'));
  return c;
}

interface Clip {
  word: string;
  voice: string;
  split: 'train' | 'test';
  take: number;
  speed: number;
  pitch: number;
  noise: number;
  noiseSeed: number;
}

/** Draws every clip's parameters from the seed (pure; exposed for the determinism test). */
export function planSpeechClips(c: SpeechGenConfig): Clip[] {
  const rng = new SeededRng(c.seed);
  const all = SPEECH_ACCENTS.flatMap((a) => SPEECH_VARIANTS.map((v) => `${a}+${v}`));
  const picked = Array.from(permutation(all.length, rng).subarray(0, c.voices), (i) => all[i]!);
  const nTest = Math.max(1, Math.round(c.voices * c.testVoiceFraction));
  const clips: Clip[] = [];
  picked.forEach((voice, vi) => {
    for (const word of c.words) {
      for (let take = 0; take < c.takes; take++) {
        const noisy = rng.random() < c.noiseFraction;
        clips.push({
          word,
          voice,
          split: vi < nTest ? 'test' : 'train',
          take,
          speed: Math.round(c.speed[0] + rng.random() * (c.speed[1] - c.speed[0])),
          pitch: Math.round(c.pitch[0] + rng.random() * (c.pitch[1] - c.pitch[0])),
          noise: noisy ? c.noiseLevel[0] + rng.random() * (c.noiseLevel[1] - c.noiseLevel[0]) : 0,
          noiseSeed: rng.int(0, 0x7fffffff),
        });
      }
    }
  });
  return clips;
}

async function checkTool(name: string, args: string[]): Promise<void> {
  try {
    await run(name, args);
  } catch (err) {
    throw new DatasetError(formatError('generateSpeech', `the ${name} program`, (err as Error).message, `install it (apt-get install ${name})`), { cause: err });
  }
}

/** Generates the data set; returns clip counts. `onProgress` is called after each clip (minutes for the default set). */
export async function generateSpeechDataset(partial: Partial<SpeechGenConfig> & { out: string }, hooks: { onProgress?: (done: number, total: number) => void } = {}): Promise<ExportSummary & { voices: { train: string[]; test: string[] } }> {
  const c = resolveSpeechGenConfig(partial);
  await checkTool('espeak-ng', ['--version']);
  await checkTool('sox', ['--version']);
  const clips = planSpeechClips(c);
  for (const split of ['train', 'test']) for (const w of c.words) await mkdir(join(c.out, split, w), { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'npcforge-speech-'));
  try {
    await mapLimit(clips, c.concurrency, async (clip, i) => {
      const raw = join(tmp, `${i}-raw.wav`);
      const name = `${clip.voice.replace(/[^A-Za-z0-9-]/g, '_')}__${clip.take}.wav`;
      const dest = join(c.out, clip.split, clip.word, name);
      await run('espeak-ng', ['-v', clip.voice, '-s', String(clip.speed), '-p', String(clip.pitch), '-w', raw, clip.word]);
      const clean = clip.noise > 0 ? join(tmp, `${i}-clean.wav`) : dest;
      // -R: sox's own dither/random choices repeatable, so the output depends only on the inputs.
      await run('sox', ['-R', raw, '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16', clean, 'pad', '0', '1', 'trim', '0', '1']);
      if (clip.noise > 0) {
        const noisePath = join(tmp, `${i}-noise.wav`);
        const nrng = new SeededRng(clip.noiseSeed);
        const noise = new Float32Array(SAMPLE_RATE);
        for (let k = 0; k < noise.length; k++) noise[k] = nrng.normal() * clip.noise;
        await writeWav(noisePath, { sampleRate: SAMPLE_RATE, samples: noise });
        await run('sox', ['-R', '-m', '-v', '1', clean, '-v', '1', noisePath, '-b', '16', dest]);
      }
    }, hooks.onProgress);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const voices = [...new Set(clips.map((x) => x.voice))];
  return {
    train: clips.filter((x) => x.split === 'train').length,
    test: clips.filter((x) => x.split === 'test').length,
    classes: [...c.words].sort(),
    voices: { train: voices.filter((v) => clips.some((x) => x.voice === v && x.split === 'train')), test: voices.filter((v) => clips.some((x) => x.voice === v && x.split === 'test')) },
  };
}
