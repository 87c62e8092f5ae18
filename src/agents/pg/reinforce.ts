/**
 * REINFORCE with a learned baseline (Williams 1992; Sutton & Barto, "Reinforcement Learning: An
 * Introduction", 2nd ed., section 13.4):
 *
 *   returns     G_t = r_t + gamma G_{t+1} over a whole episode (G after the last step: 0 when it
 *               terminated, V(finalObs) when it was truncated)
 *   advantages  A_t = G_t - V(s_t), V from the current critic (normalised over the batch when normAdv)
 *   policy loss L_pi = -mean(A_t log pi(a_t|s_t))
 *   value loss  L_V  = 0.5 mean((V(s_t) - G_t)^2)
 *   loss        L = L_pi - entCoef H(pi) + vfCoef L_V   (added by the learner)
 *
 * The rollouts only carry the steps in: finished episodes are filed, unfinished ones wait (their
 * steps are part of the snapshot), and once `reinforceEpisodes` episodes are complete they become
 * one padded batch (masked rows are padding), one gradient step. Defaults (lr 1e-3, 16 episodes
 * per update, advantage normalisation): see `config.ts`.
 */
import { CheckpointError, formatError } from '../../errors.js';
import { blobOf, floatBlob } from '../policy/snapshot.js';
import { policyGradientLoss } from './math.js';
import { newActions, newObsLike, type RolloutLayout, type TrainBatch } from './rollout.js';
import type { OnPolicyAlgorithm } from './learner.js';

/** An episode being collected: `actionWidth` action values per step. */
interface Episode {
  obs: number[][];
  actions: number[];
  rewards: number[];
  /** Bootstrap value after the last step: 0 if terminated, V(finalObs) if truncated. */
  tail: number;
}

/** Header of the episodes being collected in a snapshot (their numbers are blobs). */
interface ReinforceStateJson {
  /** Per episode: the env it is being collected in (-1 = finished, waiting for the update), steps, tail. */
  episodes: Array<{ env: number; steps: number; tail: number }>;
}

