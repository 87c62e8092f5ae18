/** Run folders: `runs/<game>__<agent>__s<seed>__<yyyymmdd-hhmmss>/` with config.json, metrics.jsonl, checkpoints/. */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, UnsupportedVersionError, formatError } from '../errors.js';
import { BEST_DIR } from './checkpoint.js';
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

/** Test seam of `writeFileAtomic`: runs between the write of the temporary file and its rename. */
export interface WriteAtomicOptions {
  beforeRename?: (tmp: string) => void;
}

/**
 * Writes a file atomically (temporary file `<path>.tmp-<pid>` in the same folder, then rename).
 * A crash before the rename leaves the old file intact; `recoverRunFolder` removes the stray temp.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteAtomicOptions = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  options.beforeRename?.(tmp);
  renameSync(tmp, path);
}

/** Largest config.json read (a resolved config is a few kB). */
export const MAX_RUN_FILE_BYTES = 16 * 1024 * 1024;

/** Reads and checks a run's config.json; a folder that is not a run raises CheckpointError. */
export function readRunFile(dir: string): RunFile {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new CheckpointError(formatError('run folder', 'a folder with config.json written by npcforge train', `${JSON.stringify(dir)} without config.json`, 'pass a folder under runs/ created by npcforge train'));
  const st = statSync(path);
  if (!st.isFile()) throw new CheckpointError(formatError('run folder', 'config.json to be a regular file', `${JSON.stringify(path)} that is not`, 'pass a folder created by npcforge train'));
  if (st.size > MAX_RUN_FILE_BYTES) throw new CheckpointError(formatError('run folder', `config.json of at most ${MAX_RUN_FILE_BYTES} bytes`, `${JSON.stringify(path)} of ${st.size} bytes`, 'pass a folder created by npcforge train'));
  let f: RunFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as RunFile;
  } catch (err) {
    // JSON.parse's message quotes the file's text: report only that it is not JSON.
    const why = err instanceof SyntaxError ? 'invalid JSON' : ((err as NodeJS.ErrnoException).code ?? 'unreadable');
    throw new CheckpointError(formatError('run folder', 'a readable config.json', `${JSON.stringify(path)}: ${why}`, 'the run folder is corrupt; start a new run'));
  }
  if (f?.format !== RUN_FORMAT) throw new CheckpointError(formatError('run folder', `config.json of format ${RUN_FORMAT}`, `${JSON.stringify(path)} of another format`, 'pass a folder created by npcforge train'));
  if (f.version !== RUN_VERSION) throw new UnsupportedVersionError(formatError('run folder', `config.json version ${RUN_VERSION}`, Number.isSafeInteger(f.version) ? `version ${f.version}` : 'no integer version', 'use the npcforge version that wrote the run'));
  return f;
}

/** Creates the run folder (fails if it exists) and writes config.json. */
export function createRunFolder(dir: string, file: RunFile): void {
  if (existsSync(join(dir, 'config.json'))) throw new CheckpointError(formatError('run folder', 'a new folder', `${JSON.stringify(dir)} that already holds a run`, 'pass another --out or --resume the run'));
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

/**
 * Deletes all but the newest `keep` checkpoints. Each is first renamed out of the numbered names, so
 * a kill during the delete leaves a `.del-*` folder (removed on the next start), never a numbered
 * folder with half its files.
 */
export function pruneCheckpoints(dir: string, keep: number): void {
  const steps = listCheckpoints(dir);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) {
    const doomed = join(dir, 'checkpoints', `.del-${s}-${process.pid}`);
    renameSync(join(dir, 'checkpoints', String(s)), doomed);
    rmSync(doomed, { recursive: true, force: true });
  }
}

