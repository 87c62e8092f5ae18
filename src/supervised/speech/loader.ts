/** Loads a speech folder (`<dir>/<word>/*.wav`) into in-memory feature arrays. */
import { extname, basename } from 'node:path';
import { DatasetError, formatError } from '../../errors.js';
import { ArraySource } from '../data-source.js';
import { checkWavFile, readWav } from './wav.js';
import { MAX_SAMPLE_BYTES, listClassFiles } from '../data-files.js';
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

/** Reads every clip under `dir` (regular WAV files, headers checked when listed); `classes` fixes the label order (from the training run) when given. */
export async function loadSpeechFolder(dir: string, config: FeatureConfig, classes?: string[]): Promise<SpeechSet> {
  const found = await listClassFiles(dir, {
    extensions: ['.wav'],
    maxBytes: MAX_SAMPLE_BYTES.speech,
    component: 'loadSpeechFolder',
    classFolder: 'word',
    fix: 'run `npcforge data speech --out <dir>` (clips go in <dir>/<word>/*.wav)',
    checkContent: (path) => checkWavFile(path),
  });
  const order = classes ?? found.map((c) => c.name);
  const unknown = found.map((c) => c.name).filter((f) => !order.includes(f));
  if (unknown.length > 0) throw new DatasetError(formatError('loadSpeechFolder', `only the trained words (${order.join(', ')})`, `folders ${unknown.join(', ')}`, 'evaluate on data with the same words'));
  const shape = featureShape(config);
  const per = shape[0] * shape[1];
  const fb = melFilterBank(config);
  const feats: Float32Array[] = [];
  const labels: number[] = [];
  const voices: string[] = [];
  for (const word of found) {
    for (const path of word.files) {
      feats.push(await wavFeatures(path, config, fb));
      labels.push(order.indexOf(word.name));
      const stem = basename(path, extname(path));
      voices.push(stem.includes('__') ? stem.slice(0, stem.lastIndexOf('__')) : stem);
    }
  }
  const data = new Float32Array(feats.length * per);
  feats.forEach((x, i) => data.set(x, i * per));
  return { source: new ArraySource(data, shape, Int32Array.from(labels)), classes: order, voices, shape };
}
