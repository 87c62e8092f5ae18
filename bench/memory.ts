/**
 * Memory matters, measured: each agent with an LSTM against its feed-forward twin on two
 * partially observable games, every run exactly what the plain command runs
 * (`npcforge train <game> --agent <a> [--recurrent]`: the game's presets and step budgets).
 * - `memory-maze` (T-maze, corridor 5): the cue is visible on step 0 only; a memoryless policy
 *   enters the correct arm at most half the time (success <= 50%, mean return <= 0).
 * - `catch/flicker`: catch with every observation (reset included) blanked with probability 0.5;
 *   a memoryless policy cannot tell where the ball is when the latest frame is blank.
 * After training, the run's best weights (`best/`, what `npcforge eval` uses) play 200 greedy
 * episodes on fresh seeds: mean return and success rate (return > 0).
 * The memoryless ceiling column is the best success rate any policy without memory can reach:
 * 50% on the maze (see games/memory-maze), and on catch/flicker the best of "move toward the ball
 * on a visible frame, draw from a fixed left/stay/right distribution on a blank one" over a
 * 0.1-step grid of distributions (a visible frame shows everything there is to know, and blank
 * frames are all alike), measured here by simulation.
 * Run: `npm run bench -- memory [--tasks maze,flicker] [--agents ppo-lstm,ppo-ff,dqn-lstm,dqn-ff]
 *      [--seed S] [--steps N (override the budgets)] [--keep (keep the run folders)] [--verbose] [--json f]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../games/index.js';
import { make } from '../src/envs/registry.js';
import type { Env, ObsArray } from '../src/envs/env.js';
import { SeededRng } from '../src/envs/rng.js';
import { evaluate } from '../src/train/evaluate.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { loadRunAgent, train } from '../src/train/runner.js';
import { parseBenchArgs, numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

const TASKS: Record<string, string> = { maze: 'memory-maze', flicker: 'catch/flicker' };
const AGENTS: Record<string, { agent: string; recurrent: boolean }> = {
  'ppo-lstm': { agent: 'ppo', recurrent: true },
  'ppo-ff': { agent: 'ppo', recurrent: false },
  'dqn-lstm': { agent: 'dqn', recurrent: true },
  'dqn-ff': { agent: 'dqn', recurrent: false },
};

/**
 * Best success rate of a memoryless policy on catch/flicker (see the file comment), over
 * `episodes` episodes per blank-frame distribution.
 */
export function flickerCeiling(episodes: number, seed = 9): { success: number; blank: [number, number, number] } {
  const env = make('catch/flicker') as Env<ObsArray, number>;
  const rng = new SeededRng(seed);
  let best = { success: -1, blank: [0, 1, 0] as [number, number, number] };
  for (let l = 0; l <= 10; l++) {
    for (let r = 0; r <= 10 - l; r++) {
      const pl = l / 10;
      const pr = r / 10;
      let wins = 0;
      for (let ep = 0; ep < episodes; ep++) {
        let o = env.reset({ seed: ep }).obs;
        for (;;) {
          let ball = -1;
          let paddle = -1;
          for (let y = 0; y < 10; y++) for (let x = 0; x < 5; x++) if (o[y * 5 + x]) y === 9 ? (paddle = x) : (ball = x);
          let a: number;
          if (paddle < 0 && ball < 0) {
            const u = rng.random();
            a = u < pl ? 0 : u < pl + pr ? 2 : 1;
          } else {
            const target = ball < 0 ? paddle : ball;
            a = target < paddle ? 0 : target > paddle ? 2 : 1;
          }
          const s = env.step(a);
          if (s.terminated || s.truncated) {
            if (s.reward > 0) wins++;
            break;
          }
          o = s.obs;
        }
      }
      if (wins / episodes > best.success) best = { success: wins / episodes, blank: [pl, 1 - pl - pr, pr] };
    }
  }
  env.close();
  return best;
}

export interface MemoryRow {
  game: string;
  agent: string;
  steps: number;
  /** Mean return of 200 greedy episodes with the best weights. */
  meanReturn: number;
  /** Fraction of those episodes with a positive return. */
  successRate: number;
  /** Mean episode length of those episodes. */
  meanLength: number;
  wallSeconds: number;
  /** Best success rate of any memoryless policy on this game. */
  memorylessCeiling: number;
}

