/**
 * Run configuration: runner settings plus the agent's hyperparameters. Merge order, later wins:
 * the game's train block (from its `register()` call, with the project file's entry on top; the
 * fallback of undeclared games otherwise) < config file < command-line flags. Unknown keys are errors.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { make, trainDefaultsOf } from '../envs/registry.js';
import { multiAgentTrainDefaultsOf } from '../envs/multi/registry.js';
import { overrideTrainDefaults, ownVariant, trainDefaultsProblems, type TrainDefaults, type TrainVariant } from '../envs/train-defaults.js';
import { agentsForActionSpace, getAgentFactory, listAgents, type AgentFactory } from '../agents/registry.js';
import { undeclaredAgent, undeclaredVariant } from './game-defaults.js';
import { checkEnvChainDeclared } from '../envs/env-state.js';
import { vectorEnvProblem, type VectorEnvMode } from './train-envs.js';
import { memoryProblems, spaceFacts, type MemoryNeed } from '../agents/memory.js';
import { totalmem } from 'node:os';
import type { SelfPlaySettings } from './selfplay/config.js';

export interface RunSettings {
  /** Total env steps (summed over sub-envs). */
  steps: number;
  /** Seed of envs, weights, exploration and replay sampling. */
  seed: number;
  /** Sub-envs stepped together. */
  envs: number;
  /** Env steps between evaluations (0 = only at the end). */
  evalEvery: number;
  /** Episodes per evaluation. */
  evalEpisodes: number;
  /** Env steps between metrics lines. */
  logEvery: number;
  /** Env steps between checkpoints (0 = only at the end). */
  checkpointEvery: number;
  /** Checkpoints kept on disk (older ones are deleted). */
  keepCheckpoints: number;
  /** Include the replay memory in checkpoints (exact resume of off-policy learning needs it). */
  saveReplay: boolean;
  /** Options passed to the game's factory. */
  envOptions: Record<string, unknown>;
  /** Stop training once a periodic evaluation's mean return reaches this value (null = never). */
  stopAtEval: number | null;
  /**
   * Where the sub-envs step: `sync` in this process, `workers` in worker threads (double-buffered
   * for PPO/A2C/REINFORCE), `auto` by measurement (`chooseVectorEnv` in train-envs.ts). The same
   * seed gives the same run with each.
   */
  vectorEnv: VectorEnvMode;
}

export const DEFAULT_RUN_SETTINGS: RunSettings = {
  steps: 100_000,
  seed: 0,
  envs: 1,
  evalEvery: 10_000,
  evalEpisodes: 10,
  logEvery: 1000,
  checkpointEvery: 10_000,
  keepCheckpoints: 3,
  saveReplay: false,
  envOptions: {},
  stopAtEval: null,
  vectorEnv: 'auto',
};

const RUN_KEYS = Object.keys(DEFAULT_RUN_SETTINGS) as Array<keyof RunSettings>;

/** Everything a run needs, as written to config.json. */
export interface ResolvedRunConfig {
  game: string;
  agent: string;
  preset: string;
  run: RunSettings;
  agentConfig: Record<string, unknown>;
  /** Modules imported with `--import` before the game was made; commands on the run import them again. */
  imports?: ImportedModule[];
  /** Self-play settings (`train --selfplay`): `game` is then a multi-agent id (src/train/selfplay). */
  selfplay?: SelfPlaySettings;
  /**
   * A distributed learner's Redis address (`train --distributed`), without its password: actors
   * feed the run and `train --resume` joins the same stream again, with the V-trace settings
   * (PPO) given at the start.
   */
  distributed?: { url: string; maxPolicyLag?: number; rhoBar?: number; cBar?: number };
}

/** A module named by `--import`: as the user gave it, and as resolved (an absolute file URL). */
export interface ImportedModule {
  spec: string;
  url: string;
}

