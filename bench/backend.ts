/**
 * Backend benchmark (issue 3): train-step ms (Adam, Huber on Q(s,a)) and act ms (batch 1) of the
 * four reference nets on each available backend, medians over steps and over rounds, side by side
 * with PyTorch CPU when /usr/bin/python3 has torch (optional). Rounds alternate PyTorch and tfjs
 * (the order flips each round) so load from other processes hits both alike; each side reports its
 * median round and its best round, and the ratio of both. PyTorch runs at its best: denormals
 * flushed, warmed up, passive OpenMP workers, the threads of --torch-threads (bench/torch_reference.py).
 * Run: node scripts/build.mjs && node dist/bench/backend.js [--json out.json] [--rounds 3]
 *      [--steps 20] [--nets minatar,nature] [--backends wasm,wasm-stock,cpu] [--cpu-all]
 *      [--leak-steps 2000] [--no-torch] [--torch-threads 2] [--threads 2 (wasm pool)]
 *      [--profile | --profile-detail]: instead of the table, per-kernel ms of one train step of each
 *      net on the default backend (detail: split by input shapes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, initBackend } from '../src/networks/backend.js';
import { registerCpuKernels, registerWasmKernels, unregisterWasmKernels } from '../src/networks/kernels/index.js';
import { NET_NAMES, NetName, buildNet } from './backend-nets.js';
import { printProfile, profileKernels } from './kernel-profile.js';

/** One measured cell: median ms, or why it was not measured. */
export interface Cell {
  trainMs?: number;
  /** Over rounds: the fastest round's median train ms (trainMs is then the median of the rounds' medians). */
  trainBestMs?: number;
  actMs?: number;
  /** Process CPU time per train step (all threads): on a loaded machine, closer to the idle wall time of a 1-thread run. */
  trainCpuMs?: number;
  error?: string;
}

export interface BackendBenchResult {
  date: string;
  node: string;
  defaultBackend: string;
  rounds: number;
  steps: number;
  /** results[backend][net] */
  results: Record<string, Partial<Record<NetName, Cell>>>;
  torch?: { version: string; threads: number; flushDenormal: boolean; ompWaitPolicy: string; blas: string; nets: Partial<Record<NetName, Cell>> } | { error: string };
  /** train-step time of the default backend over PyTorch's, per net: median round over median round */
  ratios: Partial<Record<NetName, number>>;
  /** the same, best round over best round: each side at its best (the issue's fair ratio) */
  bestRatios: Partial<Record<NetName, number>>;
  leak?: Partial<Record<NetName, { steps: number; before: number; after: number }>>;
}

interface Options {
  json?: string;
  rounds: number;
  steps: number;
  nets: NetName[];
  backends: string[];
  cpuAll: boolean;
  leakSteps: number;
  torch: boolean;
  torchThreads: number;
  threads?: number;
  profile?: 'kernels' | 'detail';
}

const USAGE = `Usage: node dist/bench/backend.js [options]   (or npm run bench -- backend [options])
Train-step and act ms of the reference nets on each backend, side by side with PyTorch CPU.
  --nets minatar,nature,lstm,transformer   nets to time (default all four)
  --backends wasm,wasm-stock,cpu           backends to time (default all three)
  --rounds N --steps N                     rounds (alternating with PyTorch; median and best round reported) and steps per round (3, 20)
  --threads N                              threads of our wasm products (default: cores, at most 4)
  --torch-threads N | --no-torch           PyTorch's threads (2), or no PyTorch column
  --cpu-all                                time the slow nets on cpu too
  --leak-steps N                           check tf.memory().numTensors over N train steps
  --profile | --profile-detail             per-kernel ms of one train step instead of the table
  --json FILE                              also write the results as JSON
`;

