import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { unpackTensors } from '../../src/networks/weights.js';

describe('unpackTensors', () => {
  it('reports a truncated weights file as byte counts, not as a shape mismatch', () => {
    // A [50, 64] tensor needs 12,800 bytes; the file holds 25 floats (100 bytes).
    const data = new Float32Array(25);
    const err = (() => {
      try {
        unpackTensors([{ shape: [50, 64], offset: 0 }], data, [[50, 64]], 'dqn.load online');
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err!.message).toBe('[dqn.load online] expected 12800 bytes for tensor 0 of shape [50,64] at byte 0, received a weights file of 100 bytes; fix: the checkpoint is truncated or corrupt; pick another with --checkpoint');
  });

  it('still names a shape mismatch as one', () => {
    expect(() => unpackTensors([{ shape: [64, 50], offset: 0 }], new Float32Array(3200), [[50, 64]], 'dqn.load online')).toThrow(/expected tensor 0 of shape \[50,64\], received shape \[64,50\] in the manifest/);
  });

  it('splits a complete buffer', () => {
    const data = Float32Array.from({ length: 10 }, (_, i) => i);
    const [a, b] = unpackTensors([{ shape: [2, 2], offset: 0 }, { shape: [6], offset: 4 }], data, [[2, 2], [6]], 't');
    expect(Array.from(a!)).toEqual([0, 1, 2, 3]);
    expect(Array.from(b!)).toEqual([4, 5, 6, 7, 8, 9]);
  });
});
