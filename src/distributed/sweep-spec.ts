/**
 * Sweep specs: a JSON file naming a game, seeds and a grid of settings, expanded into one job per
 * (grid point, seed). The spec is untrusted (read with the config file's size and depth limits);
 * every problem is named in one error.
 */
import { basename } from 'node:path';
import { InvalidConfigError, describe, formatError } from '../errors.js';
import { readConfigFile } from '../train/run-config.js';

/** A sweep spec as written in `<spec>.json`. */
export interface SweepSpec {
  /** Sweep id: the folder under `out` and the prefix of its job ids (default: the file's name). */
  name: string;
  game: string;
  agent?: string;
  preset?: string;
  /** Env steps per run (default: the game's or preset's budget). */
  steps?: number;
  recurrent?: boolean;
  seeds: number[];
  /** Settings of every run, as in a `--config` file. */
  config: Record<string, unknown>;
  /** Settings to vary: each key's list of values; the sweep runs their cartesian product. */
  grid: Record<string, Array<number | string | boolean>>;
}

/** One run of a sweep. */
export interface SweepJob {
  sweep: string;
  /** Position in the sweep (grid point major, seed minor). */
  index: number;
  /** BullMQ job id: `<sweep>-<index>` (enqueueing the same sweep twice adds nothing). */
  id: string;
  /** Index of the grid point. */
  point: number;
  /** This grid point's values. */
  settings: Record<string, number | string | boolean>;
  seed: number;
  game: string;
  agent?: string;
  preset?: string;
  steps?: number;
  recurrent?: boolean;
  /** The config file's settings for this run: the spec's `config` with `settings` on top. */
  config: Record<string, unknown>;
  /** Run folder, relative to the worker's output folder: `<sweep>/g<point>-s<seed>`. */
  runPath: string;
}

