/**
 * Re-simulates a recorded episode from its seed (or its pre-reset state) and actions (Discrete,
 * MultiDiscrete or Box), and checks that every frame, reward and end flag matches. Needs the game to be registered and deterministic
 * given the reset seed and the actions.
 */
import { InvalidConfigError, NpcforgeError, formatError } from '../../errors.js';
import { Wrapper, drawFrame, type Env } from '../../envs/env.js';
import { make } from '../../envs/registry.js';
import type { RecordedEpisode } from './reader.js';

/** A re-simulated episode differs from its recording. */
export class ReplayMismatchError extends NpcforgeError {}

export interface VerifyResult {
  ok: boolean;
  steps: number;
  frames: number;
  /** First difference found, or null. */
  mismatch: { frame: number; field: 'frame' | 'reward' | 'terminated' | 'truncated'; detail: string } | null;
}

/**
 * The episode's game with the options from its header. Those options come from the file, not from
 * the user: a game refusing them names the file, and its own fix (pass other options) is dropped.
 */
function makeRecordedGame(ep: RecordedEpisode): Env<unknown, unknown> {
  const h = ep.header;
  try {
    return make(h.game.id, { ...h.game.options, maxEpisodeSteps: h.game.maxEpisodeSteps }) as Env<unknown, unknown>;
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    const why = err.message.replace(/; fix: .*$/s, '');
    throw new InvalidConfigError(formatError(ep.source ? `verifyEpisode ${ep.source}` : 'verifyEpisode', `game options in the episode header that ${h.game.id} accepts`, why, 'record the episode again; the file is corrupt or was recorded by another version of the game'), { cause: err });
  }
}

/** Replays the episode's actions in a fresh env and compares frames, rewards and flags. */
export function verifyEpisode(ep: RecordedEpisode): VerifyResult {
  const h = ep.header;
  const env = makeRecordedGame(ep);
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
    const result = (frame: number, field: NonNullable<VerifyResult['mismatch']>['field'], detail: string): VerifyResult => ({ ok: false, steps: ep.stepCount, frames: ep.frameCount, mismatch: { frame, field, detail } });
    for (let k = 0; k < ep.frameCount; k++) {
      if (k > 0) {
        // The stored action: an index, or the row of a MultiDiscrete or Box action (what the env received).
        const r = env.step(ep.action(k - 1));
        if (r.reward !== ep.rewards[k - 1]) return result(k, 'reward', `recorded ${ep.rewards[k - 1]}, re-simulated ${r.reward}`);
        if (Number(r.terminated) !== ep.terminated[k - 1]) return result(k, 'terminated', `recorded ${ep.terminated[k - 1] === 1}, re-simulated ${r.terminated}`);
        if (Number(r.truncated) !== ep.truncated[k - 1]) return result(k, 'truncated', `recorded ${ep.truncated[k - 1] === 1}, re-simulated ${r.truncated}`);
      }
      const live = drawFrame(env);
      const rec = ep.frame(k);
      if (live.width !== rec.width || live.height !== rec.height) return result(k, 'frame', `recorded ${rec.width}x${rec.height}, re-simulated ${live.width}x${live.height}`);
      let diff = 0;
      for (let i = 0; i < live.data.length; i += 3) {
        if (live.data[i] !== rec.data[i] || live.data[i + 1] !== rec.data[i + 1] || live.data[i + 2] !== rec.data[i + 2]) diff++;
      }
      if (diff > 0) return result(k, 'frame', `${diff} of ${live.width * live.height} pixels differ`);
    }
    return { ok: true, steps: ep.stepCount, frames: ep.frameCount, mismatch: null };
  } finally {
    env.close();
  }
}
