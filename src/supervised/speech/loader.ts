/** Loads a speech folder (`<dir>/<word>/*.wav`) into in-memory feature arrays. */
import { readdir } from 'node:fs/promises';
import { join, extname, basename } from 'node:path';
import { DatasetError, formatError } from '../../errors.js';
import { ArraySource } from '../data-source.js';
import { readWav } from './wav.js';
import { extractFeatures, featureShape, melFilterBank, type FeatureConfig } from './features.js';

/** Features of a folder plus the speaker (voice) of each clip, parsed from `<voice>__<take>.wav`. */
export interface SpeechSet {
  source: ArraySource;
  classes: string[];
  voices: string[];
  shape: [number, number];
}

/** Features of one WAV file, checked against the configured sample rate. */
export async function wavFeatures(path: string, config: FeatureConfig, filterBank?: Float32Array): Promise<Float32Array> {
  const audio = await readWav(path);
  if (audio.sampleRate !== config.sampleRate) {
    throw new DatasetError(formatError('wavFeatures', `${config.sampleRate} Hz audio`, `${audio.sampleRate} Hz in ${path}`, `resample it (sox in.wav -r ${config.sampleRate} out.wav)`));
  }
  return extractFeatures(audio.samples, config, filterBank);
}

/** Reads every clip under `dir`; `classes` fixes the label order (from the training run) when given. */
export async function loadSpeechFolder(dir: string, config: FeatureConfig, classes?: string[]): Promise<SpeechSet> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new DatasetError(formatError('loadSpeechFolder', 'a folder with one sub-folder per word', `${dir}: ${(err as Error).message}`, 'run `npcforge data speech --out <dir>`'), { cause: err });
  }
  const found = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (found.length === 0) throw new DatasetError(formatError('loadSpeechFolder', 'at least one word sub-folder', `an empty folder ${dir}`, 'put clips in <dir>/<word>/*.wav'));
  const order = classes ?? found;
  const unknown = found.filter((f) => !order.includes(f));
  if (unknown.length > 0) throw new DatasetError(formatError('loadSpeechFolder', `only the trained words (${order.join(', ')})`, `folders ${unknown.join(', ')}`, 'evaluate on data with the same words'));
  const shape = featureShape(config);
  const per = shape[0] * shape[1];
  const fb = melFilterBank(config);
  const feats: Float32Array[] = [];
  const labels: number[] = [];
  const voices: string[] = [];
  for (const word of found) {
    const files = (await readdir(join(dir, word))).filter((f) => extname(f).toLowerCase() === '.wav').sort();
    if (files.length === 0) throw new DatasetError(formatError('loadSpeechFolder', 'WAV files in every word folder', `none in ${join(dir, word)}`, 'add clips or remove the folder'));
    for (const f of files) {
      feats.push(await wavFeatures(join(dir, word, f), config, fb));
      labels.push(order.indexOf(word));
      const stem = basename(f, extname(f));
      voices.push(stem.includes('__') ? stem.slice(0, stem.lastIndexOf('__')) : stem);
    }
  }
  const data = new Float32Array(feats.length * per);
  feats.forEach((x, i) => data.set(x, i * per));
  return { source: new ArraySource(data, shape, Int32Array.from(labels)), classes: order, voices, shape };
}
