/**
 * SAC update throughput (issue 15): updates per second of the SAC agent's real update at the
 * sizes `npcforge train pendulum --agent sac` uses (its preset's batch and hidden widths, the
 * pendulum env's spaces: read from the config and the env, so they cannot drift), side by side with
 * a PyTorch SAC update of the same sizes (bench/torch_sac_reference.py, CleanRL's structure), plus
 * the latency of `act()` on one observation.
 *
 * Ours is timed through the agent's public `observe()`: a replay prefilled to one step before
 * `learningStarts`, then one transition per call, so each call is one full update (replay sample,
 * critics, actor, alpha, Polyak targets, metrics read back) exactly as in training. Rounds
 * alternate PyTorch and ours so load from other processes hits both alike; each side runs one
 * warm-up period, then `--repeats` periods of `--seconds`; figures are medians over all periods.
 * PyTorch runs once per thread count in `--torch-threads` (default 1 and the core count); the
 * faster is the reference. Without python3 or torch the bench says how to install it, prints our
 * figures and succeeds (CI has no torch).
 * Run: npm run bench -- sac [--json out.json] [--rounds 2] [--repeats 3] [--seconds 2]
 *      [--threads N (our wasm pool)] [--torch-threads 1,2] [--no-torch] [--python /usr/bin/python3]
 *      [--profile | --profile-detail [--profile-steps 20]]: instead of the table, where our update
 *      spends its time, kernel by kernel (detail: split by input shapes; wasm or cpu backend).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '../games/index.js';
import { type SacConfig } from '../src/agents/sac/config.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { SacAgent } from '../src/agents/sac/sac-agent.js';
import type { StepBatch } from '../src/agents/agent.js';
import { InvalidConfigError, describe, formatError } from '../src/errors.js';
import { make } from '../src/envs/registry.js';
import { SeededRng } from '../src/envs/rng.js';
import { Box } from '../src/envs/spaces.js';
import { backendInfo, initBackend } from '../src/networks/backend.js';
import { printProfile, profileKernelsAsync } from './kernel-profile.js';
import { measureRateAndCpu, median, numberFlag, parseBenchArgs, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

/** How to get the PyTorch column on Debian/Ubuntu (pip works too where its registry is reachable). */
export const TORCH_INSTALL_HINT = 'apt-get install -y python3-torch libopenblas0-pthread';

export interface SacBenchOptions {
  /** Rounds; each times PyTorch (every thread count) and then ours. */
  rounds: number;
  /** Timed periods per side per round, after one warm-up period. */
  repeats: number;
  /** Length of one period (s). */
  seconds: number;
  /** Threads of our wasm pool; undefined = the backend's default (what training uses). */
  threads?: number;
  /** PyTorch thread counts to time, each in its own process; empty = no PyTorch column. */
  torchThreads: number[];
  /** Interpreter with torch. */
  python: string;
  /** Timed `act()` calls (after 20 warm-up calls). */
  actCalls: number;
  /** Per-kernel profile of our update instead of the comparison (`detail`: split by input shapes). */
  profile?: { detailed: boolean; steps: number };
}

function positiveInt(args: BenchArgs, name: string, fallback: number): number {
  const n = numberFlag(args, name, fallback);
  if (!Number.isSafeInteger(n)) throw new InvalidConfigError(formatError('bench sac', `--${name} to be a positive integer`, describe(args.flags[name]), `pass e.g. --${name} ${fallback}`));
  return n;
}

/** Reads the bench's flags (see the file comment); unknown flags are an error, so a typo is not silently ignored. */
export function sacBenchOptions(args: BenchArgs): SacBenchOptions {
  const known = ['rounds', 'repeats', 'seconds', 'threads', 'torch-threads', 'no-torch', 'python', 'act-calls', 'profile', 'profile-detail', 'profile-steps'];
  const unknown = Object.keys(args.flags).filter((k) => !known.includes(k));
  if (unknown.length) throw new InvalidConfigError(formatError('bench sac', `flags among --${known.join(', --')}, --json`, describe(unknown.map((k) => `--${k}`).join(' ')), 'see the usage in bench/sac.ts'));
  const cores = availableParallelism();
  let torchThreads = [...new Set([1, cores])];
  const list = args.flags['torch-threads'];
  if (list !== undefined) {
    const parsed = list.split(',').map(Number);
    if (parsed.some((t) => !Number.isSafeInteger(t) || t < 1 || t > 256)) throw new InvalidConfigError(formatError('bench sac', '--torch-threads to be a comma-separated list of thread counts in [1, 256]', describe(list), 'pass e.g. --torch-threads 1,2'));
    torchThreads = [...new Set(parsed)];
  }
  if (args.flags['no-torch'] === 'true') torchThreads = [];
  return {
    rounds: positiveInt(args, 'rounds', 2),
    repeats: positiveInt(args, 'repeats', 3),
    seconds: numberFlag(args, 'seconds', 2),
    threads: args.flags.threads === undefined ? undefined : positiveInt(args, 'threads', 2),
    torchThreads,
    python: args.flags.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'),
    actCalls: positiveInt(args, 'act-calls', 200),
    ...(args.flags.profile === 'true' || args.flags['profile-detail'] === 'true' ? { profile: { detailed: args.flags['profile-detail'] === 'true', steps: positiveInt(args, 'profile-steps', 20) } } : {}),
  };
}

