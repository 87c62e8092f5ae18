/**
 * Checkpoints: `checkpoints/<step>/checkpoint.json` (counters, RNG and env states, agent JSON)
 * plus the agent's binary blobs. Written into a temporary folder, then renamed, so a crash never
 * leaves a half-written checkpoint under its final name.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError, UnsupportedVersionError, formatError } from '../errors.js';
import type { AgentSnapshot } from '../agents/agent.js';
import type { EnvChainSnapshot } from '../envs/env-state.js';
import type { SelfPlayState } from './selfplay/selfplay.js';

export const CHECKPOINT_FORMAT = 'npcforge-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** Folder (inside the run folder) of the best-evaluated weights. */
export const BEST_DIR = 'best';

/** Runner state needed to continue exactly. */
export interface RunnerState {
  step: number;
  episodes: number;
  evals: number;
  lastEval: number | null;
  /** Best evaluation mean so far (its weights are in `best/`); absent in checkpoints of older runs. */
  bestEval?: number | null;
  wallTime: number;
  recentReturns: number[];
  episodeReturns: number[];
  episodeLengths: number[];
  /** Current observations of the sub-envs (values). */
  obs: number[];
  /** Per-env snapshots, or null where a game cannot snapshot (resume then resets it). */
  envs: Array<EnvChainSnapshot | null>;
  /** Interval accumulators of the metrics line. */
  acc: { loss: number; lossCount: number; updates: number; clipped?: number };
  /** Self-play runs: the opponent pool, its RNGs and the learner's running returns. */
  selfplay?: SelfPlayState;
}

export interface CheckpointFile {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  runner: RunnerState;
  agent: Record<string, unknown>;
  blobs: string[];
}

/** Test seam of the checkpoint writers: the file write they use (default `writeFileSync`). */
export interface CheckpointWriteOptions {
  writeFile?: (path: string, data: string | Uint8Array) => void;
}

/** Largest checkpoint.json read (agent JSON, counters, env snapshots; the weights are blobs). */
export const MAX_CHECKPOINT_JSON_BYTES = 256 * 1024 * 1024;

/**
 * Fills `tmp` with the snapshot's blobs and checkpoint.json (written last: its presence marks a
 * complete folder). Any write error (disk full, read-only folder) removes `tmp` and becomes one
 * CheckpointError naming what was being written and the error code.
 */
function fillCheckpointDir(tmp: string, what: string, runner: RunnerState, agent: AgentSnapshot, options: CheckpointWriteOptions): void {
  const write = options.writeFile ?? ((path: string, data: string | Uint8Array) => writeFileSync(path, data));
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const [name, bytes] of Object.entries(agent.blobs)) write(join(tmp, name), bytes);
    const file: CheckpointFile = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, runner, agent: agent.json, blobs: Object.keys(agent.blobs) };
    write(join(tmp, 'checkpoint.json'), JSON.stringify(file));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    throw new CheckpointError(formatError('checkpoint', `to write ${what}`, `${code} while writing ${JSON.stringify(tmp)} (removed; nothing half-written kept)`, code === 'ENOSPC' ? 'free disk space, then continue with --resume' : 'check that the run folder is writable, then continue with --resume'), { cause: err });
  }
}

/**
 * Writes a checkpoint for `step` atomically: a complete `.tmp-<step>-<pid>` folder is renamed to
 * `<step>`. An existing `<step>` is first moved to `.old-<step>-<pid>`, so a kill at any point leaves
 * either name complete (`recoverRunFolder` finishes or rolls back on the next start).
 */
