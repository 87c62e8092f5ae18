/**
 * Saves and loads a tfjs LayersModel as `model.json` + `weights.bin` in a folder, without
 * tfjs-node's `file://` handler (the pure-JS tfjs has none). Writes go through a temporary file
 * and a rename so a crash never leaves a half-written model.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, formatError } from '../errors.js';

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Writes `model.json` and `weights.bin` into `dir` (created if needed). */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const bytes = weightData === undefined ? new Uint8Array(0) : new Uint8Array(Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : weightData);
      await writeAtomic(join(dir, 'weights.bin'), bytes);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength } };
    }),
  );
}

/** Loads a model written by `saveLayersModel`; custom layers must be registered beforehand. */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  let json: { modelTopology?: object; weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[] };
  let weights: Buffer;
  try {
    json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    weights = await readFile(join(dir, 'weights.bin'));
  } catch (err) {
    throw new CheckpointError(formatError('loadLayersModel', `model.json and weights.bin in ${dir}`, (err as Error).message, 'point at a run folder written by `npcforge fit`'), { cause: err });
  }
  if (json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) {
    throw new CheckpointError(formatError('loadLayersModel', 'a model.json with modelTopology and weightsManifest', `keys ${Object.keys(json).join(',')}`, 'refit the model'));
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: buffer }));
}
