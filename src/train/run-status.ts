/**
 * `status.json` of a run folder: whether a `train` or `fit` is running it, finished it, or was
 * interrupted. The training process writes the file (atomically) when it starts or resumes
 * (`running`, with its pid and host name), and when it ends (`finished`, or `interrupted` for a stop
 * it saw: Ctrl-C, SIGTERM, an error). While running it touches the file's mtime every
 * `HEARTBEAT_MS` (a heartbeat that changes no content and no folder mtime, so the viewer's per-run
 * listing cache stays valid). A killed process writes nothing: readers call a `running` file
 * interrupted when its pid is gone (same host) or its heartbeat is older than `STALE_MS`.
 * Node built-ins only (run-folder.ts pulls no tfjs): the viewer server reads it too.
 */
import { constants as fsConstants, promises as fs, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './run-folder.js';

export const STATUS_FILE = 'status.json';
export const STATUS_FORMAT = 'npcforge-run-status';
export const STATUS_VERSION = 1;
/** How often a running process touches status.json (ms). */
export const HEARTBEAT_MS = 5_000;
/** A `running` file whose heartbeat is older than this (ms) is interrupted: 6 missed heartbeats. */
export const STALE_MS = 30_000;
/** Largest status.json a reader accepts (the file is ~200 bytes). */
export const MAX_STATUS_BYTES = 4096;

/** What a run folder says of itself, as shown by the viewer. */
export type RunState = 'running' | 'finished' | 'interrupted';

/** The content of status.json. */
export interface RunStatusFile {
  format: typeof STATUS_FORMAT;
  version: number;
  /** As written by the process: `running` until it ends. */
  state: RunState;
  pid: number;
  host: string;
  /** ISO time the process started (or resumed) the run. */
  startedAt: string;
  /** ISO time the process ended it (finished or interrupted), else null. */
  endedAt: string | null;
  /** Why it was interrupted, as the process saw it (e.g. `SIGINT`, an error's class), else null. */
  reason: string | null;
}

/** Writer of a run's status.json, owned by the training process. */
export class RunStatusWriter {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly path: string;
  private readonly startedAt: string;

  constructor(dir: string, private readonly now: () => number = Date.now) {
    this.path = join(dir, STATUS_FILE);
    this.startedAt = new Date(now()).toISOString();
  }

  /** Marks the run running (a new run or a resume) and starts the heartbeat. */
  start(): void {
    this.write('running', null);
    // unref: the heartbeat never keeps a finished process alive.
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Touches the file (also called at every metrics line, so a busy event loop still beats). */
  beat(): void {
    if (!this.timer) return;
    const t = new Date(this.now());
    try {
      utimesSync(this.path, t, t);
    } catch {
      // A heartbeat that fails (file removed by hand, disk gone) must not stop the training.
    }
  }

  /** Ends the run: `finished`, or `interrupted` with the reason. Idempotent. */
  end(state: Exclude<RunState, 'running'>, reason: string | null = null): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.write(state, reason);
  }

  private write(state: RunState, reason: string | null): void {
    const file: RunStatusFile = { format: STATUS_FORMAT, version: STATUS_VERSION, state, pid: process.pid, host: hostname(), startedAt: this.startedAt, endedAt: state === 'running' ? null : new Date(this.now()).toISOString(), reason };
    try {
      writeFileAtomic(this.path, JSON.stringify(file) + '\n');
    } catch {
      // Status is for display only: a run folder that cannot take it still trains (metrics writes report the disk).
    }
  }
}

/** What a reader knows of a status.json: the parsed file (or null when absent or unreadable) and its mtime. */
export interface StatusSnapshot {
  file: RunStatusFile | null;
  mtimeMs: number;
}

/**
 * Reads status.json of `dir` (untrusted: bounded, regular files only, every field checked); null when
 * there is none or it is not a valid status file.
 */
export async function readRunStatus(dir: string): Promise<StatusSnapshot | null> {
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: a FIFO planted under the name must not wedge the reader (regular files ignore it).
    handle = await fs.open(join(dir, STATUS_FILE), fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_STATUS_BYTES) return null;
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, st.size, 0);
    return { file: parseRunStatus(buf.subarray(0, bytesRead).toString('utf8')), mtimeMs: st.mtimeMs };
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Parses the text of a status.json; null unless every field has its type. */
export function parseRunStatus(text: string): RunStatusFile | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const str = (x: unknown): x is string => typeof x === 'string' && x.length <= 256;
  if (o.format !== STATUS_FORMAT || o.version !== STATUS_VERSION) return null;
  if (o.state !== 'running' && o.state !== 'finished' && o.state !== 'interrupted') return null;
  if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0 || !str(o.host) || !str(o.startedAt)) return null;
  if (o.endedAt !== null && !str(o.endedAt)) return null;
  if (o.reason !== null && !str(o.reason)) return null;
  return { format: STATUS_FORMAT, version: STATUS_VERSION, state: o.state, pid: o.pid as number, host: o.host, startedAt: o.startedAt, endedAt: o.endedAt as string | null, reason: o.reason as string | null };
}

export interface ClassifyOptions {
  /** Current time (ms). */
  now: number;
  /** This machine's host name (a pid is checked only on the host that wrote it). */
  host: string;
  /** Whether a pid exists on this machine. */
  pidAlive: (pid: number) => boolean;
}

/**
 * The state a viewer shows: the file's own `finished`/`interrupted`; a `running` file is
 * interrupted when its pid is gone (same host) or its heartbeat (mtime) is older than STALE_MS, since
 * a killed process cannot say so itself. Both checks: a pid can be reused after a crash, and another
 * host's pids cannot be checked at all.
 */
export function classifyRunStatus(s: StatusSnapshot, o: ClassifyOptions): RunState {
  const f = s.file!;
  if (f.state !== 'running') return f.state;
  if (f.host === o.host && !o.pidAlive(f.pid)) return 'interrupted';
  return o.now - s.mtimeMs > STALE_MS ? 'interrupted' : 'running';
}
