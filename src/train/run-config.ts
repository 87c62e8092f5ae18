/**
 * Run configuration: runner settings plus the agent's hyperparameters. Merge order, later wins:
 * game defaults (preset + overrides) < config file < command-line flags. Unknown keys are errors.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { make } from '../envs/registry.js';
import { agentsForActionSpace, getAgentFactory } from '../agents/registry.js';
import { gameDefaults } from './game-defaults.js';
import { checkEnvChainDeclared } from './env-state.js';
import { memoryProblems, spaceFacts, type MemoryNeed } from '../agents/memory.js';
import { totalmem } from 'node:os';

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
}

/** LSTM units `--recurrent` puts between encoder and head when nothing else sets `lstmUnits`. */
export const RECURRENT_LSTM_UNITS = 128;

/** Largest config file read (bytes): settings fit in a few KiB; anything bigger is not a config. */
export const CONFIG_FILE_MAX_BYTES = 1 << 20;
/** Deepest nesting of objects and arrays accepted in a config file (the deepest setting has 2). */
export const CONFIG_MAX_DEPTH = 16;

function configError(path: string, expected: string, received: string, fix: string): InvalidConfigError {
  return new InvalidConfigError(formatError('--config', expected, `${describe(path)} ${received}`, fix));
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
export function readConfigFile(path: string): Record<string, unknown> {
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
  const probe = make(req.game);
  checkEnvChainDeclared(probe);
  const defaults = gameDefaults(req.game, probe.observationSpace);
  const file = { ...(req.file ?? {}) };
  const agent = (req.agent ?? (file.agent as string | undefined) ?? defaults.agent) as string;
  const factory = getAgentFactory(agent);
  const actionType = probe.actionSpace.type;
  if (factory.actionSpaces && !factory.actionSpaces.includes(actionType)) {
    probe.close();
    const able = agentsForActionSpace(actionType);
    throw new InvalidConfigError(
      formatError('--agent', `an agent that handles ${req.game}'s ${actionType} action space`, `${agent} (handles ${factory.actionSpaces.join(', ')} actions)`, able.length ? `use --agent ${able.join(' or ')}` : `no registered agent declares ${actionType} actions`),
    );
  }
  // An agent other than the game's default may bring its own per-game row (policy-gradient agents do).
  const agentRow = agent !== defaults.agent ? factory.gameDefaults?.(req.game, probe.observationSpace, { recurrent: req.recurrent === true }) : undefined;
  const gameRow = req.recurrent && defaults.recurrent ? { ...defaults, ...defaults.recurrent } : defaults;
  probe.close();
  const presetName = (req.preset ?? (file.preset as string | undefined) ?? (agent === defaults.agent ? defaults.preset : (agentRow?.preset ?? Object.keys(factory.presets)[0]!))) as string;
  delete file.agent;
  delete file.preset;
  const preset = Object.hasOwn(factory.presets, presetName) ? factory.presets[presetName] : undefined;
  if (!preset) throw new InvalidConfigError(formatError('preset', `one of ${Object.keys(factory.presets).join(', ')}`, describe(presetName), `pass --preset with a preset of agent ${agent}`));
  const useGameRow = agent === defaults.agent && presetName === defaults.preset;
  const agentRowApplies = agentRow !== undefined && presetName === agentRow.preset;
  const run: RunSettings = agentRowApplies
    ? { ...DEFAULT_RUN_SETTINGS, steps: agentRow.steps, ...(agentRow.runOverrides as Partial<RunSettings> | undefined) }
    : { ...DEFAULT_RUN_SETTINGS, steps: gameRow.steps, ...(gameRow.runOverrides as Partial<RunSettings> | undefined) };
  const agentOver: Record<string, unknown> = { ...(useGameRow ? gameRow.agentOverrides : {}) };
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
  return { game: req.game, agent, preset: presetName, run, agentConfig };
}
