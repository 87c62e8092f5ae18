/**
 * Self-play training (`npcforge train <multi-agent game> --selfplay`): the learner plays one seat of
 * every sub-env through `asSingleAgent`; every other seat is an external seat played, in one batch
 * over all sub-envs, by the pool's current opponent: a past snapshot of the learner (loaded into a
 * second agent) or the learner's current weights. Opponents sample from their policy (the pool's
 * own RNG, saved in checkpoints) so they do not repeat one line of play; DQN opponents act greedily.
 *
 * Snapshots are `<run>/pool/<step>/` (the checkpoint layout, no replay); they are never deleted, so
 * every checkpoint's pool stays loadable. The pool's numbers and the per-env returns live in the
 * runner's checkpoint (`RunnerState.selfplay`), so a resume continues exactly.
 */
import { join } from 'node:path';
import { CheckpointError, InvalidConfigError, describe, formatError } from '../../errors.js';
import type { Agent } from '../../agents/agent.js';
import { getAgentFactory } from '../../agents/registry.js';
import type { Env, ObsArray } from '../../envs/env.js';
import { SeededRng, type RngState } from '../../envs/rng.js';
import { isRegistered, make } from '../../envs/registry.js';
import { SyncVectorEnv } from '../../envs/vector/sync-vector-env.js';
import { EXTERNAL_SEAT, asSingleAgent, randomPolicy, type SingleAgentEnv } from '../../envs/multi/single-agent.js';
import { makeMultiAgent } from '../../envs/multi/registry.js';
import type { MultiAgentEnv } from '../../envs/multi/multi-agent-env.js';
import { readCheckpoint, writeCheckpointFolder, type RunnerState } from '../checkpoint.js';
import type { ResolvedRunConfig } from '../run-config.js';
import type { SelfPlaySettings } from './config.js';
import { scoreOfReturn } from './elo.js';
import { OpponentPool, opponentName, type PoolState } from './pool.js';
import { actRows } from './act.js';

/** Folder of the pool's snapshots inside a run folder. */
export const POOL_DIR = 'pool';

/** What a checkpoint stores of self-play (`RunnerState.selfplay`). */
export interface SelfPlayState {
  pool: PoolState;
  /** The opponents' action-sampling RNG. */
  actRng: RngState;
  /** The learner's return so far in each sub-env's current episode. */
  returns: number[];
}

/**
 * The learner's seat in sub-env `i`: the fixed seat, or the seats in turn (one shared policy),
 * leaving out the seats random moves play.
 */
export function learnerSeat(possibleAgents: readonly string[], settings: Pick<SelfPlaySettings, 'agent'> & Partial<Pick<SelfPlaySettings, 'randomSeats'>>, i: number): string {
  if (settings.agent !== null && settings.agent !== undefined) return settings.agent;
  const seats = possibleAgents.filter((a) => !(settings.randomSeats ?? []).includes(a));
  return seats[i % seats.length]!;
}

/** `--selfplay` on a game without a multi-agent registration: one line naming the game. */
export function requireMultiAgentGame(game: string): MultiAgentEnv<ObsArray, number> {
  try {
    return makeMultiAgent(game);
  } catch (err) {
    throw new InvalidConfigError(formatError('train --selfplay', 'a multi-agent game (npcforge games lists them as [multi-agent])', `${describe(game)}, ${isRegistered(game) ? 'a single-agent game' : 'not a registered game'}`, 'drop --selfplay, or pick a multi-agent game such as pong or tag'), { cause: err });
  }
}

/** Hooks of `makeRunEnv`: a recorder wraps the multi-agent game of a game that is multi-agent only. */
export interface RunEnvHooks {
  /**
   * Called with the multi-agent game (before the seats are assigned), the learner's seat and who
   * plays the other seats; returns the game to seat them at. Not called when the run env is a
   * single-agent game (`make`): its episodes are single-agent ones.
   */
  wrapMultiAgent?: (multi: MultiAgentEnv<ObsArray, number>, seats: { learner: string; others: 'random' }) => MultiAgentEnv<ObsArray, number>;
}

/**
 * The single-agent env the run is evaluated (and its episodes recorded) in: a self-play run's
 * learner seat against the game's scripted opponent when the id is also a single-agent game
 * (`make('pong')`: the right paddle against the bot; the multi-agent `maxSteps` option is dropped),
 * else against uniformly random other seats. A run without self-play: `make(game, envOptions)`.
 */
