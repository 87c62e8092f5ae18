/** DQN hyperparameters, presets and their validation. Step counts are env steps summed over sub-envs. */
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { applyOverrides, fieldChecks } from '../config-fields.js';
import { MAX_LSTM_UNITS, checkEncoderSpec, type EncoderSpec } from '../../networks/specs.js';
import { checkOptimizerConfig, type OptimizerConfig } from '../../networks/optimizers.js';
import type { PrioritizedConfig } from '../../replay/buffer/replay-buffer.js';

export interface DqnConfig {
  /** Encoder of the Q-network; `auto` applies the one rule of `networks/encoders.ts` (MLP [64, 64] for vectors, minatar-cnn for grids under 36x36, nature-cnn for larger frames, one encoder per key for Dict observations); `{kind: 'small-cnn'}` suits frames of 8-60 px. */
  network: EncoderSpec | 'auto';
  /** Dueling head (V + A - mean A). */
  dueling: boolean;
  /** Double DQN: the online net picks a', the target net values it. */
  double: boolean;
  /** Transitions folded into each return (1 = one-step TD). */
  nStep: number;
  /** Discount per env step. */
  gamma: number;
  /** Replay capacity (transitions). */
  bufferSize: number;
  /** Transitions per gradient update. */
  batchSize: number;
  /** Env steps of uniformly random actions before learning and the epsilon schedule start. */
  learningStarts: number;
  /** Env steps per gradient update (1 = one update per step). */
  trainEvery: number;
  /** Hard target sync every this many updates (used when `targetTau` is 0). */
  targetUpdateEvery: number;
  /** Polyak factor per update (0 = hard sync every `targetUpdateEvery` updates). */
  targetTau: number;
  /** TD loss: Huber (delta 1) or squared error. */
  loss: 'huber' | 'mse';
  /** Clip the global gradient norm to this value (0 = no clipping). */
  gradClipNorm: number;
  /** Exploration rate when learning starts. */
  epsilonStart: number;
  /** Exploration rate after the decay. */
  epsilonEnd: number;
  /** Env steps (after `learningStarts`) over which epsilon decays linearly. */
  epsilonDecaySteps: number;
  /** Exploration rate during evaluation (0 = greedy). */
  evalEpsilon: number;
  optimizer: OptimizerConfig;
  /** Proportional prioritized replay, or null for uniform. */
  prioritized: PrioritizedConfig | null;
  /** Frames per stacked observation the env delivers (the replay stores each frame once). */
  frameStack: number;
  /** LSTM units between encoder and Q head (DRQN); 0 = feed-forward DQN. */
  lstmUnits: number;
  /** DRQN: steps per sampled sequence that carry a loss (the batch is `batchSize` sequences). */
  seqLength: number;
  /** DRQN: steps before those, unrolled without loss or gradient to warm the state up. */
  burnIn: number;
  /** DRQN: state at a sequence's start: the one the actor had there ('stored') or zeros ('zero'). */
  sequenceState: 'stored' | 'zero';
}

