/**
 * Seeds for tfjs's random ops, so that the same `--seed` gives the same weights. Two tfjs habits
 * break that silently:
 * - its normal and truncated-normal generators read a seed of 0 as "no seed"
 *   (`seed ? seed : Math.random()`), so a seed that happens to be 0 (seed 0 times anything)
 *   initialised from `Math.random`;
 * - dropout draws its mask from `Math.random` unless it is given a seed, and a fixed seed draws the
 *   same mask at every step. A training loop therefore hands every dropout layer a fresh seed from
 *   its own seeded RNG before each step (`withDropoutSeeds`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../envs/rng.js';

/** A fixed stand-in for 0, which tfjs would treat as unseeded. */
const ZERO_SEED = 0x7fffffff;

/** A seed tfjs honours: `n` itself, except 0. */
export function tfjsSeed(n: number): number {
  return n === 0 ? ZERO_SEED : n;
}

/** A layer that applies dropout inside its own `call` (tf.dropout) and takes the seed of its next masks. */
export interface DropoutSeedable {
  /** Seed of the masks drawn by the next training call; undefined: unseeded. Several masks in one call derive from it. */
  setDropoutSeed(seed: number | undefined): void;
}

function isDropoutSeedable(layer: unknown): layer is DropoutSeedable {
  return typeof (layer as Partial<DropoutSeedable>).setDropoutSeed === 'function';
}

/** tfjs's Dropout layer passes its `seed` field to tf.dropout on every call; the field is not in its public type. */
type TfjsDropout = { seed?: number };

function setSeed(layer: tf.layers.Layer, seed: number | undefined): void {
  if (isDropoutSeedable(layer)) layer.setDropoutSeed(seed);
  else if (layer.getClassName() === 'Dropout') (layer as unknown as TfjsDropout).seed = seed;
}

/**
 * Runs `step` with every dropout layer of `model` seeded from `rng` (one draw per layer, in layer
 * order), then clears the seeds again so that a model saved later carries none.
 */
export async function withDropoutSeeds<T>(model: tf.LayersModel, rng: Rng, step: () => T | Promise<T>): Promise<T> {
  const layers = model.layers.filter((l) => isDropoutSeedable(l) || l.getClassName() === 'Dropout');
  // Seeds in [1, 2^31 - 1): never 0 (unseeded to tfjs), and layers deriving seed + k stay below 2^31.
  for (const l of layers) setSeed(l, rng.int(1, 0x7fffff00));
  try {
    return await step();
  } finally {
    for (const l of layers) setSeed(l, undefined);
  }
}