export function makeRunEnv(cfg: Pick<ResolvedRunConfig, 'game' | 'run' | 'selfplay'>, hooks: RunEnvHooks = {}): Env<ObsArray, number> {
  if (!cfg.selfplay) return make(cfg.game, cfg.run.envOptions) as Env<ObsArray, number>;
  if (isRegistered(cfg.game)) {
    const { maxSteps: _drop, ...options } = cfg.run.envOptions;
    return make(cfg.game, options) as Env<ObsArray, number>;
  }
  const made = makeMultiAgent<ObsArray, number>(cfg.game, cfg.run.envOptions);
  const multi = hooks.wrapMultiAgent ? hooks.wrapMultiAgent(made, { learner: learnerSeat(made.possibleAgents, cfg.selfplay, 0), others: 'random' }) : made;
  const seat = learnerSeat(multi.possibleAgents, cfg.selfplay, 0);
  const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== seat).map((a) => [a, randomPolicy<ObsArray, number>(multi.actionSpace(a))]));
  return asSingleAgent(multi, { agent: seat, others });
}

export interface SelfPlayOptions {
  cfg: ResolvedRunConfig & { selfplay: SelfPlaySettings };
  runDir: string;
  numEnvs: number;
}

export class SelfPlay {
  readonly settings: SelfPlaySettings;
  readonly possibleAgents: readonly string[];
  private readonly pool: OpponentPool;
  private actRng: SeededRng;
  private returns: number[];
  /** The second agent that plays past snapshots (built on the first swap to one). */
  private opponentAgent: Agent | null = null;
  /** The snapshot loaded in `opponentAgent`. */
  private loadedStep: number | null = null;
  private envs: Array<SingleAgentEnv<ObsArray, number>> = [];

  constructor(private readonly o: SelfPlayOptions) {
    this.settings = o.cfg.selfplay;
    const probe = requireMultiAgentGame(o.cfg.game);
    this.possibleAgents = [...probe.possibleAgents];
    probe.close();
    const seed = o.cfg.run.seed;
    this.pool = new OpponentPool(this.settings, `selfplay-pool:${seed}`);
    this.actRng = new SeededRng(`selfplay-act:${seed}`);
    this.returns = new Array(o.numEnvs).fill(0);
  }

