/**
 * Run configuration: runner settings plus the agent's hyperparameters. Merge order, later wins:
 * game defaults (preset + overrides) < config file < command-line flags. Unknown keys are errors.
 */
import { readFileSync } from 'node:fs';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { make } from '../envs/registry.js';
import { getAgentFactory } from '../agents/registry.js';
import { gameDefaults } from './game-defaults.js';

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
}

/** LSTM units `--recurrent` puts between encoder and head when nothing else sets `lstmUnits`. */
export const RECURRENT_LSTM_UNITS = 128;

/** Reads a JSON config file; malformed files raise one clear InvalidConfigError. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidConfigError(formatError('--config', 'a readable JSON file', `${describe(path)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, 'check the path'));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidConfigError(formatError('--config', 'valid JSON', `${describe(path)}: ${(err as Error).message}`, 'fix the JSON syntax'));
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidConfigError(formatError('--config', 'a JSON object of settings', describe(value), 'write e.g. {"steps": 5000, "batchSize": 32}'));
  return value as Record<string, unknown>;
}

function checkRunSettings(r: RunSettings, errs: string[]): void {
  const int = (k: keyof RunSettings, min: number): void => {
    if (!Number.isInteger(r[k]) || (r[k] as number) < min) errs.push(`${k} = ${describe(r[k])} (want an integer >= ${min})`);
  };
  int('steps', 1);
  int('seed', 0);
  if (Number.isInteger(r.seed) && r.seed > 0xffffffff) errs.push(`seed = ${r.seed} (want < 2^32)`);
  int('envs', 1);
  int('evalEvery', 0);
  int('evalEpisodes', 0);
  int('logEvery', 1);
  int('checkpointEvery', 0);
  int('keepCheckpoints', 1);
  if (typeof r.saveReplay !== 'boolean') errs.push(`saveReplay = ${describe(r.saveReplay)} (want true or false)`);
  if (r.stopAtEval !== null && (typeof r.stopAtEval !== 'number' || !Number.isFinite(r.stopAtEval))) errs.push(`stopAtEval = ${describe(r.stopAtEval)} (want a number or null)`);
  if (!r.envOptions || typeof r.envOptions !== 'object' || Array.isArray(r.envOptions)) errs.push(`envOptions = ${describe(r.envOptions)} (want an object)`);
}

/** Resolves a run request into a full, validated config. Throws naming every bad or unknown key. */
export function resolveRunConfig(req: RunRequest): ResolvedRunConfig {
  const probe = make(req.game);
  const defaults = gameDefaults(req.game, probe.observationSpace);
  const file = { ...(req.file ?? {}) };
  const agent = (req.agent ?? (file.agent as string | undefined) ?? defaults.agent) as string;
  const factory = getAgentFactory(agent);
  // An agent other than the game's default may bring its own per-game row (policy-gradient agents do).
  const agentRow = agent !== defaults.agent ? factory.gameDefaults?.(req.game, probe.observationSpace, { recurrent: req.recurrent === true }) : undefined;
  const gameRow = req.recurrent && defaults.recurrent ? { ...defaults, ...defaults.recurrent } : defaults;
  probe.close();
  const presetName = (req.preset ?? (file.preset as string | undefined) ?? (agent === defaults.agent ? defaults.preset : (agentRow?.preset ?? Object.keys(factory.presets)[0]!))) as string;
  delete file.agent;
  delete file.preset;
  const preset = factory.presets[presetName];
  if (!preset) throw new InvalidConfigError(formatError('preset', `one of ${Object.keys(factory.presets).join(', ')}`, describe(presetName), `pass --preset with a preset of agent ${agent}`));
  const useGameRow = agent === defaults.agent && presetName === defaults.preset;
  const agentRowApplies = agentRow !== undefined && presetName === agentRow.preset;
  const run: RunSettings = agentRowApplies
    ? { ...DEFAULT_RUN_SETTINGS, steps: agentRow.steps, ...(agentRow.runOverrides as Partial<RunSettings> | undefined) }
    : { ...DEFAULT_RUN_SETTINGS, steps: gameRow.steps, ...(gameRow.runOverrides as Partial<RunSettings> | undefined) };
  const agentOver: Record<string, unknown> = { ...(useGameRow ? gameRow.agentOverrides : {}) };
  for (const [k, v] of Object.entries(file)) {
    if ((RUN_KEYS as string[]).includes(k)) (run as unknown as Record<string, unknown>)[k] = v;
    else agentOver[k] = v;
  }
  for (const [k, v] of Object.entries(req.flags ?? {})) if (v !== undefined) (run as unknown as Record<string, unknown>)[k] = v;
  const errs: string[] = [];
  if (req.recurrent) {
    const units = agentOver.lstmUnits ?? (preset as Record<string, unknown>).lstmUnits;
    if (!(typeof units === 'number' && units > 0)) agentOver.lstmUnits = RECURRENT_LSTM_UNITS;
  }
  checkRunSettings(run, errs);
  let agentConfig: Record<string, unknown> = {};
  try {
    agentConfig = factory.resolve(preset, agentOver);
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    errs.push(err.message);
  }
  if (errs.length) throw new InvalidConfigError(formatError('train config', 'valid settings', errs.join('; '), 'fix or remove the listed keys (see docs/training.md)'));
  if (factory.finalize) agentConfig = factory.finalize(agentConfig, run);
  return { game: req.game, agent, preset: presetName, run, agentConfig };
}