function parse(args: string[]): Options {
  const o: Options = { rounds: 3, steps: 20, nets: [...NET_NAMES], backends: ['wasm', 'wasm-stock', 'cpu'], cpuAll: false, leakSteps: 0, torch: true, torchThreads: 2 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = (): string => {
      const x = args[++i];
      if (x === undefined) throw new Error(`bench backend: ${a} needs a value`);
      return x;
    };
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (a === '--json') o.json = v();
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--steps') o.steps = Number(v());
    else if (a === '--nets') o.nets = v().split(',') as NetName[];
    else if (a === '--backends') o.backends = v().split(',');
    else if (a === '--cpu-all') o.cpuAll = true;
    else if (a === '--leak-steps') o.leakSteps = Number(v());
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--torch-threads') o.torchThreads = Number(v());
    else if (a === '--threads') o.threads = Number(v());
    else if (a === '--profile') o.profile = 'kernels';
    else if (a === '--profile-detail') o.profile = 'detail';
    else throw new Error(`bench backend: unknown argument ${a}`);
  }
  for (const n of o.nets) if (!(NET_NAMES as readonly string[]).includes(n)) throw new Error(`bench backend: unknown net ${n}`);
  return o;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * One side's cell over its rounds: medians of the rounds' medians, and the best round's train ms.
 * Load from other processes only ever slows a round down, so the best round is the closest to the
 * side's own speed; failed rounds are left out, and a cell that failed every round keeps the first error.
 */
export function summarizeRounds(cells: Cell[]): Cell {
  const ok = cells.filter((c) => c.error === undefined && c.trainMs !== undefined);
  if (ok.length === 0) return cells[0] ?? { error: 'not measured' };
  const train = ok.map((c) => c.trainMs!);
  return { trainMs: median(train), trainBestMs: Math.min(...train), actMs: median(ok.map((c) => c.actMs!)), trainCpuMs: median(ok.map((c) => c.trainCpuMs!)) };
}

function timeMs(f: () => unknown, steps: number, warmup: number): { wall: number; cpu: number } {
  for (let i = 0; i < warmup; i++) f();
  const ts: number[] = [];
  const cs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  return { wall: median(ts), cpu: median(cs) };
}

async function useBackend(name: string): Promise<void> {
  if (name === 'wasm-stock') {
    await tf.setBackend('wasm');
    unregisterWasmKernels();
  } else {
    await tf.setBackend(name);
    if (name === 'wasm') registerWasmKernels();
    // The cpu column is the fallback as initBackend sets it up: with our filter-gradient fix.
    if (name === 'cpu') registerCpuKernels();
  }
}

/** Untimed steps before timing, on both sides (bench/torch_reference.py --warmup). */
const WARMUP_STEPS = 10;

function measure(net: NetName, steps: number): Cell {
  const model = buildNet(net);
  try {
    const train = timeMs(() => model.trainStep(), steps, WARMUP_STEPS);
    const act = timeMs(() => model.act(), steps * 2, WARMUP_STEPS);
    return { trainMs: train.wall, actMs: act.wall, trainCpuMs: train.cpu };
  } catch (err) {
    return { error: String((err as Error).message ?? err).split('\n')[0] };
  } finally {
    model.dispose();
  }
}

/** Prints where the train step of each net spends its time, kernel by kernel. */
function profile(o: Options, backend: string): void {
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`bench backend: --profile needs a synchronous backend (wasm, cpu), not ${backend}`);
  for (const net of o.nets) {
    const model = buildNet(net);
    try {
      const p = profileKernels(backend, () => model.trainStep(), { steps: o.steps, detailed: o.profile === 'detail' });
      printProfile(`${net} train step on ${backend}${backendInfo()?.threads ? ` (threads ${backendInfo()!.threads})` : ''}, ${o.steps} steps`, p);
    } finally {
      model.dispose();
    }
  }
}

type TorchRound = { version: string; threads: number; flushDenormal: boolean; ompWaitPolicy: string; blas: string; nets: Partial<Record<NetName, Cell>> } | { error: string };

