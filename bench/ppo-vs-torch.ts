/**
 * `npm run bench -- ppo-vs-torch` (issue 17's acceptance): npcforge PPO against a CleanRL-style
 * PyTorch PPO (bench/py/ppo_torch.py over the numpy Breakout of bench/py/minatar_breakout.py) on
 * MinAtar Breakout, with identical settings and frames, one after the other, each a single process
 * on one thread (our wasm matrix products: NPCFORGE_WASM_THREADS=1; PyTorch: set_num_threads(1),
 * denormals flushed). The settings are npcforge's resolved PPO config for the game (what the plain
 * `npcforge train minatar/breakout --agent ppo` runs), handed to PyTorch flag by flag and checked
 * against the run's config.json afterwards. Round r trains seed (--seed + r) on both sides, and the
 * order flips each round, so load from other processes hits both alike.
 *
 * Train frames/s = frames / the training loop's wall time (process start and imports excluded on
 * both sides; ours runs no evaluation and checkpoints only at the end, after the loop's clock).
 * Last-100 return = mean return of the last 100 training episodes (sticky actions on) at the end.
 * Frames/CPU s = frames / the whole child process's CPU seconds (start-up included on both sides):
 * it moves far less than wall time when other processes load the machine.
 *
 * Flags: --frames N (200000; rounded up to whole rollouts of envs x steps) --rounds N (1) --seed N (0)
 *   --envs N (the game's, 64) --num-steps N (the preset's, 128) --preset NAME (the game's PPO preset,
 *   minatar; `--preset default --envs 8` = CleanRL's Atari settings, 8 x 128) --no-torch --python PATH --json FILE
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../src/errors.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import type { PgConfig } from '../src/agents/pg/config.js';
import { type Bench, type BenchArgs, median, printTable, writeJson } from './harness.js';

export const GAME = 'minatar/breakout';
export const TORCH_INSTALL_HINT = 'apt-get install -y python3-torch python3-numpy libopenblas0-pthread';

// This module runs compiled from dist/bench (npm run bench) and as source from bench/ (tests).
const REPO_ROOT = new URL(import.meta.url.includes('/dist/bench/') ? '../../' : '../', import.meta.url);
const repoFile = (rel: string): string => fileURLToPath(new URL(rel, REPO_ROOT));

export interface PpoVsTorchOptions {
  /** Env steps per side per round, a whole number of rollouts (envs x numSteps). */
  frames: number;
  rounds: number;
  seed: number;
  /** Sub-envs on both sides. */
  envs: number;
  /** Agent settings over the PPO preset (e.g. numSteps from --num-steps). */
  overrides: Partial<PgConfig>;
  /** PPO preset of both sides; undefined = the game's. */
  preset?: string;
  torch: boolean;
  python: string;
}

/** Reads the flags; frames are rounded up to whole rollouts so both sides run the same updates. */
export function ppoVsTorchOptions(args: BenchArgs): PpoVsTorchOptions {
  const known = ['frames', 'rounds', 'seed', 'envs', 'num-steps', 'preset', 'no-torch', 'python'];
  const problems: string[] = [];
  for (const k of Object.keys(args.flags)) if (!known.includes(k)) problems.push(`unknown flag --${k}`);
  const int = (name: string, fallback: number | undefined, min: number): number | undefined => {
    const v = args.flags[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) problems.push(`--${name} ${describe(v)} (an integer >= ${min})`);
    return n;
  };
  const frames = int('frames', 200_000, 1)!;
  const rounds = int('rounds', 1, 1)!;
  const seed = int('seed', 0, 0)!;
  const envs = int('envs', undefined, 1);
  const numSteps = int('num-steps', undefined, 1);
  if (problems.length) throw new InvalidConfigError(formatError('bench ppo-vs-torch', 'valid flags', problems.join('; '), `known: ${known.map((k) => `--${k}`).join(' ')}`));
  const overrides: Partial<PgConfig> = numSteps === undefined ? {} : { numSteps };
  const presetName = args.flags.preset;
  const preset = resolvePpo(envs, overrides, presetName);
  const rollout = preset.envs * preset.agent.numSteps;
  return {
    frames: Math.ceil(frames / rollout) * rollout,
    rounds,
    seed,
    envs: preset.envs,
    overrides,
    ...(presetName === undefined ? {} : { preset: presetName }),
    torch: args.flags['no-torch'] === undefined,
    python: args.flags.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'),
  };
}

/** npcforge's resolved PPO settings for the game (its preset, then the overrides), as `train` resolves them. */
export function resolvePpo(envs: number | undefined, overrides: Partial<PgConfig>, preset?: string): { envs: number; agent: PgConfig } {
  const cfg = resolveRunConfig({ game: GAME, agent: 'ppo', ...(preset === undefined ? {} : { preset }), file: { ...overrides }, flags: envs === undefined ? {} : { envs } });
  return { envs: cfg.run.envs, agent: cfg.agentConfig as unknown as PgConfig };
}

