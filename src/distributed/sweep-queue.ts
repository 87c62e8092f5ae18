/**
 * Sweeps over a BullMQ queue: `enqueueSweep` adds one job per run (job id `<sweep>-<index>`, so
 * enqueueing again adds nothing twice) and records the sweep under a key of its own;
 * `runSweepWorker` takes jobs one at a time (or `concurrency` at once) and trains them;
 * `sweepStatus` reads every job's state and result back. Everything read from Redis is checked:
 * the queue is shared, and a job or result of the wrong shape is reported, never trusted.
 */
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ConnectionError, InvalidConfigError, formatError } from '../errors.js';
import { redisOptions, type RedisTarget } from './redis-url.js';
import { runSweepJob, type RunJobOptions, type SweepResult } from './sweep-run.js';
import { expandSweep, parseSweepJob, parseSweepSpec, settingsLabel, type SweepJob, type SweepSpec } from './sweep-spec.js';

export const SWEEP_META_FORMAT = 'npcforge-sweep';
export const SWEEP_META_VERSION = 1;
/** Largest sweep record read back (a spec is at most a config file's size). */
const MAX_META_BYTES = 2 * 1024 * 1024;
/** Attempts per job: a second worker gets a job whose first run failed (e.g. a missing --import there). */
export const JOB_ATTEMPTS = 2;
/** How long a worker's claim on a job lasts without renewal (renewed every half of it while the run trains). */
export const JOB_LOCK_MS = 60_000;

const metaKey = (t: RedisTarget, sweep: string): string => `npcforge:sweep:${t.name}:${sweep}`;

interface SweepMeta {
  format: typeof SWEEP_META_FORMAT;
  version: number;
  spec: SweepSpec;
  jobs: number;
  createdAt: string;
}

async function withRedis<T>(t: RedisTarget, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ ...redisOptions(t), maxRetriesPerRequest: 2, connectTimeout: 5000 });
  r.on('error', () => {});
  try {
    return await f(r);
  } finally {
    r.disconnect();
  }
}

async function readMeta(t: RedisTarget, r: Redis, sweep: string): Promise<SweepMeta | null> {
  const key = metaKey(t, sweep);
  const len = await r.strlen(key);
  if (len === 0) return null;
  const bad = (why: string): never => {
    throw new ConnectionError(formatError('npcforge sweep', `a sweep record at ${key}`, why, 'delete that key (redis-cli DEL) and enqueue the sweep again'));
  };
  if (len > MAX_META_BYTES) bad(`${len} bytes (at most ${MAX_META_BYTES})`);
  let v: unknown;
  try {
    v = JSON.parse((await r.get(key)) ?? '');
  } catch {
    return bad('not JSON');
  }
  const m = v as Partial<SweepMeta>;
  if (!m || m.format !== SWEEP_META_FORMAT) bad('another format');
  if (m.version !== SWEEP_META_VERSION) bad(`version ${String(m.version)} (this npcforge reads ${SWEEP_META_VERSION})`);
  let spec: SweepSpec;
  try {
    spec = parseSweepSpec(m.spec, key);
  } catch {
    return bad('a malformed spec');
  }
  const jobs = expandSweep(spec).length;
  if (m.jobs !== jobs) bad(`${String(m.jobs)} jobs for a spec of ${jobs}`);
  return { format: SWEEP_META_FORMAT, version: SWEEP_META_VERSION, spec, jobs, createdAt: String(m.createdAt) };
}

const sameSpec = (a: SweepSpec, b: SweepSpec): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Queues a sweep's jobs; returns how many were new. A sweep of the same name with another spec is refused. */
export async function enqueueSweep(t: RedisTarget, spec: SweepSpec): Promise<{ jobs: SweepJob[]; added: number }> {
  const jobs = expandSweep(spec);
  return withRedis(t, async (r) => {
    const old = await readMeta(t, r, spec.name);
    if (old && !sameSpec(old.spec, spec)) {
      throw new InvalidConfigError(formatError('npcforge sweep', `sweep "${spec.name}" to be new on ${t.display}, or queued with this same spec`, `one queued ${old.createdAt} with another spec`, 'give the sweep another "name"'));
    }
    const meta: SweepMeta = old ?? { format: SWEEP_META_FORMAT, version: SWEEP_META_VERSION, spec, jobs: jobs.length, createdAt: new Date().toISOString() };
    await r.set(metaKey(t, spec.name), JSON.stringify(meta));
    const queue = new Queue(t.name, { connection: redisOptions(t) });
    try {
      const before = await Promise.all(jobs.map((j) => queue.getJob(j.id)));
      await queue.addBulk(jobs.map((j) => ({ name: 'train', data: j, opts: { jobId: j.id, attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: false, removeOnFail: false } })));
      return { jobs, added: before.filter((b) => !b).length };
    } finally {
      await queue.close();
    }
  });
}

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'missing' | 'unknown';