/** Name of the lock file of a run folder being trained. */
export const LOCK_FILE = '.lock';

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pid written in a run's lock file, or null (no lock, or unreadable content). */
export function lockOwner(dir: string): number | null {
  try {
    const text = readFileSync(join(dir, LOCK_FILE), 'utf8').trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/**
 * Locks a run folder for one training process: creates `<dir>/.lock` (exclusively) holding the pid.
 * A lock held by a live process is a CheckpointError naming its pid; a lock left by a dead process
 * is taken over and reported through `warn`. Returns the release function (idempotent; also run at
 * process exit, so an uncaught error or `process.exit` does not leave the lock behind).
 */
export function lockRunFolder(dir: string, warn: (line: string) => void): () => void {
  const path = join(dir, LOCK_FILE);
  const locked = (owner: number | null): CheckpointError =>
    new CheckpointError(formatError('run folder', 'a run folder no other process is training', `${JSON.stringify(dir)} locked by ${owner === null ? 'another process' : `pid ${owner}`} (${path})`, `wait for ${owner === null ? 'it' : `pid ${owner}`} to finish or stop it; two trainings of one run would interleave its files`));
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new CheckpointError(formatError('run folder', `to create the lock file ${JSON.stringify(path)}`, code ?? (err as Error).name, 'check that the run folder exists and is writable'), { cause: err });
      const owner = lockOwner(dir);
      // A second EEXIST: another process took the stale lock over at the same moment.
      if (attempt > 0 || (owner !== null && owner !== process.pid && pidAlive(owner))) throw locked(owner);
      // No pid yet: a process that has just created the file may still be writing its pid.
      if (owner === null && Date.now() - lockMtime(path) < 10_000) throw locked(null);
      warn(`npcforge: took over the lock of ${dir} left by ${owner === null ? 'an unknown process' : `pid ${owner}, which is no longer running`}`);
      rmSync(path, { force: true });
    }
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    // Only our own lock: a later process may have taken over a lock we no longer hold.
    if (lockOwner(dir) === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  };
  process.on('exit', release);
  return release;
}

function lockMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Pid in a temporary name `.tmp-<step>-<pid>`, `.old-best-<pid>`, `<file>.tmp-<pid>`, ... */
function tempPid(name: string): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : NaN;
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A folder written by writeCheckpoint/writeBest whose checkpoint.json and blobs are all present. */
function completeCheckpointDir(dir: string): boolean {
  try {
    if (!lstatSync(join(dir, 'checkpoint.json')).isFile()) return false;
    const file = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { blobs?: unknown };
    if (!Array.isArray(file.blobs)) return false;
    return file.blobs.every((b) => typeof b === 'string' && !b.includes('/') && !b.includes('\\') && lstatSync(join(dir, b)).isFile());
  } catch {
    return false;
  }
}

/**
 * Finishes or rolls back what a killed training left half-done in a run folder, and returns one
 * line per repair:
 * - `checkpoints/.tmp-<step>-<pid>` complete and `<step>` absent: renamed in; otherwise removed;
 * - `checkpoints/.del-*` (pruning killed mid-way): removed;
 * - `checkpoints/.old-*` (replacing a checkpoint killed mid-way): removed, or renamed back when its
 *   step has no folder and no complete replacement;
 * - a numbered checkpoint folder without checkpoint.json (kill during an old-style prune): removed;
 * - no `best/` but `.tmp-best-*` complete (rolled forward) or `.old-best-*` (rolled back);
 *   stray `.tmp-best-*`/`.old-best-*` removed;
 * - stray `<file>.tmp-<pid>` files of `writeFileAtomic` removed.
 * A folder locked by another live process is not touched at all. Without the lock, temporaries of a
 * live process other than this one are left alone (it may be writing them); with it
 * (`holdsLock`, a resume), every temporary is stale, whatever process now has its pid.
 */
export function recoverRunFolder(dir: string, options: { holdsLock?: boolean } = {}): string[] {
  const done: string[] = [];
  const owner = lockOwner(dir);
  if (owner !== null && owner !== process.pid && pidAlive(owner)) return done;
  const ours = (name: string): boolean => {
    const pid = tempPid(name);
    return options.holdsLock === true || pid === process.pid || !pidAlive(pid);
  };
  const cdir = join(dir, 'checkpoints');
  if (isDir(cdir)) {
    const names = readdirSync(cdir);
    for (const n of names.filter((x) => /^\.tmp-\d+-\d+$/.test(x) && ours(x))) {
      const step = n.split('-')[1]!;
      const tmp = join(cdir, n);
      if (!existsSync(join(cdir, step)) && completeCheckpointDir(tmp)) {
        renameSync(tmp, join(cdir, step));
        done.push(`npcforge: recovered checkpoint ${step} of ${dir} (its write was interrupted before the final rename)`);
      } else {
        rmSync(tmp, { recursive: true, force: true });
        done.push(`npcforge: removed the unfinished checkpoint write ${join(cdir, n)}`);
      }
    }
    for (const n of names.filter((x) => /^\.del-\d+-\d+$/.test(x) && ours(x))) {
      rmSync(join(cdir, n), { recursive: true, force: true });
      done.push(`npcforge: removed ${join(cdir, n)} left by an interrupted pruning of old checkpoints`);
    }
    for (const n of names.filter((x) => /^\.old-\d+-\d+$/.test(x) && ours(x))) {
      const step = n.split('-')[1]!;
      const old = join(cdir, n);
      if (!existsSync(join(cdir, step)) && completeCheckpointDir(old)) {
        // A replace of checkpoint <step> was killed between its two renames and no complete new copy
        // was renamed in above.
        renameSync(old, join(cdir, step));
        done.push(`npcforge: restored checkpoint ${step} of ${dir} (its replacement was interrupted)`);
      } else {
        rmSync(old, { recursive: true, force: true });
        done.push(`npcforge: removed ${old} left by an interrupted replacement of checkpoint ${step}`);
      }
    }
    for (const n of readdirSync(cdir).filter((x) => /^\d+$/.test(x))) {
      if (isDir(join(cdir, n)) && !existsSync(join(cdir, n, 'checkpoint.json'))) {
        rmSync(join(cdir, n), { recursive: true, force: true });
        done.push(`npcforge: removed checkpoint ${n} of ${dir}: it has no checkpoint.json (its deletion was interrupted)`);
      }
    }
  }
  const top = isDir(dir) ? readdirSync(dir) : [];
  const tmpBest = top.filter((x) => /^\.tmp-best-\d+$/.test(x) && ours(x));
  const oldBest = top.filter((x) => /^\.old-best-\d+$/.test(x) && ours(x));
  const best = join(dir, BEST_DIR);
  if (!existsSync(best)) {
    const forward = tmpBest.find((x) => completeCheckpointDir(join(dir, x)));
    const back = oldBest.find((x) => completeCheckpointDir(join(dir, x)));
    if (forward) {
      renameSync(join(dir, forward), best);
      done.push(`npcforge: restored ${best} from ${forward} (its update was interrupted; rolled forward)`);
    } else if (back) {
      renameSync(join(dir, back), best);
      done.push(`npcforge: restored ${best} from ${back} (its update was interrupted; rolled back)`);
    }
  }
  for (const n of [...tmpBest, ...oldBest]) {
    if (!existsSync(join(dir, n))) continue;
    rmSync(join(dir, n), { recursive: true, force: true });
    done.push(`npcforge: removed ${join(dir, n)} left by an interrupted update of best/`);
  }
  for (const n of top.filter((x) => /^(config\.json|metrics\.jsonl|status\.json)\.tmp-\d+$/.test(x) && ours(x))) {
    rmSync(join(dir, n), { force: true });
    done.push(`npcforge: removed ${join(dir, n)} left by an interrupted rewrite (the file itself is intact)`);
  }
  return done;
}

/** Runs a write into a run folder; a failure is one CheckpointError of `component` naming what it was doing (`to <what>`). */
export function writeRunFile(component: string, what: string, write: () => void): void {
  try {
    write();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    throw new CheckpointError(formatError(component, `to ${what}`, code, code === 'ENOSPC' ? 'free disk space, then continue with --resume' : 'check that the run folder is writable, then continue with --resume'), { cause: err });
  }
}
