import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ActorCritic } from '../../src/agents/pg/actor-critic.js';
import { resolvePgConfig } from '../../src/agents/pg/config.js';
import { orthogonalMatrix } from '../../src/networks/orthogonal.js';
import { InvalidConfigError } from '../../src/errors.js';

/** M^T M (cols x cols) of a row-major rows x cols matrix, or M M^T when wide. */
function gram(m: ArrayLike<number>, rows: number, cols: number): number[][] {
  const tall = rows >= cols;
  const n = tall ? cols : rows;
  const k = tall ? rows : cols;
  const at = (i: number, j: number) => (tall ? m[j * cols + i]! : m[i * cols + j]!);
  return Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => {
    let s = 0;
    for (let t = 0; t < k; t++) s += at(a, t) * at(b, t);
    return s;
  }));
}

function expectScaledIdentity(g: number[][], gain: number): void {
  g.forEach((row, a) => row.forEach((v, b) => expect(v).toBeCloseTo(a === b ? gain * gain : 0, 4)));
}

describe('orthogonalMatrix', () => {
  it('has orthonormal columns (tall) or rows (wide) times the gain, and a seed fixes it', () => {
    expectScaledIdentity(gram(orthogonalMatrix(40, 7, { gain: Math.SQRT2, seed: 1 }), 40, 7), Math.SQRT2);
    expectScaledIdentity(gram(orthogonalMatrix(5, 24, { gain: 0.5, seed: 2 }), 5, 24), 0.5);
    expect(orthogonalMatrix(6, 6, { gain: 1, seed: 3 })).toEqual(orthogonalMatrix(6, 6, { gain: 1, seed: 3 }));
    expect(orthogonalMatrix(6, 6, { gain: 1, seed: 3 })).not.toEqual(orthogonalMatrix(6, 6, { gain: 1, seed: 4 }));
  });

  it('rejects a bad shape by name', () => {
    expect(() => orthogonalMatrix(0, 3, { gain: 1, seed: 0 })).toThrow(InvalidConfigError);
    expect(() => orthogonalMatrix(0, 3, { gain: 1, seed: 0 })).toThrow(/\[orthogonalMatrix\] expected positive integer rows/);
  });
});

describe('PG network initialisation (CleanRL layer_init)', () => {
  const spec = { obsShape: [6, 3, 4], numActions: 3, obsScale: 1, encoder: 'mlp' as const, mlpHidden: [64], lstmUnits: 32, seed: 3 };

  it('default: encoder orthogonal gain sqrt(2) with zero biases, LSTM orthogonal gain 1 with zero biases, heads 0.01 and 1', () => {
    const ac = new ActorCritic(spec);
    const [kernel, bias] = ac.encoder.layers.find((l) => l.getClassName() === 'Dense')!.getWeights();
    expectScaledIdentity(gram(kernel!.dataSync(), 72, 64), Math.SQRT2);
    expect(Array.from(bias!.dataSync()).every((v) => v === 0)).toBe(true);
    // The gate-major LSTM kernels flattened back to PyTorch's orientation: [in, 4H] with orthonormal rows.
    const flat = (v: tf.Variable, rows: number) => tf.tidy(() => tf.reshape(tf.transpose(v, [1, 0, 2]), [rows, 128]).dataSync());
    expectScaledIdentity(gram(flat(ac.lstm!.kernel, 64), 64, 128), 1);
    expectScaledIdentity(gram(flat(ac.lstm!.recurrentKernel, 32), 32, 128), 1);
    // No forget-gate bias of 1: CleanRL zeroes every LSTM bias.
    expect(Array.from(ac.lstm!.bias.dataSync()).every((v) => v === 0)).toBe(true);
    const [pk] = ac.policyHead.getWeights();
    const [vk] = ac.valueHead.getWeights();
    expectScaledIdentity(gram(pk!.dataSync(), 32, 3), 0.01);
    expectScaledIdentity(gram(vk!.dataSync(), 32, 1), 1);
    ac.dispose();
  });

  it("init 'glorot' keeps the previous Keras initialisation (forget-gate bias 1, non-orthogonal encoder)", () => {
    const ac = new ActorCritic({ ...spec, init: 'glorot' });
    const [kernel] = ac.encoder.layers.find((l) => l.getClassName() === 'Dense')!.getWeights();
    const g = gram(kernel!.dataSync(), 72, 64);
    expect(Math.abs(g[0]![0]! - 2)).toBeGreaterThan(0.1);
    const bias = ac.lstm!.bias.dataSync();
    expect(Array.from(bias.subarray(32, 64)).every((v) => v === 1)).toBe(true);
    ac.dispose();
  });

  it("the config defaults to 'orthogonal' and rejects other values", () => {
    expect(resolvePgConfig({}).init).toBe('orthogonal');
    expect(() => resolvePgConfig({ init: 'xavier' as never })).toThrow(/init="xavier" \(orthogonal or glorot\)/);
  });

  it('orthogonalises convolution kernels too (flattened over all but the output axis)', () => {
    const ac = new ActorCritic({ ...spec, obsShape: [10, 10, 4], encoder: 'minatar-cnn', lstmUnits: 0 });
    const conv = ac.encoder.layers.find((l) => l.getClassName() === 'Conv2D')!.getWeights()[0]!;
    expectScaledIdentity(gram(conv.dataSync(), 36, 16), Math.SQRT2);
    ac.dispose();
  });
});