/** The PyTorch script's flags for an agent config; throws when the config uses what the script does not implement. */
export function torchFlags(agent: PgConfig, o: { frames: number; seed: number; envs: number }): string[] {
  const unsupported: string[] = [];
  if (agent.algorithm !== 'ppo') unsupported.push(`algorithm=${agent.algorithm}`);
  if (agent.encoder !== 'auto' && agent.encoder !== 'minatar-cnn') unsupported.push(`encoder=${agent.encoder}`);
  if (agent.lstmUnits !== 0) unsupported.push(`lstmUnits=${agent.lstmUnits}`);
  for (const k of ['separateCritic', 'normObs', 'normReward'] as const) if (agent[k]) unsupported.push(`${k}=true`);
  if (unsupported.length) {
    throw new InvalidConfigError(formatError('bench ppo-vs-torch', 'PPO settings that bench/py/ppo_torch.py implements', unsupported.join(', '), 'add them to the PyTorch script, or compare a preset without them'));
  }
  return [
    '--frames', String(o.frames), '--seed', String(o.seed), '--envs', String(o.envs),
    '--num-steps', String(agent.numSteps), '--epochs', String(agent.epochs), '--minibatches', String(agent.minibatches),
    '--lr', String(agent.lr), '--anneal-lr', agent.annealLr ? '1' : '0', '--adam-eps', String(agent.adamEps),
    '--gamma', String(agent.gamma), '--gae-lambda', String(agent.gaeLambda), '--clip', String(agent.clip),
    '--value-clip', String(agent.valueClip ?? 0), '--ent-coef', String(agent.entCoef), '--vf-coef', String(agent.vfCoef),
    '--max-grad-norm', String(agent.maxGradNorm), '--norm-adv', agent.normAdv ? '1' : '0',
  ];
}

/** One side's run of one round. */
export interface SideRun {
  side: 'npcforge' | 'pytorch';
  round: number;
  seed: number;
  frames: number;
  /** Whole child process, start to exit. */
  processWallS: number;
  /** The training loop alone. */
  trainWallS: number;
  trainFps: number;
  /** The whole process's CPU seconds (all threads, start-up included): less moved by other processes' load than wall time. */
  processCpuS: number;
  /** frames / processCpuS */
  framesPerCpuS: number;
  meanReturn100: number | null;
  episodes: number;
}

interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
  wallS: number;
  spawnError?: NodeJS.ErrnoException;
}

function runChild(cmd: string, argv: string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolvePromise({ status: null, stdout, stderr, wallS: (performance.now() - t0) / 1000, spawnError: err as NodeJS.ErrnoException }));
    child.on('close', (status) => resolvePromise({ status, stdout, stderr, wallS: (performance.now() - t0) / 1000 }));
  });
}

const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';

/** Trains npcforge PPO in a child process (one wasm thread, no evaluation) and reads its run folder. */
async function runOurs(o: PpoVsTorchOptions, round: number, seed: number, expected: PgConfig): Promise<SideRun> {
  const out = mkdtempSync(join(tmpdir(), 'npcforge-ppo-vs-torch-'));
  try {
    const configPath = join(out, 'settings.json');
    const cpuPath = join(out, 'cpu.json');
    // No evaluation and one checkpoint at the end: the loop's time is env steps, acting and updates, as PyTorch's.
    writeFileSync(configPath, JSON.stringify({ ...o.overrides, evalEpisodes: 0, evalEvery: 0, checkpointEvery: 0, logEvery: 25_000 }));
    const argv = ['--import', new URL('dist/bench/cpu-at-exit.js', REPO_ROOT).href, repoFile('bin/npcforge.js'), 'train', GAME, '--agent', 'ppo', '--steps', String(o.frames), '--envs', String(o.envs), ...(o.preset === undefined ? [] : ['--preset', o.preset]), '--seed', String(seed), '--config', configPath, '--out', out, '--no-progress', '--json'];
    const r = await runChild(process.execPath, argv, { ...process.env, NPCFORGE_WASM_THREADS: '1', NPCFORGE_BENCH_CPU_FILE: cpuPath });
    if (r.status !== 0) throw new Error(`bench ppo-vs-torch: npcforge train exited with ${r.status}: ${lastLine(r.stderr)}`);
    const runDir = readdirSync(out).map((d) => join(out, d)).find((d) => existsSync(join(d, 'metrics.jsonl')));
    if (runDir === undefined) throw new Error(`bench ppo-vs-torch: no run folder with metrics.jsonl in ${out}`);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { agentConfig: Record<string, unknown>; backend: string };
    // PyTorch was given `expected`: the run must have trained with exactly that.
    for (const [k, v] of Object.entries(expected)) {
      if (k === 'annealSteps') continue;
      if (JSON.stringify(config.agentConfig[k]) !== JSON.stringify(v)) throw new Error(`bench ppo-vs-torch: the run's ${k} is ${JSON.stringify(config.agentConfig[k])}, PyTorch was given ${JSON.stringify(v)}`);
    }
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; wall_time_s: number; mean_return_100: number | null; episodes: number });
    const last = lines[lines.length - 1]!;
    const { cpuS } = JSON.parse(readFileSync(cpuPath, 'utf8')) as { cpuS: number };
    return { side: 'npcforge', round, seed, frames: last.step, processWallS: r.wallS, trainWallS: last.wall_time_s, trainFps: last.step / last.wall_time_s, processCpuS: cpuS, framesPerCpuS: last.step / cpuS, meanReturn100: last.mean_return_100, episodes: last.episodes };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The PyTorch side's outcome: a run, or why there is none (`missing`: install hint; `error`: it failed). */
