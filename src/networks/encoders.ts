/**
 * THE encoder builder and THE auto-selection rule. Every agent (DQN, DRQN, SAC, PPO, A2C,
 * REINFORCE, with or without LSTM) turns observations into features through `buildEncoder`, and
 * picks the encoder for `'auto'` through `autoEncoder`:
 * - vectors -> MLP (the agent's hidden sizes and activation: tanh for PG, relu for DQN/SAC);
 * - grids smaller than 36x36 -> MinAtar CNN (Young & Tian 2019);
 * - images of at least 36x36 -> Nature CNN (Mnih et al. 2015);
 * - Dict observations -> one encoder per key by the same rule, features concatenated in key
 *   order (SB3 `MultiInputPolicy` / `CombinedExtractor`).
 *
 * Only stock tfjs layers are used, so every network exports as a LayersModel the runtime loads
 * with `tf.loadLayersModel`. A Dict observation arrives flat (`src/envs/dict-obs.ts`); the split
 * per key is a Reshape to [N, 1, 1], a Cropping2D that keeps rows [offset, offset + size), and a
 * Reshape to the key's shape: a slice expressed in stock layers.
 */
import * as tf from '@tensorflow/tfjs';
import { SpaceMismatchError, formatError, describe } from '../errors.js';
import { SeededRng } from '../envs/rng.js';
import { Box, Dict, type Space } from '../envs/spaces.js';
import { FlatDictBox, dictLayout, type DictLayout } from '../envs/dict-obs.js';
import { CNN_TORSOS, checkEncoderSpec, encoderInputProblems, type CnnKind, type EncoderSpec, type MlpActivation } from './specs.js';

/** Hands out one initialiser seed per layer, derived from one seed: equal seeds give identical weights. */
export class InitSeeds {
  private readonly rng: SeededRng;
  constructor(seed: number) {
    this.rng = new SeededRng(seed);
  }
  /** The next seed (an integer in [0, 2^31 - 1)). */
  next(): number {
    return this.rng.int(0, 0x7fffffff);
  }
  /** Glorot-uniform kernel initialiser with the next seed. */
  kernel(): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.next() });
  }
}

/** Options of `autoEncoder`. */
export interface AutoEncoderOptions {
  /** MLP chosen for vectors (default hidden [64, 64], relu). */
  mlp?: { hidden: number[]; activation?: MlpActivation };
  /** Dict observations: dense layers after the concatenated per-key features (default none). */
  dictHidden?: number[];
}

/** Smallest image side that gets the Nature CNN (its 8x8/4, 4x4/2, 3x3/1 convolutions need 36). */
const NATURE_MIN_SIDE = CNN_TORSOS['nature-cnn'].minSide;
/** Smallest grid side that gets the MinAtar CNN (its 3x3 convolution). */
const MINATAR_MIN_SIDE = CNN_TORSOS['minatar-cnn'].minSide;

/** The one auto rule: picks the encoder of an observation space (see the top of this file). */
export function autoEncoder(space: Space, options: AutoEncoderOptions = {}): EncoderSpec {
  const mlp: EncoderSpec = { kind: 'mlp', hidden: [...(options.mlp?.hidden ?? [64, 64])], ...(options.mlp?.activation ? { activation: options.mlp.activation } : {}) };
  const dict = space instanceof FlatDictBox ? space.dict : space instanceof Dict ? space : null;
  if (dict) {
    const keys: Record<string, EncoderSpec> = {};
    for (const e of dictLayout(dict).entries) keys[e.key] = autoEncoder(dict.spaces[e.key]!, { mlp: options.mlp });
    return { kind: 'dict', keys, ...(options.dictHidden?.length ? { hidden: [...options.dictHidden] } : {}), ...(options.mlp?.activation ? { activation: options.mlp.activation } : {}) };
  }
  if (!(space instanceof Box)) throw new SpaceMismatchError(formatError('autoEncoder', 'a Box or Dict observation space', space?.type ?? describe(space), 'use an env with array (or Dict of array) observations'));
  const [h = 0, w = 0] = space.shape;
  if (space.shape.length !== 3) return mlp;
  if (h >= NATURE_MIN_SIDE && w >= NATURE_MIN_SIDE) return { kind: 'nature-cnn' };
  if (h >= MINATAR_MIN_SIDE && w >= MINATAR_MIN_SIDE) return { kind: 'minatar-cnn' };
  return mlp;
}

/** Height and width of the last convolution's map of a CNN torso over [h, w] frames. */
export function torsoMap(kind: CnnKind, h: number, w: number): [number, number] {
  for (const [, k, s] of CNN_TORSOS[kind].convs) {
    h = Math.floor((h - k) / s) + 1;
    w = Math.floor((w - k) / s) + 1;
  }
  return [h, w];
}

/**
 * A one-line hint when an agent's encoder setting (`encoder` of PPO/A2C/REINFORCE, `network` of
 * DQN: 'auto', a kind name or a spec) gives the Nature torso frames so small that its last map is
 * under 4x4 (frames under 60 px), where `small-cnn` keeps a spatial map; null otherwise.
 */