export const ADAM_DEFAULTS: Extract<OptimizerConfig, { kind: 'adam' }> = { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
export const RMSPROP_CENTERED_DEFAULTS: Extract<OptimizerConfig, { kind: 'rmsprop-centered' }> = { kind: 'rmsprop-centered', learningRate: 2.5e-4, decay: 0.95, momentum: 0, epsilon: 0.01 };

/** The MinAtar paper's DQN (Young & Tian 2019). */
const MINATAR: DqnConfig = {
  network: { kind: 'minatar-cnn' },
  dueling: false,
  double: false,
  nStep: 1,
  gamma: 0.99,
  bufferSize: 100_000,
  batchSize: 32,
  learningStarts: 5000,
  trainEvery: 1,
  targetUpdateEvery: 1000,
  targetTau: 0,
  loss: 'huber',
  gradClipNorm: 0,
  epsilonStart: 1.0,
  epsilonEnd: 0.1,
  epsilonDecaySteps: 100_000,
  evalEpsilon: 0.001,
  optimizer: { ...RMSPROP_CENTERED_DEFAULTS },
  prioritized: null,
  frameStack: 1,
  lstmUnits: 0,
  seqLength: 16,
  burnIn: 8,
  sequenceState: 'stored',
};

export const DQN_PRESETS: Record<string, DqnConfig> = {
  minatar: MINATAR,
  /** Double + dueling + PER + 3-step returns with Adam 1e-4 (the cheap half of Rainbow). */
  'rainbow-lite': {
    ...MINATAR,
    dueling: true,
    double: true,
    nStep: 3,
    optimizer: { ...ADAM_DEFAULTS, learningRate: 1e-4, epsilon: 1.5e-4 },
    prioritized: { alpha: 0.5, betaStart: 0.4, betaSteps: 1_000_000, epsilon: 1e-6 },
    gradClipNorm: 10,
  },
  /** Small, fast settings for catch and cartpole. */
  classic: {
    network: { kind: 'mlp', hidden: [64, 64] },
    dueling: false,
    double: true,
    nStep: 1,
    gamma: 0.99,
    bufferSize: 50_000,
    batchSize: 64,
    learningStarts: 500,
    trainEvery: 1,
    targetUpdateEvery: 250,
    targetTau: 0,
    loss: 'huber',
    gradClipNorm: 10,
    epsilonStart: 1.0,
    epsilonEnd: 0.05,
    epsilonDecaySteps: 5000,
    evalEpsilon: 0,
    optimizer: { ...ADAM_DEFAULTS, learningRate: 1e-3 },
    prioritized: null,
    frameStack: 1,
    lstmUnits: 0,
    seqLength: 16,
    burnIn: 8,
    sequenceState: 'stored',
  },
};

export const DQN_KEYS = Object.keys(MINATAR) as Array<keyof DqnConfig>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Largest replay memory accepted (transitions); memory is also checked against the machine. */
export const MAX_BUFFER_SIZE = 100_000_000;

/** Merges an optimizer override: same kind -> field merge; other kind -> that kind's defaults + fields. */
function mergeOptimizer(base: OptimizerConfig, over: unknown): OptimizerConfig {
  if (!isPlainObject(over)) return over as OptimizerConfig;
  const o = over as Partial<OptimizerConfig>;
  const kind = o.kind ?? base.kind;
  const start = kind === base.kind ? base : kind === 'adam' ? ADAM_DEFAULTS : kind === 'rmsprop-centered' ? RMSPROP_CENTERED_DEFAULTS : ({} as OptimizerConfig);
  return { ...start, ...o, kind } as OptimizerConfig;
}

/** Applies overrides on a preset and validates everything; every bad or unknown field is reported at once. */
export function resolveDqnConfig(base: DqnConfig, overrides: Record<string, unknown> = {}): DqnConfig {
  const errs: string[] = [];
  const c = { ...base } as DqnConfig & Record<string, unknown>;
  applyOverrides(c, overrides, DQN_KEYS, errs, (k, v) => {
    if (k === 'optimizer') return mergeOptimizer(base.optimizer, v);
    // Only a plain object turns prioritized replay on (`[]` or `true` would merge into the defaults).
    if (k === 'prioritized' && isPlainObject(v)) return { ...(base.prioritized ?? { alpha: 0.5, betaStart: 0.4, betaSteps: 1_000_000, epsilon: 1e-6 }), ...v };
    return undefined;
  });
  const { int, num, bool } = fieldChecks(c as DqnConfig, errs);
  if (c.network !== 'auto') errs.push(...checkEncoderSpec(c.network, 'network'));
  bool('dueling');
  bool('double');
  int('nStep', 1, 1000);
  num('gamma', 0, 1);
  int('bufferSize', 100, MAX_BUFFER_SIZE);
  int('batchSize', 1, 65_536);
  int('learningStarts', 0);
  int('trainEvery', 1);
  int('targetUpdateEvery', 1);
  num('targetTau', 0, 1);
  if (c.loss !== 'huber' && c.loss !== 'mse') errs.push(`loss = ${describe(c.loss)} (want 'huber' or 'mse')`);
  num('gradClipNorm', 0, 1e6);
  num('epsilonStart', 0, 1);
  num('epsilonEnd', 0, 1);
  int('epsilonDecaySteps', 0);
  num('evalEpsilon', 0, 1);
  errs.push(...checkOptimizerConfig(c.optimizer));
  if (c.prioritized !== null) {
    const p = c.prioritized as PrioritizedConfig | undefined;
    if (!isPlainObject(p)) errs.push(`prioritized = ${describe(p)} (want null or {alpha, betaStart, betaSteps, epsilon})`);
    else {
      for (const k of Object.keys(p)) if (!['alpha', 'betaStart', 'betaSteps', 'epsilon'].includes(k)) errs.push(`unknown key ${describe(`prioritized.${k}`)} (known: alpha, betaStart, betaSteps, epsilon)`);
      // alpha above 1 (or Infinity) makes priorities overflow to NaN; beta is an exponent in [0, 1].
      if (!(typeof p.alpha === 'number' && p.alpha >= 0 && p.alpha <= 1)) errs.push(`prioritized.alpha = ${describe(p.alpha)} (want a number in [0, 1])`);
      if (!(typeof p.betaStart === 'number' && p.betaStart >= 0 && p.betaStart <= 1)) errs.push(`prioritized.betaStart = ${describe(p.betaStart)} (want a number in [0, 1])`);
      if (!(Number.isSafeInteger(p.betaSteps) && p.betaSteps >= 1)) errs.push(`prioritized.betaSteps = ${describe(p.betaSteps)} (want an integer >= 1)`);
      if (!(typeof p.epsilon === 'number' && p.epsilon > 0 && p.epsilon <= 1)) errs.push(`prioritized.epsilon = ${describe(p.epsilon)} (want 0 < x <= 1)`);
    }
  }
  int('frameStack', 1, 64);
  int('lstmUnits', 0, MAX_LSTM_UNITS);
  int('seqLength', 1, 10_000);
  int('burnIn', 0, 10_000);
  if (c.sequenceState !== 'stored' && c.sequenceState !== 'zero') errs.push(`sequenceState = ${describe(c.sequenceState)} (want 'stored' or 'zero')`);
  if (typeof c.lstmUnits === 'number' && c.lstmUnits > 0) {
    // The sequence replay trains one-step targets inside the unroll; these extensions need the flat replay.
    if (c.nStep !== 1) errs.push(`nStep = ${describe(c.nStep)} (recurrent DQN trains 1-step targets: want 1 with lstmUnits > 0)`);
    if (c.prioritized !== null) errs.push('prioritized (recurrent DQN samples sequences uniformly: want null with lstmUnits > 0)');
    if (c.frameStack !== 1) errs.push(`frameStack = ${describe(c.frameStack)} (the LSTM is the memory: want 1 with lstmUnits > 0)`);
  }
  if (Number.isInteger(c.batchSize) && Number.isInteger(c.learningStarts) && c.learningStarts < c.batchSize) errs.push(`learningStarts = ${c.learningStarts} (want >= batchSize ${c.batchSize})`);
  if (errs.length) throw new InvalidConfigError(formatError('dqn config', 'valid DQN hyperparameters', errs.join('; '), 'fix or remove the listed keys (see docs/training.md)'), { problems: errs });
  return c;
}
