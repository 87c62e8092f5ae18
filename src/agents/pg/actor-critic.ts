/**
 * The actor-critic network of the policy-gradient agents: encoder (from the one builder,
 * `networks/encoders.ts`; Dict observations get one encoder per key) -> optional LSTM core ->
 * policy logits and value heads.
 *
 * The policy head gives the distribution's parameters: logits for Discrete (n) and MultiDiscrete
 * (sum of nvec), the Gaussian mean for Box (one per dimension) next to a state-independent log-std
 * variable initialised to 0 (CleanRL `ppo_continuous_action.py`).
 *
 * The encoder and heads are tfjs Layers (exportable as a LayersModel); the LSTM core is the
 * project's own cell (`src/networks/lstm.ts`, Keras weight layout) because it must reset its
 * state inside an unrolled sequence at episode starts.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import { Box, type Space } from '../../envs/spaces.js';
import { dictLayoutOf } from '../../envs/dict-obs.js';
import { InitSeeds, autoEncoder, buildEncoderModel } from '../../networks/encoders.js';
import { CNN_KINDS, type CnnKind, type EncoderSpec } from '../../networks/specs.js';
import { LstmCore, type LstmState } from '../../networks/lstm.js';
import { orthogonalizeLayers } from '../../networks/orthogonal.js';
import type { PgInit } from './config.js';

/** Which encoder turns an observation into a feature vector; 'auto' applies the one rule of `networks/encoders.ts`. */
export type EncoderKind = 'mlp' | CnnKind;

export interface ActorCriticSpec {
  /** Observation shape ([d] for vectors and flat Dict observations, [H, W, C] for grids and pixels). */
  obsShape: number[];
  /** The observation space: picks the 'auto' encoder, and a FlatDictBox gives the Dict layout. Default: a float32 Box of `obsShape`. */
  observationSpace?: Space;
  /** Width of the policy head: discrete actions, sum of a MultiDiscrete nvec, or Box dimensions. */
  numActions: number;
  /** Box actions: dimensions of the state-independent log-std variable (0 = none). */
  logStdDims?: number;
  /** A second encoder of the same kind for the value head (CleanRL's continuous PPO); feed-forward only. */
  separateCritic?: boolean;
  /** Multiplier applied to raw observations (1/255 for uint8 pixels). */
  obsScale: number;
  /** Encoder architecture. */
  encoder: EncoderKind | 'auto';
  /** Hidden layer sizes of MLP encoders (units; tanh, as CleanRL's PPO). */
  mlpHidden: number[];
  /** LSTM units between encoder and heads; 0 for a feed-forward network. */
  lstmUnits: number;
  /** Initialisation of the encoder and LSTM (default 'orthogonal', CleanRL's; see `PgConfig.init`). */
  init?: PgInit;
  /** Seed of every initialiser. */
  seed: number;
}

/** The encoder spec of a PG network: tanh MLPs of `mlpHidden`, 'auto' by the one rule. */
export function pgEncoderSpec(encoder: EncoderKind | 'auto', mlpHidden: readonly number[], observationSpace: Space): EncoderSpec {
  const mlp = { hidden: [...mlpHidden], activation: 'tanh' as const };
  if (encoder === 'auto') return autoEncoder(observationSpace, { mlp });
  return encoder === 'mlp' ? { kind: 'mlp', ...mlp } : { kind: encoder };
}

function buildPgEncoder(spec: ActorCriticSpec, space: Space, seed: number): tf.LayersModel {
  if (spec.mlpHidden.length === 0) throw new InvalidConfigError(formatError('ActorCritic', 'at least one mlpHidden layer', '[]', 'pass e.g. mlpHidden: [64, 64]'));
  const seeds = new InitSeeds(seed);
  const model = buildEncoderModel(spec.obsShape, pgEncoderSpec(spec.encoder, spec.mlpHidden, space), { seeds, layout: dictLayoutOf(space) });
  // CleanRL's layer_init: orthogonal, gain sqrt(2) (the ReLU/tanh hidden layers), zero biases.
  if ((spec.init ?? 'orthogonal') === 'orthogonal') orthogonalizeLayers(model, { gain: Math.SQRT2, nextSeed: () => seeds.next() });
  return model;
}