/** One PyTorch round in its own process (denormals flushed, warmed up: bench/torch_reference.py). */
function torchRun(nets: NetName[], steps: number, threads: number): TorchRound {
  const script = fileURLToPath(new URL('../../bench/torch_reference.py', import.meta.url));
  if (!existsSync('/usr/bin/python3') || !existsSync(script)) return { error: 'python3 or bench/torch_reference.py not found' };
  const r = spawnSync('/usr/bin/python3', [script, '--nets', nets.join(','), '--steps', String(steps), '--warmup', String(WARMUP_STEPS), '--threads', String(threads)], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status === 3) return { error: `${(r.stderr || '').trim().split('\n').pop()}; install: apt-get install -y python3-torch libopenblas0-pthread` };
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'python3 failed').trim().split('\n').pop()! };
  const parsed = JSON.parse(r.stdout) as { torch: string; threads: number; flushDenormal: boolean; ompWaitPolicy: string; blas: string; nets: Record<string, Cell> };
  return { version: parsed.torch, threads: parsed.threads, flushDenormal: parsed.flushDenormal, ompWaitPolicy: parsed.ompWaitPolicy, blas: parsed.blas, nets: parsed.nets };
}

function fmt(x: number | undefined): string {
  return x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Runs the benchmark, prints the table, writes JSON when asked, and returns the result. */
export async function run(args: string[] = []): Promise<BackendBenchResult> {
  const o = parse(args);
  const defaultBackend = await initBackend(o.threads !== undefined ? { threads: o.threads } : {});
  if (o.profile !== undefined) {
    profile(o, defaultBackend);
    return { date: new Date().toISOString(), node: process.version, defaultBackend, rounds: 0, steps: o.steps, results: {}, ratios: {}, bestRatios: {} };
  }
  const available = o.backends.filter((b) => b !== 'tensorflow' || tf.findBackend('tensorflow') !== null);
  if (defaultBackend === 'tensorflow' && !available.includes('tensorflow')) available.unshift('tensorflow');
  const perRound: Record<string, Partial<Record<NetName, Cell[]>>> = {};
  const torchRounds: TorchRound[] = [];
  for (let round = 0; round < o.rounds; round++) {
    // The order flips every round, so neither side always runs right after the other's warm caches or load.
    const torchFirst = round % 2 === 0;
    if (o.torch && torchFirst) torchRounds.push(torchRun(o.nets, o.steps, o.torchThreads));
    for (const b of available) {
      await useBackend(b);
      for (const net of o.nets) {
        const slow = b === 'cpu' && net === 'nature' && !o.cpuAll;
        // Stock wasm and cpu only need measuring once: they are the "before" columns.
        if ((b === 'cpu' || b === 'wasm-stock') && round > 0) continue;
        const cell: Cell = slow ? { error: 'skipped (~1 min per step; --cpu-all to run)' } : measure(net, b === 'cpu' ? Math.min(o.steps, 5) : o.steps);
        ((perRound[b] ??= {})[net] ??= []).push(cell);
      }
    }
    if (o.torch && !torchFirst) torchRounds.push(torchRun(o.nets, o.steps, o.torchThreads));
  }
  await useBackend(defaultBackend);
  const results: BackendBenchResult['results'] = {};
  for (const [b, nets] of Object.entries(perRound)) {
    results[b] = {};
    for (const [net, cells] of Object.entries(nets) as Array<[NetName, Cell[]]>) results[b]![net] = summarizeRounds(cells);
  }
  let torch: BackendBenchResult['torch'];
  if (o.torch) {
    const good = torchRounds.filter((t): t is Exclude<typeof t, { error: string }> => !('error' in t));
    if (good.length === 0) torch = torchRounds[0];
    else {
      const nets: Partial<Record<NetName, Cell>> = {};
      for (const net of o.nets) nets[net] = summarizeRounds(good.map((g) => g.nets[net] ?? { error: 'not measured' }));
      torch = { version: good[0]!.version, threads: good[0]!.threads, flushDenormal: good.every((g) => g.flushDenormal), ompWaitPolicy: good[0]!.ompWaitPolicy, blas: good[0]!.blas, nets };
    }
  }
  const ratios: BackendBenchResult['ratios'] = {};
  const bestRatios: BackendBenchResult['bestRatios'] = {};
  if (torch !== undefined && !('error' in torch)) {
    for (const net of o.nets) {
      const ours = results[defaultBackend]?.[net];
      const ref = torch.nets[net];
      if (ours?.trainMs !== undefined && ref?.trainMs !== undefined) ratios[net] = ours.trainMs / ref.trainMs;
      if (ours?.trainBestMs !== undefined && ref?.trainBestMs !== undefined) bestRatios[net] = ours.trainBestMs / ref.trainBestMs;
    }
  }
  let leak: BackendBenchResult['leak'];
  if (o.leakSteps > 0) {
    leak = {};
    for (const net of o.nets) {
      const model = buildNet(net);
      model.trainStep();
      const before = tf.memory().numTensors;
      for (let i = 0; i < o.leakSteps; i++) model.trainStep();
      leak[net] = { steps: o.leakSteps, before, after: tf.memory().numTensors };
      model.dispose();
    }
  }
  const result: BackendBenchResult = {
    date: new Date().toISOString(),
    node: process.version,
    defaultBackend: `${defaultBackend}${backendInfo()?.name === 'wasm' ? ` (threads ${backendInfo()!.threads})` : ''}`,
    rounds: o.rounds,
    steps: o.steps,
    results,
    torch,
    ratios,
    bestRatios,
    leak,
  };
  print(result, o.nets);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n');
  return result;
}

function print(r: BackendBenchResult, nets: NetName[]): void {
  const cols = Object.keys(r.results);
  const torchOk = r.torch !== undefined && !('error' in r.torch);
  const def = r.defaultBackend.split(' ')[0]!;
  const head = [
    'net',
    ...cols.flatMap((c) => [`${c} train`, `${c} act`]),
    `${def} train best`,
    `${def} train cpu-time`,
    ...(torchOk ? ['torch train', 'torch train best', 'torch act', 'torch train cpu-time', `ratio ${def}/torch`, 'ratio best/best'] : []),
  ];
  const rows = nets.map((net) => [
    net,
    ...cols.flatMap((c) => {
      const cell = r.results[c]![net];
      return cell?.error !== undefined ? ['fails' + (cell.error.startsWith('skipped') ? ' (skipped)' : ''), '-'] : [fmt(cell?.trainMs), fmt(cell?.actMs)];
    }),
    fmt(r.results[def]?.[net]?.trainBestMs),
    fmt(r.results[def]?.[net]?.trainCpuMs),
    ...(torchOk
      ? [
          fmt((r.torch as { nets: Record<string, Cell> }).nets[net]?.trainMs),
          fmt((r.torch as { nets: Record<string, Cell> }).nets[net]?.trainBestMs),
          fmt((r.torch as { nets: Record<string, Cell> }).nets[net]?.actMs),
          fmt((r.torch as { nets: Record<string, Cell> }).nets[net]?.trainCpuMs),
          r.ratios[net]?.toFixed(2) ?? '-',
          r.bestRatios[net]?.toFixed(2) ?? '-',
        ]
      : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(`backend bench: ms per step, median over ${r.steps} steps per round; over ${r.rounds} alternating rounds the median round ("train") and the best round ("train best"); default backend ${r.defaultBackend}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(line(head));
  for (const row of rows) console.log(line(row));
  if (r.torch !== undefined && 'error' in r.torch) console.log(`torch column skipped: ${r.torch.error}`);
  else if (r.torch !== undefined) console.log(`torch ${r.torch.version}, ${r.torch.threads} threads, BLAS ${r.torch.blas}, denormals ${r.torch.flushDenormal ? 'flushed' : 'NOT flushed'}, OMP_WAIT_POLICY ${r.torch.ompWaitPolicy}, one process per round, warmed up`);
  for (const [c, nets2] of Object.entries(r.results)) {
    for (const [net, cell] of Object.entries(nets2)) if (cell?.error !== undefined) console.log(`${c} ${net}: ${cell.error}`);
  }
  if (r.leak !== undefined) for (const [net, l] of Object.entries(r.leak)) console.log(`leak ${net}: numTensors ${l!.before} -> ${l!.after} over ${l!.steps} train steps`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run(process.argv.slice(2));
}
