/**
 * Configuration of the policy-gradient agents (REINFORCE, A2C, PPO), their defaults, and the
 * presets per game that the plain `npcforge train <game> --agent <pg>` command uses.
 */
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import type { EncoderKind } from './actor-critic.js';
import { CNN_KINDS, MAX_LAYER_UNITS, MAX_LSTM_UNITS } from '../../networks/specs.js';

export type PgAlgorithm = 'reinforce' | 'a2c' | 'ppo';

/** Weight initialisation of a PG network (see `PgConfig.init`). */
export type PgInit = 'orthogonal' | 'glorot';

export interface PgConfig {
  /** Which algorithm's update to run. */
  algorithm: PgAlgorithm;
  /** Adam learning rate (per update step). */
  lr: number;
  /** Anneal the learning rate linearly to 0 over the run's step budget. */
  annealLr: boolean;
  /** Adam epsilon (PPO implementations use 1e-5). */
  adamEps: number;
  /** Discount factor. */
  gamma: number;
  /** GAE lambda (PPO; A2C uses n-step returns, lambda = 1 over the rollout). */
  gaeLambda: number;
  /** Steps per env in one rollout (A2C's n of n-step returns; PPO's horizon). */
  numSteps: number;
  /** PPO: passes over each rollout. */
  epochs: number;
  /** PPO: minibatches per epoch (recurrent nets split the envs, keeping whole sequences). */
  minibatches: number;
  /** PPO: surrogate clip range epsilon. */
  clip: number;
  /** PPO: value clip range, or null for the plain value loss. */
  valueClip: number | null;
  /** Entropy bonus coefficient. */
  entCoef: number;
  /** Value loss coefficient. */
  vfCoef: number;
  /** Global gradient-norm clip; 0 disables. */
  maxGradNorm: number;
  /** Normalise advantages per minibatch (PPO, REINFORCE) or per rollout (A2C). */
  normAdv: boolean;
  /** REINFORCE: complete episodes per update. */
  reinforceEpisodes: number;
  /** LSTM units between encoder and heads; 0 = feed-forward. */
  lstmUnits: number;
  /**
   * Weight initialisation of the encoder and LSTM (the heads are always orthogonal, gain 0.01 for
   * the policy and 1 for the value): 'orthogonal' = CleanRL's `layer_init` (hidden layers gain
   * sqrt(2), LSTM gain 1, zero biases); 'glorot' = the Keras defaults used before (glorot-uniform,
   * LSTM forget-gate bias 1).
   */
  init: PgInit;
  /** Encoder; 'auto' applies the one rule of networks/encoders.ts (Dict observations: one encoder per key). */
  encoder: EncoderKind | 'auto';
  /** MLP encoder hidden sizes (units). */
  mlpHidden: number[];
  /** The value head gets its own encoder (CleanRL's continuous PPO); feed-forward nets only. */
  separateCritic: boolean;
  /** Normalise observations by running mean/std, clipped to +-10 (Gymnasium NormalizeObservation). */
  normObs: boolean;
  /** Scale rewards by the running std of the discounted return, clipped to +-10 (Gymnasium NormalizeReward). */
  normReward: boolean;
}

export const DEFAULT_PG_CONFIG: Readonly<PgConfig> = Object.freeze({
  algorithm: 'ppo',
  lr: 2.5e-4,
  annealLr: true,
  adamEps: 1e-5,
  gamma: 0.99,
  gaeLambda: 0.95,
  numSteps: 128,
  epochs: 4,
  minibatches: 4,
  clip: 0.2,
  valueClip: 0.2,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  normAdv: true,
  reinforceEpisodes: 16,
  lstmUnits: 0,
  init: 'orthogonal',
  encoder: 'auto',
  mlpHidden: [64, 64],
  separateCritic: false,
  normObs: false,
  normReward: false,
}) as PgConfig;

/** Per-algorithm defaults layered over DEFAULT_PG_CONFIG. */
export const PG_ALGORITHM_DEFAULTS: Record<PgAlgorithm, Partial<PgConfig>> = {
  ppo: {},
  a2c: { lr: 7e-4, numSteps: 5, epochs: 1, minibatches: 1, normAdv: false, valueClip: null, annealLr: false },
  reinforce: { lr: 1e-3, epochs: 1, minibatches: 1, normAdv: true, valueClip: null, annealLr: false, numSteps: 16 },
};

const KEYS = Object.keys(DEFAULT_PG_CONFIG) as Array<keyof PgConfig>;

