/**
 * Matches between a trained run and a fixed opponent (`npcforge eval <run> --opponent`) and
 * between runs (`npcforge league`): the run's agent plays one seat (or a team of seats, `--seats`),
 * the opponent every other seat;
 * both act greedily, batched over the episodes played side by side. Win, draw or loss is the sign
 * of the seat's episode return.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../agents/agent.js';
import { getAgentFactory } from '../../agents/registry.js';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import type { Env, ObsArray } from '../../envs/env.js';
import { isRegistered, make } from '../../envs/registry.js';
import { isMultiAgentRegistered, makeMultiAgent } from '../../envs/multi/registry.js';
import { EXTERNAL_SEAT, asSingleAgent, randomPolicy, type SingleAgentEnv } from '../../envs/multi/single-agent.js';
import { initBackend } from '../../networks/backend.js';
import { readRunFile, type RunFile } from '../run-folder.js';
import { loadRunAgent } from '../runner.js';
import { actRows, type RowInfo } from './act.js';
import type { MultiAgentEnv } from '../../envs/multi/multi-agent-env.js';
import { scoreOfReturn } from './elo.js';
import { POOL_DIR, learnerSeat, loadPoolSnapshot, makeRunEnv } from './selfplay.js';
import { DEFAULT_SELFPLAY } from './config.js';

/** What plays a seat in a match: an agent, or anything that acts like one (an exported policy: `policyActor`). */
export type MatchActor = Pick<Agent, 'act'>;

/** A fixed opponent: the game's scripted bot, uniform random moves, or a trained agent. */
export type MatchOpponent = { kind: 'bot' } | { kind: 'random' } | { kind: 'agent'; agent: MatchActor };

export interface MatchOptions {
  /** Multi-agent game id. */
  game: string;
  /** Options of the multi-agent game. */
  envOptions: Record<string, unknown>;
  /** The seat `player` plays; its return is the one reported. */
  seat: string;
  /** Further seats `player` also plays (tag: both chasers); the opponent plays the rest. */
  teamSeats?: readonly string[];
  player: MatchActor;
  opponent: MatchOpponent;
  episodes: number;
  /** Episode j is reset with seed `seed + j`. */
  seed: number;
  /** Episodes played side by side (default min(episodes, 16)). */
  parallel?: number;
  /** When given, receives each episode's length in steps, by episode index. */
  lengths?: number[];
  /** Records the episodes (`npcforge record --opponent`): wraps each side-by-side env, gets what the agents thought. */
  recorder?: MatchRecorder;
}

/** Recording hooks of a match; `slot` is the side-by-side env (0 .. parallel-1) the call is about. */
export interface MatchRecorder {
  /** Wraps the multi-agent game of a slot (opponents `random` or a trained agent). */
  wrapMultiAgent(multi: MultiAgentEnv<ObsArray, number>, slot: number): MultiAgentEnv<ObsArray, number>;
  /** Wraps the single-agent game of a slot (`bot`: the game's scripted opponent plays inside it). */
  wrapBotGame(env: Env<ObsArray, number>, slot: number): Env<ObsArray, number>;
  /** What the agent in `seat` of a slot thought before the slot's next step. */
  annotate(slot: number, seat: string, info: RowInfo): void;
}

/** What `eval --opponent --json` prints. */
export interface MatchSummary {
  episodes: number;
  win_rate: number;
  draw_rate: number;
  loss_rate: number;
  mean_return: number;
}

export function summariseMatch(returns: readonly number[]): MatchSummary {
  const n = returns.length;
  const count = (s: number): number => returns.filter((r) => scoreOfReturn(r) === s).length;
  return { episodes: n, win_rate: n ? count(1) / n : 0, draw_rate: n ? count(0.5) / n : 0, loss_rate: n ? count(0) / n : 0, mean_return: n ? returns.reduce((a, b) => a + b, 0) / n : 0 };
}