export type TorchOutcome = { run: SideRun } | { missing: string } | { error: string };

/** Parses the PyTorch script's output: the `done` line of its JSON lines. */
export function parseTorchOutput(stdout: string, round: number, seed: number, processWallS: number): SideRun {
  const done = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.kind === 'done');
  if (done === undefined) throw new Error('no "done" line');
  const num = (k: string): number => {
    if (typeof done[k] !== 'number' || !Number.isFinite(done[k])) throw new Error(`"done" line without a number ${k}`);
    return done[k] as number;
  };
  const ret = done.meanReturn100;
  if (ret !== null && typeof ret !== 'number') throw new Error('"done" line with a non-number meanReturn100');
  const frames = num('frames');
  const processCpuS = num('processCpuS');
  return { side: 'pytorch', round, seed, frames, processWallS, trainWallS: num('trainWallS'), trainFps: num('trainFps'), processCpuS, framesPerCpuS: frames / processCpuS, meanReturn100: ret, episodes: num('episodes') };
}

/** Trains the PyTorch PPO in a child process with the same settings; `missing` when python3, torch or numpy is not there. */
export async function runTorch(o: Pick<PpoVsTorchOptions, 'frames' | 'envs' | 'python'>, round: number, seed: number, agent: PgConfig): Promise<TorchOutcome> {
  const script = repoFile('bench/py/ppo_torch.py');
  if (!existsSync(script)) return { error: `${script} not found (run the bench from the repository)` };
  const r = await runChild(o.python, [script, ...torchFlags(agent, { frames: o.frames, seed, envs: o.envs })], { ...process.env, OMP_NUM_THREADS: '1' });
  if (r.spawnError?.code === 'ENOENT') return { missing: `${o.python} not found` };
  if (r.spawnError) return { error: `${o.python}: ${r.spawnError.message}` };
  if (r.status === 3 || /No module named 'numpy'/.test(r.stderr)) return { missing: lastLine(r.stderr) || 'torch not importable' };
  if (r.status !== 0) return { error: `ppo_torch.py exited with ${r.status}: ${lastLine(r.stderr)}` };
  try {
    return { run: parseTorchOutput(r.stdout, round, seed, r.wallS) };
  } catch (err) {
    return { error: `ppo_torch.py output: ${(err as Error).message}` };
  }
}

export interface PpoVsTorchResult {
  game: string;
  frames: number;
  envs: number;
  agentConfig: PgConfig;
  threads: { npcforge: string; pytorch: string };
  loadAverage: { before: number[]; after: number[] };
  runs: SideRun[];
  /** Median train frames/s per side over the rounds. */
  medianTrainFps: { npcforge: number; pytorch?: number };
  /** npcforge's median train frames/s over PyTorch's (> 1: npcforge is faster). */
  ratio?: number;
  /** Median frames per CPU second per side, and npcforge's over PyTorch's. */
  medianFramesPerCpuS: { npcforge: number; pytorch?: number };
  cpuRatio?: number;
  torch?: { missing: string; install: string } | { error: string };
}