/** Outputs of a forward pass; every tensor belongs to the enclosing tidy. */
export interface ActorCriticOutput {
  /** Policy head output [rows, numActions]: logits, or the Gaussian mean for Box actions. */
  logits: tf.Tensor2D;
  /** State values [rows]. */
  values: tf.Tensor1D;
}

/** Encoder + optional LSTM + policy and value heads. Owns its variables: call `dispose()`. */
export class ActorCritic {
  readonly spec: ActorCriticSpec;
  readonly encoder: tf.LayersModel;
  readonly lstm: LstmCore | null;
  readonly policyHead: tf.Sequential;
  readonly valueHead: tf.Sequential;
  /** The value head's own encoder when `separateCritic`, else null (the value head shares `encoder`). */
  readonly criticEncoder: tf.LayersModel | null;
  /** Box actions: log-std per dimension [D], or null. */
  readonly logStd: tf.Variable<tf.Rank.R1> | null;

  constructor(spec: ActorCriticSpec) {
    const bad: string[] = [];
    if (!Array.isArray(spec.obsShape) || spec.obsShape.length === 0 || spec.obsShape.some((d) => !Number.isInteger(d) || d < 1)) bad.push(`obsShape=${describe(spec.obsShape)}`);
    if (!Number.isInteger(spec.numActions) || spec.numActions < 1) bad.push(`numActions=${describe(spec.numActions)}`);
    if (!Number.isInteger(spec.lstmUnits) || spec.lstmUnits < 0) bad.push(`lstmUnits=${describe(spec.lstmUnits)}`);
    if (!['auto', 'mlp', ...CNN_KINDS].includes(spec.encoder)) bad.push(`encoder=${describe(spec.encoder)}`);
    const logStdDims = spec.logStdDims ?? 0;
    if (!Number.isInteger(logStdDims) || logStdDims < 0) bad.push(`logStdDims=${describe(spec.logStdDims)}`);
    if (spec.separateCritic && spec.lstmUnits > 0) bad.push('separateCritic with lstmUnits > 0 (the LSTM core is shared)');
    if (bad.length) throw new InvalidConfigError(formatError('ActorCritic', 'a valid network spec', bad.join(', '), 'check obsShape, numActions, encoder and lstmUnits'));
    this.spec = { ...spec, obsShape: [...spec.obsShape], mlpHidden: [...spec.mlpHidden] };
    const space = spec.observationSpace ?? new Box({ shape: this.spec.obsShape, dtype: 'float32', low: -Infinity, high: Infinity });
    this.encoder = buildPgEncoder(this.spec, space, spec.seed);
    const featureSize = (this.encoder.outputs[0]!.shape[1] as number) ?? 0;
    this.lstm = spec.lstmUnits > 0 ? new LstmCore({ inputSize: featureSize, units: spec.lstmUnits, seed: spec.seed + 101, init: (spec.init ?? 'orthogonal') === 'orthogonal' ? 'orthogonal' : 'keras' }) : null;
    const headIn = this.lstm ? spec.lstmUnits : featureSize;
    // Small policy init (gain 0.01) starts near-uniform; value head gain 1 (Andrychowicz et al. 2021).
    this.policyHead = tf.sequential({ layers: [tf.layers.dense({ inputShape: [headIn], units: spec.numActions, kernelInitializer: tf.initializers.orthogonal({ gain: 0.01, seed: spec.seed + 201 }) })] });
    this.valueHead = tf.sequential({ layers: [tf.layers.dense({ inputShape: [headIn], units: 1, kernelInitializer: tf.initializers.orthogonal({ gain: 1, seed: spec.seed + 301 }) })] });
    this.criticEncoder = spec.separateCritic ? buildPgEncoder(this.spec, space, spec.seed + 401) : null;
    this.logStd = logStdDims > 0 ? tf.variable(tf.zeros([logStdDims]), true) as tf.Variable<tf.Rank.R1> : null;
  }

  get recurrent(): boolean {
    return this.lstm !== null;
  }

  get stateUnits(): number {
    return this.lstm?.units ?? 0;
  }

