/** SAC hyperparameters, presets and their validation. Step counts are env steps summed over sub-envs. */
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { applyOverrides, fieldChecks } from '../config-fields.js';
import { MAX_LAYER_UNITS, type DictEncoderSpec, type EncoderSpec } from '../../networks/specs.js';
import { autoEncoder } from '../../networks/encoders.js';
import { dictLayoutOf, type DictLayout } from '../../envs/dict-obs.js';
import type { Space } from '../../envs/spaces.js';
import { checkOptimizerConfig, type OptimizerConfig } from '../../networks/optimizers.js';

/**
 * Noise of the policy's training samples u = mean + std * eps (evaluation uses the mean).
 * - `white`: eps ~ N(0, 1) drawn anew every step (SAC's paper, CleanRL, SB3); uniform random
 *   actions before `learningStarts`.
 * - `colored`: eps is a power-law Gaussian sequence, one per env, action dimension and episode
 *   (Eberhard et al., ICLR 2023, "Pink Noise Is All You Need"; beta 1 = pink). Before
 *   `learningStarts` the actions are tanh(eps) scaled to the bounds, the same noise at std 1.
 */
export type SacExploration =
  | { kind: 'white' }
  | {
      kind: 'colored';
      /** Exponent of the power spectrum 1/f^beta: 0 white, 1 pink (the paper's default), 2 red. */
      beta: number;
      /** Steps per sequence, at least the episode length (a new one starts at every episode). */
      length: number;
    };

/** `colored` fields an override may leave out (the paper's pink noise over a 1000-step episode). */
export const COLORED_NOISE_DEFAULTS = { beta: 1, length: 1000 } as const;

/** Longest colored-noise sequence (drawing one costs O(length^2) operations). */
export const MAX_NOISE_LENGTH = 4096;

export interface SacConfig {
  /** Hidden layer widths of the actor and of each critic (ReLU MLPs). */
  hidden: number[];
  /** Discount per env step. */
  gamma: number;
  /** Polyak factor of the target critics per update: target <- tau * online + (1 - tau) * target. */
  tau: number;
  /** Replay capacity (transitions). */
  bufferSize: number;
  /** Transitions per gradient update. */
  batchSize: number;
  /** Env steps of uniformly random actions before the policy acts and learning starts. */
  learningStarts: number;
  /** Env steps per gradient update (1 = one update of critics, actor and alpha per step). */
  trainEvery: number;
  /** Adam of the twin critics. */
  criticOptimizer: OptimizerConfig;
  /** Adam of the actor. */
  actorOptimizer: OptimizerConfig;
  /** Adam of log(alpha) (automatic entropy tuning). */
  alphaOptimizer: OptimizerConfig;
  /** Learn the entropy weight alpha towards `targetEntropy`; false keeps `initialAlpha`. */
  autotune: boolean;
  /** Entropy weight at the start (the fixed value when `autotune` is false). */
  initialAlpha: number;
  /** Target entropy in nats; null = -(action dims), as SAC's paper and CleanRL. */
  targetEntropy: number | null;
  /** Exploration noise of the training samples (see `SacExploration`). */
  exploration: SacExploration;
}