/** The result from the rounds' runs: medians per side and their ratio. */
export function summarize(o: { frames: number; envs: number; agentConfig: PgConfig; loadAverage: PpoVsTorchResult['loadAverage'] }, runs: SideRun[], torchProblem?: TorchOutcome): PpoVsTorchResult {
  const fps = (side: SideRun['side']) => runs.filter((r) => r.side === side).map((r) => r.trainFps);
  const perCpu = (side: SideRun['side']) => runs.filter((r) => r.side === side).map((r) => r.framesPerCpuS);
  const ours = median(fps('npcforge'));
  const theirs = fps('pytorch');
  const result: PpoVsTorchResult = {
    game: GAME,
    frames: o.frames,
    envs: o.envs,
    agentConfig: o.agentConfig,
    threads: { npcforge: 'wasm, NPCFORGE_WASM_THREADS=1', pytorch: 'torch.set_num_threads(1), denormals flushed' },
    loadAverage: o.loadAverage,
    runs,
    medianTrainFps: theirs.length ? { npcforge: ours, pytorch: median(theirs) } : { npcforge: ours },
    medianFramesPerCpuS: theirs.length ? { npcforge: median(perCpu('npcforge')), pytorch: median(perCpu('pytorch')) } : { npcforge: median(perCpu('npcforge')) },
  };
  if (theirs.length) {
    result.ratio = ours / median(theirs);
    result.cpuRatio = result.medianFramesPerCpuS.npcforge / result.medianFramesPerCpuS.pytorch!;
  }
  if (torchProblem !== undefined && 'missing' in torchProblem) result.torch = { missing: torchProblem.missing, install: TORCH_INSTALL_HINT };
  else if (torchProblem !== undefined && 'error' in torchProblem) result.torch = torchProblem;
  return result;
}

function print(r: PpoVsTorchResult): void {
  const a = r.agentConfig;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    `ppo-vs-torch: ${r.game}, ${r.frames} frames per side, ${r.envs} envs x ${a.numSteps} steps, ${a.epochs} epochs x ${a.minibatches} minibatches, lr ${a.lr}${a.annealLr ? ' annealed' : ''}, ` +
      `clip ${a.clip}, value clip ${a.valueClip ?? 'off'}, ent ${a.entCoef}, vf ${a.vfCoef}, gamma ${a.gamma}, lambda ${a.gaeLambda}, max grad norm ${a.maxGradNorm}\n` +
      `one process per side, one thread each (npcforge: ${r.threads.npcforge}; PyTorch: ${r.threads.pytorch}); load average before ${load(r.loadAverage.before)}, after ${load(r.loadAverage.after)}\n`,
  );
  const fmt = (x: number | null, d: number) => (x === null ? '-' : x.toFixed(d));
  printTable(
    ['round', 'side', 'seed', 'frames', 'process wall s', 'train wall s', 'train frames/s', 'process CPU s', 'frames/CPU s', 'last-100 return', 'episodes'],
    r.runs.map((x) => [String(x.round), x.side, String(x.seed), String(x.frames), fmt(x.processWallS, 1), fmt(x.trainWallS, 1), fmt(x.trainFps, 0), fmt(x.processCpuS, 1), fmt(x.framesPerCpuS, 0), fmt(x.meanReturn100, 2), String(x.episodes)]),
  );
  if (r.ratio !== undefined) process.stdout.write(`median train frames/s: npcforge ${r.medianTrainFps.npcforge.toFixed(0)}, PyTorch ${r.medianTrainFps.pytorch!.toFixed(0)}; ratio npcforge/PyTorch ${r.ratio.toFixed(2)}x (acceptance: >= 1.5x); per CPU second ${r.cpuRatio!.toFixed(2)}x\n`);
  if (r.torch !== undefined && 'missing' in r.torch) process.stdout.write(`PyTorch side skipped: ${r.torch.missing}; to add it: ${r.torch.install}\n`);
  else if (r.torch !== undefined) process.stdout.write(`PyTorch side failed: ${r.torch.error}\n`);
}

/** Runs the rounds, prints the table, writes JSON when asked. */
export async function runPpoVsTorch(args: BenchArgs): Promise<PpoVsTorchResult> {
  const o = ppoVsTorchOptions(args);
  const { agent } = resolvePpo(o.envs, o.overrides, o.preset);
  const before = loadavg();
  const runs: SideRun[] = [];
  let torchProblem: TorchOutcome | undefined;
  for (let round = 0; round < o.rounds; round++) {
    const seed = o.seed + round;
    const torchFirst = round % 2 === 1;
    const sides = torchFirst ? (['pytorch', 'npcforge'] as const) : (['npcforge', 'pytorch'] as const);
    for (const side of sides) {
      process.stderr.write(`ppo-vs-torch: round ${round}, ${side}, seed ${seed}, ${o.frames} frames...\n`);
      if (side === 'npcforge') runs.push(await runOurs(o, round, seed, agent));
      else if (o.torch && torchProblem === undefined) {
        const t = await runTorch(o, round, seed, agent);
        if ('run' in t) runs.push(t.run);
        else torchProblem = t;
      }
    }
  }
  const result = summarize({ frames: o.frames, envs: o.envs, agentConfig: agent, loadAverage: { before, after: loadavg() } }, runs, torchProblem);
  print(result);
  writeJson(args, 'ppo-vs-torch', result);
  return result;
}

export const bench: Bench = {
  description: 'npcforge PPO vs a CleanRL-style PyTorch PPO on MinAtar Breakout: same settings and frames, one process and thread each; train frames/s, last-100 return, ratio (long)',
  run: runPpoVsTorch,
};