/** Plays the episodes; returns the player's return of each, by episode index. */
export async function playMatch(o: MatchOptions): Promise<number[]> {
  const team = new Set((o.teamSeats ?? []).filter((t) => t !== o.seat));
  if (team.size && o.opponent.kind === 'bot') throw new InvalidConfigError(formatError('--seats', 'one seat against the scripted bot', [o.seat, ...team].join(', '), 'drop --seats, or play another opponent'));
  const k = Math.max(1, Math.min(o.parallel ?? 16, o.episodes));
  const envs: Array<Env<ObsArray, number>> = Array.from({ length: k }, (_, slot) => matchEnv(o, slot));
  const rec = o.recorder;
  const returns = new Array<number>(o.episodes).fill(0);
  const slot = new Int32Array(k).fill(-1);
  const obs: ObsArray[] = new Array(k);
  let next = 0;
  const start = (s: number): void => {
    if (next >= o.episodes) {
      slot[s] = -1;
      return;
    }
    slot[s] = next;
    obs[s] = envs[s]!.reset({ seed: o.seed + next }).obs;
    next++;
  };
  for (let s = 0; s < k; s++) start(s);
  try {
    for (;;) {
      const live = [...slot.keys()].filter((s) => slot[s]! >= 0);
      if (!live.length) break;
      const actions = await actRows(o.player, live.map((s) => obs[s]!), null, rec && ((i, info) => rec.annotate(live[i]!, o.seat, info)));
      if (o.opponent.kind === 'agent' || team.size) {
        // External seats: the player's team seats, and the opponent agent's seats; each agent acts on its rows in one batch.
        const per = new Map<number, Record<string, number>>();
        const byAgent = new Map<MatchActor, { rows: ObsArray[]; where: Array<[number, string]> }>();
        for (const s of live) {
          for (const [seat, x] of Object.entries((envs[s] as SingleAgentEnv<ObsArray, number>).otherObservations())) {
            // otherObservations() also has the seats a random policy plays inside the env.
            const agent = team.has(seat) ? o.player : o.opponent.kind === 'agent' ? o.opponent.agent : null;
            if (!agent) continue;
            const group = byAgent.get(agent) ?? { rows: [], where: [] };
            group.rows.push(x);
            group.where.push([s, seat]);
            byAgent.set(agent, group);
          }
        }
        for (const [agent, group] of byAgent) {
          const acts = await actRows(agent, group.rows, null, rec && ((j, info) => rec.annotate(group.where[j]![0], group.where[j]![1], info)));
          group.where.forEach(([s, seat], j) => per.set(s, { ...(per.get(s) ?? {}), [seat]: acts[j]! }));
        }
        for (const s of live) (envs[s] as SingleAgentEnv<ObsArray, number>).setOtherActions(per.get(s) ?? {});
      }
      live.forEach((s, i) => {
        const r = envs[s]!.step(actions[i]!);
        returns[slot[s]!]! += r.reward;
        if (o.lengths) o.lengths[slot[s]!] = (o.lengths[slot[s]!] ?? 0) + 1;
        obs[s] = r.obs;
        if (r.terminated || r.truncated) start(s);
      });
    }
  } finally {
    for (const e of envs) e.close();
  }
  return returns;
}

/** The player's seat as a single-agent env, the other seats played by the opponent. */
function matchEnv(o: MatchOptions, slot: number): Env<ObsArray, number> {
  if (o.opponent.kind === 'bot') {
    const env = botEnv(o.game, o.envOptions, o.seat);
    return o.recorder ? o.recorder.wrapBotGame(env, slot) : env;
  }
  const made = makeMultiAgent<ObsArray, number>(o.game, o.envOptions);
  const team = o.teamSeats ?? [];
  const bad = team.filter((t) => !made.possibleAgents.includes(t));
  if (bad.length || !made.possibleAgents.includes(o.seat)) {
    made.close();
    throw new InvalidConfigError(formatError('--seats', `seats of ${o.game} (${made.possibleAgents.join(', ')})`, [o.seat, ...team].join(', '), 'name seats the game has'));
  }
  const multi = o.recorder ? o.recorder.wrapMultiAgent(made, slot) : made;
  const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== o.seat).map((a) => [a, o.opponent.kind === 'random' && !team.includes(a) ? randomPolicy<ObsArray, number>(multi.actionSpace(a)) : (EXTERNAL_SEAT as typeof EXTERNAL_SEAT)]));
  return asSingleAgent(multi, { agent: o.seat, others });
}

