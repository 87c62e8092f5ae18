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
import { policyGradientLoss } from './math.js';
import { newActions, newObsLike, type TrainBatch } from './rollout.js';
import type { OnPolicyAlgorithm } from './learner.js';

/** An episode being collected: `actionWidth` action values per step. */
interface Episode {
  obs: number[][];
  actions: number[];
  rewards: number[];
  /** Bootstrap value after the last step: 0 if terminated, V(finalObs) if truncated. */
  tail: number;
}

interface ReinforceState {
  /** Unfinished episodes per env (the last one of each list is in progress). */
  pending: Episode[][];
  /** Finished episodes not yet learned from. */
  ready: Episode[];
}

/** A REINFORCE learner (it holds the episodes being collected: one per agent). */
export function reinforce(): OnPolicyAlgorithm {
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

    getState: (): ReinforceState => ({ pending, ready }),

    setState(s: unknown) {
      const st = s as Partial<ReinforceState> | null;
      if (!st || !Array.isArray(st.pending) || !Array.isArray(st.ready)) throw new CheckpointError(formatError('reinforce.load', 'the episodes being collected (pending, ready)', 'none', 'the checkpoint is corrupt; pick another with --checkpoint'));
      pending = st.pending;
      ready = st.ready;
    },
  };
}