/** What the user asked for (flags and/or a config file); all optional. */
export interface RunRequest {
  game: string;
  agent?: string;
  preset?: string;
  /** Parsed config file (flat object of run and agent keys). */
  file?: Record<string, unknown>;
  /** Flag values (run keys only). */
  flags?: Partial<RunSettings>;
  /** An LSTM between encoder and head (`--recurrent`): the game's recurrent defaults, `lstmUnits` 128 unless set. */
  recurrent?: boolean;
  /** Bytes the big allocations of the run may need at most (default: `defaultMemoryLimit()`). */
  memoryLimitBytes?: number;
  /** Parsed project file (`readProjectFile`): its entry for the game overrides the game's train block. */
  project?: ProjectFile;
  /** Receives one line when the defaults did not come from the game alone (undeclared game, project file). */
  note?: (line: string) => void;
  /**
   * Self-play (`train --selfplay`): the game's defaults are the multi-agent registration's train
   * block, and a project file does not apply (its `games.<id>` entries are single-agent blocks).
   */
  selfplay?: boolean;
  /** The env whose spaces the agent is checked against, instead of `make(game)` (self-play: the learner's seat). */
  probe?: () => import('../envs/env.js').Env<unknown, unknown>;
}

/** The project file (`npcforge.config.json`): per game id, a train block over the game's own. */
export interface ProjectFile {
  /** Where it was read from, for messages. */
  path: string;
  games: Record<string, Partial<TrainDefaults>>;
}

/** Name of the project file read from the working folder when no `--project` is given. */
export const PROJECT_FILE_NAME = 'npcforge.config.json';

/** LSTM units `--recurrent` puts between encoder and head when nothing else sets `lstmUnits`. */
export const RECURRENT_LSTM_UNITS = 128;

/** Largest config file read (bytes): settings fit in a few KiB; anything bigger is not a config. */
export const CONFIG_FILE_MAX_BYTES = 1 << 20;
/** Deepest nesting of objects and arrays accepted in a config file (the deepest setting has 2). */
export const CONFIG_MAX_DEPTH = 16;

function makeConfigError(path: string, expected: string, received: string, fix: string, component = '--config'): InvalidConfigError {
  return new InvalidConfigError(formatError(component, expected, `${describe(path)} ${received}`, fix));
}

/** Line and column (1-based) of a character offset, for JSON errors that must not quote the file. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line} column ${col}`;
}

/** Depth of the deepest array/object in a parsed JSON value, walked without recursion. */
function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

/**
 * Reads a JSON config file; every problem raises one clear InvalidConfigError. The file is untrusted:
 * only a regular file of at most CONFIG_FILE_MAX_BYTES is read (a FIFO or `/dev/zero` would hang or
 * fill memory), a UTF-8 BOM is skipped, and errors name the file but never quote its contents.
 */