export function smallFrameHint(setting: unknown, space: Space): string | null {
  if (!(space instanceof Box) || space.shape.length !== 3) return null;
  const kind = setting === 'auto' ? autoEncoder(space).kind : typeof setting === 'string' ? setting : (setting as { kind?: unknown } | null)?.kind;
  if (kind !== 'nature-cnn') return null;
  const [h, w] = space.shape as [number, number, number];
  const [mh, mw] = torsoMap('nature-cnn', h, w);
  if (mh >= 4 && mw >= 4) return null;
  const [sh, sw] = torsoMap('small-cnn', h, w);
  return `the nature-cnn encoder leaves a ${mh}x${mw} map of ${h}x${w} frames, where small-cnn keeps ${sh}x${sw} and learned faster on pong's 40x40 field: set "encoder": "small-cnn" (ppo, a2c, reinforce) or "network": {"kind": "small-cnn"} (dqn) in --config`;
}

/** What `buildEncoder` needs besides the input and the spec. */
export interface EncoderContext {
  /** Initialiser seeds, consumed one per layer in build order. */
  seeds: InitSeeds;
  /** Dict observations: how the flat input splits per key; null or absent otherwise. */
  layout?: DictLayout | null;
}

function applyLayer(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

function denseStack(x: tf.SymbolicTensor, hidden: readonly number[], activation: MlpActivation, seeds: InitSeeds): tf.SymbolicTensor {
  if (x.shape.length > 2) x = applyLayer(tf.layers.flatten(), x);
  for (const units of hidden) x = applyLayer(tf.layers.dense({ units, activation, kernelInitializer: seeds.kernel(), biasInitializer: 'zeros' }), x);
  return x;
}

/** Slice [offset, offset + size) of a flat [batch, n] input, reshaped to `shape`, in stock layers. */
function sliceKey(x: tf.SymbolicTensor, n: number, offset: number, size: number, shape: readonly number[]): tf.SymbolicTensor {
  const column = applyLayer(tf.layers.reshape({ targetShape: [n, 1, 1] }), x);
  const rows = applyLayer(tf.layers.cropping2D({ cropping: [[offset, n - offset - size], [0, 0]] }), column);
  return applyLayer(tf.layers.reshape({ targetShape: [...shape] }), rows);
}

/**
 * Adds the layers of `spec` over `input` ([batch, ...shape]) and returns the features
 * [batch, width]. Throws SpaceMismatchError when the spec does not fit the input.
 */
export function buildEncoder(input: tf.SymbolicTensor, spec: EncoderSpec, ctx: EncoderContext): tf.SymbolicTensor {
  const inputShape = input.shape.slice(1) as number[];
  const layout = ctx.layout ?? null;
  const problems = [...checkEncoderSpec(spec), ...encoderInputProblems(spec, inputShape, layout ? layout.entries.map((e) => e.key) : null)];
  if (layout && (inputShape.length !== 1 || inputShape[0] !== layout.size)) problems.push(`input [${inputShape.join(', ')}] is not the flat Dict observation [${layout.size}]`);
  if (problems.length) throw new SpaceMismatchError(formatError('buildEncoder', 'an encoder spec that fits the observation', problems.join('; '), "use encoder 'auto' or fix the listed fields"));
  const { seeds } = ctx;
  let x = input;
  switch (spec.kind) {
    case 'mlp':
      return denseStack(x, spec.hidden, spec.activation ?? 'relu', seeds);
    case 'minatar-cnn':
    case 'small-cnn':
    case 'nature-cnn': {
      const torso = CNN_TORSOS[spec.kind];
      for (const [filters, kernelSize, strides] of torso.convs) {
        x = applyLayer(tf.layers.conv2d({ filters, kernelSize, strides, padding: 'valid', activation: 'relu', kernelInitializer: seeds.kernel(), biasInitializer: 'zeros' }), x);
      }
      return denseStack(x, [torso.dense], 'relu', seeds);
    }
    case 'dict': {
      const n = layout!.size;
      // Key order (sorted) fixes both the seeds each key's layers get and the concatenation order.
      const features = layout!.entries.map((e) => {
        const keyInput = sliceKey(input, n, e.offset, e.size, e.shape);
        const f = buildEncoder(keyInput, spec.keys[e.key]!, { seeds });
        return f.shape.length > 2 ? applyLayer(tf.layers.flatten(), f) : f;
      });
      const joined = features.length === 1 ? features[0]! : (tf.layers.concatenate().apply(features) as tf.SymbolicTensor);
      return denseStack(joined, spec.hidden ?? [], spec.activation ?? 'relu', seeds);
    }
  }
}

/**
 * An encoder as its own model: observations [batch, ...inputShape] -> features [batch, width].
 * The caller owns the model.
 */
export function buildEncoderModel(inputShape: readonly number[], spec: EncoderSpec, ctx: EncoderContext): tf.LayersModel {
  const input = tf.input({ shape: [...inputShape], dtype: 'float32' });
  return tf.model({ inputs: input, outputs: buildEncoder(input, spec, ctx) });
}
