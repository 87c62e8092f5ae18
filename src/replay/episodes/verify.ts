/**
 * Re-simulates a recorded episode from its seed (or its pre-reset state) and actions (Discrete,
 * MultiDiscrete or Box), and checks that every frame, reward and end flag matches. Needs the game to be registered and deterministic
 * given the reset seed and the actions.
 */
import { InvalidConfigError, NpcforgeError, formatError } from '../../errors.js';
import { Wrapper, drawFrame, type Env, type RgbFrame } from '../../envs/env.js';
import { make } from '../../envs/registry.js';
import { makeMultiAgent } from '../../envs/multi/registry.js';
import type { MultiAgentEnv } from '../../envs/multi/multi-agent-env.js';
import type { RecordedEpisode } from './reader.js';

/** A re-simulated episode differs from its recording. */
export class ReplayMismatchError extends NpcforgeError {}

export interface VerifyResult {
  ok: boolean;
  steps: number;
  frames: number;
  /**
   * First difference found, or null: at `frame` k, i.e. after step k - 1 (`step`, null for the
   * frame after reset); `agent` names the agent whose reward or flag differs (multi-agent episodes).
   */
  mismatch: { frame: number; step: number | null; field: 'frame' | 'reward' | 'terminated' | 'truncated' | 'agents'; detail: string; agent?: string } | null;
}

/**
 * The episode's game with the options from its header. Those options come from the file, not from
 * the user: a game refusing them names the file, and its own fix (pass other options) is dropped.
 */
function makeRecordedGame<T>(ep: RecordedEpisode, build: () => T): T {
  const h = ep.header;
  try {
    return build();
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    const why = err.message.replace(/; fix: .*$/s, '');
    throw new InvalidConfigError(formatError(ep.source ? `verifyEpisode ${ep.source}` : 'verifyEpisode', `game options in the episode header that ${h.game.id} accepts`, why, 'record the episode again; the file is corrupt or was recorded by another version of the game'), { cause: err });
  }
}

/** Replays the episode's actions in a fresh env and compares frames, rewards and flags. */
export function verifyEpisode(ep: RecordedEpisode): VerifyResult {
  if (ep.agents) return verifyMultiAgentEpisode(ep);
  const h = ep.header;
  const env = makeRecordedGame(ep, () => make(h.game.id, { ...h.game.options, maxEpisodeSteps: h.game.maxEpisodeSteps }) as Env<unknown, unknown>);
  try {
    const resetOptions = h.resetOptions ?? undefined;
    if (h.seed !== null) env.reset({ seed: h.seed, options: resetOptions });
    else {
      let inner: Env<unknown, unknown> = env as Env<unknown, unknown>;
      while (inner instanceof Wrapper) inner = inner.env as Env<unknown, unknown>;
      if (!h.stateBeforeReset || typeof inner.setState !== 'function') {
        throw new InvalidConfigError(formatError('verifyEpisode', 'an episode reset with a seed, or with a pre-reset state of an env that has setState', 'neither', 'record with reset({ seed })'));
      }
      inner.setState(h.stateBeforeReset);
      env.reset({ options: resetOptions });
    }
    const result = (frame: number, field: NonNullable<VerifyResult['mismatch']>['field'], detail: string): VerifyResult => ({ ok: false, steps: ep.stepCount, frames: ep.frameCount, mismatch: { frame, step: frame > 0 ? frame - 1 : null, field, detail } });
    for (let k = 0; k < ep.frameCount; k++) {
      if (k > 0) {
        // The stored action: an index, or the row of a MultiDiscrete or Box action (what the env received).
        const r = env.step(ep.action(k - 1));
        if (r.reward !== ep.rewards[k - 1]) return result(k, 'reward', `recorded ${ep.rewards[k - 1]}, re-simulated ${r.reward}`);
        if (Number(r.terminated) !== ep.terminated[k - 1]) return result(k, 'terminated', `recorded ${ep.terminated[k - 1] === 1}, re-simulated ${r.terminated}`);
        if (Number(r.truncated) !== ep.truncated[k - 1]) return result(k, 'truncated', `recorded ${ep.truncated[k - 1] === 1}, re-simulated ${r.truncated}`);
      }
      const diff = frameDifference(drawFrame(env), ep, k);
      if (diff) return result(k, 'frame', diff);
    }
    return { ok: true, steps: ep.stepCount, frames: ep.frameCount, mismatch: null };
  } finally {
    env.close();
  }
}

