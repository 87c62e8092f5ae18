import { describe, expect, it } from 'vitest';
import { SequenceReplay } from '../../src/replay/buffer/sequence-replay.js';
import { SeededRng } from '../../src/envs/rng.js';
import { InvalidConfigError, NpcforgeError } from '../../src/errors.js';

/** Writes `steps` vector steps; obs value = 100 * stream + step, state = -(100 * stream + step). */
function fill(r: SequenceReplay, steps: number, from = 0): void {
  const N = r.config.numStreams;
  for (let t = from; t < from + steps; t++) {
    const obs = new Float32Array(N * r.config.obsSize);
    const states = new Float32Array(N * r.config.stateSize);
    for (let s = 0; s < N; s++) {
      obs.fill(100 * s + t, s * r.config.obsSize, (s + 1) * r.config.obsSize);
      states.fill(-(100 * s + t), s * r.config.stateSize, (s + 1) * r.config.stateSize);
    }
    r.addBatch({
      obs,
      actions: Int32Array.from({ length: N }, (_, s) => (t + s) % 3),
      rewards: Float32Array.from({ length: N }, () => t),
      terminated: Uint8Array.from({ length: N }, () => (t % 5 === 4 ? 1 : 0)),
      truncated: new Uint8Array(N),
      starts: Float32Array.from({ length: N }, () => (t % 5 === 0 ? 1 : 0)),
      states: r.config.stateSize ? states : undefined,
    });
  }
}

describe('SequenceReplay', () => {
  it('samples consecutive steps of one stream, time-major, with flags and the first step\'s state', () => {
    const r = new SequenceReplay({ capacity: 40, numStreams: 2, obsSize: 3, obsDtype: 'float32', stateSize: 4 });
    fill(r, 30); // 20 per stream kept: steps 10..29
    const s = r.sample(16, 6, new SeededRng(1));
    for (let b = 0; b < 16; b++) {
      const first = s.obs[b * 3]!;
      const stream = Math.floor(first / 100);
      const step0 = first - 100 * stream;
      expect(step0).toBeGreaterThanOrEqual(10);
      expect(step0 + 5).toBeLessThanOrEqual(29);
      for (let t = 0; t < 6; t++) {
        const row = t * 16 + b;
        const step = step0 + t;
        expect(Array.from(s.obs.subarray(row * 3, row * 3 + 3))).toEqual([first + t, first + t, first + t]);
        expect(s.actions[row]).toBe((step + stream) % 3);
        expect(s.rewards[row]).toBe(step);
        expect(s.terminated[row]).toBe(step % 5 === 4 ? 1 : 0);
        expect(s.starts[row]).toBe(step % 5 === 0 ? 1 : 0);
      }
      expect(Array.from(s.state0.subarray(b * 4, b * 4 + 4))).toEqual([-first, -first, -first, -first]);
    }
  });

  it('samples a memory 1000x larger than its fill from the stored steps only', () => {
    // The issue-14 bug of the flat replay (draws over the capacity); the sequence replay must not have it either.
    const r = new SequenceReplay({ capacity: 2 * 30_000, numStreams: 2, obsSize: 1, obsDtype: 'float32', stateSize: 0 });
    fill(r, 30);
    const s = r.sample(64, 4, new SeededRng(3));
    for (let b = 0; b < 64; b++) {
      const step0 = s.obs[b]! % 100;
      expect(step0 + 3).toBeLessThanOrEqual(29);
      for (let t = 1; t < 4; t++) expect(s.obs[t * 64 + b]).toBe(s.obs[b]! + t);
    }
  });

  it('never samples across the ring\'s write position', () => {
    const r = new SequenceReplay({ capacity: 10, numStreams: 1, obsSize: 1, obsDtype: 'float32', stateSize: 0 });
    fill(r, 23); // holds steps 13..22
    const s = r.sample(200, 4, new SeededRng(2));
    const firsts = new Set<number>();
    for (let b = 0; b < 200; b++) {
      firsts.add(s.obs[b]!);
      for (let t = 1; t < 4; t++) expect(s.obs[t * 200 + b]).toBe(s.obs[b]! + t);
    }
    // Every start 13..19 is drawn, nothing else.
    expect([...firsts].sort((a, b) => a - b)).toEqual([13, 14, 15, 16, 17, 18, 19]);
  });

  it('round-trips through bytes and rejects another config', () => {
    const r = new SequenceReplay({ capacity: 30, numStreams: 3, obsSize: 2, obsDtype: 'uint8', stateSize: 2 });
    fill(r, 17);
    const copy = new SequenceReplay({ capacity: 30, numStreams: 3, obsSize: 2, obsDtype: 'uint8', stateSize: 2 });
    copy.loadBytes(r.toBytes());
    expect(copy.size).toBe(r.size);
    expect(copy.sample(8, 5, new SeededRng(3))).toEqual(r.sample(8, 5, new SeededRng(3)));
    const other = new SequenceReplay({ capacity: 30, numStreams: 3, obsSize: 2, obsDtype: 'uint8', stateSize: 0 });
    expect(() => other.loadBytes(r.toBytes())).toThrow(InvalidConfigError);
    expect(() => copy.loadBytes(r.toBytes().subarray(0, r.toBytes().length - 10))).toThrow(/truncated/);
  });

  it('reports bad configs, bad batches and sampling before enough steps', () => {
    expect(() => new SequenceReplay({ capacity: 0, numStreams: 1.5, obsSize: 1, obsDtype: 'uint8', stateSize: 0 })).toThrow(/capacity.*numStreams/);
    const r = new SequenceReplay({ capacity: 10, numStreams: 2, obsSize: 1, obsDtype: 'uint8', stateSize: 2 });
    expect(() => r.addBatch({ obs: [1, 2], actions: [0, 0], rewards: [0, 0], terminated: [0, 0], truncated: [0, 0], starts: [1, 1] })).toThrow(/state values/);
    expect(r.canSample(1)).toBe(false);
    expect(() => r.sample(1, 1, new SeededRng(0))).toThrow(NpcforgeError);
  });
});
