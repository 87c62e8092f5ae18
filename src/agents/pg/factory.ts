/** Runner registration of the policy-gradient agents: presets, generic training defaults, construction. */
import type { AgentFactory } from '../registry.js';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { DEFAULT_PG_CONFIG, PG_ALGORITHM_DEFAULTS, PG_GAME_PRESETS, resolvePgConfig, type PgAlgorithm, type PgConfig } from './config.js';
import { PolicyGradientAgent } from './learner.js';
import { pgMemoryNeeds } from './memory.js';

/** Env steps of a policy-gradient run on a game that does not mention the algorithm (CleanRL-like defaults). */
const GENERIC_STEPS = 1_000_000;

/** The AgentFactory of one policy-gradient algorithm (registered as `ppo`, `a2c`, `reinforce`). */
export function pgAgentFactory(algorithm: PgAlgorithm): AgentFactory {
  const base = { ...DEFAULT_PG_CONFIG, ...PG_ALGORITHM_DEFAULTS[algorithm], algorithm } as PgConfig;
  const presets: Record<string, Record<string, unknown>> = { default: { ...base, annealSteps: 0 } };
  for (const [game, row] of Object.entries(PG_GAME_PRESETS)) {
    const p = row[algorithm];
    if (p) presets[game] = { ...base, ...p.config, annealSteps: 0 };
    if (p?.recurrent) presets[`${game}+lstm`] = { ...base, ...p.recurrent, annealSteps: 0 };
  }
  return {
    actionSpaces: ['Discrete', 'MultiDiscrete', 'Box'],
    presets,
    resolve(preset, overrides) {
      const { annealSteps = 0, ...rest } = { ...preset, ...overrides } as Record<string, unknown>;
      if (!Number.isInteger(annealSteps) || (annealSteps as number) < 0) {
        throw new InvalidConfigError(formatError('pg config', 'annealSteps as an integer >= 0 (0 = the run\'s step budget)', describe(annealSteps), 'pass e.g. 100000'), { problems: [`annealSteps=${describe(annealSteps)} (integer >= 0)`] });
      }
      if (rest.algorithm !== undefined && rest.algorithm !== algorithm) {
        throw new InvalidConfigError(formatError('pg config', `algorithm ${algorithm} (chosen by --agent)`, describe(rest.algorithm), 'pick the algorithm with --agent'), { problems: [`algorithm=${describe(rest.algorithm)} (chosen by --agent: ${algorithm})`] });
      }
      return { ...resolvePgConfig({ ...(rest as Partial<PgConfig>), algorithm }), annealSteps };
    },
    // Five evaluations and 40 metrics lines over the run.
    defaultTrain: () => ({ preset: 'default', steps: GENERIC_STEPS, envs: 8, run: { evalEvery: 200_000, evalEpisodes: 100, logEvery: 25_000, checkpointEvery: 200_000 } }),
    finalize(config, run) {
      return config.annealSteps ? config : { ...config, annealSteps: run.steps };
    },
    memoryNeeds: (config, context) => pgMemoryNeeds(config as unknown as PgConfig, context),
    create: ({ config, observationSpace, actionSpace, numEnvs, seed }) => new PolicyGradientAgent({ config: config as Partial<PgConfig> & { annealSteps?: number }, observationSpace, actionSpace, numEnvs, seed }),
  };
}