const ADAM: Extract<OptimizerConfig, { kind: 'adam' }> = { kind: 'adam', learningRate: 3e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** CleanRL `sac_continuous_action.py` / SB3 defaults (one learning rate 3e-4 for every optimizer). */
const DEFAULT: SacConfig = {
  hidden: [256, 256],
  gamma: 0.99,
  tau: 0.005,
  bufferSize: 1_000_000,
  batchSize: 256,
  learningStarts: 5000,
  trainEvery: 1,
  criticOptimizer: { ...ADAM },
  actorOptimizer: { ...ADAM },
  alphaOptimizer: { ...ADAM },
  autotune: true,
  initialAlpha: 1,
  targetEntropy: null,
  exploration: { kind: 'white' },
};

export const SAC_PRESETS: Record<string, SacConfig> = {
  default: DEFAULT,
  /**
   * RL Baselines3 Zoo's Pendulum-v1 SAC (learning rate 1e-3, SB3's early start) with a replay
   * memory sized to the 20k-step budget.
   */
  pendulum: {
    ...DEFAULT,
    bufferSize: 100_000,
    learningStarts: 1000,
    criticOptimizer: { ...ADAM, learningRate: 1e-3 },
    actorOptimizer: { ...ADAM, learningRate: 1e-3 },
    alphaOptimizer: { ...ADAM, learningRate: 1e-3 },
  },
  /**
   * MountainCarContinuous: white noise never reaches the goal, so the car learns to stand still.
   * Pink noise (Eberhard et al. 2023) from the first step does; RL Zoo's SAC row for the task
   * gives the small networks, tau 0.01 and the 50k replay memory.
   */
  'mountain-car-continuous': {
    ...DEFAULT,
    hidden: [64, 64],
    tau: 0.01,
    bufferSize: 50_000,
    learningStarts: 5000,
    exploration: { kind: 'colored', ...COLORED_NOISE_DEFAULTS },
  },
};

export const SAC_KEYS = Object.keys(DEFAULT) as Array<keyof SacConfig>;

/** Largest replay memory accepted (transitions); memory is also checked against the machine. */
export const MAX_SAC_BUFFER_SIZE = 100_000_000;

const OPTIMIZER_KEYS = ['criticOptimizer', 'actorOptimizer', 'alphaOptimizer'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function explorationProblems(e: unknown): string[] {
  if (!isPlainObject(e) || (e.kind !== 'white' && e.kind !== 'colored')) return [`exploration = ${describe(e)} (want {kind: 'white'} or {kind: 'colored', beta, length})`];
  const errs: string[] = [];
  const known = e.kind === 'white' ? ['kind'] : ['kind', 'beta', 'length'];
  for (const k of Object.keys(e)) if (!known.includes(k)) errs.push(`exploration.${k}: unknown key for kind ${describe(e.kind)}`);
  if (e.kind === 'colored') {
    if (typeof e.beta !== 'number' || !(e.beta >= 0 && e.beta <= 3)) errs.push(`exploration.beta = ${describe(e.beta)} (want a number in [0, 3])`);
    if (!Number.isSafeInteger(e.length) || (e.length as number) < 2 || (e.length as number) > MAX_NOISE_LENGTH) errs.push(`exploration.length = ${describe(e.length)} (want an integer in [2, ${MAX_NOISE_LENGTH}])`);
  }
  return errs;
}

/** Applies overrides on a preset and validates everything; every bad or unknown field is reported at once. */
export function resolveSacConfig(base: SacConfig, overrides: Record<string, unknown> = {}): SacConfig {
  const errs: string[] = [];
  const c = { ...base } as SacConfig & Record<string, unknown>;
  applyOverrides(c, overrides, SAC_KEYS, errs, (k, v) => {
    // An optimizer override merges into the preset's Adam, so `{learningRate: 1e-3}` is enough.
    if ((OPTIMIZER_KEYS as readonly string[]).includes(k) && isPlainObject(v)) return { ...(base[k as keyof SacConfig] as OptimizerConfig), ...v };
    // `{kind: 'colored'}` alone means pink noise over 1000 steps.
    if (k === 'exploration' && isPlainObject(v) && v.kind === 'colored') return { ...COLORED_NOISE_DEFAULTS, ...(base.exploration.kind === 'colored' ? base.exploration : {}), ...v } as SacExploration;
    return undefined;
  });
  const { int, num } = fieldChecks(c as SacConfig, errs);
  if (!Array.isArray(c.hidden) || c.hidden.length === 0 || c.hidden.length > 64 || c.hidden.some((h) => !Number.isInteger(h) || h < 1 || h > MAX_LAYER_UNITS)) {
    errs.push(`hidden = ${describe(c.hidden)} (want 1 to 64 integers in [1, ${MAX_LAYER_UNITS}])`);
  }
  num('gamma', 0, 1);
  // tau 0 would freeze the target critics at their random start.
  if (typeof c.tau !== 'number' || !(c.tau > 0 && c.tau <= 1)) errs.push(`tau = ${describe(c.tau)} (want 0 < x <= 1)`);
  int('bufferSize', 100, MAX_SAC_BUFFER_SIZE);
  int('batchSize', 1, 65_536);
  int('learningStarts', 0);
  int('trainEvery', 1);
  for (const k of OPTIMIZER_KEYS) {
    const o = c[k];
    if (!isPlainObject(o) || o.kind !== 'adam') errs.push(`${k} = ${describe(o)} (want {kind: 'adam', learningRate, beta1, beta2, epsilon})`);
    else errs.push(...checkOptimizerConfig(o as OptimizerConfig, k));
  }
  if (typeof c.autotune !== 'boolean') errs.push(`autotune = ${describe(c.autotune)} (want true or false)`);
  if (typeof c.initialAlpha !== 'number' || !(c.initialAlpha > 0 && c.initialAlpha <= 1e6)) errs.push(`initialAlpha = ${describe(c.initialAlpha)} (want 0 < x <= 1e6)`);
  if (c.targetEntropy !== null && (typeof c.targetEntropy !== 'number' || !Number.isFinite(c.targetEntropy))) errs.push(`targetEntropy = ${describe(c.targetEntropy)} (want a number or null for -(action dims))`);
  errs.push(...explorationProblems(c.exploration));
  if (Number.isInteger(c.batchSize) && Number.isInteger(c.bufferSize) && c.batchSize > c.bufferSize) errs.push(`batchSize = ${c.batchSize} (want <= bufferSize ${c.bufferSize})`);
  if (errs.length) throw new InvalidConfigError(formatError('sac config', 'valid SAC hyperparameters', errs.join('; '), 'fix or remove the listed keys (see docs/training.md)'), { problems: errs });
  return c;
}

/** Key of the action in the critics' input layout for Dict observations (a name no observation key can clash with: keys are sorted, this one is appended). */
export const SAC_ACTION_KEY = '\u0000action';

/** An encoder with, for Dict observations, the layout its flat input splits by. */
export interface SacEncoderChoice {
  encoder: EncoderSpec;
  layout: DictLayout | null;
}

/**
 * The encoders of SAC's actor and critics. Vectors: ReLU MLPs of `hidden` over the observation
 * (actor) and over concat(observation, action) (critics). Dict observations follow SB3's
 * `CombinedExtractor` + net_arch: per key the one auto rule with vector keys passed flat (a CNN
 * for grid and image keys), concatenated (the critics append the action as one more key), then
 * the ReLU MLP of `hidden`.
 */
export function sacEncoders(hidden: readonly number[], observationSpace: Space, actionDims: number): { actor: SacEncoderChoice; critic: SacEncoderChoice } {
  const layout = dictLayoutOf(observationSpace);
  if (!layout) {
    const mlp: EncoderSpec = { kind: 'mlp', hidden: [...hidden] };
    return { actor: { encoder: mlp, layout: null }, critic: { encoder: mlp, layout: null } };
  }
  const actor = autoEncoder(observationSpace, { mlp: { hidden: [] }, dictHidden: [...hidden] }) as DictEncoderSpec;
  const criticLayout: DictLayout = { entries: [...layout.entries, { key: SAC_ACTION_KEY, shape: [actionDims], dtype: 'float32', offset: layout.size, size: actionDims, scale: 1 }], size: layout.size + actionDims };
  const critic: EncoderSpec = { ...actor, keys: { ...actor.keys, [SAC_ACTION_KEY]: { kind: 'mlp', hidden: [] } } };
  return { actor: { encoder: actor, layout }, critic: { encoder: critic, layout: criticLayout } };
}