/** Merges a partial config over the algorithm defaults and checks every field, reporting all bad ones at once. */
export function resolvePgConfig(partial: Partial<PgConfig> & Record<string, unknown> = {}): PgConfig {
  const algorithm = (partial.algorithm ?? DEFAULT_PG_CONFIG.algorithm) as PgAlgorithm;
  const problems: string[] = [];
  for (const k of Object.keys(partial)) if (!KEYS.includes(k as keyof PgConfig)) problems.push(`unknown key ${describe(k).slice(1, -1)}`);
  if (!['reinforce', 'a2c', 'ppo'].includes(algorithm)) problems.push(`algorithm=${describe(algorithm)} (reinforce, a2c or ppo)`);
  const known = Object.fromEntries(Object.entries(partial).filter(([k]) => KEYS.includes(k as keyof PgConfig)));
  const c = { ...DEFAULT_PG_CONFIG, ...(PG_ALGORITHM_DEFAULTS[algorithm] ?? {}), ...known, algorithm } as PgConfig;
  const num = (k: keyof PgConfig, ok: (v: number) => boolean, what: string) => {
    const v = c[k] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) problems.push(`${k}=${describe(v)} (${what})`);
  };
  const int = (v: number) => Number.isInteger(v);
  // Upper bounds keep the numbers finite through the update (a learning rate of 1e30 trains to NaN)
  // and the allocations bounded; memory is also checked against the machine by the runner config.
  num('lr', (v) => v > 0 && v <= 1, 'in (0, 1]');
  num('adamEps', (v) => v > 0 && v <= 1, 'in (0, 1]');
  num('gamma', (v) => v >= 0 && v <= 1, 'in [0, 1]');
  num('gaeLambda', (v) => v >= 0 && v <= 1, 'in [0, 1]');
  num('numSteps', (v) => int(v) && v >= 1 && v <= 100_000, 'integer in [1, 100000]');
  num('epochs', (v) => int(v) && v >= 1 && v <= 1000, 'integer in [1, 1000]');
  num('minibatches', (v) => int(v) && v >= 1 && v <= 100_000, 'integer in [1, 100000]');
  num('clip', (v) => v > 0 && v <= 10, 'in (0, 10]');
  num('entCoef', (v) => v >= 0 && v <= 1000, 'in [0, 1000]');
  num('vfCoef', (v) => v >= 0 && v <= 1000, 'in [0, 1000]');
  num('maxGradNorm', (v) => v >= 0 && v <= 1e6, 'in [0, 1e6] (0 disables)');
  num('reinforceEpisodes', (v) => int(v) && v >= 1 && v <= 100_000, 'integer in [1, 100000]');
  num('lstmUnits', (v) => int(v) && v >= 0 && v <= MAX_LSTM_UNITS, `integer in [0, ${MAX_LSTM_UNITS}]`);
  if (c.valueClip !== null && !(typeof c.valueClip === 'number' && c.valueClip > 0 && c.valueClip <= 1e6)) problems.push(`valueClip=${describe(c.valueClip)} (in (0, 1e6] or null)`);
  if (typeof c.annealLr !== 'boolean') problems.push(`annealLr=${describe(c.annealLr)} (boolean)`);
  for (const k of ['normAdv', 'separateCritic', 'normObs', 'normReward'] as const) if (typeof c[k] !== 'boolean') problems.push(`${k}=${describe(c[k])} (boolean)`);
  if (c.separateCritic === true && typeof c.lstmUnits === 'number' && c.lstmUnits > 0) problems.push('separateCritic=true with lstmUnits > 0 (the LSTM core is shared; use one or the other)');
  if (!['orthogonal', 'glorot'].includes(c.init)) problems.push(`init=${describe(c.init)} (orthogonal or glorot)`);
  if (!['auto', 'mlp', ...CNN_KINDS].includes(c.encoder)) problems.push(`encoder=${describe(c.encoder)} (${['auto', 'mlp', ...CNN_KINDS].join(', ')})`);
  if (!Array.isArray(c.mlpHidden) || c.mlpHidden.length === 0 || c.mlpHidden.length > 64 || c.mlpHidden.some((u) => !Number.isInteger(u) || u < 1 || u > MAX_LAYER_UNITS)) problems.push(`mlpHidden=${describe(c.mlpHidden)} (1 to 64 integers in [1, ${MAX_LAYER_UNITS}])`);
  if (problems.length) {
    throw new InvalidConfigError(formatError('pg config', 'valid policy-gradient settings', problems.join('; '), 'fix or remove the listed fields'), { problems });
  }
  return { ...c, mlpHidden: [...c.mlpHidden] };
}

/** A game-named preset of one algorithm: its hyperparameters and, for `<game>+lstm`, those of its recurrent twin. */
export interface PgGamePreset {
  /** Config over the algorithm's defaults. */
  config: Partial<PgConfig>;
  /** Hyperparameters of the `<game>+lstm` preset (sets lstmUnits). */
  recurrent?: Partial<PgConfig>;
}

/** PPO on the memory tasks (the feed-forward twin and, with an LSTM of 32, the recurrent run). */
const MEMORY_PPO: Partial<PgConfig> = { encoder: 'mlp', mlpHidden: [64], numSteps: 32, lr: 1e-3, entCoef: 0.01, gamma: 0.99, minibatches: 2, epochs: 4 };

/** PPO on pendulum (see the `pendulum` row below). `--recurrent` shares the encoder and LSTM (not measured). */
const PENDULUM_PPO: Partial<PgConfig> = { numSteps: 512, epochs: 10, minibatches: 32, lr: 1e-3, gamma: 0.9, gaeLambda: 0.95, clip: 0.2, valueClip: null, entCoef: 0, vfCoef: 0.5, maxGradNorm: 0.5, mlpHidden: [64, 64], encoder: 'mlp', separateCritic: true, normObs: true, normReward: true };

