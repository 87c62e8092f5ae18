import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SpaceMismatchError } from '../../src/errors.js';
import { FlatDictBox, dictLayout } from '../../src/envs/dict-obs.js';
import { Box, Dict, Discrete } from '../../src/envs/spaces.js';
import { InitSeeds, autoEncoder, buildEncoder, buildEncoderModel, smallFrameHint, torsoMap } from '../../src/networks/encoders.js';
import { buildQNetwork } from '../../src/networks/builders.js';
import type { EncoderSpec } from '../../src/networks/specs.js';

const box = (shape: number[], dtype: 'uint8' | 'float32' = 'float32', high = 1) => new Box({ shape, dtype, low: 0, high });

describe('small frames: torsoMap and the hint a run prints', () => {
  it('maps of the Nature and small torsos: 84 -> 7, 60 -> 4, 40 -> 1 and 9', () => {
    expect(torsoMap('nature-cnn', 84, 84)).toEqual([7, 7]);
    expect(torsoMap('nature-cnn', 60, 59)).toEqual([4, 3]);
    expect(torsoMap('nature-cnn', 40, 40)).toEqual([1, 1]);
    expect(torsoMap('small-cnn', 40, 40)).toEqual([9, 9]);
    expect(torsoMap('minatar-cnn', 10, 10)).toEqual([8, 8]);
  });

  it('hints at small-cnn when auto or an explicit nature-cnn meets frames under 60 px, and only then', () => {
    const pong = box([40, 40, 1], 'uint8', 255);
    for (const setting of ['auto', 'nature-cnn', { kind: 'nature-cnn' }]) expect(smallFrameHint(setting, pong)).toMatch(/^the nature-cnn encoder leaves a 1x1 map of 40x40 frames, where small-cnn keeps 9x9 .*"encoder": "small-cnn"/);
    expect(smallFrameHint('auto', box([60, 60, 4], 'uint8', 255))).toBeNull();
    expect(smallFrameHint('auto', box([84, 84, 4], 'uint8', 255))).toBeNull();
    expect(smallFrameHint('small-cnn', pong)).toBeNull();
    expect(smallFrameHint({ kind: 'mlp', hidden: [8] }, pong)).toBeNull();
    expect(smallFrameHint('auto', box([10, 10, 4], 'uint8'))).toBeNull();
    expect(smallFrameHint('auto', box([6]))).toBeNull();
    expect(smallFrameHint(undefined, pong)).toBeNull();
  });
});

describe('autoEncoder: the one rule', () => {
  it('vector -> MLP (default [64, 64] relu; the agent can pass its own hidden sizes and activation)', () => {
    expect(autoEncoder(box([4]))).toEqual({ kind: 'mlp', hidden: [64, 64] });
    expect(autoEncoder(box([4]), { mlp: { hidden: [32], activation: 'tanh' } })).toEqual({ kind: 'mlp', hidden: [32], activation: 'tanh' });
  });

  it('small grid (< 36x36) -> MinAtar CNN; large image -> Nature CNN; a grid too small for a 3x3 conv -> MLP', () => {
    expect(autoEncoder(box([10, 10, 4], 'uint8'))).toEqual({ kind: 'minatar-cnn' });
    expect(autoEncoder(box([35, 84, 1], 'uint8', 255))).toEqual({ kind: 'minatar-cnn' });
    expect(autoEncoder(box([84, 84, 4], 'uint8', 255))).toEqual({ kind: 'nature-cnn' });
    expect(autoEncoder(box([36, 36, 1], 'uint8', 255))).toEqual({ kind: 'nature-cnn' });
    expect(autoEncoder(box([2, 5, 1], 'uint8'))).toEqual({ kind: 'mlp', hidden: [64, 64] });
  });

  it('Dict -> one encoder per key by the same rule (a raw Dict or its flattened FlatDictBox)', () => {
    const dict = new Dict({ vec: box([3]), grid: box([8, 8, 2], 'uint8'), frame: box([84, 84, 1], 'uint8', 255) });
    const want = { kind: 'dict', keys: { frame: { kind: 'nature-cnn' }, grid: { kind: 'minatar-cnn' }, vec: { kind: 'mlp', hidden: [16], activation: 'tanh' } }, activation: 'tanh' };
    expect(autoEncoder(dict, { mlp: { hidden: [16], activation: 'tanh' } })).toEqual(want);
    expect(autoEncoder(new FlatDictBox(dict), { mlp: { hidden: [16], activation: 'tanh' } })).toEqual(want);
    expect(autoEncoder(new FlatDictBox(dict), { mlp: { hidden: [] }, dictHidden: [64] })).toEqual({ kind: 'dict', keys: { frame: { kind: 'nature-cnn' }, grid: { kind: 'minatar-cnn' }, vec: { kind: 'mlp', hidden: [] } }, hidden: [64] });
  });

  it('names a space it cannot encode', () => {
    expect(() => autoEncoder(new Discrete(3))).toThrow(SpaceMismatchError);
    expect(() => autoEncoder(new Discrete(3))).toThrow(/expected a Box or Dict observation space, received Discrete/);
  });
});