/** How the re-simulated frame differs from recorded frame k, or null when it is the same. */
function frameDifference(live: RgbFrame, ep: RecordedEpisode, k: number): string | null {
  const rec = ep.frame(k);
  if (live.width !== rec.width || live.height !== rec.height) return `recorded ${rec.width}x${rec.height}, re-simulated ${live.width}x${live.height}`;
  let diff = 0;
  for (let i = 0; i < live.data.length; i += 3) {
    if (live.data[i] !== rec.data[i] || live.data[i + 1] !== rec.data[i + 1] || live.data[i + 2] !== rec.data[i + 2]) diff++;
  }
  return diff > 0 ? `${diff} of ${live.width * live.height} pixels differ` : null;
}

/**
 * A multi-agent episode (version 3): `makeMultiAgent(game.id, game.options)` (the game's options
 * hold its own step limit), reset as recorded, stepped with every live agent's recorded action;
 * every agent's reward and flags and every frame (`render()`) must match.
 */
function verifyMultiAgentEpisode(ep: RecordedEpisode): VerifyResult {
  const h = ep.header;
  const agents = ep.agents!;
  const env = makeRecordedGame(ep, () => makeMultiAgent(h.game.id, { ...h.game.options }) as MultiAgentEnv<unknown, number>);
  const where = ep.source ? `verifyEpisode ${ep.source}` : 'verifyEpisode';
  try {
    const names = agents.map((a) => a.name);
    if (env.possibleAgents.length !== names.length || env.possibleAgents.some((a, i) => a !== names[i])) {
      throw new InvalidConfigError(formatError(where, `the agents of ${h.game.id} (${env.possibleAgents.join(', ')})`, `an episode of agents ${names.join(', ')}`, 'record the episode again; it was recorded by another version of the game'));
    }
    if (typeof env.render !== 'function') throw new InvalidConfigError(formatError(where, `a game that renders (${h.game.id} has no render())`, 'none', 'episode files hold frames: record a game with render()'));
    const resetOptions = h.resetOptions ?? undefined;
    if (h.seed !== null) env.reset({ seed: h.seed, options: resetOptions });
    else {
      if (!h.stateBeforeReset || typeof env.setState !== 'function') {
        throw new InvalidConfigError(formatError('verifyEpisode', 'an episode reset with a seed, or with a pre-reset state of a game that has setState', 'neither', 'record with reset({ seed })'));
      }
      env.setState(h.stateBeforeReset);
      env.reset({ options: resetOptions });
    }
    const result = (frame: number, field: NonNullable<VerifyResult['mismatch']>['field'], detail: string, agent?: string): VerifyResult => ({
      ok: false,
      steps: ep.stepCount,
      frames: ep.frameCount,
      mismatch: { frame, step: frame > 0 ? frame - 1 : null, field, detail, ...(agent === undefined ? {} : { agent }) },
    });
    for (let k = 0; k < ep.frameCount; k++) {
      if (k > 0) {
        const t = k - 1;
        const recorded = ep.agentActions(t);
        const live = env.agents;
        const actors = Object.keys(recorded);
        if (live.length !== actors.length || live.some((a) => !Object.hasOwn(recorded, a))) return result(k, 'agents', `recorded actions of ${actors.join(', ')}, live agents ${live.join(', ')}`);
        const r = env.step(recorded);
        for (const a of agents) {
          if (!a.acted[t]) continue;
          if (r.rewards[a.name] !== a.rewards[t]) return result(k, 'reward', `${a.name}: recorded ${a.rewards[t]}, re-simulated ${r.rewards[a.name]}`, a.name);
          if (Number(r.terminated[a.name] === true) !== a.terminated[t]) return result(k, 'terminated', `${a.name}: recorded ${a.terminated[t] === 1}, re-simulated ${r.terminated[a.name]}`, a.name);
          if (Number(r.truncated[a.name] === true) !== a.truncated[t]) return result(k, 'truncated', `${a.name}: recorded ${a.truncated[t] === 1}, re-simulated ${r.truncated[a.name]}`, a.name);
        }
      }
      const diff = frameDifference(env.render(), ep, k);
      if (diff) return result(k, 'frame', diff);
    }
    return { ok: true, steps: ep.stepCount, frames: ep.frameCount, mismatch: null };
  } finally {
    env.close();
  }
}
