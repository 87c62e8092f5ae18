import { describe, expect, it } from 'vitest';
import { Box, Dict, Discrete, MultiDiscrete, spaceFromJSON } from '../../src/envs/spaces.js';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidConfigError, SpaceMismatchError } from '../../src/errors.js';

describe('spaces', () => {
  const rng = new SeededRng(0);

  it('Discrete validates, samples, masks and round-trips', () => {
    expect(() => new Discrete(0)).toThrow(InvalidConfigError);
    expect(() => new Discrete(2.5)).toThrow('[Discrete] expected n to be a positive integer, received 2.5; fix:');
    const d = new Discrete(4);
    for (let i = 0; i < 50; i++) expect(d.contains(d.sample(rng))).toBe(true);
    expect(d.contains(4)).toBe(false);
    expect(d.contains(1.5)).toBe(false);
    const mask = Uint8Array.from([0, 0, 1, 0]);
    for (let i = 0; i < 20; i++) expect(d.sample(rng, mask)).toBe(2);
    expect(() => d.sample(rng, new Uint8Array(4))).toThrow(SpaceMismatchError);
    expect(() => d.sample(rng, new Uint8Array(3))).toThrow(/mask of length 4/);
    expect(spaceFromJSON(JSON.parse(JSON.stringify(d.toJSON())))).toEqual(d);
  });

  it('Box validates shape, dtype and bounds with messages naming them', () => {
    expect(() => new Box({ shape: [], dtype: 'uint8', low: 0, high: 1 })).toThrow(/shape to be a non-empty array/);
    expect(() => new Box({ shape: [2], dtype: 'float64' as 'uint8', low: 0, high: 1 })).toThrow(/received "float64"/);
    expect(() => new Box({ shape: [2], dtype: 'uint8', low: 2, high: 1 })).toThrow(/low 2 > high 1 at index 0/);
    expect(() => new Box({ shape: [2], dtype: 'uint8', low: [0, 0, 0], high: 1 })).toThrow(/low to be a number or 2 numbers/);
  });

  it('Box contains checks type, length and bounds; sample stays inside', () => {
    const b = new Box({ shape: [2, 3], dtype: 'uint8', low: 0, high: 1 });
    expect(b.contains(new Uint8Array(6))).toBe(true);
    expect(b.contains(new Uint8Array(5))).toBe(false);
    expect(b.contains(new Float32Array(6))).toBe(false);
    expect(b.contains(Uint8Array.of(0, 0, 2, 0, 0, 0))).toBe(false);
    for (let i = 0; i < 20; i++) expect(b.contains(b.sample(rng))).toBe(true);
    const f = new Box({ shape: [3], dtype: 'float32', low: [-1, -Infinity, 0], high: [1, Infinity, 5] });
    for (let i = 0; i < 20; i++) expect(f.contains(f.sample(rng))).toBe(true);
    expect(spaceFromJSON(JSON.parse(JSON.stringify(f.toJSON()))).toJSON()).toEqual(f.toJSON());
  });

  it('MultiDiscrete and Dict', () => {
    expect(() => new MultiDiscrete([2, 0])).toThrow(/nvec to be a non-empty array of positive integers/);
    const m = new MultiDiscrete([3, 2]);
    for (let i = 0; i < 20; i++) expect(m.contains(m.sample(rng))).toBe(true);
    expect(m.contains([3, 0])).toBe(false);
    expect(() => new Dict({})).toThrow(InvalidConfigError);
    const d = new Dict({ a: new Discrete(2), b: m });
    expect(d.contains(d.sample(rng))).toBe(true);
    expect(d.contains({ a: 0 })).toBe(false);
    expect(spaceFromJSON(d.toJSON()).toJSON()).toEqual(d.toJSON());
    expect(() => spaceFromJSON({ type: 'Nope' } as never)).toThrow(/received "Nope"/);
  });
});
