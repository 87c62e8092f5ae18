/**
 * Self-play on pong (issue 18's acceptance): `npcforge train pong --selfplay` with its defaults
 * (never trained against the scripted bot; the periodic evaluation only measures against it), then
 * 200 greedy episodes against the default bot with the final weights and with the best-evaluated
 * ones. Prints the Elo curve points (metrics.jsonl) and the win rates, per seed.
 * Usage: npm run bench -- selfplay-pong [--seeds 0,1,2] [--steps N] [--episodes 200] [--json f]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../games/index.js';
import { resolveSelfPlayRunConfig } from '../src/cli/commands/selfplay-flags.js';
import { train } from '../src/train/runner.js';
import { loadMatchAgent, playMatch, summariseMatch, type MatchSummary } from '../src/train/selfplay/match.js';
import { numberFlag, printTable, writeJson, type Bench, type BenchArgs } from './harness.js';

export interface SelfPlayPongSeed {
  seed: number;
  steps: number;
  wallTimeS: number;
  /** (step, learner Elo) at every metrics line that had one. */
  elo: Array<[number, number]>;
  final: MatchSummary;
  best: MatchSummary | null;
  runDir: string;
  loadAvg: number[];
}

async function versusBot(ref: string, episodes: number): Promise<MatchSummary> {
  const p = await loadMatchAgent(ref);
  try {
    return summariseMatch(await playMatch({ game: 'pong', envOptions: p.run.run.envOptions, seat: p.seat, player: p.agent, opponent: { kind: 'bot' }, episodes, seed: 777_000 }));
  } finally {
    p.agent.dispose();
  }
}

/** The last point at or before each multiple of `every` (the printed curve; the JSON has them all). */
function thin(points: Array<[number, number]>, every: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 1; k * every <= (points.at(-1)?.[0] ?? 0) + 1e-9; k++) {
    const p = points.filter(([s]) => s <= k * every).at(-1);
    if (p && out.at(-1) !== p) out.push(p);
  }
  return out;
}

export async function runSelfPlayPong(args: BenchArgs): Promise<SelfPlayPongSeed[]> {
  const seeds = (args.flags.seeds ?? '0').split(',').map(Number);
  const steps = args.flags.steps ? numberFlag(args, 'steps', 1_000_000) : undefined;
  const episodes = numberFlag(args, 'episodes', 200);
  const out: SelfPlayPongSeed[] = [];
  for (const seed of seeds) {
    const t0 = Date.now();
    const config = resolveSelfPlayRunConfig({ game: 'pong', flags: { seed, ...(steps ? { steps } : {}) } }, { selfplay: true });
    const res = await train({ config, outDir: mkdtempSync(join(tmpdir(), 'npcforge-selfplay-pong-')), progress: null });
    const wallTimeS = (Date.now() - t0) / 1000;
    const lines = readFileSync(join(res.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; elo?: number });
    const elo = lines.filter((l) => typeof l.elo === 'number').map((l) => [l.step, l.elo!] as [number, number]);
    const final = await versusBot(`${res.runDir}:${res.step}`, episodes);
    const best = res.bestEval === null ? null : await versusBot(res.runDir, episodes);
    out.push({ seed, steps: res.step, wallTimeS, elo, final, best, runDir: res.runDir, loadAvg: loadavg() });
    process.stdout.write(`selfplay-pong seed ${seed}: ${res.step} steps in ${wallTimeS.toFixed(0)} s (load ${loadavg().map((x) => x.toFixed(1)).join(' ')}); elo ${thin(elo, res.step / 10).map(([s, e]) => `${s}:${e.toFixed(0)}`).join(' ')}\n`);
  }
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  printTable(
    ['seed', 'steps', 'wall s', 'final elo', 'final: win/draw/loss vs bot', 'best: win/draw/loss vs bot'],
    out.map((r) => [String(r.seed), String(r.steps), r.wallTimeS.toFixed(0), r.elo.length ? r.elo.at(-1)![1].toFixed(0) : '-', `${pct(r.final.win_rate)} / ${pct(r.final.draw_rate)} / ${pct(r.final.loss_rate)}`, r.best ? `${pct(r.best.win_rate)} / ${pct(r.best.draw_rate)} / ${pct(r.best.loss_rate)}` : '-']),
  );
  writeJson(args, 'selfplay-pong', out);
  return out;
}

export const bench: Bench = { description: 'train pong --selfplay with its defaults, then 200 episodes against the bot: Elo curve and win rate per seed (long)', run: runSelfPlayPong };