/**
 * The game's scripted opponent: the single-agent registration of the same id (pong: the right
 * paddle against the bot). A game without one, or a seat the bot game does not seat the player in,
 * is refused in one line.
 */
function botEnv(game: string, envOptions: Record<string, unknown>, seat: string): Env<ObsArray, number> {
  requireBot(game);
  const multi = makeMultiAgent(game);
  const first = multi.possibleAgents[0]!;
  multi.close();
  if (seat !== first) throw new InvalidConfigError(formatError('--opponent bot', `the player in seat ${first} (the seat the scripted game seats it in)`, `seat ${seat}`, 'evaluate a run that plays that seat'));
  return makeRunEnv({ game, run: { envOptions } as RunFile['run'], selfplay: { ...DEFAULT_SELFPLAY } });
}

/** Refuses `--opponent bot` for a game without a scripted opponent, in one line. */
export function requireBot(game: string): void {
  if (!isRegistered(game)) throw new InvalidConfigError(formatError('--opponent bot', `a game with a scripted opponent (a single-agent registration of ${describe(game)})`, `${describe(game)}, which has none`, 'use --opponent random or --opponent <run>[:step]'));
}

/** `<run>` or `<run>:<step>`: a run folder and, optionally, a checkpoint or pool snapshot step. */
export function parseRunRef(ref: string): { runDir: string; step?: number } {
  const m = /^(.*):(\d+)$/.exec(ref);
  if (m && !existsSync(ref)) return { runDir: m[1]!, step: Number(m[2]) };
  return { runDir: ref };
}

/**
 * Loads a run's agent for matches: the run must be of a multi-agent game (its own or `game`, when
 * given). `step` is a self-play pool snapshot, else a checkpoint; without it the run's best
 * weights (else its latest checkpoint). The caller disposes the agent.
 */
export async function loadMatchAgent(ref: string, game?: string, component = '--opponent'): Promise<{ agent: Agent; run: RunFile; seat: string; label: string }> {
  const { runDir, step } = parseRunRef(ref);
  const run = readRunFile(runDir);
  if (game !== undefined && run.game !== game) {
    throw new InvalidConfigError(formatError(component, `a run of ${describe(game)}`, `${describe(runDir)}, a run of ${describe(run.game)}`, `pass a run trained on ${game}`));
  }
  if (!isMultiAgentRegistered(run.game)) {
    throw new InvalidConfigError(formatError('match', 'a run of a multi-agent game (trained with --selfplay, or on a game that is also multi-agent)', `${describe(runDir)}, a run of ${describe(run.game)}`, 'use npcforge eval without --opponent for single-agent games'));
  }
  const multi = makeMultiAgent(run.game);
  const seat = learnerSeat(multi.possibleAgents, run.selfplay ?? DEFAULT_SELFPLAY, 0);
  multi.close();
  // A pool snapshot and a checkpoint of the same step hold the same weights (both taken after that step's update).
  const inPool = step !== undefined && existsSync(join(runDir, POOL_DIR, String(step)));
  if (!inPool) {
    const { agent, step: loaded, best } = await loadRunAgent(runDir, step);
    return { agent, run, seat, label: `${runDir}${best ? ' (best)' : `:${loaded}`}` };
  }
  await initBackend();
  const probe = makeRunEnv(run);
  const agent = getAgentFactory(run.agent).create({ config: run.agentConfig, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, numEnvs: run.run.envs, seed: run.run.seed });
  probe.close();
  try {
    await loadPoolSnapshot(agent, runDir, step!);
  } catch (err) {
    agent.dispose();
    throw err;
  }
  return { agent, run, seat, label: `${runDir}:${step}` };
}
