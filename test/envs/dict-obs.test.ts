import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { SpaceMismatchError } from '../../src/errors.js';
import { FlatDictBox, FlattenDictObservation, dictLayout, dictLayoutOf, flattenDictObs, observationSpaceFromJSON } from '../../src/envs/dict-obs.js';
import { make } from '../../src/envs/registry.js';
import { WorkerVectorEnv } from '../../src/envs/vector/worker-vector-env.js';
import { Box, Dict, Discrete } from '../../src/envs/spaces.js';

// Keys deliberately listed out of order: the layout sorts them.
const space = new Dict({
  vec: new Box({ shape: [3], dtype: 'float32', low: -2, high: 2 }),
  pixels: new Box({ shape: [2, 2, 1], dtype: 'uint8', low: 0, high: 255 }),
  cells: new Box({ shape: [1, 2, 2], dtype: 'uint8', low: 0, high: 1 }),
});

describe('Dict observation layout', () => {
  it('puts keys in sorted order at consecutive offsets; byte pixels get 1/255, 0/1 grids and floats 1', () => {
    const l = dictLayout(space);
    expect(l.size).toBe(4 + 4 + 3);
    expect(l.entries.map((e) => [e.key, e.offset, e.size, e.scale])).toEqual([
      ['cells', 0, 4, 1],
      ['pixels', 4, 4, 1 / 255],
      ['vec', 8, 3, 1],
    ]);
    expect(l.entries[1]!.shape).toEqual([2, 2, 1]);
  });

  it('flattens an observation by hand-computed offsets and scales', () => {
    const flat = flattenDictObs(dictLayout(space), { vec: Float32Array.of(0.5, -1, 2), pixels: Uint8Array.of(0, 51, 255, 102), cells: Uint8Array.of(1, 0, 0, 1) });
    expect(Array.from(flat)).toEqual([1, 0, 0, 1, 0, Math.fround(51 / 255), 1, Math.fround(102 / 255), 0.5, -1, 2]);
  });

  it('refuses a missing or mis-sized key, naming the key', () => {
    const l = dictLayout(space);
    expect(() => flattenDictObs(l, { vec: new Float32Array(3), pixels: new Uint8Array(3), cells: new Uint8Array(4) })).toThrow(SpaceMismatchError);
    expect(() => flattenDictObs(l, { vec: new Float32Array(3), pixels: new Uint8Array(3), cells: new Uint8Array(4) })).toThrow(/4 values at key "pixels", received 3 values/);
    expect(() => flattenDictObs(l, { vec: new Float32Array(3), cells: new Uint8Array(4) })).toThrow(/4 values at key "pixels", received undefined/);
  });

  it('refuses a non-Box key by name', () => {
    expect(() => dictLayout(new Dict({ pos: new Box({ shape: [2], dtype: 'float32', low: 0, high: 1 }), mode: new Discrete(3) }))).toThrow(SpaceMismatchError);
    expect(() => dictLayout(new Dict({ pos: new Box({ shape: [2], dtype: 'float32', low: 0, high: 1 }), mode: new Discrete(3) }))).toThrow(/Discrete at key .*mode/);
  });

  it('FlatDictBox: a float32 Box of the scaled bounds that survives a JSON round trip', () => {
    const box = new FlatDictBox(space);
    expect(box.shape).toEqual([11]);
    expect(box.dtype).toBe('float32');
    expect(Array.from(box.high)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
    expect(Array.from(box.low)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, -2, -2, -2]);
    const back = observationSpaceFromJSON(JSON.parse(JSON.stringify(box.toJSON())));
    expect(back).toBeInstanceOf(FlatDictBox);
    expect(dictLayoutOf(back)).toEqual(box.layout);
    expect(dictLayoutOf(new Box({ shape: [3], dtype: 'float32', low: 0, high: 1 }))).toBeNull();
  });

  it('make() flattens a Dict-observation game; the flat observation is in the declared space', () => {
    const env = make('beacon');
    expect(env.observationSpace).toBeInstanceOf(FlatDictBox);
    const { obs } = env.reset({ seed: 3 });
    expect(obs).toBeInstanceOf(Float32Array);
    expect(env.observationSpace.contains(obs)).toBe(true);
    const r = env.step(0);
    expect(r.obs).not.toBe(obs);
    expect(env.observationSpace.contains(r.obs)).toBe(true);
  });

  it('FlattenDictObservation refuses an env without a Dict space', () => {
    expect(() => new FlattenDictObservation(make('cartpole') as never)).toThrow(SpaceMismatchError);
  });

  it('a worker vector env rebuilds the FlatDictBox from JSON and steps the same flat observations as make()', async () => {
    const v = await WorkerVectorEnv.create({ id: 'beacon', numEnvs: 2, numWorkers: 1 });
    try {
      expect(v.singleObservationSpace).toBeInstanceOf(FlatDictBox);
      expect(dictLayoutOf(v.singleObservationSpace)).toEqual((make('beacon').observationSpace as FlatDictBox).layout);
      const r = await v.reset({ seed: 4 });
      const single = make('beacon');
      const first = single.reset({ seed: 4 }).obs as Float32Array;
      expect(Array.from(r.obs.subarray(0, 130))).toEqual(Array.from(first));
    } finally {
      await v.close();
    }
  });
});
