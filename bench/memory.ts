/**
 * Memory matters, measured: LSTM PPO against its feed-forward twin on two partially observable
 * tasks, with the same seed, budget and hyperparameters except the LSTM.
 * - `memory-maze` (T-maze, corridor 5): the cue is visible on step 0 only; a memoryless policy
 *   enters the correct arm half the time (success 0.5, mean return 0).
 * - `catch` under `Flicker(0.5)`: every observation (reset included) is blanked with probability
 *   0.5; the feed-forward net cannot tell where the ball is when the last frames are blank.
 * Reports evaluation over 200 episodes, greedy and sampling from the policy: mean return and
 * success rate (return > 0).
 * Run: `node dist/bench/memory.js [--steps N] [--seed S] [--tasks maze,flicker] [--agents ppo-lstm,ppo-ff] [--verbose] [--json f]`.
 */
import { fileURLToPath } from 'node:url';
import '../games/index.js';
import { make } from '../src/envs/registry.js';
import type { Env, ObsArray } from '../src/envs/env.js';
import { Flicker } from '../src/envs/wrappers/flicker.js';
import type { PgConfig } from '../src/agents/pg/config.js';
import { evaluatePolicy, runOnPolicy, type EvalSummary } from '../src/train/on-policy.js';
import { parseBenchArgs, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

interface Task {
  name: string;
  game: string;
  makeEnv: (index: number) => Env<ObsArray, number>;
  steps: number;
  config: Partial<PgConfig>;
}

const TASKS: Record<string, Task> = {
  maze: {
    name: 'memory-maze (corridor 5)',
    game: 'memory-maze',
    makeEnv: () => make<ObsArray, number>('memory-maze', { corridorLength: 5, maxEpisodeSteps: 30 }),
    steps: 60_000,
    config: { encoder: 'mlp', mlpHidden: [64], numSteps: 32, lr: 1e-3, entCoef: 0.01, gamma: 0.99, minibatches: 2, epochs: 4 },
  },
  flicker: {
    name: 'catch + Flicker(0.5)',
    game: 'catch',
    makeEnv: () => new Flicker(make<ObsArray, number>('catch'), { p: 0.5 }),
    steps: 80_000,
    config: { encoder: 'mlp', mlpHidden: [64], numSteps: 32, lr: 1e-3, entCoef: 0.01, gamma: 0.99, minibatches: 2, epochs: 4 },
  },
};

export interface MemoryRow {
  task: string;
  agent: string;
  steps: number;
  /** Greedy evaluation (200 episodes). */
  eval: EvalSummary;
  /** Evaluation sampling from the policy (200 episodes). */
  sampled: EvalSummary;
  wallSeconds: number;
}

/** Trains LSTM and feed-forward PPO on each task; prints and returns the table. */
export async function runMemoryBench(args: BenchArgs): Promise<MemoryRow[]> {
  const seed = numberFlag(args, 'seed', 1);
  const lstmUnits = numberFlag(args, 'lstm', 32);
  const names = (args.flags.tasks ?? 'maze,flicker').split(',');
  const agents = (args.flags.agents ?? 'ppo-lstm,ppo-ff').split(',');
  const rows: MemoryRow[] = [];
  for (const key of names) {
    const task = TASKS[key];
    if (!task) throw new Error(`bench memory: unknown task ${key} (maze, flicker)`);
    const steps = numberFlag(args, 'steps', task.steps);
    for (const [agent, units] of [['ppo-lstm', lstmUnits], ['ppo-ff', 0]] as const) {
      if (!agents.includes(agent)) continue;
      const t0 = Date.now();
      const log = args.flags.verbose ? (line: string) => process.stdout.write(`  [${key} ${agent}] ${line}\n`) : undefined;
      const r = await runOnPolicy({ game: task.game, makeEnv: task.makeEnv, agentConfig: { ...task.config, algorithm: 'ppo', lstmUnits: units }, steps, numEnvs: 8, seed, outDir: null, evalEpisodes: 200, logEvery: Math.floor(steps / 10), log });
      // Greedy evaluation can freeze a memoryless policy (a fixed wall bump); the sampled policy is its fair ceiling.
      const sampled = await evaluatePolicy(r.agent, task.makeEnv, { episodes: 200, seed: seed + 7, greedy: false });
      r.agent.dispose();
      const row = { task: task.name, agent, steps: r.steps, eval: r.finalEval, sampled, wallSeconds: (Date.now() - t0) / 1000 };
      rows.push(row);
      process.stdout.write(`${row.task}  ${row.agent}: greedy return ${row.eval.mean_return.toFixed(3)}, success ${(row.eval.success_rate * 100).toFixed(1)}%; sampled return ${sampled.mean_return.toFixed(3)}, success ${(sampled.success_rate * 100).toFixed(1)}% (${row.wallSeconds.toFixed(0)} s)\n`);
    }
  }
  printTable(
    ['task', 'agent', 'steps', 'greedy return', 'greedy success', 'sampled return', 'sampled success', 'wall s'],
    rows.map((r) => [r.task, r.agent, String(r.steps), r.eval.mean_return.toFixed(3), `${(r.eval.success_rate * 100).toFixed(1)}%`, r.sampled.mean_return.toFixed(3), `${(r.sampled.success_rate * 100).toFixed(1)}%`, r.wallSeconds.toFixed(0)]),
  );
  writeJson(args, 'memory', rows);
  return rows;
}

export const bench: Bench = {
  description: 'LSTM vs feed-forward PPO on memory-maze and catch+Flicker(0.5) (success rates)',
  run: runMemoryBench,
};

/** Entry point for `node dist/bench/memory.js ...`. */
export async function run(argv: string[]): Promise<MemoryRow[]> {
  return runMemoryBench(parseBenchArgs(argv));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run(process.argv.slice(2));
