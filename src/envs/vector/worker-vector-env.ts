/**
 * Vector env over worker_threads. Each worker owns a contiguous block of sub-envs built with
 * `make(id, options)` in the worker. Observations, actions, rewards and flags live in
 * SharedArrayBuffers (no per-step structured clone of frames). Each reset/step is signalled through
 * a shared control block with Atomics; a message travels only when a sub-env returns a non-empty
 * info or an error. Autoreset `same-step`, as SyncVectorEnv.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InvalidActionError, InvalidConfigError, WorkerError, formatError, describe } from '../../errors.js';
import type { EnvSpec, Info, ObsArray } from '../env.js';
import { Box, Discrete, spaceFromJSON, type Space } from '../spaces.js';
import { observationSpaceFromJSON } from '../dict-obs.js';
import type { AutoresetMode, VectorEnv, VectorResetResult, VectorStepResult } from './types.js';
import type { EnvChainSnapshot } from '../env-state.js';
import { Command, CONTROL_SLOTS, Slot, type ParentMessage, type SharedBuffers, type WorkerInit, type WorkerMessage } from './worker-protocol.js';

// Atomics.waitAsync is in Node >= 16 but not in the ES2022 lib typings.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

export interface WorkerVectorEnvConfig {
  /** Registry id of the game, as for `make`. */
  id: string;
  /** Options passed to `make(id, options)` in every worker (JSON-safe / structured-cloneable). */
  options?: Record<string, unknown>;
  /** Number of sub-envs. */
  numEnvs: number;
  /** Number of worker threads (default min(numEnvs, available cores)); sub-envs are split in contiguous blocks. */
  numWorkers?: number;
  /** Extra modules (file URLs, absolute or ./relative paths, or package names) each worker imports first, e.g. to register users' own games. */
  modules?: string[];
}

interface ResolvedConfig {
  id: string;
  options: Record<string, unknown>;
  numEnvs: number;
  numWorkers: number;
  modules: string[];
}

/** Validates a WorkerVectorEnv config, reporting every bad field at once. */
export function resolveWorkerVectorEnvConfig(config: WorkerVectorEnvConfig): ResolvedConfig {
  const problems: string[] = [];
  const c = (config ?? {}) as Partial<WorkerVectorEnvConfig>;
  if (typeof c.id !== 'string' || c.id.length === 0) problems.push(`id = ${describe(c.id)} (want a registry id)`);
  if (c.options !== undefined && (typeof c.options !== 'object' || c.options === null || Array.isArray(c.options))) problems.push(`options = ${describe(c.options)} (want an object)`);
  if (!Number.isInteger(c.numEnvs) || (c.numEnvs as number) < 1) problems.push(`numEnvs = ${describe(c.numEnvs)} (want a positive integer)`);
  if (c.numWorkers !== undefined && (!Number.isInteger(c.numWorkers) || c.numWorkers < 1)) problems.push(`numWorkers = ${describe(c.numWorkers)} (want a positive integer)`);
  if (c.modules !== undefined && (!Array.isArray(c.modules) || c.modules.some((m) => typeof m !== 'string'))) problems.push(`modules = ${describe(c.modules)} (want an array of module URLs or paths)`);
  if (problems.length) {
    throw new InvalidConfigError(formatError('WorkerVectorEnv', 'a valid config', problems.join('; '), "pass e.g. { id: 'catch', numEnvs: 8, numWorkers: 2 }"));
  }
  const numEnvs = c.numEnvs!;
  const numWorkers = Math.min(numEnvs, c.numWorkers ?? Math.max(1, availableParallelism()));
  return { id: c.id!, options: c.options ?? {}, numEnvs, numWorkers, modules: (c.modules ?? []).map(toModuleUrl) };
}

function toModuleUrl(m: string): string {
  if (/^(file|data|node):/.test(m)) return m;
  if (isAbsolute(m)) return pathToFileURL(m).href;
  if (m.startsWith('.')) return pathToFileURL(resolve(m)).href;
  return m;
}

/**
 * The worker runs compiled JS. From dist/ the entry sits next to this file; from the TypeScript
 * sources (vitest) it is the built copy in dist/ (the test setup builds it when stale).
 */
function workerUrls(): { entry: URL; games: URL } {
  const here = import.meta.url;
  const base = here.endsWith('.ts') ? new URL('../../../dist/src/envs/vector/', here) : new URL('./', here);
  return { entry: new URL('worker-entry.js', base), games: new URL('../../../games/index.js', base) };
}