export function writeCheckpoint(runDir: string, runner: RunnerState, agent: AgentSnapshot, options: CheckpointWriteOptions = {}): string {
  const cdir = join(runDir, 'checkpoints');
  mkdirSync(cdir, { recursive: true });
  const final = join(cdir, String(runner.step));
  const tmp = join(cdir, `.tmp-${runner.step}-${process.pid}`);
  const old = join(cdir, `.old-${runner.step}-${process.pid}`);
  fillCheckpointDir(tmp, `checkpoint ${runner.step}`, runner, agent, options);
  if (existsSync(final)) {
    rmSync(old, { recursive: true, force: true });
    renameSync(final, old);
  }
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/**
 * Writes the best-evaluated weights to `<runDir>/best/` (same layout as a checkpoint, no replay).
 * Built in a temporary folder and swapped in by renames, so `best/` is always complete.
 */
export function writeBest(runDir: string, runner: RunnerState, agent: AgentSnapshot, options: CheckpointWriteOptions = {}): string {
  const final = join(runDir, BEST_DIR);
  const tmp = join(runDir, `.tmp-best-${process.pid}`);
  const old = join(runDir, `.old-best-${process.pid}`);
  rmSync(old, { recursive: true, force: true });
  fillCheckpointDir(tmp, `the best weights (step ${runner.step})`, runner, agent, options);
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/**
 * Writes a checkpoint-layout folder at `final` (e.g. a self-play pool snapshot): built in a
 * temporary sibling and renamed, replacing an existing `final`, so `final` is always complete.
 */
export function writeCheckpointFolder(final: string, what: string, runner: RunnerState, agent: AgentSnapshot, options: CheckpointWriteOptions = {}): string {
  mkdirSync(dirname(final), { recursive: true });
  const tmp = `${final}.tmp-${process.pid}`;
  const old = `${final}.old-${process.pid}`;
  rmSync(old, { recursive: true, force: true });
  fillCheckpointDir(tmp, what, runner, agent, options);
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/** Reads a checkpoint folder; missing or corrupt files raise CheckpointError. */
export function readCheckpoint(dir: string): { runner: RunnerState; agent: AgentSnapshot } {
  const path = join(dir, 'checkpoint.json');
  let file: CheckpointFile;
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new CheckpointError(formatError('checkpoint', 'a readable checkpoint.json', `${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, 'the checkpoint is incomplete; pick another checkpoint, or start a new run'));
  }
  if (!st.isFile()) throw new CheckpointError(formatError('checkpoint', 'checkpoint.json to be a regular file', `${JSON.stringify(path)} that is not`, 'pick another checkpoint, or start a new run'));
  if (st.size > MAX_CHECKPOINT_JSON_BYTES) throw new CheckpointError(formatError('checkpoint', `checkpoint.json of at most ${MAX_CHECKPOINT_JSON_BYTES} bytes`, `${JSON.stringify(path)} of ${st.size} bytes`, 'pick another checkpoint, or start a new run'));
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as CheckpointFile;
  } catch (err) {
    // JSON.parse's message quotes the file's text (and may span lines): report only that it is not JSON.
    const why = err instanceof SyntaxError ? 'invalid JSON' : ((err as NodeJS.ErrnoException).code ?? 'unreadable');
    throw new CheckpointError(formatError('checkpoint', 'a readable checkpoint.json', `${JSON.stringify(path)}: ${why}`, 'the checkpoint is corrupt; pick another checkpoint, or start a new run'));
  }
  if (file?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(formatError('checkpoint', `format ${CHECKPOINT_FORMAT}`, `${JSON.stringify(path)} of another format`, 'pick a checkpoint folder written by npcforge train'));
  if (file.version !== CHECKPOINT_VERSION) throw new UnsupportedVersionError(formatError('checkpoint', `version ${CHECKPOINT_VERSION}`, Number.isSafeInteger(file.version) ? `version ${file.version}` : 'no integer version', 'use the npcforge version that wrote it'));
  const r = file.runner;
  if (!r || !Number.isInteger(r.step) || !Array.isArray(r.obs) || !Array.isArray(r.envs)) throw new CheckpointError(formatError('checkpoint', 'runner counters and env states', `${JSON.stringify(path)} with missing or malformed fields`, 'the checkpoint is corrupt; pick another'));
  const blobs: Record<string, Uint8Array> = {};
  for (const name of file.blobs ?? []) {
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name) || name.startsWith('.')) throw new CheckpointError(formatError('checkpoint', 'blob names inside the checkpoint folder', `${JSON.stringify(path)} naming a blob outside it`, 'the checkpoint is corrupt; pick another'));
    const blobPath = join(dir, name);
    let blobStat;
    try {
      blobStat = statSync(blobPath);
    } catch {
      throw new CheckpointError(formatError('checkpoint', `blob file ${name}`, `missing in ${JSON.stringify(dir)}`, 'the checkpoint is incomplete; pick another'));
    }
    // A FIFO would block the read for good, a link to /dev/zero would fill the memory.
    if (!blobStat.isFile()) throw new CheckpointError(formatError('checkpoint', `blob file ${name} to be a regular file`, `${JSON.stringify(blobPath)} that is not`, 'the checkpoint is corrupt; pick another'));
    try {
      blobs[name] = new Uint8Array(readFileSync(blobPath));
    } catch (err) {
      throw new CheckpointError(formatError('checkpoint', `a readable blob file ${name}`, `${JSON.stringify(blobPath)} of ${blobStat.size} bytes: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, 'the checkpoint is corrupt; pick another'), { cause: err });
    }
  }
  return { runner: r, agent: { json: file.agent, blobs } };
}
