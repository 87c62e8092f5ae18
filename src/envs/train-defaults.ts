/**
 * Training defaults a game declares next to its rules: `register(id, factory, { train })`. One
 * shape for every agent; `npcforge train <id>` uses it, a project file (`npcforge.config.json`) can
 * override it. Checked here for shape only (this layer knows no agents): agent names, presets and
 * hyperparameter values are checked when a run is resolved (src/train/run-config.ts).
 */
import { InvalidConfigError, formatError, describe } from '../errors.js';

/** How one agent trains on the game: the shape of `train`, of `train.recurrent` and of `train.agents.<name>`. */
export interface TrainVariant {
  /** The agent's hyperparameter preset that `config` goes over (default: the agent's generic preset). */
  preset?: string;
  /** Env steps of the run, summed over the sub-envs. */
  steps?: number;
  /** Sub-envs stepped together. */
  envs?: number;
  /** Agent hyperparameters over the preset (e.g. `{ lr: 1e-3, numSteps: 64 }`); dropped when the user picks another preset. */
  config?: Record<string, unknown>;
  /** Runner settings: evalEvery, evalEpisodes, logEvery, checkpointEvery, keepCheckpoints, saveReplay, stopAtEval, envOptions. */
  run?: Record<string, unknown>;
  /** With `--recurrent`: fields set here replace the ones above (its config usually sets `lstmUnits`). */
  recurrent?: Omit<TrainVariant, 'recurrent'>;
}

/** A game's training defaults: its default agent, how that agent trains, and how other agents train when picked. */
export interface TrainDefaults extends TrainVariant {
  /** Agent of the plain `npcforge train <id>` (dqn, ppo, a2c, reinforce, sac). */
  agent: string;
  /** Per other agent (`--agent <name>`): how it trains on this game; agents not listed use their generic defaults. */
  agents?: Record<string, TrainVariant>;
}

/** Runner settings a train block may set (`steps` and `envs` are fields of their own). */
export const TRAIN_RUN_KEYS = ['evalEvery', 'evalEpisodes', 'logEvery', 'checkpointEvery', 'keepCheckpoints', 'saveReplay', 'envOptions', 'stopAtEval', 'vectorEnv'] as const;

const VARIANT_KEYS = ['preset', 'steps', 'envs', 'config', 'run', 'recurrent'];
const AGENT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
/** Largest `envs` a train block may ask for (the runner's own limit). */
const MAX_TRAIN_ENVS = 4096;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Problems of one variant at `path` (e.g. `train.agents.sac`), each naming its field. */
function variantProblems(v: unknown, path: string, nested: boolean): string[] {
  if (!isObject(v)) return [`${path} = ${describe(v)} (want an object)`];
  const errs: string[] = [];
  for (const k of Object.keys(v)) if (!VARIANT_KEYS.includes(k) || (k === 'recurrent' && nested)) errs.push(`${path}.${k} is not a train field (want ${VARIANT_KEYS.filter((x) => !nested || x !== 'recurrent').join(', ')})`);
  if (v.preset !== undefined && (typeof v.preset !== 'string' || v.preset.length === 0 || v.preset.length > 100)) errs.push(`${path}.preset = ${describe(v.preset)} (want a preset name)`);
  if (v.steps !== undefined && (!Number.isSafeInteger(v.steps) || (v.steps as number) < 1)) errs.push(`${path}.steps = ${describe(v.steps)} (want an integer >= 1)`);
  if (v.envs !== undefined && (!Number.isSafeInteger(v.envs) || (v.envs as number) < 1 || (v.envs as number) > MAX_TRAIN_ENVS)) errs.push(`${path}.envs = ${describe(v.envs)} (want an integer in [1, ${MAX_TRAIN_ENVS}])`);
  if (v.config !== undefined && !isObject(v.config)) errs.push(`${path}.config = ${describe(v.config)} (want an object of agent hyperparameters)`);
  if (v.run !== undefined) {
    if (!isObject(v.run)) errs.push(`${path}.run = ${describe(v.run)} (want an object of runner settings)`);
    else for (const k of Object.keys(v.run)) if (!(TRAIN_RUN_KEYS as readonly string[]).includes(k)) errs.push(`${path}.run.${k} is not a runner setting (want ${TRAIN_RUN_KEYS.join(', ')}${k === 'steps' || k === 'envs' ? `; ${k} is a field of ${path}` : ''})`);
  }
  if (v.recurrent !== undefined && !nested) errs.push(...variantProblems(v.recurrent, `${path}.recurrent`, true));
  return errs;
}