interface Pending {
  seq: number;
  resolve: (infos: Array<Info | null> | null) => void;
  reject: (e: Error) => void;
  /** The worker signalled that a message (infos or error) was posted for this request. */
  awaitingMessage: boolean;
}

function bytesPer(dtype: Box['dtype']): number {
  return dtype === 'float32' || dtype === 'int32' ? 4 : 1;
}

export class WorkerVectorEnv implements VectorEnv {
  readonly autoresetMode: AutoresetMode = 'same-step';
  readonly numEnvs: number;
  readonly numWorkers: number;
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;
  readonly spec: EnvSpec;
  private readonly id: string;
  private readonly workers: Worker[];
  /** First global sub-env index of each worker (blocks are contiguous; `stepBlock` steps whole ones). */
  readonly firsts: readonly number[];
  private readonly pending: Array<Pending | null>;
  /** Messages that arrived before their request's Atomics signal was seen. */
  private readonly mailbox: Array<WorkerMessage | null>;
  private readonly seqs: number[];
  private readonly obsSize: number;
  private buffers!: SharedBuffers;
  private views!: { control: Int32Array; obs: ObsArray; finalObs: ObsArray; actions: Int32Array; rewards: Float64Array; terminated: Uint8Array; truncated: Uint8Array };
  private failure: WorkerError | null = null;
  private closed = false;
  private stepCount = 0;
  /** Workers with a command in flight (blocks of workers step independently: `stepBlock`). */
  private readonly busy: boolean[];

  private constructor(cfg: ResolvedConfig, workers: Worker[], firsts: number[], ready: Extract<WorkerMessage, { type: 'ready' }>) {
    this.id = cfg.id;
    this.numEnvs = cfg.numEnvs;
    this.numWorkers = cfg.numWorkers;
    this.workers = workers;
    this.firsts = firsts;
    this.pending = workers.map(() => null);
    this.mailbox = workers.map(() => null);
    this.seqs = workers.map(() => 0);
    this.busy = workers.map(() => false);
    this.singleObservationSpace = observationSpaceFromJSON(ready.observationSpace);
    this.singleActionSpace = spaceFromJSON(ready.actionSpace);
    this.spec = ready.spec;
    this.obsSize = (this.singleObservationSpace as Box).size;
  }