/** PPO on the MinAtar games (see the `minatar` row below). */
const MINATAR_PPO: Partial<PgConfig> = { numSteps: 128, epochs: 4, minibatches: 8, lr: 1e-3, annealLr: false, gamma: 0.999, gaeLambda: 0.95, clip: 0.2, entCoef: 0.01, vfCoef: 0.5, maxGradNorm: 0.5 };

/**
 * Presets tuned on the bundled games, named after them (`catch`, `memory-maze+lstm`, ...); the games
 * pick them, with their step budgets and env counts, in their train blocks (games/<g>/index.ts;
 * figures in docs/policy-gradient.md).
 */
export const PG_GAME_PRESETS: Record<string, Partial<Record<PgAlgorithm, PgGamePreset>>> = {
  catch: {
    ppo: { config: { encoder: 'mlp', numSteps: 32, lr: 1e-3, gamma: 0.99, entCoef: 0.01, mlpHidden: [64] } },
    a2c: { config: { encoder: 'mlp', numSteps: 8, lr: 2e-3, entCoef: 0.01, mlpHidden: [64] } },
    reinforce: { config: { encoder: 'mlp', reinforceEpisodes: 16, lr: 3e-3, entCoef: 0.01, mlpHidden: [64] } },
  },
  cartpole: {
    ppo: { config: { numSteps: 128, lr: 2.5e-3, epochs: 4, minibatches: 4, entCoef: 0, gamma: 0.99, mlpHidden: [64, 64] } },
    a2c: { config: { numSteps: 5, lr: 1e-3, entCoef: 0, mlpHidden: [64, 64] } },
    reinforce: { config: { reinforceEpisodes: 8, lr: 1e-3, entCoef: 0, mlpHidden: [64, 64] } },
  },
  // Recurrent (seeds 0-4 before and after: docs/policy-gradient.md, "Seed robustness"):
  // - rollouts of 128 steps (>= the 100-step time limit) so that most episodes lie inside one
  //   rollout and backpropagation through time reaches the step-0 cue from the arm choice (with 32
  //   about half of the early ~18-step episodes were cut, their cue in the previous rollout);
  //   4 minibatches of 2 whole sequences;
  // - gamma 0.9, as the game's DQN: with 0.99 a wall bump in the corridor costs 1% of the value,
  //   less than the entropy bonus, and policies that had learned the cue leaked the arm choice
  //   into the corridor (left/right there bump the wall), so the greedy policy never arrived;
  // - Keras initialisation: the LSTM's forget-gate bias 1 keeps the cue across the corridor walk;
  //   CleanRL's zero biases (init 'orthogonal') lost it;
  // - 16 envs (games/memory-maze/index.ts): with 8, seed 0 never found the cue and drifted to
  //   bumping walls; 16 put twice the episodes behind each arm-choice gradient (5 of 5 seeds).
  'memory-maze': {
    ppo: { config: MEMORY_PPO, recurrent: { ...MEMORY_PPO, lstmUnits: 32, numSteps: 128, minibatches: 4, gamma: 0.9, init: 'glorot' } },
  },
  // CleanRL ppo_continuous_action.py's setup (separate actor and critic MLPs of 64-64, obs and
  // reward normalisation, no entropy bonus, 10 epochs of 64-row minibatches, annealed lr) with the
  // RL Zoo's Pendulum-v1 changes (4 envs, gamma 0.9, lr 1e-3, no value clipping, SB3's default):
  // CleanRL's own numbers learned too slowly here, and 200k steps left one seed of three at -362
  // (measurements in docs/policy-gradient.md).
  pendulum: {
    ppo: { config: PENDULUM_PPO, recurrent: { ...PENDULUM_PPO, separateCritic: false, lstmUnits: 64 } },
  },
  // The MultiDiscrete test game (games/tank): target greedy mean return >= 0.8.
  tank: {
    ppo: { config: { encoder: 'mlp', mlpHidden: [64, 64], numSteps: 64, epochs: 4, minibatches: 4, lr: 1e-3, gamma: 0.95, entCoef: 0.01 } },
  },
  'catch/flicker': {
    ppo: { config: MEMORY_PPO, recurrent: { ...MEMORY_PPO, lstmUnits: 32 } },
  },
  // The MinAtar games (games/minatar/index.ts runs it with 64 envs): gymnax's MinAtar PPO settings
  // (64 envs x 128 steps, 8 minibatches of 1024, 4 epochs, constant lr 5e-4, gamma 0.999) on the
  // MinAtar paper's CNN. Chosen by the Breakout sweep in docs/results.md: CleanRL's Atari settings
  // (8 x 128, lr 2.5e-4 annealed, gamma 0.99), the same with lr 5e-4, with 16 or 32 envs, or with
  // gamma 0.999 alone all stalled at a return of 5-6 from about 500k frames on.
  minatar: {
    ppo: { config: MINATAR_PPO },
  },
};
