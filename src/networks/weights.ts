/**
 * Weight (de)serialisation. `tensorPack` stores float32 tensors as a manifest plus one byte
 * array; `saveLayersModelFiles` writes the stock tfjs layers format (model.json + weights.bin)
 * that `tf.loadLayersModel` reads.
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, formatError } from '../errors.js';

export interface TensorPackEntry {
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

/** Reads tensors' values (sync) into one Float32 buffer with a manifest. */
export function packTensors(tensors: tf.Tensor[]): { manifest: TensorPackEntry[]; data: Float32Array } {
  let total = 0;
  for (const t of tensors) total += t.size;
  const data = new Float32Array(total);
  const manifest: TensorPackEntry[] = [];
  let off = 0;
  for (const t of tensors) {
    data.set(t.dataSync() as Float32Array, off);
    manifest.push({ shape: t.shape.slice(), offset: off });
    off += t.size;
  }
  return { manifest, data };
}

/** Splits a packed buffer back into arrays, checking against the expected shapes. */
export function unpackTensors(manifest: TensorPackEntry[], data: Float32Array, expected: number[][], what: string): Float32Array[] {
  if (!Array.isArray(manifest) || manifest.length !== expected.length) {
    throw new CheckpointError(formatError(what, `${expected.length} tensors`, `${Array.isArray(manifest) ? manifest.length : 'no manifest'}`, 'load a checkpoint written with the same network and config'));
  }
  return manifest.map((m, i) => {
    const want = expected[i]!;
    const size = want.reduce((a, b) => a * b, 1);
    if (!m || !Array.isArray(m.shape) || m.shape.join('x') !== want.join('x')) {
      throw new CheckpointError(formatError(what, `tensor ${i} of shape [${want}]`, `shape [${m?.shape}] in the manifest`, 'load a checkpoint written with the same network and config (or the files are corrupt)'));
    }
    // Byte counts, not element offsets: what a user compares with the file's size on disk.
    if (!Number.isInteger(m.offset) || m.offset < 0 || m.offset + size > data.length) {
      throw new CheckpointError(
        formatError(what, `${size * 4} bytes for tensor ${i} of shape [${want}] at byte ${Number(m.offset) * 4}`, `a weights file of ${data.length * 4} bytes`, 'the checkpoint is truncated or corrupt; pick another with --checkpoint'),
      );
    }
    return data.slice(m.offset, m.offset + size);
  });
}

/** Sets every weight of `model` from arrays in `model.weights` order. */
export function setModelWeights(model: tf.LayersModel, values: Float32Array[]): void {
  const ws = model.weights;
  tf.tidy(() => ws.forEach((w, i) => w.write(tf.tensor(values[i]!, w.shape as number[]))));
}

/** Stock tfjs layers artifacts: the text of model.json (weights in `weightsFile`) and the weight bytes. */
export async function layersModelFiles(model: tf.LayersModel, weightsFile = 'weights.bin'): Promise<{ modelJson: string; weights: Uint8Array }> {
  let out: { modelJson: string; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData as ArrayBuffer;
      out = {
        modelJson: JSON.stringify({
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
          convertedBy: null,
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: [weightsFile], weights: a.weightSpecs }],
        }),
        weights: new Uint8Array(data),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}