/** Names of sweeps (folder and job id prefix): no separators, no colon (BullMQ ids forbid it). */
export const SWEEP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Most runs one sweep may expand to. */
export const MAX_SWEEP_JOBS = 10_000;
const KEYS = ['name', 'game', 'agent', 'preset', 'steps', 'recurrent', 'seeds', 'config', 'grid'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function hasPath(o: Record<string, unknown>, key: string): boolean {
  let cur: unknown = o;
  for (const p of key.split('.')) {
    if (!isObject(cur) || !Object.hasOwn(cur, p)) return false;
    cur = cur[p];
  }
  return true;
}

/** Checks a parsed spec; `fallbackName` names a sweep whose spec has no `name`. */
export function parseSweepSpec(value: unknown, source: string, fallbackName?: string): SweepSpec {
  const bad: string[] = [];
  if (!isObject(value)) throw new InvalidConfigError(formatError('npcforge sweep', 'a JSON object', `${source} holds ${describe(value)}`, 'see docs/distributed.md for the spec'));
  for (const k of Object.keys(value)) if (!(KEYS as readonly string[]).includes(k)) bad.push(`${describe(k)} is not a sweep key (want ${KEYS.join(', ')})`);
  const name = value.name ?? fallbackName;
  if (typeof name !== 'string' || !SWEEP_NAME.test(name)) bad.push(`name = ${describe(name)} (want letters, digits, '.', '_', '-'; at most 64)`);
  if (typeof value.game !== 'string' || !value.game) bad.push(`game = ${describe(value.game)} (want a registered game id)`);
  for (const k of ['agent', 'preset'] as const) if (value[k] !== undefined && (typeof value[k] !== 'string' || !value[k])) bad.push(`${k} = ${describe(value[k])} (want a name)`);
  if (value.steps !== undefined && !(Number.isSafeInteger(value.steps) && (value.steps as number) >= 1)) bad.push(`steps = ${describe(value.steps)} (want an integer >= 1)`);
  if (value.recurrent !== undefined && typeof value.recurrent !== 'boolean') bad.push(`recurrent = ${describe(value.recurrent)} (want true or false)`);
  const seeds = value.seeds;
  if (!Array.isArray(seeds) || !seeds.length || !seeds.every((s) => Number.isSafeInteger(s) && s >= 0)) bad.push(`seeds = ${describe(seeds)} (want a non-empty list of integers >= 0)`);
  else if (new Set(seeds).size !== seeds.length) bad.push('seeds lists a seed twice');
  if (value.config !== undefined && !isObject(value.config)) bad.push(`config = ${describe(value.config)} (want an object of settings, as in a --config file)`);
  const grid = value.grid ?? {};
  let points = 1;
  if (!isObject(grid)) bad.push(`grid = ${describe(grid)} (want an object: setting -> list of values)`);
  else
    for (const [k, vs] of Object.entries(grid)) {
      if (!Array.isArray(vs) || !vs.length || !vs.every((v) => (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean')) bad.push(`grid.${k} = ${describe(vs)} (want a non-empty list of numbers, strings or booleans)`);
      else points *= vs.length;
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}$/.test(k) || k.split('.').some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) bad.push(`grid key ${describe(k)} is not a setting name (or a dotted path such as optimizer.learningRate)`);
      else if (isObject(value.config) && hasPath(value.config, k)) bad.push(`grid.${k} is also set in config (set it in one place)`);
    }
  if (Array.isArray(seeds) && points * seeds.length > MAX_SWEEP_JOBS) bad.push(`the sweep expands to ${points * seeds.length} runs (at most ${MAX_SWEEP_JOBS})`);
  if (bad.length) throw new InvalidConfigError(formatError('npcforge sweep', 'a valid sweep spec', `${source} with ${bad.slice(0, 8).join('; ')}${bad.length > 8 ? `; and ${bad.length - 8} more` : ''}`, 'fix the listed keys (see docs/distributed.md)'), { problems: bad });
  return {
    name: name as string,
    game: value.game as string,
    ...(value.agent !== undefined ? { agent: value.agent as string } : {}),
    ...(value.preset !== undefined ? { preset: value.preset as string } : {}),
    ...(value.steps !== undefined ? { steps: value.steps as number } : {}),
    ...(value.recurrent !== undefined ? { recurrent: value.recurrent as boolean } : {}),
    seeds: seeds as number[],
    config: (value.config as Record<string, unknown> | undefined) ?? {},
    grid: grid as SweepSpec['grid'],
  };
}

/** Reads and checks a spec file (bounded, as config files are). */
export function readSweepSpec(path: string): SweepSpec {
  const value = readConfigFile(path, { component: 'npcforge sweep' });
  const stem = basename(path).replace(/\.json$/i, '');
  return parseSweepSpec(value, describe(path), SWEEP_NAME.test(stem) ? stem : undefined);
}

/** The grid's points in order (the first key varies slowest); one empty point without a grid. */
export function gridPoints(grid: SweepSpec['grid']): Array<Record<string, number | string | boolean>> {
  let points: Array<Record<string, number | string | boolean>> = [{}];
  for (const [k, vs] of Object.entries(grid)) points = points.flatMap((p) => vs.map((v) => ({ ...p, [k]: v })));
  return points;
}

/** One job per grid point and seed. */
export function expandSweep(spec: SweepSpec): SweepJob[] {
  const jobs: SweepJob[] = [];
  gridPoints(spec.grid).forEach((settings, point) => {
    for (const seed of spec.seeds) {
      const index = jobs.length;
      jobs.push({
        sweep: spec.name,
        index,
        id: `${spec.name}-${index}`,
        point,
        settings,
        seed,
        game: spec.game,
        ...(spec.agent !== undefined ? { agent: spec.agent } : {}),
        ...(spec.preset !== undefined ? { preset: spec.preset } : {}),
        ...(spec.steps !== undefined ? { steps: spec.steps } : {}),
        ...(spec.recurrent !== undefined ? { recurrent: spec.recurrent } : {}),
        config: withSettings(spec.config, settings),
        runPath: `${spec.name}/g${point}-s${seed}`,
      });
    }
  });
  return jobs;
}

/**
 * The base settings with a grid point on top; a dotted key (`optimizer.learningRate`) sets a field of
 * a nested object, keeping its other fields.
 */
export function withSettings(base: Record<string, unknown>, settings: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(base);
  for (const [key, v] of Object.entries(settings)) {
    const path = key.split('.');
    let o = out;
    for (const p of path.slice(0, -1)) {
      if (!isObject(o[p])) o[p] = {};
      o = o[p] as Record<string, unknown>;
    }
    o[path[path.length - 1]!] = v;
  }
  return out;
}

/** `lr=0.001 batchSize=64` (or `-` for a sweep without a grid). */
export function settingsLabel(settings: Record<string, unknown>): string {
  const parts = Object.entries(settings).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length ? parts.join(' ') : '-';
}

/**
 * A job as read back from a queue or a results file: checked, since the queue is shared and its
 * contents are untrusted. Returns null for anything that is not a job of this shape.
 */
export function parseSweepJob(value: unknown): SweepJob | null {
  if (!isObject(value)) return null;
  const v = value;
  if (typeof v.sweep !== 'string' || !SWEEP_NAME.test(v.sweep)) return null;
  if (!Number.isSafeInteger(v.index) || !Number.isSafeInteger(v.point) || !Number.isSafeInteger(v.seed) || (v.seed as number) < 0) return null;
  if (typeof v.game !== 'string' || typeof v.id !== 'string' || v.id !== `${v.sweep}-${v.index}`) return null;
  if (!isObject(v.settings) || !isObject(v.config)) return null;
  if (v.runPath !== `${v.sweep}/g${v.point}-s${v.seed}`) return null;
  for (const k of ['agent', 'preset'] as const) if (v[k] !== undefined && typeof v[k] !== 'string') return null;
  if (v.steps !== undefined && !(Number.isSafeInteger(v.steps) && (v.steps as number) >= 1)) return null;
  if (v.recurrent !== undefined && typeof v.recurrent !== 'boolean') return null;
  return v as unknown as SweepJob;
}