/** The sizes of one SAC update, as training uses them. */
export interface SacSizes {
  game: string;
  preset: string;
  obs: number;
  action: number;
  low: number[];
  high: number[];
  hidden: number[];
  batch: number;
  gamma: number;
  tau: number;
  criticLr: number;
  actorLr: number;
  alphaLr: number;
  /** Transitions in the replay memory while timing (one step before learning starts). */
  replay: number;
}

/** The SAC sizes of `train <game> --agent sac`: the game's SAC preset and the env's spaces. */
export function sacSizes(game = 'pendulum'): { sizes: SacSizes; config: SacConfig; observationSpace: Box; actionSpace: Box } {
  // What `train <game> --agent sac` resolves to (the game's train block names its SAC preset).
  const resolved = resolveRunConfig({ game, agent: 'sac' });
  const { preset } = resolved;
  const config = resolved.agentConfig as unknown as SacConfig;
  const env = make(game);
  const { observationSpace, actionSpace } = env;
  env.close();
  if (!(observationSpace instanceof Box) || !(actionSpace instanceof Box)) {
    throw new InvalidConfigError(formatError('bench sac', 'a game with Box observations and Box actions', `${game}: ${observationSpace.type} observations, ${actionSpace.type} actions`, 'pass a continuous-control game such as pendulum'));
  }
  const lr = (o: SacConfig['criticOptimizer']): number => o.learningRate;
  const sizes: SacSizes = {
    game,
    preset,
    obs: observationSpace.size,
    action: actionSpace.size,
    low: Array.from(actionSpace.low),
    high: Array.from(actionSpace.high),
    hidden: [...config.hidden],
    batch: config.batchSize,
    gamma: config.gamma,
    tau: config.tau,
    criticLr: lr(config.criticOptimizer),
    actorLr: lr(config.actorOptimizer),
    alphaLr: lr(config.alphaOptimizer),
    replay: Math.max(config.learningStarts - 1, 1),
  };
  return { sizes, config, observationSpace, actionSpace };
}

/** One PyTorch process's figures (updates/s and CPU ms per update of each timed period). */
export interface TorchRun {
  version: string;
  threads: number;
  blas: string;
  ompWaitPolicy: string;
  updatesPerSec: number[];
  cpuMsPerUpdate: number[];
  actMs: number;
}

/** A PyTorch run, or why there is none: `missing` (no python3 or no torch: install hint) or `error` (it ran and failed). */
export type TorchOutcome = { run: TorchRun } | { missing: string } | { error: string };

/** The script beside this file (run from source) or in bench/ (run from dist/bench). */
const REFERENCE_SCRIPT = [new URL('./torch_sac_reference.py', import.meta.url), new URL('../../bench/torch_sac_reference.py', import.meta.url)].map((u) => fileURLToPath(u)).find((p) => existsSync(p)) ?? 'bench/torch_sac_reference.py';