  /** The training envs: sub-env i is the learner's seat `learnerSeat(i)`, the other seats external. */
  createEnvs(): SyncVectorEnv {
    const { game, run } = this.o.cfg;
    return new SyncVectorEnv((i) => {
      const multi = makeMultiAgent<ObsArray, number>(game, run.envOptions);
      const seat = learnerSeat(multi.possibleAgents, this.settings, i);
      const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== seat).map((a) => [a, this.settings.randomSeats.includes(a) ? randomPolicy<ObsArray, number>(multi.actionSpace(a)) : (EXTERNAL_SEAT as typeof EXTERNAL_SEAT)]));
      const env = asSingleAgent(multi, { agent: seat, others });
      this.envs[i] = env;
      return env;
    }, this.o.numEnvs);
  }

  /** A new run: the learner's initial weights are snapshot 0, then the first swap. */
  async start(learner: Agent): Promise<void> {
    await this.snapshot(0, learner);
    await this.swap();
  }

  /** Sets the other seats' actions of every sub-env for the next `vec.step`. */
  async actOthers(learner: Agent): Promise<void> {
    const rows: ObsArray[] = [];
    const where: Array<[number, string]> = [];
    this.envs.forEach((env, i) => {
      for (const [seat, obs] of Object.entries(env.otherObservations())) {
        if (this.settings.randomSeats.includes(seat)) continue;
        rows.push(obs);
        where.push([i, seat]);
      }
    });
    const agent = this.pool.opponent.kind === 'latest' ? learner : this.opponentAgent!;
    const actions = await actRows(agent, rows, this.actRng);
    const perEnv: Array<Record<string, number>> = this.envs.map(() => ({}));
    where.forEach(([i, seat], j) => (perEnv[i]![seat] = actions[j]!));
    this.envs.forEach((env, i) => env.setOtherActions(perEnv[i]!));
  }

  /** After a vector step from `prevStep` to `step`: rates finished episodes, snapshots and swaps when due. */
  async afterStep(o: { prevStep: number; step: number; rewards: ArrayLike<number>; terminated: ArrayLike<number>; truncated: ArrayLike<number>; learner: Agent }): Promise<void> {
    for (let i = 0; i < this.returns.length; i++) {
      this.returns[i]! += o.rewards[i]!;
      if (o.terminated[i] || o.truncated[i]) {
        this.pool.record(scoreOfReturn(this.returns[i]!));
        this.returns[i] = 0;
      }
    }
    const crossed = (every: number): boolean => Math.floor(o.prevStep / every) < Math.floor(o.step / every);
    if (crossed(this.settings.saveEvery)) await this.snapshot(o.step, o.learner);
    if (crossed(this.settings.swapEvery)) await this.swap();
  }

  /** The metrics line's self-play fields: `elo` once an episode against a snapshot was rated. */
  metrics(): { elo?: number; opponent: string; pool_size: number } {
    return { ...(this.pool.rated > 0 ? { elo: this.pool.elo } : {}), opponent: opponentName(this.pool.opponent), pool_size: this.pool.list().length };
  }

  getState(): SelfPlayState {
    return { pool: this.pool.getState(), actRng: this.actRng.getState(), returns: [...this.returns] };
  }

  /** Restores a checkpoint's state and loads its opponent snapshot. */
  async setState(state: SelfPlayState | undefined): Promise<void> {
    const ok = state && typeof state === 'object' && Array.isArray(state.returns) && state.returns.length === this.returns.length && state.returns.every((x) => typeof x === 'number' && Number.isFinite(x)) && state.actRng?.kind === 'alea';
    if (!ok) throw new CheckpointError(formatError('selfplay', `the self-play state of a checkpoint with ${this.returns.length} env returns`, describe(state), 'resume a checkpoint written by train --selfplay with the same --envs'));
    this.pool.setState(state.pool);
    this.actRng.setState(state.actRng);
    this.returns = [...state.returns];
    await this.loadOpponent();
  }

  /** The pool's snapshots and ratings (for reports). */
  entries() {
    return this.pool.list();
  }

  dispose(): void {
    this.opponentAgent?.dispose();
    this.opponentAgent = null;
  }

  private async snapshot(step: number, learner: Agent): Promise<void> {
    const snap = await learner.save({ includeReplay: false });
    const runner: RunnerState = { step, episodes: 0, evals: 0, lastEval: null, wallTime: 0, recentReturns: [], episodeReturns: [], episodeLengths: [], obs: [], envs: [], acc: { loss: 0, lossCount: 0, updates: 0 } };
    writeCheckpointFolder(join(this.o.runDir, POOL_DIR, String(step)), `pool snapshot ${step}`, runner, snap);
    this.pool.add(step);
  }

  private async swap(): Promise<void> {
    this.pool.swap();
    await this.loadOpponent();
  }

  /** Loads the current opponent's snapshot into the opponent agent (once per snapshot). */
  private async loadOpponent(): Promise<void> {
    const o = this.pool.opponent;
    if (o.kind === 'latest' || o.step === this.loadedStep) return;
    const { cfg } = this.o;
    if (!this.opponentAgent) {
      const probe = this.envs[0]!;
      this.opponentAgent = getAgentFactory(cfg.agent).create({ config: cfg.agentConfig, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, numEnvs: cfg.run.envs, seed: cfg.run.seed });
    }
    this.loadedStep = null;
    await loadPoolSnapshot(this.opponentAgent, this.o.runDir, o.step);
    this.loadedStep = o.step;
  }
}

/** Loads `<run>/pool/<step>/` into `agent`; anything wrong is one CheckpointError naming the folder. */
export async function loadPoolSnapshot(agent: Agent, runDir: string, step: number): Promise<void> {
  const dir = join(runDir, POOL_DIR, String(step));
  try {
    const ck = readCheckpoint(dir);
    await agent.load({ json: ck.agent.json, blobs: Object.fromEntries(Object.entries(ck.agent.blobs).filter(([k]) => k !== 'replay.bin')) });
  } catch (err) {
    // The cause's own message without its component and fix: ours says what to do with a pool snapshot.
    const why = String((err as Error)?.message ?? err).split('\n')[0]!.replace(/^\[[^\]]*\] /, '').replace(/; fix: .*$/, '');
    throw new CheckpointError(formatError('selfplay pool', `a loadable pool snapshot ${JSON.stringify(dir)}`, `one that fails to load (${why.slice(0, 200)})`, 'restore the folder from a backup, or resume from an earlier checkpoint'), { cause: err });
  }
}