export function readConfigFile(path: string, options: { component?: string } = {}): Record<string, unknown> {
  const configError = (p: string, expected: string, received: string, fix: string): InvalidConfigError => makeConfigError(p, expected, received, fix, options.component);
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer before fstat can refuse it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw configError(path, 'a readable JSON file', `(${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, 'check the path');
  }
  let bytes: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw configError(path, 'a regular JSON file', st.isDirectory() ? '(a folder)' : '(not a regular file)', 'pass the path of a .json file');
    if (st.size > CONFIG_FILE_MAX_BYTES) throw configError(path, `a config file of at most ${CONFIG_FILE_MAX_BYTES} bytes`, `(${st.size} bytes)`, 'pass a JSON file of settings');
    // One byte more than allowed tells a file that grew after fstat from one that did not.
    bytes = Buffer.alloc(Math.min(st.size, CONFIG_FILE_MAX_BYTES) + 1);
    let n = 0;
    for (let r = -1; r !== 0 && n < bytes.length; n += r) r = readSync(fd, bytes, n, bytes.length - n, n);
    if (n > CONFIG_FILE_MAX_BYTES) throw configError(path, `a config file of at most ${CONFIG_FILE_MAX_BYTES} bytes`, '(it grew while being read)', 'pass a JSON file of settings');
    bytes = bytes.subarray(0, n);
  } catch (err) {
    if (err instanceof InvalidConfigError) throw err;
    throw configError(path, 'a readable JSON file', `(${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, 'check the path');
  } finally {
    closeSync(fd);
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error; report only where it is.
    const at = /position (\d+)/.exec((err as Error).message);
    const where = at ? `syntax error at ${lineColumn(text, Number(at[1]))}` : /end of JSON input/.test((err as Error).message) ? 'ends before the JSON is complete' : 'not valid JSON';
    throw configError(path, 'valid JSON', `(${where})`, 'fix the JSON syntax');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw configError(path, 'a JSON object of settings', `(holds ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`, 'write e.g. {"steps": 5000, "batchSize": 32}');
  const depth = jsonDepth(value, CONFIG_MAX_DEPTH);
  if (depth > CONFIG_MAX_DEPTH) throw configError(path, `settings nested at most ${CONFIG_MAX_DEPTH} levels deep`, `(more than ${CONFIG_MAX_DEPTH} levels)`, 'write a flat object of settings (see docs/training.md)');
  return value as Record<string, unknown>;
}

/**
 * Reads and checks a project file: `{ "games": { "<id>": { ...a train block, agent optional } } }`.
 * Untrusted like a config file (same size and depth limits); every unknown key is named.
 */
export function readProjectFile(path: string): ProjectFile {
  const value = readConfigFile(path, { component: '--project' });
  const errs: string[] = [];
  for (const k of Object.keys(value)) if (k !== 'games') errs.push(`${describe(k)} is not a project setting (want games)`);
  const games = value.games;
  if (games === undefined) errs.push('games is missing (want { "games": { "<game id>": { "agent": "ppo", "steps": 50000 } } })');
  else if (!games || typeof games !== 'object' || Array.isArray(games)) errs.push(`games = ${describe(games)} (want an object of game id -> train settings)`);
  else for (const [id, t] of Object.entries(games)) errs.push(...trainDefaultsProblems(t, `games.${JSON.stringify(id).slice(0, 62)}`, { partial: true }));
  if (errs.length) {
    const shown = errs.length > MAX_LISTED_PROBLEMS ? [...errs.slice(0, MAX_LISTED_PROBLEMS), `and ${errs.length - MAX_LISTED_PROBLEMS} more`] : errs;
    throw new InvalidConfigError(formatError('--project', 'a valid project file', `${describe(path)} with ${shown.join('; ')}`, 'fix or remove the listed keys (see docs/training.md)'), { problems: errs });
  }
  return { path, games: games as Record<string, Partial<TrainDefaults>> };
}

/** Where a game's training defaults came from: its register() call, the project file on top of it, or the fallback. */
export type TrainDefaultsSource = 'game' | 'project' | 'fallback';

/** The train block of a game with the project file's entry on top; undefined when neither declares one. */
export function gameTrainDefaults(game: string, project?: ProjectFile, options: { selfplay?: boolean } = {}): { train: TrainDefaults; source: TrainDefaultsSource } | undefined {
  if (options.selfplay) {
    const block = multiAgentTrainDefaultsOf(game);
    return block ? { train: block, source: 'game' } : undefined;
  }
  const own = trainDefaultsOf(game);
  const over = project && Object.hasOwn(project.games, game) ? project.games[game] : undefined;
  if (over) {
    try {
      return { train: overrideTrainDefaults(own, over), source: 'project' };
    } catch (err) {
      if (!(err instanceof InvalidConfigError)) throw err;
      throw new InvalidConfigError(formatError('--project', `an agent for ${game} (it declares no train block)`, `${describe(project!.path)} with no games.${game}.agent`, `add "agent": "ppo" (or another agent) to games.${game}`));
    }
  }
  return own ? { train: own, source: 'game' } : undefined;
}

/** Who declared the train block in use, for messages: the game, or the project file over it. */
function blockOwner(declared: { source: TrainDefaultsSource } | undefined, project: ProjectFile | undefined): string {
  return declared?.source === 'project' ? project!.path : 'the game';
}

/** Most sub-envs of one run (each is a game instance stepped in this process). */
export const MAX_ENVS = 4096;
/** Most episodes of one evaluation. */
export const MAX_EVAL_EPISODES = 100_000;

function checkRunSettings(r: RunSettings, errs: string[]): void {
  const int = (k: keyof RunSettings, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isSafeInteger(r[k]) || (r[k] as number) < min || (r[k] as number) > max) errs.push(`${k} = ${describe(r[k])} (want an integer in [${min}, ${max}])`);
  };
  int('steps', 1);
  int('seed', 0, 0xffffffff);
  int('envs', 1, MAX_ENVS);
  int('evalEvery', 0);
  int('evalEpisodes', 0, MAX_EVAL_EPISODES);
  int('logEvery', 1);
  int('checkpointEvery', 0);
  int('keepCheckpoints', 1, 10_000);
  if (typeof r.saveReplay !== 'boolean') errs.push(`saveReplay = ${describe(r.saveReplay)} (want true or false)`);
  if (r.stopAtEval !== null && (typeof r.stopAtEval !== 'number' || !Number.isFinite(r.stopAtEval))) errs.push(`stopAtEval = ${describe(r.stopAtEval)} (want a number or null)`);
  if (!r.envOptions || typeof r.envOptions !== 'object' || Array.isArray(r.envOptions)) errs.push(`envOptions = ${describe(r.envOptions)} (want an object)`);
  const ve = vectorEnvProblem(r.vectorEnv);
  if (ve) errs.push(ve);
}

/** Problems named in one error line; the rest are counted. */
const MAX_LISTED_PROBLEMS = 20;

/** Memory a run may plan to use by default: half of this machine's RAM (the rest is the OS, tfjs and other work). */
export function defaultMemoryLimit(): { bytes: number; what: string } {
  return { bytes: Math.floor(totalmem() / 2), what: "half of this machine's RAM" };
}

/** Sets a key as an own property, so a `__proto__` key from JSON stays a key (reported as unknown) instead of a prototype. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Resolves a run request into a full, validated config. Throws naming every bad or unknown key. */
export function resolveRunConfig(req: RunRequest): ResolvedRunConfig {
  const probe = req.probe ? req.probe() : make(req.game);
  checkEnvChainDeclared(probe);
  const declared = gameTrainDefaults(req.game, req.project, { selfplay: req.selfplay });
  const file = { ...(req.file ?? {}) };
  const defaultAgent = declared?.train.agent ?? undeclaredAgent(probe.actionSpace).agent;
  const asked = req.agent ?? (file.agent as string | undefined);
  const agent = (asked ?? defaultAgent) as string;
  let factory: AgentFactory;
  try {
    factory = getAgentFactory(agent);
  } catch (err) {
    probe.close();
    if (asked !== undefined || !(err instanceof InvalidConfigError)) throw err;
    throw new InvalidConfigError(formatError(`train ${req.game}`, `a known agent in ${blockOwner(declared, req.project)}'s train.agent (${listAgents().join(', ')})`, describe(agent), 'fix the train block, or pass --agent'));
  }
  const actionType = probe.actionSpace.type;
  if (factory.actionSpaces && !factory.actionSpaces.includes(actionType)) {
    probe.close();
    const able = agentsForActionSpace(actionType);
    throw new InvalidConfigError(
      formatError('--agent', `an agent that handles ${req.game}'s ${actionType} action space`, `${agent} (handles ${factory.actionSpaces.join(', ')} actions)`, able.length ? `use --agent ${able.join(' or ')}` : `no registered agent declares ${actionType} actions`),
    );
  }
  const generic = factory.defaultTrain?.(probe.observationSpace);
  probe.close();
  // The game's own variant for its default agent, what it declares for another agent, or the agent's generic one.
  let variant: TrainVariant;
  if (!declared) variant = undeclaredVariant(generic);
  else if (agent === declared.train.agent) variant = ownVariant(declared.train);
  else variant = declared.train.agents?.[agent] ?? generic ?? {};
  // With --recurrent, the fields the recurrent variant sets replace the feed-forward ones.
  if (req.recurrent && variant.recurrent) variant = { ...variant, ...variant.recurrent };
  const variantPreset = variant.preset ?? generic?.preset ?? Object.keys(factory.presets)[0]!;
  const presetName = (req.preset ?? (file.preset as string | undefined) ?? variantPreset) as string;
  const preset = Object.hasOwn(factory.presets, presetName) ? factory.presets[presetName] : undefined;
  if (!preset) {
    const fromBlock = presetName === variant.preset && req.preset === undefined && file.preset === undefined;
    const where = fromBlock ? `${blockOwner(declared, req.project)}'s train block for ${agent}` : 'preset';
    throw new InvalidConfigError(formatError(fromBlock ? `train ${req.game}` : 'preset', `one of ${Object.keys(factory.presets).join(', ')}${fromBlock ? ` as the preset in ${where}` : ''}`, describe(presetName), fromBlock ? 'fix the preset of the train block, or pass --preset' : `pass --preset with a preset of agent ${agent}`));
  }
  delete file.agent;
  delete file.preset;
  const run: RunSettings = { ...DEFAULT_RUN_SETTINGS, ...(variant.run as Partial<RunSettings> | undefined) };
  if (variant.steps !== undefined) run.steps = variant.steps;
  if (variant.envs !== undefined) run.envs = variant.envs;
  // Hyperparameters tuned over one preset do not carry over to another the user picked.
  const agentOver: Record<string, unknown> = { ...(presetName === variantPreset ? variant.config : {}) };
  for (const [k, v] of Object.entries(file)) {
    if ((RUN_KEYS as string[]).includes(k)) (run as unknown as Record<string, unknown>)[k] = v;
    else setOwn(agentOver, k, v);
  }
  for (const [k, v] of Object.entries(req.flags ?? {})) if (v !== undefined) (run as unknown as Record<string, unknown>)[k] = v;
  const errs: string[] = [];
  if (req.recurrent) {
    const units = agentOver.lstmUnits ?? (preset as Record<string, unknown>).lstmUnits;
    if (!(typeof units === 'number' && units > 0)) agentOver.lstmUnits = RECURRENT_LSTM_UNITS;
  }
  checkRunSettings(run, errs);
  let agentConfig: Record<string, unknown> | null = null;
  try {
    agentConfig = factory.resolve(preset, agentOver);
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    // The agent's own message has its own "fix:"; only its list of problems joins ours (an agent
    // that gave no list has its message without the fix).
    errs.push(...(err.problems.length === 1 && err.problems[0] === err.message ? [err.message.replace(/; fix: .*$/s, '')] : err.problems));
  }
  if (agentConfig && factory.finalize) agentConfig = factory.finalize(agentConfig, run);
  // Sizes are checked against memory before anything is built (a V8 out-of-memory abort is no message).
  if (agentConfig && factory.memoryNeeds && Number.isSafeInteger(run.envs) && run.envs >= 1 && run.envs <= MAX_ENVS) {
    const limit = req.memoryLimitBytes !== undefined ? { bytes: req.memoryLimitBytes, what: 'the memory limit asked for' } : defaultMemoryLimit();
    const context = { observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, numEnvs: run.envs };
    // The vector env's observation batches (current, next, final) and the float32 batch acting reads.
    const envBatches = { key: 'envs', what: 'observation batches of the sub-envs', bytes: run.envs * spaceFacts(context).size * 4 * 4 };
    const needs: MemoryNeed[] = [...factory.memoryNeeds(agentConfig, context), envBatches];
    // A checkpoint with the replay packs it into one more array of its size (typed arrays are capped in length).
    const replay = needs.find((n) => n.key === 'bufferSize');
    if (run.saveReplay === true && replay) needs.push({ key: 'saveReplay', what: 'the replay memory packed into each checkpoint', bytes: replay.bytes, largestArray: replay.bytes });
    errs.push(...memoryProblems(needs, limit.bytes, limit.what));
  }
  if (errs.length || !agentConfig) {
    // A file can hold thousands of bad keys; the line names the first few and counts the rest.
    const shown = errs.length > MAX_LISTED_PROBLEMS ? [...errs.slice(0, MAX_LISTED_PROBLEMS), `and ${errs.length - MAX_LISTED_PROBLEMS} more`] : errs;
    throw new InvalidConfigError(formatError('train config', 'valid settings', shown.join('; '), 'fix or remove the listed keys (see docs/training.md)'), { problems: errs });
  }
  if (req.note && declared?.source !== 'game') {
    const what = `${agent} (preset ${presetName}) for ${run.steps} steps on ${run.envs} env${run.envs === 1 ? '' : 's'}`;
    // Nothing to say when the user chose both the agent and the budget.
    if (!declared && (asked === undefined || req.flags?.steps === undefined)) {
      const why = asked !== undefined ? 'the agent asked for' : undeclaredAgent(probe.actionSpace).why;
      req.note(`npcforge: ${req.game} declares no training defaults; training ${what}: ${why}, with a budget of minutes (declare train in its register() call or in ${PROJECT_FILE_NAME})`);
    } else if (declared) req.note(`npcforge: ${req.game}: training defaults from ${req.project!.path} over the game's own; training ${what}`);
  }
  return { game: req.game, agent, preset: presetName, run, agentConfig };
}
