/**
 * Saves and loads a tfjs LayersModel as `model.json` + `weights.bin` in a folder, without
 * tfjs-node's `file://` handler (the pure-JS tfjs has none). Writes go through a temporary file
 * and a rename so a crash never leaves a half-written model.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, formatError } from '../errors.js';

/** Largest file of a run folder read back: JSON files (run, tokenizer, model topology) and weights. */
export const MAX_RUN_FILE_BYTES = { json: 64 * 1024 * 1024, weights: 1024 * 1024 * 1024 } as const;

/**
 * Reads a file of a run folder, which is untrusted: a regular file (a FIFO would block, a link to
 * /dev/zero would fill the memory) within `maxBytes`, checked before reading. With `json`, parses
 * it; a parse error says "invalid JSON" without quoting the file.
 */
export async function readRunFolderFile(path: string, options: { maxBytes: number; component: string; fix: string; json: true }): Promise<unknown>;
export async function readRunFolderFile(path: string, options: { maxBytes: number; component: string; fix: string; json?: false }): Promise<Buffer>;
export async function readRunFolderFile(path: string, options: { maxBytes: number; component: string; fix: string; json?: boolean }): Promise<unknown> {
  const { maxBytes, component, fix } = options;
  const fail = (received: string, cause?: unknown): never => {
    throw new CheckpointError(formatError(component, `a regular file of at most ${maxBytes} bytes`, received, fix), { cause });
  };
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    return fail(`${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, err);
  }
  if (!st.isFile()) fail(`${JSON.stringify(path)} that is not a regular file`);
  if (st.size > maxBytes) fail(`${JSON.stringify(path)} of ${st.size} bytes`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    return fail(`${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, err);
  }
  if (!options.json) return bytes;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    // JSON.parse's message quotes the file's text: say only that it is not JSON.
    throw new CheckpointError(formatError(component, 'a readable JSON file', `${JSON.stringify(path)}: invalid JSON`, fix), { cause: err });
  }
}

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
  const fix = 'point at a run folder written by `npcforge fit`';
  const json = ((await readRunFolderFile(join(dir, 'model.json'), { maxBytes: MAX_RUN_FILE_BYTES.json, component: 'loadLayersModel', fix, json: true })) ?? {}) as { modelTopology?: object; weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weights = await readRunFolderFile(join(dir, 'weights.bin'), { maxBytes: MAX_RUN_FILE_BYTES.weights, component: 'loadLayersModel', fix });
  if (json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) {
    throw new CheckpointError(formatError('loadLayersModel', 'a model.json with modelTopology and weightsManifest', `keys ${Object.keys(json).join(',')}`, 'refit the model'));
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: buffer }));
}