describe('buildEncoder', () => {
  it('a Dict encoder equals the per-key encoders applied to their slices, concatenated in key order', () => {
    const dict = new Dict({ vec: box([3]), grid: box([5, 4, 2], 'uint8') });
    const layout = dictLayout(dict);
    const spec = autoEncoder(dict, { mlp: { hidden: [6], activation: 'tanh' } });
    const model = buildEncoderModel([layout.size], spec, { seeds: new InitSeeds(7), layout });
    // The same seed stream, key by key in sorted order, gives each key's encoder the same weights.
    const seeds = new InitSeeds(7);
    const keySpecs = (spec as Extract<EncoderSpec, { kind: 'dict' }>).keys;
    const perKey = layout.entries.map((e) => ({ e, m: buildEncoderModel(e.shape, keySpecs[e.key]!, { seeds }) }));
    const rows = 3;
    const data = Float32Array.from({ length: rows * layout.size }, (_, i) => Math.sin(i * 1.7));
    const x = tf.tensor2d(data, [rows, layout.size]);
    const got = model.predict(x) as tf.Tensor;
    const want = tf.concat(perKey.map(({ e, m }) => m.predict(tf.reshape(tf.slice(x, [0, e.offset], [rows, e.size]), [rows, ...e.shape])) as tf.Tensor), 1);
    expect(got.shape).toEqual([rows, 128 + 6]);
    const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-6);
    // And it is not trivially so: the grid features differ between rows.
    expect(tf.max(tf.abs(tf.sub(tf.slice(got, [0, 0], [1, 128]), tf.slice(got, [1, 0], [1, 128])))).dataSync()[0]!).toBeGreaterThan(1e-4);
    tf.dispose([x, got, want]);
    model.dispose();
    perKey.forEach(({ m }) => m.dispose());
  });

  it('dense layers after the concatenation when `hidden` is given', () => {
    const dict = new Dict({ a: box([2]), b: box([3]) });
    const layout = dictLayout(dict);
    const input = tf.input({ shape: [layout.size] });
    const f = buildEncoder(input, { kind: 'dict', keys: { a: { kind: 'mlp', hidden: [] }, b: { kind: 'mlp', hidden: [4] } }, hidden: [9] }, { seeds: new InitSeeds(1), layout });
    expect(f.shape).toEqual([null, 9]);
  });

  it('equal seeds give identical weights (the DQN seeding is unchanged)', () => {
    const a = buildQNetwork({ inputShape: [10, 10, 4], numActions: 3, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 5 });
    const b = buildQNetwork({ inputShape: [10, 10, 4], numActions: 3, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 5 });
    a.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(b.getWeights()[i]!.dataSync())));
    a.dispose();
    b.dispose();
  });

  it('refuses a spec that does not fit the observation, listing the problems', () => {
    const dict = new Dict({ a: box([2]), b: box([3]) });
    const layout = dictLayout(dict);
    const input = tf.input({ shape: [layout.size] });
    expect(() => buildEncoder(input, { kind: 'dict', keys: { a: { kind: 'mlp', hidden: [] } } }, { seeds: new InitSeeds(1), layout })).toThrow(/encoder keys \[a\] must be the observation keys \[a, b\]/);
    expect(() => buildEncoder(input, { kind: 'dict', keys: { a: { kind: 'mlp', hidden: [] }, b: { kind: 'mlp', hidden: [] } } }, { seeds: new InitSeeds(1) })).toThrow(/needs a Dict observation space/);
    expect(() => buildEncoder(tf.input({ shape: [2, 2, 1] }), { kind: 'minatar-cnn' }, { seeds: new InitSeeds(1) })).toThrow(SpaceMismatchError);
    expect(() => buildEncoder(input, { kind: 'dict', keys: { a: { kind: 'dict', keys: {} } as never, b: { kind: 'mlp', hidden: [] } } }, { seeds: new InitSeeds(1), layout })).toThrow(/encoder.keys.a.kind = "dict"/);
  });
});
