/**
 * PPO (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), as CleanRL's `ppo.py`,
 * `ppo_atari_lstm.py` and `ppo_continuous_action.py`:
 *
 *   advantages  A_t = GAE(gamma, lambda):  delta_t = r_t + gamma V(s_{t+1}) - V(s_t),
 *                                          A_t = delta_t + gamma lambda A_{t+1}   (reset at episode ends)
 *   returns     R_t = A_t + V(s_t)
 *   ratio       rho_t = exp(log pi(a_t|s_t) - log pi_old(a_t|s_t))
 *   policy loss L_pi = mean(max(-A_t rho_t, -A_t clip(rho_t, 1 - eps, 1 + eps)))
 *   value loss  L_V  = 0.5 mean(max((V - R)^2, (V_old + clip(V - V_old, -eps_v, eps_v) - R)^2))
 *   loss        L = L_pi - entCoef H(pi) + vfCoef L_V   (added by the learner)
 *
 * `epochs` passes over the rollout, each in `minibatches` shuffled minibatches (recurrent nets:
 * whole per-env sequences with their stored start state); advantages normalised per minibatch.
 * Defaults (lr 2.5e-4 annealed, 128 steps, 4 epochs, 4 minibatches, clip 0.2, gamma 0.99,
 * lambda 0.95, entCoef 0.01, vfCoef 0.5, max grad norm 0.5, Adam eps 1e-5): CleanRL `ppo.py` and
 * "The 37 Implementation Details of PPO" (Huang et al. 2022); see `config.ts`.
 */
import { clippedSurrogateLoss, gae, normalizeAdvantages } from './math.js';
import { gatherRows, gatherSequences, type TrainBatch } from './rollout.js';
import type { OnPolicyAlgorithm } from './learner.js';

export const ppo: OnPolicyAlgorithm = {
  name: 'ppo',

  batches(r, { config, layout, recurrent, permutation }) {
    const { advantages, returns } = gae({ ...r, gamma: config.gamma, lambda: config.gaeLambda });
    const { numSteps: T, numEnvs: N } = r;
    const out: TrainBatch[] = [];
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      if (recurrent) {
        // Whole sequences: minibatches split the envs, each keeps its stored start state.
        const mbs = Math.max(1, Math.min(config.minibatches, N));
        const perm = permutation(N);
        for (let m = 0; m < mbs; m++) out.push(gatherSequences(layout, r, perm.filter((_, i) => i % mbs === m), advantages, returns));
      } else {
        const mbs = Math.max(1, Math.min(config.minibatches, T * N));
        const perm = permutation(T * N);
        for (let m = 0; m < mbs; m++) out.push(gatherRows(layout, r, perm.filter((_, i) => i % mbs === m), advantages, returns));
      }
    }
    if (config.normAdv) for (const b of out) b.advantages = normalizeAdvantages(b.advantages!, { mask: b.mask });
    return out;
  },

  policyLoss({ logProbs, oldLogProbs, advantages, mask, config }) {
    return clippedSurrogateLoss({ logProbs, oldLogProbs: oldLogProbs!, advantages, clip: config.clip, mask });
  },

  valueClip: (config) => config.valueClip,
};
