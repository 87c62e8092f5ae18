/**
 * Pong with both paddles as agents: `right` (the single-agent game's player 0) and `left`. The
 * rules are `PongEnv`'s two-player mode, unchanged; this class only seats two agents at it.
 * Each agent sees the game as if it held the right paddle (`PongEnv.observePlayer`: the left
 * agent's view is the mirrored game), so one policy plays both sides, and a policy trained here
 * plays the single-agent `pong` against the bot as it is. Rewards are zero-sum per point: +1 to
 * the scorer, -1 to the other. Both agents terminate when a side reaches `pointsToWin`; both are
 * truncated after `maxSteps` (endless rallies).
 */
import { InvalidConfigError, describe, formatError } from '../../src/errors.js';
import type { RgbFrame } from '../../src/envs/env.js';
import type { SeededRng } from '../../src/envs/rng.js';
import { Discrete } from '../../src/envs/spaces.js';
import type { AgentDict } from '../../src/envs/multi/multi-agent-env.js';
import { MultiAgentGameEnv, type MultiAgentStepOutcome } from '../../src/envs/multi/game.js';
import { PONG_ACTIONS, PongEnv, type PongOptions } from './pong.js';

/** The two seats: `right` is player 0 of `PongEnv`, `left` player 1. */
export const PONG_AGENTS = ['right', 'left'] as const;
export type PongAgent = (typeof PONG_AGENTS)[number];

/** `PongEnv`'s options without the ones that belong to the single-agent game, plus the step limit. */
export interface PongMultiAgentOptions extends Omit<PongOptions, 'mode' | 'botSkill' | 'trackReward'> {
  /** Steps after which both agents are truncated (default 6000, as the single-agent registration). */
  maxSteps?: number;
}

/** Options of the single-agent game that have no meaning with two agents. */
const SINGLE_AGENT_ONLY = ['mode', 'botSkill', 'trackReward'];
export const PONG_MULTI_AGENT_MAX_STEPS = 6000;

export class PongMultiAgentEnv extends MultiAgentGameEnv<Uint8Array | Float32Array, number> {
  /** The game the two agents play (two-player mode). */
  readonly pong: PongEnv;
  /** The right agent's observation that the game returned from its last reset/step (not handed out yet). */
  private pendingRight: Uint8Array | Float32Array | null = null;

  constructor(options: PongMultiAgentOptions = {}) {
    const { maxSteps = PONG_MULTI_AGENT_MAX_STEPS, ...pongOptions } = options;
    const misplaced = Object.keys(pongOptions).filter((k) => SINGLE_AGENT_ONLY.includes(k));
    if (misplaced.length) {
      throw new InvalidConfigError(formatError('pong (multi-agent)', 'the options of pong without mode, botSkill and trackReward', `options ${misplaced.join(', ')}`, "remove them: both paddles are agents here (use make('pong') for the game against the bot)"));
    }
    const pong = new PongEnv({ ...pongOptions, mode: 'two-player' });
    const seat = { observationSpace: pong.observationSpace, actionSpace: new Discrete(3), actionNames: PONG_ACTIONS };
    // The options this class accepts, resolved: `new PongMultiAgentEnv(spec.options)` builds the same game.
    const { mode: _m, botSkill: _b, trackReward: _t, ...resolved } = pong.config;
    super({ id: 'pong', agents: { right: seat, left: seat }, maxSteps, options: { ...resolved, maxSteps } });
    this.pong = pong;
  }

  protected onReset(rng: SeededRng): void {
    // The episode's game is seeded from this env's RNG, so reset({seed}) and reset() behave as in
    // every env (reseed / continue) and a snapshot holds both generators.
    this.pendingRight = this.pong.reset({ seed: rng.int(0, 0x100000000) }).obs;
  }

  protected onStep(actions: AgentDict<number>): MultiAgentStepOutcome {
    const r = this.pong.step([actions.right!, actions.left!]);
    this.pendingRight = r.obs;
    const score = r.info.score as [number, number];
    return {
      rewards: { right: r.reward, left: r.reward === 0 ? 0 : -r.reward },
      terminated: { right: r.terminated, left: r.terminated },
      // Each side's score as [own, opponent].
      infos: { right: { score: [score[0], score[1]] }, left: { score: [score[1], score[0]] } },
    };
  }

  protected observe(agent: string): Uint8Array | Float32Array {
    if (agent === 'right' && this.pendingRight !== null) {
      // The game's own observation is player 0's view: hand it out once instead of drawing it again.
      const obs = this.pendingRight;
      this.pendingRight = null;
      return obs;
    }
    return this.pong.observePlayer(agent === 'right' ? 0 : 1);
  }

  protected state(): Record<string, unknown> {
    return { pong: this.pong.getState() };
  }

  protected restore(game: Record<string, unknown>): void {
    const pong = game.pong as { game?: unknown } | undefined;
    if (!pong || typeof pong !== 'object') throw new InvalidConfigError(formatError('pong.setState', 'a snapshot {game: {pong, ...}} from getState()', describe(pong), 'pass the output of getState()'));
    this.pong.setState(pong as Parameters<PongEnv['setState']>[0]);
    this.pendingRight = null;
  }

  /** The whole field (the right paddle green, the left orange), as the single-agent game draws it. */
  render(): RgbFrame {
    return this.pong.render();
  }
}