/** Runs bench/torch_sac_reference.py once with `threads` threads. Never throws. */
export function runTorchReference(o: { python: string; script?: string; sizes: SacSizes; threads: number; seconds: number; repeats: number; actCalls: number }): TorchOutcome {
  const script = o.script ?? REFERENCE_SCRIPT;
  if (!existsSync(script)) return { error: `${script} not found (run the bench from the repository)` };
  const s = o.sizes;
  const argv = [
    script, '--obs', String(s.obs), '--act', String(s.action), '--low', s.low.join(','), '--high', s.high.join(','), '--hidden', s.hidden.join(','),
    '--batch', String(s.batch), '--gamma', String(s.gamma), '--tau', String(s.tau), '--critic-lr', String(s.criticLr), '--actor-lr', String(s.actorLr),
    '--alpha-lr', String(s.alphaLr), '--replay', String(s.replay), '--threads', String(o.threads), '--seconds', String(o.seconds), '--repeats', String(o.repeats),
    '--act-calls', String(o.actCalls),
  ];
  // Generous: startup (importing torch ~2 s) plus every period, on a loaded machine.
  const timeout = (60 + 4 * o.seconds * (o.repeats + 1)) * 1000 + o.actCalls * 100;
  const r = spawnSync(o.python, argv, { encoding: 'utf8', timeout, maxBuffer: 1 << 20 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { missing: `${o.python} not found` };
  if (r.error) return { error: `${o.python}: ${r.error.message}` };
  const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';
  // Status 3: the script ran but could not import torch.
  if (r.status === 3) return { missing: lastLine(r.stderr) || 'torch not importable' };
  if (r.status !== 0) return { error: lastLine(r.stderr) || `exit status ${r.status}` };
  try {
    const p = JSON.parse(lastLine(r.stdout)) as Partial<TorchRun> & { torch?: string };
    const nums = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (typeof p.torch !== 'string' || !nums(p.updatesPerSec) || !nums(p.cpuMsPerUpdate) || typeof p.actMs !== 'number') throw new Error('fields missing');
    return { run: { version: p.torch, threads: Number(p.threads), blas: String(p.blas), ompWaitPolicy: String(p.ompWaitPolicy), updatesPerSec: p.updatesPerSec, cpuMsPerUpdate: p.cpuMsPerUpdate, actMs: p.actMs } };
  } catch (err) {
    return { error: `unexpected output of ${script} (${(err as Error).message})` };
  }
}

/** Medians of one side (ours, or PyTorch with one thread count). */
export interface SideSummary {
  updatesPerSec: number;
  msPerUpdate: number;
  cpuMsPerUpdate: number;
  actMs: number;
  /** updates/s of every timed period. */
  periods: number[];
}

export interface TorchSummary extends SideSummary {
  threads: number;
  ompWaitPolicy: string;
}

export interface SacBenchResult {
  sizes: SacSizes;
  backend: string;
  /** Threads of our wasm products (0 when not wasm). */
  threads: number;
  protocol: { rounds: number; repeats: number; seconds: number };
  /** os.loadavg() before and after (1, 5, 15 min). */
  loadAverage: { before: number[]; after: number[] };
  ours: SideSummary;
  torch: { version: string; blas: string; configs: TorchSummary[]; best: number } | { missing: string; install: string } | { error: string };
  /** Our time per update over PyTorch's best (> 1: ours slower). */
  ratio?: number;
  /**
   * Our process CPU time per update over PyTorch's lowest (any thread count): on a loaded shared
   * machine wall time follows the load, CPU time much less, so this ratio moves less between runs.
   */
  cpuRatio?: number;
}

function side(periods: number[], cpuMs: number[], actMs: number[]): SideSummary {
  const rate = median(periods);
  return { updatesPerSec: rate, msPerUpdate: 1000 / rate, cpuMsPerUpdate: median(cpuMs), actMs: median(actMs), periods };
}

/** Folds the raw measurements into medians, picks PyTorch's fastest thread count and the ratio. */
export function summarizeSacBench(o: {
  sizes: SacSizes;
  backend: string;
  threads: number;
  protocol: SacBenchResult['protocol'];
  loadAverage: SacBenchResult['loadAverage'];
  ours: { periods: number[]; cpuMs: number[]; actMs: number[] };
  /** Every PyTorch outcome of every round, any thread count. */
  torch: TorchOutcome[];
}): SacBenchResult {
  const ours = side(o.ours.periods, o.ours.cpuMs, o.ours.actMs);
  const runs = o.torch.filter((t): t is { run: TorchRun } => 'run' in t).map((t) => t.run);
  let torch: SacBenchResult['torch'];
  let ratio: number | undefined;
  let cpuRatio: number | undefined;
  if (runs.length > 0) {
    const threads = [...new Set(runs.map((r) => r.threads))].sort((a, b) => a - b);
    const configs = threads.map((t): TorchSummary => {
      const of = runs.filter((r) => r.threads === t);
      return { threads: t, ompWaitPolicy: of[0]!.ompWaitPolicy, ...side(of.flatMap((r) => r.updatesPerSec), of.flatMap((r) => r.cpuMsPerUpdate), of.map((r) => r.actMs)) };
    });
    const best = configs.reduce((a, b) => (b.updatesPerSec > a.updatesPerSec ? b : a));
    torch = { version: runs[0]!.version, blas: runs[0]!.blas, configs, best: best.threads };
    ratio = best.updatesPerSec / ours.updatesPerSec;
    cpuRatio = ours.cpuMsPerUpdate / Math.min(...configs.map((c) => c.cpuMsPerUpdate));
  } else if (o.torch.length === 0) {
    torch = { error: 'not run (--no-torch)' };
  } else {
    const missing = o.torch.find((t): t is { missing: string } => 'missing' in t);
    torch = missing ? { missing: missing.missing, install: TORCH_INSTALL_HINT } : (o.torch[0] as { error: string });
  }
  return { sizes: o.sizes, backend: o.backend, threads: o.threads, protocol: o.protocol, loadAverage: o.loadAverage, ours, torch, ...(ratio === undefined ? {} : { ratio, cpuRatio }) };
}

/** Random transitions drawn as the PyTorch reference draws its replay (the values do not change the cost; they keep clear of denormals). */
function transitions(n: number, sizes: SacSizes, rng: SeededRng): StepBatch {
  const obs = new Float32Array(n * sizes.obs);
  const nextObs = new Float32Array(n * sizes.obs);
  const actions = new Float32Array(n * sizes.action);
  const rewards = new Float32Array(n);
  const terminated = new Uint8Array(n);
  for (let i = 0; i < obs.length; i++) {
    obs[i] = rng.random() * 2 - 1;
    nextObs[i] = rng.random() * 2 - 1;
  }
  for (let i = 0; i < actions.length; i++) actions[i] = sizes.low[i % sizes.action]! + (sizes.high[i % sizes.action]! - sizes.low[i % sizes.action]!) * rng.random();
  for (let i = 0; i < n; i++) {
    rewards[i] = -16 * rng.random();
    terminated[i] = rng.random() < 0.01 ? 1 : 0;
  }
  return { obs, actions, rewards, terminated, truncated: new Uint8Array(n), nextObs, finalObs: new Array<undefined>(n).fill(undefined) };
}

/** Our side of one round: updates/s and CPU ms per update of each period. */
async function timeOurUpdates(agent: SacAgent, steps: StepBatch[], o: SacBenchOptions): Promise<{ rates: number[]; cpuMsPerUnit: number[] }> {
  let k = 0;
  return measureRateAndCpu(async () => {
    const m = await agent.observe(steps[k++ % steps.length]!);
    return m?.updates ?? 0;
  }, { seconds: o.seconds, repeats: o.repeats });
}

/** Median ms of `act()` on one observation (training mode: a policy sample). */
async function timeAct(agent: SacAgent, sizes: SacSizes, calls: number, rng: SeededRng): Promise<number> {
  const obs = transitions(1, sizes, rng).obs;
  const ms: number[] = [];
  for (let i = 0; i < calls + 20; i++) {
    const t0 = performance.now();
    await agent.act(obs, { numEnvs: 1, mode: 'train' });
    if (i >= 20) ms.push(performance.now() - t0);
  }
  return median(ms);
}

function fmt(x: number | undefined, digits = 2): string {
  return x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(digits);
}

function printResult(r: SacBenchResult): void {
  const s = r.sizes;
  const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' ');
  process.stdout.write(
    `sac bench: one SAC update on ${s.game} (preset '${s.preset}': batch ${s.batch}, hidden [${s.hidden.join(', ')}], obs ${s.obs}, action ${s.action}; replay ${s.replay})\n` +
      `medians over ${r.protocol.rounds} rounds x ${r.protocol.repeats} periods of ${r.protocol.seconds} s after a warm-up; load average ${load(r.loadAverage.before)} before, ${load(r.loadAverage.after)} after\n`,
  );
  const rows: string[][] = [[`npcforge ${r.backend}${r.threads ? ` ${r.threads} thr` : ''}`, fmt(r.ours.updatesPerSec), fmt(r.ours.msPerUpdate), fmt(r.ours.cpuMsPerUpdate), fmt(r.ours.actMs, 3)]];
  if ('configs' in r.torch) {
    for (const c of r.torch.configs) {
      rows.push([`pytorch ${r.torch.version} ${c.threads} thr${c.threads === r.torch.best ? ' (best)' : ''}`, fmt(c.updatesPerSec), fmt(c.msPerUpdate), fmt(c.cpuMsPerUpdate), fmt(c.actMs, 3)]);
    }
  }
  printTable(['', 'updates/s', 'ms/update', 'cpu ms/update', 'act ms (1 obs)'], rows);
  if ('configs' in r.torch) {
    process.stdout.write(`time per update, ours / pytorch best: ${r.ratio!.toFixed(2)}; cpu time per update, ours / pytorch lowest: ${r.cpuRatio!.toFixed(2)} (PyTorch BLAS: ${r.torch.blas}; OpenMP wait policy ${r.torch.configs[0]!.ompWaitPolicy})\n`);
    if (r.torch.blas === 'reference') process.stdout.write(`warning: PyTorch multiplies with netlib's reference BLAS (~10x slower); for a fair column: ${TORCH_INSTALL_HINT}\n`);
  } else if ('missing' in r.torch) {
    process.stdout.write(`PyTorch reference missing (${r.torch.missing}); to add the column: ${r.torch.install}\n`);
  } else {
    process.stdout.write(`PyTorch column skipped: ${r.torch.error}\n`);
  }
}

/** Prints where our update spends its time, kernel by kernel. */
async function profileUpdate(agent: SacAgent, steps: StepBatch[], backend: string, p: { detailed: boolean; steps: number }): Promise<void> {
  if (backend !== 'wasm' && backend !== 'cpu') throw new InvalidConfigError(formatError('bench sac', '--profile on a synchronous backend (wasm, cpu)', describe(backend), 'run with NPCFORGE_BACKEND=wasm'));
  let k = 0;
  const profile = await profileKernelsAsync(backend, () => agent.observe(steps[k++ % steps.length]!), { steps: p.steps, detailed: p.detailed });
  const threads = backendInfo()?.threads;
  printProfile(`sac update (pendulum sizes) on ${backend}${threads ? ` (threads ${threads})` : ''}, ${p.steps} updates`, profile);
}

/** Runs the benchmark: prints the table, writes JSON when asked, returns the result (null with --profile). */
export async function runSacBench(args: BenchArgs): Promise<SacBenchResult | null> {
  const o = sacBenchOptions(args);
  const before = loadavg();
  const backend = await initBackend(o.threads !== undefined ? { threads: o.threads } : {});
  const { sizes, config, observationSpace, actionSpace } = sacSizes('pendulum');
  const agent = new SacAgent({ config, observationSpace, actionSpace, seed: 0 });
  try {
    const rng = new SeededRng(1);
    // One step short of learningStarts: the next observe() of one transition is one update.
    await agent.observe(transitions(sizes.replay, sizes, rng));
    const steps = Array.from({ length: 64 }, () => transitions(1, sizes, rng));
    if (o.profile !== undefined) {
      await profileUpdate(agent, steps, backend, o.profile);
      return null;
    }
    const ours = { periods: [] as number[], cpuMs: [] as number[], actMs: [] as number[] };
    const torch: TorchOutcome[] = [];
    for (let round = 0; round < o.rounds; round++) {
      for (const threads of o.torchThreads) {
        const t = runTorchReference({ python: o.python, sizes, threads, seconds: o.seconds, repeats: o.repeats, actCalls: o.actCalls });
        torch.push(t);
        if ('missing' in t) break;
      }
      // Nothing to alternate with once PyTorch is known to be missing.
      if (torch.some((t) => 'missing' in t)) o.torchThreads = [];
      const m = await timeOurUpdates(agent, steps, o);
      ours.periods.push(...m.rates);
      ours.cpuMs.push(...m.cpuMsPerUnit);
      ours.actMs.push(await timeAct(agent, sizes, o.actCalls, rng));
    }
    const result = summarizeSacBench({
      sizes,
      backend,
      threads: backendInfo()?.threads ?? 0,
      protocol: { rounds: o.rounds, repeats: o.repeats, seconds: o.seconds },
      loadAverage: { before, after: loadavg() },
      ours,
      torch,
    });
    printResult(result);
    writeJson(args, 'sac', { ...result, tfjs: tf.version.tfjs });
    return result;
  } finally {
    agent.dispose();
  }
}

export const bench: Bench = {
  description: "SAC updates/s at pendulum's preset sizes side by side with a PyTorch SAC update of the same sizes, and act() ms",
  run: runSacBench,
};

/** Entry point for `node dist/bench/sac.js ...`. */
export async function run(argv: string[]): Promise<SacBenchResult | null> {
  return runSacBench(parseBenchArgs(argv));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run(process.argv.slice(2));
