/**
 * Self-play on tag (issue 18's acceptance): do chasers trained by self-play catch the final
 * self-play evader faster than chasers trained against a random evader? Per seed it trains
 * `train tag --selfplay` (one shared policy, every seat) and the same settings with
 * `selfplay.randomSeats: ["evader"]` (chasers only, a random evader), unless `--runs` names existing
 * run folders; then both runs' chasers (both chaser seats, greedy) play 200 episodes against the
 * self-play run's final evader, and against a random evader for reference.
 * Usage: npm run bench -- selfplay-tag [--seeds 0,1,2] [--steps N] [--config file.json]
 *        [--runs selfplay1:random1,selfplay2:random2] [--episodes 200] [--json f]
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../games/index.js';
import { resolveSelfPlayRunConfig } from '../src/cli/commands/selfplay-flags.js';
import { readConfigFile } from '../src/train/run-config.js';
import { train } from '../src/train/runner.js';
import { listCheckpoints } from '../src/train/run-folder.js';
import { loadMatchAgent, playMatch, type MatchOpponent } from '../src/train/selfplay/match.js';
import { numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

const CHASERS = ['chaser_0', 'chaser_1'];

/** What the chasers of one run did in the episodes against one evader. */
export interface ChaseResult {
  catchRate: number;
  /** Mean episode length: the step of the catch, or the step limit when the evader survived. */
  meanSteps: number;
  /** Mean step of the catch over the caught episodes only. */
  meanCatchStep: number | null;
  meanReturn: number;
}

export interface SelfPlayTagSeed {
  seed: number;
  selfplayRun: string;
  randomRun: string;
  steps: number;
  wallTimeS: { selfplay: number | null; random: number | null };
  /** Chasers of the self-play run / of the random-evader run, against the self-play run's final evader. */
  vsSelfPlayEvader: { selfplay: ChaseResult; random: ChaseResult };
  vsRandomEvader: { selfplay: ChaseResult; random: ChaseResult };
  loadAvg: number[];
}

/** Both chaser seats played by `chasersRef`'s final weights against `evader`. */
async function chase(chasersRef: string, evader: { ref: string } | 'random', episodes: number): Promise<ChaseResult> {
  const chasers = await loadMatchAgent(chasersRef);
  const opp = evader === 'random' ? null : await loadMatchAgent(evader.ref, 'tag');
  try {
    const opponent: MatchOpponent = opp ? { kind: 'agent', agent: opp.agent } : { kind: 'random' };
    const lengths: number[] = [];
    const returns = await playMatch({ game: 'tag', envOptions: chasers.run.run.envOptions, seat: CHASERS[0]!, teamSeats: CHASERS.slice(1), player: chasers.agent, opponent, episodes, seed: 555_000, lengths });
    const caught = returns.map((r) => r > 0);
    const n = returns.length;
    const catchSteps = lengths.filter((_, i) => caught[i]);
    return {
      catchRate: catchSteps.length / n,
      meanSteps: lengths.reduce((a, b) => a + b, 0) / n,
      meanCatchStep: catchSteps.length ? catchSteps.reduce((a, b) => a + b, 0) / catchSteps.length : null,
      meanReturn: returns.reduce((a, b) => a + b, 0) / n,
    };
  } finally {
    chasers.agent.dispose();
    opp?.agent.dispose();
  }
}

async function trainTag(seed: number, steps: number | undefined, file: Record<string, unknown>, randomEvader: boolean): Promise<{ runDir: string; step: number; wallTimeS: number }> {
  const selfplay = { ...((file.selfplay as Record<string, unknown> | undefined) ?? {}), ...(randomEvader ? { randomSeats: ['evader'] } : {}) };
  const config = resolveSelfPlayRunConfig({ game: 'tag', file: { ...file, selfplay }, flags: { seed, ...(steps ? { steps } : {}) } }, { selfplay: true });
  const t0 = Date.now();
  const res = await train({ config, outDir: mkdtempSync(join(tmpdir(), `npcforge-selfplay-tag-${randomEvader ? 'random' : 'selfplay'}-`)), progress: null });
  return { runDir: res.runDir, step: res.step, wallTimeS: (Date.now() - t0) / 1000 };
}

/** `<run>:<last checkpoint>`: a run's final weights (not the best-evaluated ones). */
function finalRef(runDir: string): string {
  const step = latestCheckpointStep(runDir);
  return step === null ? runDir : `${runDir}:${step}`;
}

function latestCheckpointStep(runDir: string): number | null {
  return listCheckpoints(runDir).at(-1) ?? null;
}

export async function runSelfPlayTag(args: BenchArgs): Promise<SelfPlayTagSeed[]> {
  const episodes = numberFlag(args, 'episodes', 200);
  const steps = args.flags.steps ? numberFlag(args, 'steps', 1_000_000) : undefined;
  const file = args.flags.config ? readConfigFile(args.flags.config) : {};
  const pairs: Array<{ seed: number; selfplay?: string; random?: string }> = args.flags.runs
    ? args.flags.runs.split(',').map((p, i) => ({ seed: i, selfplay: p.split(':')[0], random: p.split(':')[1] }))
    : (args.flags.seeds ?? '0').split(',').map((s) => ({ seed: Number(s) }));
  const out: SelfPlayTagSeed[] = [];
  for (const p of pairs) {
    const sp = p.selfplay ? { runDir: p.selfplay, step: latestCheckpointStep(p.selfplay) ?? 0, wallTimeS: null } : await trainTag(p.seed, steps, file, false);
    const rnd = p.random ? { runDir: p.random, step: latestCheckpointStep(p.random) ?? 0, wallTimeS: null } : await trainTag(p.seed, steps, file, true);
    const evader = { ref: finalRef(sp.runDir) };
    const row: SelfPlayTagSeed = {
      seed: p.seed,
      selfplayRun: sp.runDir,
      randomRun: rnd.runDir,
      steps: sp.step,
      wallTimeS: { selfplay: sp.wallTimeS, random: rnd.wallTimeS },
      vsSelfPlayEvader: { selfplay: await chase(finalRef(sp.runDir), evader, episodes), random: await chase(finalRef(rnd.runDir), evader, episodes) },
      vsRandomEvader: { selfplay: await chase(finalRef(sp.runDir), 'random', episodes), random: await chase(finalRef(rnd.runDir), 'random', episodes) },
      loadAvg: loadavg(),
    };
    out.push(row);
    process.stdout.write(`selfplay-tag seed ${p.seed}: ${sp.runDir} vs ${rnd.runDir} (load ${loadavg().map((x) => x.toFixed(1)).join(' ')})\n`);
  }
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const cell = (r: ChaseResult): string => `${pct(r.catchRate)}, ${r.meanSteps.toFixed(1)} steps`;
  printTable(
    ['seed', 'steps', 'self-play chasers vs SP evader', 'random-trained chasers vs SP evader', 'self-play chasers vs random', 'random-trained vs random', 'train s (sp / rnd)'],
    out.map((r) => [String(r.seed), String(r.steps), cell(r.vsSelfPlayEvader.selfplay), cell(r.vsSelfPlayEvader.random), cell(r.vsRandomEvader.selfplay), cell(r.vsRandomEvader.random), `${r.wallTimeS.selfplay?.toFixed(0) ?? '-'} / ${r.wallTimeS.random?.toFixed(0) ?? '-'}`]),
  );
  writeJson(args, 'selfplay-tag', out);
  return out;
}

export const bench: Bench = {
  description: 'tag: self-play chasers vs chasers trained against a random evader, both against the final self-play evader (catch rate, steps to a catch)',
  run: runSelfPlayTag,
};