/** Trains every (task, agent) pair with the plain command's settings; prints and returns the table. */
export async function runMemoryBench(args: BenchArgs): Promise<MemoryRow[]> {
  const seed = numberFlag(args, 'seed', 0);
  const tasks = (args.flags.tasks ?? 'maze,flicker').split(',');
  const agents = (args.flags.agents ?? Object.keys(AGENTS).join(',')).split(',');
  for (const t of tasks) if (!TASKS[t]) throw new Error(`bench memory: unknown task ${t} (${Object.keys(TASKS).join(', ')})`);
  for (const a of agents) if (!AGENTS[a]) throw new Error(`bench memory: unknown agent ${a} (${Object.keys(AGENTS).join(', ')})`);
  const ceilings: Record<string, number> = { 'memory-maze': 0.5 };
  if (tasks.includes('flicker')) {
    const c = flickerCeiling(numberFlag(args, 'ceiling-episodes', 4000));
    ceilings['catch/flicker'] = c.success;
    process.stdout.write(`catch/flicker memoryless ceiling: ${(c.success * 100).toFixed(1)}% (blank frames: left ${c.blank[0].toFixed(1)}, stay ${c.blank[1].toFixed(1)}, right ${c.blank[2].toFixed(1)})\n`);
  }
  const root = mkdtempSync(join(tmpdir(), 'npcforge-bench-memory-'));
  const rows: MemoryRow[] = [];
  try {
    for (const task of tasks) {
      const game = TASKS[task]!;
      for (const name of agents) {
        const { agent, recurrent } = AGENTS[name]!;
        const steps = args.flags.steps !== undefined ? numberFlag(args, 'steps', 0) : undefined;
        const config = resolveRunConfig({ game, agent, recurrent, flags: { seed, steps } });
        const t0 = Date.now();
        const res = await train({ config, runDir: join(root, `${task}-${name}`), progress: args.flags.verbose ? process.stderr : null, recordEvalEpisodes: 0 });
        const { agent: best } = await loadRunAgent(res.runDir);
        const ev = await evaluate(best, { makeEnv: () => make(game, config.run.envOptions) as Env<ObsArray, number>, episodes: 200, baseSeed: 900_000 + seed, epsilon: 0 });
        best.dispose();
        const n = ev.returns.length;
        const row: MemoryRow = {
          game,
          agent: name,
          steps: res.step,
          meanReturn: ev.returns.reduce((a, b) => a + b, 0) / n,
          successRate: ev.returns.filter((r) => r > 0).length / n,
          meanLength: ev.lengths.reduce((a, b) => a + b, 0) / n,
          wallSeconds: (Date.now() - t0) / 1000,
          memorylessCeiling: ceilings[game]!,
        };
        rows.push(row);
        process.stdout.write(`${game} ${name}: return ${row.meanReturn.toFixed(3)}, success ${(row.successRate * 100).toFixed(1)}% after ${row.steps} steps (${row.wallSeconds.toFixed(0)} s)\n`);
      }
    }
  } finally {
    if (!args.flags.keep) rmSync(root, { recursive: true, force: true });
    else process.stdout.write(`run folders kept in ${root}\n`);
  }
  printTable(
    ['game', 'agent', 'steps', 'mean return', 'success', 'memoryless ceiling', 'mean length', 'wall s'],
    rows.map((r) => [r.game, r.agent, String(r.steps), r.meanReturn.toFixed(3), `${(r.successRate * 100).toFixed(1)}%`, `${(r.memorylessCeiling * 100).toFixed(1)}%`, r.meanLength.toFixed(1), r.wallSeconds.toFixed(0)]),
  );
  writeJson(args, 'memory', rows);
  return rows;
}

export const bench: Bench = {
  description: 'LSTM vs feed-forward PPO and DQN on memory-maze and catch/flicker, as the plain train command runs them (success rates)',
  run: runMemoryBench,
};

/** Entry point for `node dist/bench/memory.js ...`. */
export async function run(argv: string[]): Promise<MemoryRow[]> {
  return runMemoryBench(parseBenchArgs(argv));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run(process.argv.slice(2));
