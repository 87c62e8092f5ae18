/** Run folders: `runs/<game>__<agent>__s<seed>__<yyyymmdd-hhmmss>/` with config.json, metrics.jsonl, checkpoints/. */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, UnsupportedVersionError, formatError, describe } from '../errors.js';
import type { ResolvedRunConfig } from './run-config.js';

export const RUN_FORMAT = 'npcforge-run';
export const RUN_VERSION = 1;

/** config.json of a run. */
export interface RunFile extends ResolvedRunConfig {
  format: typeof RUN_FORMAT;
  version: number;
  /** Backend the run trained on. */
  backend: string;
  /** Versions of npcforge and tfjs. */
  versions: Record<string, string>;
  createdAt: string;
}

/** Folder name of a new run. */
export function runFolderName(game: string, agent: string, seed: number, date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  return `${game.replace(/\//g, '-')}__${agent}__s${seed}__${stamp}`;
}

/** Writes a file atomically (temporary file in the same folder, then rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Reads and checks a run's config.json; a folder that is not a run raises CheckpointError. */
export function readRunFile(dir: string): RunFile {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new CheckpointError(formatError('run folder', 'a folder with config.json written by npcforge train', `${describe(dir)} without config.json`, 'pass a folder under runs/ created by npcforge train'));
  let f: RunFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as RunFile;
  } catch (err) {
    throw new CheckpointError(formatError('run folder', 'a readable config.json', `${describe(path)}: ${(err as Error).message}`, 'the run folder is corrupt; start a new run'));
  }
  if (f?.format !== RUN_FORMAT) throw new CheckpointError(formatError('run folder', `config.json of format ${RUN_FORMAT}`, describe(f?.format), 'pass a folder created by npcforge train'));
  if (f.version !== RUN_VERSION) throw new UnsupportedVersionError(formatError('run folder', `config.json version ${RUN_VERSION}`, describe(f.version), 'use the npcforge version that wrote the run'));
  return f;
}

/** Creates the run folder (fails if it exists) and writes config.json. */
export function createRunFolder(dir: string, file: RunFile): void {
  if (existsSync(join(dir, 'config.json'))) throw new CheckpointError(formatError('run folder', 'a new folder', `${describe(dir)} that already holds a run`, 'pass another --out or --resume the run'));
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(file, null, 2) + '\n');
}

/** Steps of the complete checkpoints of a run, ascending. */
export function listCheckpoints(dir: string): number[] {
  const cdir = join(dir, 'checkpoints');
  if (!existsSync(cdir)) return [];
  return readdirSync(cdir)
    .filter((n) => /^\d+$/.test(n) && existsSync(join(cdir, n, 'checkpoint.json')))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Deletes all but the newest `keep` checkpoints. */
export function pruneCheckpoints(dir: string, keep: number): void {
  const steps = listCheckpoints(dir);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) rmSync(join(dir, 'checkpoints', String(s)), { recursive: true, force: true });
}