/**
 * Problems of a train block at `path`; `partial` (a project file's override) makes `agent` optional.
 * Values inside `config` and `run` are checked when a run is resolved, with the agent known.
 */
export function trainDefaultsProblems(t: unknown, path: string, options: { partial?: boolean } = {}): string[] {
  if (!isObject(t)) return [`${path} = ${describe(t)} (want an object such as { agent: 'ppo', steps: 50000 })`];
  const { agent, agents, ...variant } = t;
  const errs: string[] = [];
  if (agent === undefined ? !options.partial : typeof agent !== 'string' || !AGENT_NAME.test(agent)) errs.push(`${path}.agent = ${describe(agent)} (want an agent name such as 'ppo' or 'dqn')`);
  for (const k of Object.keys(variant)) if (!VARIANT_KEYS.includes(k)) errs.push(`${path}.${k} is not a train field (want agent, agents, ${VARIANT_KEYS.join(', ')})`);
  errs.push(...variantProblems(Object.fromEntries(Object.entries(variant).filter(([k]) => VARIANT_KEYS.includes(k))), path, false));
  if (agents !== undefined) {
    if (!isObject(agents)) errs.push(`${path}.agents = ${describe(agents)} (want an object of agent name -> settings)`);
    else {
      for (const [name, v] of Object.entries(agents)) {
        if (!AGENT_NAME.test(name)) errs.push(`${path}.agents has key ${describe(name)} (want an agent name)`);
        // The default agent's settings live at the top level; a second copy under agents would be ignored.
        else if (name === agent) errs.push(`${path}.agents.${name} repeats the default agent (put its settings at the top level of ${path})`);
        else errs.push(...variantProblems(v, `${path}.agents.${name}`, false));
      }
    }
  }
  return errs;
}

/** Throws one InvalidConfigError line naming the game and every bad field of its train block. */
export function checkTrainDefaults(game: string, train: unknown): void {
  const errs = trainDefaultsProblems(train, 'train');
  if (errs.length) throw new InvalidConfigError(formatError(`register ${game}`, 'a valid train block', errs.join('; '), 'fix the listed fields of the train block (see docs/games.md)'), { problems: errs });
}

/** Fields of `over` replace those of `base`, except `config` and `run`, which merge key by key. */
export function mergeTrainVariant(base: TrainVariant | undefined, over: TrainVariant | undefined): TrainVariant | undefined {
  if (!over) return base;
  if (!base) return over;
  const out: TrainVariant = { ...base, ...over };
  if (base.config || over.config) out.config = { ...base.config, ...over.config };
  if (base.run || over.run) out.run = { ...base.run, ...over.run };
  if (base.recurrent || over.recurrent) out.recurrent = mergeTrainVariant(base.recurrent, over.recurrent);
  return out;
}

/** The variant of a block's default agent (the block without `agent` and `agents`). */
export function ownVariant(t: Partial<TrainDefaults>): TrainVariant {
  const own: TrainVariant & Partial<TrainDefaults> = { ...t };
  delete own.agent;
  delete own.agents;
  return own;
}

/** Splits a block into its default agent's variant and the others', keyed by agent name. */
function variantsOf(t: Partial<TrainDefaults>, agent: string): Map<string, TrainVariant> {
  const own = ownVariant(t);
  const m = new Map<string, TrainVariant>(Object.entries(t.agents ?? {}));
  if (Object.keys(own).length) m.set(agent, mergeTrainVariant(m.get(agent), own)!);
  return m;
}

/**
 * A game's block with a project file's override on top: the override's top-level fields belong to
 * its `agent` (or the game's when it names none) and merge with what the game declared for that
 * agent; `agents.<name>` merge the same way.
 */
export function overrideTrainDefaults(game: TrainDefaults | undefined, over: Partial<TrainDefaults>): TrainDefaults {
  const agent = over.agent ?? game?.agent;
  if (!agent) throw new InvalidConfigError(formatError('npcforge.config.json', 'an agent for a game that declares no train block', 'none', "add \"agent\": \"ppo\" (or another agent) to the game's entry"));
  const base = game ? variantsOf(game, game.agent) : new Map<string, TrainVariant>();
  for (const [name, v] of variantsOf(over, agent)) base.set(name, mergeTrainVariant(base.get(name), v)!);
  const own = base.get(agent) ?? {};
  base.delete(agent);
  return { agent, ...own, ...(base.size ? { agents: Object.fromEntries(base) } : {}) };
}