  /** Starts the workers, builds the sub-envs in them and attaches the shared buffers. */
  static async create(config: WorkerVectorEnvConfig): Promise<WorkerVectorEnv> {
    const cfg = resolveWorkerVectorEnvConfig(config);
    const urls = workerUrls();
    if (!existsSync(fileURLToPath(urls.entry))) {
      throw new WorkerError(formatError('WorkerVectorEnv', `the compiled worker entry ${fileURLToPath(urls.entry)}`, 'a missing file', 'run `npm run build` first'));
    }
    const firsts: number[] = [];
    const workers: Worker[] = [];
    const base = Math.floor(cfg.numEnvs / cfg.numWorkers);
    const extra = cfg.numEnvs % cfg.numWorkers;
    let first = 0;
    for (let w = 0; w < cfg.numWorkers; w++) {
      const count = base + (w < extra ? 1 : 0);
      const init: WorkerInit = { id: cfg.id, options: cfg.options, modules: cfg.modules, gamesModule: urls.games.href, worker: w, first, count };
      firsts.push(first);
      workers.push(new Worker(urls.entry, { workerData: init }));
      first += count;
    }
    // Until the instance exists, a failing start terminates every worker.
    let readies: Array<Extract<WorkerMessage, { type: 'ready' }>>;
    try {
      readies = await Promise.all(workers.map((w, i) => firstMessage(w, i, cfg.id)));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    const env = new WorkerVectorEnv(cfg, workers, firsts, readies[0]!);
    await env.start();
    return env;
  }

  private async start(): Promise<void> {
    const space = this.singleObservationSpace;
    if (!(space instanceof Box)) {
      this.closed = true;
      await Promise.all(this.workers.map((w) => w.terminate()));
      throw new InvalidConfigError(formatError('WorkerVectorEnv', 'a Box observation space', space.type, 'vectorise envs with array observations'));
    }
    const n = this.numEnvs;
    const obsBytes = n * this.obsSize * bytesPer(space.dtype);
    this.buffers = {
      control: new SharedArrayBuffer(4 * CONTROL_SLOTS * this.numWorkers),
      obs: new SharedArrayBuffer(obsBytes),
      finalObs: new SharedArrayBuffer(obsBytes),
      actions: new SharedArrayBuffer(4 * n),
      rewards: new SharedArrayBuffer(8 * n),
      terminated: new SharedArrayBuffer(n),
      truncated: new SharedArrayBuffer(n),
    };
    const typed = (b: SharedArrayBuffer): ObsArray => (space.dtype === 'uint8' ? new Uint8Array(b) : space.dtype === 'int32' ? new Int32Array(b) : new Float32Array(b));
    this.views = {
      control: new Int32Array(this.buffers.control),
      obs: typed(this.buffers.obs),
      finalObs: typed(this.buffers.finalObs),
      actions: new Int32Array(this.buffers.actions),
      rewards: new Float64Array(this.buffers.rewards),
      terminated: new Uint8Array(this.buffers.terminated),
      truncated: new Uint8Array(this.buffers.truncated),
    };
    const attached = this.workers.map((w, i) => firstMessage(w, i, this.id, 'attached'));
    this.workers.forEach((w, i) => {
      w.on('message', (m: WorkerMessage) => this.onMessage(i, m));
      w.on('error', (err) => this.onDeath(i, `crashed: ${err.message}`));
      w.on('exit', (code) => this.onDeath(i, `exited with code ${code}`));
      w.postMessage({ type: 'attach', buffers: this.buffers } satisfies ParentMessage);
    });
    try {
      await Promise.all(attached);
    } catch (err) {
      this.closed = true;
      await Promise.all(this.workers.map((w) => w.terminate()));
      throw err;
    }
  }

  private onMessage(w: number, m: WorkerMessage): void {
    if (m.type !== 'done' && m.type !== 'error') return;
    const p = this.pending[w];
    if (p && p.seq === m.seq && p.awaitingMessage) this.settle(w, m);
    else this.mailbox[w] = m;
  }

  /** Completes worker w's pending request with its reply message. */
  private settle(w: number, m: WorkerMessage): void {
    const p = this.pending[w]!;
    this.pending[w] = null;
    this.mailbox[w] = null;
    if (m.type === 'error') {
      const where = m.envIndex === null ? '' : ` (sub-env ${m.envIndex})`;
      p.reject(this.fail(new WorkerError(formatError(`WorkerVectorEnv(${this.id})`, `worker ${w} to ${m.phase} its sub-envs`, `an error at step ${m.step}${where}: ${m.message}`, `reproduce with make('${this.id}') in the main thread to debug`))));
    } else if (m.type === 'done') {
      p.resolve(m.infos);
    }
  }

  /** Called when worker w's response slot shows the request finished. */
  private onResponse(w: number, seq: number): void {
    const p = this.pending[w];
    if (!p || p.seq !== seq) return;
    if (this.views.control[w * CONTROL_SLOTS + Slot.status] === 0) {
      this.pending[w] = null;
      p.resolve(null);
      return;
    }
    p.awaitingMessage = true;
    const m = this.mailbox[w];
    if (m && (m.type === 'done' || m.type === 'error') && m.seq === seq) this.settle(w, m);
  }

  /** Awaits the worker's response slot reaching `seq` (Atomics.waitAsync; a death wakes it too). */
  private watch(w: number, seq: number): void {
    const c = this.views.control;
    const idx = w * CONTROL_SLOTS + Slot.response;
    const check = (): void => {
      if (this.pending[w]?.seq !== seq) return;
      if (Atomics.load(c, idx) === seq) {
        this.onResponse(w, seq);
        return;
      }
      const r = waitAsync(c, idx, seq - 1);
      if (r.async) void (r.value as Promise<string>).then(check);
      else check();
    };
    check();
  }

  private onDeath(w: number, what: string): void {
    if (this.closed) return;
    const err = this.fail(new WorkerError(formatError(`WorkerVectorEnv(${this.id})`, `worker ${w} to stay alive`, `it ${what} at step ${this.stepCount}`, 'look for process.exit or a crash in the game code; recreate the vector env')));
    const p = this.pending[w];
    this.pending[w] = null;
    p?.reject(err);
    // Wake the waitAsync of the dead worker's request so it does not linger.
    Atomics.notify(this.views.control, w * CONTROL_SLOTS + Slot.response);
  }

  /** Records the first failure; later calls throw it. */
  private fail(err: WorkerError): WorkerError {
    this.failure ??= err;
    return err;
  }

  /** Posts a command into worker w's control slots and wakes it. */
  private request(w: number, command: number, seed?: number): Promise<Array<Info | null> | null> {
    return new Promise((resolve, reject) => {
      const c = this.views.control;
      const b = w * CONTROL_SLOTS;
      const seq = ++this.seqs[w]!;
      this.pending[w] = { seq, resolve, reject, awaitingMessage: false };
      c[b + Slot.command] = command;
      c[b + Slot.hasSeed] = seed === undefined ? 0 : 1;
      c[b + Slot.seed] = (seed ?? 0) | 0;
      c[b + Slot.step] = this.stepCount;
      Atomics.store(c, b + Slot.request, seq);
      Atomics.notify(c, b + Slot.request);
      this.watch(w, seq);
    });
  }

  /** Sends `command` to workers `from..to-1` and awaits them all; replies indexed by worker. */
  private async broadcast(command: number, what: string, seed?: number, from = 0, to = this.workers.length): Promise<Array<Array<Info | null> | null>> {
    if (this.closed) throw new WorkerError(formatError(`WorkerVectorEnv(${this.id})`, `an open vector env for ${what}`, 'a closed one', 'create a new WorkerVectorEnv'));
    if (this.failure) throw this.failure;
    const ws = Array.from({ length: to - from }, (_, i) => from + i);
    if (ws.some((w) => this.busy[w])) throw new WorkerError(formatError(`WorkerVectorEnv(${this.id})`, `one call at a time per sub-env (${what})`, 'a call while another reset/step of the same sub-envs is pending', 'await each reset() and step() before the next'));
    for (const w of ws) this.busy[w] = true;
    try {
      // allSettled: wait for every worker so none is left running a command when we report.
      const results = await Promise.allSettled(ws.map((w) => this.request(w, command, seed)));
      const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw this.failure ?? bad.reason;
      const replies: Array<Array<Info | null> | null> = this.workers.map(() => null);
      results.forEach((r, i) => (replies[from + i] = (r as PromiseFulfilledResult<Array<Info | null> | null>).value));
      return replies;
    } finally {
      for (const w of ws) this.busy[w] = false;
    }
  }

  /** Infos of sub-envs `first..first+count-1` out of per-worker replies. */
  private gatherInfos(replies: Array<Array<Info | null> | null>, first = 0, count = this.numEnvs): Info[] {
    const infos: Info[] = new Array(count);
    for (let i = 0; i < count; i++) infos[i] = {};
    replies.forEach((list, w) => {
      if (list) for (let k = 0; k < list.length; k++) if (list[k]) infos[this.firsts[w]! + k - first] = list[k]!;
    });
    return infos;
  }

  /** Resets every sub-env; with a seed, sub-env i gets seed + i. */
  async reset(args: { seed?: number } = {}): Promise<VectorResetResult> {
    if (args.seed !== undefined && (!Number.isInteger(args.seed) || args.seed < 0 || args.seed > 0xffffffff)) {
      throw new InvalidConfigError(formatError(`WorkerVectorEnv(${this.id}).reset`, 'an integer seed in [0, 2^32)', describe(args.seed), 'pass a whole non-negative number'));
    }
    const replies = await this.broadcast(Command.reset, 'reset', args.seed);
    return { obs: this.views.obs.slice(), infos: this.gatherInfos(replies) };
  }

  /** Steps every sub-env with its action; ended sub-envs are reset in the same call. */
  async step(actions: Int32Array | number[]): Promise<VectorStepResult> {
    return this.stepBlock(0, actions);
  }

  /** The worker range whose sub-env blocks cover exactly `first..first+count-1`, or null. */
  private workerRange(first: number, count: number): { from: number; to: number } | null {
    const from = this.firsts.indexOf(first);
    const end = first + count;
    const to = end === this.numEnvs ? this.workers.length : this.firsts.indexOf(end);
    return count > 0 && from >= 0 && to > from ? { from, to } : null;
  }

  /**
   * Steps sub-envs `first..first+actions.length-1` (whole worker blocks, see `firsts`) while the
   * others may be stepping in another call: the double-buffered training loop steps one half of
   * the envs while the agent acts on the other. Results hold that slice's rows only.
   */
  async stepBlock(first: number, actions: Int32Array | number[]): Promise<VectorStepResult> {
    // The shared action buffer holds one index per sub-env.
    if (!(this.singleActionSpace instanceof Discrete)) {
      throw new InvalidActionError(formatError(`WorkerVectorEnv(${this.id}).step`, 'a game with a Discrete action space', `${this.singleActionSpace.type} actions`, 'step this game in a SyncVectorEnv'));
    }
    const count = actions.length;
    const range = this.workerRange(first, count);
    if (!range) {
      const blocks = this.firsts.map((f, w) => `${f}..${(this.firsts[w + 1] ?? this.numEnvs) - 1}`).join(', ');
      throw new InvalidActionError(formatError(`WorkerVectorEnv(${this.id}).step`, first === 0 ? `${this.numEnvs} actions` : `actions for whole worker blocks (${blocks})`, `${count} actions from sub-env ${first}`, first === 0 ? 'pass one action per sub-env' : 'step a slice that starts and ends on block boundaries'));
    }
    for (let i = 0; i < actions.length; i++) {
      if (!this.singleActionSpace.contains(actions[i])) {
        throw new InvalidActionError(formatError(`WorkerVectorEnv(${this.id}).step`, `actions in ${JSON.stringify(this.singleActionSpace.toJSON())}`, `${describe(actions[i])} at index ${i}`, 'pass valid action indices'));
      }
    }
    this.views.actions.set(actions, first);
    if (first === 0) this.stepCount++;
    const replies = await this.broadcast(Command.step, 'step', undefined, range.from, range.to);
    const v = this.views;
    const end = first + count;
    const S = this.obsSize;
    const infos = this.gatherInfos(replies, first, count);
    const terminated = v.terminated.slice(first, end);
    const truncated = v.truncated.slice(first, end);
    for (let i = 0; i < count; i++) {
      if (terminated[i] || truncated[i]) infos[i] = { ...infos[i], finalObs: v.finalObs.slice((first + i) * S, (first + i + 1) * S) };
    }
    return { obs: v.obs.slice(first * S, end * S), rewards: Float32Array.from(v.rewards.subarray(first, end)), terminated, truncated, infos };
  }

  /** Each sub-env's chain snapshot (`snapshotEnvChain`, taken in its worker), null for games that cannot snapshot themselves. */
  async getStates(): Promise<Array<EnvChainSnapshot | null>> {
    const replies = await this.broadcast(Command.getState, 'getState');
    return this.gatherInfos(replies).map((info) => (info.state ?? null) as EnvChainSnapshot | null);
  }

  /**
   * Restores sub-env i from `states[i]`, or resets it with `seeds[i]` where the state is null;
   * returns the observation batch, whose rows of reset sub-envs hold their first observations
   * (the others keep whatever the buffer held: the caller has them from its checkpoint).
   */
  async setStates(states: Array<EnvChainSnapshot | null>, seeds: number[]): Promise<ObsArray> {
    if (states.length !== this.numEnvs || seeds.length !== this.numEnvs) {
      throw new InvalidConfigError(formatError(`WorkerVectorEnv(${this.id}).setStates`, `${this.numEnvs} states and seeds`, `${states.length} and ${seeds.length}`, 'pass one per sub-env'));
    }
    // Posted before the command is signalled, so each worker finds it queued when it wakes.
    this.workers.forEach((w, i) => {
      const a = this.firsts[i]!;
      const b = this.firsts[i + 1] ?? this.numEnvs;
      w.postMessage({ type: 'states', states: states.slice(a, b), seeds: seeds.slice(a, b) } satisfies ParentMessage);
    });
    await this.broadcast(Command.setState, 'setState');
    return this.views.obs.slice();
  }

  /** Closes the sub-envs and stops the workers; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failure && !this.busy.some(Boolean)) {
      await this.broadcast(Command.close, 'close').catch(() => undefined);
    }
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    // A reset/step still pending (close without awaiting it) must not hang.
    this.pending.forEach((p, w) => {
      this.pending[w] = null;
      p?.reject(new WorkerError(formatError(`WorkerVectorEnv(${this.id})`, 'reset/step to finish before close()', 'close() during a pending call', 'await each call before closing')));
    });
  }
}

/** Waits for a worker's start-up message ('ready' or 'attached'), or its init error / death. */
function firstMessage<T extends 'ready' | 'attached' = 'ready'>(worker: Worker, index: number, id: string, want: T = 'ready' as T): Promise<Extract<WorkerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const fail = (what: string): void => {
      cleanup();
      reject(new WorkerError(formatError(`WorkerVectorEnv(${id})`, `worker ${index} to build its sub-envs`, what, `check that make('${id}') works and that the modules register it`)));
    };
    const onMessage = (m: WorkerMessage): void => {
      cleanup();
      if (m.type === want) resolve(m as Extract<WorkerMessage, { type: T }>);
      else if (m.type === 'error') fail(`an error while starting: ${m.message}`);
      else fail(`an unexpected message '${m.type}'`);
    };
    const onError = (err: Error): void => fail(`a crash while starting: ${err.message}`);
    const onExit = (code: number): void => fail(`an exit with code ${code} while starting`);
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