/** One row of `sweep status`. */
export interface SweepRow {
  job: SweepJob;
  state: JobState;
  /** The job's result when completed (null when missing or of the wrong shape). */
  result: SweepResult | null;
  /** Why it failed (failed jobs), or why its result was not read. */
  error: string | null;
  attempts: number;
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A job's return value, checked field by field. */
export function parseSweepResult(v: unknown, job: SweepJob): SweepResult | null {
  if (!v || typeof v !== 'object') return null;
  const r = v as Record<string, unknown>;
  if (r.id !== job.id || !num(r.step) || !num(r.seconds) || typeof r.runDir !== 'string' || typeof r.worker !== 'string') return null;
  if (!(r.lastEval === null || num(r.lastEval)) || !(r.bestEval === null || num(r.bestEval))) return null;
  return { ...job, ...r, settings: job.settings, runDir: r.runDir.slice(0, 4096), worker: r.worker.slice(0, 200) } as unknown as SweepResult;
}

/** Every job of a sweep with its state and result. */
export async function sweepStatus(t: RedisTarget, sweep: string): Promise<{ spec: SweepSpec; rows: SweepRow[] }> {
  return withRedis(t, async (r) => {
    const meta = await readMeta(t, r, sweep);
    if (!meta) throw new InvalidConfigError(formatError('npcforge sweep status', `a sweep named "${sweep}" on ${t.display}`, 'none', 'enqueue it with `npcforge sweep <spec.json> --queue ...`, or check the name and queue'));
    const queue = new Queue(t.name, { connection: redisOptions(t) });
    try {
      const rows: SweepRow[] = [];
      for (const job of expandSweep(meta.spec)) {
        const q = await queue.getJob(job.id);
        if (!q) {
          rows.push({ job, state: 'missing', result: null, error: 'not in the queue (removed?)', attempts: 0 });
          continue;
        }
        const raw = await q.getState();
        const state: JobState = raw === 'waiting' || raw === 'active' || raw === 'completed' || raw === 'failed' || raw === 'delayed' ? raw : raw === 'prioritized' || raw === 'waiting-children' ? 'waiting' : 'unknown';
        const result = state === 'completed' ? parseSweepResult(q.returnvalue, job) : null;
        const error = state === 'failed' ? String(q.failedReason ?? 'failed').slice(0, 300) : state === 'completed' && !result ? 'its result is malformed' : null;
        rows.push({ job, state, result, error, attempts: q.attemptsMade });
      }
      return { spec: meta.spec, rows };
    } finally {
      await queue.close();
    }
  });
}

export interface WorkerOptions extends Omit<RunJobOptions, 'shouldStop'> {
  /** Jobs trained at once (default 1: a run already uses the cores it is given). */
  concurrency?: number;
  /** Stop once the queue has nothing left to run (batch clusters, tests). */
  untilEmpty?: boolean;
  /** Polled while a run trains; true stops it at a checkpoint and puts its job back in the queue. */
  shouldStop?: () => boolean;
  /** Lines about jobs (default stderr). */
  log?: (line: string) => void;
}

/** Takes and trains sweep jobs until stopped (or, with `untilEmpty`, until the queue is empty). Returns the jobs it finished. */
export async function runSweepWorker(t: RedisTarget, options: WorkerOptions = {}): Promise<{ completed: number; failed: number }> {
  const log = options.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  const shouldStop = options.shouldStop ?? (() => false);
  let completed = 0;
  let failed = 0;
  /** Jobs this worker is running. */
  let mine = 0;
  const processor = async (job: Job, token?: string): Promise<SweepResult> => {
    mine++;
    try {
      return await runOne(job, token);
    } finally {
      mine--;
    }
  };
  const runOne = async (job: Job, token?: string): Promise<SweepResult> => {
    const data = parseSweepJob(job.data);
    if (!data) throw new UnrecoverableError(`job ${String(job.id).slice(0, 80)} is not an npcforge sweep job of this version`);
    log(`npcforge worker: ${data.id} started (${data.game}, ${settingsLabel(data.settings)}, seed ${data.seed})`);
    const r = await runSweepJob(data, { ...options, shouldStop });
    if (r.interrupted) {
      // Back to the queue without counting a failed attempt: the next worker resumes the checkpoint.
      await job.moveToWait(token);
      log(`npcforge worker: ${data.id} stopped at step ${r.step}; back in the queue (it resumes from its checkpoint)`);
      throw new WaitingError();
    }
    log(`npcforge worker: ${data.id} done in ${r.seconds.toFixed(0)} s: step ${r.step}, last eval ${r.lastEval ?? '-'}, best eval ${r.bestEval ?? '-'} -> ${r.runDir}`);
    return r;
  };
  const worker = new Worker(t.name, processor, { connection: { ...redisOptions(t), maxRetriesPerRequest: null }, concurrency: options.concurrency ?? 1, lockDuration: JOB_LOCK_MS, autorun: false });
  let down = false;
  worker.on('error', (err) => {
    // ioredis retries with backoff by itself; say so once per outage.
    if (!down) log(`npcforge worker: lost Redis at ${t.display} (${(err as Error).message.slice(0, 120)}); retrying`);
    down = true;
  });
  worker.on('ready', () => {
    if (down) log(`npcforge worker: reconnected to ${t.display}`);
    down = false;
  });
  worker.on('completed', () => void completed++);
  worker.on('failed', (job, err) => {
    if (err instanceof WaitingError || err?.name === 'WaitingError') return;
    failed++;
    log(`npcforge worker: ${job?.id ?? '?'} failed: ${err.message.split('\n')[0]!.slice(0, 300)}`);
  });
  const queue = options.untilEmpty ? new Queue(t.name, { connection: redisOptions(t) }) : null;
  const stopTimer = setInterval(() => {
    if (shouldStop()) void worker.close();
  }, 250);
  if (queue) {
    // Checked whenever the worker finds the queue empty and after each job: exits once nothing is
    // left to take and this worker runs nothing (other workers' active jobs are theirs to finish).
    const maybeExit = (): void =>
      void (async () => {
        const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
        if ((c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) === 0 && mine === 0) await worker.close();
      })().catch(() => {});
    worker.on('drained', maybeExit);
    worker.on('completed', maybeExit);
    worker.on('failed', maybeExit);
  }
  try {
    await worker.run();
  } finally {
    clearInterval(stopTimer);
    await worker.close();
    await queue?.close();
  }
  return { completed, failed };
}