  /** Every trainable variable in a fixed order (the save order). */
  get variables(): tf.Variable[] {
    const fromLayers = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
    // Optional parts come last so the order (and saved weights) of existing networks is unchanged.
    return [
      ...fromLayers(this.encoder),
      ...(this.lstm ? this.lstm.variables : []),
      ...fromLayers(this.policyHead),
      ...fromLayers(this.valueHead),
      ...(this.criticEncoder ? fromLayers(this.criticEncoder) : []),
      ...(this.logStd ? [this.logStd] : []),
    ];
  }

  /** Raw observations [rows * obsSize] as a scaled float tensor [rows, ...obsShape]. Call inside tidy. */
  obsTensor(obs: ArrayLike<number> & { length: number }, rows: number): tf.Tensor {
    const x = tf.tensor(obs as Float32Array, [rows, ...this.spec.obsShape], 'float32');
    return this.spec.obsScale === 1 ? x : tf.mul(x, this.spec.obsScale);
  }

  private heads(features: tf.Tensor2D, x: tf.Tensor): ActorCriticOutput {
    const logits = this.policyHead.apply(features) as tf.Tensor2D;
    const criticFeatures = this.criticEncoder ? (this.criticEncoder.apply(x) as tf.Tensor2D) : features;
    const values = tf.reshape(this.valueHead.apply(criticFeatures) as tf.Tensor, [-1]) as tf.Tensor1D;
    return { logits, values };
  }

  /** One acting step for a batch; `state`/`starts` only for recurrent nets. Call inside tidy. */
  step(x: tf.Tensor, state: LstmState | null, starts: tf.Tensor1D | null): ActorCriticOutput & { state: LstmState | null } {
    const f = this.encoder.apply(x) as tf.Tensor2D;
    if (!this.lstm) return { ...this.heads(f, x), state: null };
    if (!state || !starts) throw new InvalidConfigError(formatError('ActorCritic.step', 'a state and starts flags for a recurrent network', 'none', 'pass initialState(batch) and the episode-start flags'));
    const next = this.lstm.step(f, state, starts);
    return { ...this.heads(next.h, x), state: next };
  }

  /**
   * A time-major sequence: x rows t * B + b, `steps` = T. Feed-forward nets ignore state/starts.
   * Call inside tidy.
   */
  sequence(x: tf.Tensor, state0: LstmState | null, starts: tf.Tensor1D | null, steps: number): ActorCriticOutput {
    const f = this.encoder.apply(x) as tf.Tensor2D;
    if (!this.lstm) return this.heads(f, x);
    if (!state0 || !starts) throw new InvalidConfigError(formatError('ActorCritic.sequence', 'a start state and starts flags for a recurrent network', 'none', 'pass the stored state at sequence start'));
    return this.heads(this.lstm.sequence(f, starts, state0, steps).outputs, x);
  }

  /** Zero recurrent state for `batch` rows, or null for a feed-forward net. Caller owns it. */
  initialState(batch: number): LstmState | null {
    return this.lstm ? this.lstm.zeroState(batch) : null;
  }

  /** Copies of every weight, in `variables` order. */
  async getWeights(): Promise<Array<{ shape: number[]; data: Float32Array }>> {
    const out: Array<{ shape: number[]; data: Float32Array }> = [];
    for (const v of this.variables) out.push({ shape: [...v.shape], data: (await v.data()) as Float32Array });
    return out;
  }

  /** Loads weights saved by `getWeights` (same spec), checking every shape. */
  setWeights(weights: Array<{ shape: number[]; data: Float32Array }>): void {
    const vars = this.variables;
    if (weights.length !== vars.length) {
      throw new SpaceMismatchError(formatError('ActorCritic.setWeights', `${vars.length} weight arrays`, String(weights.length), 'load weights saved by a network of the same spec'));
    }
    vars.forEach((v, i) => {
      const w = weights[i]!;
      if (w.shape.join('x') !== v.shape.join('x') || w.data.length !== v.size) {
        throw new SpaceMismatchError(formatError('ActorCritic.setWeights', `weight ${i} of shape [${v.shape}]`, `[${w.shape}]`, 'load weights saved by a network of the same spec'));
      }
      tf.tidy(() => v.assign(tf.tensor(w.data, v.shape, 'float32')));
    });
  }

  dispose(): void {
    this.encoder.dispose();
    this.policyHead.dispose();
    this.valueHead.dispose();
    this.criticEncoder?.dispose();
    this.logStd?.dispose();
    this.lstm?.dispose();
  }
}