/** A REINFORCE learner (it holds the episodes being collected: one per agent). */
export function reinforce(layout: RolloutLayout): OnPolicyAlgorithm {
  let pending: Episode[][] = [];
  let ready: Episode[] = [];
  return {
    name: 'reinforce',

    batches(r, { config, layout, recurrent }) {
      const { numSteps: T, numEnvs: N } = r;
      const S = layout.obsSize;
      const Wa = layout.actionWidth;
      while (pending.length < N) pending.push([]);
      for (let e = 0; e < N; e++) {
        for (let t = 0; t < T; t++) {
          const i = t * N + e;
          const list = pending[e]!;
          if (r.starts[i] || list.length === 0) list.push({ obs: [], actions: [], rewards: [], tail: 0 });
          const ep = list[list.length - 1]!;
          ep.obs.push(Array.from(r.obs.subarray(i * S, (i + 1) * S)));
          for (let k = 0; k < Wa; k++) ep.actions.push(r.actions[i * Wa + k]!);
          ep.rewards.push(r.rewards[i]!);
          if (r.terminated[i] || r.truncated[i]) {
            ep.tail = r.terminated[i] ? 0 : r.truncValues[i]!;
            ready.push(list.pop()!);
          }
        }
      }
      if (ready.length < config.reinforceEpisodes) return null;
      const eps = ready.splice(0, ready.length);
      const B = eps.length;
      const L = Math.max(...eps.map((e) => e.rewards.length));
      const H = recurrent ? layout.stateUnits : 0;
      const f = () => new Float32Array(L * B);
      const b: TrainBatch = { steps: L, batch: B, obs: newObsLike(r.obs, L * B * S), actions: newActions(layout.action, L * B), starts: f(), mask: f(), advantages: null, returns: f(), oldLogProbs: null, oldValues: null, h0: H ? new Float32Array(B * H) : null, c0: H ? new Float32Array(B * H) : null };
      eps.forEach((ep, j) => {
        let g = ep.tail;
        for (let t = ep.rewards.length - 1; t >= 0; t--) {
          g = ep.rewards[t]! + config.gamma * g;
          const dst = t * B + j;
          b.returns[dst] = g;
          b.mask[dst] = 1;
          for (let k = 0; k < Wa; k++) b.actions[dst * Wa + k] = ep.actions[t * Wa + k]!;
          b.obs.set(ep.obs[t]!, dst * S);
        }
        b.starts[j] = 1;
      });
      // advantages: null = G - V(s) with the current critic, computed by the learner before the step.
      return [b];
    },

    policyLoss: ({ logProbs, advantages, mask }) => ({ loss: policyGradientLoss({ logProbs, advantages, mask }) }),

    valueClip: () => null,

    // The episodes being collected, as float32 blobs (observations, actions and rewards are float32-exact).
    getState() {
      const all = [...pending.flatMap((list, env) => list.map((ep) => ({ env, ep }))), ...ready.map((ep) => ({ env: -1, ep }))];
      const steps = all.reduce((n, { ep }) => n + ep.rewards.length, 0);
      const S = layout.obsSize;
      const Wa = layout.actionWidth;
      const obs = new Float32Array(steps * S);
      const actions = new Float32Array(steps * Wa);
      const rewards = new Float32Array(steps);
      let at = 0;
      for (const { ep } of all) {
        ep.obs.forEach((o, t) => obs.set(o, (at + t) * S));
        actions.set(ep.actions, at * Wa);
        rewards.set(ep.rewards, at);
        at += ep.rewards.length;
      }
      const json: ReinforceStateJson = { episodes: all.map(({ env, ep }) => ({ env, steps: ep.rewards.length, tail: ep.tail })) };
      return { json, blobs: { 'reinforce.obs': blobOf(obs), 'reinforce.actions': blobOf(actions), 'reinforce.rewards': blobOf(rewards) } };
    },

    setState(json, blobs) {
      const bad = (what: string, got: string) => new CheckpointError(formatError('reinforce.load', what, got, 'the checkpoint is incomplete or corrupt; pick another with --checkpoint'));
      const eps = (json as Partial<ReinforceStateJson> | null)?.episodes;
      if (!Array.isArray(eps) || eps.some((e) => !e || !Number.isSafeInteger(e.env) || e.env < -1 || !Number.isSafeInteger(e.steps) || e.steps < 1 || typeof e.tail !== 'number')) {
        throw bad('the episodes being collected ({env >= -1, steps >= 1, tail} each)', Array.isArray(eps) ? `a list of ${eps.length} with a bad entry` : 'none');
      }
      const S = layout.obsSize;
      const Wa = layout.actionWidth;
      const steps = eps.reduce((n, e) => n + e.steps, 0);
      const floats = (name: string, length: number): Float32Array => floatBlob(blobs, name, 'reinforce.load', length);
      // Sizes are checked against the blobs before any episode is built.
      const obs = floats('reinforce.obs', steps * S);
      const actions = floats('reinforce.actions', steps * Wa);
      const rewards = floats('reinforce.rewards', steps);
      pending = [];
      ready = [];
      let at = 0;
      for (const e of eps) {
        const ep: Episode = { obs: [], actions: Array.from(actions.subarray(at * Wa, (at + e.steps) * Wa)), rewards: Array.from(rewards.subarray(at, at + e.steps)), tail: e.tail };
        for (let t = 0; t < e.steps; t++) ep.obs.push(Array.from(obs.subarray((at + t) * S, (at + t + 1) * S)));
        at += e.steps;
        if (e.env < 0) ready.push(ep);
        else {
          while (pending.length <= e.env) pending.push([]);
          pending[e.env]!.push(ep);
        }
      }
    },
  };
}
