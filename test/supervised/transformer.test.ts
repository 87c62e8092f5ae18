import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransformerEncoderLayer, buildTransformerClassifier, sinusoidalPositions } from '../../src/networks/transformer.js';
import { buildTokenRnnClassifier } from '../../src/networks/lstm-classifier.js';
import { loadLayersModel, saveLayersModel } from '../../src/supervised/model-io.js';
import { initBackend } from '../../src/networks/backend.js';
import { InvalidConfigError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  dir = await mkdtemp(join(tmpdir(), 'npcforge-tf-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('Transformer encoder layer', () => {
  it('sinusoidal positions follow sin/cos of p / 10000^(2i/d)', () => {
    const pe = sinusoidalPositions(3, 4);
    expect(pe[0]).toBe(0);
    expect(pe[1]).toBe(1);
    expect(pe[4 + 0]).toBeCloseTo(Math.sin(1), 6);
    expect(pe[4 + 2]).toBeCloseTo(Math.sin(1 / 100), 6);
    expect(pe[8 + 3]).toBeCloseTo(Math.cos(2 / 100), 6);
  });

  it('padding mask: real positions ignore whatever sits at padded positions', async () => {
    const layer = new TransformerEncoderLayer({ dim: 8, numHeads: 2, ffDim: 16, dropout: 0 });
    const ids = tf.tensor2d([[5, 7, 3, 0, 0]], [1, 5], 'int32');
    const x1 = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 1);
    const noise = tf.concat([tf.zeros([1, 3, 8]), tf.randomNormal([1, 2, 8], 0, 5, 'float32', 2)], 1);
    const x2 = tf.add(x1, noise);
    const y1 = layer.apply([x1, ids]) as tf.Tensor;
    const y2 = layer.apply([x2, ids]) as tf.Tensor;
    const a = await y1.slice([0, 0, 0], [1, 3, 8]).data();
    const b = await y2.slice([0, 0, 0], [1, 3, 8]).data();
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 4));
    // Without the ids (no mask) the padded positions do leak into the real ones.
    const u1 = await (layer.apply([x1]) as tf.Tensor).slice([0, 0, 0], [1, 3, 8]).data();
    const u2 = await (layer.apply([x2]) as tf.Tensor).slice([0, 0, 0], [1, 3, 8]).data();
    expect(Math.max(...u1.map((v, i) => Math.abs(v - u2[i]!)))).toBeGreaterThan(1e-3);
    tf.dispose([ids, x1, noise, x2, y1, y2]);
    layer.dispose();
  });

  it('serialises and reloads (registered custom classes) with identical outputs', async () => {
    const model = buildTransformerClassifier({ vocabSize: 30, maxLen: 6, numClasses: 3, dim: 16, numHeads: 2, ffDim: 32, numLayers: 2 });
    const ids = tf.tensor2d([[4, 9, 2, 0, 0, 0], [1, 2, 3, 4, 5, 6]], [2, 6], 'int32');
    const before = await (model.predict(ids) as tf.Tensor).data();
    await saveLayersModel(model, join(dir, 'tf'));
    const loaded = await loadLayersModel(join(dir, 'tf'));
    expect(loaded.layers.map((l) => l.getClassName())).toContain('NpcforgeTransformerEncoderLayer');
    const after = await (loaded.predict(ids) as tf.Tensor).data();
    before.forEach((v, i) => expect(after[i]).toBeCloseTo(v, 5));
    // The LSTM baseline survives the same round trip.
    const rnn = buildTokenRnnClassifier({ vocabSize: 30, maxLen: 6, numClasses: 3, units: 8, embeddingDim: 8 });
    const r0 = await (rnn.predict(ids) as tf.Tensor).data();
    await saveLayersModel(rnn, join(dir, 'rnn'));
    const rnn2 = await loadLayersModel(join(dir, 'rnn'));
    const r1 = await (rnn2.predict(ids) as tf.Tensor).data();
    r0.forEach((v, i) => expect(r1[i]).toBeCloseTo(v, 5));
    [model, loaded, rnn, rnn2].forEach((m) => m.dispose());
    ids.dispose();
  });

  it('rejects a head count that does not divide the width', () => {
    expect(() => new TransformerEncoderLayer({ dim: 10, numHeads: 3, ffDim: 8, dropout: 0 })).toThrow(InvalidConfigError);
    expect(() => new TransformerEncoderLayer({ dim: 10, numHeads: 3, ffDim: 8, dropout: 0 })).toThrow(/numHeads=3 \(must divide dim\)/);
  });
});
